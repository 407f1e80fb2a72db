#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "infercost/speculative/language_model.hpp"

using namespace infercost;
using namespace infercost::speculative;

static_assert(language_model<ngram_model>);

TEST_CASE("ngram rows are distributions and the same seed gives the same table", "[speculative]") {
  const ngram_model a(ngram_config{.vocab = 500, .order = 2, .states = 8, .seed = 11});
  const ngram_model b(ngram_config{.vocab = 500, .order = 2, .states = 8, .seed = 11});
  const ngram_model c(ngram_config{.vocab = 500, .order = 2, .states = 8, .seed = 12});
  REQUIRE(a.num_states() == 8);
  for (std::size_t s = 0; s < a.num_states(); ++s) {
    CHECK_NOTHROW(check_distribution("test", "row", a.row(s)));
    CHECK(a.row(s) == b.row(s));
  }
  CHECK(a.row(0) != c.row(0));
}

TEST_CASE("ngram state depends only on the last order tokens", "[speculative]") {
  const ngram_model m(ngram_config{.vocab = 50, .order = 2, .states = 97, .seed = 3});
  const std::vector<token> x{1, 2, 3, 4};
  const std::vector<token> y{9, 9, 3, 4};
  const std::vector<token> z{1, 2, 4, 3};
  CHECK(m.state_of(x) == m.state_of(y));
  CHECK(&m.next_distribution(x) == &m.next_distribution(y));
  // 97 buckets: a collision of these two contexts would be a 1-in-97 accident of the hash.
  CHECK(m.state_of(x) != m.state_of(z));
}

TEST_CASE("a draft calibrated per state has acceptance alpha in every state", "[speculative]") {
  const ngram_model target(ngram_config{.vocab = 1000, .states = 16, .seed = 5});
  for (double alpha : {0.5, 0.7, 0.9, 1.0}) {
    const ngram_model draft = make_draft(target, draft_config{.alpha = alpha, .seed = 6});
    REQUIRE(draft.vocab_size() == target.vocab_size());
    for (std::size_t s = 0; s < target.num_states(); ++s) {
      const double a = acceptance_rate(target.row(s), draft.row(s));
      REQUIRE(std::isfinite(a));
      CHECK(a == Approx(alpha).margin(1e-9));
      CHECK_NOTHROW(check_distribution("test", "q", draft.row(s)));
    }
  }
}

TEST_CASE("a fixed noise mixture lowers acceptance and it varies across states", "[speculative]") {
  const ngram_model target(ngram_config{.vocab = 1000, .states = 16, .seed = 5});
  const ngram_model d1 =
      make_draft(target, draft_config{.per_state_alpha = false, .mixture = 0.1, .seed = 6});
  const ngram_model d2 =
      make_draft(target, draft_config{.per_state_alpha = false, .mixture = 0.4, .seed = 6});
  double lo = 1.0, hi = 0.0;
  for (std::size_t s = 0; s < target.num_states(); ++s) {
    const double a1 = acceptance_rate(target.row(s), d1.row(s));
    const double a2 = acceptance_rate(target.row(s), d2.row(s));
    CHECK(a2 < a1);
    // α = Σ min(p, (1−ε)p + εn) >= 1 − ε.
    CHECK(a1 >= 0.9 - 1e-12);
    lo = std::min(lo, a2);
    hi = std::max(hi, a2);
  }
  CHECK(hi - lo > 1e-3);
  // A temperature != 1 alone makes the draft disagree.
  const ngram_model hot = make_draft(
      target, draft_config{.per_state_alpha = false, .mixture = 0.0, .temperature = 1.5});
  CHECK(acceptance_rate(target.row(0), hot.row(0)) < 0.99);
}

TEST_CASE("bad distributions and configs are rejected with named fields", "[speculative]") {
  Eigen::VectorXd p(3);
  p << 0.5, -0.1, 0.6;
  CHECK_THROWS_WITH(check_distribution("speculative::verify", "p", p),
                    "speculative::verify: p[1] (-0.1) must be finite and >= 0");
  p << 0.5, 0.3, 0.3;
  CHECK_THROWS_WITH(check_distribution("speculative::verify", "p", p),
                    Catch::Contains("sum(p) (1.1") && Catch::Contains("must be 1 within"));
  p << 0.5, std::numeric_limits<double>::quiet_NaN(), 0.5;
  CHECK_THROWS_AS(check_distribution("c", "p", p), config_error);
  p << 0.5, 0.25, 0.25;
  CHECK_NOTHROW(check_distribution("c", "p", p));
  CHECK_THROWS_AS(check_distribution("c", "p", Eigen::VectorXd()), config_error);

  const Eigen::VectorXd q = Eigen::VectorXd::Constant(4, 0.25);
  CHECK_THROWS_WITH(acceptance_rate(p, q),
                    "speculative::acceptance_rate: q.size (4) must equal p.size (3)");

  CHECK_THROWS_WITH(ngram_model(ngram_config{.vocab = 0}),
                    "speculative::ngram_model: vocab (0) must be > 0");
  CHECK_THROWS_AS(ngram_model(ngram_config{.order = 0}), config_error);
  Eigen::VectorXd bad(2);
  bad << 0.7, 0.7;
  CHECK_THROWS_WITH(ngram_model(ngram_config{}, {bad}),
                    Catch::Contains("speculative::ngram_model: sum(rows[0])"));
  Eigen::VectorXd r3(3), r2(2);
  r3 << 0.2, 0.3, 0.5;
  r2 << 0.5, 0.5;
  CHECK_THROWS_WITH(ngram_model(ngram_config{}, {r3, r2}),
                    "speculative::ngram_model: rows[1].size (2) must equal rows[0].size (3)");

  const ngram_model target(ngram_config{.vocab = 100, .states = 4, .seed = 1});
  CHECK_THROWS_WITH(make_draft(target, draft_config{.alpha = 1.5}),
                    "speculative::make_draft: alpha (1.5) must be in [0, 1]");
  CHECK_THROWS_AS(make_draft(target, draft_config{.alpha = -0.1}), config_error);
  CHECK_THROWS_AS(make_draft(target, draft_config{.temperature = 0.0}), config_error);
  // Zero acceptance would need a noise row disjoint from p: unreachable, said so.
  CHECK_THROWS_WITH(make_draft(target, draft_config{.alpha = 0.0}),
                    Catch::Contains("alpha (0) must be reachable in state 0"));
}

TEST_CASE("the Llama-3.2-1B draft has about 1.24B parameters", "[speculative]") {
  // 128256·2048 (tied) + 16·(2048·(2048 + 2·512 + 2048) + 3·2048·8192) = 1,235,746,816
  // (norms excluded); Meta reports 1.23B.
  CHECK(model::count_params(llama32_1b()).total() == 1235746816.0);
}
