// Which types satisfy infercost's concepts: compile-time checks, one runtime case so the
// executable has something to run.
#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"

namespace ic = infercost;

static_assert(ic::device_cost_model<ic::a100_sxm>);
static_assert(ic::device_cost_model<ic::h100_sxm>);
static_assert(ic::device_cost_model<ic::h800_sxm>);
static_assert(ic::device_cost_model<ic::h20>);
static_assert(ic::device_cost_model<ic::h200_sxm>);
static_assert(ic::device_cost_model<ic::b200>);
static_assert(ic::device_cost_model<ic::ascend_910b>);
static_assert(ic::device_cost_model<ic::ascend_910b3>);
static_assert(ic::device_cost_model<ic::ascend_910b4>);
static_assert(ic::device_cost_model<ic::ascend_910c>);
static_assert(!ic::device_cost_model<int>);
static_assert(!ic::device_cost_model<ic::cuda_spec>);
static_assert(ic::cuda_gpu<ic::spec::h800_sxm>::family_name == "cuda_gpu");
static_assert(ic::ascend_npu<ic::spec::ascend_910c>::family_name == "ascend_npu");

TEST_CASE("catalog devices satisfy device_cost_model", "[static]") {
  CHECK(ic::device_cost_model<ic::default_device>);
}
