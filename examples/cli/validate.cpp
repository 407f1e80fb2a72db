// `infercost validate FILE.csv`: holds the simulator against measured serving runs (the schema of
// io/serving_runs.hpp). Each row becomes a closed-loop simulation of the run it describes — its
// model (presets::find_by_hf_id), device (the `system` column), parallel layout, precision, engine
// profile (the `backend` column), lengths and client concurrency — or is skipped with a reason;
// the report gives the error of the predicted mean TTFT and TPOT (predicted/measured − 1) per
// (model, system, backend) group and overall, the error of the output throughput of rows that
// record it (`output_tok_s=X` in silicon_data_source), and counts the skipped rows by reason.
// Systems are device catalog names or aliases (h200_sxm, atlas_800_a3, atlas_800t_a2, ...);
// backends are engine profile names (trtllm, vllm, sglang, vllm_ascend).
//
// A row is skipped, and counted, when its model has no preset, its precision has no device rate
// (w4a8 on a part without INT8 GEMMs for it), its layout is inconsistent (the GPUs its id names
// differ from tp × attention_dp × pp, or a MoE model's moe_tp × moe_ep differs from tp ×
// attention_dp), its attention TP spans more than four nodes, a disaggregated row lacks worker
// counts or batch sizes, or the engine refuses the layout (the config_error's message is kept).
#include "commands.hpp"
#include "plot.hpp"

#include <infercost/core/stats.hpp>
#include <infercost/device/any_device.hpp>
#include <infercost/engine/calibration.hpp>
#include <infercost/engine/engine_profile.hpp>
#include <infercost/engine/step_cost.hpp>
#include <infercost/io/calibration_file.hpp>
#include <infercost/io/serving_runs.hpp>
#include <infercost/io/workload.hpp>
#include <infercost/model/presets.hpp>
#include <infercost/serving/cluster.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
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
  /// Clients' start spread in seconds (0: all at once); negative (the default): one request's
  /// latency, measured by a first run with every client starting at once (two runs per row). A
  /// benchmark starts its clients together, but the measured TTFT grows far more slowly with the
  /// concurrency than clients that stay in step would make it (each wave's prompts queueing
  /// behind each other): what was measured is the steady state the waves disperse into.
  double ramp = -1.0;
  std::string calibration; ///< --calibration FILE; empty: the shipped calibration
  engine::calibration cal; ///< what `calibration` names, read once
  /// Every row's engine profile, when set (a trial of `calibrate`).
  std::optional<engine::engine_profile> fixed_profile;
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
  std::optional<double> output_tok_s; ///< predicted output tokens per second, all devices
  /// 4-bit weights multiplied in BF16 (engine::parallel_layout::gemm_prec).
  bool weight_only = false;
  /// A disaggregated row without worker counts or batch sizes, run as one prefill and one decode
  /// worker (the row does not record the deployment that was measured).
  bool assumed_workers = false;
};

/// Thrown inside a row's mapping to skip it.
struct skip_row {
  skip_reason why;
};

[[noreturn]] void skip(std::string category, std::string detail = {}) {
  throw skip_row{{std::move(category), std::move(detail)}};
}

/// The weights' precision of a quantisation mode as the sample names them (aiconfigurator's
/// common.GEMMQuantMode / MoEQuantMode names), and the precision the GEMMs multiply in when it
/// differs (weight-only quantisation):
/// - fp8 (per-tensor) and fp8_block (DeepSeek-V3's 128×128 block scales): FP8 weights and GEMMs;
/// - empty, bf16, fp16 and float16: the model's 16-bit checkpoint;
/// - nvfp4 and mxfp4: FP4 weights; on a part without FP4 tensor cores (Hopper) they multiply in
///   BF16 (W4A16): vLLM's MXFP4 MoE backends for SM90 (FlashInfer's MXFP4 × BF16, Marlin and
///   Triton; vllm/model_executor/layers/quantization/mxfp4.py, `Mxfp4Backend`) all take BF16
///   activations, MXFP8 activations being Blackwell's (SM100);
/// - int4_wo and w4a16: INT4 weights multiplied in BF16 (Marlin-style weight-only kernels);
/// - w8a8 and int8: INT8 weights and GEMMs (vLLM-Ascend's `--quantization ascend` W8A8);
/// - w4a8: 4-bit weights with INT8 GEMMs where the device runs them (Ascend), else skipped.
struct quantisation {
  precision weights;
  std::optional<precision> gemm; ///< GEMM math when not the weights' own
};
quantisation quantisation_of(const std::optional<std::string>& mode, const any_device& dev) {
  if (!mode || *mode == "bf16" || *mode == "fp16" || *mode == "float16")
    return {precision::bf16, std::nullopt};
  if (*mode == "fp8" || *mode == "fp8_block")
    return {precision::fp8, std::nullopt};
  if (*mode == "nvfp4" || *mode == "mxfp4")
    return {precision::fp4,
            dev.supports(precision::fp4) ? std::nullopt : std::optional{precision::bf16}};
  if (*mode == "int4_wo" || *mode == "w4a16")
    return {precision::int4, precision::bf16};
  if (*mode == "w8a8" || *mode == "int8")
    return {precision::int8, std::nullopt};
  if (*mode == "w4a8" && dev.supports(precision::int4))
    return {precision::int4, std::nullopt};
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

/// A recorded run quantity `key=X` (decimals allowed) of the row's silicon_data_source, or nullopt.
std::optional<double> run_quantity(const io::serving_run& run, std::string_view key) {
  const std::regex re(fmt::format("(?:^|[ ;]){}=([0-9]+(?:\\.[0-9]+)?)", key));
  std::smatch m;
  if (!run.silicon_data_source || !std::regex_search(*run.silicon_data_source, m, re))
    return std::nullopt;
  return std::stod(m[1].str());
}

/// A recorded run parameter `key=N` of the row's silicon_data_source (e.g. its client concurrency,
/// `silicon_concurrency=N`; the integer part of a decimal), or nullopt.
std::optional<std::int64_t> run_parameter(const io::serving_run& run, std::string_view key) {
  const std::optional<double> x = run_quantity(run, key);
  if (!x)
    return std::nullopt;
  if (!(*x < 9e18))
    throw config_error(area, key,
                       fmt::format("({}) of row '{}' is beyond a 64-bit count", *x, run.id));
  return static_cast<std::int64_t>(*x);
}

/// The run's client concurrency, from `silicon_concurrency=N` in its silicon_data_source.
std::optional<std::int64_t> run_concurrency(const io::serving_run& run) {
  return run_parameter(run, "silicon_concurrency");
}

/// The run's measured output throughput (tokens/s, all devices), from `output_tok_s=X` in its
/// silicon_data_source (`vllm bench serve`'s "Output token throughput").
std::optional<double> run_output_tok_s(const io::serving_run& run) {
  return run_quantity(run, "output_tok_s");
}

/// The layout of one worker from its recorded columns (devices = tp × attention_dp × pp; experts
/// split moe_tp ways over moe_ep ranks); `kind` names the worker kind in reasons.
engine::parallel_layout layout_of(const io::serving_run& run, const io::serving_run_layout& w,
                                  const model::model_config& m, std::string_view kind,
                                  const engine::engine_profile& profile, const any_device& dev) {
  const int node_devices = dev.devices_per_node();
  const int tp = count_of(w.tp_size), pp = count_of(w.pp_size), dp = count_of(w.attention_dp_size);
  const int devices = tp * dp * pp;
  if (kind == "agg")
    if (const std::optional<int> g = id_gpus(run.id); g && *g != devices)
      skip("inconsistent GPU count",
           fmt::format("id names {} GPUs, tp {} x attention_dp {} x pp {} = {}", *g, tp, dp, pp,
                       devices));
  // Attention TP spans at most four scale-up domains: the engines' multi-node guides run TP 16
  // on two nodes and TP 32 on four (SGLang documentation, DeepSeek V3/R1 usage guide: 2 x 8
  // H100/H800/H20 `--tp 16 --nnodes 2`, 4 x 8 A100 `--tp 32 --nnodes 4`), each layer's
  // all-reduce then crossing the scale-out network (the engine prices it there). The sample's
  // tp_size 64 rows describe 8-GPU runs (every such row whose id names its GPUs names 8,
  // `_tp8_ep8_`): a record of the EP world, not of attention TP.
  if (tp > 4 * node_devices)
    skip("tp beyond four nodes",
         fmt::format("{}: tp {} > 4 x {} devices per node", kind, tp, node_devices));
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
  const quantisation q = quantisation_of(
      m.is_moe() && run.moe_quant_mode ? run.moe_quant_mode : run.gemm_quant_mode, dev);
  const precision weights = q.weights;
  const bool quantised = weights == precision::fp8 || weights == precision::int8 ||
                         weights == precision::int4 || q.gemm.has_value();
  engine::parallel_layout l{
      .devices = devices,
      .tp = tp,
      .dp_attention = dp > 1,
      .ep = moe_ep,
      .weight_prec = weights,
      .gemm_prec = q.gemm,
      // Quantised runs keep attention math in BF16 (serve's rule; FlashAttention-3 FP8 is
      // opt-in; vLLM-Ascend's W8A8 quantises the linear layers only).
      .attention_prec = quantised ? precision::bf16 : weights,
      .kv_prec = precision::bf16,
      // DeepSeek-V3 §3.3.2: dispatch in FP8, combine in BF16. vLLM-Ascend's MC2 dispatch
      // quantises tokens to INT8 for integer-quantised experts (quant_mode=2,
      // vllm_ascend/ops/fused_moe/token_dispatcher.py, v0.18.0) and combines in BF16.
      .dispatch_prec = q.gemm                                                     ? *q.gemm
                       : weights == precision::fp8                                ? precision::fp8
                       : weights == precision::int8 || weights == precision::int4 ? precision::int8
                                                                                  : precision::bf16,
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
/// A run that records its engine's token budget per step (vLLM's --max-num-batched-tokens, per
/// data-parallel rank) in its silicon_data_source as `max_num_batched_tokens=N` (agg), or
/// `prefill_max_num_batched_tokens=N` and `decode_max_num_batched_tokens=N` (disagg), is
/// simulated with it.
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
    if (o.fixed_profile)
      return *o.fixed_profile;
    try {
      return o.profile == "backend" ? o.cal.profile_for(run.system, run.backend)
                                    : engine::profile_of(o.profile);
    } catch (const config_error& e) {
      skip("unknown backend", e.what());
    }
  }();
  serving::cluster_config cfg;
  serving::policy_values<serving::runtime_policies> policies;
  std::int64_t clients = 0;
  bool weight_only = false, assumed_workers = false;
  if (!run.disaggregated()) {
    const io::serving_run_layout& a = run.agg;
    if (!a.batch_size || *a.batch_size <= 0)
      skip("missing batch size", "batch_size empty");
    const engine::parallel_layout l = layout_of(run, a, m, "agg", profile, dev);
    weight_only = l.weight_only();
    // batch_size is per attention-DP rank and pipeline stage (io/serving_runs.hpp).
    clients = *a.batch_size * count_of(a.attention_dp_size) * count_of(a.pp_size);
    cfg.mode = serving::serving_mode::colocated;
    cfg.colocated = {
        .instances = 1,
        .layout = l,
        .scheduler = {
            .max_batched_tokens =
                run_parameter(run, "max_num_batched_tokens").value_or(agg_max_batched_tokens),
            .max_sequences_per_group = static_cast<int>(*a.batch_size)}};
  } else {
    io::serving_run_layout p = run.prefill, d = run.decode;
    const engine::parallel_layout pl = layout_of(run, p, m, "prefill", profile, dev);
    const engine::parallel_layout dl = layout_of(run, d, m, "decode", profile, dev);
    weight_only = pl.weight_only() || dl.weight_only();
    const std::int64_t decode_ranks = count_of(d.attention_dp_size) * count_of(d.pp_size);
    if (!p.num_workers && !d.num_workers && !p.batch_size && !d.batch_size) {
      // Rows that record the workers' layouts but neither their counts nor their batch sizes:
      // taken as the smallest disaggregated deployment, one prefill and one decode worker, with
      // the run's concurrency (silicon_data_source) as the clients of the decode worker's ranks.
      const std::optional<std::int64_t> n = run_concurrency(run);
      if (!n)
        skip("missing worker counts", "worker counts and silicon_concurrency not recorded");
      p.num_workers = d.num_workers = 1;
      p.batch_size = 1;
      assumed_workers = true;
      d.batch_size = (*n + decode_ranks - 1) / decode_ranks;
    }
    if (!p.num_workers || !d.num_workers)
      skip("missing worker counts", "prefill_num_workers or decode_num_workers empty");
    if (!p.batch_size || !d.batch_size || *p.batch_size <= 0 || *d.batch_size <= 0)
      skip("missing batch size", "prefill_batch_size or decode_batch_size empty");
    // Clients fill every decode worker's batch on every attention-DP rank.
    clients = *d.batch_size * decode_ranks * *d.num_workers;
    cfg.mode = serving::serving_mode::pd;
    cfg.prefill = {.instances = static_cast<int>(*p.num_workers),
                   .layout = pl,
                   .scheduler = {.max_batched_tokens =
                                     run_parameter(run, "prefill_max_num_batched_tokens")
                                         .value_or(std::max(*p.batch_size * run.isl, run.isl)),
                                 .max_sequences_per_group = static_cast<int>(*p.batch_size)}};
    cfg.decode = {
        .instances = static_cast<int>(*d.num_workers),
        .layout = dl,
        .scheduler = {.max_batched_tokens = run_parameter(run, "decode_max_num_batched_tokens")
                                                .value_or(agg_max_batched_tokens),
                      .max_sequences_per_group = static_cast<int>(*d.batch_size)}};
    policies.admission = serving::always_disaggregate{};
  }
  if (clients > 1'000'000)
    skip("too many clients", fmt::format("{} clients", clients));
  serving::closed_loop loop{.clients = static_cast<int>(clients),
                            .requests = o.requests_per_client * clients,
                            .warmup = clients,
                            .cooldown = clients};
  // A row that records its benchmark's request count and rate (`vllm bench serve --num-prompts
  // --request-rate --max-concurrency`) is run as that benchmark ran: every request measured, sends
  // created at the rate (Poisson) and held until one of the clients is free.
  const std::optional<std::int64_t> num_requests = run_parameter(run, "num_requests");
  const std::optional<double> request_rate = run_quantity(run, "request_rate");
  const bool benchmark_run = num_requests && request_rate && *num_requests > 0 && *request_rate > 0;
  if (benchmark_run)
    loop = {.clients = static_cast<int>(clients),
            .requests = *num_requests,
            .request_rate = *request_rate};
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
    if (o.ramp < 0.0 && !benchmark_run) {
      // Clients spread over one request's latency, as in a measured steady state
      // (serving::closed_loop::ramp_up_s); the latency is that of a run started all at once.
      const serving::report first = cluster.run(lengths, loop, o.seed);
      loop.ramp_up_s = std::isfinite(first.latency.e2e_s.mean) ? first.latency.e2e_s.mean : 0.0;
    } else if (!benchmark_run) {
      loop.ramp_up_s = o.ramp;
    }
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
          .skipped = std::nullopt,
          .output_tok_s = r.output_tokens_per_s_per_device * r.devices,
          .weight_only = weight_only,
          .assumed_workers = assumed_workers};
}

row_result simulate_row(const io::serving_run& run, const validate_options& o) {
  try {
    return simulate(run, o);
  } catch (const skip_row& s) {
    return {.ttft_ms = std::nullopt, .tpot_ms = std::nullopt, .skipped = s.why, .output_tok_s = {}};
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
  std::string model, system, backend, mode; ///< empty: a subset of the rows (`subset`)
  error_stats ttft, tpot;
  std::string subset; ///< "all", "recorded deployments", "assumed deployments"; empty: a group
};

std::vector<group_summary> summarize(const std::vector<const io::serving_run*>& runs,
                                     const std::vector<row_result>& results) {
  using key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<key, std::pair<std::vector<double>, std::vector<double>>> groups;
  // Subsets: the rows whose deployment is recorded, those run on an assumed one, and all.
  std::pair<std::vector<double>, std::vector<double>> recorded, assumed, all;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const row_result& r = results[i];
    if (r.skipped)
      continue;
    const double et = *r.ttft_ms / runs[i]->ttft_ms - 1.0;
    const double ep = *r.tpot_ms / runs[i]->tpot_ms - 1.0;
    for (auto* g :
         {&groups[{runs[i]->model_path, runs[i]->system, runs[i]->backend, runs[i]->mode}],
          r.assumed_workers ? &assumed : &recorded, &all}) {
      g->first.push_back(et);
      g->second.push_back(ep);
    }
  }
  std::vector<group_summary> out;
  for (auto& [k, v] : groups)
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k),
                   stats_of(std::move(v.first)), stats_of(std::move(v.second)), ""});
  if (!assumed.first.empty())
    for (auto& [name, v] :
         {std::pair{"recorded deployments", &recorded}, {"assumed deployments", &assumed}})
      out.push_back({.model = "",
                     .system = "",
                     .backend = "",
                     .mode = "",
                     .ttft = stats_of(std::move(v->first)),
                     .tpot = stats_of(std::move(v->second)),
                     .subset = name});
  out.push_back({.model = "",
                 .system = "",
                 .backend = "",
                 .mode = "",
                 .ttft = stats_of(std::move(all.first)),
                 .tpot = stats_of(std::move(all.second)),
                 .subset = "all"});
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
  return g.subset.empty() ? fmt::format("{} {} {} {}", g.model, g.system, g.backend, g.mode)
                          : g.subset;
}

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:+.1f}%", 100.0 * v) : "-"; }
std::string abs_pct(double v) { return std::isfinite(v) ? fmt::format("{:.1f}%", 100.0 * v) : "-"; }

/// @throws config_error for options out of their domain.
void check_options(const validate_options& o) {
  if (o.rows != "all" && o.rows != "even" && o.rows != "odd")
    throw config_error(area, "rows", fmt::format("('{}') must be even, odd or all", o.rows));
  check_in_range(area, "threads", o.threads, 1, 256);
  check_positive(area, "requests-per-client", o.requests_per_client);
  if (o.requests_per_client < 3)
    throw config_error(area, "requests-per-client",
                       fmt::format("({}) must be >= 3: warm-up and cool-down take one each",
                                   o.requests_per_client));
}

/// The rows of `all` that `rows` (even, odd or all; 0-based positions) selects.
std::vector<const io::serving_run*> select_rows(const std::vector<io::serving_run>& all,
                                                const std::string& rows) {
  std::vector<const io::serving_run*> runs;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (rows == "all" || (rows == "even") == (i % 2 == 0))
      runs.push_back(&all[i]);
  return runs;
}

/// Simulates `runs` on `o.threads` threads. Rows are independent and each has its own fixed
/// seed: any thread count gives the same results, each written to its own slot.
std::vector<row_result> simulate_rows(const std::vector<const io::serving_run*>& runs,
                                      const validate_options& o) {
  std::vector<row_result> results(runs.size());
  const auto threads =
      std::min(static_cast<std::size_t>(o.threads), std::max<std::size_t>(runs.size(), 1));
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
  return results;
}

int run_validate(validate_options o) {
  check_options(o);
  o.cal = calibration_of(o.calibration);
  const std::vector<io::serving_run> all = io::read_serving_runs(o.file);
  const std::vector<const io::serving_run*> runs = select_rows(all, o.rows);
  const std::vector<row_result> results = simulate_rows(runs, o);
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
                      {"skipped", r.skipped ? nlohmann::json(r.skipped->text()) : nullptr},
                      {"weight_only", r.weight_only},
                      {"assumed_workers", r.assumed_workers}});
      if (const std::optional<double> m = run_output_tok_s(*runs[i]); m && r.output_tok_s) {
        rows.back()["measured_output_tok_s"] = *m;
        rows.back()["predicted_output_tok_s"] = *r.output_tok_s;
      }
    }
    nlohmann::json summary = nlohmann::json::array();
    for (const group_summary& g : groups)
      summary.push_back(
          {{"model", g.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.model)},
           {"system", g.system.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.system)},
           {"backend", g.backend.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.backend)},
           {"mode", g.mode.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.mode)},
           {"subset", g.subset.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.subset)},
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
  for (std::size_t k = 0; k < groups.size(); ++k) {
    const group_summary& g = groups[k];
    if (!g.subset.empty() && (k == 0 || groups[k - 1].subset.empty()))
      fmt::print("{}\n", std::string(width + 60, '-'));
    fmt::print("{:<{}} {:>5} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8}\n", group_name(g), width,
               g.ttft.count, abs_pct(g.ttft.median_abs), abs_pct(g.ttft.p90_abs), pct(g.ttft.bias),
               abs_pct(g.tpot.median_abs), abs_pct(g.tpot.p90_abs), pct(g.tpot.bias));
  }
  bool throughput_header = false;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::optional<double> m = run_output_tok_s(*runs[i]);
    if (!m || !results[i].output_tok_s)
      continue;
    if (!throughput_header)
      fmt::print("\noutput throughput (rows that record output_tok_s)\n");
    throughput_header = true;
    fmt::print("  {}: predicted {:.1f} tok/s, measured {:.1f} tok/s, error {}\n", runs[i]->id,
               *results[i].output_tok_s, *m, pct(*results[i].output_tok_s / *m - 1.0));
  }
  const auto assumed = std::count_if(results.begin(), results.end(), [](const row_result& r) {
    return !r.skipped && r.assumed_workers;
  });
  if (assumed > 0)
    fmt::print("\nassumed deployments: {} simulated disaggregated rows record neither worker "
               "counts nor batch sizes; each ran as one prefill and one decode worker with the "
               "row's concurrency\n",
               assumed);
  const auto weight_only = std::count_if(results.begin(), results.end(), [](const row_result& r) {
    return !r.skipped && r.weight_only;
  });
  if (weight_only > 0)
    fmt::print("\nweight-only GEMMs: {} simulated rows store 4-bit weights their device has no "
               "4-bit tensor cores for, multiplied in BF16 (W4A16)\n",
               weight_only);
  if (!skipped.empty()) {
    fmt::print("\nskipped rows by reason\n");
    for (const auto& [category, v] : skipped)
      fmt::print("  {:>5}  {:<28} e.g. {} ({})\n", v.first, category, runs[v.second]->id,
                 results[v.second].skipped->detail);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// `infercost calibrate FILE.csv`: fits each (device, engine) pair's engine-profile terms to one
// half of the rows and writes a calibration file (io/calibration_file.hpp).

struct calibrate_options {
  validate_options sim; ///< how rows are simulated (rows = the half fitted)
  std::string out = "calibration.json";
  int max_evaluations = 60;     ///< simulations of the group per pair
  bool fit_expert_gemm = false; ///< also fit expert_gemm_efficiency where a pair has MoE rows
};

/// The fitted terms, in log space: decode_step_s, prefill_step_s, launch_s, request_s and
/// expert_gemm_efficiency.
constexpr std::size_t num_terms = 5;
constexpr std::size_t expert_term = 4;
using point = std::array<double, num_terms>;

engine::engine_profile with_terms(engine::engine_profile p, const point& x) {
  p.decode_step_s = std::exp(x[0]);
  p.prefill_step_s = std::exp(x[1]);
  p.launch_s = std::exp(x[2]);
  p.request_s = std::exp(x[3]);
  p.expert_gemm_efficiency = std::exp(x[expert_term]);
  return p;
}

/// Bounds of each term (log space): step host times from 1 µs to 1 s; a kernel launch from 1 to
/// 50 µs (a C++ launch takes ~4 µs, an eager PyTorch op 5–25 µs: engine_profile.hpp [PTDISP]);
/// a request's front end from 1 µs to 2 s; the experts' share of the GEMM compute rate from 0.1
/// to 1.
constexpr point lower_bound{-13.8, -13.8, -13.8, -13.8, -2.303}; // ln 1e-6, ln 0.1
constexpr point upper_bound{0.0, 0.0, -9.9, 0.69, 0.0};          // ln 1, ln 5e-5, ln 2, ln 1

/// Mean over `runs` of the squared log errors of mean TTFT and mean TPOT; a row that a trial
/// fails to simulate counts as a log error of 3 (a factor of 20) on both.
double objective(const std::vector<const io::serving_run*>& runs, const validate_options& o) {
  const std::vector<row_result> r = simulate_rows(runs, o);
  double sum = 0.0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (r[i].skipped) {
      sum += 2 * 9.0;
      continue;
    }
    const double et = std::log(*r[i].ttft_ms / runs[i]->ttft_ms);
    const double ep = std::log(*r[i].tpot_ms / runs[i]->tpot_ms);
    sum += et * et + ep * ep;
  }
  return sum / static_cast<double>(2 * runs.size());
}

/// What a fit reached: the best point, its value, and the value at the start.
struct fit_result {
  point best{};
  double value = 0.0;
  double start_value = 0.0;
};

/// Nelder–Mead (reflection 1, expansion 2, contraction 1/2, shrink 1/2) from `start` over the
/// terms that `fit` marks, each vertex's fitted terms clamped to the bounds, for at most
/// `max_evaluations` evaluations of `f`. The other terms keep their start, in bounds or not (a
/// starting calibration's value the fit was not asked to move stays as it is).
template <class F>
fit_result nelder_mead(F f, const point& start, int max_evaluations,
                       const std::array<bool, num_terms>& fit) {
  std::vector<std::size_t> free; // the fitted terms, in order
  for (std::size_t k = 0; k < num_terms; ++k)
    if (fit[k])
      free.push_back(k);
  const std::size_t n = free.size();
  auto clamp = [&](point x) {
    for (std::size_t k : free)
      x[k] = std::clamp(x[k], lower_bound[k], upper_bound[k]);
    return x;
  };
  using vertex = std::pair<point, double>;
  std::vector<vertex> s(n + 1);
  int evaluations = 0;
  auto eval = [&](const point& x) {
    ++evaluations;
    return f(x);
  };
  const point x0 = clamp(start);
  s[0] = {x0, eval(x0)};
  const double start_value = s[0].second;
  for (std::size_t v = 0; v < n; ++v) {
    const std::size_t k = free[v];
    point x = x0;
    x[k] += 1.0; // a factor of e in term k
    x = clamp(x);
    if (x[k] == x0[k])
      x[k] -= 1.0;
    s[v + 1] = {x, eval(x)};
  }
  auto by_value = [](const vertex& a, const vertex& b) { return a.second < b.second; };
  while (n > 0 && evaluations < max_evaluations) {
    std::sort(s.begin(), s.end(), by_value);
    point c = x0;
    for (std::size_t k : free) {
      c[k] = 0.0;
      for (std::size_t v = 0; v < n; ++v)
        c[k] += s[v].first[k] / static_cast<double>(n);
    }
    auto along = [&](double t) {
      point x = c;
      for (std::size_t k : free)
        x[k] = c[k] + t * (s[n].first[k] - c[k]);
      return clamp(x);
    };
    const point xr = along(-1.0);
    const double fr = eval(xr);
    if (fr < s[0].second) {
      const point xe = along(-2.0);
      const double fe = eval(xe);
      s[n] = fe < fr ? vertex{xe, fe} : vertex{xr, fr};
    } else if (fr < s[n - 1].second) {
      s[n] = {xr, fr};
    } else {
      const point xc = along(0.5);
      const double fc = eval(xc);
      if (fc < s[n].second) {
        s[n] = {xc, fc};
      } else {
        for (std::size_t v = 1; v <= n; ++v) {
          for (std::size_t k : free)
            s[v].first[k] = s[0].first[k] + 0.5 * (s[v].first[k] - s[0].first[k]);
          s[v].second = eval(s[v].first);
        }
      }
    }
  }
  std::sort(s.begin(), s.end(), by_value);
  return {.best = s[0].first, .value = s[0].second, .start_value = start_value};
}

int run_calibrate(calibrate_options c) {
  validate_options& o = c.sim;
  check_options(o);
  check_positive("cli::calibrate", "max-evaluations", c.max_evaluations);
  // The fit starts from the presets, or from the profiles of a given calibration file.
  o.cal = o.calibration.empty() ? engine::calibration{} : calibration_of(o.calibration);
  std::ofstream out = open_output("cli::calibrate", "out", c.out);
  const std::vector<io::serving_run> all = io::read_serving_runs(o.file);
  const std::vector<const io::serving_run*> runs = select_rows(all, o.rows);
  // The rows of each (device, engine) pair that simulate with the starting profiles.
  const std::vector<row_result> start = simulate_rows(runs, o);
  std::map<std::pair<std::string, std::string>, std::vector<const io::serving_run*>> pairs;
  // Rows run on an assumed deployment (row_result::assumed_workers) are left out: a guess must
  // not move the fit.
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (!start[i].skipped && !start[i].assumed_workers)
      pairs[{runs[i]->system, runs[i]->backend}].push_back(runs[i]);

  engine::calibration fitted = o.cal;
  fitted.source = fmt::format("infercost calibrate {} --rows {} --max-evaluations {} "
                              "--requests-per-client {} --seed {}{}{}",
                              std::filesystem::path(o.file).filename().string(), o.rows,
                              c.max_evaluations, o.requests_per_client, o.seed,
                              o.ramp != 0.0 ? fmt::format(" --ramp-up {}", o.ramp) : "",
                              c.fit_expert_gemm ? " --fit-expert-gemm" : "");
  fmt::print("{}: fitting decode_step_s, prefill_step_s, launch_s{} on {} rows ({})\n", o.file,
             c.fit_expert_gemm ? ", request_s and expert_gemm_efficiency (pairs with MoE rows)"
                               : " and request_s",
             runs.size(), o.rows);
  fmt::print("{:<10} {:<7} {:>5} | {:>9} {:>9} | {:>12} {:>13} {:>9} {:>10} {:>11}\n", "device",
             "engine", "rows", "rms start", "rms fit", "decode_step", "prefill_step", "launch",
             "request", "expert_gemm");
  for (const auto& entry : pairs) {
    // Named references, not structured bindings: the lambdas below capture them.
    const auto& [device, engine_name] = entry.first;
    const auto& group = entry.second;
    const engine::engine_profile base = o.cal.profile_for(device, engine_name);
    validate_options trial = o;
    auto f = [&](const point& x) {
      trial.fixed_profile = with_terms(base, x);
      return objective(group, trial);
    };
    auto ln = [](double v) { return std::log(std::max(v, 1e-7)); };
    // The presets have no front-end time; the search starts it at 20 ms.
    const point x0{ln(base.decode_step_s), ln(base.prefill_step_s), ln(base.launch_s),
                   ln(base.request_s > 0.0 ? base.request_s : 0.02),
                   std::log(base.expert_gemm_efficiency)};
    // The expert kernels' efficiency when asked for, and only where the pair has rows of an MoE
    // model.
    std::array<bool, num_terms> free{};
    free.fill(true);
    free[expert_term] =
        c.fit_expert_gemm && std::any_of(group.begin(), group.end(), [](const io::serving_run* r) {
          const auto m = model::presets::find_by_hf_id(r->model_path);
          return m && m->is_moe();
        });
    const fit_result fit = nelder_mead(f, x0, c.max_evaluations, free);
    const engine::engine_profile p = with_terms(base, fit.best);
    fitted.set({.device = device,
                .engine = engine_name,
                .profile = p,
                .rows = static_cast<std::int64_t>(group.size()),
                .fit_rms_log = std::sqrt(fit.value)});
    fmt::print("{:<10} {:<7} {:>5} | {:>9.3f} {:>9.3f} | {:>9.1f} us {:>10.1f} us {:>6.2f} us "
               "{:>7.1f} ms {:>11.3f}\n",
               device, engine_name, group.size(), std::sqrt(fit.start_value), std::sqrt(fit.value),
               p.decode_step_s * 1e6, p.prefill_step_s * 1e6, p.launch_s * 1e6, p.request_s * 1e3,
               p.expert_gemm_efficiency);
  }
  out << io::to_json(fitted);
  fmt::print("wrote {}; held-out errors: infercost validate {} --rows {} --calibration {}\n", c.out,
             o.file,
             o.rows == "even"  ? "odd"
             : o.rows == "odd" ? "even"
                               : "all",
             c.out);
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
                  "warm-up and cool-down); rows recording num_requests= and request_rate= run "
                  "as their benchmark did instead")
      ->capture_default_str();
  sub->add_option("--profile", o->profile,
                  "Engine overheads: backend (each row's: trtllm, vllm, sglang, vllm_ascend) or "
                  "one of none, trtllm, vllm, sglang, vllm_ascend for every row")
      ->capture_default_str();
  sub->add_option("--ramp-up", o->ramp,
                  "Seconds over which each row's clients start (0: all at once); negative: one "
                  "request's latency, measured by a first run with every client starting at once")
      ->capture_default_str();
  add_seed_option(sub, o->seed);
  add_calibration_option(sub, o->calibration);
  return {sub, [o] { return run_validate(*o); }};
}

command add_calibrate(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "calibrate", "Fit the engine profiles' host terms to measured serving runs (CSV) and write a "
                   "calibration file");
  auto c = std::make_shared<calibrate_options>();
  c->sim.rows = "even";
  sub->add_option("file", c->sim.file, "Measured runs (aiconfigurator silicon sample schema)")
      ->required();
  sub->add_option("--rows", c->sim.rows,
                  "Rows fitted, by 0-based position: even, odd or all (report on the other half "
                  "with validate)")
      ->capture_default_str();
  sub->add_option("-o,--out", c->out, "Calibration file written")->capture_default_str();
  sub->add_option("--max-evaluations", c->max_evaluations,
                  "Simulations of each (device, engine) pair's rows in the fit")
      ->capture_default_str();
  sub->add_option("--threads", c->sim.threads, "Rows simulated in parallel (same results as 1)")
      ->capture_default_str();
  sub->add_option("--requests-per-client", c->sim.requests_per_client,
                  "Closed loop: requests issued per client")
      ->capture_default_str();
  sub->add_option("--ramp-up", c->sim.ramp,
                  "Seconds over which each row's clients start (0: all at once); negative: one "
                  "request's latency (as validate --ramp-up)")
      ->capture_default_str();
  add_seed_option(sub, c->sim.seed);
  sub->add_option("--calibration", c->sim.calibration,
                  "Start from the profiles of this calibration file (default: the presets)");
  sub->add_flag("--fit-expert-gemm", c->fit_expert_gemm,
                "Also fit expert_gemm_efficiency (the routed experts' share of the GEMM compute "
                "rate) on the pairs with rows of MoE models");
  return {sub, [c] { return run_calibrate(*c); }};
}

} // namespace infercost::cli
