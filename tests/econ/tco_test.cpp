#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "infercost/econ/tco.hpp"

using namespace infercost;
using namespace infercost::econ;

TEST_CASE("currency conversion uses the rate it is given and rejects bad rates", "[econ][tco]") {
  CHECK(usd_to_cny(2.0, 7.25) == Approx(14.5));
  CHECK(cny_to_usd(36.25, 7.25) == Approx(5.0));
  CHECK(cny_to_usd(usd_to_cny(3.0, 7.1), 7.1) == Approx(3.0));
  CHECK(article_cny_per_usd == 7.25);
  CHECK_THROWS_WITH(usd_to_cny(1.0, 0.0), "econ::fx: cny_per_usd (0) must be > 0");
  CHECK_THROWS_WITH(cny_to_usd(1.0, -7.0), "econ::fx: cny_per_usd (-7) must be > 0");
  CHECK_THROWS_AS(usd_to_cny(std::numeric_limits<double>::quiet_NaN(), 7.25), config_error);
  CHECK_THROWS_AS(cny_to_usd(1.0, std::numeric_limits<double>::infinity()), config_error);
}

TEST_CASE("a server bought whole costs each device an equal share", "[econ][tco]") {
  // $80,000 server of 8, $8,000/yr, 4 years, 8 kW at 50%, PUE 1, $0.10/kWh. Per device: $10,000
  // over 35,040 h, $1,000/yr over 8,760 h, 1 kW × 0.5 × $0.10 = $0.05/h.
  const server_purchase s{.server_price_usd = 80000,
                          .devices = 8,
                          .maintenance_per_year_usd = 8000,
                          .years = 4,
                          .server_power_w = 8000,
                          .utilisation = 0.5,
                          .pue = 1.0,
                          .usd_per_kwh = 0.10};
  const tco t = tco::from_purchase(s.per_device());
  CHECK(t.capex_usd_per_hour() == Approx(10000.0 / 35040.0));
  CHECK(t.maintenance_usd_per_hour() == Approx(1000.0 / 8760.0));
  CHECK(t.power_usd_per_hour() == Approx(0.05));
  // Eight device-hours are one server-hour.
  const double server_hour = 80000.0 / 35040.0 + 8000.0 / 8760.0 + 8.0 * 0.5 * 0.10;
  CHECK(8.0 * t.usd_per_device_hour() == Approx(server_hour));
}

TEST_CASE("server purchases reject bad fields by name", "[econ][tco]") {
  CHECK_THROWS_WITH(server_purchase{.server_price_usd = -1}.per_device(),
                    "econ::server_purchase: server_price_usd (-1) must be >= 0");
  CHECK_THROWS_WITH(server_purchase{.devices = 0}.per_device(),
                    "econ::server_purchase: devices (0) must be > 0");
  CHECK_THROWS_WITH(server_purchase{.years = 0}.per_device(),
                    "econ::server_purchase: years (0) must be > 0");
  CHECK_THROWS_AS(server_purchase{.years = std::nan("")}.per_device(), config_error);
  CHECK_THROWS_AS(server_purchase{.utilisation = 1.5}.per_device(), config_error);
  CHECK_THROWS_AS(server_purchase{.pue = 0.8}.per_device(), config_error);
  CHECK_THROWS_AS(server_purchase{.usd_per_kwh = -0.1}.per_device(), config_error);
}

TEST_CASE("DeepSeek's H800 deployment costs $2 per device-hour", "[econ][tco]") {
  const deployment d = find_deployment("deepseek_h800_rental");
  CHECK(d.device == "h800_sxm");
  CHECK(d.basis == cost_basis::rental);
  CHECK(d.usd_per_device_hour() == 2.0);
  CHECK(d.source.find("2412.19437") != std::string::npos);
}

TEST_CASE("cloud rentals are the listed instance price per GPU", "[econ][tco]") {
  CHECK(find_deployment("aws_p5_h100_on_demand").usd_per_device_hour() == Approx(6.88));
  CHECK(find_deployment("azure_nd_h100_v5_on_demand").usd_per_device_hour() == Approx(12.29));
  CHECK(find_deployment("aws_p5en_h200_on_demand").usd_per_device_hour() == Approx(7.912));
  CHECK(find_deployment("hyperstack_h200_on_demand").usd_per_device_hour() == 3.99);
  CHECK(find_deployment("runpod_h100_community").usd_per_device_hour() == 2.69);
}

TEST_CASE("the article's 910B server as a deployment adds up its 3-year cost", "[econ][tco]") {
  // ¥720,000 + 3 × ¥72,000 + 5.2 kW × 26,280 h × ¥1/kWh = ¥1,072,656 over 26,280 h and 8 NPUs,
  // at ¥7.25/$.
  const double total_cny = 720000.0 + 3.0 * 72000.0 + 5.2 * 26280.0 * 1.0;
  const deployment d = find_deployment("article_ascend_910b_server");
  CHECK(d.device == "ascend_910b");
  CHECK(d.basis == cost_basis::purchase);
  CHECK(d.usd_per_device_hour() == Approx(total_cny / 26280.0 / 8.0 / 7.25));
  // The A100 server the same way: ¥1,300,000 + 3 × ¥130,000 + 6.5 kW × 26,280 h.
  CHECK(find_deployment("article_a100_server").usd_per_device_hour() ==
        Approx((1300000.0 + 390000.0 + 6.5 * 26280.0) / 26280.0 / 8.0 / 7.25));
}

TEST_CASE("every deployment preset names a catalog device, a source and a sane price",
          "[econ][tco]") {
  const auto all = deployments();
  REQUIRE(all.size() == deployment_names.size());
  for (const deployment& d : all) {
    INFO(d.name);
    CHECK_FALSE(d.source.empty());
    CHECK_NOTHROW(visit_device(d.device, [](const auto& dev) { return dev.tdp_w(); }));
    CHECK(std::isfinite(d.usd_per_device_hour()));
    CHECK(d.usd_per_device_hour() > 0.2);
    CHECK(d.usd_per_device_hour() < 15.0);
  }
  // The typical purchase reuses device/tco.hpp.
  const double tdp = visit_device("ascend_910b", [](const auto& dev) { return dev.tdp_w(); });
  CHECK(find_deployment("ascend_910b_purchase").usd_per_device_hour() ==
        Approx(tco::from_purchase(typical_purchase("ascend_910b", tdp)).usd_per_device_hour()));
}

TEST_CASE("an unknown deployment name lists the valid ones", "[econ][tco]") {
  try {
    (void)find_deployment("gcp_tpu");
    FAIL("no exception");
  } catch (const config_error& e) {
    const std::string what = e.what();
    CHECK(what.find("econ::tco: deployment ('gcp_tpu') is not a known deployment; valid: "
                    "deepseek_h800_rental, ") == 0);
    CHECK(what.find("article_ascend_910b_server") != std::string::npos);
  }
}
