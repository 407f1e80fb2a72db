/// @file
/// Load balance of an MoE layer: the balance losses, load statistics, skewed expert popularity,
/// inclusion probabilities and how many distinct experts a batch touches (a seeded skewed
/// token stream, which needs Eigen, is moe::skewed_logits in moe/router.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

namespace detail {
/// Σ_i 1 − (1 − q_i)^T for probabilities q_i in [0, 1], evaluated for many T (the expected
/// number of items touched at least once by T independent tokens, each touching item i with
/// probability q_i). Built once: log(1 − q_i) per distinct q_i, ascending, with its count, so
/// an evaluation costs one exp or expm1 per distinct probability that is not saturated. A term with
/// T·log(1 − q) <= −40 is 1 to the last bit (e^−40 ≈ 4.2e−18 is below half an ulp of 1,
/// 5.6e−17), so those are counted, not computed. Results equal the direct sum to rounding.
class touch_sum {
public:
  touch_sum() = default;
  /// The sum over `q` (each in [0, 1]; checked by the caller).
  explicit touch_sum(std::span<const double> q) {
    std::vector<double> l(q.size());
    for (std::size_t i = 0; i < q.size(); ++i)
      l[i] = q[i] >= 1.0 ? -std::numeric_limits<double>::infinity() : std::log1p(-q[i]);
    std::sort(l.begin(), l.end());
    for (double x : l) {
      if (log_.empty() || log_.back() != x) {
        log_.push_back(x);
        count_.push_back(0.0);
      }
      count_.back() += 1.0;
    }
    saturated_.assign(log_.size() + 1, 0.0);
    for (std::size_t g = 0; g < log_.size(); ++g)
      saturated_[g + 1] = saturated_[g] + count_[g];
  }
  /// The sum for `tokens` >= 0 tokens.
  [[nodiscard]] double operator()(double tokens) const noexcept {
    if (!(tokens > 0.0))
      return 0.0;
    auto index = [&](double x) {
      return static_cast<std::size_t>(std::lower_bound(log_.begin(), log_.end(), x / tokens) -
                                      log_.begin());
    };
    // Saturated terms below −40; 1 − exp(x) for x in [−40, −1/2), where exp(x) <= 0.61 leaves
    // no cancellation (relative error <= 1.6 ulp); expm1 above, where it matters.
    const std::size_t first = index(-40.0), near = index(-0.5);
    double s = saturated_[first];
    for (std::size_t g = first; g < near; ++g)
      s += count_[g] * (1.0 - std::exp(tokens * log_[g]));
    for (std::size_t g = near; g < log_.size(); ++g)
      s -= count_[g] * std::expm1(tokens * log_[g]);
    return s;
  }
  /// Distinct probabilities.
  [[nodiscard]] std::size_t size() const noexcept { return log_.size(); }

private:
  std::vector<double> log_;       ///< log(1 − q) per distinct q, ascending (−inf for q = 1)
  std::vector<double> count_;     ///< items with that q
  std::vector<double> saturated_; ///< saturated_[g]: items in groups before g
};

/// log(n!) − (n + 1/2)·log n + n − log √(2π), the error of Stirling's formula, for an integer
/// n >= 1: exact factorials up to 15, above that the Stirling series to the 1/n⁹ term (Loader,
/// "Fast and accurate computation of binomial probabilities", 2000; R's stirlerr).
inline double stirling_error(double n) noexcept {
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  constexpr double log_sqrt_2pi = 0.918938533204672741780329736406; // log √(2π)
  if (n <= 15.0) {
    double f = 1.0;
    for (double i = 2.0; i <= n; i += 1.0)
      f *= i; // 15! < 2^53: exact
    return std::log(f) - (n + 0.5) * std::log(n) + n - log_sqrt_2pi;
  }
  const double nn = n * n;
  if (n > 500.0)
    return (s0 - s1 / nn) / n;
  if (n > 80.0)
    return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35.0)
    return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/// x·log(x / m) + m − x without cancellation when x is near m (Loader 2000; R's bd0).
inline double deviance_term(double x, double m) noexcept {
  if (std::abs(x - m) < 0.1 * (x + m)) {
    double v = (x - m) / (x + m);
    double s = (x - m) * v, e = 2.0 * x * v;
    v *= v;
    for (int j = 1; j < 1000; ++j) {
      e *= v;
      const double next = s + e / (2 * j + 1);
      if (next == s)
        return next;
      s = next;
    }
  }
  return x * std::log(x / m) + m - x;
}

/// P(X = x) for X ~ Binomial(n, p), 0 <= x <= n, 0 < p < 1, by Loader's saddle-point form
/// (relative error near 1e−15 at any n, where the log-factorial form loses digits to
/// cancellation).
inline double binomial_pmf(double x, double n, double p) noexcept {
  const double q = 1.0 - p;
  if (x == 0.0)
    return std::exp(p < 0.1 ? -deviance_term(n, n * q) - n * p : n * std::log(q));
  if (x == n)
    return std::exp(q < 0.1 ? -deviance_term(n, n * p) - n * q : n * std::log(p));
  const double lc = stirling_error(n) - stirling_error(x) - stirling_error(n - x) -
                    deviance_term(x, n * p) - deviance_term(n - x, n * q);
  constexpr double log_2pi = 1.837877066409345483560659472811; // log 2π
  return std::exp(lc - 0.5 * (log_2pi + std::log(x) + std::log1p(-x / n)));
}
} // namespace detail

/// Expected number of distinct experts a batch of `batch` independent tokens touches, each token
/// including expert i with probability π_i: Σ_i 1 − (1 − π_i)^batch. This is how many experts'
/// weights a decode step must read.
[[nodiscard]] inline double expected_distinct_experts(std::span<const double> inclusion,
                                                      double batch) {
  check_non_negative("moe::expected_distinct_experts", "batch", batch);
  for (double pi : inclusion)
    check_in_range("moe::expected_distinct_experts", "inclusion[i]", pi, 0.0, 1.0);
  return detail::touch_sum(inclusion)(batch);
}

namespace detail {
/// Expected processed and dropped assignments of one expert (see expected_processed).
struct capped_load {
  double processed = 0.0;
  double dropped = 0.0;
};

/// E[min(X, c)] and E[(X − c)⁺] for X ~ Binomial(n, p), each summed where it is the small part,
/// so neither loses digits to a subtraction of near-equal numbers. c = −1: no limit. Arguments
/// checked by the caller: n >= 0, p in [0, 1], c >= −1.
inline capped_load binomial_capped(std::int64_t n_tokens, double p, std::int64_t c) noexcept {
  const double n = static_cast<double>(n_tokens), mean = n * p;
  if (c < 0 || c >= n_tokens || p == 0.0)
    return {mean, 0.0};
  const auto cap = static_cast<double>(c);
  if (c == 0 || p == 1.0)
    return {cap, mean - cap};
  const double odds = p / (1.0 - p);
  double s = 0.0;
  if (cap >= std::floor((n + 1.0) * p)) { // at or above the mode: dropped = Σ_{x>c} (x − c)·P(x)
    double px = binomial_pmf(cap + 1.0, n, p);
    for (double x = cap + 1.0; x <= n; x += 1.0) {
      const double t = (x - cap) * px;
      s += t;
      if (t <= 1e-17 * s)
        break;
      px *= (n - x) / (x + 1.0) * odds;
    }
    return {mean - s, s};
  }
  double px = binomial_pmf(cap - 1.0, n, p); // below it: processed = c − Σ_{x<c} (c − x)·P(x)
  for (double x = cap - 1.0; x >= 0.0; x -= 1.0) {
    const double t = (cap - x) * px;
    s += t;
    if (t <= 1e-17 * s)
      break;
    px *= x / (n - x + 1.0) / odds;
  }
  return {cap - s, mean - cap + s};
}

inline void check_capped(std::string_view c, std::int64_t tokens, double inclusion,
                         std::int64_t capacity) {
  check_non_negative(c, "tokens", tokens);
  check_in_range(c, "inclusion", inclusion, 0.0, 1.0);
  if (capacity < -1)
    throw config_error(c, "capacity", fmt::format("({}) must be >= -1", capacity));
}
} // namespace detail

/// Expected assignments an expert processes in a batch of `tokens` tokens when each token
/// includes it with probability `inclusion` and it processes at most `capacity` of them (-1:
/// no limit): E[min(X, capacity)] with X ~ Binomial(tokens, inclusion), as the router caps each
/// expert's demand. An exact sum: when the capacity is at or above the mode, over the tail beyond
/// it ((x − c)·P(X = x), x > c, the expected dropped assignments, subtracted from the mean);
/// below the mode, over the values under it ((c − x)·P(X = x), x < c, subtracted from c); each
/// from the capacity outwards until a term falls below 1e−17 of the sum (the terms are
/// unimodal, so that point is past their peak). Costs a few standard deviations of terms when
/// the capacity is near the mean, one term when it is far from it.
/// @throws config_error if tokens < 0, inclusion is outside [0, 1] or capacity < −1.
[[nodiscard]] inline double expected_processed(std::int64_t tokens, double inclusion,
                                               std::int64_t capacity) {
  detail::check_capped("moe::expected_processed", tokens, inclusion, capacity);
  return detail::binomial_capped(tokens, inclusion, capacity).processed;
}

/// Expected assignments of the same expert dropped over capacity: E[(X − capacity)⁺], which is
/// tokens·inclusion − expected_processed(...). @throws config_error as expected_processed.
[[nodiscard]] inline double expected_dropped(std::int64_t tokens, double inclusion,
                                             std::int64_t capacity) {
  detail::check_capped("moe::expected_dropped", tokens, inclusion, capacity);
  return detail::binomial_capped(tokens, inclusion, capacity).dropped;
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
