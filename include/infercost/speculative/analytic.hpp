/// @file
/// Closed-form expectations of speculative decoding under i.i.d. acceptance with rate α
/// (Leviathan, Kalman & Matias 2023, §3.1 and Theorem 3.8), the article's speedup formula for
/// comparison, and a seeded sampler of accepted tokens per step for serving simulations.
///
/// With γ draft tokens each kept with probability α independently until the first rejection,
/// the accepted count K is a geometric variable truncated at γ: P(K = k) = α^k (1 − α) for
/// k < γ, P(K = γ) = α^γ; a step emits N = K + 1 tokens and E[N] = (1 − α^(γ+1)) / (1 − α).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"

namespace infercost::speculative {

namespace detail {
inline void check_alpha_gamma(const char* component, double alpha, int gamma) {
  check_in_range(component, "alpha", alpha, 0.0, 1.0);
  if (gamma < 1)
    throw config_error(component, "gamma", fmt::format("({}) must be >= 1", gamma));
}
} // namespace detail

/// P(N = n) for n = 1 .. γ+1: the distribution of tokens one step emits.
/// @throws config_error if α is outside [0, 1] or γ < 1.
[[nodiscard]] inline std::vector<double> tokens_per_step_pmf(double alpha, int gamma) {
  detail::check_alpha_gamma("speculative::tokens_per_step_pmf", alpha, gamma);
  std::vector<double> pmf(static_cast<std::size_t>(gamma) + 1);
  double ak = 1.0; // α^k
  for (int k = 0; k < gamma; ++k) {
    pmf[static_cast<std::size_t>(k)] = ak * (1.0 - alpha);
    ak *= alpha;
  }
  pmf[static_cast<std::size_t>(gamma)] = ak;
  return pmf;
}

/// E[N] = (1 − α^(γ+1)) / (1 − α) tokens per step (γ + 1 when α = 1).
/// @throws config_error if α is outside [0, 1] or γ < 1.
[[nodiscard]] inline double expected_tokens_per_step(double alpha, int gamma) {
  detail::check_alpha_gamma("speculative::expected_tokens_per_step", alpha, gamma);
  if (alpha == 1.0)
    return gamma + 1.0;
  return (1.0 - std::pow(alpha, gamma + 1)) / (1.0 - alpha);
}

/// Var[N] of tokens per step, from the truncated-geometric pmf.
[[nodiscard]] inline double tokens_per_step_variance(double alpha, int gamma) {
  const std::vector<double> pmf = tokens_per_step_pmf(alpha, gamma);
  double m1 = 0.0, m2 = 0.0;
  for (std::size_t k = 0; k < pmf.size(); ++k) {
    const double n = static_cast<double>(k) + 1.0;
    m1 += n * pmf[k];
    m2 += n * n * pmf[k];
  }
  return m2 - m1 * m1;
}

/// The article's "acceptance rate" of a step: accepted / γ, averaged. Under i.i.d. acceptance
/// its mean is E[K] / γ = (E[N] − 1) / γ, which is not α.
[[nodiscard]] inline double article_acceptance_rate(double alpha, int gamma) {
  return (expected_tokens_per_step(alpha, gamma) - 1.0) / gamma;
}

/// The article's speedup formula, 1 / (1 − ᾱ + ᾱ/K), with ᾱ its mean accepted/K and K = γ.
/// It ignores the bonus token and the draft's cost; printed beside the correct one.
/// @throws config_error if ᾱ is outside [0, 1] or K < 1.
[[nodiscard]] inline double article_speedup(double mean_acceptance, int k) {
  detail::check_alpha_gamma("speculative::article_speedup", mean_acceptance, k);
  return 1.0 / (1.0 - mean_acceptance + mean_acceptance / k);
}

/// Walltime improvement factor of Leviathan et al. 2023, Theorem 3.8:
/// (1 − α^(γ+1)) / ((1 − α)(γ·c + 1)), with c = draft forward time / target forward time and a
/// verification pass that costs one target forward (the memory-bound limit). The device cost
/// face (cost.hpp) replaces both assumptions with measured step times.
/// @throws config_error on α outside [0, 1], γ < 1 or c < 0.
[[nodiscard]] inline double ideal_speedup(double alpha, int gamma, double cost_ratio) {
  check_non_negative("speculative::ideal_speedup", "cost_ratio", cost_ratio);
  return expected_tokens_per_step(alpha, gamma) / (gamma * cost_ratio + 1.0);
}

/// Samples how many draft tokens a step accepts, K in [0, γ], with the truncated-geometric law
/// of rate α (Walker alias table, O(1) per draw). Seeded through the caller's rng; the same seed
/// gives the same sequence. What a serving simulation calls per sequence per step.
class acceptance_model {
public:
  /// @throws config_error if α is outside [0, 1] or γ < 1.
  acceptance_model(double alpha, int gamma)
      : alpha_(alpha), gamma_(gamma), table_(tokens_per_step_pmf(alpha, gamma)) {}

  /// Accepted draft tokens of one step of one sequence.
  int sample_accepted(rng& g) const { return static_cast<int>(table_(g)); }
  /// Tokens one step of one sequence emits: accepted + 1.
  int sample_emitted(rng& g) const { return sample_accepted(g) + 1; }
  /// Tokens one step of `batch` sequences emits in total (one draw per sequence).
  std::int64_t sample_emitted(std::int64_t batch, rng& g) const {
    if (batch < 0)
      throw config_error("speculative::acceptance_model", "batch",
                         fmt::format("({}) must be >= 0", batch));
    std::int64_t total = 0;
    for (std::int64_t b = 0; b < batch; ++b)
      total += sample_emitted(g);
    return total;
  }
  [[nodiscard]] double alpha() const noexcept { return alpha_; }
  [[nodiscard]] int gamma() const noexcept { return gamma_; }
  /// E[N].
  [[nodiscard]] double expected_emitted() const { return expected_tokens_per_step(alpha_, gamma_); }

private:
  double alpha_;
  int gamma_;
  discrete_distribution table_;
};

} // namespace infercost::speculative
