/// @file
/// The numbers of a serving instance (serving::basic_instance): its continuous-batching
/// scheduler, its tiered prefix cache and its speculative decoding, each with a validate() that
/// names the first bad field.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "infercost/core/error.hpp"
#include "infercost/kvcache/tiers.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/speculative/analytic.hpp"

namespace infercost::serving {

/// Numbers of a continuous-batching scheduler.
struct scheduler_config {
  /// Token budget of one step per attention group (decode tokens + prefill chunk tokens; an
  /// instance with data-parallel attention groups batches each group's). Sarathi-Serve's chunk size
  /// for strict TPOT is 512–2048 (Agrawal et al. OSDI'24 §5); vLLM's chunked-prefill default
  /// max_num_batched_tokens is 2048.
  std::int64_t max_batched_tokens = 2048;
  /// Running sequences per attention group (vLLM's max_num_seqs default is 256).
  int max_sequences_per_group = 256;
  /// Share of each device's memory kept for activations (engine::kv_capacity_bytes).
  double activation_reserve = 0.10;
  /// Share of KV capacity kept free when admitting (vLLM's watermark default is 0.01).
  double admission_watermark = 0.01;
  /// Waiting requests at which an instance rejects arrivals; 0: unbounded.
  std::int64_t max_queue = 0;

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "serving::scheduler_config";
    check_positive(c, "max_batched_tokens", max_batched_tokens);
    check_positive(c, "max_sequences_per_group", max_sequences_per_group);
    check_in_range(c, "activation_reserve", activation_reserve, 0.0, 0.9);
    check_in_range(c, "admission_watermark", admission_watermark, 0.0, 0.5);
    check_non_negative(c, "max_queue", max_queue);
  }
};

/// A tiered prefix cache on an instance (kvcache::basic_tiered_cache): HBM share, host DRAM and
/// NVMe of the instance's node, split evenly over the node's devices.
struct prefix_cache_config {
  bool enabled = false;
  /// Share of the instance's KV HBM given to cached prefixes; running sequences get the rest.
  double hbm_fraction = 0.2;
  kvcache::host_config host{}; ///< DRAM and drives of a node (default: DGX H100)
  bool use_dram = true;        ///< a DRAM tier
  bool use_ssd = true;         ///< an SSD tier

  /// @throws config_error naming the first bad field.
  void validate() const {
    check_in_range("serving::prefix_cache_config", "hbm_fraction", hbm_fraction, 0.0, 0.9);
    host.validate();
  }
};

/// Speculative decoding in decode steps.
struct speculative_config {
  int gamma = 0;      ///< draft tokens verified per sequence per step; 0: no speculation
  double alpha = 0.8; ///< per-token acceptance rate of the i.i.d. acceptance model
  /// Per-position acceptance (speculative::acceptance_profile::rates, e.g. a decoder's measured
  /// profile or an MTP module's by depth), one rate per draft token; empty: i.i.d. `alpha`.
  std::vector<double> acceptance{};
  /// A separate draft model (its γ forwards add to the step); without one the layout must draft
  /// with the model's MTP module (engine::parallel_layout::mtp_draft).
  std::optional<model::model_config> draft{};

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "serving::speculative_config";
    check_non_negative(c, "gamma", gamma);
    check_in_range(c, "alpha", alpha, 0.0, 1.0);
    if (!acceptance.empty() && static_cast<int>(acceptance.size()) != gamma)
      throw config_error(c, "acceptance",
                         fmt::format("(size {}) must hold one rate per draft token (gamma {})",
                                     acceptance.size(), gamma));
    if (draft)
      draft->validate();
  }
  /// The acceptance profile of the `gamma` draft tokens. @throws config_error if gamma < 1.
  [[nodiscard]] speculative::acceptance_profile profile() const {
    if (acceptance.empty())
      return speculative::acceptance_profile(alpha, gamma);
    return speculative::acceptance_profile(acceptance);
  }
};

} // namespace infercost::serving
