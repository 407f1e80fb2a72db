#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "infercost/moe/balance.hpp"
#include "infercost/moe/router.hpp"

using namespace infercost;
using moe::row_matrix;

TEST_CASE("balance metrics on hand-computed loads", "[moe]") {
  const std::vector<double> balanced{4, 4, 4, 4};
  const std::vector<double> hot{16, 0, 0, 0};
  const std::vector<double> mixed{1, 2, 3, 6}; // mean 3, population sd sqrt(3.5)
  REQUIRE(moe::load_cv(balanced) == 0.0);
  REQUIRE(moe::load_cv(mixed) == Approx(std::sqrt(3.5) / 3.0));
  REQUIRE(moe::max_over_mean(mixed) == Approx(2.0));
  REQUIRE(moe::max_over_mean(hot) == Approx(4.0));
  REQUIRE(moe::kl_to_uniform(balanced) == Approx(0.0).margin(1e-15));
  REQUIRE(moe::kl_to_uniform(hot) == Approx(std::log(4.0)));
  // Article variance form: E·var(load/total). mixed/12 = {1,2,3,6}/12, var = 3.5/144, ×4.
  REQUIRE(moe::article_variance_loss(mixed, 12.0) == Approx(4.0 * 3.5 / 144.0));
  // As the article runs it, total_routes stays 0 and the loss is always 0.
  REQUIRE(moe::article_variance_loss(hot, 0.0) == 0.0);
  // Article KL form with total = Σ load equals E·KL (up to its 1e-10 terms).
  REQUIRE(moe::article_kl_loss(mixed, 12.0) ==
          Approx(4.0 * moe::kl_to_uniform(mixed)).epsilon(1e-8));
  // With total_routes = tokens and top_k = 2 (loads sum to 2·tokens) it is not a divergence:
  // balanced loads {4,4,4,4} with 8 tokens give f_i = 0.5 and E·Σ 0.5·log(0.5·4) = 4·4·0.5·log 2
  // instead of 0.
  REQUIRE(moe::article_kl_loss(balanced, 8.0) == Approx(4.0 * 4.0 * 0.5 * std::log(2.0)));
  REQUIRE_THROWS_WITH(moe::load_cv(std::vector<double>{1, -1}),
                      "moe::load_cv: load[i] (-1) must be >= 0");
  REQUIRE_THROWS_AS(moe::max_over_mean(std::vector<double>{}), config_error);
}

TEST_CASE("Switch auxiliary loss is 1 for uniform routing and grows with skew", "[moe]") {
  const moe::router_config cfg{.num_experts = 4, .top_k = 1, .hidden = 2};
  const moe::router r(cfg, row_matrix<double>::Zero(4, 2));
  row_matrix<double> logits = row_matrix<double>::Zero(4, 4);
  for (int t = 0; t < 4; ++t)
    logits(t, t) = 1e-9; // each token picks its own expert; affinities ≈ 1/4
  REQUIRE(moe::switch_aux_loss(r.route_logits(logits)) == Approx(1.0));
  logits.setZero();
  logits.col(0).setConstant(10.0); // f = (1,0,0,0), P_0 ≈ 1
  const double skewed = moe::switch_aux_loss(r.route_logits(logits));
  REQUIRE(std::isfinite(skewed));
  REQUIRE(skewed == Approx(4.0 * std::exp(10.0) / (std::exp(10.0) + 3.0)));
}

TEST_CASE("skewed stream follows its popularity and the inclusion approximation", "[moe]") {
  const std::uint64_t seed = 2024;
  INFO("seed " << seed);
  const int e = 32, k = 4;
  const std::vector<double> p = moe::zipf_popularity(e, 1.0, seed);
  REQUIRE(std::accumulate(p.begin(), p.end(), 0.0) == Approx(1.0));
  rng g(seed);
  const moe::router_config cfg{.num_experts = e, .top_k = k, .hidden = 1};
  const moe::router r(cfg, row_matrix<double>::Zero(e, 1));
  const std::int64_t tokens = 20000;
  const moe::routing got = r.route_logits(moe::skewed_logits(tokens, p, g));
  const std::vector<double> pi = moe::inclusion_probabilities(p, k);
  REQUIRE(std::accumulate(pi.begin(), pi.end(), 0.0) == Approx(k));
  double worst = 0.0;
  for (int i = 0; i < e; ++i) {
    const double measured =
        static_cast<double>(got.demand[static_cast<std::size_t>(i)]) / static_cast<double>(tokens);
    worst = std::max(worst, std::abs(measured - pi[static_cast<std::size_t>(i)]));
  }
  INFO("largest |measured - approximated| inclusion probability " << worst);
  REQUIRE(worst < 0.03);

  // Distinct experts touched by batches of B tokens: the formula against counting.
  for (const int batch : {1, 4, 16, 64}) {
    double touched = 0.0;
    const int batches = tokens / batch;
    for (int b = 0; b < batches; ++b) {
      std::set<int> seen;
      for (int t = 0; t < batch; ++t)
        for (int j = 0; j < k; ++j)
          seen.insert(got.expert_at(static_cast<std::int64_t>(b) * batch + t, j));
      touched += static_cast<double>(seen.size());
    }
    touched /= batches;
    const double predicted = moe::expected_distinct_experts(pi, batch);
    INFO("batch " << batch << " measured " << touched << " predicted " << predicted);
    REQUIRE(std::isfinite(predicted));
    REQUIRE(predicted == Approx(touched).epsilon(0.04));
  }
}

TEST_CASE("distinct experts for uniform routing follow E(1-(1-k/E)^B)", "[moe]") {
  // DeepSeek-V3: E = 256, k = 8. One token touches 8; B = 32 touches 256·(1 − (31/32)^32) =
  // 163.31 ((31/32)^32 = exp(32·ln(31/32)) = exp(−1.01596) = 0.36206).
  REQUIRE(moe::expected_distinct_experts_uniform(256, 8, 1) == Approx(8.0));
  REQUIRE(moe::expected_distinct_experts_uniform(256, 8, 32) == Approx(163.31).epsilon(1e-4));
  const std::vector<double> uniform(256, 1.0 / 256);
  const std::vector<double> pi = moe::inclusion_probabilities(uniform, 8);
  REQUIRE(pi[0] == Approx(8.0 / 256));
  REQUIRE(moe::expected_distinct_experts(pi, 32) ==
          Approx(moe::expected_distinct_experts_uniform(256, 8, 32)));
  REQUIRE_THROWS_WITH(
      moe::expected_distinct_experts_uniform(8, 9, 1),
      "moe::expected_distinct_experts_uniform: top_k (9) must be <= num_experts (8)");
}

TEST_CASE("auxiliary-loss-free bias update drives max/mean load down on a skewed stream", "[moe]") {
  const std::uint64_t seed = 77;
  INFO("seed " << seed);
  const int e = 32, k = 4;
  const moe::router_config cfg{.num_experts = e,
                               .top_k = k,
                               .hidden = 1,
                               .n_group = 4,
                               .topk_group = 2,
                               .bias_update_rate = 0.02};
  moe::deepseek_router r(cfg, row_matrix<double>::Zero(e, 1));
  const std::vector<double> p = moe::zipf_popularity(e, 1.0, seed);
  rng g(seed);
  std::vector<double> curve;
  for (int step = 0; step < 120; ++step) {
    const moe::routing got = r.route_logits(moe::skewed_logits(512, p, g));
    const std::vector<double> d = got.demand_as_double();
    curve.push_back(moe::max_over_mean(d));
    r.update_bias(got);
  }
  const double first = curve.front();
  double last = 0.0;
  for (std::size_t s = curve.size() - 10; s < curve.size(); ++s)
    last += curve[s] / 10.0;
  INFO("max/mean load: step 0 " << first << ", mean of the last 10 steps " << last);
  REQUIRE(std::isfinite(last));
  REQUIRE(first > 3.0);
  REQUIRE(last < 0.5 * first);
}

namespace {
/// E[min(X, c)] for X ~ Binomial(n, p) summed over every x, the pmf from log-factorials
/// (std::lgamma): the plain formula the library's sum is checked against.
double brute_processed(std::int64_t n, double p, std::int64_t c) {
  double s = 0.0;
  for (std::int64_t x = 0; x <= n; ++x) {
    const double xd = static_cast<double>(x), nd = static_cast<double>(n);
    const double logp = std::lgamma(nd + 1) - std::lgamma(xd + 1) - std::lgamma(nd - xd + 1) +
                        xd * std::log(p) + (nd - xd) * std::log1p(-p);
    s += static_cast<double>(c < 0 ? x : std::min(x, c)) * std::exp(logp);
  }
  return s;
}
} // namespace

TEST_CASE("expected processed and dropped assignments are Binomial sums", "[moe]") {
  // X ~ Binomial(4, 1/2), capacity 1: E[min(X, 1)] = P(X >= 1) = 15/16; dropped = 2 − 15/16.
  CHECK(moe::expected_processed(4, 0.5, 1) == Approx(15.0 / 16));
  CHECK(moe::expected_dropped(4, 0.5, 1) == Approx(17.0 / 16));
  // Capacity 3 of 4: only X = 4 drops one, P = 1/16.
  CHECK(moe::expected_dropped(4, 0.5, 3) == Approx(1.0 / 16));
  CHECK(moe::expected_processed(4, 0.5, 3) == Approx(2.0 - 1.0 / 16));
  // No limit, a capacity of every token, p = 0 or 1, capacity 0: the obvious values.
  CHECK(moe::expected_processed(10, 0.3, -1) == Approx(3.0));
  CHECK(moe::expected_processed(10, 0.3, 10) == Approx(3.0));
  CHECK(moe::expected_dropped(10, 0.3, 10) == 0.0);
  CHECK(moe::expected_processed(10, 0.0, 2) == 0.0);
  CHECK(moe::expected_processed(10, 1.0, 4) == 4.0);
  CHECK(moe::expected_dropped(10, 1.0, 4) == 6.0);
  CHECK(moe::expected_processed(10, 0.3, 0) == 0.0);
  CHECK(moe::expected_processed(0, 0.3, 0) == 0.0);
  // Against the full sum over every x, capacity below, at and above the mean, small and large n.
  for (std::int64_t n : {1, 7, 40, 513, 5000, 40000})
    for (double p : {0.001, 0.03125, 0.2, 0.7})
      for (double f : {0.5, 0.9, 1.0, 1.1, 1.25, 2.0}) {
        const auto c = static_cast<std::int64_t>(std::ceil(static_cast<double>(n) * p * f));
        INFO("n " << n << " p " << p << " capacity " << c);
        const double got = moe::expected_processed(n, p, c);
        const double dropped = moe::expected_dropped(n, p, c);
        REQUIRE(std::isfinite(got));
        CHECK(got == Approx(brute_processed(n, p, c)).epsilon(1e-9).margin(1e-12));
        CHECK(got + dropped == Approx(static_cast<double>(n) * p).epsilon(1e-12));
        CHECK(dropped >= 0.0);
      }
  REQUIRE_THROWS_WITH(moe::expected_processed(-1, 0.5, 1),
                      "moe::expected_processed: tokens (-1) must be >= 0");
  REQUIRE_THROWS_WITH(moe::expected_dropped(4, 1.5, 1),
                      "moe::expected_dropped: inclusion (1.5) must be in [0, 1]");
  REQUIRE_THROWS_WITH(moe::expected_processed(4, 0.5, -2),
                      "moe::expected_processed: capacity (-2) must be >= -1");
}

TEST_CASE("binomial probabilities are accurate where log-factorials lose digits", "[moe]") {
  // Exact small cases: P(X = 2) for Binomial(4, 1/2) = 6/16; Binomial(20, 0.3) at 6 by the
  // product formula.
  CHECK(moe::detail::binomial_pmf(2, 4, 0.5) == Approx(6.0 / 16).epsilon(1e-14));
  double c = 1.0;
  for (int i = 0; i < 6; ++i)
    c = c * (20 - i) / (i + 1); // C(20, 6) = 38760
  CHECK(c == 38760.0);
  CHECK(moe::detail::binomial_pmf(6, 20, 0.3) ==
        Approx(c * std::pow(0.3, 6) * std::pow(0.7, 14)).epsilon(1e-13));
  // Stirling's series meets the exact factorials at its switch (n = 15 → 16): log 16! from
  // 15!·16, exactly representable.
  const double log_sqrt_2pi = 0.5 * std::log(2.0 * std::acos(-1.0));
  const double exact16 =
      std::log(1307674368000.0 * 16.0) - 16.5 * std::log(16.0) + 16.0 - log_sqrt_2pi;
  CHECK(moe::detail::stirling_error(16.0) == Approx(exact16).epsilon(1e-12));
  // The probabilities of a large n sum to 1.
  double total = 0.0;
  for (int x = 0; x <= 100000; ++x)
    total += moe::detail::binomial_pmf(x, 100000, 0.03125);
  CHECK(total == Approx(1.0).epsilon(1e-12));
}
