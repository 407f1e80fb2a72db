#include <catch2/catch.hpp>

#include "infercost/device/summary.hpp"

using namespace infercost;

TEST_CASE("device summaries carry datasheet peaks, ridge points and cost per hour",
          "[device][summary]") {
  const auto rows = catalog_summary();
  REQUIRE(rows.size() == 15);
  const auto& h100 = rows[1];
  CHECK(h100.name == "h100_sxm");
  CHECK(h100.family == "cuda_gpu");
  CHECK(h100.ridge_bf16 == Approx(989.4e12 / 3.35e12));
  const auto& b2 = rows[6];
  CHECK(b2.name == "ascend_910b2");
  CHECK(b2.family == "ascend_npu");
  // No FP8 on 910B: its FP8 peak is 0, not the 16-bit rate; it serves W8A8 INT8.
  CHECK(b2.fp8_flops == 0.0);
  CHECK(b2.serving_precision == "int8");
  CHECK(h100.fp8_flops == Approx(1978.9e12));
  CHECK(h100.serving_precision == "fp8");
  CHECK(rows[10].name == "b300");
  CHECK(rows[11].name == "gb200_nvl72");
  CHECK(rows[12].name == "gb300_nvl72");
  CHECK(rows[13].name == "atlas_800_a3");
  CHECK(rows[14].name == "cloudmatrix384");
  for (const auto& r : rows) {
    CHECK(r.usd_per_hour > 0.0);
    CHECK(r.price_usd > 0.0);
  }
}
