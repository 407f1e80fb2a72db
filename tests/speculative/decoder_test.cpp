#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "infercost/speculative/decoder.hpp"

using namespace infercost;
using namespace infercost::speculative;

TEST_CASE("measured tokens per step matches (1 - a^(g+1)) / (1 - a) within sampling error",
          "[speculative][decoder]") {
  // Target seed 51, draft seeds 52.., sampling seed 53 + γ. With a per-state calibrated draft
  // the acceptances are i.i.d. Bernoulli(α), so the formula is exact and N̄ − E[N] is within
  // z·s/√n with probability 1 − 2Φ(−z) (CLT); z = 4 keeps the family-wise false-alarm rate of
  // these 15 comparisons below 1e-3.
  const ngram_model target(ngram_config{.vocab = 200, .order = 2, .states = 64, .seed = 51});
  const double z = 4.0;
  const std::int64_t steps = 20000;
  for (double alpha : {0.5, 0.7, 0.9}) {
    const ngram_model draft = make_draft(target, draft_config{.alpha = alpha, .seed = 52});
    for (int gamma : {1, 2, 3, 5, 8}) {
      decoder dec(draft, target, {.gamma = gamma});
      rng g(53 + static_cast<std::uint64_t>(gamma));
      std::vector<token> seq{3, 4};
      const decode_stats& s = dec.run(seq, steps, g);
      const double want = expected_tokens_per_step(alpha, gamma);
      const double se = s.standard_error_emitted();
      INFO("alpha " << alpha << " gamma " << gamma << ": measured " << s.mean_emitted() << " ± "
                    << se << ", analytic " << want << ", measured alpha " << s.acceptance());
      REQUIRE(std::isfinite(s.mean_emitted()));
      REQUIRE(std::isfinite(se));
      CHECK(std::abs(s.mean_emitted() - want) <= z * se);
      // The sample variance agrees with the truncated-geometric variance (within 10%).
      CHECK(s.sample_variance_emitted() ==
            Approx(tokens_per_step_variance(alpha, gamma)).epsilon(0.1));
      // Measured α: accepted / examined, binomial standard error √(α(1−α)/examined).
      const double se_a = std::sqrt(alpha * (1.0 - alpha) / static_cast<double>(s.examined));
      CHECK(std::abs(s.acceptance() - alpha) <= z * se_a);
      // Conservation.
      CHECK(static_cast<std::int64_t>(seq.size()) == 2 + s.emitted);
      CHECK(s.emitted == s.accepted + s.steps);
      CHECK(s.window_kv_written == s.steps * (gamma + 1));
      CHECK(s.window_kv_rolled_back == s.steps * gamma - s.accepted);
    }
  }
}

TEST_CASE("the same seed gives the same generated sequence", "[speculative][decoder]") {
  const ngram_model target(ngram_config{.vocab = 300, .states = 16, .seed = 61});
  const ngram_model draft = make_draft(target, draft_config{.alpha = 0.7, .seed = 62});
  decoder a(draft, target, {.gamma = 4}), b(draft, target, {.gamma = 4});
  rng ga(7), gb(7);
  std::vector<token> sa{1}, sb{1};
  a.run(sa, 500, ga);
  b.run(sb, 500, gb);
  CHECK(sa == sb);
  a.reset_stats();
  CHECK(a.stats().steps == 0);
}

TEST_CASE("the decoder prices its step with the models' configs", "[speculative][decoder]") {
  const ngram_model target(ngram_config{.vocab = 300, .states = 16, .seed = 61});
  const ngram_model draft = make_draft(target, draft_config{.alpha = 0.8, .seed = 62});
  basic_decoder<h200_sxm, ngram_model, ngram_model, rejection_sampling> dec(draft, target,
                                                                            {.gamma = 3});
  const step_cost c = dec.step_cost_of(1, 1000.0, 0.8);
  CHECK(c.gamma == 3);
  CHECK(c.tokens_per_step == Approx(expected_tokens_per_step(0.8, 3)));
  REQUIRE(std::isfinite(c.speedup));
  CHECK(c.speedup > 1.0);
  CHECK(dec.cost_model().config().draft->name == "llama32_1b");
  CHECK(dec.cost_model().config().target.name == "llama3_70b");
}

namespace {
/// A model whose distribution has the wrong size.
struct short_model {
  Eigen::VectorXd p = Eigen::VectorXd::Constant(2, 0.5);
  model::model_config cfg = llama32_1b();
  std::size_t vocab_size() const { return 3; }
  const Eigen::VectorXd& next_distribution(std::span<const token>) const { return p; }
  const model::model_config& cost_config() const { return cfg; }
};
} // namespace

TEST_CASE("the decoder rejects gamma < 1, vocabularies of different sizes and bad distributions",
          "[speculative][decoder]") {
  const ngram_model target(ngram_config{.vocab = 300, .states = 4, .seed = 1});
  const ngram_model other(ngram_config{.vocab = 301, .states = 4, .seed = 1});
  CHECK_THROWS_WITH(decoder(target, target, {.gamma = 0}),
                    "speculative::decoder: gamma (0) must be >= 1");
  CHECK_THROWS_WITH(decoder(other, target, {.gamma = 2}),
                    "speculative::decoder: draft.vocab_size (301) must equal target.vocab_size "
                    "(300)");
  const short_model bad;
  basic_decoder<h800_sxm, short_model, short_model, rejection_sampling> dec(bad, bad);
  rng g(1);
  std::vector<token> seq{0};
  CHECK_THROWS_WITH(dec.step(seq, g),
                    "speculative::decoder: draft.next_distribution.size (2) must equal "
                    "vocab_size (3)");
  decoder ok(target, target);
  CHECK_THROWS_AS(ok.run(seq, -1, g), config_error);
}
