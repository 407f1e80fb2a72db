/// @file
/// Declarations of every public class template, with its default template arguments. Include
/// this instead of the full headers where only names are needed.
#pragma once

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
template <class Device, class Scoring = softmax_scoring, class Selection = topk_selection,
          class Capacity = unlimited_capacity>
class basic_router;
template <class Device, class Expert = swiglu_expert, class Scalar = float> class basic_layer;
} // namespace moe

// attention/
namespace attention {
struct full;
struct csa;
struct sliding_window;
struct topk_sparse;
template <class Device, class Policy = full> class basic_attention;
} // namespace attention

// speculative/
namespace speculative {
struct rejection_sampling;
struct greedy;
template <class Device> class basic_step_cost_model;
template <class Device, class Draft, class Target, class Verify = rejection_sampling>
class basic_decoder;
} // namespace speculative

// kvcache/
namespace kvcache {
class lru;
class lfu;
class s3fifo;
template <class Device, class Eviction = lru> class basic_tiered_cache;
} // namespace kvcache

// engine/
namespace engine {
template <class Device, class Attention = attention::full> class basic_step_cost;
} // namespace engine

// serving/
namespace serving {
template <class Device, class Attention = attention::full, class Eviction = kvcache::lru>
class basic_instance;
template <class Device, class Attention = attention::full, class Eviction = kvcache::lru>
class basic_cluster;
} // namespace serving

// econ/

} // namespace infercost
