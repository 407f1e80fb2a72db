#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/device/tco.hpp"

using namespace infercost;

TEST_CASE("tco of a purchase: straight-line depreciation plus power plus maintenance",
          "[device][tco]") {
  // $35,040 over 4 years = $1/hour; 1000 W at 50% and PUE 1.2 = 0.6 kW at $0.10 = $0.06/hour;
  // $876 a year = $0.10/hour.
  const purchase_tco p{.device_price_usd = 30000,
                       .server_share_usd = 4040,
                       .network_share_usd = 1000,
                       .maintenance_per_year_usd = 876,
                       .years = 4,
                       .power_w = 1000,
                       .utilisation = 0.5,
                       .pue = 1.2,
                       .usd_per_kwh = 0.10};
  const tco t = tco::from_purchase(p);
  CHECK(t.capex_usd_per_hour() == Approx(1.0));
  CHECK(t.power_usd_per_hour() == Approx(0.06));
  CHECK(t.maintenance_usd_per_hour() == Approx(0.10));
  CHECK(t.usd_per_device_hour() == Approx(1.16));
  // $/TFLOP-hour at 989 dense TFLOPS, fully used.
  CHECK(t.usd_per_tflop_hour(989.0) == Approx(1.16 / 989.0));
}

TEST_CASE("tco of a rental is the rental price; DeepSeek's H800 rate is $2", "[device][tco]") {
  const tco t = tco::from_rental(deepseek_h800_usd_per_hour);
  CHECK(t.usd_per_device_hour() == 2.0);
  CHECK(t.usd_per_tflop_hour(989.4, 0.5) == Approx(2.0 / 494.7));
}

TEST_CASE("tco rejects negative prices, zero years and PUE below 1", "[device][tco]") {
  CHECK_THROWS_WITH(tco::from_purchase({.device_price_usd = -1}),
                    "device::tco: device_price_usd (-1) must be >= 0");
  CHECK_THROWS_WITH(tco::from_purchase({.years = 0}), "device::tco: years (0) must be > 0");
  CHECK_THROWS_AS(tco::from_purchase({.pue = 0.9}), config_error);
  CHECK_THROWS_AS(tco::from_rental(0.0), config_error);
  CHECK_THROWS_AS(price_of("tpu_v5"), config_error);
}

TEST_CASE("every catalog device has a cited price and a typical purchase", "[device][tco]") {
  for (auto name : device_names()) {
    const auto& p = price_of(name);
    CHECK(p.usd > 1000.0);
    CHECK_FALSE(p.source.empty());
    const double tdp = visit_device(name, [](const auto& d) { return d.tdp_w(); });
    const tco t = tco::from_purchase(typical_purchase(name, tdp));
    CHECK(t.usd_per_device_hour() > 0.2);
    CHECK(t.usd_per_device_hour() < 5.0);
  }
}
