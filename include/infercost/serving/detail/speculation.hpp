/// @file
/// The speculative draws of a serving instance (serving::basic_instance).
///
/// With speculation a decoding sequence's number of steps is drawn when it joins the decode batch,
/// from the speculative component's acceptance profile (`speculative::acceptance_profile`:
/// per-position acceptance, i.i.d. or measured by a decoder): the tokens of each step are drawn
/// until the r it has to go are reached (exact in distribution, O(r / E[N]) draws). Each sequence
/// draws from its own stream, forked from the instance's seed by request id and prefill pass, so a
/// preempted sequence replays its draws to know how many tokens it had emitted. Without
/// speculation a step emits one token.
#pragma once

#include <cstdint>
#include <optional>

#include "infercost/core/random.hpp"
#include "infercost/serving/instance_config.hpp"
#include "infercost/speculative/analytic.hpp"

namespace infercost::serving::detail {

/// Draft tokens per step and the per-sequence draws of emitted tokens (see the file comment).
class speculation {
public:
  /// No speculation.
  speculation() = default;
  /// `spec`'s speculation when `enabled` (an instance that decodes), none otherwise; `seed` seeds
  /// the draws. @throws config_error for an invalid acceptance profile.
  speculation(const speculative_config& spec, bool enabled, std::uint64_t seed)
      : base_(seed), gamma_(enabled ? spec.gamma : 0) {
    if (gamma_ > 0) {
      acceptance_.emplace(spec.profile());
      expected_emitted_ = acceptance_->expected_emitted();
    }
  }

  /// Draft tokens verified per decoding sequence per step, γ (0: no speculation).
  [[nodiscard]] int gamma() const noexcept { return gamma_; }
  /// Expected tokens a decoding sequence emits per step, E[N] (1 without speculation).
  [[nodiscard]] double expected_emitted() const noexcept { return expected_emitted_; }

  /// Decode steps request `id` needs in prefill pass `pass` to emit `r` more tokens.
  [[nodiscard]] std::int64_t steps_to_emit(std::int64_t id, std::uint32_t pass,
                                           std::int64_t r) const {
    if (!acceptance_)
      return r;
    rng g = stream(id, pass);
    std::int64_t emitted = 0, steps = 0;
    while (emitted < r) {
      emitted += acceptance_->sample_emitted(g);
      ++steps;
    }
    return steps;
  }
  /// Tokens request `id` emitted in its first `m` decode steps of prefill pass `pass` (replays
  /// its draws).
  [[nodiscard]] std::int64_t emitted_in(std::int64_t id, std::uint32_t pass, std::int64_t m) const {
    if (!acceptance_)
      return m;
    rng g = stream(id, pass);
    std::int64_t emitted = 0;
    for (std::int64_t i = 0; i < m; ++i)
      emitted += acceptance_->sample_emitted(g);
    return emitted;
  }

private:
  [[nodiscard]] rng stream(std::int64_t id, std::uint32_t pass) const noexcept {
    return base_.fork(static_cast<std::uint64_t>(id)).fork(pass);
  }

  rng base_{0};
  int gamma_ = 0;
  std::optional<speculative::acceptance_model> acceptance_;
  double expected_emitted_ = 1.0;
};

} // namespace infercost::serving::detail
