#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/moe/layer.hpp"

using namespace infercost;
using moe::row_matrix;

namespace {
template <class Scalar> row_matrix<Scalar> random_tokens(Eigen::Index t, int h, rng& g) {
  row_matrix<Scalar> x(t, h);
  for (Eigen::Index i = 0; i < x.size(); ++i)
    x.data()[i] = static_cast<Scalar>(g.normal());
  return x;
}

/// The grouped pass written plainly, one thread: per expert (ascending) a GEMM chain over its
/// kept tokens scatter-added into the output, then each shared expert over all tokens, with
/// Eigen's products as the layer makes them.
template <class Layer, class Scalar>
row_matrix<Scalar> scatter_add_reference(const Layer& layer, const row_matrix<Scalar>& x,
                                         const moe::routing& r) {
  using expert = typename Layer::expert_type;
  const moe::layer_config& lc = layer.config();
  row_matrix<Scalar> out = row_matrix<Scalar>::Zero(x.rows(), lc.hidden);
  row_matrix<Scalar> xe, h, a, y;
  for (int e = 0; e < lc.num_experts; ++e) {
    std::vector<std::int64_t> slots;
    for (std::int64_t s = 0; s < static_cast<std::int64_t>(r.expert.size()); ++s)
      if (r.kept[static_cast<std::size_t>(s)] && r.expert[static_cast<std::size_t>(s)] == e)
        slots.push_back(s);
    const auto n = static_cast<Eigen::Index>(slots.size());
    if (n == 0)
      continue;
    xe.resize(n, lc.hidden);
    for (Eigen::Index i = 0; i < n; ++i)
      xe.row(i) = x.row(slots[static_cast<std::size_t>(i)] / r.top_k);
    h.noalias() = xe * layer.expert(e).in;
    expert::activate(h, a);
    y.noalias() = a * layer.expert(e).out;
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto s = static_cast<std::size_t>(slots[static_cast<std::size_t>(i)]);
      const auto w = static_cast<Scalar>(r.weight[s]);
      out.row(static_cast<Eigen::Index>(s) / r.top_k) += w * y.row(i);
    }
  }
  for (int s = 0; s < lc.num_shared_experts; ++s) {
    h.noalias() = x * layer.shared_expert(s).in;
    expert::activate(h, a);
    out.noalias() += a * layer.shared_expert(s).out;
  }
  return out;
}

/// Max |a − b| over max |b|: relative error of a against reference b.
template <class M> double relative_error(const M& a, const M& b) {
  return static_cast<double>((a - b).cwiseAbs().maxCoeff()) /
         static_cast<double>(b.cwiseAbs().maxCoeff());
}
} // namespace

TEMPLATE_TEST_CASE("grouped MoE forward equals the per-token loop", "[moe]", moe::swiglu_expert,
                   moe::relu_expert) {
  const std::uint64_t seed = 424242;
  INFO("seed " << seed);
  const moe::layer_config lc{
      .hidden = 24, .expert_hidden = 16, .num_experts = 8, .num_shared_experts = 1};
  const moe::basic_layer<h800_sxm, TestType, double> layer(lc, seed);
  const moe::router_config rc{.num_experts = 8, .top_k = 3, .hidden = 24, .capacity_factor = 1.0};
  const auto r = moe::basic_router<h800_sxm, moe::softmax_scoring, moe::topk_selection,
                                   moe::limited_capacity>::with_random_gate(rc, seed + 1);
  rng g(seed + 2);
  const row_matrix<double> x = random_tokens<double>(97, 24, g);
  const moe::routing routed = r.route(x);
  const row_matrix<double> fast = layer.forward(x, routed);
  const row_matrix<double> slow = layer.forward_per_token(x, routed);
  REQUIRE(fast.allFinite());
  const double err = relative_error(fast, slow);
  INFO("relative error " << err << ", drops " << routed.total_dropped());
  REQUIRE(err < 1e-13);

  // Hand-check one token against the expert definitions, without the layer's helpers.
  const std::int64_t t = 5;
  Eigen::RowVectorXd expect = Eigen::RowVectorXd::Zero(24);
  auto ffn = [&](const moe::expert_weights<double>& w) {
    const Eigen::RowVectorXd hpre = x.row(t) * w.in;
    Eigen::RowVectorXd act;
    if constexpr (std::is_same_v<TestType, moe::swiglu_expert>) {
      const Eigen::Index f = hpre.size() / 2;
      act.resize(f);
      for (Eigen::Index i = 0; i < f; ++i)
        act(i) = hpre(i) / (1.0 + std::exp(-hpre(i))) * hpre(f + i);
    } else {
      act = hpre.cwiseMax(0.0);
    }
    return Eigen::RowVectorXd(act * w.out);
  };
  for (int j = 0; j < 3; ++j)
    if (routed.kept_at(t, j))
      expect += routed.weight_at(t, j) * ffn(layer.expert(routed.expert_at(t, j)));
  expect += ffn(layer.shared_expert(0));
  REQUIRE((fast.row(t) - expect).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("float MoE layer agrees with the double per-token loop", "[moe]") {
  const std::uint64_t seed = 9;
  INFO("seed " << seed);
  const moe::layer_config lc{.hidden = 32, .expert_hidden = 24, .num_experts = 16};
  const moe::basic_layer<ascend_910b, moe::swiglu_expert, double> ld(lc, seed);
  const moe::basic_layer<ascend_910b, moe::swiglu_expert, float> lf(lc, seed);
  const moe::router_config rc{.num_experts = 16, .top_k = 4, .hidden = 32};
  const moe::router r = moe::router::with_random_gate(rc, seed);
  rng g(seed);
  const row_matrix<double> x = random_tokens<double>(64, 32, g);
  const moe::routing routed = r.route(x);
  const row_matrix<double> ref = ld.forward_per_token(x, routed);
  const row_matrix<float> xf = x.cast<float>();
  const row_matrix<double> got = lf.forward(xf, routed).cast<double>();
  REQUIRE(got.allFinite());
  REQUIRE(relative_error(got, ref) < 1e-5);
  REQUIRE(ld.forward_flops(routed) == 64.0 * 4 * 2 * 32 * 24 * 3);
}

TEST_CASE("dropped assignments leave only the shared experts", "[moe]") {
  const moe::layer_config lc{
      .hidden = 8, .expert_hidden = 8, .num_experts = 4, .num_shared_experts = 2};
  const moe::basic_layer<h800_sxm, moe::swiglu_expert, double> layer(lc, 3);
  const moe::router_config rc{.num_experts = 4, .top_k = 1, .hidden = 8, .capacity_factor = 0.25};
  const moe::switch_router r(rc, row_matrix<double>::Zero(4, 8));
  row_matrix<double> logits = row_matrix<double>::Zero(16, 4);
  logits.col(2).setConstant(3.0);
  const moe::routing routed = r.route_logits(logits); // capacity ceil(16/4·0.25) = 1
  REQUIRE(routed.load[2] == 1);
  rng g(4);
  const row_matrix<double> x = random_tokens<double>(16, 8, g);
  moe::routing none = routed;
  std::fill(none.kept.begin(), none.kept.end(), std::uint8_t{0});
  const row_matrix<double> shared_only = layer.forward(x, none);
  const row_matrix<double> full = layer.forward(x, routed);
  // Only token 0 (the one admitted) differs.
  REQUIRE((full.bottomRows(15) - shared_only.bottomRows(15)).cwiseAbs().maxCoeff() < 1e-14);
  REQUIRE((full.row(0) - shared_only.row(0)).cwiseAbs().maxCoeff() > 1e-6);
}

TEST_CASE("MoE layer rejects mismatched shapes and non-finite tokens", "[moe]") {
  REQUIRE_THROWS_WITH(moe::layer({.hidden = 0, .expert_hidden = 4, .num_experts = 2}, 1),
                      "moe::layer: hidden (0) must be > 0");
  const moe::layer l({.hidden = 4, .expert_hidden = 4, .num_experts = 2}, 1);
  const moe::router r({.num_experts = 2, .top_k = 1, .hidden = 4}, row_matrix<double>::Zero(2, 4));
  row_matrix<float> x = row_matrix<float>::Zero(3, 4);
  const moe::routing routed = r.route(x);
  const row_matrix<float> wide = row_matrix<float>::Zero(3, 5);
  REQUIRE_THROWS_WITH(l.forward(wide, routed), "moe::layer: tokens.cols (5) must equal hidden (4)");
  const row_matrix<float> fewer = row_matrix<float>::Zero(2, 4);
  REQUIRE_THROWS_WITH(l.forward(fewer, routed),
                      "moe::layer: routing.tokens (3) must equal tokens.rows (2)");
  const moe::router r3({.num_experts = 3, .top_k = 1, .hidden = 4}, row_matrix<double>::Zero(3, 4));
  REQUIRE_THROWS_WITH(l.forward(x, r3.route(x)),
                      "moe::layer: routing.num_experts (3) must equal num_experts (2)");
  x(2, 1) = std::nanf("");
  REQUIRE_THROWS_WITH(l.forward(x, routed), "moe::layer: tokens(2, 1) (nan) must be finite");
}

TEMPLATE_TEST_CASE("threaded MoE forward is bit-identical for every thread count", "[moe]", float,
                   double) {
  // Uneven loads: logits biased towards expert 0, expert 7 never chosen (bias −100), capacity
  // ceil(300·3/8·1.0) = 113 drops expert 0's overflow. 300 tokens = 3 blocks of the shared
  // experts' GEMMs (96, 96, 108 rows), so threads 2, 3 and 7 split them differently.
  const std::uint64_t seed = 77;
  INFO("seed " << seed);
  const moe::layer_config lc{.hidden = 16,
                             .expert_hidden = 12,
                             .num_experts = 8,
                             .num_shared_experts = 2,
                             .shared_hidden = 20};
  const moe::basic_layer<h800_sxm, moe::swiglu_expert, TestType> layer(lc, seed);
  const moe::router_config rc{.num_experts = 8, .top_k = 3, .hidden = 16, .capacity_factor = 1.0};
  const moe::switch_router r(rc, row_matrix<double>::Zero(8, 16));
  rng g(seed + 1);
  const std::int64_t tokens = 300;
  row_matrix<double> logits = random_tokens<double>(tokens, 8, g);
  const double bias[8] = {3.0, 2.0, 1.0, 0.5, 0.0, 0.0, -0.5, -100.0};
  for (int e = 0; e < 8; ++e)
    logits.col(e).array() += bias[e];
  const moe::routing routed = r.route_logits(logits);
  REQUIRE(routed.load[7] == 0);
  REQUIRE(routed.total_dropped() > 0);
  REQUIRE(routed.load[0] > 2 * routed.load[5]);
  const row_matrix<TestType> x = random_tokens<TestType>(tokens, 16, g);

  const row_matrix<TestType> one = layer.forward(x, routed);
  REQUIRE(one.allFinite());
  // The sequential scatter-add, bit for bit: each token's rows are summed in expert order and
  // the shared GEMMs over row blocks equal the GEMMs over all rows.
  const row_matrix<TestType> plain = scatter_add_reference(layer, x, routed);
  REQUIRE((one.array() == plain.array()).all());
  for (int threads : {1, 2, 3, 7, 0}) {
    INFO("threads " << threads);
    const row_matrix<TestType> many = layer.forward(x, routed, {.threads = threads});
    REQUIRE((many.array() == one.array()).all());
  }
  const row_matrix<TestType> loop = layer.forward_per_token(x, routed);
  const double err = relative_error(one, loop);
  INFO("relative error against the per-token loop " << err);
  REQUIRE(err < (std::is_same_v<TestType, float> ? 1e-5 : 1e-13));

  // Few tokens: one shared block, more threads than tokens, and no tokens at all.
  const row_matrix<TestType> x5 = x.topRows(5);
  const moe::routing r5 = r.route_logits(logits.topRows(5));
  const row_matrix<TestType> five = layer.forward(x5, r5);
  REQUIRE((five.array() == scatter_add_reference(layer, x5, r5).array()).all());
  REQUIRE((layer.forward(x5, r5, {.threads = 7}).array() == five.array()).all());
  const moe::routing r0 = r.route_logits(logits.topRows(0));
  REQUIRE(layer.forward(x.topRows(0), r0, {.threads = 3}).rows() == 0);
}

TEST_CASE("threaded MoE forward without shared experts matches one thread", "[moe]") {
  const moe::layer_config lc{.hidden = 8, .expert_hidden = 8, .num_experts = 6};
  const moe::basic_layer<h800_sxm, moe::swiglu_expert, double> layer(lc, 5);
  const moe::router r({.num_experts = 6, .top_k = 2, .hidden = 8}, row_matrix<double>::Zero(6, 8));
  rng g(6);
  const row_matrix<double> x = random_tokens<double>(41, 8, g);
  const moe::routing routed = r.route_logits(random_tokens<double>(41, 6, g));
  const row_matrix<double> one = layer.forward(x, routed);
  REQUIRE((one.array() == scatter_add_reference(layer, x, routed).array()).all());
  for (int threads : {2, 3, 7})
    REQUIRE((layer.forward(x, routed, {.threads = threads}).array() == one.array()).all());
}

TEST_CASE("MoE forward rejects a negative thread count", "[moe]") {
  const moe::layer l({.hidden = 4, .expert_hidden = 4, .num_experts = 2}, 1);
  const moe::router r({.num_experts = 2, .top_k = 1, .hidden = 4}, row_matrix<double>::Zero(2, 4));
  const row_matrix<float> x = row_matrix<float>::Zero(3, 4);
  REQUIRE_THROWS_WITH(l.forward(x, r.route(x), {.threads = -1}),
                      "moe::layer: threads (-1) must be >= 0");
}

TEST_CASE("worker exceptions reach the caller after every worker ran", "[moe]") {
  std::atomic<int> ran{0};
  REQUIRE_THROWS_WITH(moe::detail::run_workers(4,
                                               [&](int i) {
                                                 ++ran;
                                                 if (i >= 2)
                                                   throw std::runtime_error("worker " +
                                                                            std::to_string(i));
                                               }),
                      "worker 2");
  REQUIRE(ran == 4);
  // Longest first, each to the least-loaded list; zero loads are left out.
  const std::vector<std::vector<int>> d = moe::detail::deal_longest_first({5, 0, 9, 4, 3}, 2);
  REQUIRE(d == std::vector<std::vector<int>>{{2, 4}, {0, 3}});
}
