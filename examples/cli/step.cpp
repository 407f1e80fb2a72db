// `infercost step`: the time of one forward pass of a batch on a parallel layout, with its
// breakdown, from engine::basic_step_cost.
#include "commands.hpp"

#include <infercost/device/any_device.hpp>
#include <infercost/device/catalog.hpp>
#include <infercost/engine/step_cost.hpp>
#include <infercost/model/presets.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace infercost::cli {
namespace {

struct step_options {
  std::string model = "deepseek_v3";
  std::string device = "h800_sxm";
  std::string phase = "decode";
  std::string attention = "full";
  std::string precision; ///< empty: the device's serving precision (serving_precision)
  std::string kv_precision = "bf16";
  std::string gemm_precision; ///< empty: the weights' own (no weight-only quantisation)
  int devices = 128;
  int devices_per_node = 0; ///< 0: the device's own
  int tp = 0;               // 0: devices / pp without --dp-attention, 1 with it
  int ep = 0;               // 0: devices / (pp · moe_tp) for MoE models, 1 for dense
  int moe_tp = 1;
  int pp = 1;
  std::string engine = "none";
  std::string calibration; ///< --calibration FILE (empty: the shipped fit)
  bool dp_attention = false;
  int redundant_experts = 0;
  int micro_batches = 1;
  double expert_skew = 0.0;
  int batch_per_device = 128;
  long long context = 4096;
  long long tokens_per_device = 16384;
  long long prompt_tokens = 4096;
  int speculative_tokens = 0;
  bool mtp = false;
  bool json = false;
};

nlohmann::json breakdown_json(const engine::step_breakdown& r) {
  return {{"attention_s", r.attention_s},
          {"projection_s", r.projection_s},
          {"dense_ffn_s", r.dense_ffn_s},
          {"router_s", r.router_s},
          {"experts_s", r.experts_s},
          {"shared_s", r.shared_s},
          {"elementwise_s", r.elementwise_s},
          {"lm_head_s", r.lm_head_s},
          {"tp_comm_s", r.tp_comm_s},
          {"dispatch_s", r.dispatch_s},
          {"combine_s", r.combine_s},
          {"draft_s", r.draft_s},
          {"pp_comm_s", r.pp_comm_s},
          {"host_overhead_s", r.host_overhead_s},
          {"launch_floor_s", r.launch_floor_s},
          {"comm_unit_s", r.comm_unit_s},
          {"other_kernels_s", r.other_kernels_s},
          {"compute_s", r.compute_s},
          {"comm_s", r.comm_s},
          {"overlap_saved_s", r.overlap_saved_s}};
}

template <class Device, class Policy> int run_step(const step_options& o, const Device& device) {
  const model::model_config m = model_of(o.model);
  const precision p =
      o.precision.empty() ? device.native_weight_precision() : parse_precision(o.precision);
  if (o.mtp && o.speculative_tokens < 1)
    throw config_error("cli::step", "mtp",
                       "(set) needs --speculative-tokens >= 1: the MTP module drafts them");
  // 0 picks the default; a negative degree is an error, never the default.
  check_count("cli::step", "devices", o.devices, max_devices);
  check_non_negative("cli::step", "tp", o.tp);
  check_non_negative("cli::step", "ep", o.ep);
  check_positive("cli::step", "pp", o.pp);
  check_positive("cli::step", "moe-tp", o.moe_tp);
  const int stage = o.devices / o.pp;
  const std::optional<precision> gemm =
      o.gemm_precision.empty() ? std::nullopt : std::optional{parse_precision(o.gemm_precision)};
  engine::parallel_layout l{.devices = o.devices,
                            .tp = o.tp > 0 ? o.tp : (o.dp_attention ? 1 : stage),
                            .dp_attention = o.dp_attention,
                            .ep =
                                o.ep > 0 ? o.ep : (m.is_moe() ? std::max(stage / o.moe_tp, 1) : 1),
                            .redundant_experts = o.redundant_experts,
                            .micro_batches = o.micro_batches,
                            .expert_skew = o.expert_skew,
                            .weight_prec = p,
                            .gemm_prec = gemm,
                            .attention_prec = engine::attention_precision_for(p),
                            .kv_prec = parse_precision(o.kv_precision),
                            .dispatch_prec = gemm.value_or(p),
                            .combine_prec = precision::bf16,
                            .mtp_draft = o.mtp,
                            .moe_tp = o.moe_tp,
                            .pp = o.pp,
                            .overheads = engine_profile_for(o.engine, o.device, o.calibration)};
  if (!m.is_moe() && o.ep == 0)
    l.ep = 1;
  const engine::basic_step_cost<Device, Policy> sc(m, l, {}, device);
  const double groups = l.attention_groups();
  // The check serve makes: the weights leave memory for KV, 10% kept for activations (the
  // scheduler's default); the message gives the numbers.
  const double kv_per_device = sc.kv_capacity_bytes(0.10) / groups;
  auto check_kv = [&](std::string_view field, long long value, double bytes) {
    if (bytes > kv_per_device)
      throw config_error("cli::step", field,
                         fmt::format("({}) needs {:.1f} GB of KV per {} but the weights leave "
                                     "{:.1f} GB (10% kept for activations)",
                                     value, bytes / 1e9, device.name(), kv_per_device / 1e9));
  };
  engine::step_batch b;
  if (o.phase == "decode") {
    check_positive("cli::step", "batch-per-device", o.batch_per_device);
    check_non_negative("cli::step", "context", o.context);
    check_kv("batch-per-device", o.batch_per_device,
             o.batch_per_device * sc.kv_bytes_per_device(o.context));
    b.totals.decode_sequences = groups * o.batch_per_device;
    b.totals.decode_context_sum = b.totals.decode_sequences * static_cast<double>(o.context);
    b.speculative_tokens = o.speculative_tokens;
  } else if (o.phase == "prefill") {
    check_positive("cli::step", "tokens-per-device", o.tokens_per_device);
    check_positive("cli::step", "prompt-tokens", o.prompt_tokens);
    // Whole prompts of `prompt_tokens` until the device's token budget is used; a partial last
    // chunk is the first part of a prompt.
    const long long full = o.tokens_per_device / o.prompt_tokens;
    const long long rest = o.tokens_per_device % o.prompt_tokens;
    check_kv("tokens-per-device", o.tokens_per_device,
             static_cast<double>(full) * sc.kv_bytes_per_device(o.prompt_tokens) +
                 sc.kv_bytes_per_device(rest));
    engine::step_batch one;
    for (long long i = 0; i < full; ++i)
      one.add_prefill(o.prompt_tokens);
    if (rest > 0)
      one.add_prefill(rest);
    b.totals = engine::detail::scaled(one.totals, groups);
  } else {
    throw config_error("cli::step", "phase",
                       fmt::format("('{}') must be decode or prefill", o.phase));
  }
  const engine::step_breakdown r = sc(b);
  const double tokens_per_s_per_device =
      (o.phase == "decode" ? r.decode_tokens : r.prefill_tokens) / r.total_s / o.devices;
  if (o.json) {
    nlohmann::json j{{"model", m.name},
                     {"device", std::string(device.name())},
                     {"phase", o.phase},
                     {"attention", std::string(Policy::name)},
                     {"devices", o.devices},
                     {"tp", l.tp},
                     {"ep", l.ep},
                     {"dp_attention", l.dp_attention},
                     {"micro_batches", l.micro_batches},
                     {"moe_tp", l.moe_tp},
                     {"pp", l.pp},
                     {"engine", std::string(l.overheads.name)},
                     {"precision", to_string(p)},
                     {"gemm_precision", to_string(l.gemm_math_prec())},
                     {"tokens", r.tokens},
                     {"step_s", r.total_s},
                     {"tokens_per_s_per_device", tokens_per_s_per_device},
                     {"expert_imbalance", r.expert_imbalance},
                     {"weight_bytes_per_device", sc.weight_bytes_per_device()},
                     {"breakdown", breakdown_json(r)}};
    std::cout << j.dump(2) << '\n';
    return 0;
  }
  fmt::print("{} {} on {} x {} ({} attention, TP {}, EP {}{}{}{}, {} micro-batch{}, {}, "
             "engine {})\n",
             m.name, o.phase, o.devices, device.name(), Policy::name, l.tp, l.ep,
             l.moe_tp > 1 ? fmt::format(", MoE TP {}", l.moe_tp) : "",
             l.pp > 1 ? fmt::format(", PP {}", l.pp) : "", l.dp_attention ? ", DP attention" : "",
             l.micro_batches, l.micro_batches > 1 ? "es" : "",
             l.weight_only() ? fmt::format("{} weights, {} GEMMs (weight-only)", to_string(p),
                                           to_string(l.gemm_math_prec()))
                             : fmt::format("{} weights", to_string(p)),
             l.overheads.name);
  fmt::print("  tokens in step         {:>12.0f}\n", r.tokens);
  fmt::print("  step time              {:>12.3f} ms\n", r.total_s * 1e3);
  fmt::print("  tokens/s per device    {:>12.0f}\n", tokens_per_s_per_device);
  fmt::print("  weights per device     {:>12.1f} GB\n", sc.weight_bytes_per_device() / 1e9);
  if (m.is_moe())
    fmt::print("  expert max/mean load   {:>12.3f}\n", r.expert_imbalance);
  fmt::print("  breakdown (summed over layers and micro-batches, before overlap):\n");
  const std::pair<const char*, double> rows[] = {{"attention", r.attention_s},
                                                 {"attention projections", r.projection_s},
                                                 {"dense FFN", r.dense_ffn_s},
                                                 {"router", r.router_s},
                                                 {"routed experts", r.experts_s},
                                                 {"shared experts", r.shared_s},
                                                 {"element-wise", r.elementwise_s},
                                                 {"other kernels (fixed cost)", r.other_kernels_s},
                                                 {"embedding + LM head", r.lm_head_s},
                                                 {"TP all-reduce", r.tp_comm_s},
                                                 {"EP dispatch", r.dispatch_s},
                                                 {"EP combine", r.combine_s},
                                                 {"MTP draft", r.draft_s},
                                                 {"pipeline sends", r.pp_comm_s},
                                                 {"engine host time", r.host_overhead_s},
                                                 {"launch floor", r.launch_floor_s},
                                                 {"SMs held by EP kernels", r.comm_unit_s},
                                                 {"hidden by overlap", -r.overlap_saved_s}};
  for (const auto& [name, s] : rows)
    if (s != 0.0)
      fmt::print("    {:<28} {:>10.3f} ms {:>6.1f}%\n", name, s * 1e3, 100 * s / r.total_s);
  return 0;
}

} // namespace

command add_step(CLI::App& app) {
  auto* sub = app.add_subcommand("step", "Time one forward pass of a batch on a parallel layout");
  auto o = std::make_shared<step_options>();
  sub->add_option("--model", o->model, "Model preset (see `infercost models`)")
      ->capture_default_str();
  sub->add_option("--device", o->device, "Device (see `infercost devices`)")->capture_default_str();
  sub->add_option("--phase", o->phase, "decode or prefill")->capture_default_str();
  sub->add_option("--attention", o->attention, "Attention policy of full layers: full or csa")
      ->capture_default_str();
  sub->add_option("--precision", o->precision,
                  "Weight precision: bf16, fp8, int8 (W8A8), int4 (W4A8), fp4 (default: the one "
                  "the device serves: FP8 on parts with FP8 units, INT8 on Ascend)");
  sub->add_option("--kv-precision", o->kv_precision, "KV-cache precision")->capture_default_str();
  sub->add_option("--gemm-precision", o->gemm_precision,
                  "GEMM math when it differs from the weights' (weight-only quantisation: "
                  "--precision fp4 --gemm-precision bf16 is W4A16 on a part without FP4 units); "
                  "default: the weights' own");
  sub->add_option("--devices", o->devices, "Devices in the instance")->capture_default_str();
  sub->add_option("--devices-per-node", o->devices_per_node,
                  "Devices per scale-up domain (0: the device's own)")
      ->capture_default_str();
  sub->add_option("--tp", o->tp,
                  "Tensor-parallel degree (default: devices / pp, or 1 with "
                  "--dp-attention)");
  sub->add_option("--ep", o->ep,
                  "Expert-parallel degree (default: devices / (pp · moe-tp) for MoE models)");
  sub->add_option("--moe-tp", o->moe_tp, "Tensor-parallel degree of each expert in its EP rank")
      ->capture_default_str();
  sub->add_option("--pp", o->pp, "Pipeline-parallel stages")->capture_default_str();
  add_calibration_option(sub, o->calibration);
  sub->add_option("--engine", o->engine,
                  "Serving engine whose per-step overheads to add: none, trtllm, vllm, sglang")
      ->capture_default_str();
  sub->add_flag("--dp-attention", o->dp_attention, "Data-parallel attention groups");
  sub->add_option("--redundant-experts", o->redundant_experts, "EPLB replica slots")
      ->capture_default_str();
  sub->add_option("--micro-batches", o->micro_batches, "Micro-batches overlapping communication")
      ->capture_default_str();
  sub->add_option("--expert-skew", o->expert_skew, "Zipf exponent of expert popularity")
      ->capture_default_str();
  sub->add_option("--batch-per-device", o->batch_per_device,
                  "Decode: sequences per attention group")
      ->capture_default_str();
  sub->add_option("--context", o->context, "Decode: cached tokens per sequence")
      ->capture_default_str();
  sub->add_option("--tokens-per-device", o->tokens_per_device,
                  "Prefill: new tokens per attention group")
      ->capture_default_str();
  sub->add_option("--prompt-tokens", o->prompt_tokens, "Prefill: tokens per prompt")
      ->capture_default_str();
  sub->add_option("--speculative-tokens", o->speculative_tokens,
                  "Decode: draft tokens verified per sequence")
      ->capture_default_str();
  sub->add_flag("--mtp", o->mtp, "Draft speculative tokens with the model's MTP module");
  sub->add_flag("--json", o->json, "Print JSON");
  return {sub, [o] {
            const any_device d = device_of(o->device, o->devices_per_node);
            if (o->attention == "full")
              return run_step<any_device, attention::full>(*o, d);
            if (o->attention == "csa")
              return run_step<any_device, attention::csa>(*o, d);
            throw config_error("cli::step", "attention",
                               fmt::format("('{}') must be full or csa", o->attention));
          }};
}

} // namespace infercost::cli
