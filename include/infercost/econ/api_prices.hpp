/// @file
/// Public API prices (the article's table, in yuan per million tokens), what a usage scenario
/// costs at a set of prices, and how API prices compare with simulated ones.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/econ/tco.hpp"

namespace infercost::econ {

/// One model's API prices, CNY per million tokens.
struct api_price {
  std::string_view key;              ///< lookup name, e.g. "deepseek_v4_pro"
  std::string_view name;             ///< display name
  std::string_view region;           ///< "China" or "US"
  double input_cache_hit_cny = 0.0;  ///< prompt tokens on a cache hit
  double input_cache_miss_cny = 0.0; ///< prompt tokens on a cache miss
  double output_cny = 0.0;           ///< generated tokens
  /// False when the source lists no cache-hit price; input_cache_hit_cny then equals the miss
  /// price (every prompt token is billed at the input price).
  bool lists_cache_hit_price = true;
  std::string_view source; ///< where the figures come from

  /// The prices as token_prices in CNY.
  [[nodiscard]] token_prices cny_per_mtok() const {
    return token_prices{input_cache_miss_cny, input_cache_hit_cny, output_cny};
  }
  /// The prices in USD at an explicit rate. @throws config_error for a bad rate.
  [[nodiscard]] token_prices usd_per_mtok(double cny_per_usd) const {
    check_positive("econ::fx", "cny_per_usd", cny_per_usd);
    return cny_per_mtok().scaled(1.0 / cny_per_usd);
  }
};

/// The article's price table: §5.1 PRICING_DATA for the five models it lists there, and §1.1 for
/// GLM-5 (which §1.1 lists without a cache-hit price). The US prices are dollar prices converted at
/// ¥7.25/$ (article_cny_per_usd): GPT-5.5 $5 / $30 (cache hit ¥18.13 ≈ $2.50), Claude Opus 4
/// $15 / $75 (cache hit ¥21.75 = $3.00). Anthropic bills cache reads at 0.1× the input price
/// (platform.claude.com pricing pages), which for Opus 4 would be $1.50 = ¥10.88; the table keeps
/// the article's figure.
inline constexpr std::array<api_price, 6> api_price_table{{
    {"deepseek_v4_pro", "DeepSeek V4-Pro", "China", 0.025, 3.0, 6.0, true,
     "article §1.1, §5.1 PRICING_DATA"},
    {"mimo_v2_5_pro", "MiMo V2.5 Pro", "China", 0.025, 3.0, 6.0, true,
     "article §1.1, §5.1 PRICING_DATA"},
    {"qwen_plus", "Qwen-Plus", "China", 0.5, 2.0, 6.0, true,
     "article §1.1; cache hit from §5.1 PRICING_DATA"},
    {"glm_5", "GLM-5", "China", 25.0, 25.0, 50.0, false, "article §1.1 (no cache-hit price)"},
    {"gpt_5_5", "GPT-5.5", "US", 18.13, 36.25, 217.50, true, "article §5.1 PRICING_DATA"},
    {"claude_opus_4", "Claude Opus 4", "US", 21.75, 108.75, 543.75, true,
     "article §5.1 PRICING_DATA"},
}};

/// The API price row with this key. @throws config_error listing the valid keys.
[[nodiscard]] inline const api_price& find_api_price(std::string_view key) {
  for (const api_price& p : api_price_table)
    if (p.key == key)
      return p;
  std::string valid;
  for (const api_price& p : api_price_table)
    valid += (valid.empty() ? "" : ", ") + std::string(p.key);
  throw config_error("econ::api_prices", "key",
                     fmt::format("('{}') is not a known price table entry; valid: {}", key, valid));
}

/// A usage pattern priced per call: prompt and output tokens per call, the share of prompt tokens
/// that hit the provider's cache, and the number of calls (§5.1 `calculate_cost`).
struct usage_scenario {
  std::string_view name{};      ///< display name
  double input_tokens = 0.0;    ///< prompt tokens per call
  double output_tokens = 0.0;   ///< generated tokens per call
  double cache_hit_ratio = 0.0; ///< share of prompt tokens on a cache hit, in [0, 1]
  double calls = 1.0;           ///< number of calls

  /// @throws config_error naming the first field out of its domain.
  void validate() const {
    constexpr std::string_view c = "econ::usage_scenario";
    check_non_negative(c, "input_tokens", input_tokens);
    check_non_negative(c, "output_tokens", output_tokens);
    check_in_range(c, "cache_hit_ratio", cache_hit_ratio, 0.0, 1.0);
    check_non_negative(c, "calls", calls);
  }
};

/// What `s` costs at `prices`, in the prices' currency:
///   calls · (in/1e6 · (hit · p_hit + (1 − hit) · p_miss) + out/1e6 · p_out).
/// @throws config_error for a bad scenario, or when it needs a price that is not applicable.
[[nodiscard]] inline double scenario_cost(const token_prices& prices, const usage_scenario& s) {
  s.validate();
  constexpr std::string_view c = "econ::scenario_cost";
  const auto need = [&](const std::optional<double>& p, std::string_view field,
                        double tokens) -> double {
    if (!(tokens > 0.0))
      return 0.0;
    if (!p)
      throw config_error(
          c, field,
          fmt::format("is not applicable, but scenario '{}' needs it ({} tokens)", s.name, tokens));
    check_non_negative(c, field, *p);
    return *p;
  };
  const double hit_tokens = s.input_tokens * s.cache_hit_ratio;
  const double miss_tokens = s.input_tokens * (1.0 - s.cache_hit_ratio);
  const double per_call =
      hit_tokens / units::mega * need(prices.input_hit, "input_hit", hit_tokens) +
      miss_tokens / units::mega * need(prices.input_miss, "input_miss", miss_tokens) +
      s.output_tokens / units::mega * need(prices.output, "output", s.output_tokens);
  return per_call * s.calls;
}

/// One category of a comparison between a public price and a simulated one.
struct price_ratio {
  std::optional<double> api = std::nullopt; ///< public price per million tokens
  std::optional<double> simulated =
      std::nullopt; ///< simulated price per million tokens, same currency
  /// api / simulated; std::nullopt when either is not applicable or simulated is 0.
  std::optional<double> ratio = std::nullopt;
};

/// Public prices against simulated ones, category by category (same currency).
struct price_comparison {
  price_ratio input_miss;
  price_ratio input_hit;
  price_ratio output;
};

/// Compares public prices with simulated ones (both in the same currency). The ratio says how
/// many times the public price exceeds the simulated cost or price.
[[nodiscard]] inline price_comparison compare_prices(const token_prices& api,
                                                     const token_prices& simulated) {
  const auto one = [](std::optional<double> a, std::optional<double> s) {
    price_ratio r{a, s, std::nullopt};
    if (a && s && *s > 0.0)
      r.ratio = *a / *s;
    return r;
  };
  return price_comparison{one(api.input_miss, simulated.input_miss),
                          one(api.input_hit, simulated.input_hit),
                          one(api.output, simulated.output)};
}

/// Compares a public price row (CNY) with a simulated price sheet, converted to CNY at an explicit
/// rate. @throws config_error for a bad rate.
[[nodiscard]] inline price_comparison
compare_prices(const api_price& api, const price_sheet& simulated, double cny_per_usd) {
  return compare_prices(api.cny_per_mtok(), simulated.cny_per_mtok(cny_per_usd));
}

} // namespace infercost::econ
