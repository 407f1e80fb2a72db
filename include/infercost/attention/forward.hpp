/// @file
/// Numeric attention on real Q/K/V: full causal attention, sliding window with sinks, top-k
/// sparse attention chosen by an indexer, and CSA — each as blocked GEMMs with a causal mask and
/// a numerically stable softmax, plus the relative L2 error between two outputs.
///
/// Inputs hold one row per token. Heads sit side by side in the columns: `q` is
/// n × (num_heads·head_dim), `k` is n × (num_kv_heads·head_dim), `v` is n × (num_kv_heads·v_dim);
/// query head h reads KV head h / (num_heads / num_kv_heads). MLA runs here in its absorbed decode
/// form — multi-query attention over the latent (one KV head, key dim kv_lora_rank + rope, value
/// dim kv_lora_rank, softmax scale 1/√(nope + rope)) — see head_layout::of.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string_view>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include "infercost/attention/attention.hpp"
#include "infercost/attention/policies.hpp"
#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/core/random.hpp"

namespace infercost::attention {

/// Row-major matrix of `Scalar`: one row per token.
template <class Scalar>
using matrix_t = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Row-major single-precision matrix: one row per token.
using matrix = matrix_t<float>;

/// Queries, keys and values of one sequence (see the file comment for the column layout).
template <class Scalar> struct basic_qkv {
  matrix_t<Scalar> q; ///< n × (num_heads · head_dim)
  matrix_t<Scalar> k; ///< n × (num_kv_heads · head_dim)
  matrix_t<Scalar> v; ///< n × (num_kv_heads · v_head_dim)
};
/// Single-precision queries, keys and values.
using qkv = basic_qkv<float>;

/// The lightning indexer's inputs: index queries, one shared index key per token, and per-head
/// weights; I(i, j) = Σ_h w(i, h) · ReLU(q_h(i) · k(j)) (DeepSeek-V3.2-Exp, inference/model.py).
template <class Scalar> struct basic_indexer_inputs {
  matrix_t<Scalar> q; ///< n × (index_heads · index_dim)
  matrix_t<Scalar> k; ///< n × index_dim
  matrix_t<Scalar> w; ///< n × index_heads
};
/// Single-precision indexer inputs.
using indexer_inputs = basic_indexer_inputs<float>;

namespace detail {

/// Block of queries processed together (rows of one GEMM per head).
inline constexpr int query_block = 64;

/// @throws config_error when a matrix has the wrong shape or holds NaN or infinity.
template <class Scalar>
void check_matrix(std::string_view component, std::string_view name, const matrix_t<Scalar>& m,
                  Eigen::Index rows, Eigen::Index cols, std::string_view cols_rule) {
  if (m.rows() != rows)
    throw config_error(component, fmt::format("{}.rows", name),
                       fmt::format("({}) must equal the number of tokens ({})", m.rows(), rows));
  if (m.cols() != cols)
    throw config_error(component, fmt::format("{}.cols", name),
                       fmt::format("({}) must equal {} ({})", m.cols(), cols_rule, cols));
  if (!m.allFinite())
    throw config_error(component, name, "(contains NaN or infinity) must be finite");
}

/// Validates the layout and the shapes and values of q, k, v. @throws config_error.
template <class Scalar>
void check_qkv(std::string_view component, const head_layout& l, const basic_qkv<Scalar>& x) {
  l.validate();
  const Eigen::Index n = x.q.rows();
  if (n <= 0)
    throw config_error(component, "q.rows", fmt::format("({}) must be > 0", n));
  check_matrix(component, "q", x.q, n, Eigen::Index{l.num_heads} * l.head_dim,
               "num_heads * head_dim");
  check_matrix(component, "k", x.k, n, Eigen::Index{l.num_kv_heads} * l.head_dim,
               "num_kv_heads * head_dim");
  check_matrix(component, "v", x.v, n, Eigen::Index{l.num_kv_heads} * l.v_head_dim,
               "num_kv_heads * v_head_dim");
}

/// Which keys a query at position i may see besides the causal limit: the window's first key
/// lo(i) = max(0, i − window + 1) (window 0 = unlimited) and the sinks [0, sinks).
struct key_mask {
  int window = 0;
  int sinks = 0;
  [[nodiscard]] int lo(int i) const noexcept {
    return window > 0 ? std::max(0, i - window + 1) : 0;
  }
};

/// Scratch buffers reused across blocks.
template <class Scalar> struct scratch { matrix_t<Scalar> qg, s, o; };

/// Causal attention for the query rows `pos` (sorted ascending) against keys of the same
/// sequence, written into rows pos[·] of `out` (n × num_heads·v_head_dim). Queries are taken in
/// blocks; each block does, per KV head, one GEMM of the group's stacked queries against the
/// block's key span [j0, last] (plus the sinks below j0), masks, applies a stable softmax, and one
/// GEMM with the values.
template <class Scalar>
void attend_rows(const head_layout& l, const matrix_t<Scalar>& q, const matrix_t<Scalar>& k,
                 const matrix_t<Scalar>& v, const std::vector<int>& pos, const key_mask& mask,
                 Scalar scale, matrix_t<Scalar>& out) {
  const int G = l.group(), d = l.head_dim, dv = l.v_head_dim;
  const Scalar neg_inf = -std::numeric_limits<Scalar>::infinity();
  scratch<Scalar> sc;
  for (std::size_t b0 = 0; b0 < pos.size(); b0 += query_block) {
    const int B = static_cast<int>(std::min<std::size_t>(query_block, pos.size() - b0));
    const int first = pos[b0], last = pos[b0 + static_cast<std::size_t>(B) - 1];
    const int j0 = mask.lo(first);
    const int ns = std::min(mask.sinks, j0); // sinks outside the span
    const int span = last - j0 + 1, nk = ns + span;
    for (int g = 0; g < l.num_kv_heads; ++g) {
      sc.qg.resize(G * B, d);
      for (int a = 0; a < G; ++a)
        for (int r = 0; r < B; ++r)
          sc.qg.row(a * B + r) =
              q.block(pos[b0 + static_cast<std::size_t>(r)], (g * G + a) * d, 1, d);
      sc.s.resize(G * B, nk);
      if (ns > 0)
        sc.s.leftCols(ns).noalias() = sc.qg * k.block(0, g * d, ns, d).transpose();
      sc.s.rightCols(span).noalias() = sc.qg * k.block(j0, g * d, span, d).transpose();
      // Mask and stable softmax, row by row; a row's allowed span columns are the sinks inside
      // the span [j0, min(sinks, lo)) and the window [lo, i].
      for (int row = 0; row < G * B; ++row) {
        const int i = pos[b0 + static_cast<std::size_t>(row % B)];
        const int lo = std::max(j0, mask.lo(i));
        const int sink_end = std::min(mask.sinks, lo);
        // Allowed columns, ascending and disjoint: outside sinks, sinks inside the span,
        // window.
        const int seg[3][2] = {
            {0, ns}, {ns, ns + std::max(0, sink_end - j0)}, {ns + (lo - j0), ns + (i - j0) + 1}};
        auto srow = sc.s.row(row);
        Scalar mx = neg_inf;
        for (const auto& sg : seg)
          if (sg[1] > sg[0])
            mx = std::max(mx, srow.segment(sg[0], sg[1] - sg[0]).maxCoeff() * scale);
        Scalar sum = 0;
        int done = 0; // columns [0, done) are final
        for (const auto& sg : seg) {
          if (sg[1] <= sg[0])
            continue;
          srow.segment(done, sg[0] - done).setZero();
          auto part = srow.segment(sg[0], sg[1] - sg[0]);
          part = (part.array() * scale - mx).exp().matrix();
          sum += part.sum();
          done = sg[1];
        }
        srow.segment(done, nk - done).setZero();
        srow *= Scalar(1) / sum;
      }
      sc.o.resize(G * B, dv);
      sc.o.noalias() = sc.s.rightCols(span) * v.block(j0, g * dv, span, dv);
      if (ns > 0)
        sc.o.noalias() += sc.s.leftCols(ns) * v.block(0, g * dv, ns, dv);
      for (int a = 0; a < G; ++a)
        for (int r = 0; r < B; ++r)
          out.block(pos[b0 + static_cast<std::size_t>(r)], (g * G + a) * dv, 1, dv) =
              sc.o.row(a * B + r);
    }
  }
}

/// 0, 1, …, n − 1.
[[nodiscard]] inline std::vector<int> iota(int n) {
  std::vector<int> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  return p;
}

} // namespace detail

/// Full causal attention. Returns n × (num_heads · v_head_dim). @throws config_error for bad
/// shapes or non-finite inputs.
template <class Scalar>
[[nodiscard]] matrix_t<Scalar> full_forward(const head_layout& l, const basic_qkv<Scalar>& x) {
  detail::check_qkv("attention::full", l, x);
  const int n = static_cast<int>(x.q.rows());
  matrix_t<Scalar> out(n, l.num_heads * l.v_head_dim);
  detail::attend_rows(l, x.q, x.k, x.v, detail::iota(n), {}, Scalar(l.softmax_scale()), out);
  return out;
}

/// Sliding-window attention with sinks: query i sees keys max(0, i − window + 1) … i and the
/// first `sinks` tokens. @throws config_error.
template <class Scalar>
[[nodiscard]] matrix_t<Scalar> sliding_window_forward(const head_layout& l,
                                                      const basic_qkv<Scalar>& x,
                                                      const sliding_window_config& c) {
  detail::check_qkv("attention::sliding_window", l, x);
  c.validate(l.as_shape());
  const int n = static_cast<int>(x.q.rows());
  matrix_t<Scalar> out(n, l.num_heads * l.v_head_dim);
  detail::attend_rows(l, x.q, x.k, x.v, detail::iota(n), {.window = c.window, .sinks = c.sinks},
                      Scalar(l.softmax_scale()), out);
  return out;
}

/// The keys each query selects: for query i, the min(i + 1, top_k) earlier keys (itself
/// included) with the highest indexer score Σ_h w(i,h)·ReLU(q_h(i)·k(j)), in ascending order;
/// ties go to the earlier key. The scores are computed by blocked GEMMs. @throws config_error.
template <class Scalar>
[[nodiscard]] std::vector<std::vector<int>> topk_select(const basic_indexer_inputs<Scalar>& ix,
                                                        const topk_config& c) {
  constexpr std::string_view comp = "attention::topk_sparse";
  c.validate({});
  const Eigen::Index n = ix.k.rows();
  if (n <= 0)
    throw config_error(comp, "index.k.rows", fmt::format("({}) must be > 0", n));
  detail::check_matrix(comp, "index.q", ix.q, n, Eigen::Index{c.index_heads} * c.index_dim,
                       "index_heads * index_dim");
  detail::check_matrix(comp, "index.k", ix.k, n, c.index_dim, "index_dim");
  detail::check_matrix(comp, "index.w", ix.w, n, c.index_heads, "index_heads");
  std::vector<std::vector<int>> sel(static_cast<std::size_t>(n));
  matrix_t<Scalar> scores, t;
  std::vector<Scalar> tmp;
  const int di = c.index_dim;
  for (Eigen::Index i0 = 0; i0 < n; i0 += detail::query_block) {
    const Eigen::Index B = std::min<Eigen::Index>(detail::query_block, n - i0), span = i0 + B;
    // Queries with i + 1 <= top_k take every earlier key; score only blocks that need it.
    if (i0 + B <= c.top_k) {
      for (Eigen::Index r = 0; r < B; ++r)
        sel[static_cast<std::size_t>(i0 + r)] = detail::iota(static_cast<int>(i0 + r + 1));
      continue;
    }
    scores.setZero(B, span);
    for (int h = 0; h < c.index_heads; ++h) {
      t.noalias() = ix.q.block(i0, h * di, B, di) * ix.k.topRows(span).transpose();
      scores.array() +=
          t.array().cwiseMax(Scalar(0)).colwise() * ix.w.col(h).segment(i0, B).array();
    }
    for (Eigen::Index r = 0; r < B; ++r) {
      const int i = static_cast<int>(i0 + r);
      std::vector<int>& out = sel[static_cast<std::size_t>(i)];
      if (i + 1 <= c.top_k) {
        out = detail::iota(i + 1);
        continue;
      }
      const Scalar* row = scores.row(r).data();
      tmp.assign(row, row + i + 1);
      std::nth_element(tmp.begin(), tmp.begin() + (c.top_k - 1), tmp.end(), std::greater<>());
      const Scalar tau = tmp[static_cast<std::size_t>(c.top_k - 1)];
      int above = 0;
      for (int j = 0; j <= i; ++j)
        above += row[j] > tau;
      int ties = c.top_k - above;
      out.clear();
      out.reserve(static_cast<std::size_t>(c.top_k));
      for (int j = 0; j <= i; ++j) {
        if (row[j] > tau)
          out.push_back(j);
        else if (row[j] == tau && ties > 0) {
          out.push_back(j);
          --ties;
        }
      }
    }
  }
  return sel;
}

/// Attention of each query over a given set of its keys (`keys[i]`, each ≤ i); every head of a
/// group shares the set, as in DSA over MLA's single latent head. For each query and KV head the
/// selected keys and values are gathered, then one GEMM scores the group's heads and one applies
/// the values. @throws config_error.
template <class Scalar>
[[nodiscard]] matrix_t<Scalar> sparse_forward(const head_layout& l, const basic_qkv<Scalar>& x,
                                              const std::vector<std::vector<int>>& keys) {
  constexpr std::string_view comp = "attention::topk_sparse";
  detail::check_qkv(comp, l, x);
  const int n = static_cast<int>(x.q.rows());
  if (keys.size() != static_cast<std::size_t>(n))
    throw config_error(comp, "keys.size",
                       fmt::format("({}) must equal the number of tokens ({})", keys.size(), n));
  const int G = l.group(), d = l.head_dim, dv = l.v_head_dim;
  const auto scale = Scalar(l.softmax_scale());
  matrix_t<Scalar> out(n, l.num_heads * dv);
  matrix_t<Scalar> kg, vg, s, o;
  for (int i = 0; i < n; ++i) {
    const std::vector<int>& sel = keys[static_cast<std::size_t>(i)];
    const int m = static_cast<int>(sel.size());
    if (m == 0)
      throw config_error(comp, "keys", fmt::format("(query {} has none) must be non-empty", i));
    for (int j : sel)
      if (j < 0 || j > i)
        throw config_error(comp, "keys",
                           fmt::format("({} for query {}) must be in [0, {}]", j, i, i));
    for (int g = 0; g < l.num_kv_heads; ++g) {
      kg.resize(m, d);
      vg.resize(m, dv);
      for (int a = 0; a < m; ++a) {
        kg.row(a) = x.k.block(sel[static_cast<std::size_t>(a)], g * d, 1, d);
        vg.row(a) = x.v.block(sel[static_cast<std::size_t>(a)], g * dv, 1, dv);
      }
      // The group's G query heads of token i, as a G × d matrix.
      const Eigen::Map<const matrix_t<Scalar>> qg(x.q.data() +
                                                      static_cast<Eigen::Index>(i) * x.q.cols() +
                                                      static_cast<Eigen::Index>(g) * G * d,
                                                  G, d);
      s.noalias() = qg * kg.transpose();
      s *= scale;
      for (int r = 0; r < G; ++r) {
        const Scalar mx = s.row(r).maxCoeff();
        s.row(r) = (s.row(r).array() - mx).exp().matrix();
        s.row(r) /= s.row(r).sum();
      }
      o.noalias() = s * vg;
      for (int r = 0; r < G; ++r)
        out.block(i, (g * G + r) * dv, 1, dv) = o.row(r);
    }
  }
  return out;
}

/// Top-k sparse attention: the indexer picks each query's keys (topk_select), then attention runs
/// over them (sparse_forward). @throws config_error.
template <class Scalar>
[[nodiscard]] matrix_t<Scalar> topk_forward(const head_layout& l, const basic_qkv<Scalar>& x,
                                            const basic_indexer_inputs<Scalar>& ix,
                                            const topk_config& c) {
  detail::check_qkv("attention::topk_sparse", l, x);
  if (ix.k.rows() != x.q.rows())
    throw config_error(
        "attention::topk_sparse", "index.k.rows",
        fmt::format("({}) must equal the number of tokens ({})", ix.k.rows(), x.q.rows()));
  return sparse_forward(l, x, topk_select(ix, c));
}

namespace detail {

/// A column-major matrix of `Scalar`.
template <class Scalar> using col_matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

/// A d × (d / f) matrix with orthonormal columns: the leading principal directions of the rows
/// of `m` (uncentred second moment, so dot products are preserved as well as possible), or a
/// seeded random orthonormal basis. Computed in `Wide` (double); a template parameter, so that
/// the decompositions are compiled only where a program runs CSA.
template <class Scalar, class Wide = double>
[[nodiscard]] col_matrix<Scalar> compression_basis_of(const col_matrix<Scalar>& m, int f,
                                                      compression_basis basis, rng& g) {
  using wide_matrix = col_matrix<Wide>;
  const Eigen::Index d = m.cols(), r = d / f;
  if (basis == compression_basis::pca) {
    const wide_matrix md = m.template cast<Wide>();
    const wide_matrix cov = (md.transpose() * md).eval();
    const Eigen::SelfAdjointEigenSolver<wide_matrix> es(cov);
    return es.eigenvectors().rightCols(r).template cast<Scalar>(); // eigenvalues ascend
  }
  wide_matrix gauss(d, r);
  for (Eigen::Index c = 0; c < r; ++c)
    for (Eigen::Index a = 0; a < d; ++a)
      gauss(a, c) = g.normal();
  const Eigen::HouseholderQR<wide_matrix> qr(gauss);
  const wide_matrix thin = qr.householderQ() * wide_matrix::Identity(d, r);
  return thin.template cast<Scalar>();
}

} // namespace detail

/// The queries CSA sends down the exact path: the max(1, ⌊n·ratio⌋) most important by the
/// config's rule (ties to the earlier token), in ascending order. @throws config_error.
template <class Scalar>
[[nodiscard]] std::vector<int> csa_exact_queries(const head_layout& l, const basic_qkv<Scalar>& x,
                                                 const csa_config& c) {
  detail::check_qkv("attention::csa", l, x);
  c.validate(l.as_shape());
  const int n = static_cast<int>(x.q.rows());
  const int G = l.group(), d = l.head_dim;
  std::vector<double> score(static_cast<std::size_t>(n), 0.0);
  rng g(c.seed);
  for (int i = 0; i < n; ++i) {
    double s = 0.0;
    for (int h = 0; h < l.num_heads && c.rule != importance_rule::random; ++h) {
      const auto qh = x.q.row(i).segment(h * d, d);
      if (c.rule == importance_rule::abs_self_score)
        s += std::abs(static_cast<double>(qh.dot(x.k.row(i).segment((h / G) * d, d))));
      else
        s += static_cast<double>(qh.norm());
    }
    score[static_cast<std::size_t>(i)] = c.rule == importance_rule::random ? g.uniform01() : s;
  }
  const int m = std::max(1, static_cast<int>(std::floor(n * c.ratio)));
  std::vector<int> order = detail::iota(n);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return score[static_cast<std::size_t>(a)] > score[static_cast<std::size_t>(b)];
  });
  order.resize(static_cast<std::size_t>(m));
  std::sort(order.begin(), order.end());
  return order;
}

/// Compressed sparse attention (the article's CSA, made dimensionally sound): the exact queries
/// (csa_exact_queries) attend over the full K/V; every other query attends over K/V projected by
/// per-KV-head bases C_k (d × d/f) and C_v (dv × dv/f): q̃ = q C_k, k̃ = k C_k, ṽ = v C_v, with
/// logits q̃·k̃ scaled by the softmax scale (times f for a random basis, so E[q̃·k̃]·f = q·k), and
/// its output expanded back as (softmax · Ṽ) C_vᵀ. The article's code scores the full query
/// against compressed keys and returns a compressed output, which does not type-check; this is
/// the nearest consistent reading. @throws config_error.
template <class Scalar>
[[nodiscard]] matrix_t<Scalar> csa_forward(const head_layout& l, const basic_qkv<Scalar>& x,
                                           const csa_config& c) {
  const std::vector<int> exact = csa_exact_queries(l, x, c);
  const int n = static_cast<int>(x.q.rows());
  const int G = l.group(), d = l.head_dim, dv = l.v_head_dim, f = c.compression;
  const int dc = d / f, dvc = dv / f;
  matrix_t<Scalar> out(n, l.num_heads * dv);
  detail::attend_rows(l, x.q, x.k, x.v, exact, {}, Scalar(l.softmax_scale()), out);
  std::vector<int> rest;
  rest.reserve(static_cast<std::size_t>(n) - exact.size());
  for (int i = 0, e = 0; i < n; ++i) {
    if (e < static_cast<int>(exact.size()) && exact[static_cast<std::size_t>(e)] == i)
      ++e;
    else
      rest.push_back(i);
  }
  if (rest.empty())
    return out;
  // Compress per KV head.
  using basis = detail::col_matrix<Scalar>;
  matrix_t<Scalar> qc(n, l.num_heads * dc), kc(n, l.num_kv_heads * dc), vc(n, l.num_kv_heads * dvc);
  std::vector<basis> cv(static_cast<std::size_t>(l.num_kv_heads));
  rng g(c.seed ^ 0x9e3779b97f4a7c15ULL);
  for (int h = 0; h < l.num_kv_heads; ++h) {
    const basis kh = x.k.block(0, h * d, n, d);
    const basis vh = x.v.block(0, h * dv, n, dv);
    const basis ck = detail::compression_basis_of(kh, f, c.basis, g);
    cv[static_cast<std::size_t>(h)] = detail::compression_basis_of(vh, f, c.basis, g);
    kc.block(0, h * dc, n, dc).noalias() = kh * ck;
    vc.block(0, h * dvc, n, dvc).noalias() = vh * cv[static_cast<std::size_t>(h)];
    for (int a = 0; a < G; ++a)
      qc.block(0, (h * G + a) * dc, n, dc).noalias() = x.q.block(0, (h * G + a) * d, n, d) * ck;
  }
  const head_layout lc{
      .num_heads = l.num_heads, .num_kv_heads = l.num_kv_heads, .head_dim = dc, .v_head_dim = dvc};
  const auto scale = Scalar(l.softmax_scale()) *
                     (c.basis == compression_basis::random_orthonormal ? Scalar(f) : Scalar(1));
  matrix_t<Scalar> oc(n, l.num_heads * dvc);
  detail::attend_rows(lc, qc, kc, vc, rest, {}, scale, oc);
  for (int i : rest)
    for (int h = 0; h < l.num_heads; ++h)
      out.block(i, h * dv, 1, dv).noalias() =
          oc.block(i, h * dvc, 1, dvc) * cv[static_cast<std::size_t>(h / G)].transpose();
  return out;
}

/// Relative L2 (Frobenius) error ‖approx − exact‖ / ‖exact‖, accumulated in double.
/// @throws config_error when the shapes differ or `exact` is zero.
template <class Approx, class Exact>
[[nodiscard]] double relative_l2_error(const Eigen::MatrixBase<Approx>& approx,
                                       const Eigen::MatrixBase<Exact>& exact) {
  constexpr std::string_view c = "attention::relative_l2_error";
  if (approx.rows() != exact.rows() || approx.cols() != exact.cols())
    throw config_error(c, "approx",
                       fmt::format("({}x{}) must have the shape of exact ({}x{})", approx.rows(),
                                   approx.cols(), exact.rows(), exact.cols()));
  const double den = exact.template cast<double>().norm();
  if (!(den > 0.0))
    throw config_error(c, "exact", fmt::format("(norm {}) must be > 0", den));
  return (approx.template cast<double>() - exact.template cast<double>()).norm() / den;
}

/// Numeric forward of layer `a`'s policy over one sequence's Q/K/V, in the layer's head layout
/// (MLA: absorbed, over the latent). Full, sliding-window and CSA attention.
/// @throws config_error for bad shapes or non-finite inputs.
template <class Device, class Policy, class Scalar>
requires(!std::is_same_v<Policy, topk_sparse>)
    [[nodiscard]] matrix_t<Scalar> forward(const basic_attention<Device, Policy>& a,
                                           const basic_qkv<Scalar>& x) {
  if constexpr (std::is_same_v<Policy, full>)
    return full_forward(a.layout(), x);
  else if constexpr (std::is_same_v<Policy, sliding_window>)
    return sliding_window_forward(a.layout(), x, a.config());
  else {
    static_assert(std::is_same_v<Policy, csa>,
                  "attention::forward: the policy has no numeric forward pass");
    return csa_forward(a.layout(), x, a.config());
  }
}

/// Numeric forward of a top-k sparse layer with the indexer's inputs. @throws config_error.
template <class Device, class Scalar>
[[nodiscard]] matrix_t<Scalar> forward(const basic_attention<Device, topk_sparse>& a,
                                       const basic_qkv<Scalar>& x,
                                       const basic_indexer_inputs<Scalar>& ix) {
  return topk_forward(a.layout(), x, ix, a.config());
}

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): the single-precision forward passes are instantiated once, in
// the infercost::compiled library.
INFERCOST_EXTERN template matrix full_forward<float>(const head_layout&, const qkv&);
INFERCOST_EXTERN template matrix sliding_window_forward<float>(const head_layout&, const qkv&,
                                                               const sliding_window_config&);
INFERCOST_EXTERN template std::vector<std::vector<int>> topk_select<float>(const indexer_inputs&,
                                                                           const topk_config&);
INFERCOST_EXTERN template matrix sparse_forward<float>(const head_layout&, const qkv&,
                                                       const std::vector<std::vector<int>>&);
INFERCOST_EXTERN template matrix topk_forward<float>(const head_layout&, const qkv&,
                                                     const indexer_inputs&, const topk_config&);
INFERCOST_EXTERN template std::vector<int> csa_exact_queries<float>(const head_layout&, const qkv&,
                                                                    const csa_config&);
INFERCOST_EXTERN template matrix csa_forward<float>(const head_layout&, const qkv&,
                                                    const csa_config&);
#endif

} // namespace infercost::attention
