/// @file
/// `attention::basic_attention<Device, Policy>`: one attention layer under a policy (full, csa,
/// sliding_window, topk_sparse) and its cost face: work for prefill, decode and batch steps, KV
/// footprint, device time, crossovers. Its numeric face, `attention::forward(layer, qkv)` on real
/// Q/K/V, is in attention/forward.hpp (Eigen), which a user includes when it is needed.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

#include "infercost/attention/cost.hpp"
#include "infercost/attention/policies.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::attention {

/// One attention layer of a given shape under `Policy`, costed on `Device`.
///
/// The shape and the policy's config are validated on construction. The cost face gives per-layer
/// work and the device's time for it; `attention::forward` (attention/forward.hpp) runs the policy
/// on real Q/K/V in the layer's head layout (MLA: absorbed, over the latent).
template <device_cost_model Device, attention_policy Policy> class basic_attention {

public:
  using device_type = Device;
  using policy_type = Policy;
  using config_type = typename Policy::config;

  /// @throws config_error for an invalid shape or config.
  explicit basic_attention(const attention_shape& shape, const config_type& config = {},
                           const Device& device = {})
      : shape_(shape), config_(config), device_(device) {
    shape_.validate();
    config_.validate(shape_);
  }

  /// The layer of a model (its attention shape at KV precision `kv`). @throws config_error.
  [[nodiscard]] static basic_attention from_model(const model::model_config& m,
                                                  const config_type& config = {},
                                                  precision kv = precision::bf16,
                                                  const Device& device = {}) {
    return basic_attention(attention_shape::from_model(m, kv), config, device);
  }

  [[nodiscard]] const attention_shape& shape() const noexcept { return shape_; }
  [[nodiscard]] const config_type& config() const noexcept { return config_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }
  /// The head layout the numeric forward runs with.
  [[nodiscard]] head_layout layout() const { return head_layout::of(shape_); }

  /// Work of one decode step at `context` cached tokens.
  [[nodiscard]] attention_work decode_work(std::int64_t context) const {
    return step_work(batch_totals{}.add_decode(context));
  }
  /// Work of a prefill chunk of `tokens` after `cached` tokens.
  [[nodiscard]] attention_work prefill_work(std::int64_t tokens, std::int64_t cached = 0) const {
    return step_work(batch_totals{}.add_prefill(tokens, cached));
  }
  /// Work of a batch step given by its sums (cost independent of the batch's size).
  [[nodiscard]] attention_work step_work(const batch_totals& t) const {
    return Policy::step_work(shape_, config_, t);
  }
  /// KV-cache bytes per token in this layer.
  [[nodiscard]] double kv_bytes_per_token() const {
    return Policy::kv_bytes_per_token(shape_, config_);
  }
  /// KV-cache bytes of one sequence of `context` tokens in this layer.
  [[nodiscard]] double kv_bytes_per_sequence(std::int64_t context) const {
    if (context < 0)
      throw config_error("attention::kv_bytes_per_sequence", "context",
                         fmt::format("({}) must be >= 0", context));
    return Policy::kept_tokens(config_, static_cast<double>(context)) * kv_bytes_per_token();
  }

  /// Device time of one decode step (typically memory-bound).
  [[nodiscard]] double decode_time_s(std::int64_t context) const {
    return device_.op_time_s(decode_work(context).to_op_work());
  }
  /// Device time of a prefill chunk (typically compute-bound).
  [[nodiscard]] double prefill_time_s(std::int64_t tokens, std::int64_t cached = 0) const {
    return device_.op_time_s(prefill_work(tokens, cached).to_op_work());
  }
  /// Device time of a batch step.
  [[nodiscard]] double step_time_s(const batch_totals& t) const {
    return device_.op_time_s(step_work(t).to_op_work());
  }

private:
  attention_shape shape_;
  config_type config_;
  Device device_;
};

/// Full attention on the default device.
using full_attention = basic_attention<default_device, full>;
/// CSA on the default device.
using csa_attention = basic_attention<default_device, csa>;
/// Sliding-window attention on the default device.
using sliding_window_attention = basic_attention<default_device, sliding_window>;
/// Top-k sparse attention on the default device.
using topk_attention = basic_attention<default_device, topk_sparse>;

namespace detail {
/// Smallest x in [0, max_x] with cheaper(x), assuming cheaper is false below some point and true
/// from it on; nullopt if cheaper(max_x) is false.
template <class F>
[[nodiscard]] std::optional<std::int64_t> first_true(std::int64_t max_x, F&& cheaper) {
  if (cheaper(std::int64_t{0}))
    return std::int64_t{0};
  if (!cheaper(max_x))
    return std::nullopt;
  std::int64_t lo = 0, hi = max_x; // cheaper(lo) false, cheaper(hi) true
  while (hi - lo > 1) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    (cheaper(mid) ? hi : lo) = mid;
  }
  return hi;
}
} // namespace detail

/// The smallest context (≤ max_context) at which a decode step of `a` is strictly faster than one
/// of `b` on their devices — where a sparse policy starts to pay for its overheads (indexer,
/// compression). Assumes one crossing; nullopt if `a` is not faster at max_context.
/// @throws config_error for a negative max_context.
template <class DA, class PA, class DB, class PB>
[[nodiscard]] std::optional<std::int64_t> decode_crossover_context(const basic_attention<DA, PA>& a,
                                                                   const basic_attention<DB, PB>& b,
                                                                   std::int64_t max_context) {
  if (max_context < 0)
    throw config_error("attention::decode_crossover_context", "max_context",
                       fmt::format("({}) must be >= 0", max_context));
  return detail::first_true(
      max_context, [&](std::int64_t c) { return a.decode_time_s(c) < b.decode_time_s(c); });
}

/// The smallest prompt length (≤ max_tokens, from an empty cache) at which prefill under `a` is
/// strictly faster than under `b`; nullopt if never. @throws config_error.
template <class DA, class PA, class DB, class PB>
[[nodiscard]] std::optional<std::int64_t> prefill_crossover_tokens(const basic_attention<DA, PA>& a,
                                                                   const basic_attention<DB, PB>& b,
                                                                   std::int64_t max_tokens) {
  if (max_tokens < 1)
    throw config_error("attention::prefill_crossover_tokens", "max_tokens",
                       fmt::format("({}) must be >= 1", max_tokens));
  return detail::first_true(max_tokens, [&](std::int64_t n) {
    return a.prefill_time_s(std::max<std::int64_t>(n, 1)) <
           b.prefill_time_s(std::max<std::int64_t>(n, 1));
  });
}

} // namespace infercost::attention
