// A price sheet from a small deterministic serving run (serving::basic_cluster's report.use),
// checked against the arithmetic done by hand from the run's device time and tokens.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "infercost/device/catalog.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/econ/tco.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/serving/cluster.hpp"

using namespace infercost;

namespace {

/// DeepSeek-V3 report §1: H800 at $2 per GPU-hour (econ::find_deployment).
const double usd_per_hour = econ::find_deployment("deepseek_h800_rental").usd_per_device_hour();

const engine::parallel_layout one_device{.devices = 1, .tp = 1};

/// Six requests, 0.5 s apart; requests 1, 3, 5 share the 4-block prefix of request 0 (Mooncake
/// 512-token blocks), so a prefix cache serves part of their prompts.
io::workload small_workload() {
  io::workload w;
  w.name = "price_sheet_serving_test";
  const std::vector<std::uint64_t> shared{1, 2, 3, 4};
  for (std::int64_t i = 0; i < 6; ++i) {
    io::workload_request q{.id = i,
                           .arrival_s = 0.5 * static_cast<double>(i),
                           .input_tokens = 2048 + 100 * i,
                           .output_tokens = 16 + 8 * i,
                           .block_hashes = {}};
    q.block_hashes = shared;
    if (i % 2 == 0)
      q.block_hashes[1] = 100 + static_cast<std::uint64_t>(i); // a different prefix after block 0
    q.block_hashes.push_back(1000 + static_cast<std::uint64_t>(i));
    w.requests.push_back(q);
  }
  return w;
}

serving::report run_small(bool cache) {
  serving::basic_cluster<h800_sxm> c(model::presets::llama3_8b(),
                                     {.colocated = {.instances = 1, .layout = one_device},
                                      .cache = {.enabled = cache, .hbm_fraction = 0.2}});
  return c.run(small_workload(), 7);
}

} // namespace

TEST_CASE("a price sheet from a one-request run is the step times priced at $2 per hour",
          "[econ][price_sheet][serving]") {
  serving::basic_cluster<h800_sxm> c(model::presets::llama3_8b(),
                                     {.colocated = {.instances = 1, .layout = one_device}});
  io::workload w;
  w.name = "one request";
  w.requests.push_back(
      {.id = 0, .arrival_s = 0.0, .input_tokens = 1500, .output_tokens = 40, .block_hashes = {}});
  const serving::report r = c.run(w, 1);
  REQUIRE(usd_per_hour == 2.0);
  REQUIRE(r.completed == 1);
  const auto& e = c.decode_engine();
  // One device: the prefill is one 1,500-token step (under the 2,048-token budget), then 39
  // decode steps at contexts 1500 .. 1538 (the first token comes out of the prefill step).
  const double prefill_s = e(engine::step_batch{}.add_prefill(1500)).total_s;
  double decode_s = 0.0;
  for (std::int64_t k = 0; k < 39; ++k)
    decode_s += e(engine::step_batch{}.add_decode(1500 + k)).total_s;
  CHECK(r.use.prefill_device_s == Approx(prefill_s).epsilon(1e-12));
  CHECK(r.use.decode_device_s == Approx(decode_s).epsilon(1e-12));
  CHECK(r.use.input_miss_tokens == 1500);
  CHECK(r.use.output_tokens == 40);

  const econ::price_sheet s = econ::make_price_sheet(r.use, {.usd_per_device_hour = usd_per_hour});
  // $ per million tokens = device-seconds / 3600 × $/h / tokens × 10^6.
  const double miss = prefill_s / 3600.0 * 2.0 / 1500.0 * 1e6;
  const double out = decode_s / 3600.0 * 2.0 / 40.0 * 1e6;
  REQUIRE(s.input_miss.cost_usd_per_mtok.has_value());
  REQUIRE(s.output.cost_usd_per_mtok.has_value());
  CHECK(std::isfinite(*s.output.cost_usd_per_mtok));
  CHECK(*s.input_miss.cost_usd_per_mtok == Approx(miss).epsilon(1e-12));
  CHECK(*s.output.cost_usd_per_mtok == Approx(out).epsilon(1e-12));
  CHECK_FALSE(s.input_hit.applicable()); // no cache: no hit price
  CHECK(s.total_cost_usd() == Approx((prefill_s + decode_s) / 3600.0 * 2.0).epsilon(1e-12));
  CHECK(*s.output.cost_usd_per_mtok > 0.0);
}

TEST_CASE("a price sheet from a small cached run matches the hand price of its usage",
          "[econ][price_sheet][serving]") {
  const serving::report r = run_small(true);
  REQUIRE(r.completed == 6);
  const serving::usage& u = r.use;
  // Every prompt token is either computed or served from the cache.
  CHECK(u.input_miss_tokens + u.input_hit_tokens == r.input_tokens);
  CHECK(u.input_hit_tokens > 0);
  CHECK(u.output_tokens == 6 * 16 + 8 * 15);

  const econ::price_sheet s =
      econ::make_price_sheet(u, {.usd_per_device_hour = usd_per_hour, .gross_margin = 0.25});
  const auto hand = [](double device_s, double tokens) {
    return device_s / 3600.0 * 2.0 / tokens * 1e6 / (1.0 - 0.25);
  };
  const econ::token_prices p = s.usd_per_mtok();
  REQUIRE(p.input_miss.has_value());
  REQUIRE(p.output.has_value());
  CHECK(*p.input_miss ==
        Approx(hand(u.prefill_device_s, static_cast<double>(u.input_miss_tokens))).epsilon(1e-12));
  CHECK(*p.output ==
        Approx(hand(u.decode_device_s, static_cast<double>(u.output_tokens))).epsilon(1e-12));
  if (p.input_hit)
    CHECK(*p.input_hit ==
          Approx(hand(u.cache_load_device_s, static_cast<double>(u.input_hit_tokens)))
              .epsilon(1e-12));
  // Nothing is lost: the sheet's cost is all busy device time priced at $2/h.
  CHECK(s.total_cost_usd() == Approx(u.busy_device_s() / 3600.0 * 2.0).epsilon(1e-12));
  CHECK(std::isfinite(s.total_cost_usd()));

  // The cache lowers the prompt tokens computed and so the prefill device time.
  const serving::report plain = run_small(false);
  CHECK(plain.use.input_hit_tokens == 0);
  CHECK(plain.use.input_miss_tokens == r.input_tokens);
  CHECK(u.prefill_device_s < plain.use.prefill_device_s);
}

TEST_CASE("two serving runs with the same seed give the same price sheet, bit for bit",
          "[econ][price_sheet][serving]") {
  const econ::price_options o{.usd_per_device_hour = usd_per_hour};
  const econ::price_sheet a = econ::make_price_sheet(run_small(true).use, o);
  const econ::price_sheet b = econ::make_price_sheet(run_small(true).use, o);
  CHECK(a.input_miss.device_s == b.input_miss.device_s);
  CHECK(a.input_hit.device_s == b.input_hit.device_s);
  CHECK(a.output.device_s == b.output.device_s);
  CHECK(a.input_miss.tokens == b.input_miss.tokens);
  CHECK(a.input_hit.tokens == b.input_hit.tokens);
  CHECK(a.output.tokens == b.output.tokens);
  CHECK(a.output.cost_usd_per_mtok == b.output.cost_usd_per_mtok);
  CHECK(a.total_cost_usd() == b.total_cost_usd());
}
