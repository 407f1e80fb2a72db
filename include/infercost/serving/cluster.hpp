/// @file
/// `serving::basic_cluster<Device, Attention, Eviction>`: a discrete-event simulation of a
/// serving cluster replaying a workload.
///
/// Request lifecycle: arrive → (balancer) → queue on an instance → prefill in chunks → [PD: KV
/// transfer to a decode instance] → decode → done. Every request either completes or is
/// rejected at arrival with a reason (its prompt and output cannot fit in an instance's KV
/// memory even alone, or the chosen instance's queue is at its limit), so arrived = completed +
/// rejected.
///
/// Modes:
/// - colocated: N identical instances, each prefilling and decoding (continuous batching with
///   chunked prefill, the vLLM/Sarathi baseline).
/// - pd: P prefill instances and D decode instances (DistServe, Zhong et al. OSDI'24; Splitwise,
///   Patel et al. ISCA'24; Mooncake, Qin et al. FAST'25). Prompts longer than
///   `pd_threshold_tokens` go to the prefill pool; shorter ones are prefilled on a decode
///   instance (the article's rule, §3.3, with 4096; 0 sends every prompt to the prefill pool).
///   When a prompt's prefill ends, a decode instance is chosen; the KV waits on the prefill
///   instance until the decode instance has memory for it, then moves over the scale-out link
///   (the scale-up link when both instances fit in one node): the whole prompt's KV split
///   evenly over min(prefill devices, decode TP) device pairs in parallel, each a
///   point-to-point transfer priced by `Device::comm_time_s`; a prefill instance sends one
///   request at a time (its NICs are shared), so transfers from one instance queue. The first
///   token counts as delivered when the KV arrives.
///
/// Events are ordered by (time, sequence number); arrivals, taken from the sorted workload,
/// come before any other event at the same time. All randomness (power-of-two choices,
/// speculative acceptance) flows from the run's seed: the same seed gives the same report, bit
/// for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/core/random.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/fwd.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/serving/balancer.hpp"
#include "infercost/serving/event_loop.hpp"
#include "infercost/serving/instance.hpp"
#include "infercost/serving/metrics.hpp"
#include "infercost/serving/report.hpp"

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

/// A cluster: mode, pools, routing, cache, speculation and the SLO goodput is reported at.
struct cluster_config {
  serving_mode mode = serving_mode::colocated;
  pool_config colocated{}; ///< colocated mode's instances
  /// PD: the prefill pool; prefill-only steps take whole prompts up to 16K tokens.
  pool_config prefill{.scheduler = {.max_batched_tokens = 16384}};
  pool_config decode{};                 ///< PD: the decode pool
  std::int64_t pd_threshold_tokens = 0; ///< PD: longer prompts go to the prefill pool
  balancer_kind balancer = balancer_kind::least_loaded;
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
      check_non_negative(c, "pd_threshold_tokens", pd_threshold_tokens);
    }
    cache.validate();
    speculative.validate();
    objective.validate();
  }
};

/// Called as a run progresses with (requests finished or rejected, requests in the workload).
using progress_callback = std::function<void(std::size_t done, std::size_t total)>;

/// The cluster simulator (see the file comment). One Device type and one Attention policy for
/// every instance; `Eviction` is the prefix cache's policy.
template <class Device, class Attention, class Eviction> class basic_cluster {
public:
  using engine_type = engine::basic_step_cost<Device, Attention>;
  using instance_type = basic_instance<Device, Attention, Eviction>;

  /// Builds the engines of the pools the mode uses and checks that the model fits.
  /// @throws config_error for a bad config, a layout that does not fit the model, or weights
  /// that leave no KV memory (the message gives the numbers).
  basic_cluster(model::model_config m, cluster_config cfg,
                typename Attention::config attention = {}, Device device = {})
      : model_(std::move(m)), cfg_(std::move(cfg)), device_(std::move(device)) {
    cfg_.validate();
    auto build = [&](const pool_config& p) {
      auto e = std::make_unique<engine_type>(model_, p.layout, attention, device_);
      (void)e->kv_capacity_bytes(p.scheduler.activation_reserve); // fits, or says why not
      return e;
    };
    if (cfg_.mode == serving_mode::colocated) {
      colocated_ = build(cfg_.colocated);
    } else {
      prefill_ = build(cfg_.prefill);
      decode_ = build(cfg_.decode);
    }
  }

  [[nodiscard]] const cluster_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const model::model_config& model() const noexcept { return model_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }
  /// The engine of the colocated pool (colocated mode) or of the prefill pool (pd).
  [[nodiscard]] const engine_type& prefill_engine() const noexcept {
    return colocated_ ? *colocated_ : *prefill_;
  }
  /// The engine of the colocated pool (colocated mode) or of the decode pool (pd).
  [[nodiscard]] const engine_type& decode_engine() const noexcept {
    return colocated_ ? *colocated_ : *decode_;
  }
  /// Devices of all instances.
  [[nodiscard]] int devices() const noexcept {
    if (cfg_.mode == serving_mode::colocated)
      return cfg_.colocated.instances * cfg_.colocated.layout.devices;
    return cfg_.prefill.instances * cfg_.prefill.layout.devices +
           cfg_.decode.instances * cfg_.decode.layout.devices;
  }

  /// PD: KV bytes of a prompt of `input_tokens` sent to its decode instance (all layers, all
  /// shards, at the prefill layout's KV precision).
  [[nodiscard]] double kv_transfer_bytes(std::int64_t input_tokens) const {
    return model::kv_bytes_per_sequence(model_, input_tokens, prefill_engine().layout().kv_prec);
  }
  /// The link a PD transfer uses: forced by the config, else scale-up when a prefill and a
  /// decode instance fit in one node together, else scale-out.
  [[nodiscard]] link_scope kv_transfer_scope() const noexcept {
    if (cfg_.kv_transfer_scope)
      return *cfg_.kv_transfer_scope;
    const engine::parallel_layout& p = prefill_engine().layout();
    const engine::parallel_layout& d = decode_engine().layout();
    return p.devices + d.devices <= std::min(p.devices_per_node, d.devices_per_node)
               ? link_scope::intra_node
               : link_scope::inter_node;
  }
  /// PD: time to move a prompt's KV to its decode instance over an idle link.
  [[nodiscard]] double kv_transfer_time_s(std::int64_t input_tokens) const {
    const int streams =
        std::max(1, std::min(prefill_engine().layout().devices, decode_engine().layout().tp));
    const comm_work w{.kind = collective::point_to_point,
                      .bytes = kv_transfer_bytes(input_tokens) / streams,
                      .ranks = 2,
                      .scope = kv_transfer_scope()};
    return device_.comm_time_s(w);
  }

  /// Replays `w` and returns the report. `seed` seeds every random choice.
  /// @throws config_error for an invalid workload (empty, unsorted, bad lengths).
  [[nodiscard]] report run(const io::workload& w, std::uint64_t seed,
                           const progress_callback& progress = {}) {
    w.validate();
    run_state st(*this, w, seed);
    st.simulate(progress);
    return st.finish();
  }

private:
  /// The state of one run.
  class run_state {
  public:
    run_state(const basic_cluster& c, const io::workload& w, std::uint64_t seed)
        : c_(c), w_(w), seed_rng_(seed), prefill_balancer_(c.cfg_.balancer, seed_rng_.fork(1)()),
          decode_balancer_(c.cfg_.balancer, seed_rng_.fork(2)()) {
      records_.resize(w.size());
      for (std::size_t i = 0; i < w.size(); ++i) {
        const io::workload_request& q = w.requests[i];
        request_record& r = records_[i];
        r.id = q.id;
        r.arrival_s = q.arrival_s;
        r.input_tokens = q.input_tokens;
        r.output_tokens = q.output_tokens;
      }
      const std::uint64_t draw_seed = seed_rng_.fork(3)();
      const cluster_config& cfg = c.cfg_;
      auto add = [&](instance_role role, const engine_type& e, const pool_config& p,
                     std::vector<int>& pool) {
        for (int i = 0; i < p.instances; ++i) {
          pool.push_back(static_cast<int>(instances_.size()));
          instances_.push_back(std::make_unique<instance_type>(
              static_cast<int>(instances_.size()), role, e, p.scheduler, cfg.cache, cfg.speculative,
              w.requests, records_, w.block_tokens, draw_seed));
        }
      };
      if (cfg.mode == serving_mode::colocated) {
        add(instance_role::colocated, *c.colocated_, cfg.colocated, decode_pool_);
      } else {
        add(instance_role::prefill, *c.prefill_, cfg.prefill, prefill_pool_);
        add(instance_role::decode, *c.decode_, cfg.decode, decode_pool_);
        link_free_s_.assign(instances_.size(), 0.0);
      }
      candidates_.reserve(instances_.size());
    }

    void simulate(const progress_callback& progress) {
      const std::size_t n = w_.size();
      std::size_t next = 0, reported = 0;
      const std::size_t every = std::max<std::size_t>(1, n / 100);
      while (true) {
        if (next < n && w_.requests[next].arrival_s <= q_.next_time_s()) {
          q_.advance_to(w_.requests[next].arrival_s);
          ++events_;
          arrive(static_cast<std::int64_t>(next), q_.now());
          ++next;
        } else if (!q_.empty()) {
          const event e = q_.pop();
          ++events_;
          if (e.kind == event_kind::step_end)
            step_end(e.instance, e.time_s);
          else
            transfer_end(e.instance, e.request, e.time_s);
        } else {
          break;
        }
        if (progress && done_ >= reported + every) {
          reported = done_;
          progress(done_, n);
        }
      }
      if (progress)
        progress(done_, n);
      INFERCOST_ASSERT(done_ == n, "every request completes or is rejected");
    }

    report finish() {
      report r;
      const cluster_config& cfg = c_.cfg_;
      r.mode = std::string(to_string(cfg.mode));
      r.model = c_.model_.name;
      r.device = std::string(c_.device_.name());
      r.workload = w_.name;
      r.balancer = std::string(to_string(cfg.balancer));
      r.devices = c_.devices();
      if (cfg.mode == serving_mode::colocated) {
        r.prefill_devices = r.decode_devices = r.devices;
      } else {
        r.prefill_devices = cfg.prefill.instances * cfg.prefill.layout.devices;
        r.decode_devices = cfg.decode.instances * cfg.decode.layout.devices;
      }
      r.arrived = static_cast<std::int64_t>(records_.size());
      r.start_s = w_.requests.front().arrival_s;
      r.end_s = r.start_s;
      std::vector<double> transfers;
      for (const request_record& q : records_) {
        if (q.completed()) {
          ++r.completed;
          r.input_tokens += q.input_tokens;
          r.output_tokens += q.output_tokens;
          r.end_s = std::max(r.end_s, q.completion_s);
        } else {
          ++r.rejected;
          ++r.rejected_by[static_cast<std::size_t>(q.reason)];
        }
        if (q.kv_bytes > 0.0)
          transfers.push_back(q.transfer_s);
      }
      r.makespan_s = r.end_s - r.start_s;
      r.latency = summarize_latency(records_);
      r.goodput = goodput(records_, cfg.objective, r.makespan_s);
      const double span =
          r.makespan_s > 0.0 ? r.makespan_s : std::numeric_limits<double>::quiet_NaN();
      r.throughput_rps = static_cast<double>(r.completed) / span;
      r.input_tokens_per_s_per_device = static_cast<double>(r.input_tokens) / span / r.devices;
      r.output_tokens_per_s_per_device = static_cast<double>(r.output_tokens) / span / r.devices;
      r.prefill_input_tokens_per_s_per_device =
          static_cast<double>(r.input_tokens) / span / r.prefill_devices;
      r.decode_output_tokens_per_s_per_device =
          static_cast<double>(r.output_tokens) / span / r.decode_devices;
      r.mean_in_system = r.makespan_s > 0.0 ? in_system_.area() / r.makespan_s : 0.0;
      r.kv_transfers = static_cast<std::int64_t>(transfers.size());
      r.kv_bytes_transferred = kv_bytes_;
      r.transfer_s = stats::summarize(transfers);
      r.events = events_;
      r.use.devices = r.devices;
      r.use.makespan_s = r.makespan_s;
      r.cache.enabled = cfg.cache.enabled;
      double busy_device_s = 0.0, utilisation = 0.0;
      for (const auto& inst : instances_) {
        const instance_stats& s = inst->stats();
        instance_report ir{.index = inst->index(),
                           .role = inst->role(),
                           .devices = inst->devices(),
                           .capacity_tokens = inst->capacity_tokens(),
                           .utilisation = r.makespan_s > 0.0 ? s.busy_s / r.makespan_s : 0.0,
                           .stats = s};
        utilisation += ir.utilisation;
        busy_device_s += s.busy_s * inst->devices();
        r.steps += s.steps;
        r.preemptions += s.preemptions;
        r.use.prefill_device_s += s.prefill_device_s;
        r.use.decode_device_s += s.decode_device_s;
        r.use.cache_load_device_s += s.cache_load_device_s;
        r.use.input_hit_tokens += s.input_hit_tokens;
        r.use.input_miss_tokens += s.input_miss_tokens;
        r.use.output_tokens += s.output_tokens;
        if (const auto* cache = inst->cache()) {
          const kvcache::cache_stats& cs = cache->stats();
          r.cache.lookups += cs.lookups;
          r.cache.looked_up_blocks += cs.looked_up_blocks;
          for (std::size_t t = 0; t < 3; ++t)
            r.cache.hit_blocks[t] += cs.hit_blocks[t];
          r.cache.miss_blocks += cs.miss_blocks;
          r.cache.dropped_blocks += cs.dropped_blocks + cs.unplaced_blocks;
          r.cache.load_bytes += s.cache_load_bytes;
        }
        r.instances.push_back(ir);
      }
      r.mean_utilisation = utilisation / static_cast<double>(instances_.size());
      r.use.idle_device_s = std::max(0.0, r.devices * r.makespan_s - busy_device_s);
      r.requests = std::move(records_);
      return r;
    }

  private:
    /// Routes request `id` arriving at `now`, or rejects it.
    void arrive(std::int64_t id, double now) {
      const io::workload_request& q = w_.requests[static_cast<std::size_t>(id)];
      request_record& rec = records_[static_cast<std::size_t>(id)];
      in_system_.add(now, 1.0);
      const bool to_prefill_pool =
          c_.cfg_.mode == serving_mode::pd && q.input_tokens > c_.cfg_.pd_threshold_tokens;
      const std::vector<int>& pool = to_prefill_pool ? prefill_pool_ : decode_pool_;
      // Pools are uniform: the first instance of each answers for all.
      bool fits =
          instances_[static_cast<std::size_t>(pool.front())]->fits(q.input_tokens, q.output_tokens);
      if (to_prefill_pool)
        fits = fits && instances_[static_cast<std::size_t>(decode_pool_.front())]->fits(
                           q.input_tokens, q.output_tokens);
      if (!fits) {
        reject(rec, rejection_reason::exceeds_kv_capacity, now);
        return;
      }
      balancer& b = to_prefill_pool ? prefill_balancer_ : decode_balancer_;
      const int idx = pick(pool, b, id, q.input_tokens, true);
      instance_type& inst = *instances_[static_cast<std::size_t>(idx)];
      const std::int64_t max_queue =
          to_prefill_pool
              ? c_.cfg_.prefill.scheduler.max_queue
              : (c_.cfg_.mode == serving_mode::pd ? c_.cfg_.decode.scheduler.max_queue
                                                  : c_.cfg_.colocated.scheduler.max_queue);
      if (max_queue > 0 && inst.waiting() >= max_queue) {
        reject(rec, rejection_reason::queue_full, now);
        return;
      }
      inst.enqueue(id);
      kick(idx, now);
    }

    void reject(request_record& rec, rejection_reason why, double now) {
      rec.status = request_status::rejected;
      rec.reason = why;
      in_system_.add(now, -1.0);
      ++done_;
    }

    /// The balancer's choice in `pool` for request `id`.
    int pick(const std::vector<int>& pool, balancer& b, std::int64_t id, std::int64_t input,
             bool prefill) {
      candidates_.clear();
      for (const int i : pool) {
        const instance_type& inst = *instances_[static_cast<std::size_t>(i)];
        candidates_.push_back({.load = inst.load(),
                               .queued_tokens = prefill ? inst.queued_prefill_tokens() : 0,
                               .cached_tokens = prefill && b.needs_cache_match()
                                                    ? inst.cached_prefix_tokens(id)
                                                    : 0});
      }
      return pool[b.pick(candidates_, input)];
    }

    /// Starts a step on instance `idx` at `now` if it is idle and has work.
    void kick(int idx, double now) {
      instance_type& inst = *instances_[static_cast<std::size_t>(idx)];
      if (inst.busy())
        return;
      if (const std::optional<double> d = inst.start_step(now))
        q_.push(now + *d, event_kind::step_end, idx);
    }

    void step_end(int idx, double now) {
      instance_type& inst = *instances_[static_cast<std::size_t>(idx)];
      out_.completed.clear();
      out_.prefilled.clear();
      inst.finish_step(now, out_);
      for (std::size_t k = 0; k < out_.completed.size(); ++k) {
        in_system_.add(now, -1.0);
        ++done_;
      }
      for (const std::int64_t id : out_.prefilled) {
        const int d = pick(decode_pool_, decode_balancer_, id,
                           w_.requests[static_cast<std::size_t>(id)].input_tokens, false);
        records_[static_cast<std::size_t>(id)].decode_instance = d;
        instances_[static_cast<std::size_t>(d)]->offer(id);
        start_transfers(d, now);
      }
      if (inst.role() == instance_role::decode)
        start_transfers(idx, now);
      kick(idx, now);
    }

    /// Starts every transfer to decode instance `d` that its free memory admits.
    void start_transfers(int d, double now) {
      instance_type& dec = *instances_[static_cast<std::size_t>(d)];
      while (const std::optional<std::int64_t> id = dec.admit_transfer()) {
        request_record& rec = records_[static_cast<std::size_t>(*id)];
        const auto p = static_cast<std::size_t>(rec.prefill_instance);
        const double start = std::max(now, link_free_s_[p]);
        const double end = start + c_.kv_transfer_time_s(rec.input_tokens);
        link_free_s_[p] = end;
        rec.kv_bytes = c_.kv_transfer_bytes(rec.input_tokens);
        kv_bytes_ += rec.kv_bytes;
        q_.push(end, event_kind::transfer_end, d, *id);
      }
    }

    void transfer_end(int d, std::int64_t id, double now) {
      request_record& rec = records_[static_cast<std::size_t>(id)];
      const int p = rec.prefill_instance;
      rec.transfer_s = now - rec.first_token_s; // prefill end (its first token) to KV arrival
      rec.first_token_s = now;                  // delivered once the KV has arrived
      instances_[static_cast<std::size_t>(p)]->release(id);
      kick(p, now);
      instances_[static_cast<std::size_t>(d)]->receive(id);
      kick(d, now);
    }

    const basic_cluster& c_;
    const io::workload& w_;
    rng seed_rng_;
    balancer prefill_balancer_;
    balancer decode_balancer_;
    std::vector<request_record> records_;
    std::vector<std::unique_ptr<instance_type>> instances_;
    std::vector<int> prefill_pool_;   ///< PD prefill instances
    std::vector<int> decode_pool_;    ///< colocated or PD decode instances
    std::vector<double> link_free_s_; ///< per prefill instance: when its link is next free
    std::vector<candidate> candidates_;
    event_queue q_;
    time_average in_system_;
    step_outcome out_;
    std::size_t done_ = 0;
    std::uint64_t events_ = 0;
    double kv_bytes_ = 0.0;
  };

  model::model_config model_;
  cluster_config cfg_;
  Device device_;
  std::unique_ptr<engine_type> colocated_;
  std::unique_ptr<engine_type> prefill_;
  std::unique_ptr<engine_type> decode_;
};

/// The common case: the default device, full attention, an LRU prefix cache.
using cluster = basic_cluster<default_device>;

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): the simulation on a run-time device, instantiated once.
INFERCOST_EXTERN template class basic_cluster<any_device, attention::full, kvcache::lru>;
INFERCOST_EXTERN template class basic_cluster<any_device, attention::topk_sparse, kvcache::lru>;
#endif

} // namespace infercost::serving
