/// @file
/// Verification policies of speculative decoding: how a draft token is proposed from the draft
/// distribution q, and how the target's distributions p decide how many of the γ draft tokens
/// are kept and which token follows them.
///
/// - `rejection_sampling` (Leviathan, Kalman & Matias 2023, Algorithm 1; Chen et al. 2023):
///   draft x ~ q; accept with probability min(1, p(x)/q(x)); on the first rejection emit a token
///   from norm(max(0, p − q)); if all γ are accepted emit a bonus token from the target's
///   (γ+1)-th distribution. Every emitted token is distributed exactly as the target's.
/// - `greedy`: draft x = argmax q; keep it while it equals argmax p; emit argmax p after the last
///   kept one. The output is exactly the target's greedy decoding.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

#include <Eigen/Core>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/speculative/language_model.hpp"

namespace infercost::speculative {

/// Outcome of verifying one sequence's γ draft tokens.
struct verify_result {
  int accepted = 0; ///< draft tokens kept, in [0, γ]
  token next = 0;   ///< token emitted after them: the correction (accepted < γ) or the bonus
  /// Tokens this step adds to the sequence: accepted + 1.
  [[nodiscard]] int emitted() const noexcept { return accepted + 1; }
};

namespace detail {
/// Block length of the vectorised inverse-CDF scan (a multiple of every SIMD width).
inline constexpr Eigen::Index scan_block = 64;

/// Index i with Σ_{j<i} w_j <= u < Σ_{j<=i} w_j for unnormalised weights w >= 0, u in
/// [0, Σw). Block sums are Eigen reductions (vectorised); only one block is scanned element by
/// element. Rounding that puts u past the last block returns the last positive weight.
/// (Templates here compile their Eigen code only where a program uses it; see
/// check_distribution.)
template <class = void> token sample_index_blocked(const Eigen::VectorXd& w, double u) {
  const Eigen::Index n = w.size();
  double acc = 0.0;
  Eigen::Index b = 0;
  for (; b + scan_block <= n; b += scan_block) {
    const double s = w.segment(b, scan_block).sum();
    if (acc + s > u)
      break;
    acc += s;
  }
  for (Eigen::Index i = b; i < n; ++i) {
    acc += w[i];
    if (acc > u)
      return static_cast<token>(i);
  }
  for (Eigen::Index i = n - 1; i > 0; --i)
    if (w[i] > 0.0)
      return static_cast<token>(i);
  return 0;
}

template <class = void> token argmax(const Eigen::VectorXd& v) {
  Eigen::Index i = 0;
  v.maxCoeff(&i);
  return static_cast<token>(i);
}
} // namespace detail

/// Draws one token from the unnormalised weights `w` (all >= 0, positive sum) with one uniform.
template <class = void> [[nodiscard]] token sample_unnormalised(const Eigen::VectorXd& w, rng& g) {
  const double total = w.sum();
  INFERCOST_ASSERT(total > 0.0, "weights must have a positive sum");
  return detail::sample_index_blocked(w, g.uniform01() * total);
}

/// Scalar reference of one rejection-sampling verification, element by element with no Eigen
/// reductions: the baseline the vectorised policy is tested and benchmarked against. Consumes
/// the random stream exactly like rejection_sampling::verify, so equal seeds give equal results.
/// `p` holds γ+1 rows, `q` γ rows, `draft` γ tokens; `scratch` is resized to V.
inline verify_result verify_rejection_scalar(std::span<const Eigen::VectorXd> p,
                                             std::span<const Eigen::VectorXd> q,
                                             std::span<const token> draft, rng& g,
                                             std::vector<double>& scratch) {
  const std::size_t gamma = draft.size();
  for (std::size_t i = 0; i < gamma; ++i) {
    const auto x = static_cast<Eigen::Index>(draft[i]);
    const double px = p[i][x], qx = q[i][x];
    const double a = qx > 0.0 ? std::min(1.0, px / qx) : 1.0;
    if (g.uniform01() < a)
      continue;
    const auto v = static_cast<std::size_t>(p[i].size());
    scratch.assign(v, 0.0);
    double total = 0.0;
    for (std::size_t j = 0; j < v; ++j) {
      const double d = p[i][static_cast<Eigen::Index>(j)] - q[i][static_cast<Eigen::Index>(j)];
      scratch[j] = d > 0.0 ? d : 0.0;
      total += scratch[j];
    }
    const double u = g.uniform01() * total;
    double acc = 0.0;
    token last_positive = 0;
    for (std::size_t j = 0; j < v; ++j) {
      acc += scratch[j];
      if (scratch[j] > 0.0)
        last_positive = static_cast<token>(j);
      if (acc > u)
        return {static_cast<int>(i), static_cast<token>(j)};
    }
    return {static_cast<int>(i), last_positive};
  }
  const Eigen::VectorXd& bonus = p[gamma];
  double total = 0.0;
  for (Eigen::Index j = 0; j < bonus.size(); ++j)
    total += bonus[j];
  const double u = g.uniform01() * total;
  double acc = 0.0;
  for (Eigen::Index j = 0; j < bonus.size(); ++j) {
    acc += bonus[j];
    if (acc > u)
      return {static_cast<int>(gamma), static_cast<token>(j)};
  }
  return {static_cast<int>(gamma), static_cast<token>(bonus.size() - 1)};
}

/// Exact speculative sampling: the emitted tokens are distributed as the target's.
struct rejection_sampling {
  static constexpr std::string_view name = "rejection_sampling";

  /// Draft token from q: a sample.
  template <class = void> static token propose(const Eigen::VectorXd& q, rng& g) {
    return sample_unnormalised(q, g);
  }

  /// Probability of keeping a draft token with target probability p_x and draft probability
  /// q_x: min(1, p_x / q_x) (1 when q_x = 0, a token the draft never proposes).
  [[nodiscard]] static double accept_probability(double p_x, double q_x) noexcept {
    return q_x > 0.0 ? std::min(1.0, p_x / q_x) : 1.0;
  }

  /// Unnormalised residual max(0, p − q) into `out` (resized).
  template <class = void>
  static void residual(const Eigen::VectorXd& p, const Eigen::VectorXd& q, Eigen::VectorXd& out) {
    out = (p - q).cwiseMax(0.0);
  }

  /// Verifies γ = draft.size() tokens. `p` holds the target's γ+1 distributions (after each
  /// prefix of the draft), `q` the draft's γ. `scratch` is a reusable vector of V entries.
  template <class = void>
  static verify_result verify(std::span<const Eigen::VectorXd> p,
                              std::span<const Eigen::VectorXd> q, std::span<const token> draft,
                              rng& g, Eigen::VectorXd& scratch) {
    const std::size_t gamma = draft.size();
    for (std::size_t i = 0; i < gamma; ++i) {
      const auto x = static_cast<Eigen::Index>(draft[i]);
      if (g.uniform01() < accept_probability(p[i][x], q[i][x]))
        continue;
      residual(p[i], q[i], scratch);
      const double total = scratch.sum();
      // A rejection has probability Σ q·(1 − min(1, p/q)) = Σ max(0, q − p) = Σ max(0, p − q),
      // so it cannot happen when the residual is zero; rounding aside, fall back to p.
      const token t = total > 0.0 ? detail::sample_index_blocked(scratch, g.uniform01() * total)
                                  : sample_unnormalised(p[i], g);
      return {static_cast<int>(i), t};
    }
    return {static_cast<int>(gamma), sample_unnormalised(p[gamma], g)};
  }
};

/// Greedy verification: the output is the target's argmax decoding.
struct greedy {
  static constexpr std::string_view name = "greedy";

  /// Draft token from q: its argmax (no randomness consumed).
  template <class = void> static token propose(const Eigen::VectorXd& q, rng&) {
    return detail::argmax(q);
  }

  /// Keeps draft tokens while they equal the target's argmax; emits the target's argmax next.
  template <class = void>
  static verify_result verify(std::span<const Eigen::VectorXd> p, std::span<const Eigen::VectorXd>,
                              std::span<const token> draft, rng&, Eigen::VectorXd&) {
    const std::size_t gamma = draft.size();
    for (std::size_t i = 0; i < gamma; ++i) {
      const token t = detail::argmax(p[i]);
      if (draft[i] != t)
        return {static_cast<int>(i), t};
    }
    return {static_cast<int>(gamma), detail::argmax(p[gamma])};
  }
};

/// A verification policy: proposes a draft token from q and verifies γ draft tokens.
template <class V>
concept verify_policy = requires(const Eigen::VectorXd& q, rng& g,
                                 std::span<const Eigen::VectorXd> rows,
                                 std::span<const token> draft, Eigen::VectorXd& scratch) {
  { V::name } -> std::convertible_to<std::string_view>;
  { V::propose(q, g) } -> std::same_as<token>;
  { V::verify(rows, rows, draft, g, scratch) } -> std::same_as<verify_result>;
};

} // namespace infercost::speculative
