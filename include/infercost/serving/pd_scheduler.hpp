/// @file
/// `serving::basic_pd_scheduler<Device, DecodeDevice, Policies>`: the scheduler of one simulated
/// run — the pools of instances and every decision between them: routing an arrival (the PD
/// admission policy picks the pool, the balancer the instance), handing a finished prefill to a
/// decode instance, and timing its KV transfer (the transfer policy) over the link the two pools
/// share. The cluster (serving/cluster.hpp) drives it with an event queue and reports on it.
///
/// Pools:
/// - colocated mode: N identical instances on `Device`, each prefilling and decoding;
/// - PD mode: P prefill instances on `Device` and D decode instances on `DecodeDevice`
///   (DistServe, Zhong et al. OSDI'24; Splitwise, Patel et al. ISCA'24, which puts the two phases
///   on different parts; Mooncake, Qin et al. FAST'25). A prompt the admission policy keeps off
///   the prefill pool is prefilled on a decode instance exactly as a colocated instance would.
///
/// KV transfer: when a prompt's prefill ends a decode instance is chosen; the KV waits on the
/// prefill instance until the decode instance has memory for it, then moves over the scale-out
/// link (the scale-up link when both instances fit in one node): the whole prompt's KV split
/// evenly over min(prefill devices, decode TP) device pairs in parallel, each a point-to-point
/// transfer priced on both ends' devices (the slower end sets the time: with different parts the
/// link they share is the lesser NIC); the transfer policy says how much of it is left once the
/// prefill ends. A prefill instance sends one request at a time (its NICs are shared), so
/// transfers from one instance queue. The first token counts as delivered when the KV arrives.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/fwd.hpp"
#include "infercost/io/workload_types.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/serving/instance.hpp"
#include "infercost/serving/metrics.hpp"
#include "infercost/serving/policies.hpp"
#include "infercost/serving/report.hpp"
#include "infercost/serving/views.hpp"

namespace infercost::serving {

/// How a cluster serves.
enum class serving_mode : std::uint8_t { colocated, pd };

/// "colocated", "pd".
[[nodiscard]] constexpr std::string_view to_string(serving_mode m) noexcept {
  return m == serving_mode::colocated ? "colocated" : "pd";
}

/// Parses "colocated" or "pd". @throws config_error.
[[nodiscard]] inline serving_mode parse_serving_mode(std::string_view name) {
  if (name == "colocated")
    return serving_mode::colocated;
  if (name == "pd")
    return serving_mode::pd;
  throw config_error("serving::cluster", "mode",
                     fmt::format("('{}') must be colocated or pd", name));
}

/// A pool of identical instances.
struct pool_config {
  int instances = 1;                ///< how many (> 0 where the mode uses the pool)
  engine::parallel_layout layout{}; ///< devices and parallelism of each instance
  scheduler_config scheduler{};     ///< batching of each instance
};

/// A cluster: mode, pools, cache, speculation and the SLO goodput is reported at. The policies
/// (routing, PD admission, batching, KV transfer) are the cluster's policy bundle and values.
struct cluster_config {
  serving_mode mode = serving_mode::colocated;
  pool_config colocated{}; ///< colocated mode's instances
  /// PD: the prefill pool; prefill-only steps take whole prompts up to 16K tokens.
  pool_config prefill{.scheduler = {.max_batched_tokens = 16384}};
  pool_config decode{};                          ///< PD: the decode pool
  prefix_cache_config cache{};                   ///< a prefix cache on every instance
  speculative_config speculative{};              ///< speculative decoding in decode steps
  std::optional<link_scope> kv_transfer_scope{}; ///< PD: forced link; default from the layouts
  slo objective{};                               ///< SLO of the reported goodput

  /// @throws config_error naming the first bad field (pool layouts are checked against the
  /// model by the cluster).
  void validate() const {
    constexpr std::string_view c = "serving::cluster";
    if (mode == serving_mode::colocated) {
      check_positive(c, "colocated.instances", colocated.instances);
      colocated.scheduler.validate();
    } else {
      check_positive(c, "prefill.instances", prefill.instances);
      check_positive(c, "decode.instances", decode.instances);
      prefill.scheduler.validate();
      decode.scheduler.validate();
    }
    cache.validate();
    speculative.validate();
    objective.validate();
  }
};

/// KV transfers between a prefill and a decode pool: the bytes of a prompt's KV and the time to
/// move them over the link the pools share. Refers to the two pools' engines, which must outlive
/// it.
template <class PrefillEngine, class DecodeEngine> class kv_link {
public:
  kv_link(const PrefillEngine& prefill, const DecodeEngine& decode,
          std::optional<link_scope> forced)
      : prefill_(&prefill), decode_(&decode), forced_(forced) {}

  /// KV bytes of a prompt of `input_tokens` (all layers, all shards, as the prefill engine stores
  /// them: its attention policy and KV precision).
  [[nodiscard]] double bytes(std::int64_t input_tokens) const {
    return prefill_->kv_bytes_per_sequence(input_tokens);
  }
  /// The link: forced, else scale-up when a prefill and a decode instance fit in one node
  /// together, else scale-out.
  [[nodiscard]] link_scope scope() const noexcept {
    if (forced_)
      return *forced_;
    const int node =
        std::min(prefill_->device().devices_per_node(), decode_->device().devices_per_node());
    return prefill_->layout().devices + decode_->layout().devices <= node ? link_scope::intra_node
                                                                          : link_scope::inter_node;
  }
  /// Time to move a prompt's KV over an idle link: the slower end of each stream.
  [[nodiscard]] double time_s(std::int64_t input_tokens) const {
    const int streams = std::max(1, std::min(prefill_->layout().devices, decode_->layout().tp));
    const comm_work w{.kind = collective::point_to_point,
                      .bytes = bytes(input_tokens) / streams,
                      .ranks = 2,
                      .scope = scope()};
    return std::max(prefill_->device().comm_time_s(w), decode_->device().comm_time_s(w));
  }

private:
  const PrefillEngine* prefill_;
  const DecodeEngine* decode_;
  std::optional<link_scope> forced_;
};

/// What the scheduler asks its driver to do: start a step that ends at a time, or a transfer.
struct scheduled_event {
  double time_s = 0.0;
  bool transfer = false; ///< a KV transfer's end (else a step's)
  int instance = -1;     ///< the instance whose step ends, or the decode instance receiving
  std::int64_t request = -1;
};

/// The scheduler of one run (see the file comment). Instances are numbered in order: the prefill
/// (or colocated) pool, then the decode pool.
template <device_cost_model Device, device_cost_model DecodeDevice, policy_bundle Policies>
class basic_pd_scheduler {
public:
  using prefill_engine_type = engine::basic_step_cost<Device, typename Policies::attention>;
  using decode_engine_type = engine::basic_step_cost<DecodeDevice, typename Policies::attention>;
  using first_instance = basic_instance<Device, Policies>;
  using second_instance = basic_instance<DecodeDevice, Policies>;

  /// @param prefill  the engine of the colocated pool (colocated mode) or of the prefill pool
  /// @param decode   the decode pool's engine (PD), or nullptr
  /// @param seed     seeds the balancers and the speculative draws
  basic_pd_scheduler(const cluster_config& cfg, const policy_values<Policies>& policies,
                     const prefill_engine_type& prefill, const decode_engine_type* decode,
                     const io::workload& w, std::vector<request_record>& records,
                     std::uint64_t seed)
      : cfg_(cfg), policies_(policies), w_(w), records_(records), seed_rng_(seed),
        prefill_balancer_(policies.balancer), decode_balancer_(policies.balancer) {
    prefill_balancer_.seed(seed_rng_.fork(1)());
    decode_balancer_.seed(seed_rng_.fork(2)());
    const std::uint64_t draw_seed = seed_rng_.fork(3)();
    const pool_config& first = cfg.mode == serving_mode::colocated ? cfg.colocated : cfg.prefill;
    const instance_role first_role =
        cfg.mode == serving_mode::colocated ? instance_role::colocated : instance_role::prefill;
    for (int i = 0; i < first.instances; ++i) {
      first_.emplace_back(static_cast<int>(first_.size()), first_role, prefill, first.scheduler,
                          cfg.cache, cfg.speculative, w.requests, records, w.block_tokens,
                          draw_seed, policies.batching);
    }
    if (cfg.mode == serving_mode::pd) {
      INFERCOST_ASSERT(decode != nullptr, "PD needs a decode engine");
      for (int i = 0; i < cfg.decode.instances; ++i)
        second_.emplace_back(first.instances + i, instance_role::decode, *decode,
                             cfg.decode.scheduler, cfg.cache, cfg.speculative, w.requests, records,
                             w.block_tokens, draw_seed, policies.batching);
      link_.emplace(prefill, *decode, cfg.kv_transfer_scope);
      link_free_s_.assign(first_.size(), 0.0);
    }
    candidates_.reserve(std::max(first_.size(), second_.size()));
  }

  [[nodiscard]] std::size_t instances() const noexcept { return first_.size() + second_.size(); }
  /// Calls f with instance `idx` (either pool's type).
  template <class F> decltype(auto) visit(int idx, F&& f) const { return visit_in(*this, idx, f); }
  /// Calls f with instance `idx` (either pool's type), which f may change.
  template <class F> decltype(auto) visit(int idx, F&& f) { return visit_in(*this, idx, f); }
  /// The transfer link (PD), or nullptr.
  [[nodiscard]] const kv_link<prefill_engine_type, decode_engine_type>* link() const noexcept {
    return link_ ? &*link_ : nullptr;
  }

  /// Routes request `id` arriving at `now`, or rejects it (then returns false).
  bool arrive(std::int64_t id, double now, std::vector<scheduled_event>& out) {
    const io::workload_request& q = w_.requests[static_cast<std::size_t>(id)];
    request_record& rec = records_[static_cast<std::size_t>(id)];
    const request_view view = view_of(q);
    const bool pd = cfg_.mode == serving_mode::pd;
    const bool to_prefill =
        pd && policies_.admission.disaggregate(view, load_of(first_), load_of(second_));
    // Pools are uniform: the first instance of each answers for all.
    bool fits = to_prefill || !pd ? first_.front().fits(q.input_tokens, q.output_tokens)
                                  : second_.front().fits(q.input_tokens, q.output_tokens);
    if (to_prefill)
      fits = fits && second_.front().fits(q.input_tokens, q.output_tokens);
    if (!fits) {
      reject(rec, rejection_reason::exceeds_kv_capacity);
      return false;
    }
    // The colocated pool uses the balancer (and random stream) of the pool that decodes.
    if (to_prefill)
      return place(first_, 0, prefill_balancer_, view, now, cfg_.prefill, rec, out);
    if (!pd)
      return place(first_, 0, decode_balancer_, view, now, cfg_.colocated, rec, out);
    return place(second_, static_cast<int>(first_.size()), decode_balancer_, view, now, cfg_.decode,
                 rec, out);
  }

  /// Instance `idx`'s step ended at `now`: finishes it, hands finished prefills to decode
  /// instances, starts transfers and the next step. Returns the requests it completed.
  std::int64_t step_end(int idx, double now, std::vector<scheduled_event>& out) {
    out_.completed.clear();
    out_.prefilled.clear();
    visit(idx, [&](auto& inst) { inst.finish_step(now, out_); });
    for (const std::int64_t id : out_.prefilled) {
      const request_view view = view_of(w_.requests[static_cast<std::size_t>(id)]);
      const int d = static_cast<int>(first_.size()) + pick(second_, decode_balancer_, view, false);
      records_[static_cast<std::size_t>(id)].decode_instance = d;
      second_[static_cast<std::size_t>(d) - first_.size()].offer(id);
      start_transfers(d, now, out);
    }
    if (static_cast<std::size_t>(idx) >= first_.size())
      start_transfers(idx, now, out);
    kick(idx, now, out);
    return static_cast<std::int64_t>(out_.completed.size());
  }

  /// The KV of `id` reached decode instance `d` at `now`.
  void transfer_end(int d, std::int64_t id, double now, std::vector<scheduled_event>& out) {
    request_record& rec = records_[static_cast<std::size_t>(id)];
    const int p = rec.prefill_instance;
    rec.transfer_s = now - rec.first_token_s; // prefill end (its first token) to KV arrival
    rec.first_token_s = now;                  // delivered once the KV has arrived
    first_[static_cast<std::size_t>(p)].release(id);
    kick(p, now, out);
    second_[static_cast<std::size_t>(d) - first_.size()].receive(id);
    kick(d, now, out);
  }

  /// KV bytes moved so far.
  [[nodiscard]] double kv_bytes() const noexcept { return kv_bytes_; }

private:
  // Deques: an instance stays where it was built (instances are neither copied nor moved).
  using pool_first = std::deque<first_instance>;
  using pool_second = std::deque<second_instance>;

  /// visit() on a const or a mutable scheduler.
  template <class Self, class F> static decltype(auto) visit_in(Self& self, int idx, F& f) {
    const auto i = static_cast<std::size_t>(idx);
    if (i < self.first_.size())
      return f(self.first_[i]);
    return f(self.second_[i - self.first_.size()]);
  }

  [[nodiscard]] static request_view view_of(const io::workload_request& q) noexcept {
    return {.id = q.id,
            .arrival_s = q.arrival_s,
            .input_tokens = q.input_tokens,
            .output_tokens = q.output_tokens,
            .requeued = 0};
  }

  template <class Pool> [[nodiscard]] static pool_load load_of(const Pool& pool) noexcept {
    pool_load l{.instances = static_cast<double>(pool.size())};
    for (const auto& inst : pool) {
      l.requests += static_cast<double>(inst.load());
      l.queued_prefill_tokens += static_cast<double>(inst.queued_prefill_tokens());
    }
    return l;
  }

  void reject(request_record& rec, rejection_reason why) {
    rec.status = request_status::rejected;
    rec.reason = why;
  }

  /// Puts the request in `pool` (instance numbers from `first`) and starts a step, or rejects it
  /// when the chosen instance's queue is at its limit.
  template <class Pool, class Balancer>
  bool place(Pool& pool, int first, Balancer& b, const request_view& view, double now,
             const pool_config& pc, request_record& rec, std::vector<scheduled_event>& out) {
    const int local = pick(pool, b, view, true);
    auto& inst = pool[static_cast<std::size_t>(local)];
    if (pc.scheduler.max_queue > 0 && inst.waiting() >= pc.scheduler.max_queue) {
      reject(rec, rejection_reason::queue_full);
      return false;
    }
    inst.enqueue(view.id);
    kick(first + local, now, out);
    return true;
  }

  /// The balancer's choice in `pool` for request `view`, as an index into the pool.
  template <class Pool, class Balancer>
  int pick(const Pool& pool, Balancer& b, const request_view& view, bool prefill) {
    candidates_.clear();
    const bool match = prefill && b.needs_cache_match();
    for (const auto& inst : pool)
      candidates_.push_back({.load = inst.load(),
                             .queued_tokens = prefill ? inst.queued_prefill_tokens() : 0,
                             .cached_tokens = match ? inst.cached_prefix_tokens(view.id) : 0});
    return static_cast<int>(b.pick(candidates_, view));
  }

  /// Starts a step on instance `idx` at `now` if it is idle and has work.
  void kick(int idx, double now, std::vector<scheduled_event>& out) {
    visit(idx, [&](auto& inst) {
      if (inst.busy())
        return;
      if (const std::optional<double> d = inst.start_step(now))
        out.push_back({.time_s = now + *d, .transfer = false, .instance = idx});
    });
  }

  /// Starts every transfer to decode instance `d` that its free memory admits.
  void start_transfers(int d, double now, std::vector<scheduled_event>& out) {
    second_instance& dec = second_[static_cast<std::size_t>(d) - first_.size()];
    while (const std::optional<std::int64_t> id = dec.admit_transfer()) {
      request_record& rec = records_[static_cast<std::size_t>(*id)];
      const auto p = static_cast<std::size_t>(rec.prefill_instance);
      const double start = std::max(now, link_free_s_[p]);
      const transfer_view tv{.transfer_s = link_->time_s(rec.input_tokens),
                             .prefill_s = rec.first_token_s - rec.first_scheduled_s,
                             .layers = first_.front().engine().model().num_layers};
      const double end = start + policies_.transfer.remaining_s(tv);
      link_free_s_[p] = end;
      rec.kv_bytes = link_->bytes(rec.input_tokens);
      kv_bytes_ += rec.kv_bytes;
      out.push_back({.time_s = end, .transfer = true, .instance = d, .request = *id});
    }
  }

  const cluster_config& cfg_;
  const policy_values<Policies>& policies_;
  const io::workload& w_;
  std::vector<request_record>& records_;
  rng seed_rng_;
  typename Policies::balancer prefill_balancer_;
  typename Policies::balancer decode_balancer_;
  pool_first first_;   ///< colocated or PD prefill instances, on Device
  pool_second second_; ///< PD decode instances, on DecodeDevice
  std::optional<kv_link<prefill_engine_type, decode_engine_type>> link_;
  std::vector<double> link_free_s_; ///< per prefill instance: when its link is next free
  std::vector<candidate> candidates_;
  step_outcome out_;
  double kv_bytes_ = 0.0;
};

} // namespace infercost::serving
