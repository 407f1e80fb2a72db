// Which types satisfy infercost's concepts: compile-time checks only. This file is compiled as
// part of the build (an object library, tests/CMakeLists.txt); a failing check fails the build.
// Every concept the library defines has a positive and a negative case here.
#include <cstddef>
#include <string_view>

#include "infercost/device/any_device.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/kvcache/eviction.hpp"
#include "infercost/serving/report.hpp"
#include "infercost/speculative/language_model.hpp"
#include "infercost/speculative/verify.hpp"

namespace ic = infercost;

// device_cost_model: every catalog device, both families, and the run-time device.
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
static_assert(ic::device_cost_model<ic::any_device>);
static_assert(ic::device_cost_model<ic::default_device>);
static_assert(!ic::device_cost_model<int>);
static_assert(!ic::device_cost_model<ic::cuda_spec>);
// A family without a datasheet default takes its numbers at run time, so it is not default-
// constructible and not a device_cost_model on its own (any_device wraps it).
static_assert(!ic::device_cost_model<ic::cuda_gpu<>>);
static_assert(!ic::device_cost_model<ic::ascend_npu<>>);
static_assert(ic::cuda_gpu<ic::spec::h800_sxm>::family_name == "cuda_gpu");
static_assert(ic::ascend_npu<ic::spec::ascend_910c>::family_name == "ascend_npu");

// kvcache::eviction_policy: the three policies, and not a device.
static_assert(ic::kvcache::eviction_policy<ic::kvcache::lru>);
static_assert(ic::kvcache::eviction_policy<ic::kvcache::lfu>);
static_assert(ic::kvcache::eviction_policy<ic::kvcache::s3fifo>);
static_assert(!ic::kvcache::eviction_policy<ic::h100_sxm>);

// econ::usage_like: the serving report's usage and econ's own, not a device.
static_assert(ic::econ::usage_like<ic::serving::usage>);
static_assert(ic::econ::usage_like<ic::econ::device_usage>);
static_assert(!ic::econ::usage_like<ic::h100_sxm>);

// speculative::language_model and verify_policy.
static_assert(ic::speculative::language_model<ic::speculative::ngram_model>);
static_assert(!ic::speculative::language_model<int>);
static_assert(ic::speculative::verify_policy<ic::speculative::rejection_sampling>);
static_assert(ic::speculative::verify_policy<ic::speculative::greedy>);
static_assert(!ic::speculative::verify_policy<ic::kvcache::lru>);
