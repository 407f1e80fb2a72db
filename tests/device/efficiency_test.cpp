#include <catch2/catch.hpp>

#include "infercost/device/efficiency.hpp"

using namespace infercost;

TEST_CASE("efficiency selects factors by op kind and validates them", "[device][efficiency]") {
  efficiency e;
  e.gemm_compute = 0.6;
  e.attention_memory = 0.9;
  CHECK(e.compute(op_kind::gemm) == 0.6);
  CHECK(e.memory(op_kind::attention) == 0.9);
  CHECK(e.compute(op_kind::elementwise) == e.elementwise_compute);
  CHECK_NOTHROW(e.validate("x"));
  e.scale_out_link = -0.1;
  CHECK_THROWS_WITH(e.validate("x"), "x: efficiency.scale_out_link (-0.1) must be in (0, 1]");
}
