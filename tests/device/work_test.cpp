#include <catch2/catch.hpp>

#include "infercost/device/work.hpp"

using namespace infercost;

TEST_CASE("precisions have their storage sizes and round-trip through names", "[device][work]") {
  CHECK(bytes_per_element(precision::fp32) == 4);
  CHECK(bytes_per_element(precision::bf16) == 2);
  CHECK(bytes_per_element(precision::fp8) == 1);
  // NVFP4: 16 E2M1 values (64 bits) + one E4M3 scale (8 bits) = 72 bits / 16 = 4.5 bits.
  CHECK(bytes_per_element(precision::fp4) == 0.5625);
  // W4A8: two 4-bit weights per byte.
  CHECK(bytes_per_element(precision::int4) == 0.5);
  for (precision p : all_precisions)
    CHECK(parse_precision(to_string(p)) == p);
  CHECK_THROWS_WITH(
      parse_precision("fp9"),
      "precision: name ('fp9') must be one of fp32, tf32, bf16, fp16, fp8, int8, fp4, int4");
}

TEST_CASE("op_work reports bytes and arithmetic intensity", "[device][work]") {
  const op_work w{.flops = 1000, .bytes_read = 30, .bytes_written = 20};
  CHECK(w.bytes() == 50);
  CHECK(w.intensity() == 20);
  CHECK(op_work{}.intensity() == 0);
  CHECK(to_string(op_kind::attention) == "attention");
  CHECK(to_string(collective::all_to_all) == "all_to_all");
}
