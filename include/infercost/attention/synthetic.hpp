/// @file
/// Seeded synthetic Q/K/V with the structures sparse attention relies on — locality, attention
/// sinks, or none (random) — and an indexer built from them, so the error of each sparse policy
/// against full attention can be measured on inputs whose answer is known in kind.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include "infercost/attention/forward.hpp"
#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/core/random.hpp"

namespace infercost::attention {

/// The structure of synthetic attention inputs.
enum class synthetic_pattern {
  random, ///< i.i.d. normal Q, K, V: logits q·k/√d ~ N(0, strength²); no structure to exploit
  locality, ///< queries and keys follow a slowly drifting signal: logit(i, j) ≈ strength·ρ^|i−j|
  sinks,    ///< locality plus `sinks` leading tokens that every query attends to with logit
            ///< ≈ strength (StreamingLLM's attention sinks)
};

/// Name of a pattern: "random", "locality", "sinks".
[[nodiscard]] constexpr std::string_view to_string(synthetic_pattern p) noexcept {
  switch (p) {
  case synthetic_pattern::random:
    return "random";
  case synthetic_pattern::locality:
    return "locality";
  case synthetic_pattern::sinks:
    return "sinks";
  }
  return "?";
}

/// How to draw synthetic inputs.
struct synthetic_config {
  int tokens = 1024;    ///< sequence length n
  head_layout layout{}; ///< heads and dims of the generated Q/K/V
  synthetic_pattern pattern = synthetic_pattern::locality;
  double strength = 6.0;     ///< logit scale of the structure (see synthetic_pattern)
  double correlation = 0.97; ///< ρ: per-token correlation of the drifting signal, in [0, 1)
  double noise = 0.3;        ///< per-head noise added to the signal, relative to it
  int sinks = 4;             ///< sink tokens (pattern sinks)
  int value_rank = 0;        ///< rank of V (0 = full rank): V = Z·B with Z n×rank, B rank×dv
  std::uint64_t seed = 1;    ///< the same seed gives the same bits

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "attention::synthetic";
    check_positive(c, "tokens", tokens);
    layout.validate();
    check_non_negative(c, "strength", strength);
    check_in_range(c, "correlation", correlation, 0.0, 0.999999);
    check_non_negative(c, "noise", noise);
    check_non_negative(c, "sinks", sinks);
    check_non_negative(c, "value_rank", value_rank);
    check_at_most(c, "value_rank", value_rank, "v_head_dim", layout.v_head_dim);
  }
};

/// Draws Q, K, V for a config. V is i.i.d. normal, or of rank `value_rank` with unit-variance
/// entries. @throws config_error.
template <class Scalar = float>
[[nodiscard]] basic_qkv<Scalar> make_qkv(const synthetic_config& c) {
  using mat = matrix_t<Scalar>;
  c.validate();
  const head_layout& l = c.layout;
  const int n = c.tokens, d = l.head_dim, dv = l.v_head_dim, G = l.group();
  rng g(c.seed);
  basic_qkv<Scalar> x{mat(n, l.num_heads * d), mat(n, l.num_kv_heads * d),
                      mat(n, l.num_kv_heads * dv)};
  for (Eigen::Index i = 0; i < x.v.size(); ++i)
    x.v.data()[i] = static_cast<Scalar>(g.normal());
  if (c.value_rank > 0) {
    const int r = c.value_rank;
    for (int h = 0; h < l.num_kv_heads; ++h) {
      detail::col_matrix<Scalar> basis(r, dv);
      for (Eigen::Index i = 0; i < basis.size(); ++i)
        basis.data()[i] = static_cast<Scalar>(g.normal() / std::sqrt(static_cast<double>(r)));
      const detail::col_matrix<Scalar> z = x.v.block(0, h * dv, n, r);
      x.v.block(0, h * dv, n, dv).noalias() = z * basis;
    }
  }
  const double sd = std::sqrt(static_cast<double>(d));
  if (c.pattern == synthetic_pattern::random) {
    // q·k/√d ~ N(0, strength²) with q ~ N(0, strength²), k ~ N(0, 1).
    for (Eigen::Index i = 0; i < x.q.size(); ++i)
      x.q.data()[i] = static_cast<Scalar>(c.strength * g.normal());
    for (Eigen::Index i = 0; i < x.k.size(); ++i)
      x.k.data()[i] = static_cast<Scalar>(g.normal());
    return x;
  }
  // Per KV head, a unit-variance AR(1) signal u(t) = ρ u(t−1) + √(1−ρ²) ε(t), so
  // u(i)·u(j) ≈ d ρ^|i−j|. Keys are u plus noise; queries are (strength/√d)·(u plus noise), so
  // q·k/√d ≈ strength·ρ^|i−j|.
  const double rho = c.correlation, innov = std::sqrt(1.0 - rho * rho);
  const double qs = c.strength / sd;
  Eigen::VectorXd u(d), sink_dir(d);
  for (int h = 0; h < l.num_kv_heads; ++h) {
    for (int a = 0; a < d; ++a) {
      u(a) = g.normal();
      sink_dir(a) = g.normal();
    }
    sink_dir /= sink_dir.norm();
    // A sink key is √d·e and every query carries √d·e before its qs scale, so the sink logit is
    // qs·(√d·e)·(√d·e)/√d = strength.
    const double amp = sd;
    for (int t = 0; t < n; ++t) {
      if (t > 0)
        for (int a = 0; a < d; ++a)
          u(a) = rho * u(a) + innov * g.normal();
      const bool sink = c.pattern == synthetic_pattern::sinks && t < c.sinks;
      for (int a = 0; a < d; ++a) {
        const double key =
            sink ? amp * sink_dir(a) + c.noise * g.normal() : u(a) + c.noise * g.normal();
        x.k(t, h * d + a) = static_cast<Scalar>(key);
      }
      for (int m = 0; m < G; ++m)
        for (int a = 0; a < d; ++a) {
          double q = u(a) + c.noise * g.normal();
          if (c.pattern == synthetic_pattern::sinks)
            q += amp * sink_dir(a);
          x.q(t, (h * G + m) * d + a) = static_cast<Scalar>(qs * q);
        }
    }
  }
  return x;
}

/// An indexer for Q/K/V: each index head h takes query head h mod group of the first KV head,
/// projected by a seeded random matrix R (head_dim × index_dim, entries N(0, 1/index_dim)), so
/// q_h·k ≈ q·k (Johnson–Lindenstrauss); weights are 1/index_heads. The shared index key is the
/// first KV head's key projected by the first head's R. It stands in for a trained indexer
/// (DeepSeek-V3.2 trains its indexer to match the attention distribution). @throws config_error.
template <class Scalar>
[[nodiscard]] basic_indexer_inputs<Scalar> make_indexer(const head_layout& l,
                                                        const basic_qkv<Scalar>& x,
                                                        const topk_config& c, std::uint64_t seed) {
  using mat = matrix_t<Scalar>;
  detail::check_qkv("attention::make_indexer", l, x);
  c.validate({});
  const Eigen::Index n = x.q.rows();
  const int d = l.head_dim, di = c.index_dim;
  rng g(seed);
  detail::col_matrix<Scalar> r(d, di);
  const double sd = 1.0 / std::sqrt(static_cast<double>(di));
  for (Eigen::Index i = 0; i < r.size(); ++i)
    r.data()[i] = static_cast<Scalar>(sd * g.normal());
  basic_indexer_inputs<Scalar> ix{mat(n, c.index_heads * di), mat(n, di), mat(n, c.index_heads)};
  ix.k.noalias() = x.k.leftCols(d) * r;
  for (int h = 0; h < c.index_heads; ++h)
    ix.q.block(0, h * di, n, di).noalias() = x.q.block(0, (h % l.group()) * d, n, d) * r;
  ix.w.setConstant(Scalar(1) / static_cast<Scalar>(c.index_heads));
  return ix;
}

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): single-precision inputs are instantiated once.
INFERCOST_EXTERN template qkv make_qkv<float>(const synthetic_config&);
INFERCOST_EXTERN template indexer_inputs make_indexer<float>(const head_layout&, const qkv&,
                                                             const topk_config&, std::uint64_t);
#endif

} // namespace infercost::attention
