#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "infercost/econ/api_prices.hpp"

using namespace infercost;
using namespace infercost::econ;

TEST_CASE("the article's US prices are its dollar prices at 7.25 yuan", "[econ][api_prices]") {
  const api_price& gpt = find_api_price("gpt_5_5");
  const token_prices usd = gpt.usd_per_mtok(article_cny_per_usd);
  CHECK(*usd.input_miss == Approx(5.0));
  CHECK(*usd.output == Approx(30.0));
  CHECK(*usd.input_hit == Approx(2.5).margin(0.001)); // ¥18.13 is $2.50 rounded to the fen
  const token_prices claude = find_api_price("claude_opus_4").usd_per_mtok(article_cny_per_usd);
  CHECK(*claude.input_miss == Approx(15.0));
  CHECK(*claude.output == Approx(75.0));
  CHECK(*claude.input_hit == Approx(3.0));
}

TEST_CASE("every price row is finite, positive and cites the article", "[econ][api_prices]") {
  for (const api_price& p : api_price_table) {
    INFO(p.key);
    CHECK(p.input_cache_miss_cny > 0.0);
    CHECK(p.output_cny > 0.0);
    CHECK(p.input_cache_hit_cny > 0.0);
    CHECK(p.input_cache_hit_cny <= p.input_cache_miss_cny);
    CHECK(std::isfinite(p.output_cny));
    CHECK(std::string(p.source).find("article") == 0);
    CHECK(&find_api_price(p.key) == &p);
  }
  // GLM-5 has no listed cache-hit price: every prompt token is billed at the input price.
  const api_price& glm = find_api_price("glm_5");
  CHECK_FALSE(glm.lists_cache_hit_price);
  CHECK(glm.input_cache_hit_cny == glm.input_cache_miss_cny);
}

TEST_CASE("an unknown price-table name lists the valid ones", "[econ][api_prices]") {
  CHECK_THROWS_WITH(find_api_price("gpt4"),
                    "econ::api_prices: key ('gpt4') is not a known price table entry; valid: "
                    "deepseek_v4_pro, mimo_v2_5_pro, qwen_plus, glm_5, gpt_5_5, claude_opus_4");
}

TEST_CASE("a scenario costs hit, miss and output tokens at their prices", "[econ][api_prices]") {
  // DeepSeek short chat: 1000 × (0.2 × 0.025 + 0.8 × 3.0) / 1e6 + 500 × 6 / 1e6 = ¥0.005405.
  const usage_scenario chat{"chat", 1000.0, 500.0, 0.2, 1.0};
  CHECK(scenario_cost(find_api_price("deepseek_v4_pro").cny_per_mtok(), chat) == Approx(0.005405));
  // Ten calls cost ten times one.
  usage_scenario ten = chat;
  ten.calls = 10.0;
  CHECK(scenario_cost(find_api_price("qwen_plus").cny_per_mtok(), ten) ==
        Approx(10.0 * (1000.0 * (0.2 * 0.5 + 0.8 * 2.0) + 500.0 * 6.0) / 1e6));
}

TEST_CASE("a scenario needing a price that does not apply is an error", "[econ][api_prices]") {
  const token_prices no_hit{1.0, std::nullopt, 2.0};
  const usage_scenario all_miss{"all miss", 1000.0, 10.0, 0.0, 1.0};
  CHECK(scenario_cost(no_hit, all_miss) == Approx(0.001 + 0.00002));
  const usage_scenario some_hit{"some hit", 1000.0, 10.0, 0.5, 1.0};
  CHECK_THROWS_WITH(scenario_cost(no_hit, some_hit),
                    "econ::scenario_cost: input_hit is not applicable, but scenario 'some hit' "
                    "needs it (500 tokens)");
  CHECK_THROWS_WITH(scenario_cost(token_prices{-1.0, 0.0, 0.0}, all_miss),
                    "econ::scenario_cost: input_miss (-1) must be >= 0");
}

TEST_CASE("scenarios reject bad fields by name", "[econ][api_prices]") {
  const token_prices p = find_api_price("deepseek_v4_pro").cny_per_mtok();
  CHECK_THROWS_WITH(scenario_cost(p, {"x", -1.0, 0.0, 0.0, 1.0}),
                    "econ::usage_scenario: input_tokens (-1) must be >= 0");
  CHECK_THROWS_WITH(scenario_cost(p, {"x", 1.0, 0.0, 1.5, 1.0}),
                    "econ::usage_scenario: cache_hit_ratio (1.5) must be in [0, 1]");
  CHECK_THROWS_AS(scenario_cost(p, {"x", 1.0, std::nan(""), 0.0, 1.0}), config_error);
  CHECK_THROWS_AS(scenario_cost(p, {"x", 1.0, 1.0, 0.0, -2.0}), config_error);
}

TEST_CASE("public prices compare with simulated ones category by category", "[econ][api_prices]") {
  // Simulated: miss $0.50/M, hit not applicable, output $5/M; at ¥7.25/$ that is ¥3.625 and
  // ¥36.25, so DeepSeek's ¥3.0 miss price is 0.8276x and its ¥6 output 0.1655x the simulation.
  price_sheet s;
  s.input_miss.tokens = 1.0;
  s.input_miss.cost_usd_per_mtok = 0.5;
  s.input_miss.price_usd_per_mtok = 0.5;
  s.output.tokens = 1.0;
  s.output.cost_usd_per_mtok = 5.0;
  s.output.price_usd_per_mtok = 5.0;
  const price_comparison c = compare_prices(find_api_price("deepseek_v4_pro"), s, 7.25);
  REQUIRE(c.input_miss.ratio);
  CHECK(*c.input_miss.ratio == Approx(3.0 / 3.625));
  CHECK(*c.output.ratio == Approx(6.0 / 36.25));
  CHECK(*c.input_hit.api == 0.025);
  CHECK_FALSE(c.input_hit.simulated.has_value());
  CHECK_FALSE(c.input_hit.ratio.has_value());
  // A simulated price of zero gives no ratio rather than infinity.
  const price_comparison z =
      compare_prices(token_prices{1.0, 1.0, 1.0}, token_prices{0.0, 1.0, 2.0});
  CHECK_FALSE(z.input_miss.ratio.has_value());
  CHECK(*z.output.ratio == 0.5);
  CHECK_THROWS_AS(compare_prices(find_api_price("glm_5"), s, -1.0), config_error);
}
