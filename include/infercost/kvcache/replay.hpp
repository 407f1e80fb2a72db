/// @file
/// Replays a request trace through a tiered cache: per request, look up the cached prefix of its
/// blocks, price loading the hits and recomputing the misses, insert its blocks, and keep the
/// last `running_requests` requests' blocks pinned (they are still decoding).
///
/// Prefill of the misses: one prefill step of the miss tokens after the hit tokens, timed by the
/// step-cost engine (engine/step_cost.hpp, the library's one forward-pass model) on the cache's
/// devices, tensor-parallel (replay_layout). Time spent on hits is the cache's load time (NVMe
/// read, then host link).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "infercost/device/work.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/io/workload_types.hpp"
#include "infercost/kvcache/tiered_cache.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::kvcache {

/// What a replay prices with.
struct replay_config {
  model::model_config model;                    ///< model whose prefill a miss costs
  precision kv_precision = precision::bf16;     ///< KV-cache storage
  precision compute_precision = precision::fp8; ///< prefill matrix precision (and weights)
  int running_requests = 0;                     ///< most recent requests whose blocks stay pinned

  /// @throws config_error naming the first bad field.
  void validate() const {
    model.validate();
    check_non_negative("kvcache::replay", "running_requests", running_requests);
  }
};

/// Totals of a replay.
struct replay_report {
  std::int64_t requests = 0;
  std::int64_t input_blocks = 0;                    ///< blocks looked up
  std::int64_t input_tokens = 0;                    ///< prompt tokens
  std::array<std::int64_t, num_tiers> hit_blocks{}; ///< by the tier each hit was found in
  std::array<std::int64_t, num_tiers> hit_tokens{}; ///< tokens of those blocks (last one partial)
  std::int64_t miss_blocks = 0;
  std::int64_t miss_tokens = 0;
  double load_time_s = 0.0;      ///< loading DRAM/SSD hits into HBM
  double recompute_time_s = 0.0; ///< prefill of the missed tokens after the cached prefix
  double no_cache_time_s = 0.0;  ///< prefill of every prompt from scratch
  cache_stats cache;             ///< the cache's totals at the end (bytes per link, drops)

  [[nodiscard]] std::int64_t hits() const noexcept {
    return hit_blocks[0] + hit_blocks[1] + hit_blocks[2];
  }
  /// Share of looked-up blocks that hit in any tier.
  [[nodiscard]] double block_hit_rate() const noexcept {
    return input_blocks > 0 ? static_cast<double>(hits()) / static_cast<double>(input_blocks) : 0.0;
  }
  /// Share of looked-up blocks that hit in tier t.
  [[nodiscard]] double block_hit_rate(tier t) const noexcept {
    return input_blocks > 0 ? static_cast<double>(hit_blocks[static_cast<int>(t)]) /
                                  static_cast<double>(input_blocks)
                            : 0.0;
  }
  /// Share of prompt tokens served from the cache.
  [[nodiscard]] double token_hit_rate() const noexcept {
    const std::int64_t h = hit_tokens[0] + hit_tokens[1] + hit_tokens[2];
    return input_tokens > 0 ? static_cast<double>(h) / static_cast<double>(input_tokens) : 0.0;
  }
};

/// The layout a replay prices its prefills on: `devices` devices tensor-parallel (experts split
/// the same way), weights at `compute_precision`, attention in BF16, KV at `kv_precision`.
[[nodiscard]] inline engine::parallel_layout replay_layout(int devices, precision kv_precision,
                                                           precision compute_precision) {
  return {.devices = devices,
          .tp = devices,
          .weight_prec = compute_precision,
          .attention_prec = precision::bf16,
          .kv_prec = kv_precision};
}

/// Time of a prefill of `tokens` new tokens after `cached` cached ones on `engine` (0 for none).
template <class Engine>
[[nodiscard]] double prefill_time_s(const Engine& engine, std::int64_t tokens,
                                    std::int64_t cached) {
  if (tokens <= 0)
    return 0.0;
  return engine(engine::step_batch{}.add_prefill(tokens, cached)).total_s;
}

/// Time on `dev` of a prefill of `tokens` new tokens after `cached` cached ones, on `devices`
/// devices (replay_layout), by the step-cost engine. @throws config_error for negative counts, an
/// invalid model or a layout that does not fit it.
template <device_cost_model Device>
[[nodiscard]] double prefill_time_s(const Device& dev, const model::model_config& m,
                                    std::int64_t tokens, std::int64_t cached, int devices,
                                    precision kv_precision, precision compute_precision) {
  const engine::basic_step_cost<Device> e(
      m, replay_layout(devices, kv_precision, compute_precision), {}, dev);
  return prefill_time_s(e, tokens, cached);
}

/// Replays `trace` (requests with prefix-block hashes, e.g. a Mooncake trace read as a workload)
/// through `cache`, continuing from its current state. Requests without hashes look up nothing
/// and count as all-miss.
/// @throws config_error if `cfg` is invalid.
template <class Device, class Eviction>
[[nodiscard]] replay_report replay(basic_tiered_cache<Device, Eviction>& cache,
                                   std::span<const io::workload_request> trace,
                                   const replay_config& cfg) {
  cfg.validate();
  replay_report r;
  const std::int64_t bt = cache.config().block_tokens;
  const engine::basic_step_cost<Device> prefill(
      cfg.model, replay_layout(cache.config().devices, cfg.kv_precision, cfg.compute_precision), {},
      cache.device());
  std::deque<std::span<const block_id>> running;
  for (const io::workload_request& q : trace) {
    const std::span<const block_id> blocks(q.block_hashes);
    const lookup_result l = cache.lookup(blocks);
    std::int64_t remaining = q.input_tokens;
    for (int t = 0; t < num_tiers; ++t) {
      r.hit_blocks[t] += l.hit_blocks[t];
      // Leading blocks are full; only the prompt's last block can be short.
      const std::int64_t tok = std::min(remaining, l.hit_blocks[t] * bt);
      r.hit_tokens[t] += tok;
      remaining -= tok;
    }
    const std::int64_t hit_tok = q.input_tokens - remaining;
    r.miss_blocks += l.miss_blocks;
    r.miss_tokens += remaining;
    r.input_blocks += static_cast<std::int64_t>(blocks.size());
    r.input_tokens += q.input_tokens;
    r.load_time_s += l.load_time_s;
    r.recompute_time_s += prefill_time_s(prefill, remaining, hit_tok);
    r.no_cache_time_s += prefill_time_s(prefill, q.input_tokens, 0);
    (void)cache.insert(blocks);
    ++r.requests;
    if (cfg.running_requests > 0) {
      const std::span<const block_id> held =
          blocks.first(static_cast<std::size_t>(cache.match(blocks)));
      cache.pin(held);
      running.push_back(held);
      if (static_cast<int>(running.size()) > cfg.running_requests) {
        cache.unpin(running.front());
        running.pop_front();
      }
    }
  }
  for (const auto& held : running)
    cache.unpin(held);
  r.cache = cache.stats();
  return r;
}

} // namespace infercost::kvcache
