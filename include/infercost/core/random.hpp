/// @file
/// Seeded, portable random numbers.
///
/// The standard library's distributions are implementation-defined, so the same seed gives
/// different numbers on libstdc++ and libc++. infercost draws everything through `rng`
/// (xoshiro256**, Blackman & Vigna 2018, seeded through splitmix64) and the distributions here,
/// whose algorithms are fixed: the same seed gives the same numbers, bit for bit, everywhere.
/// There is no default seed: every engine takes one explicitly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"

namespace infercost {

/// splitmix64 step (Steele, Lea & Flood 2014); used to expand seeds.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// xoshiro256** engine. Satisfies std::uniform_random_bit_generator.
class rng {
public:
  using result_type = std::uint64_t;

  /// Seeds the four words of state from `seed` through splitmix64.
  explicit constexpr rng(std::uint64_t seed) noexcept {
    std::uint64_t s = seed;
    for (auto& w : s_)
      w = splitmix64(s);
  }

  [[nodiscard]] static constexpr result_type min() noexcept { return 0; }
  [[nodiscard]] static constexpr result_type max() noexcept {
    return std::numeric_limits<result_type>::max();
  }

  constexpr result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// An independent engine for sub-stream `stream` (e.g. one per instance or per layer),
  /// derived from this engine's current state without advancing it.
  [[nodiscard]] constexpr rng fork(std::uint64_t stream) const noexcept {
    std::uint64_t s = s_[0] ^ rotl(s_[1], 13) ^ rotl(s_[2], 29) ^ rotl(s_[3], 47);
    s ^= 0xd1b54a32d192ed03ULL * (stream + 1);
    return rng(splitmix64(s));
  }

  /// Uniform double in [0, 1) with 53 random bits.
  constexpr double uniform01() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  /// Uniform double in [lo, hi).
  constexpr double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform01(); }

  /// Uniform integer in [0, n), unbiased (Lemire 2019, "Fast random integer generation in an
  /// interval"). Requires n > 0.
  constexpr std::uint64_t uniform_int(std::uint64_t n) noexcept {
    INFERCOST_ASSERT(n > 0, "uniform_int needs a non-empty range");
    std::uint64_t hi = 0;
    std::uint64_t low = mul128((*this)(), n, hi);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold)
        low = mul128((*this)(), n, hi);
    }
    return hi;
  }

  /// Standard normal by the Box–Muller transform (one value per call; no cached state, so the
  /// sequence depends only on the number of calls).
  double normal() noexcept {
    double u1 = uniform01();
    while (u1 <= 0.0)
      u1 = uniform01();
    const double u2 = uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

  /// Normal with mean `mu` and standard deviation `sigma`.
  double normal(double mu, double sigma) noexcept { return mu + sigma * normal(); }

  /// Exponential with the given rate (mean 1/rate) by inversion.
  double exponential(double rate) noexcept {
    double u = uniform01();
    while (u <= 0.0)
      u = uniform01();
    return -std::log(u) / rate;
  }

  /// Gamma(shape, scale), mean shape*scale (Marsaglia & Tsang 2000; shape < 1 by the
  /// u^(1/shape) boost).
  double gamma(double shape, double scale) noexcept {
    if (shape < 1.0) {
      double u = uniform01();
      while (u <= 0.0)
        u = uniform01();
      return gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = normal();
      double v = 1.0 + c * x;
      if (v <= 0.0)
        continue;
      v = v * v * v;
      const double u = uniform01();
      if (u < 1.0 - 0.0331 * x * x * x * x)
        return d * v * scale;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v)))
        return d * v * scale;
    }
  }

  /// Bernoulli(p).
  constexpr bool bernoulli(double p) noexcept { return uniform01() < p; }

private:
  /// Full 64x64 -> 128-bit product: returns the low word, stores the high word in `hi`.
  static constexpr std::uint64_t mul128(std::uint64_t a, std::uint64_t b,
                                        std::uint64_t& hi) noexcept {
    const std::uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffULL, b_hi = b >> 32;
    const std::uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    const std::uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
    hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
    return (mid << 32) | (p0 & 0xffffffffULL);
  }
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4]{};
};

/// Samples indices 0..n-1 with probability proportional to non-negative weights, in O(1) per
/// draw (Walker's alias method, Vose 1991 construction).
class discrete_distribution {
public:
  /// @throws config_error if weights are empty, negative, non-finite or all zero.
  explicit discrete_distribution(const std::vector<double>& weights) {
    const std::size_t n = weights.size();
    if (n == 0)
      throw config_error("random::discrete_distribution", "weights", "(empty) must be non-empty");
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      check_non_negative("random::discrete_distribution", "weights[i]", weights[i]);
      total += weights[i];
    }
    check_positive("random::discrete_distribution", "sum(weights)", total);
    prob_.assign(n, 0.0);
    alias_.assign(n, 0);
    probability_.resize(n);
    std::vector<double> scaled(n);
    std::vector<std::size_t> small, large;
    for (std::size_t i = 0; i < n; ++i) {
      probability_[i] = weights[i] / total;
      scaled[i] = probability_[i] * static_cast<double>(n);
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      const std::size_t s = small.back(), l = large.back();
      small.pop_back();
      large.pop_back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      (scaled[l] < 1.0 ? small : large).push_back(l);
    }
    for (std::size_t i : large)
      prob_[i] = 1.0;
    for (std::size_t i : small)
      prob_[i] = 1.0;
  }

  /// Draws one index.
  std::size_t operator()(rng& g) const noexcept {
    const auto i = static_cast<std::size_t>(g.uniform_int(prob_.size()));
    return g.uniform01() < prob_[i] ? i : alias_[i];
  }

  /// Number of outcomes.
  [[nodiscard]] std::size_t size() const noexcept { return prob_.size(); }
  /// Normalised probability of outcome i.
  [[nodiscard]] double probability(std::size_t i) const noexcept { return probability_[i]; }

private:
  std::vector<double> prob_;
  std::vector<std::size_t> alias_;
  std::vector<double> probability_;
};

/// Zipf weights over n ranks: w_i ∝ 1 / (i+1)^s, normalised to sum to 1. s = 0 is uniform.
[[nodiscard]] inline std::vector<double> zipf_weights(std::size_t n, double s) {
  if (n == 0)
    throw config_error("random::zipf_weights", "n", "(0) must be > 0");
  check_non_negative("random::zipf_weights", "s", s);
  std::vector<double> w(n);
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = 1.0 / std::pow(static_cast<double>(i + 1), s);
    total += w[i];
  }
  for (auto& x : w)
    x /= total;
  return w;
}

/// Fisher–Yates shuffle with infercost's engine (std::shuffle's algorithm is unspecified).
template <class RandomIt> void shuffle(RandomIt first, RandomIt last, rng& g) {
  const auto n = static_cast<std::uint64_t>(last - first);
  for (std::uint64_t i = n; i > 1; --i) {
    const auto j = g.uniform_int(i);
    std::iter_swap(first + static_cast<std::ptrdiff_t>(i - 1),
                   first + static_cast<std::ptrdiff_t>(j));
  }
}

} // namespace infercost
