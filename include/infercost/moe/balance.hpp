/// @file
/// Load balance of an MoE layer: the balance losses, load statistics, skewed expert popularity,
/// inclusion probabilities and how many distinct experts a batch touches (a seeded skewed
/// token stream, which needs Eigen, is moe::skewed_logits in moe/router.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/moe/policies.hpp"

namespace infercost::moe {

namespace detail {
inline double sum_of(std::span<const double> x) { return std::accumulate(x.begin(), x.end(), 0.0); }
inline void check_loads(std::string_view c, std::span<const double> load) {
  if (load.empty())
    throw config_error(c, "load", "(empty) must be non-empty");
  for (double x : load)
    check_non_negative(c, "load[i]", x);
}
} // namespace detail

/// Switch Transformer auxiliary loss (Fedus et al. 2022, eq. 4): E · Σ_i f_i · P_i, with f_i the
/// fraction of assignments routed to expert i (demand / (tokens · top_k)) and P_i the mean
/// normalised affinity. It is 1 when both are uniform. @throws config_error on an empty routing.
[[nodiscard]] inline double switch_aux_loss(const routing& r) {
  if (r.tokens <= 0)
    throw config_error("moe::switch_aux_loss", "tokens", "(0) must be > 0");
  const double n = static_cast<double>(r.tokens) * r.top_k;
  double s = 0.0;
  for (int i = 0; i < r.num_experts; ++i)
    s += static_cast<double>(r.demand[static_cast<std::size_t>(i)]) / n *
         r.mean_affinity[static_cast<std::size_t>(i)];
  return r.num_experts * s;
}

/// The article's variance form, verbatim: E · var(load / (total_routes + 1e-10)) (population
/// variance). In the article total_routes is never incremented, so its loss is always 0; with
/// total_routes = Σ load it is E · var(f).
[[nodiscard]] inline double article_variance_loss(std::span<const double> load,
                                                  double total_routes) {
  detail::check_loads("moe::article_variance_loss", load);
  const double n = static_cast<double>(load.size());
  if (total_routes == 0.0)
    return 0.0; // the article's early return
  double mean = 0.0, var = 0.0;
  for (double x : load)
    mean += x / (total_routes + 1e-10);
  mean /= n;
  for (double x : load) {
    const double d = x / (total_routes + 1e-10) - mean;
    var += d * d;
  }
  const double variance = var / n;
  return variance * n;
}

/// The article's KL form, verbatim: E · Σ_i f_i · log(f_i / (1/E) + 1e-10) with f_i = load_i /
/// (total_routes + 1e-10). With total_routes = tokens (not tokens · top_k) the f_i sum to top_k,
/// and the result is not a divergence; see kl_to_uniform for the correct quantity.
[[nodiscard]] inline double article_kl_loss(std::span<const double> load, double total_routes) {
  detail::check_loads("moe::article_kl_loss", load);
  const double n = static_cast<double>(load.size());
  double s = 0.0;
  for (double x : load) {
    const double f = x / (total_routes + 1e-10);
    s += f * std::log(f * n + 1e-10);
  }
  return s * n;
}

/// KL(f ‖ uniform) = Σ f_i log(E f_i) in nats, f = load / Σ load (0 log 0 = 0). 0 when balanced,
/// log E when one expert takes everything. @throws config_error if Σ load = 0.
[[nodiscard]] inline double kl_to_uniform(std::span<const double> load) {
  detail::check_loads("moe::kl_to_uniform", load);
  const double total = detail::sum_of(load), n = static_cast<double>(load.size());
  check_positive("moe::kl_to_uniform", "sum(load)", total);
  double s = 0.0;
  for (double x : load)
    if (x > 0.0)
      s += x / total * std::log(n * x / total);
  return s;
}

/// Coefficient of variation of the loads: population standard deviation over mean.
[[nodiscard]] inline double load_cv(std::span<const double> load) {
  detail::check_loads("moe::load_cv", load);
  const double n = static_cast<double>(load.size()), mean = detail::sum_of(load) / n;
  check_positive("moe::load_cv", "mean(load)", mean);
  double var = 0.0;
  for (double x : load)
    var += (x - mean) * (x - mean);
  return std::sqrt(var / n) / mean;
}

/// Max over mean load (1 = balanced; E when one expert takes everything).
[[nodiscard]] inline double max_over_mean(std::span<const double> load) {
  detail::check_loads("moe::max_over_mean", load);
  const double mean = detail::sum_of(load) / static_cast<double>(load.size());
  check_positive("moe::max_over_mean", "mean(load)", mean);
  return *std::max_element(load.begin(), load.end()) / mean;
}

/// Expert popularity ~ Zipf(s) over `num_experts`, ranks assigned to experts by a seeded shuffle
/// (so the hottest expert is not always expert 0). Sums to 1; s = 0 is uniform.
[[nodiscard]] inline std::vector<double> zipf_popularity(int num_experts, double s,
                                                         std::uint64_t seed) {
  check_positive("moe::zipf_popularity", "num_experts", num_experts);
  const std::vector<double> w = zipf_weights(static_cast<std::size_t>(num_experts), s);
  std::vector<int> perm(static_cast<std::size_t>(num_experts));
  std::iota(perm.begin(), perm.end(), 0);
  rng g(seed);
  shuffle(perm.begin(), perm.end(), g);
  std::vector<double> p(w.size());
  for (std::size_t r = 0; r < w.size(); ++r)
    p[static_cast<std::size_t>(perm[r])] = w[r];
  return p;
}

/// Probability π_i that a token's k experts include expert i when they are drawn without
/// replacement with probabilities ∝ p. Gumbel-top-k picks the k experts whose exponential
/// clocks (rate p_i) ring first; π_i ≈ P(clock_i < τ) = 1 − exp(−p_i τ) with τ chosen so that
/// Σ π_i = k (a fixed-clock approximation, exact for uniform p and accurate when no p_i
/// dominates). @throws config_error if k exceeds the experts with p > 0.
[[nodiscard]] inline std::vector<double> inclusion_probabilities(std::span<const double> p,
                                                                 int top_k) {
  constexpr std::string_view c = "moe::inclusion_probabilities";
  detail::check_loads(c, p);
  check_positive(c, "top_k", top_k);
  const double total = detail::sum_of(p);
  check_positive(c, "sum(popularity)", total);
  const auto positive = std::count_if(p.begin(), p.end(), [](double x) { return x > 0.0; });
  check_at_most(c, "top_k", static_cast<std::int64_t>(top_k), "experts with popularity > 0",
                static_cast<std::int64_t>(positive));
  std::vector<double> pi(p.size());
  if (top_k == positive) {
    for (std::size_t i = 0; i < p.size(); ++i)
      pi[i] = p[i] > 0.0 ? 1.0 : 0.0;
    return pi;
  }
  auto mass = [&](double tau) {
    double s = 0.0;
    for (double x : p)
      s += -std::expm1(-x / total * tau);
    return s;
  };
  double lo = 0.0, hi = 1.0;
  while (mass(hi) < top_k)
    hi *= 2.0;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    (mass(mid) < top_k ? lo : hi) = mid;
  }
  for (std::size_t i = 0; i < p.size(); ++i)
    pi[i] = -std::expm1(-p[i] / total * 0.5 * (lo + hi));
  return pi;
}

/// Expected number of distinct experts a batch of `batch` independent tokens touches, each token
/// including expert i with probability π_i: Σ_i 1 − (1 − π_i)^batch. This is how many experts'
/// weights a decode step must read.
[[nodiscard]] inline double expected_distinct_experts(std::span<const double> inclusion,
                                                      double batch) {
  check_non_negative("moe::expected_distinct_experts", "batch", batch);
  double s = 0.0;
  for (double pi : inclusion) {
    check_in_range("moe::expected_distinct_experts", "inclusion[i]", pi, 0.0, 1.0);
    s += pi >= 1.0 ? (batch > 0.0 ? 1.0 : 0.0) : -std::expm1(batch * std::log1p(-pi));
  }
  return s;
}

/// Uniform routing: E · (1 − (1 − k/E)^B).
[[nodiscard]] inline double expected_distinct_experts_uniform(int num_experts, int top_k,
                                                              double batch) {
  check_positive("moe::expected_distinct_experts_uniform", "num_experts", num_experts);
  check_positive("moe::expected_distinct_experts_uniform", "top_k", top_k);
  check_at_most("moe::expected_distinct_experts_uniform", "top_k", top_k, "num_experts",
                num_experts);
  check_non_negative("moe::expected_distinct_experts_uniform", "batch", batch);
  const double e = num_experts;
  return e * (1.0 - std::pow(1.0 - top_k / e, batch));
}

} // namespace infercost::moe
