#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "infercost/attention/forward.hpp"

using namespace infercost;
using namespace infercost::attention;

namespace {

/// i.i.d. normal Q/K/V for a layout (seeded).
qkv random_qkv(const head_layout& l, int n, std::uint64_t seed, double q_scale = 1.0) {
  rng g(seed);
  qkv x{matrix(n, l.num_heads * l.head_dim), matrix(n, l.num_kv_heads * l.head_dim),
        matrix(n, l.num_kv_heads * l.v_head_dim)};
  for (Eigen::Index i = 0; i < x.q.size(); ++i)
    x.q.data()[i] = static_cast<float>(q_scale * g.normal());
  for (Eigen::Index i = 0; i < x.k.size(); ++i)
    x.k.data()[i] = static_cast<float>(g.normal());
  for (Eigen::Index i = 0; i < x.v.size(); ++i)
    x.v.data()[i] = static_cast<float>(g.normal());
  return x;
}

/// Naive reference: for every head and query, a double-precision loop over the allowed keys.
Eigen::MatrixXd naive(const head_layout& l, const qkv& x, const std::function<bool(int, int)>& ok) {
  const int n = static_cast<int>(x.q.rows()), d = l.head_dim, dv = l.v_head_dim;
  const int G = l.num_heads / l.num_kv_heads;
  const double scale = l.softmax_scale();
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(n, l.num_heads * dv);
  for (int h = 0; h < l.num_heads; ++h) {
    const int g = h / G;
    for (int i = 0; i < n; ++i) {
      std::vector<double> s(static_cast<std::size_t>(n), -std::numeric_limits<double>::infinity());
      double mx = -std::numeric_limits<double>::infinity();
      for (int j = 0; j <= i; ++j) {
        if (!ok(i, j))
          continue;
        double dot = 0.0;
        for (int a = 0; a < d; ++a)
          dot += double(x.q(i, h * d + a)) * double(x.k(j, g * d + a));
        s[std::size_t(j)] = dot * scale;
        mx = std::max(mx, s[std::size_t(j)]);
      }
      double sum = 0.0;
      for (int j = 0; j <= i; ++j)
        if (ok(i, j))
          sum += std::exp(s[std::size_t(j)] - mx);
      for (int j = 0; j <= i; ++j) {
        if (!ok(i, j))
          continue;
        const double p = std::exp(s[std::size_t(j)] - mx) / sum;
        for (int a = 0; a < dv; ++a)
          out(i, h * dv + a) += p * double(x.v(j, g * dv + a));
      }
    }
  }
  return out;
}

double max_abs_diff(const matrix& a, const Eigen::MatrixXd& b) {
  return (a.cast<double>() - b).cwiseAbs().maxCoeff();
}

} // namespace

TEST_CASE("blocked full attention matches the naive reference for MHA, GQA and MQA",
          "[attention]") {
  // Seeds printed in the names: 11, 12, 13. n = 150 spans three query blocks, one partial.
  const head_layout layouts[] = {
      {.num_heads = 2, .num_kv_heads = 2, .head_dim = 16, .v_head_dim = 16},
      {.num_heads = 4, .num_kv_heads = 2, .head_dim = 8, .v_head_dim = 12},
      {.num_heads = 3, .num_kv_heads = 1, .head_dim = 24, .v_head_dim = 8}};
  std::uint64_t seed = 11;
  for (const head_layout& l : layouts) {
    const qkv x = random_qkv(l, 150, seed++, 2.0);
    const matrix out = full_forward(l, x);
    const Eigen::MatrixXd ref = naive(l, x, [](int, int) { return true; });
    REQUIRE(out.allFinite());
    CHECK(max_abs_diff(out, ref) < 2e-5);
  }
}

TEST_CASE("full attention's first token returns its own value", "[attention]") {
  const head_layout l{.num_heads = 2, .num_kv_heads = 1, .head_dim = 4, .v_head_dim = 4};
  const qkv x = random_qkv(l, 5, 3);
  const matrix out = full_forward(l, x);
  CHECK((out.row(0).head(4) - x.v.row(0)).norm() < 1e-6f);
  CHECK((out.row(0).tail(4) - x.v.row(0)).norm() < 1e-6f);
}

TEST_CASE("sliding-window attention with sinks matches the naive reference", "[attention]") {
  const head_layout l{.num_heads = 4, .num_kv_heads = 2, .head_dim = 8, .v_head_dim = 8};
  const qkv x = random_qkv(l, 200, 21, 2.0);
  for (const sliding_window_config& c : {sliding_window_config{.window = 1, .sinks = 0},
                                         sliding_window_config{.window = 16, .sinks = 0},
                                         sliding_window_config{.window = 16, .sinks = 3},
                                         sliding_window_config{.window = 70, .sinks = 80},
                                         sliding_window_config{.window = 500, .sinks = 2}}) {
    const matrix out = sliding_window_forward(l, x, c);
    const Eigen::MatrixXd ref =
        naive(l, x, [&](int i, int j) { return j > i - c.window || j < c.sinks; });
    INFO("window " << c.window << " sinks " << c.sinks);
    REQUIRE(out.allFinite());
    CHECK(max_abs_diff(out, ref) < 2e-5);
  }
  // A window as long as the sequence is full attention.
  CHECK(max_abs_diff(sliding_window_forward(l, x, {.window = 200}),
                     full_forward(l, x).cast<double>()) < 1e-6);
}

TEST_CASE("the indexer selects each query's highest-scoring earlier keys", "[attention]") {
  const int n = 180, hi = 3, di = 8;
  const topk_config c{.index_heads = hi, .index_dim = di, .top_k = 20};
  rng g(31);
  indexer_inputs ix{matrix(n, hi * di), matrix(n, di), matrix(n, hi)};
  for (Eigen::Index i = 0; i < ix.q.size(); ++i)
    ix.q.data()[i] = static_cast<float>(g.normal());
  for (Eigen::Index i = 0; i < ix.k.size(); ++i)
    ix.k.data()[i] = static_cast<float>(g.normal());
  for (Eigen::Index i = 0; i < ix.w.size(); ++i)
    ix.w.data()[i] = static_cast<float>(g.uniform(0.1, 1.0));
  const std::vector<std::vector<int>> sel = topk_select(ix, c);
  REQUIRE(sel.size() == std::size_t(n));
  for (int i = 0; i < n; ++i) {
    const auto& s = sel[std::size_t(i)];
    REQUIRE(s.size() == std::size_t(std::min(i + 1, c.top_k)));
    CHECK(std::is_sorted(s.begin(), s.end()));
    CHECK(s.back() <= i);
    // Naive scores in double: every selected key scores at least every unselected one.
    auto score = [&](int j) {
      double t = 0.0;
      for (int h = 0; h < hi; ++h) {
        double dot = 0.0;
        for (int a = 0; a < di; ++a)
          dot += double(ix.q(i, h * di + a)) * double(ix.k(j, a));
        t += double(ix.w(i, h)) * std::max(0.0, dot);
      }
      return t;
    };
    double worst_in = std::numeric_limits<double>::infinity(), best_out = -worst_in;
    std::vector<char> in(std::size_t(i + 1), 0);
    for (int j : s) {
      in[std::size_t(j)] = 1;
      worst_in = std::min(worst_in, score(j));
    }
    for (int j = 0; j <= i; ++j)
      if (!in[std::size_t(j)])
        best_out = std::max(best_out, score(j));
    CHECK(worst_in >= best_out - 1e-4);
  }
}

TEST_CASE("sparse attention over given keys matches the naive reference", "[attention]") {
  const head_layout l{.num_heads = 4, .num_kv_heads = 1, .head_dim = 16, .v_head_dim = 8};
  const int n = 90;
  const qkv x = random_qkv(l, n, 41, 2.0);
  rng g(42);
  std::vector<std::vector<int>> keys(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j)
      if (j == i || g.bernoulli(0.3))
        keys[std::size_t(i)].push_back(j);
  const matrix out = sparse_forward(l, x, keys);
  const Eigen::MatrixXd ref = naive(l, x, [&](int i, int j) {
    const auto& k = keys[std::size_t(i)];
    return std::binary_search(k.begin(), k.end(), j);
  });
  REQUIRE(out.allFinite());
  CHECK(max_abs_diff(out, ref) < 2e-5);
  // With top_k >= n the indexer keeps everything: top-k attention is full attention.
  const topk_config all{.index_heads = 2, .index_dim = 4, .top_k = n};
  indexer_inputs ix{matrix::Ones(n, 8), matrix::Ones(n, 4), matrix::Ones(n, 2)};
  CHECK(max_abs_diff(topk_forward(l, x, ix, all), full_forward(l, x).cast<double>()) < 1e-5);
}

TEST_CASE("CSA is exact when every query is exact or nothing is compressed", "[attention]") {
  const head_layout l{.num_heads = 4, .num_kv_heads = 2, .head_dim = 16, .v_head_dim = 16};
  const qkv x = random_qkv(l, 130, 51, 2.0);
  const Eigen::MatrixXd exact = full_forward(l, x).cast<double>();
  CHECK(max_abs_diff(csa_forward(l, x, {.ratio = 1.0}), exact) < 1e-5);
  // Compression 1 keeps a full orthonormal basis: q̃·k̃ = q·k and C_v C_vᵀ = I.
  for (compression_basis b : {compression_basis::pca, compression_basis::random_orthonormal})
    CHECK(max_abs_diff(csa_forward(l, x, {.ratio = 0.1, .compression = 1, .basis = b}), exact) <
          1e-4);
}

TEST_CASE("CSA's compressed path matches a naive reference over the projected K/V", "[attention]") {
  const head_layout l{.num_heads = 2, .num_kv_heads = 1, .head_dim = 16, .v_head_dim = 16};
  const int n = 100, f = 4;
  const qkv x = random_qkv(l, n, 61, 2.0);
  const csa_config c{.ratio = 0.2, .compression = f, .basis = compression_basis::pca};
  const std::vector<int> exact_rows = csa_exact_queries(l, x, c);
  REQUIRE(exact_rows.size() == 20u);
  // The abs_self_score rule keeps the 20 largest Σ_h |q_h(i)·k(i)|.
  std::vector<double> imp(static_cast<std::size_t>(n), 0.0);
  for (int i = 0; i < n; ++i)
    for (int h = 0; h < 2; ++h)
      imp[std::size_t(i)] += std::abs(double(x.q.row(i).segment(h * 16, 16).dot(x.k.row(i))));
  std::vector<double> sorted = imp;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  for (int i : exact_rows)
    CHECK(imp[std::size_t(i)] >= sorted[19]);
  // Reference: project with the same PCA bases, attend naively, expand.
  rng unused(0);
  const Eigen::MatrixXf ck =
      infercost::attention::detail::compression_basis_of(Eigen::MatrixXf(x.k), f, c.basis, unused);
  const Eigen::MatrixXf cv =
      infercost::attention::detail::compression_basis_of(Eigen::MatrixXf(x.v), f, c.basis, unused);
  CHECK((ck.transpose() * ck - Eigen::MatrixXf::Identity(4, 4)).norm() < 1e-4f);
  qkv p{matrix(n, 8), matrix(x.k * ck), matrix(x.v * cv)};
  for (int h = 0; h < 2; ++h)
    p.q.block(0, h * 4, n, 4) = x.q.block(0, h * 16, n, 16) * ck;
  const head_layout lc{
      .num_heads = 2, .num_kv_heads = 1, .head_dim = 4, .v_head_dim = 4, .scale = 1.0 / 4.0};
  const Eigen::MatrixXd comp = naive(lc, p, [](int, int) { return true; });
  const Eigen::MatrixXd full_ref = naive(l, x, [](int, int) { return true; });
  const matrix out = csa_forward(l, x, c);
  REQUIRE(out.allFinite());
  for (int i = 0; i < n; ++i) {
    const bool is_exact = std::binary_search(exact_rows.begin(), exact_rows.end(), i);
    for (int h = 0; h < 2; ++h) {
      Eigen::VectorXd want =
          is_exact ? Eigen::VectorXd(full_ref.row(i).segment(h * 16, 16).transpose())
                   : Eigen::VectorXd(cv.cast<double>() * comp.row(i).segment(h * 4, 4).transpose());
      const Eigen::VectorXd got = out.row(i).segment(h * 16, 16).transpose().cast<double>();
      CHECK((got - want).cwiseAbs().maxCoeff() < 1e-4);
    }
  }
}

TEST_CASE("relative L2 error is zero for equal outputs and scale-free", "[attention]") {
  const matrix a = matrix::Constant(3, 4, 2.0f);
  matrix b = a;
  CHECK(relative_l2_error(b, a) == 0.0);
  b(0, 0) = 3.0f; // ‖diff‖ = 1, ‖a‖ = √(12·4)
  CHECK(relative_l2_error(b, a) == Approx(1.0 / std::sqrt(48.0)));
  CHECK_THROWS_WITH(
      relative_l2_error(matrix(2, 2), a),
      "attention::relative_l2_error: approx (2x2) must have the shape of exact (3x4)");
  CHECK_THROWS_WITH(relative_l2_error(a, matrix::Zero(3, 4)),
                    "attention::relative_l2_error: exact (norm 0) must be > 0");
}

TEST_CASE("numeric attention rejects bad shapes and NaN inputs", "[attention]") {
  const head_layout l{.num_heads = 4, .num_kv_heads = 2, .head_dim = 8, .v_head_dim = 8};
  const qkv good = random_qkv(l, 20, 71);
  qkv x = good;
  x.q = matrix::Ones(20, 30);
  CHECK_THROWS_WITH(full_forward(l, x),
                    "attention::full: q.cols (30) must equal num_heads * head_dim (32)");
  x = good;
  x.k = matrix::Ones(19, 16);
  CHECK_THROWS_WITH(full_forward(l, x),
                    "attention::full: k.rows (19) must equal the number of tokens (20)");
  x = good;
  x.v(3, 2) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(full_forward(l, x),
                    "attention::full: v (contains NaN or infinity) must be finite");
  x = good;
  x.q(0, 0) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(csa_forward(l, x, {}),
                    "attention::csa: q (contains NaN or infinity) must be finite");
  CHECK_THROWS_WITH(sliding_window_forward(l, good, {.window = 0}),
                    "attention::sliding_window: window (0) must be > 0");
  CHECK_THROWS_WITH(csa_forward(l, good, {.compression = 3}),
                    "attention::csa: compression (3) must divide head_dim (8)");
  CHECK_THROWS_WITH(csa_forward(l, good, {.ratio = 0.0}),
                    "attention::csa: ratio (0) must be in (0, 1]");
  const head_layout bad{.num_heads = 4, .num_kv_heads = 3, .head_dim = 8, .v_head_dim = 8};
  CHECK_THROWS_WITH(full_forward(bad, good),
                    "attention::head_layout: num_kv_heads (3) must divide num_heads (4)");
  CHECK_THROWS_WITH(full_forward(l, qkv{}), "attention::full: q.rows (0) must be > 0");
  indexer_inputs ix{matrix::Ones(20, 8), matrix::Ones(20, 4), matrix::Ones(20, 2)};
  CHECK_THROWS_WITH(topk_forward(l, good, ix, {.index_heads = 2, .index_dim = 4, .top_k = 0}),
                    "attention::topk_sparse: top_k (0) must be > 0");
  CHECK_THROWS_WITH(
      topk_forward(l, good, ix, {.index_heads = 3, .index_dim = 4, .top_k = 4}),
      "attention::topk_sparse: index.q.cols (8) must equal index_heads * index_dim (12)");
  ix.w(1, 1) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(topk_forward(l, good, ix, {.index_heads = 2, .index_dim = 4, .top_k = 4}),
                    "attention::topk_sparse: index.w (contains NaN or infinity) must be finite");
  std::vector<std::vector<int>> keys(20, std::vector<int>{0});
  keys[5] = {6};
  CHECK_THROWS_WITH(sparse_forward(l, good, keys),
                    "attention::topk_sparse: keys (6 for query 5) must be in [0, 5]");
}
