#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

#include "infercost/econ/price_sheet.hpp"

using namespace infercost;
using namespace infercost::econ;

namespace {
// $3.60 per device-hour is $0.001 per device-second, so the hand arithmetic stays exact.
constexpr double usd_per_hour = 3.6;

device_usage hand_usage() {
  return device_usage{.prefill_device_s = 1000.0,
                      .cache_load_device_s = 10.0,
                      .decode_device_s = 5000.0,
                      .input_miss_tokens = 2e6,
                      .input_hit_tokens = 1e6,
                      .output_tokens = 1e6};
}

/// A serving-report-like struct with integer token counts.
struct report_usage {
  double prefill_device_s = 0;
  double cache_load_device_s = 0;
  double decode_device_s = 0;
  std::int64_t input_miss_tokens = 0;
  std::int64_t input_hit_tokens = 0;
  std::int64_t output_tokens = 0;
  double makespan_s = 0;
};
} // namespace

TEST_CASE("price sheet divides each category's device time by its tokens", "[econ][price_sheet]") {
  // Miss: 1000 s → $1.00 over 2M tokens = $0.50/M. Hit: 10 s → $0.01 over 1M = $0.01/M.
  // Output: 5000 s → $5.00 over 1M = $5.00/M.
  const price_sheet s = make_price_sheet(hand_usage(), {.usd_per_device_hour = usd_per_hour});
  REQUIRE(s.input_miss.applicable());
  REQUIRE(s.input_hit.applicable());
  REQUIRE(s.output.applicable());
  CHECK(s.input_miss.cost_usd == Approx(1.0));
  CHECK(*s.input_miss.price_usd_per_mtok == Approx(0.5));
  CHECK(*s.input_hit.price_usd_per_mtok == Approx(0.01));
  CHECK(*s.output.price_usd_per_mtok == Approx(5.0));
  CHECK(s.total_cost_usd() == Approx(6.01));
  CHECK(s.unattributed_cost_usd == 0.0);
  // Blended: $6.01 over 4M tokens.
  REQUIRE(s.blended_usd_per_mtok());
  CHECK(*s.blended_usd_per_mtok() == Approx(1.5025));
}

TEST_CASE("a gross margin of 50% doubles the price and leaves the cost", "[econ][price_sheet]") {
  const price_sheet s =
      make_price_sheet(hand_usage(), {.usd_per_device_hour = usd_per_hour, .gross_margin = 0.5});
  CHECK(*s.input_miss.cost_usd_per_mtok == Approx(0.5));
  CHECK(*s.input_miss.price_usd_per_mtok == Approx(1.0));
  CHECK(*s.output.price_usd_per_mtok == Approx(10.0));
  CHECK(*s.cost_usd_per_mtok().output == Approx(5.0));
  CHECK(*s.blended_usd_per_mtok() == Approx(3.005));
  // Margin 0.2: price = cost / 0.8.
  const price_sheet t =
      make_price_sheet(hand_usage(), {.usd_per_device_hour = usd_per_hour, .gross_margin = 0.2});
  CHECK(*t.input_hit.price_usd_per_mtok == Approx(0.0125));
}

TEST_CASE("price sheet converts to yuan at the rate it is given", "[econ][price_sheet]") {
  const price_sheet s = make_price_sheet(hand_usage(), {.usd_per_device_hour = usd_per_hour});
  const token_prices cny = s.cny_per_mtok(7.25);
  CHECK(*cny.input_miss == Approx(3.625));
  CHECK(*cny.input_hit == Approx(0.0725));
  CHECK(*cny.output == Approx(36.25));
  CHECK_THROWS_WITH(s.cny_per_mtok(0.0), "econ::fx: cny_per_usd (0) must be > 0");
}

TEST_CASE("a category without tokens has no price and its device time stays counted",
          "[econ][price_sheet]") {
  device_usage u = hand_usage();
  u.input_hit_tokens = 0.0;
  u.cache_load_device_s = 0.0;
  const price_sheet none = make_price_sheet(u, {.usd_per_device_hour = usd_per_hour});
  CHECK_FALSE(none.input_hit.applicable());
  CHECK_FALSE(none.usd_per_mtok().input_hit.has_value());
  CHECK_FALSE(none.cny_per_mtok(7.25).input_hit.has_value());
  CHECK(none.unattributed_cost_usd == 0.0);

  // 36 device-seconds of cache loading with no hit tokens: $0.036 that no token carries.
  u.cache_load_device_s = 36.0;
  const price_sheet stray = make_price_sheet(u, {.usd_per_device_hour = usd_per_hour});
  CHECK_FALSE(stray.input_hit.applicable());
  CHECK(stray.unattributed_cost_usd == Approx(0.036));
  // Conservation: per-token costs times tokens plus the unattributed part is all device time.
  double charged = stray.unattributed_cost_usd;
  for (const price_line* l : {&stray.input_miss, &stray.input_hit, &stray.output})
    if (l->applicable())
      charged += *l->cost_usd_per_mtok * l->tokens / 1e6;
  CHECK(charged == Approx(usd_per_hour * (1000.0 + 36.0 + 5000.0) / 3600.0));

  // Nothing served at all: every price is not applicable, nothing is NaN.
  const price_sheet empty = make_price_sheet(device_usage{}, {.usd_per_device_hour = 2.0});
  CHECK_FALSE(empty.input_miss.applicable());
  CHECK_FALSE(empty.output.applicable());
  CHECK_FALSE(empty.blended_usd_per_mtok().has_value());
  CHECK(empty.total_cost_usd() == 0.0);
}

TEST_CASE("price sheet accepts any struct with the usage fields", "[econ][price_sheet]") {
  const report_usage r{.prefill_device_s = 7.2,
                       .cache_load_device_s = 0.0,
                       .decode_device_s = 72.0,
                       .input_miss_tokens = 1000,
                       .input_hit_tokens = 0,
                       .output_tokens = 2000,
                       .makespan_s = 10.0};
  STATIC_REQUIRE(usage_like<report_usage>);
  STATIC_REQUIRE_FALSE(usage_like<int>);
  // At $2/h: 7.2 s = $0.004 over 1000 tokens = $4/M; 72 s = $0.04 over 2000 = $20/M.
  const price_sheet s = make_price_sheet(r, {.usd_per_device_hour = 2.0});
  CHECK(*s.input_miss.price_usd_per_mtok == Approx(4.0));
  CHECK(*s.output.price_usd_per_mtok == Approx(20.0));
  CHECK_FALSE(s.input_hit.applicable());
}

TEST_CASE("price sheet rejects bad usage and options by name", "[econ][price_sheet]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(make_price_sheet(hand_usage(), price_options{}),
                    "econ::price_sheet: usd_per_device_hour (0) must be > 0");
  CHECK_THROWS_WITH(make_price_sheet(hand_usage(), {.usd_per_device_hour = -2.0}),
                    "econ::price_sheet: usd_per_device_hour (-2) must be > 0");
  CHECK_THROWS_WITH(make_price_sheet(hand_usage(), {.usd_per_device_hour = 2, .gross_margin = 1}),
                    "econ::price_sheet: gross_margin (1) must be in [0, 1)");
  CHECK_THROWS_AS(make_price_sheet(hand_usage(), {.usd_per_device_hour = 2, .gross_margin = -0.1}),
                  config_error);
  CHECK_THROWS_AS(make_price_sheet(hand_usage(), {.usd_per_device_hour = 2, .gross_margin = nan}),
                  config_error);
  CHECK_THROWS_AS(make_price_sheet(hand_usage(), {.usd_per_device_hour = nan}), config_error);
  device_usage u = hand_usage();
  u.decode_device_s = -1.0;
  CHECK_THROWS_WITH(make_price_sheet(u, {.usd_per_device_hour = 2.0}),
                    "econ::price_sheet: decode_device_s (-1) must be >= 0");
  u = hand_usage();
  u.output_tokens = nan;
  CHECK_THROWS_WITH(make_price_sheet(u, {.usd_per_device_hour = 2.0}),
                    "econ::price_sheet: output_tokens (nan) must be finite");
  u = hand_usage();
  u.input_hit_tokens = -5.0;
  CHECK_THROWS_AS(make_price_sheet(u, {.usd_per_device_hour = 2.0}), config_error);
}

TEST_CASE("token prices scale by a positive factor and keep not-applicable entries",
          "[econ][price_sheet]") {
  const token_prices p{1.0, std::nullopt, 4.0};
  const token_prices q = p.scaled(2.5);
  CHECK(*q.input_miss == 2.5);
  CHECK_FALSE(q.input_hit.has_value());
  CHECK(*q.output == 10.0);
  CHECK_THROWS_AS(p.scaled(0.0), config_error);
}

TEST_CASE("break-even throughput makes device time cost exactly the given price",
          "[econ][price_sheet]") {
  // $3.60/h is $0.001/s; at $1 per million tokens that is 1000 tokens/s.
  CHECK(breakeven_tokens_per_device_s(3.6, 1.0) == Approx(1000.0));
  // Round trip: a sheet at that throughput prices at $1/M.
  const double tps = breakeven_tokens_per_device_s(2.0, 0.8);
  const price_sheet s =
      make_price_sheet(device_usage{.decode_device_s = 100.0, .output_tokens = 100.0 * tps},
                       {.usd_per_device_hour = 2.0});
  CHECK(*s.output.price_usd_per_mtok == Approx(0.8));
  CHECK_THROWS_WITH(breakeven_tokens_per_device_s(2.0, 0.0),
                    "econ::price_sheet: usd_per_mtok (0) must be > 0");
  CHECK_THROWS_AS(breakeven_tokens_per_device_s(-1.0, 1.0), config_error);
}

TEST_CASE("a deployment's device-hour prices a sheet", "[econ][price_sheet]") {
  // DeepSeek's $2 H800-hour: one device-hour of decode for a million tokens is $2/M, ¥14.50/M at
  // ¥7.25/$.
  const deployment d = find_deployment("deepseek_h800_rental");
  const price_sheet s =
      make_price_sheet(device_usage{.decode_device_s = 3600.0, .output_tokens = 1e6},
                       {.usd_per_device_hour = d.usd_per_device_hour()});
  CHECK(*s.output.price_usd_per_mtok == Approx(2.0));
  CHECK(*s.cny_per_mtok(article_cny_per_usd).output == Approx(14.5));
}

TEST_CASE("pools priced at their own rates: a heterogeneous deployment's sheet",
          "[econ][price_sheet]") {
  // hand_usage split over a prefill pool at $3.60/h ($0.001/s) and a decode pool at $7.20/h
  // ($0.002/s). Prefill pool: 900 s prefill, 10 s cache load; decode pool: 100 s prefill
  // (recomputation after preemption), 5000 s decode.
  // Miss: 900 × 0.001 + 100 × 0.002 = $1.10 over 2M = $0.55/M. Hit: 10 × 0.001 = $0.01 over 1M.
  // Output: 5000 × 0.002 = $10.00 over 1M = $10.00/M. Total $11.11 over 6010 s: $6.6552.../h.
  const pool_time pools[] = {
      {.prefill_device_s = 900.0, .cache_load_device_s = 10.0, .usd_per_device_hour = usd_per_hour},
      {.prefill_device_s = 100.0,
       .decode_device_s = 5000.0,
       .usd_per_device_hour = 2.0 * usd_per_hour}};
  const price_sheet s = make_price_sheet(hand_usage(), pools);
  CHECK(s.input_miss.cost_usd_per_mtok.value() == Approx(0.55).epsilon(1e-12));
  CHECK(s.input_hit.cost_usd_per_mtok.value() == Approx(0.01).epsilon(1e-12));
  CHECK(s.output.cost_usd_per_mtok.value() == Approx(10.0).epsilon(1e-12));
  CHECK(s.total_cost_usd() == Approx(11.11).epsilon(1e-12));
  CHECK(s.usd_per_device_hour == Approx(11.11 / 6010.0 * 3600.0).epsilon(1e-12));
  CHECK(s.input_miss.device_s == 1000.0);

  // One pool at one rate is the single-rate sheet, bit for bit.
  const pool_time one[] = {{.prefill_device_s = 1000.0,
                            .cache_load_device_s = 10.0,
                            .decode_device_s = 5000.0,
                            .usd_per_device_hour = usd_per_hour}};
  const price_sheet a = make_price_sheet(hand_usage(), one, 0.25);
  const price_sheet b =
      make_price_sheet(hand_usage(), {.usd_per_device_hour = usd_per_hour, .gross_margin = 0.25});
  CHECK(a.output.price_usd_per_mtok == b.output.price_usd_per_mtok);
  CHECK(a.input_miss.price_usd_per_mtok == b.input_miss.price_usd_per_mtok);
  CHECK(a.usd_per_device_hour == Approx(b.usd_per_device_hour).epsilon(1e-15));
}

TEST_CASE("pooled pricing rejects lost device time and bad rates by name", "[econ][price_sheet]") {
  const pool_time short_decode[] = {{.prefill_device_s = 1000.0,
                                     .cache_load_device_s = 10.0,
                                     .decode_device_s = 4999.0,
                                     .usd_per_device_hour = usd_per_hour}};
  CHECK_THROWS_WITH(make_price_sheet(hand_usage(), short_decode),
                    Catch::Contains("decode_device_s") && Catch::Contains("pools' sum 4999"));
  const pool_time free_pool[] = {{.prefill_device_s = 1000.0,
                                  .cache_load_device_s = 10.0,
                                  .decode_device_s = 5000.0,
                                  .usd_per_device_hour = 0.0}};
  CHECK_THROWS_WITH(make_price_sheet(hand_usage(), free_pool),
                    Catch::Contains("pool.usd_per_device_hour"));
  CHECK_THROWS_WITH(make_price_sheet(hand_usage(), std::span<const pool_time>{}),
                    Catch::Contains("pools"));
}
