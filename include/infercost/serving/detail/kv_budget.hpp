/// @file
/// KV memory of a serving instance (serving::basic_instance), counted in tokens.
///
/// capacity = (HBM left after weights and activations, summed over attention groups, minus the
/// prefix cache's HBM share) / KV bytes per token per device. Groups are assumed balanced, as the
/// step-cost engine assumes. A sliding-window model's token is counted at its full-context
/// footprint (an upper bound). A request is admitted when the tokens held plus its own leave the
/// admission watermark (a share of capacity) free; its tokens are then reserved until it joins
/// the decode batch, whose contexts the instance counts itself.
///
/// The prefix cache's tiers: that HBM share (prefix_cache_config::hbm_fraction of the KV HBM) and
/// the instance's share of its node's DRAM and drives (kvcache::host_cache_config); the cache
/// counts whole blocks (every shard of a token), not bytes per device, and prices a block as
/// kvcache::block_bytes does (kvcache/sizing.hpp, the one sizing answer).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

#include <fmt/core.h>

#include "infercost/core/error.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/fwd.hpp"
#include "infercost/kvcache/sizing.hpp"
#include "infercost/serving/instance_config.hpp"

namespace infercost::serving::detail {

/// KV tokens of one instance: capacity, admission watermark, reservations, and the prefix cache's
/// tiers (see the file comment).
class kv_budget {
public:
  /// No memory.
  kv_budget() = default;
  /// The budget of `engine`'s instance under `sched` and `cache`, whose blocks hold
  /// `block_tokens` tokens.
  /// @throws config_error if no KV memory is left for sequences (with the numbers), or for hosts
  /// the cache cannot be split over.
  template <device_cost_model Device, attention::attention_policy Attention>
  kv_budget(const engine::basic_step_cost<Device, Attention>& engine, const scheduler_config& sched,
            const prefix_cache_config& cache, std::int64_t block_tokens) {
    const double kv_bytes_per_token = engine.kv_bytes_per_device(1);
    const double kv_bytes = engine.kv_capacity_bytes(sched.activation_reserve);
    const double seq_bytes = cache.enabled ? kv_bytes * (1.0 - cache.hbm_fraction) : kv_bytes;
    capacity_tokens_ = std::floor(seq_bytes / kv_bytes_per_token);
    if (capacity_tokens_ < 1.0)
      throw config_error("serving::instance", "kv_capacity",
                         fmt::format("(0 tokens) leaves no KV memory: {:.3g} bytes for sequences "
                                     "at {:.3g} bytes per token per device",
                                     seq_bytes, kv_bytes_per_token));
    watermark_tokens_ = std::floor(capacity_tokens_ * sched.admission_watermark);
    if (cache.enabled)
      cache_tiers_ = kvcache::host_cache_config(
          engine.device(), cache.host, engine.layout().devices,
          kvcache::whole_kv_bytes(engine, kv_bytes * cache.hbm_fraction),
          kvcache::block_bytes(engine, block_tokens), block_tokens, cache.use_dram, cache.use_ssd);
  }

  /// KV tokens the running sequences may hold.
  [[nodiscard]] double capacity_tokens() const noexcept { return capacity_tokens_; }
  /// KV tokens kept free when admitting.
  [[nodiscard]] double watermark_tokens() const noexcept { return watermark_tokens_; }
  /// KV tokens reserved now (prompts being prefilled, sent or received).
  [[nodiscard]] double reserved_tokens() const noexcept { return reserved_; }
  /// Whether holding `tokens` KV tokens in all leaves the watermark free.
  [[nodiscard]] bool admits(double tokens) const noexcept {
    return tokens + watermark_tokens_ <= capacity_tokens_;
  }
  /// Reserves `tokens` KV tokens.
  void reserve(std::int64_t tokens) noexcept { reserved_ += static_cast<double>(tokens); }
  /// Returns `tokens` reserved KV tokens.
  void release(std::int64_t tokens) noexcept { reserved_ -= static_cast<double>(tokens); }

  /// The prefix cache's tiers, or std::nullopt without a prefix cache.
  [[nodiscard]] const std::optional<kvcache::cache_config>& cache_tiers() const noexcept {
    return cache_tiers_;
  }

private:
  double capacity_tokens_ = 0.0;
  double watermark_tokens_ = 0.0;
  double reserved_ = 0.0;
  std::optional<kvcache::cache_config> cache_tiers_;
};

} // namespace infercost::serving::detail
