#include <catch2/catch.hpp>

#include <cmath>

#include "infercost/attention/synthetic.hpp"

using namespace infercost;
using namespace infercost::attention;

namespace {
const head_layout layout{.num_heads = 4, .num_kv_heads = 1, .head_dim = 32, .v_head_dim = 32};

struct errors {
  double window, window_sinks, topk, csa;
};

/// Relative L2 error of each sparse policy against full attention on one synthetic draw.
errors measure(synthetic_pattern p, int n, std::uint64_t seed) {
  const synthetic_config sc{.tokens = n, .layout = layout, .pattern = p, .seed = seed};
  const qkv x = make_qkv(sc);
  const matrix ref = full_forward(layout, x);
  const topk_config tk{.index_heads = 4, .index_dim = 32, .top_k = n / 8};
  errors e{};
  e.window = relative_l2_error(sliding_window_forward(layout, x, {.window = n / 8}), ref);
  e.window_sinks =
      relative_l2_error(sliding_window_forward(layout, x, {.window = n / 8, .sinks = 4}), ref);
  e.topk =
      relative_l2_error(topk_forward(layout, x, make_indexer(layout, x, tk, seed + 1), tk), ref);
  e.csa = relative_l2_error(csa_forward(layout, x, {}), ref);
  return e;
}
} // namespace

TEST_CASE("synthetic inputs are deterministic in their seed", "[attention]") {
  const synthetic_config c{
      .tokens = 64, .layout = layout, .pattern = synthetic_pattern::sinks, .seed = 7};
  const qkv a = make_qkv(c), b = make_qkv(c);
  CHECK(a.q == b.q);
  CHECK(a.k == b.k);
  CHECK(a.v == b.v);
  synthetic_config other = c;
  other.seed = 8;
  CHECK_FALSE(make_qkv(other).k == a.k);
  CHECK(a.q.allFinite());
  const topk_config t{.index_heads = 2, .index_dim = 16, .top_k = 8};
  CHECK(make_indexer(layout, a, t, 3).q == make_indexer(layout, a, t, 3).q);
}

TEST_CASE("synthetic patterns put attention where they say", "[attention]") {
  // Locality: logit(i, j) ≈ strength·ρ^|i−j|, so neighbours outscore distant keys.
  const synthetic_config loc{.tokens = 400, .layout = layout, .seed = 5};
  const qkv x = make_qkv(loc);
  const double s = layout.softmax_scale();
  double near = 0.0, far = 0.0;
  for (int i = 200; i < 400; ++i) {
    near += s * double(x.q.row(i).head(32).dot(x.k.row(i - 1)));
    far += s * double(x.q.row(i).head(32).dot(x.k.row(i - 150)));
  }
  CHECK(near / 200 > 4.0);          // ≈ 6·0.97 = 5.8
  CHECK(std::abs(far / 200) < 1.0); // ≈ 6·0.97^150 ≈ 0.06
  // Sinks: every query scores the sink keys at ≈ strength.
  const synthetic_config snk{
      .tokens = 400, .layout = layout, .pattern = synthetic_pattern::sinks, .seed = 5};
  const qkv y = make_qkv(snk);
  double sink = 0.0;
  for (int i = 100; i < 400; ++i)
    sink += s * double(y.q.row(i).head(32).dot(y.k.row(1)));
  CHECK(sink / 300 == Approx(6.0).margin(1.0));
}

TEST_CASE("sparse policies err little on the structure they exploit and much without it",
          "[attention]") {
  // n = 512, window and top-k = n/8 = 64; seed 2024.
  const errors loc = measure(synthetic_pattern::locality, 512, 2024);
  const errors snk = measure(synthetic_pattern::sinks, 512, 2024);
  const errors rnd = measure(synthetic_pattern::random, 512, 2024);
  for (const errors& e : {loc, snk, rnd}) {
    CHECK(std::isfinite(e.window));
    CHECK(std::isfinite(e.window_sinks));
    CHECK(std::isfinite(e.topk));
    CHECK(std::isfinite(e.csa));
  }
  WARN("relative L2 error vs full (n=512, window/top-k 64, csa 10%/8x): locality window "
       << loc.window << " window+sinks " << loc.window_sinks << " topk " << loc.topk << " csa "
       << loc.csa << "; sinks window " << snk.window << " window+sinks " << snk.window_sinks
       << " topk " << snk.topk << " csa " << snk.csa << "; random window " << rnd.window
       << " window+sinks " << rnd.window_sinks << " topk " << rnd.topk << " csa " << rnd.csa);
  CHECK(loc.window < 0.3);
  CHECK(loc.topk < 0.25);
  CHECK(loc.window < 0.3 * rnd.window);
  CHECK(snk.window_sinks < 0.35);
  CHECK(snk.window > 2.0 * snk.window_sinks); // dropping the sinks loses their mass
  CHECK(rnd.window > 0.5);                    // no locality to exploit
  CHECK(rnd.topk < rnd.window);               // the indexer still finds the heavy keys
}

TEST_CASE("CSA errs little only when values are low-rank", "[attention]") {
  // Compressing V by 8 keeps 1/8 of its directions: a full-rank V loses most of the output of
  // the 90% compressed queries; a V of rank head_dim/8 is kept whole by the PCA basis, and what
  // is left is the error of the compressed keys.
  synthetic_config sc{.tokens = 256, .layout = layout, .seed = 99};
  const qkv full_rank = make_qkv(sc);
  sc.value_rank = 4;
  const qkv low_rank = make_qkv(sc);
  const double e_full =
      relative_l2_error(csa_forward(layout, full_rank, {}), full_forward(layout, full_rank));
  const double e_low =
      relative_l2_error(csa_forward(layout, low_rank, {}), full_forward(layout, low_rank));
  WARN("CSA relative L2 error, n=256 locality: full-rank V " << e_full << ", rank-4 V " << e_low);
  REQUIRE(std::isfinite(e_low));
  CHECK(e_full > 0.5);
  CHECK(e_low < 0.75 * e_full); // the compressed keys still distort the logits
}

TEST_CASE("bad synthetic configs are rejected", "[attention]") {
  CHECK_THROWS_WITH(make_qkv({.tokens = 0}), "attention::synthetic: tokens (0) must be > 0");
  CHECK_THROWS_WITH(make_qkv({.tokens = 8, .correlation = 1.0}),
                    "attention::synthetic: correlation (1) must be in [0, 0.999999]");
  CHECK_THROWS_WITH(make_qkv({.tokens = 8, .strength = std::nan("")}),
                    "attention::synthetic: strength (nan) must be finite");
  CHECK_THROWS_WITH(make_qkv({.tokens = 8, .value_rank = 65}),
                    "attention::synthetic: value_rank (65) must be <= v_head_dim (64)");
}
