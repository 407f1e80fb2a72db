/// @file
/// Every concept of the cost model and the simulation, in one place: what a device cost model,
/// an attention policy, an MoE router's scoring, selection and capacity policies, a KV-cache
/// eviction policy, the serving policies (balancer, PD admission, batching, KV transfer) and a
/// bundle of them must provide. Components name them in their template heads
/// (`template <device_cost_model Device, attention_policy Attention>`), fwd.hpp declares the
/// templates with them, and tests/static/concepts_test.cpp shows which types satisfy each.
/// A user's own class that satisfies a concept works without editing the library.
///
/// The types the concepts mention are declared here and defined in their areas' headers; a
/// concept is only checked where its types are complete. (The numeric faces' concepts,
/// speculative::language_model and verify_policy, live with them: they name Eigen types.)
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace infercost {

enum class precision;
struct op_work;
struct comm_work;
struct efficiency;

/// A device cost model: names a chip, belongs to a family (`family()`: "cuda_gpu", "ascend_npu"),
/// and turns op_work and comm_work into seconds. Device values are cheap to copy and
/// default-constructible from their datasheet.
template <class D>
concept device_cost_model = std::default_initializable<D> && std::copy_constructible<D> &&
    requires(const D& d, const op_work& w, const comm_work& c, double bytes, precision p) {
  { d.name() } -> std::convertible_to<std::string_view>;
  { d.family() } -> std::convertible_to<std::string_view>;
  { d.memory_bytes() } -> std::convertible_to<double>;
  { d.memory_bytes_per_s() } -> std::convertible_to<double>;
  { d.peak_flops(p) } -> std::convertible_to<double>;
  { d.vector_flops() } -> std::convertible_to<double>;
  { d.efficiencies() } -> std::convertible_to<const efficiency&>;
  { d.devices_per_node() } -> std::convertible_to<int>;
  { d.scale_up_bytes_per_s() } -> std::convertible_to<double>;
  { d.scale_out_bytes_per_s() } -> std::convertible_to<double>;
  { d.host_bytes_per_s() } -> std::convertible_to<double>;
  { d.tdp_w() } -> std::convertible_to<double>;
  { d.op_time_s(w) } -> std::convertible_to<double>;
  { d.comm_time_s(c) } -> std::convertible_to<double>;
  { d.host_transfer_time_s(bytes) } -> std::convertible_to<double>;
};

namespace attention {
struct attention_shape;
struct attention_work;
struct batch_totals;

/// An attention policy: a tag with a name, a config struct that validates itself against a
/// layer's shape, and a cost face — the work of one layer for a batch step given by its sums,
/// the KV bytes a token adds to one layer, and how many of a sequence's tokens one layer keeps.
/// The step-cost engine, basic_attention and the serving simulator take any type that satisfies
/// it: a user's own policy works without editing the library.
template <class P>
concept attention_policy = std::default_initializable<typename P::config> &&
    requires(const typename P::config& c, const attention_shape& s, const batch_totals& t,
             double context) {
  { P::name } -> std::convertible_to<std::string_view>;
  c.validate(s);
  { P::step_work(s, c, t) } -> std::same_as<attention_work>;
  { P::kv_bytes_per_token(s, c) } -> std::convertible_to<double>;
  { P::kept_tokens(c, context) } -> std::convertible_to<double>;
};

} // namespace attention

namespace moe {
struct router_config;
struct selection_scratch;
struct expert_groups;

/// A scoring policy maps one token's logits (num_experts) to affinities, the source of the
/// combine weights, and choice scores, the selection key; `bias` is the router's per-expert
/// selection bias (a policy may ignore it). The cost face uses only its name: it takes the
/// experts' popularity as given, whatever scoring produced it.
template <class S>
concept scoring_policy = requires(std::span<const double> logits, std::span<const double> bias,
                                  std::span<double> affinity, std::span<double> choice) {
  { S::name } -> std::convertible_to<std::string_view>;
  S::score(logits, bias, affinity, choice);
};

/// A selection policy writes a token's top_k experts (best first) from its choice scores, and
/// says, for the cost face, how it limits them: `group_limit(cfg)` returns the expert groups
/// (`count` contiguous groups of num_experts / count experts) and how many of them one token's
/// experts may come from. `{1, 1}` is no limit. The cost face uses the limit to count the nodes a
/// token's dispatch reaches when groups map onto nodes.
template <class S>
concept selection_policy = requires(std::span<const double> choice, const router_config& cfg,
                                    std::span<int> out, selection_scratch& scratch) {
  { S::name } -> std::convertible_to<std::string_view>;
  S::select(choice, cfg, out, scratch);
  { S::group_limit(cfg) } -> std::same_as<expert_groups>;
};

/// A capacity policy gives the most assignments one expert processes in a batch of `tokens`
/// tokens (-1: no limit); the numeric router drops the rest, and the cost face takes the
/// expected processed and dropped assignments of each expert from the same function.
template <class C>
concept capacity_policy = requires(std::int64_t tokens, const router_config& cfg) {
  { C::name } -> std::convertible_to<std::string_view>;
  { C::capacity(tokens, cfg) } -> std::convertible_to<std::int64_t>;
};

} // namespace moe

namespace kvcache {
using block_handle = std::uint32_t;
template <class Node> class block_table;

/// An eviction policy orders the evictable blocks of one cache tier. The cache keeps one policy
/// object per tier and makes these calls, and no others, with `blocks` its block table:
///
/// - `P(capacity)`: a policy for a tier of `capacity` blocks (up to 2^40 for an unlimited tier,
///   so a policy must not allocate in proportion to it).
/// - `p.insert(blocks, h)`: block `h`, not in the policy, becomes evictable in this tier: it is
///   new, it was demoted or promoted into the tier, or its last pin was released.
/// - `p.touch(blocks, h)`: block `h`, in the policy, was hit (a lookup found it, or an insert
///   found it already cached).
/// - `p.erase(blocks, h)`: block `h`, in the policy, stops being evictable without being
///   evicted: it was pinned by a running request, or moved up to HBM.
/// - `p.evict(blocks)`: takes out and returns the block to evict next; only called when
///   `size() > 0`. The block then moves to a lower tier or leaves the cache.
/// - `p.size()`: blocks in the policy.
///
/// `P::node` is the policy's per-block data (see block_table); `P::name` names the policy in
/// reports. Each call must be O(1) (amortised) for the cache to keep that bound.
template <class P>
concept eviction_policy = std::constructible_from<P, std::size_t> &&
    std::semiregular<typename P::node> &&
    requires(P& p, const P& cp, block_table<typename P::node> blocks, block_handle h) {
  { P::name } -> std::convertible_to<std::string_view>;
  p.insert(blocks, h);
  p.touch(blocks, h);
  p.erase(blocks, h);
  { p.evict(blocks) } -> std::same_as<block_handle>;
  { cp.size() } -> std::convertible_to<std::size_t>;
};
} // namespace kvcache

namespace serving {
struct request_view;
struct candidate;
struct pool_load;
struct transfer_view;

/// A load balancer: picks the index of the instance of a pool that gets a request, from what it
/// sees of each (serving/views.hpp). `seed` is called once per simulation run; a balancer that
/// draws at random draws from it. `needs_cache_match` says whether pick reads the candidates'
/// cached_tokens (a prefix-cache lookup per instance per arrival otherwise skipped).
template <class B>
concept balancer_policy = std::copy_constructible<B> && std::default_initializable<B> &&
    requires(B& b, const B& cb, std::span<const candidate> c, const request_view& r,
             std::uint64_t seed) {
  { B::name } -> std::convertible_to<std::string_view>;
  { cb.needs_cache_match() } -> std::same_as<bool>;
  b.seed(seed);
  { b.pick(c, r) } -> std::same_as<std::size_t>;
};

/// A PD admission rule: whether a request's prompt goes to the prefill pool (true) or is
/// prefilled on a decode instance, given the two pools' loads.
template <class A>
concept pd_admission_policy = std::copy_constructible<A> && std::default_initializable<A> &&
    requires(const A& a, const request_view& r, const pool_load& p) {
  { A::name } -> std::convertible_to<std::string_view>;
  { a.disaggregate(r, p, p) } -> std::same_as<bool>;
};

/// A batching and preemption policy: an instance admits waiting prompts in ascending
/// `admission_order`, and preempts the running sequence with the highest `preemption_order`; with
/// head-of-line blocking the first prompt that does not fit in KV memory stops admission, without
/// it later ones may pass.
template <class P>
concept batching_policy = std::copy_constructible<P> && std::default_initializable<P> &&
    requires(const P& p, const request_view& r) {
  { P::name } -> std::convertible_to<std::string_view>;
  { p.admission_order(r) } -> std::convertible_to<double>;
  { p.preemption_order(r) } -> std::convertible_to<double>;
  { p.head_of_line_blocking() } -> std::same_as<bool>;
};

/// A KV transfer policy: the seconds of a prompt's KV transfer left when its prefill ends.
template <class T>
concept kv_transfer_policy = std::copy_constructible<T> && std::default_initializable<T> &&
    requires(const T& t, const transfer_view& v) {
  { T::name } -> std::convertible_to<std::string_view>;
  { t.remaining_s(v) } -> std::convertible_to<double>;
};

/// A bundle of policy types for a cluster (serving::default_policies and the structs derived from
/// it).
template <class P>
concept policy_bundle =
    attention::attention_policy<typename P::attention> && balancer_policy<typename P::balancer> &&
    pd_admission_policy<typename P::admission> && batching_policy<typename P::batching> &&
    kv_transfer_policy<typename P::transfer> && kvcache::eviction_policy<typename P::eviction>;
} // namespace serving

} // namespace infercost
