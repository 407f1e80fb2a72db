/// @file
/// Closed-form expectations of speculative decoding under i.i.d. acceptance with rate α
/// (Leviathan, Kalman & Matias 2023, §3.1 and Theorem 3.8), the article's speedup formula for
/// comparison, and a seeded sampler of accepted tokens per step for serving simulations.
///
/// With γ draft tokens each kept with probability α independently until the first rejection,
/// the accepted count K is a geometric variable truncated at γ: P(K = k) = α^k (1 − α) for
/// k < γ, P(K = γ) = α^γ; a step emits N = K + 1 tokens and E[N] = (1 − α^(γ+1)) / (1 − α).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>
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

/// E[N] = (1 − α^(γ+1)) / (1 − α) tokens per step (γ + 1 when α = 1).
/// @throws config_error if α is outside [0, 1] or γ < 1.
[[nodiscard]] inline double expected_tokens_per_step(double alpha, int gamma) {
  detail::check_alpha_gamma("speculative::expected_tokens_per_step", alpha, gamma);
  if (alpha == 1.0)
    return gamma + 1.0;
  return (1.0 - std::pow(alpha, gamma + 1)) / (1.0 - alpha);
}

/// Per-position acceptance: rates[i] is the probability that draft token i + 1 is accepted given
/// that the i before it were. The i.i.d. law of rate α over γ tokens is {α, …, α}; an MTP module
/// drafting several tokens, or a draft model measured by basic_decoder (decode_stats::
/// acceptance_profile), gives rates that fall with depth. This is the interface between the
/// speculative component and the serving simulator, which draws each sequence's tokens per step
/// from it.
class acceptance_profile {
public:
  /// i.i.d. acceptance α for γ draft tokens. @throws config_error if α is outside [0, 1] or γ < 1.
  acceptance_profile(double alpha, int gamma) {
    detail::check_alpha_gamma("speculative::acceptance_profile", alpha, gamma);
    rates_.assign(static_cast<std::size_t>(gamma), alpha);
  }
  /// Per-position rates, one per draft token. @throws config_error if there is none or one is
  /// outside [0, 1].
  explicit acceptance_profile(std::vector<double> rates) : rates_(std::move(rates)) {
    constexpr std::string_view c = "speculative::acceptance_profile";
    if (rates_.empty())
      throw config_error(c, "rates", "(empty) must hold one rate per draft token");
    for (std::size_t i = 0; i < rates_.size(); ++i)
      check_in_range(c, fmt::format("rates[{}]", i), rates_[i], 0.0, 1.0);
  }

  /// Draft tokens per step, γ.
  [[nodiscard]] int gamma() const noexcept { return static_cast<int>(rates_.size()); }
  [[nodiscard]] const std::vector<double>& rates() const noexcept { return rates_; }
  /// True when every position has the same rate (the i.i.d. law).
  [[nodiscard]] bool iid() const noexcept {
    return std::all_of(rates_.begin(), rates_.end(), [&](double a) { return a == rates_[0]; });
  }

  /// P(N = n) for n = 1 .. γ+1: P(K = k) = Π_{i<k} rates[i] · (1 − rates[k]), P(K = γ) = Π rates.
  [[nodiscard]] std::vector<double> emitted_pmf() const {
    std::vector<double> pmf(rates_.size() + 1);
    double reach = 1.0; // probability that the first k drafts were all accepted
    for (std::size_t k = 0; k < rates_.size(); ++k) {
      pmf[k] = reach * (1.0 - rates_[k]);
      reach *= rates_[k];
    }
    pmf[rates_.size()] = reach;
    return pmf;
  }
  /// E[N] = Σ_{k=0}^{γ} Π_{i<k} rates[i]; for the i.i.d. law (1 − α^(γ+1)) / (1 − α).
  [[nodiscard]] double expected_emitted() const {
    if (iid())
      return expected_tokens_per_step(rates_[0], gamma());
    double e = 0.0, reach = 1.0;
    for (double a : rates_) {
      e += reach;
      reach *= a;
    }
    return e + reach;
  }

private:
  std::vector<double> rates_;
};

/// P(N = n) for n = 1 .. γ+1: the distribution of tokens one step emits.
/// @throws config_error if α is outside [0, 1] or γ < 1.
[[nodiscard]] inline std::vector<double> tokens_per_step_pmf(double alpha, int gamma) {
  detail::check_alpha_gamma("speculative::tokens_per_step_pmf", alpha, gamma);
  return acceptance_profile(alpha, gamma).emitted_pmf();
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

/// Samples how many draft tokens a step accepts, K in [0, γ], from an acceptance profile
/// (Walker alias table, O(1) per draw). Seeded through the caller's rng; the same seed gives the
/// same sequence. What a serving simulation calls per sequence per step.
class acceptance_model {
public:
  /// i.i.d. acceptance: the truncated-geometric law of rate α. @throws config_error if α is
  /// outside [0, 1] or γ < 1.
  acceptance_model(double alpha, int gamma) : acceptance_model(acceptance_profile(alpha, gamma)) {}
  /// Any per-position profile.
  explicit acceptance_model(acceptance_profile profile)
      : profile_(std::move(profile)), table_(profile_.emitted_pmf()) {}

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
  [[nodiscard]] const acceptance_profile& profile() const noexcept { return profile_; }
  /// The first position's rate (the i.i.d. α).
  [[nodiscard]] double alpha() const noexcept { return profile_.rates().front(); }
  [[nodiscard]] int gamma() const noexcept { return profile_.gamma(); }
  /// E[N].
  [[nodiscard]] double expected_emitted() const { return profile_.expected_emitted(); }

private:
  acceptance_profile profile_;
  discrete_distribution table_;
};

} // namespace infercost::speculative
