/// @file
/// How many bytes of KV an instance's HBM holds, and what a block of KV costs in bytes: the one
/// answer, asked of the step-cost engine (engine/step_cost.hpp) for the instance's layout.
///
/// HBM for KV: each device's memory less an activation reserve (a share of its memory) and the
/// weights the layout places on it (engine::basic_step_cost::weight_bytes_per_device: attention
/// and dense FFN split tp ways, experts ep × moe_tp ways, pipeline stages their layers), summed
/// over data-parallel attention groups. The engine counts per-device (sharded) KV; a cache counts
/// whole blocks, every shard of a token: whole_kv_bytes converts one into the other. Serving
/// (serving::detail::kv_budget) sizes its sequences and its prefix cache through the same calls.
///
/// A block of `block_tokens` tokens costs block_tokens × KV bytes per token, where a layer keeps
/// what its attention keeps (a sliding window its last tokens, MLA its latent, an FP8 KV cache
/// half of BF16's bytes): over a prefix of `reference_context` tokens a token's share is
/// kv_bytes_per_sequence(reference_context) / reference_context.
#pragma once

#include <cstdint>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/io/workload_types.hpp"
#include "infercost/kvcache/tiered_cache.hpp"
#include "infercost/kvcache/tiers.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::kvcache {

/// Prompt length over which a sliding-window block's footprint is averaged by default: the
/// Mooncake conversation trace's mean input, 12,035 tokens (shared/data/README).
inline constexpr std::int64_t default_reference_context = 12035;

/// How one serving instance holds a model: its parallel layout (devices, how weights and KV are
/// split, their precisions), what each device keeps back for activations, and the blocks its KV
/// cache counts in.
struct deployment {
  /// Default: 8 devices, tensor-parallel, FP8 weights, BF16 KV.
  engine::parallel_layout layout{.devices = 8, .tp = 8, .weight_prec = precision::fp8};
  /// Share of each device's memory kept for activations and workspace (the serving scheduler's
  /// default, serving::scheduler_config::activation_reserve).
  double activation_reserve = 0.10;
  /// Tokens per block; Mooncake's hash_ids name 512-token blocks.
  std::int64_t block_tokens = io::mooncake_block_tokens;
  /// Prompt length over which a sliding-window block's footprint is averaged.
  std::int64_t reference_context = default_reference_context;

  /// @throws config_error naming the first bad field (the layout's against `m`).
  void validate(const model::model_config& m) const {
    constexpr std::string_view c = "kvcache::deployment";
    check_in_range(c, "activation_reserve", activation_reserve, 0.0, 0.9);
    check_positive(c, "block_tokens", block_tokens);
    check_positive(c, "reference_context", reference_context);
    layout.validate(m);
  }
};

/// Whole-block bytes (every shard of each token) of `per_device_bytes` bytes of `engine`'s
/// per-device KV summed over its attention groups (what kv_capacity_bytes returns).
template <class Engine>
[[nodiscard]] double whole_kv_bytes(const Engine& engine, double per_device_bytes) {
  return per_device_bytes * engine.kv_bytes_per_sequence(1) / engine.kv_bytes_per_device(1);
}

/// Whole-block bytes of KV that `engine`'s instance holds in HBM with `activation_reserve` of
/// each device's memory kept back.
/// @throws config_error when the weights do not fit, with the numbers.
template <class Engine>
[[nodiscard]] double hbm_kv_bytes(const Engine& engine, double activation_reserve) {
  return whole_kv_bytes(engine, engine.kv_capacity_bytes(activation_reserve));
}

/// KV bytes of one block of `block_tokens` tokens over all layers, averaged over a prefix of
/// `reference_context` tokens (see the file comment).
/// @throws config_error for counts that are not > 0.
template <class Engine>
[[nodiscard]] double block_bytes(const Engine& engine, std::int64_t block_tokens,
                                 std::int64_t reference_context = default_reference_context) {
  check_positive("kvcache::block_bytes", "block_tokens", block_tokens);
  check_positive("kvcache::block_bytes", "reference_context", reference_context);
  return engine.kv_bytes_per_sequence(reference_context) / static_cast<double>(reference_context) *
         static_cast<double>(block_tokens);
}

/// The step-cost engine of `m` on `d`'s layout of devices `dev`.
/// @throws config_error for an invalid model or a deployment that does not fit it.
template <device_cost_model Device>
[[nodiscard]] engine::basic_step_cost<Device>
deployment_engine(const Device& dev, const model::model_config& m, const deployment& d) {
  d.validate(m);
  return engine::basic_step_cost<Device>(m, d.layout, {}, dev);
}

/// KV bytes of one block of `m` held as `d` says.
/// @throws config_error for an invalid model or deployment.
template <device_cost_model Device>
[[nodiscard]] double block_bytes(const Device& dev, const model::model_config& m,
                                 const deployment& d) {
  return block_bytes(deployment_engine(dev, m, d), d.block_tokens, d.reference_context);
}

/// Tier capacities of an instance holding `m` as `d` says, on hosts `h`.
/// @throws config_error for an invalid input or weights that do not fit.
template <device_cost_model Device>
[[nodiscard]] tier_bytes instance_tier_bytes(const Device& dev, const model::model_config& m,
                                             const deployment& d, const host_config& h) {
  const host_share s = instance_host_share(dev, h, d.layout.devices);
  return {.hbm = hbm_kv_bytes(deployment_engine(dev, m, d), d.activation_reserve),
          .dram = s.dram_bytes,
          .ssd = s.ssd_bytes};
}

/// A cache config for an instance holding `m` as `d` says, on hosts `h`: the whole HBM left for
/// KV and the instance's share of the hosts' DRAM and drives.
/// @throws config_error for invalid input or weights that do not fit.
template <device_cost_model Device>
[[nodiscard]] cache_config make_cache_config(const Device& dev, const model::model_config& m,
                                             const deployment& d, const host_config& h = {},
                                             write_policy w = write_policy::write_back) {
  const auto e = deployment_engine(dev, m, d);
  return host_cache_config(dev, h, d.layout.devices, hbm_kv_bytes(e, d.activation_reserve),
                           block_bytes(e, d.block_tokens, d.reference_context), d.block_tokens,
                           true, true, w);
}

} // namespace infercost::kvcache
