/// @file
/// `serving::basic_cluster<Device, Policies, DecodeDevice>`: a discrete-event simulation of a
/// serving cluster replaying a workload.
///
/// Request lifecycle: arrive → (PD admission, balancer) → queue on an instance → prefill in
/// chunks → [PD: KV transfer to a decode instance] → decode → done. Every request either completes
/// or is rejected at arrival with a reason (its prompt and output cannot fit in an instance's KV
/// memory even alone, or the chosen instance's queue is at its limit), so arrived = completed +
/// rejected. The pools, the routing and the transfers are the PD scheduler's
/// (serving/pd_scheduler.hpp); the cluster builds the engines (the prefill or colocated pool on
/// `Device`, the decode pool on `DecodeDevice`), drives the scheduler with an event queue and
/// reports. `Policies` is the bundle of policy types (serving/policies.hpp) and the cluster holds
/// their values.
///
/// Arrivals come from an arrival process: the workload's timestamps (an open-loop replay) or
/// closed-loop clients that send a request when their previous one ends (serving/closed_loop.hpp).
/// Events are ordered by (time, sequence number); arrivals come before any other event at the
/// same time. All randomness (power-of-two choices, speculative acceptance) flows from the run's
/// seed: the same seed gives the same report, bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
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
#include "infercost/io/workload_types.hpp"
#include "infercost/serving/closed_loop.hpp"
#include "infercost/serving/event_loop.hpp"
#include "infercost/serving/instance.hpp"
#include "infercost/serving/metrics.hpp"
#include "infercost/serving/pd_scheduler.hpp"
#include "infercost/serving/policies.hpp"
#include "infercost/serving/report.hpp"

namespace infercost::serving {

/// Called as a run progresses with (requests finished or rejected, requests in the workload).
using progress_callback = std::function<void(std::size_t done, std::size_t total)>;

/// The name of a policy value in reports: the choice a run-time policy holds, else its type's.
template <class P> [[nodiscard]] std::string_view policy_name(const P& p) {
  if constexpr (requires { p.kind(); })
    return p.kind();
  else
    return P::name;
}

/// The cluster simulator (see the file comment).
template <device_cost_model Device, policy_bundle Policies, device_cost_model DecodeDevice>
class basic_cluster {
public:
  using attention_policy = typename Policies::attention;
  using prefill_engine_type = engine::basic_step_cost<Device, attention_policy>;
  using decode_engine_type = engine::basic_step_cost<DecodeDevice, attention_policy>;
  using scheduler_type = basic_pd_scheduler<Device, DecodeDevice, Policies>;
  /// The engine of the colocated pool or of the prefill pool.
  using engine_type = prefill_engine_type;

  /// One device type for every pool (the decode pool's device is `device` too).
  /// @throws config_error for a bad config, a layout that does not fit the model, or weights
  /// that leave no KV memory (the message gives the numbers).
  basic_cluster(model::model_config m, cluster_config cfg,
                typename attention_policy::config attention = {}, Device device = {},
                policy_values<Policies> policies = {}) requires std::same_as<Device, DecodeDevice>
      : basic_cluster(std::move(m), std::move(cfg), std::move(attention), device, device,
                      std::move(policies)) {}

  /// The prefill (or colocated) pool on `device`, the decode pool on `decode_device`.
  /// @throws config_error as above.
  basic_cluster(model::model_config m, cluster_config cfg,
                typename attention_policy::config attention, Device device,
                DecodeDevice decode_device, policy_values<Policies> policies = {})
      : model_(std::move(m)), cfg_(std::move(cfg)), policies_(std::move(policies)) {
    cfg_.validate();
    auto build = [&](const pool_config& p, const auto& dev) {
      using engine_t = engine::basic_step_cost<std::decay_t<decltype(dev)>, attention_policy>;
      auto e = std::make_unique<engine_t>(model_, p.layout, attention, dev);
      (void)e->kv_capacity_bytes(p.scheduler.activation_reserve); // fits, or says why not
      return e;
    };
    if (cfg_.mode == serving_mode::colocated) {
      prefill_ = build(cfg_.colocated, device);
    } else {
      prefill_ = build(cfg_.prefill, device);
      decode_ = build(cfg_.decode, decode_device);
    }
  }

  [[nodiscard]] const cluster_config& config() const noexcept { return cfg_; }
  /// The pool requests enter: the colocated pool, or the prefill pool of a PD cluster.
  [[nodiscard]] const pool_config& entry_pool() const noexcept {
    return cfg_.mode == serving_mode::colocated ? cfg_.colocated : cfg_.prefill;
  }
  [[nodiscard]] const model::model_config& model() const noexcept { return model_; }
  [[nodiscard]] const policy_values<Policies>& policies() const noexcept { return policies_; }
  /// The device of the colocated or prefill pool.
  [[nodiscard]] const Device& device() const noexcept { return prefill_->device(); }
  /// The engine of the colocated pool (colocated mode) or of the prefill pool (pd).
  [[nodiscard]] const prefill_engine_type& prefill_engine() const noexcept { return *prefill_; }
  /// The engine of the decode pool (pd), or nullptr.
  [[nodiscard]] const decode_engine_type* decode_engine() const noexcept { return decode_.get(); }
  /// Devices of all instances.
  [[nodiscard]] int devices() const noexcept {
    if (cfg_.mode == serving_mode::colocated)
      return cfg_.colocated.instances * cfg_.colocated.layout.devices;
    return cfg_.prefill.instances * cfg_.prefill.layout.devices +
           cfg_.decode.instances * cfg_.decode.layout.devices;
  }

  /// PD: the link between the pools (KV bytes and transfer time of a prompt).
  /// @throws config_error in colocated mode.
  [[nodiscard]] kv_link<prefill_engine_type, decode_engine_type> kv_transfer() const {
    if (!decode_)
      throw config_error("serving::cluster", "mode", "(colocated) has no KV transfer");
    return {*prefill_, *decode_, cfg_.kv_transfer_scope};
  }

  /// Replays `w` and returns the report. `seed` seeds every random choice.
  /// @throws config_error for an invalid workload (empty, unsorted, bad lengths).
  [[nodiscard]] report run(const io::workload& w, std::uint64_t seed,
                           const progress_callback& progress = {}) {
    w.validate();
    run_state st(*this, w, seed);
    detail::trace_arrivals arrivals(w);
    st.simulate(arrivals, progress);
    return st.finish(std::nullopt);
  }

  /// Runs closed-loop clients (serving/closed_loop.hpp) on `lengths` and returns the report:
  /// `c.clients` clients start together at time 0, each sending its next request when its previous
  /// one completes or is rejected (after `c.think_time_s`); request k has the lengths and block
  /// hashes of `lengths`' request k mod size, whose arrival times are ignored. `seed` seeds every
  /// random choice.
  ///
  /// The measured requests are those issued after the first `c.warmup` and before the last
  /// `c.cooldown`. Per-request statistics cover only them: the counts (arrived, completed,
  /// rejected, tokens), TTFT, TPOT, E2E, queueing, KV-transfer times and goodput (its attainment
  /// is over the measured requests). Throughput and goodput per second are over the measured
  /// window, from the first measured request's issue (start_s) to the last measured request's
  /// completion (end_s; makespan_s = end_s − start_s): the requests counted are exactly the
  /// ones that ran in it, as a benchmark's profiling phase is timed from its first request sent
  /// to its last response received; the warm-up's ramp and the cool-down's drain fall outside.
  /// Mean requests in system is over that window too (every issued request counts while in it).
  ///
  /// Usage (device-seconds and tokens, what econ/ prices), utilisation, steps, preemptions, cache
  /// and KV bytes are what the deployment spent on the whole run, from time 0 to the end of the
  /// last request issued (closed_loop_report::run_s, usage::makespan_s): device time of a step is
  /// shared by the measured and unmeasured requests in its batch and cannot be split between them
  /// without an arbitrary rule, and over the whole run device time and tokens come from the same
  /// steps, so their ratio is a consistent price. Per-request records keep every issued request
  /// with its issue time as arrival. The report's `closed_loop` holds the parameters.
  ///
  /// Every issued request ends completed or rejected, and at most `c.clients` are in flight at
  /// once. @throws config_error for bad parameters (closed_loop::validate), warm-up and cool-down
  /// leaving no request measured, or bad lengths (io::workload::validate).
  [[nodiscard]] report run(const io::workload& lengths, const closed_loop& c, std::uint64_t seed,
                           progress_callback progress = nullptr) {
    c.validate();
    const std::int64_t n = c.issued(lengths.size());
    io::workload w = detail::closed_loop_requests(lengths, n);
    c.check_measured(n);
    run_state st(*this, w, seed);
    // Stream 4 of the seed: the scheduler's take 1 to 3 (serving/pd_scheduler.hpp).
    detail::client_arrivals arrivals(w, st.records(), c, rng(seed).fork(4));
    st.simulate(arrivals, progress);
    return st.finish(closed_loop_report{.clients = c.clients,
                                        .issued = n,
                                        .warmup = c.warmup,
                                        .cooldown = c.cooldown,
                                        .think_time_s = c.think_time_s,
                                        .ramp_up_s = c.ramp_up_s,
                                        .request_rate = c.request_rate,
                                        .burstiness = c.burstiness,
                                        .max_in_flight = arrivals.max_in_flight()});
  }

private:
  /// The state of one run: the scheduler, the event queue and the time averages.
  class run_state {
  public:
    run_state(const basic_cluster& c, const io::workload& w, std::uint64_t seed)
        : c_(c), w_(w), records_(make_records(w)),
          sched_(c.cfg_, c.policies_, *c.prefill_, c.decode_.get(), w, records_, seed) {}

    /// The records, one per request of the workload.
    [[nodiscard]] std::vector<request_record>& records() noexcept { return records_; }

    /// Runs the event loop with arrivals from `a` (detail::trace_arrivals or client_arrivals:
    /// pending(), next_time_s(), take(now) → id, finished(now, count), total()).
    template <class Arrivals> void simulate(Arrivals& a, const progress_callback& progress) {
      const std::size_t n = a.total();
      std::size_t reported = 0;
      const std::size_t every = std::max<std::size_t>(1, n / 100);
      // A request reaches the scheduler after the entry pool's front end (engine_profile::
      // request_s); its latencies count from when it was sent.
      const double front_end_s = c_.entry_pool().layout.overheads.request_s;
      while (true) {
        if (a.pending() && a.next_time_s() + front_end_s <= q_.next_time_s()) {
          const double sent = a.next_time_s();
          q_.advance_to(sent + front_end_s);
          ++events_;
          const double now = q_.now();
          const std::int64_t id = a.take(sent);
          in_system_.add(now, 1.0);
          if (!sched_.arrive(id, now, scheduled_)) {
            in_system_.add(now, -1.0);
            ++done_;
            a.finished(now, 1);
          }
        } else if (!q_.empty()) {
          const event e = q_.pop();
          ++events_;
          if (e.kind == event_kind::step_end) {
            const std::int64_t completed = sched_.step_end(e.instance, e.time_s, scheduled_);
            for (std::int64_t k = 0; k < completed; ++k)
              in_system_.add(e.time_s, -1.0);
            done_ += static_cast<std::size_t>(completed);
            a.finished(e.time_s, static_cast<std::size_t>(completed));
          } else {
            sched_.transfer_end(e.instance, e.request, e.time_s, scheduled_);
          }
        } else {
          break;
        }
        for (const scheduled_event& s : scheduled_)
          q_.push(s.time_s, s.transfer ? event_kind::transfer_end : event_kind::step_end,
                  s.instance, s.request);
        scheduled_.clear();
        if (progress && done_ >= reported + every) {
          reported = done_;
          progress(done_, n);
        }
      }
      if (progress)
        progress(done_, n);
      INFERCOST_ASSERT(done_ == n, "every request completes or is rejected");
    }

    /// The report; `loop` (a closed-loop run's parameters) selects the measured requests.
    report finish(std::optional<closed_loop_report> loop) {
      report r;
      const cluster_config& cfg = c_.cfg_;
      r.mode = std::string(to_string(cfg.mode));
      r.model = c_.model_.name;
      r.device = std::string(c_.prefill_->device().name());
      if (c_.decode_ && c_.decode_->device().name() != c_.prefill_->device().name())
        r.device += "/" + std::string(c_.decode_->device().name());
      r.workload = w_.name;
      r.balancer = std::string(policy_name(c_.policies_.balancer));
      r.devices = c_.devices();
      if (cfg.mode == serving_mode::colocated) {
        r.prefill_devices = r.decode_devices = r.devices;
      } else {
        r.prefill_devices = cfg.prefill.instances * cfg.prefill.layout.devices;
        r.decode_devices = cfg.decode.instances * cfg.decode.layout.devices;
      }
      // The measured requests: all of a replay; a closed loop's without warm-up and cool-down.
      std::span<const request_record> measured(records_);
      if (loop) {
        loop->first_measured = loop->warmup;
        loop->measured = loop->issued - loop->warmup - loop->cooldown;
        measured = measured.subspan(static_cast<std::size_t>(loop->first_measured),
                                    static_cast<std::size_t>(loop->measured));
      }
      r.arrived = static_cast<std::int64_t>(measured.size());
      r.start_s = measured.front().arrival_s;
      r.end_s = r.start_s;
      std::vector<double> transfers;
      for (const request_record& q : measured) {
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
      r.latency = summarize_latency(measured);
      r.goodput = goodput(measured, cfg.objective, r.makespan_s);
      const double span =
          r.makespan_s > 0.0 ? r.makespan_s : std::numeric_limits<double>::quiet_NaN();
      r.throughput_rps = static_cast<double>(r.completed) / span;
      r.input_tokens_per_s_per_device = static_cast<double>(r.input_tokens) / span / r.devices;
      r.output_tokens_per_s_per_device = static_cast<double>(r.output_tokens) / span / r.devices;
      r.prefill_input_tokens_per_s_per_device =
          static_cast<double>(r.input_tokens) / span / r.prefill_devices;
      r.decode_output_tokens_per_s_per_device =
          static_cast<double>(r.output_tokens) / span / r.decode_devices;
      // The span the deployment's device time covers: a replay's makespan, a closed loop's run.
      double run_s = r.makespan_s;
      if (loop) {
        run_s = 0.0;
        double in_window_s = 0.0; // Σ time each request spent in the system inside the window
        for (const request_record& q : records_) {
          const double end = q.completed() ? q.completion_s : q.arrival_s;
          run_s = std::max(run_s, end);
          loop->completed += q.completed() ? 1 : 0;
          loop->rejected += q.completed() ? 0 : 1;
          in_window_s += std::max(0.0, std::min(end, r.end_s) - std::max(q.arrival_s, r.start_s));
        }
        loop->run_s = run_s;
        r.mean_in_system = r.makespan_s > 0.0 ? in_window_s / r.makespan_s : 0.0;
        r.closed_loop = loop;
      } else {
        r.mean_in_system = r.makespan_s > 0.0 ? in_system_.area() / r.makespan_s : 0.0;
      }
      r.kv_transfers = static_cast<std::int64_t>(transfers.size());
      r.kv_bytes_transferred = sched_.kv_bytes();
      r.transfer_s = stats::summarize(transfers);
      r.events = events_;
      r.use.devices = r.devices;
      r.use.makespan_s = run_s;
      r.cache.enabled = cfg.cache.enabled;
      double busy_device_s = 0.0, utilisation = 0.0;
      for (std::size_t i = 0; i < sched_.instances(); ++i) {
        sched_.visit(static_cast<int>(i), [&](const auto& inst) {
          const instance_stats& s = inst.stats();
          instance_report ir{.index = inst.index(),
                             .role = inst.role(),
                             .devices = inst.devices(),
                             .capacity_tokens = inst.capacity_tokens(),
                             .utilisation = run_s > 0.0 ? s.busy_s / run_s : 0.0,
                             .stats = s};
          utilisation += ir.utilisation;
          busy_device_s += s.busy_s * inst.devices();
          r.steps += s.steps;
          r.preemptions += s.preemptions;
          r.use.prefill_device_s += s.prefill_device_s;
          r.use.decode_device_s += s.decode_device_s;
          r.use.cache_load_device_s += s.cache_load_device_s;
          r.use.input_hit_tokens += s.input_hit_tokens;
          r.use.input_miss_tokens += s.input_miss_tokens;
          r.use.output_tokens += s.output_tokens;
          if (const auto* cache = inst.cache()) {
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
        });
      }
      r.mean_utilisation = utilisation / static_cast<double>(sched_.instances());
      r.use.idle_device_s = std::max(0.0, r.devices * run_s - busy_device_s);
      r.requests = std::move(records_);
      return r;
    }

  private:
    static std::vector<request_record> make_records(const io::workload& w) {
      std::vector<request_record> records(w.size());
      for (std::size_t i = 0; i < w.size(); ++i) {
        const io::workload_request& q = w.requests[i];
        request_record& r = records[i];
        r.id = q.id;
        r.arrival_s = q.arrival_s;
        r.input_tokens = q.input_tokens;
        r.output_tokens = q.output_tokens;
      }
      return records;
    }

    const basic_cluster& c_;
    const io::workload& w_;
    std::vector<request_record> records_;
    scheduler_type sched_;
    std::vector<scheduled_event> scheduled_;
    event_queue q_;
    time_average in_system_;
    std::size_t done_ = 0;
    std::uint64_t events_ = 0;
  };

  model::model_config model_;
  cluster_config cfg_;
  policy_values<Policies> policies_;
  std::unique_ptr<prefill_engine_type> prefill_;
  std::unique_ptr<decode_engine_type> decode_;
};

/// The common case: the default device and the default policies.
using cluster = basic_cluster<default_device>;

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): the simulation on a run-time device, instantiated once.
INFERCOST_EXTERN template class basic_cluster<any_device, runtime_policies>;
INFERCOST_EXTERN template class basic_cluster<
    any_device, with_attention<attention::topk_sparse, runtime_policies>>;
#endif

} // namespace infercost::serving
