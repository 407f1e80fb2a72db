/// @file
/// What a million tokens cost, from device time: device-seconds spent on prefill, on loading cached
/// prefixes and on decode, priced at $/device-hour, divided by the tokens each served.
///
/// Attribution: prefill device-seconds → input tokens on a cache miss (their prefix is computed);
/// cache-load device-seconds → input tokens on a cache hit (their KV is loaded from a tier instead
/// of recomputed); decode device-seconds → output tokens. A category with no tokens has no
/// per-token price (std::nullopt, "not applicable"); device time spent in such a category is kept
/// as `unattributed` cost so that nothing is lost:
///   Σ cost_per_mtok · tokens / 1e6 + unattributed = usd_per_device_hour · Σ device_s / 3600.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <optional>
#include <span>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/econ/tco.hpp"

namespace infercost::econ {

/// Device time and tokens of a served workload, by category. The serving report provides the same
/// fields under the same names. Device-seconds are summed over devices (a step of 2 s on 8 devices
/// is 16 device-seconds); tokens are counts.
struct device_usage {
  double prefill_device_s = 0.0;    ///< computing prompts (cache misses)
  double cache_load_device_s = 0.0; ///< loading cached prefixes from their tier
  double decode_device_s = 0.0;     ///< generating output tokens
  double input_miss_tokens = 0.0;   ///< prompt tokens computed
  double input_hit_tokens = 0.0;    ///< prompt tokens served from the prefix cache
  double output_tokens = 0.0;       ///< generated tokens
};

/// Anything with device_usage's six fields (such as the serving report's usage), each
/// convertible to double.
template <class U>
concept usage_like = requires(const U& u) {
  { u.prefill_device_s } -> std::convertible_to<double>;
  { u.cache_load_device_s } -> std::convertible_to<double>;
  { u.decode_device_s } -> std::convertible_to<double>;
  { u.input_miss_tokens } -> std::convertible_to<double>;
  { u.input_hit_tokens } -> std::convertible_to<double>;
  { u.output_tokens } -> std::convertible_to<double>;
};

/// The six fields of any usage_like value, as a device_usage.
template <usage_like U> [[nodiscard]] device_usage to_device_usage(const U& u) {
  return device_usage{.prefill_device_s = static_cast<double>(u.prefill_device_s),
                      .cache_load_device_s = static_cast<double>(u.cache_load_device_s),
                      .decode_device_s = static_cast<double>(u.decode_device_s),
                      .input_miss_tokens = static_cast<double>(u.input_miss_tokens),
                      .input_hit_tokens = static_cast<double>(u.input_hit_tokens),
                      .output_tokens = static_cast<double>(u.output_tokens)};
}

/// Prices per million tokens in one currency; std::nullopt where a category does not apply.
struct token_prices {
  std::optional<double> input_miss = std::nullopt; ///< per million prompt tokens on a cache miss
  std::optional<double> input_hit = std::nullopt;  ///< per million prompt tokens on a cache hit
  std::optional<double> output = std::nullopt;     ///< per million generated tokens

  /// The same prices multiplied by `factor` (a currency rate, a markup). @throws config_error
  /// unless factor is finite and > 0.
  [[nodiscard]] token_prices scaled(double factor) const {
    check_positive("econ::token_prices", "factor", factor);
    const auto s = [factor](std::optional<double> v) {
      return v ? std::optional<double>(*v * factor) : std::nullopt;
    };
    return token_prices{s(input_miss), s(input_hit), s(output)};
  }
};

/// How device time becomes a price.
struct price_options {
  /// Cost of one device-hour in USD (tco::usd_per_device_hour()). No default: 0 is rejected.
  double usd_per_device_hour = 0.0;
  /// Gross margin: the share of the price that is profit, in [0, 1). Price = cost / (1 − margin);
  /// 0 prices at cost, 0.5 doubles it.
  double gross_margin = 0.0;

  /// @throws config_error naming the first field out of its domain.
  void validate() const {
    check_positive("econ::price_sheet", "usd_per_device_hour", usd_per_device_hour);
    check_finite("econ::price_sheet", "gross_margin", gross_margin);
    if (!(gross_margin >= 0.0 && gross_margin < 1.0))
      throw config_error("econ::price_sheet", "gross_margin",
                         fmt::format("({}) must be in [0, 1)", gross_margin));
  }
};

/// One category of a price sheet.
struct price_line {
  double device_s = 0.0; ///< device-seconds attributed to the category
  double tokens = 0.0;   ///< tokens it served
  double cost_usd = 0.0; ///< device_s priced at $/device-hour, before margin
  /// cost_usd per million tokens; std::nullopt when tokens == 0.
  std::optional<double> cost_usd_per_mtok = std::nullopt;
  /// cost_usd_per_mtok with the margin; std::nullopt when tokens == 0.
  std::optional<double> price_usd_per_mtok = std::nullopt;

  /// True when the category served tokens and so has a per-token price.
  [[nodiscard]] bool applicable() const noexcept { return cost_usd_per_mtok.has_value(); }
};

/// $ per million tokens (input miss, input hit, output) from device time.
struct price_sheet {
  price_line input_miss;            ///< prefill device time over prompt tokens computed
  price_line input_hit;             ///< cache-load device time over prompt tokens from the cache
  price_line output;                ///< decode device time over generated tokens
  double usd_per_device_hour = 0.0; ///< the rate device time was priced at
  double gross_margin = 0.0;        ///< the margin prices include (price_options)
  /// Cost of device time in categories that served no tokens (no per-token price carries it).
  double unattributed_cost_usd = 0.0;

  /// Cost of all device time, before margin.
  [[nodiscard]] double total_cost_usd() const noexcept {
    return input_miss.cost_usd + input_hit.cost_usd + output.cost_usd;
  }
  /// Prices per million tokens in USD, margin included.
  [[nodiscard]] token_prices usd_per_mtok() const {
    return token_prices{input_miss.price_usd_per_mtok, input_hit.price_usd_per_mtok,
                        output.price_usd_per_mtok};
  }
  /// Costs per million tokens in USD, before margin.
  [[nodiscard]] token_prices cost_usd_per_mtok() const {
    return token_prices{input_miss.cost_usd_per_mtok, input_hit.cost_usd_per_mtok,
                        output.cost_usd_per_mtok};
  }
  /// Prices per million tokens in CNY at an explicit rate, margin included. @throws config_error
  /// for a rate that is not finite and > 0.
  [[nodiscard]] token_prices cny_per_mtok(double cny_per_usd) const {
    check_positive("econ::fx", "cny_per_usd", cny_per_usd);
    return usd_per_mtok().scaled(cny_per_usd);
  }
  /// Total price over all tokens, per million tokens (margin included); std::nullopt when no
  /// token was served.
  [[nodiscard]] std::optional<double> blended_usd_per_mtok() const {
    const double tokens = input_miss.tokens + input_hit.tokens + output.tokens;
    if (!(tokens > 0.0))
      return std::nullopt;
    return total_cost_usd() / (1.0 - gross_margin) / tokens * units::mega;
  }
};

namespace detail {
inline price_line price_category(double device_s, double cost_usd, double tokens,
                                 double gross_margin) {
  price_line l{.device_s = device_s, .tokens = tokens, .cost_usd = cost_usd};
  if (tokens > 0.0) {
    l.cost_usd_per_mtok = l.cost_usd / tokens * units::mega;
    l.price_usd_per_mtok = *l.cost_usd_per_mtok / (1.0 - gross_margin);
  }
  return l;
}

inline void check_usage(const device_usage& u) {
  constexpr std::string_view c = "econ::price_sheet";
  check_non_negative(c, "prefill_device_s", u.prefill_device_s);
  check_non_negative(c, "cache_load_device_s", u.cache_load_device_s);
  check_non_negative(c, "decode_device_s", u.decode_device_s);
  check_non_negative(c, "input_miss_tokens", u.input_miss_tokens);
  check_non_negative(c, "input_hit_tokens", u.input_hit_tokens);
  check_non_negative(c, "output_tokens", u.output_tokens);
}

/// The sheet of categories whose costs are already known.
inline price_sheet assemble_sheet(const device_usage& u, double prefill_usd, double cache_load_usd,
                                  double decode_usd, double gross_margin) {
  price_sheet s;
  s.gross_margin = gross_margin;
  s.input_miss = price_category(u.prefill_device_s, prefill_usd, u.input_miss_tokens, gross_margin);
  s.input_hit =
      price_category(u.cache_load_device_s, cache_load_usd, u.input_hit_tokens, gross_margin);
  s.output = price_category(u.decode_device_s, decode_usd, u.output_tokens, gross_margin);
  for (const price_line* l : {&s.input_miss, &s.input_hit, &s.output})
    if (!l->applicable())
      s.unattributed_cost_usd += l->cost_usd;
  return s;
}

inline price_sheet make_price_sheet_impl(const device_usage& u, const price_options& o) {
  o.validate();
  check_usage(u);
  const auto cost = [&o](double device_s) {
    return device_s / units::hour_s * o.usd_per_device_hour;
  };
  price_sheet s = assemble_sheet(u, cost(u.prefill_device_s), cost(u.cache_load_device_s),
                                 cost(u.decode_device_s), o.gross_margin);
  s.usd_per_device_hour = o.usd_per_device_hour;
  return s;
}
} // namespace detail

/// The price sheet of a served workload: each category's device-seconds priced at
/// `o.usd_per_device_hour`, divided by its tokens, with the margin applied.
/// @throws config_error for a negative or non-finite field or bad options.
template <usage_like U>
[[nodiscard]] price_sheet make_price_sheet(const U& usage, const price_options& o) {
  return detail::make_price_sheet_impl(to_device_usage(usage), o);
}

/// Device time of one pool of a deployment and the rate it is priced at. A heterogeneous
/// deployment (a prefill pool on one accelerator, a decode pool on another, as Splitwise proposes)
/// prices each pool's device time at its own device's rate.
struct pool_time {
  double prefill_device_s = 0.0;    ///< computing prompts on this pool
  double cache_load_device_s = 0.0; ///< loading cached prefixes on this pool
  double decode_device_s = 0.0;     ///< generating tokens on this pool
  double usd_per_device_hour = 0.0; ///< this pool's device rate; 0 is rejected
};

namespace detail {
inline price_sheet make_pooled_sheet(const device_usage& u, std::span<const pool_time> pools,
                                     double gross_margin) {
  constexpr std::string_view c = "econ::price_sheet";
  price_options{.usd_per_device_hour = 1.0, .gross_margin = gross_margin}.validate();
  check_usage(u);
  if (pools.empty())
    throw config_error(c, "pools", "(none) needs at least one pool");
  double cost[3] = {0.0, 0.0, 0.0};
  double time[3] = {0.0, 0.0, 0.0};
  for (const pool_time& p : pools) {
    check_positive(c, "pool.usd_per_device_hour", p.usd_per_device_hour);
    check_non_negative(c, "pool.prefill_device_s", p.prefill_device_s);
    check_non_negative(c, "pool.cache_load_device_s", p.cache_load_device_s);
    check_non_negative(c, "pool.decode_device_s", p.decode_device_s);
    const double s[3] = {p.prefill_device_s, p.cache_load_device_s, p.decode_device_s};
    for (int k = 0; k < 3; ++k) {
      time[k] += s[k];
      cost[k] += s[k] / units::hour_s * p.usd_per_device_hour;
    }
  }
  // Nothing lost: the pools' device time is the usage's, category by category.
  const double total[3] = {u.prefill_device_s, u.cache_load_device_s, u.decode_device_s};
  constexpr std::string_view names[3] = {"prefill_device_s", "cache_load_device_s",
                                         "decode_device_s"};
  for (int k = 0; k < 3; ++k)
    if (std::abs(time[k] - total[k]) > 1e-9 * std::max(1.0, std::abs(total[k])))
      throw config_error(c, names[k],
                         fmt::format("({}) differs from the pools' sum {}", total[k], time[k]));
  price_sheet sheet = assemble_sheet(u, cost[0], cost[1], cost[2], gross_margin);
  const double device_s = time[0] + time[1] + time[2];
  sheet.usd_per_device_hour = device_s > 0.0 ? sheet.total_cost_usd() / device_s * units::hour_s
                                             : pools.front().usd_per_device_hour;
  return sheet;
}
} // namespace detail

/// The price sheet of a deployment whose pools have their own rates: each category's cost is the
/// sum over pools of its device-seconds at the pool's rate, divided by the tokens `usage` served.
/// The sheet's usd_per_device_hour is the blended rate (total cost / total device-hours).
/// @throws config_error for a bad field, a pool rate that is not > 0, or pools whose device time
/// differs from the usage's in any category (by more than 1e-9 relative).
template <usage_like U>
[[nodiscard]] price_sheet make_price_sheet(const U& usage, std::span<const pool_time> pools,
                                           double gross_margin = 0.0) {
  return detail::make_pooled_sheet(to_device_usage(usage), pools, gross_margin);
}

/// Tokens per device-second a category must serve for its device time to cost exactly
/// `usd_per_mtok` at `usd_per_device_hour`: (usd_per_device_hour / 3600) / usd_per_mtok · 10^6.
/// @throws config_error unless both are finite and > 0.
[[nodiscard]] inline double breakeven_tokens_per_device_s(double usd_per_device_hour,
                                                          double usd_per_mtok) {
  check_positive("econ::price_sheet", "usd_per_device_hour", usd_per_device_hour);
  check_positive("econ::price_sheet", "usd_per_mtok", usd_per_mtok);
  return usd_per_device_hour / units::hour_s / usd_per_mtok * units::mega;
}

} // namespace infercost::econ
