#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

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
