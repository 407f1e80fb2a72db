// Which types satisfy infercost's concepts: compile-time checks only. This file is compiled as
// part of the build (an object library, tests/CMakeLists.txt); a failing check fails the build.
// Every concept the library defines has a positive and a negative case here.
#include <cstddef>
#include <span>
#include <string_view>

#include "infercost/attention/cost.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/kvcache/eviction.hpp"
#include "infercost/moe/policies.hpp"
#include "infercost/serving/policies.hpp"
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

// moe::scoring_policy, selection_policy, capacity_policy: the built-in policies; a selection
// without its cost face (group_limit) is not a selection policy.
static_assert(ic::moe::scoring_policy<ic::moe::softmax_scoring>);
static_assert(ic::moe::scoring_policy<ic::moe::sigmoid_bias_scoring>);
static_assert(!ic::moe::scoring_policy<ic::moe::topk_selection>);
static_assert(ic::moe::selection_policy<ic::moe::topk_selection>);
static_assert(ic::moe::selection_policy<ic::moe::group_limited_topk>);
static_assert(!ic::moe::selection_policy<ic::moe::softmax_scoring>);
namespace moe_static {
struct select_only {
  static constexpr std::string_view name = "select_only";
  static void select(std::span<const double>, const ic::moe::router_config&, std::span<int>,
                     ic::moe::selection_scratch&) {}
};
} // namespace moe_static
static_assert(!ic::moe::selection_policy<moe_static::select_only>);
static_assert(ic::moe::capacity_policy<ic::moe::unlimited_capacity>);
static_assert(ic::moe::capacity_policy<ic::moe::limited_capacity>);
static_assert(!ic::moe::capacity_policy<ic::h100_sxm>);

// attention::attention_policy: the four built-in tags; a config is not a policy.
static_assert(ic::attention::attention_policy<ic::attention::full>);
static_assert(ic::attention::attention_policy<ic::attention::csa>);
static_assert(ic::attention::attention_policy<ic::attention::sliding_window>);
static_assert(ic::attention::attention_policy<ic::attention::topk_sparse>);
static_assert(!ic::attention::attention_policy<ic::attention::full_config>);
static_assert(!ic::attention::attention_policy<ic::h100_sxm>);

// serving: balancer, PD admission, batching and KV transfer policies, their run-time choices,
// and the bundles.
static_assert(ic::serving::balancer_policy<ic::serving::round_robin>);
static_assert(ic::serving::balancer_policy<ic::serving::least_loaded>);
static_assert(ic::serving::balancer_policy<ic::serving::power_of_two>);
static_assert(ic::serving::balancer_policy<ic::serving::cache_aware>);
static_assert(ic::serving::balancer_policy<ic::serving::balancer_choice>);
static_assert(!ic::serving::balancer_policy<ic::serving::fcfs>);
static_assert(ic::serving::pd_admission_policy<ic::serving::length_threshold>);
static_assert(ic::serving::pd_admission_policy<ic::serving::always_disaggregate>);
static_assert(ic::serving::pd_admission_policy<ic::serving::load_aware>);
static_assert(ic::serving::pd_admission_policy<ic::serving::admission_choice>);
static_assert(!ic::serving::pd_admission_policy<ic::serving::least_loaded>);
static_assert(ic::serving::batching_policy<ic::serving::fcfs>);
static_assert(ic::serving::batching_policy<ic::serving::deadline_first>);
static_assert(ic::serving::batching_policy<ic::serving::batching_choice>);
static_assert(!ic::serving::batching_policy<ic::serving::whole_prompt>);
static_assert(ic::serving::kv_transfer_policy<ic::serving::whole_prompt>);
static_assert(ic::serving::kv_transfer_policy<ic::serving::layer_wise>);
static_assert(ic::serving::kv_transfer_policy<ic::serving::transfer_choice>);
static_assert(!ic::serving::kv_transfer_policy<ic::serving::length_threshold>);
static_assert(ic::serving::policy_bundle<ic::serving::default_policies>);
static_assert(ic::serving::policy_bundle<ic::serving::runtime_policies>);
static_assert(
    ic::serving::policy_bundle<
        ic::serving::with_attention<ic::attention::topk_sparse, ic::serving::default_policies>>);
static_assert(!ic::serving::policy_bundle<ic::serving::fcfs>);
