/// @file
/// Measured serving runs: one row per benchmark of a model served by a real engine at fixed
/// input/output lengths and client concurrency, with the mean TTFT and TPOT it measured. The
/// schema is aiconfigurator's silicon sample (ai-dynamo/aiconfigurator,
/// aic-core/src/aiconfigurator_core/systems/silicon_sample.csv, commit 095f58a5):
///
///   id, silicon_data_source, backend, backend_version, model_path, system, precision, mode,
///   isl, osl, gemm_quant_mode, moe_quant_mode, batch_size, tp_size, pp_size, attention_dp_size,
///   moe_tp_size, moe_ep_size, prefill_{batch_size, num_workers, tp_size, pp_size,
///   attention_dp_size, moe_tp_size, moe_ep_size}, decode_{same}, silicon_ttft_ms, silicon_tpot_ms
///
/// `mode` is `agg` (every GPU prefills and decodes; the agg layout columns) or `disagg` (prefill
/// and decode workers; the prefill_/decode_ columns). `batch_size` is per attention-DP rank: the
/// run's client concurrency is batch_size × attention_dp_size × pp_size (aiconfigurator's
/// base_backend.py run_agg: `concurrency = b * pp_size * attention_dp_size`, same commit; the
/// sample's `silicon_concurrency` agrees on every row that records both). Empty cells are
/// std::nullopt; the reader checks types and ranges, not whether a row's layout is consistent.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/io/csv.hpp"

namespace infercost::io {

/// The parallel layout and batch of one worker kind (agg, prefill or decode), as recorded.
struct serving_run_layout {
  std::optional<std::int64_t> batch_size;        ///< requests per attention-DP rank
  std::optional<std::int64_t> num_workers;       ///< workers of this kind (disagg only)
  std::optional<std::int64_t> tp_size;           ///< attention tensor-parallel degree
  std::optional<std::int64_t> pp_size;           ///< pipeline stages
  std::optional<std::int64_t> attention_dp_size; ///< data-parallel attention ranks (0: none)
  std::optional<std::int64_t> moe_tp_size;       ///< tensor-parallel degree of each expert
  std::optional<std::int64_t> moe_ep_size;       ///< expert-parallel degree
};

/// One measured serving run (see the file comment for the columns).
struct serving_run {
  std::string id;                                 ///< unique name of the measurement
  std::optional<std::string> silicon_data_source; ///< image, date and concurrency of the run
  std::string backend;                            ///< trtllm, vllm, sglang or vllm_ascend
  std::optional<std::string> backend_version;     ///< engine version
  std::string model_path;                         ///< Hugging Face id of the model
  std::string system;                             ///< device name, e.g. h200_sxm, atlas_800_a3
  std::optional<std::string> precision;           ///< headline precision (fp8, fp4, int4, w8a8)
  std::string mode;                               ///< agg or disagg
  std::int64_t isl = 0;                           ///< input tokens of every request (> 0)
  std::int64_t osl = 0;                           ///< output tokens of every request (> 0)
  std::optional<std::string> gemm_quant_mode;     ///< dense GEMM weights: fp8, fp8_block, w8a8…
  std::optional<std::string> moe_quant_mode;      ///< expert weights, same names
  serving_run_layout agg;                         ///< agg layout (num_workers: no column)
  serving_run_layout prefill;                     ///< disagg prefill workers
  serving_run_layout decode;                      ///< disagg decode workers
  double ttft_ms = 0;                             ///< measured mean time to first token (> 0)
  double tpot_ms = 0;                             ///< measured mean time per output token (> 0)
  std::size_t line = 0;                           ///< line of the row in its file (1-based)

  /// True for a disaggregated (prefill/decode) run.
  [[nodiscard]] bool disaggregated() const noexcept { return mode == "disagg"; }
};

namespace detail {

/// Reads the cells of a serving-run table; errors name file, line and column.
class serving_run_cells {
public:
  explicit serving_run_cells(const csv_table& t) : t_(t) {}

  [[nodiscard]] std::string required_text(std::size_t row, std::string_view name) const {
    const std::size_t c = t_.column(name);
    const std::string& s = t_.text(row, c);
    if (s.empty())
      fail(row, c, fmt::format("column '{}': empty, a value is required", name));
    return s;
  }
  [[nodiscard]] std::optional<std::string> text(std::size_t row, std::string_view name) const {
    const std::string& s = t_.text(row, t_.column(name));
    if (s.empty())
      return std::nullopt;
    return s;
  }
  /// A non-negative integer, or nullopt for an empty cell.
  [[nodiscard]] std::optional<std::int64_t> integer(std::size_t row, std::string_view name) const {
    const std::size_t c = t_.column(name);
    if (t_.text(row, c).empty())
      return std::nullopt;
    const double v = t_.number(row, c);
    // 2^53: the largest range where every integer is a double.
    if (v < 0.0 || v > 9007199254740992.0 || std::floor(v) != v)
      fail(row, c,
           fmt::format("column '{}': '{}' is not a non-negative integer", name, t_.text(row, c)));
    return static_cast<std::int64_t>(v);
  }
  [[nodiscard]] std::int64_t positive_integer(std::size_t row, std::string_view name) const {
    const std::optional<std::int64_t> v = integer(row, name);
    if (!v || *v <= 0)
      fail(row, t_.column(name),
           fmt::format("column '{}': '{}' must be a positive integer", name,
                       t_.text(row, t_.column(name))));
    return *v;
  }
  [[nodiscard]] double positive_number(std::size_t row, std::string_view name) const {
    const std::size_t c = t_.column(name);
    if (t_.text(row, c).empty())
      fail(row, c, fmt::format("column '{}': empty, a value is required", name));
    const double v = t_.number(row, c);
    if (!(v > 0.0))
      fail(row, c, fmt::format("column '{}': '{}' must be > 0", name, t_.text(row, c)));
    return v;
  }
  [[noreturn]] void fail(std::size_t row, std::size_t col, std::string_view what) const {
    throw trace_error(t_.file(), t_.line_of(row), t_.column_of(row, col), what);
  }

private:
  const csv_table& t_;
};

} // namespace detail

/// The runs of a parsed table. @throws trace_error naming file, line and column for a missing
/// column, an empty required cell (id, backend, model_path, system, mode, isl, osl and the two
/// measurements), a mode other than agg/disagg, a count that is not a non-negative integer, or a
/// measurement that is not a finite number > 0.
[[nodiscard]] inline std::vector<serving_run> serving_runs(const csv_table& t) {
  const detail::serving_run_cells cells(t);
  auto layout = [&](std::size_t r, std::string_view prefix, bool workers) {
    auto col = [&](std::string_view n) { return fmt::format("{}{}", prefix, n); };
    serving_run_layout l;
    l.batch_size = cells.integer(r, col("batch_size"));
    if (workers)
      l.num_workers = cells.integer(r, col("num_workers"));
    l.tp_size = cells.integer(r, col("tp_size"));
    l.pp_size = cells.integer(r, col("pp_size"));
    l.attention_dp_size = cells.integer(r, col("attention_dp_size"));
    l.moe_tp_size = cells.integer(r, col("moe_tp_size"));
    l.moe_ep_size = cells.integer(r, col("moe_ep_size"));
    return l;
  };
  std::vector<serving_run> runs;
  runs.reserve(t.rows());
  for (std::size_t r = 0; r < t.rows(); ++r) {
    serving_run s;
    s.id = cells.required_text(r, "id");
    s.silicon_data_source = cells.text(r, "silicon_data_source");
    s.backend = cells.required_text(r, "backend");
    s.backend_version = cells.text(r, "backend_version");
    s.model_path = cells.required_text(r, "model_path");
    s.system = cells.required_text(r, "system");
    s.precision = cells.text(r, "precision");
    s.mode = cells.required_text(r, "mode");
    if (s.mode != "agg" && s.mode != "disagg")
      cells.fail(r, t.column("mode"),
                 fmt::format("column 'mode': '{}' must be agg or disagg", s.mode));
    s.isl = cells.positive_integer(r, "isl");
    s.osl = cells.positive_integer(r, "osl");
    s.gemm_quant_mode = cells.text(r, "gemm_quant_mode");
    s.moe_quant_mode = cells.text(r, "moe_quant_mode");
    s.agg = layout(r, "", false);
    s.prefill = layout(r, "prefill_", true);
    s.decode = layout(r, "decode_", true);
    s.ttft_ms = cells.positive_number(r, "silicon_ttft_ms");
    s.tpot_ms = cells.positive_number(r, "silicon_tpot_ms");
    s.line = t.line_of(r);
    runs.push_back(std::move(s));
  }
  return runs;
}

/// Reads the serving runs of a CSV file. @throws trace_error as serving_runs(const csv_table&)
/// does, or when the file cannot be opened or parsed.
[[nodiscard]] inline std::vector<serving_run> read_serving_runs(const std::string& path) {
  return serving_runs(csv_table::read(path));
}

} // namespace infercost::io
