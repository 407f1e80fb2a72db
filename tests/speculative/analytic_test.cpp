#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "infercost/speculative/analytic.hpp"

using namespace infercost;
using namespace infercost::speculative;

TEST_CASE("expected tokens per step matches the closed form and its limits", "[speculative]") {
  // γ = 4, α = 0.8: (1 − 0.8^5) / 0.2 = (1 − 0.32768) / 0.2 = 3.3616.
  CHECK(expected_tokens_per_step(0.8, 4) == Approx(3.3616).epsilon(1e-12));
  // α = 0: every step emits only the correction token; α = 1: all γ plus the bonus.
  CHECK(expected_tokens_per_step(0.0, 5) == 1.0);
  CHECK(expected_tokens_per_step(1.0, 5) == 6.0);
  // DeepSeek-V3 MTP: γ = 1 gives 1 + α, i.e. 1.85–1.90 at 85–90% acceptance.
  CHECK(expected_tokens_per_step(0.85, 1) == Approx(1.85));
  CHECK(expected_tokens_per_step(0.90, 1) == Approx(1.90));
  for (double a : {0.0, 0.3, 0.7, 0.95, 1.0})
    for (int g : {1, 2, 3, 8}) {
      const std::vector<double> pmf = tokens_per_step_pmf(a, g);
      CHECK(std::accumulate(pmf.begin(), pmf.end(), 0.0) == Approx(1.0).margin(1e-15));
      double m = 0.0;
      for (std::size_t k = 0; k < pmf.size(); ++k)
        m += (static_cast<double>(k) + 1.0) * pmf[k];
      CHECK(m == Approx(expected_tokens_per_step(a, g)).margin(1e-12));
      CHECK(tokens_per_step_variance(a, g) >= -1e-12);
    }
  // γ = 1: N − 1 is Bernoulli(α), variance α(1 − α).
  CHECK(tokens_per_step_variance(0.3, 1) == Approx(0.21));
}

TEST_CASE("the article's speedup formula differs from the expected tokens per step",
          "[speculative]") {
  // Article §3.2: speedup = 1 / (1 − ᾱ + ᾱ/K) with ᾱ = mean(accepted / K).
  // α = 0.8, γ = K = 4: E[K] = 2.3616, ᾱ = 0.5904, article 1 / (0.4096 + 0.1476) = 1.7947;
  // the expected tokens per step (an upper bound on the speedup, free draft) is 3.3616.
  CHECK(article_acceptance_rate(0.8, 4) == Approx(0.5904));
  CHECK(article_speedup(0.5904, 4) == Approx(1.0 / (1.0 - 0.5904 + 0.5904 / 4.0)));
  CHECK(article_speedup(article_acceptance_rate(0.8, 4), 4) == Approx(1.79469).epsilon(1e-5));
  // Leviathan et al. Theorem 3.8 with c = 0.05: 3.3616 / 1.2 = 2.80133.
  CHECK(ideal_speedup(0.8, 4, 0.05) == Approx(3.3616 / 1.2));
  CHECK(ideal_speedup(0.8, 4, 0.0) == Approx(expected_tokens_per_step(0.8, 4)));
}

TEST_CASE("the acceptance model samples the truncated geometric law, seeded", "[speculative]") {
  const acceptance_model m(0.85, 3);
  rng g(99); // printed seed
  const int n = 200000;
  double s = 0.0, s2 = 0.0;
  std::vector<int> hist(4, 0);
  for (int i = 0; i < n; ++i) {
    const int k = m.sample_accepted(g);
    REQUIRE((k >= 0 && k <= 3));
    ++hist[static_cast<std::size_t>(k)];
    s += k + 1.0;
    s2 += (k + 1.0) * (k + 1.0);
  }
  const double mean = s / n, var = (s2 - n * mean * mean) / (n - 1.0);
  const double se = std::sqrt(var / n);
  REQUIRE(std::isfinite(mean));
  // 4 standard errors (two-sided false-alarm rate 6e-5).
  CHECK(std::abs(mean - m.expected_emitted()) < 4.0 * se);
  CHECK(var == Approx(tokens_per_step_variance(0.85, 3)).epsilon(0.02));
  // P(K = 3) = 0.85^3 = 0.614125.
  CHECK(hist[3] / static_cast<double>(n) == Approx(0.614125).margin(0.005));

  rng a(5), b(5);
  CHECK(m.sample_emitted(1000, a) == m.sample_emitted(1000, b));
  rng c(5);
  const std::int64_t t = m.sample_emitted(1000, c);
  CHECK((t >= 1000 && t <= 4000));
}

TEST_CASE("alpha outside [0, 1] and gamma < 1 are rejected", "[speculative]") {
  CHECK_THROWS_WITH(expected_tokens_per_step(1.2, 4),
                    "speculative::expected_tokens_per_step: alpha (1.2) must be in [0, 1]");
  CHECK_THROWS_WITH(expected_tokens_per_step(0.5, 0),
                    "speculative::expected_tokens_per_step: gamma (0) must be >= 1");
  CHECK_THROWS_AS(expected_tokens_per_step(-0.01, 4), config_error);
  CHECK_THROWS_AS(expected_tokens_per_step(std::nan(""), 4), config_error);
  CHECK_THROWS_AS(tokens_per_step_pmf(0.5, -1), config_error);
  CHECK_THROWS_AS(article_speedup(1.5, 4), config_error);
  CHECK_THROWS_AS(ideal_speedup(0.5, 4, -1.0), config_error);
  CHECK_THROWS_WITH(acceptance_model(2.0, 3),
                    "speculative::acceptance_profile: alpha (2) must be in [0, 1]");
  CHECK_THROWS_AS(acceptance_model(0.5, 0), config_error);
  rng g(1);
  CHECK_THROWS_AS(acceptance_model(0.5, 2).sample_emitted(-1, g), config_error);
}
