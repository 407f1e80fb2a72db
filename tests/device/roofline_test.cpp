#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/device/roofline.hpp"

using namespace infercost;

TEST_CASE("roofline takes the slower of compute and memory plus overhead", "[device][roofline]") {
  CHECK(roofline_time_s(2.0, 3.0, 0.5) == 3.5);
  CHECK(roofline_time_s(4.0, 3.0, 0.0) == 4.0);
}

TEST_CASE("ridge points match the datasheet ratios", "[device][roofline]") {
  // H100 BF16: 989.4e12 / 3.35e12 = 295.3 FLOP/byte; 910B2 FP16: 376e12 / 1.6e12 = 235.
  CHECK(ridge_point(989.4e12, 3.35e12) == Approx(295.34).epsilon(1e-3));
  CHECK(ridge_point(376e12, 1.6e12) == Approx(235.0));
  CHECK(is_compute_bound(300, 989.4e12, 3.35e12));
  CHECK_FALSE(is_compute_bound(100, 989.4e12, 3.35e12));
  CHECK(ridge_point(1.0, 0.0) == 0.0);
}

TEMPLATE_TEST_CASE("op time turns from memory-bound to compute-bound at the ridge point",
                   "[device][roofline]", h800_sxm, ascend_910b) {
  const TestType d;
  const efficiency& e = d.efficiencies();
  const double ridge = ridge_point(d.peak_flops(precision::bf16) * e.gemm_compute,
                                   d.memory_bytes_per_s() * e.gemm_memory);
  const double bytes = 1e9;
  const op_work below{.flops = 0.5 * ridge * bytes, .bytes_read = bytes};
  const op_work above{.flops = 2.0 * ridge * bytes, .bytes_read = bytes};
  const double mem_s = bytes / (d.memory_bytes_per_s() * e.gemm_memory);
  CHECK(d.op_time_s(below) - d.op_time_s(op_work{}) == Approx(mem_s));
  CHECK(d.op_time_s(above) - d.op_time_s(op_work{}) == Approx(2.0 * mem_s));
}
