// `infercost validate FILE.csv`: holds the simulator against measured serving runs (the schema of
// io/serving_runs.hpp). Each row becomes a closed-loop simulation of the run it describes — its
// model (presets::find_by_hf_id), device (the `system` column), parallel layout, precision, engine
// profile (the `backend` column), lengths and client concurrency — or is skipped with a reason;
// the report gives the error of the predicted mean TTFT and TPOT (predicted/measured − 1) per
// (model, system, backend) group and overall, and counts the skipped rows by reason.
//
// A row is skipped, and counted, when its model has no preset, its precision has no device rate
// (weight-only int4), its layout is inconsistent (the GPUs its id names differ from
// tp × attention_dp × pp, or a MoE model's moe_tp × moe_ep differs from tp × attention_dp), its
// attention TP spans nodes, a disaggregated row lacks worker counts or batch sizes, or the engine
// refuses the layout (the config_error's message is kept).
#include "commands.hpp"
#include "plot.hpp"

#include <infercost/core/stats.hpp>
#include <infercost/device/any_device.hpp>
#include <infercost/engine/engine_profile.hpp>
#include <infercost/engine/step_cost.hpp>
#include <infercost/io/serving_runs.hpp>
#include <infercost/io/workload.hpp>
#include <infercost/model/presets.hpp>
#include <infercost/serving/cluster.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace infercost::cli {
namespace {

constexpr std::string_view area = "cli::validate";

struct validate_options {
  std::string file;
  bool json = false;
  std::string plot_dir;
  std::string rows = "all";
  /// Engine profile of every row: "backend" (the row's backend's), or a name of profile_of.
  std::string profile = "backend";
  int threads = 1;
  unsigned long long seed = 1;
  /// Closed loop per row: requests issued = this × clients; the first and last `clients`
  /// requests are warm-up and cool-down.
  int requests_per_client = 4;
};

/// Why a row was not simulated: a short category (counted) and the row's own detail.
struct skip_reason {
  std::string category;
  std::string detail;
  [[nodiscard]] std::string text() const {
    return detail.empty() ? category : fmt::format("{}: {}", category, detail);
  }
};

/// What became of one row.
struct row_result {
  std::optional<double> ttft_ms; ///< predicted mean TTFT
  std::optional<double> tpot_ms; ///< predicted mean TPOT
  std::optional<skip_reason> skipped;
};

/// Thrown inside a row's mapping to skip it.
struct skip_row {
  skip_reason why;
};

[[noreturn]] void skip(std::string category, std::string detail = {}) {
  throw skip_row{{std::move(category), std::move(detail)}};
}

/// The precision of a quantisation mode as the sample names them (aiconfigurator's
/// common.GEMMQuantMode / MoEQuantMode names): fp8 (per-tensor) and fp8_block (DeepSeek-V3's
/// 128×128 block scales) are FP8 weights and GEMMs; empty, bf16, fp16 and float16 are the
/// model's 16-bit checkpoint; nvfp4 and mxfp4 are FP4 weights. Weight-only int4 (int4_wo, w4a16)
/// and mixed w4a8 have no precision of their own in the device model, and the row is skipped.
precision precision_of(const std::optional<std::string>& mode) {
  if (!mode || *mode == "bf16" || *mode == "fp16" || *mode == "float16")
    return precision::bf16;
  if (*mode == "fp8" || *mode == "fp8_block")
    return precision::fp8;
  if (*mode == "nvfp4" || *mode == "mxfp4")
    return precision::fp4;
  skip("precision not modelled", fmt::format("quant mode '{}'", *mode));
}

/// A count of a layout: empty means 1, and so does 0 for attention_dp_size (the sample writes 0
/// where data-parallel attention is off).
int count_of(const std::optional<std::int64_t>& v) {
  if (!v || *v == 0)
    return 1;
  return static_cast<int>(*v);
}

/// The GPUs a row's id names, when it names them as `_tp<A>[_<n>]_ep<B>`: the engines place the
/// experts over the tensor-parallel world (ep <= tp), so the run used max(A, B) GPUs.
std::optional<int> id_gpus(const std::string& id) {
  static const std::regex re("_tp([0-9]+)(?:_[0-9]+)?_ep([0-9]+)(?:_|$)");
  std::smatch m;
  if (!std::regex_search(id, m, re))
    return std::nullopt;
  return std::max(std::stoi(m[1].str()), std::stoi(m[2].str()));
}

/// The layout of one worker from its recorded columns (devices = tp × attention_dp × pp; experts
/// split moe_tp ways over moe_ep ranks); `kind` names the worker kind in reasons.
engine::parallel_layout layout_of(const io::serving_run& run, const io::serving_run_layout& w,
                                  const model::model_config& m, std::string_view kind,
                                  const engine::engine_profile& profile, int node_devices) {
  const int tp = count_of(w.tp_size), pp = count_of(w.pp_size), dp = count_of(w.attention_dp_size);
  const int devices = tp * dp * pp;
  if (kind == "agg")
    if (const std::optional<int> g = id_gpus(run.id); g && *g != devices)
      skip("inconsistent GPU count",
           fmt::format("id names {} GPUs, tp {} x attention_dp {} x pp {} = {}", *g, tp, dp, pp,
                       devices));
  // Attention TP stays inside one scale-up domain: the sample's tp_size 64 rows describe 8-GPU
  // runs (every such row whose id names its GPUs names 8, `_tp8_ep8_`), and across nodes every
  // layer's all-reduce would cross the scale-out network, which no engine's deployment does.
  if (tp > node_devices)
    skip("tp beyond one node",
         fmt::format("{}: tp {} > {} devices per node", kind, tp, node_devices));
  int moe_tp = 1, moe_ep = 1;
  if (m.is_moe()) {
    // 0 is written where a degree was not recorded, like an empty cell.
    const bool has_tp = w.moe_tp_size.value_or(0) > 0, has_ep = w.moe_ep_size.value_or(0) > 0;
    if (!has_tp && !has_ep)
      skip("missing MoE layout", fmt::format("{}: moe_tp_size and moe_ep_size not recorded", kind));
    // aiconfigurator's ModelConfig.resolve_moe_parallelism: the missing one fills tp x dp.
    moe_tp = has_tp ? static_cast<int>(*w.moe_tp_size) : tp * dp / count_of(w.moe_ep_size);
    moe_ep = has_ep ? static_cast<int>(*w.moe_ep_size) : tp * dp / count_of(w.moe_tp_size);
    if (moe_tp * moe_ep != tp * dp)
      skip("inconsistent GPU count",
           fmt::format("{}: moe_tp {} x moe_ep {} != tp {} x attention_dp {}", kind, moe_tp, moe_ep,
                       tp, dp));
  }
  // Dense GEMMs at the GEMM mode; a MoE model's weights are mostly experts, at the MoE mode.
  const precision weights =
      precision_of(m.is_moe() && run.moe_quant_mode ? run.moe_quant_mode : run.gemm_quant_mode);
  engine::parallel_layout l{
      .devices = devices,
      .tp = tp,
      .dp_attention = dp > 1,
      .ep = moe_ep,
      .weight_prec = weights,
      // FP8 runs keep attention math in BF16 (serve's rule; FlashAttention-3 FP8 is opt-in).
      .attention_prec = weights == precision::fp8 ? precision::bf16 : weights,
      .kv_prec = precision::bf16,
      // DeepSeek-V3 §3.3.2: dispatch in FP8, combine in BF16.
      .dispatch_prec = weights == precision::fp8 ? precision::fp8 : precision::bf16,
      .combine_prec = precision::bf16,
      .moe_tp = moe_tp,
      .pp = pp,
      .overheads = profile};
  return l;
}

/// Chunked-prefill token budget per step of agg instances: TensorRT-LLM's max_num_tokens default
/// (8192, tensorrt_llm/llmapi/llm_args.py), vLLM V1's max_num_batched_tokens for the OpenAI server
/// (8192, vllm/engine/arg_utils.py) and SGLang's chunked_prefill_size (8192,
/// sglang/srt/server_args.py) agree.
inline constexpr std::int64_t agg_max_batched_tokens = 8192;

using cluster_t = serving::basic_cluster<any_device, serving::runtime_policies>;

/// Simulates one row. @throws skip_row.
row_result simulate(const io::serving_run& run, const validate_options& o) {
  const std::optional<model::model_config> found = model::presets::find_by_hf_id(run.model_path);
  if (!found)
    skip("unknown model", run.model_path);
  const model::model_config& m = *found;
  any_device dev = [&] {
    try {
      return make_device(run.system);
    } catch (const config_error& e) {
      skip("unknown system", e.what());
    }
  }();
  const engine::engine_profile profile = [&] {
    try {
      return engine::profile_of(o.profile == "backend" ? run.backend : o.profile);
    } catch (const config_error& e) {
      skip("unknown backend", e.what());
    }
  }();
  serving::cluster_config cfg;
  serving::policy_values<serving::runtime_policies> policies;
  std::int64_t clients = 0;
  if (!run.disaggregated()) {
    const io::serving_run_layout& a = run.agg;
    if (!a.batch_size || *a.batch_size <= 0)
      skip("missing batch size", "batch_size empty");
    const engine::parallel_layout l = layout_of(run, a, m, "agg", profile, dev.devices_per_node());
    // batch_size is per attention-DP rank and pipeline stage (io/serving_runs.hpp).
    clients = *a.batch_size * count_of(a.attention_dp_size) * count_of(a.pp_size);
    cfg.mode = serving::serving_mode::colocated;
    cfg.colocated = {.instances = 1,
                     .layout = l,
                     .scheduler = {.max_batched_tokens = agg_max_batched_tokens,
                                   .max_sequences_per_group = static_cast<int>(*a.batch_size)}};
  } else {
    const io::serving_run_layout &p = run.prefill, &d = run.decode;
    if (!p.num_workers || !d.num_workers)
      skip("missing worker counts", "prefill_num_workers or decode_num_workers empty");
    if (!p.batch_size || !d.batch_size || *p.batch_size <= 0 || *d.batch_size <= 0)
      skip("missing batch size", "prefill_batch_size or decode_batch_size empty");
    const engine::parallel_layout pl =
        layout_of(run, p, m, "prefill", profile, dev.devices_per_node());
    const engine::parallel_layout dl =
        layout_of(run, d, m, "decode", profile, dev.devices_per_node());
    // Clients fill every decode worker's batch on every attention-DP rank.
    clients = *d.batch_size * count_of(d.attention_dp_size) * count_of(d.pp_size) * *d.num_workers;
    cfg.mode = serving::serving_mode::pd;
    cfg.prefill = {.instances = static_cast<int>(*p.num_workers),
                   .layout = pl,
                   .scheduler = {.max_batched_tokens = std::max(*p.batch_size * run.isl, run.isl),
                                 .max_sequences_per_group = static_cast<int>(*p.batch_size)}};
    cfg.decode = {.instances = static_cast<int>(*d.num_workers),
                  .layout = dl,
                  .scheduler = {.max_batched_tokens = agg_max_batched_tokens,
                                .max_sequences_per_group = static_cast<int>(*d.batch_size)}};
    policies.admission = serving::always_disaggregate{};
  }
  if (clients > 1'000'000)
    skip("too many clients", fmt::format("{} clients", clients));
  const serving::closed_loop loop{.clients = static_cast<int>(clients),
                                  .requests = o.requests_per_client * clients,
                                  .warmup = clients,
                                  .cooldown = clients};
  io::workload lengths;
  lengths.name = run.id;
  lengths.requests.push_back({.id = 0,
                              .arrival_s = 0.0,
                              .input_tokens = run.isl,
                              .output_tokens = run.osl,
                              .block_hashes = {}});
  serving::report r;
  try {
    cluster_t cluster(m, cfg, {}, dev, dev, policies);
    r = cluster.run(lengths, loop, o.seed);
  } catch (const config_error& e) {
    skip("engine refused the layout", e.what());
  }
  if (r.completed == 0 || !std::isfinite(r.latency.ttft_s.mean) ||
      !std::isfinite(r.latency.tpot_s.mean))
    skip("no request completed",
         fmt::format("{} of {} measured requests rejected", r.rejected, r.arrived));
  return {.ttft_ms = r.latency.ttft_s.mean * 1e3,
          .tpot_ms = r.latency.tpot_s.mean * 1e3,
          .skipped = std::nullopt};
}

row_result simulate_row(const io::serving_run& run, const validate_options& o) {
  try {
    return simulate(run, o);
  } catch (const skip_row& s) {
    return {.ttft_ms = std::nullopt, .tpot_ms = std::nullopt, .skipped = s.why};
  }
}

/// Error statistics of one group of simulated rows.
struct error_stats {
  std::size_t count = 0;
  double median_abs = 0, p90_abs = 0, bias = 0; ///< of predicted/measured − 1
};

error_stats stats_of(std::vector<double> errors) {
  error_stats s;
  s.count = errors.size();
  if (errors.empty()) {
    s.median_abs = s.p90_abs = s.bias = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  s.bias = stats::percentile(errors, 50.0);
  for (double& e : errors)
    e = std::abs(e);
  s.median_abs = stats::percentile(errors, 50.0);
  s.p90_abs = stats::percentile(errors, 90.0);
  return s;
}

struct group_summary {
  std::string model, system, backend; ///< empty model: every simulated row
  error_stats ttft, tpot;
};

std::vector<group_summary> summarize(const std::vector<const io::serving_run*>& runs,
                                     const std::vector<row_result>& results) {
  using key = std::tuple<std::string, std::string, std::string>;
  std::map<key, std::pair<std::vector<double>, std::vector<double>>> groups;
  std::vector<double> all_ttft, all_tpot;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const row_result& r = results[i];
    if (r.skipped)
      continue;
    const double et = *r.ttft_ms / runs[i]->ttft_ms - 1.0;
    const double ep = *r.tpot_ms / runs[i]->tpot_ms - 1.0;
    auto& g = groups[{runs[i]->model_path, runs[i]->system, runs[i]->backend}];
    g.first.push_back(et);
    g.second.push_back(ep);
    all_ttft.push_back(et);
    all_tpot.push_back(ep);
  }
  std::vector<group_summary> out;
  for (auto& [k, v] : groups)
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), stats_of(std::move(v.first)),
                   stats_of(std::move(v.second))});
  out.push_back({"", "", "", stats_of(std::move(all_ttft)), stats_of(std::move(all_tpot))});
  return out;
}

void plot(const std::string& dir_name, const std::vector<const io::serving_run*>& runs,
          const std::vector<row_result>& results) {
  const std::optional<std::filesystem::path> opened = open_plot_dir("validate", area, dir_name);
  if (!opened)
    return;
  const std::filesystem::path& dir = *opened;
  std::map<std::string, std::string> by_backend;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (!results[i].skipped)
      by_backend[runs[i]->backend] +=
          fmt::format("{} {} {} {}\n", runs[i]->ttft_ms, *results[i].ttft_ms, runs[i]->tpot_ms,
                      *results[i].tpot_ms);
  if (by_backend.empty()) {
    fmt::print(stderr, "infercost validate: no simulated rows; skipping --plot\n");
    return;
  }
  std::string plot_ttft, plot_tpot;
  for (const auto& [backend, data] : by_backend) {
    write_plot_file(area, dir / fmt::format("validate_{}.dat", backend), data);
    plot_ttft += fmt::format("'validate_{0}.dat' using 1:2 with points title '{0}', ", backend);
    plot_tpot += fmt::format("'validate_{0}.dat' using 3:4 with points title '{0}', ", backend);
  }
  std::string gp = "set terminal pngcairo size 1200,560 noenhanced\n"
                   "set output 'validate.png'\n"
                   "set multiplot layout 1,2 title 'predicted vs measured (mean per run)'\n"
                   "set logscale xy\nset key top left\nset grid\n";
  gp += fmt::format("set title 'TTFT'\nset xlabel 'measured (ms)'\nset ylabel 'predicted (ms)'\n"
                    "plot {}x with lines lc rgb 'black' title 'y = x'\n",
                    plot_ttft);
  gp += fmt::format("set title 'TPOT'\nplot {}x with lines lc rgb 'black' title 'y = x'\n"
                    "unset multiplot\n",
                    plot_tpot);
  run_gnuplot(area, dir, "validate.gp", gp);
  fmt::print(stderr, "infercost validate: wrote validate.png to {}\n", dir_name);
}

nlohmann::json json_number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const error_stats& s) {
  return {{"count", s.count},
          {"median_abs_error", json_number(s.median_abs)},
          {"p90_abs_error", json_number(s.p90_abs)},
          {"bias", json_number(s.bias)}};
}

std::string group_name(const group_summary& g) {
  return g.model.empty() ? std::string("all")
                         : fmt::format("{} {} {}", g.model, g.system, g.backend);
}

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:+.1f}%", 100.0 * v) : "-"; }
std::string abs_pct(double v) { return std::isfinite(v) ? fmt::format("{:.1f}%", 100.0 * v) : "-"; }

int run_validate(const validate_options& o) {
  if (o.rows != "all" && o.rows != "even" && o.rows != "odd")
    throw config_error(area, "rows", fmt::format("('{}') must be even, odd or all", o.rows));
  check_in_range(area, "threads", o.threads, 1, 256);
  check_positive(area, "requests-per-client", o.requests_per_client);
  if (o.requests_per_client < 3)
    throw config_error(area, "requests-per-client",
                       fmt::format("({}) must be >= 3: warm-up and cool-down take one each",
                                   o.requests_per_client));
  const std::vector<io::serving_run> all = io::read_serving_runs(o.file);
  std::vector<const io::serving_run*> runs;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (o.rows == "all" || (o.rows == "even") == (i % 2 == 0))
      runs.push_back(&all[i]);

  // Rows are independent and each has its own fixed seed: any thread count gives the same
  // results, each written to its own slot.
  std::vector<row_result> results(runs.size());
  const auto threads = static_cast<std::size_t>(o.threads);
  auto work = [&](std::size_t t) {
    for (std::size_t i = t; i < runs.size(); i += threads)
      results[i] = simulate_row(*runs[i], o);
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t)
      pool.emplace_back(work, t);
    for (std::thread& th : pool)
      th.join();
  }
  const std::vector<group_summary> groups = summarize(runs, results);

  // Skipped rows by category, with the first example.
  std::map<std::string, std::pair<std::size_t, std::size_t>> skipped; // count, first index
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (results[i].skipped) {
      auto [it, fresh] = skipped.try_emplace(results[i].skipped->category, 0, i);
      ++it->second.first;
    }

  if (!o.plot_dir.empty())
    plot(o.plot_dir, runs, results);

  if (o.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const row_result& r = results[i];
      rows.push_back({{"id", runs[i]->id},
                      {"measured_ttft_ms", runs[i]->ttft_ms},
                      {"measured_tpot_ms", runs[i]->tpot_ms},
                      {"predicted_ttft_ms", r.ttft_ms ? nlohmann::json(*r.ttft_ms) : nullptr},
                      {"predicted_tpot_ms", r.tpot_ms ? nlohmann::json(*r.tpot_ms) : nullptr},
                      {"skipped", r.skipped ? nlohmann::json(r.skipped->text()) : nullptr}});
    }
    nlohmann::json summary = nlohmann::json::array();
    for (const group_summary& g : groups)
      summary.push_back(
          {{"model", g.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.model)},
           {"system", g.system.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.system)},
           {"backend", g.backend.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.backend)},
           {"ttft", to_json(g.ttft)},
           {"tpot", to_json(g.tpot)}});
    nlohmann::json skips = nlohmann::json::object();
    for (const auto& [category, v] : skipped)
      skips[category] = {{"count", v.first}, {"example", runs[v.second]->id}};
    std::cout << nlohmann::json{{"rows", rows}, {"summary", summary}, {"skipped", skips}}.dump()
              << '\n';
    return 0;
  }

  const std::size_t simulated = groups.back().ttft.count;
  fmt::print("{}: {} rows ({}), {} simulated, {} skipped\n", o.file, runs.size(), o.rows, simulated,
             runs.size() - simulated);
  fmt::print("error = predicted / measured - 1 (mean TTFT, mean TPOT); |e| median and p90, bias = "
             "signed median\n\n");
  std::size_t width = 5;
  for (const group_summary& g : groups)
    width = std::max(width, group_name(g).size());
  fmt::print("{:<{}} {:>5} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8}\n", "group", width, "rows",
             "TTFT|e|", "p90", "bias", "TPOT|e|", "p90", "bias");
  for (const group_summary& g : groups) {
    if (g.model.empty())
      fmt::print("{}\n", std::string(width + 60, '-'));
    fmt::print("{:<{}} {:>5} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8}\n", group_name(g), width,
               g.ttft.count, abs_pct(g.ttft.median_abs), abs_pct(g.ttft.p90_abs), pct(g.ttft.bias),
               abs_pct(g.tpot.median_abs), abs_pct(g.tpot.p90_abs), pct(g.tpot.bias));
  }
  if (!skipped.empty()) {
    fmt::print("\nskipped rows by reason\n");
    for (const auto& [category, v] : skipped)
      fmt::print("  {:>5}  {:<28} e.g. {} ({})\n", v.first, category, runs[v.second]->id,
                 results[v.second].skipped->detail);
  }
  return 0;
}

} // namespace

command add_validate(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "validate", "Simulate measured serving runs (CSV) and report the error of TTFT and TPOT");
  auto o = std::make_shared<validate_options>();
  sub->add_option("file", o->file, "Measured runs (aiconfigurator silicon sample schema)")
      ->required();
  sub->add_flag("--json", o->json, "Print per-row predictions and the summary as JSON");
  sub->add_option("--plot", o->plot_dir,
                  "Write a predicted-vs-measured scatter (validate.png) here through gnuplot");
  sub->add_option("--rows", o->rows,
                  "Rows by 0-based position in the file: even, odd or all (fit on one half, "
                  "report on the other)")
      ->capture_default_str();
  sub->add_option("--threads", o->threads, "Rows simulated in parallel (same results as 1)")
      ->capture_default_str();
  sub->add_option("--requests-per-client", o->requests_per_client,
                  "Closed loop: requests issued per client (the first and last round are "
                  "warm-up and cool-down)")
      ->capture_default_str();
  sub->add_option("--profile", o->profile,
                  "Engine overheads: backend (each row's: trtllm, vllm, sglang) or one of none, "
                  "trtllm, vllm, sglang for every row")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "Seed of every random choice")->capture_default_str();
  return {sub, [o] { return run_validate(*o); }};
}

} // namespace infercost::cli
