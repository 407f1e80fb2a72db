/// @file
/// Declarations of every public class template, with its default template arguments. Include
/// this instead of the full headers where only names are needed.
#pragma once

#include "infercost/concepts.hpp"

namespace infercost {

// device/
struct cuda_spec;
struct ascend_spec;
template <class Spec = void> class cuda_gpu;
template <class Spec = void> class ascend_npu;
class any_device;

// moe/
namespace moe {
struct softmax_scoring;
struct sigmoid_bias_scoring;
struct topk_selection;
struct group_limited_topk;
struct unlimited_capacity;
struct limited_capacity;
struct swiglu_expert;
struct relu_expert;
template <scoring_policy Scoring = softmax_scoring, selection_policy Selection = topk_selection,
          capacity_policy Capacity = unlimited_capacity>
struct router_policy;
template <device_cost_model Device, scoring_policy Scoring = softmax_scoring,
          selection_policy Selection = topk_selection,
          capacity_policy Capacity = unlimited_capacity>
class basic_router;
template <device_cost_model Device, class Expert = swiglu_expert, class Scalar = float>
class basic_layer;
} // namespace moe

// attention/
namespace attention {
struct full;
struct csa;
struct sliding_window;
struct topk_sparse;
template <device_cost_model Device, attention_policy Policy = full> class basic_attention;
} // namespace attention

// speculative/
namespace speculative {
struct rejection_sampling;
struct greedy;
template <device_cost_model Device> class basic_step_cost_model;
template <class Device, class Draft, class Target, class Verify = rejection_sampling>
class basic_decoder;
} // namespace speculative

// kvcache/
namespace kvcache {
class lru;
class lfu;
class s3fifo;
template <device_cost_model Device, eviction_policy Eviction = lru> class basic_tiered_cache;
} // namespace kvcache

// engine/
namespace engine {
template <device_cost_model Device, attention::attention_policy Attention = attention::full>
class basic_step_cost;
} // namespace engine

// serving/
namespace serving {
struct default_policies;
template <device_cost_model Device, policy_bundle Policies = default_policies> class basic_instance;
template <device_cost_model Device, device_cost_model DecodeDevice, policy_bundle Policies>
class basic_pd_scheduler;
template <device_cost_model Device, policy_bundle Policies = default_policies,
          device_cost_model DecodeDevice = Device>
class basic_cluster;
} // namespace serving

// econ/

} // namespace infercost
