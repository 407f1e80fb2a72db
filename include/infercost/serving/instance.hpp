/// @file
/// `serving::basic_instance<Device, Policies>`: one model instance of a serving cluster — a
/// step-cost engine (engine/step_cost.hpp) with the bundle's attention policy, KV memory
/// accounting, an optional tiered prefix cache (kvcache/, the bundle's eviction policy) and a
/// continuous-batching scheduler with chunked prefill (vLLM, Kwon et al. SOSP'23; Sarathi-Serve,
/// Agrawal et al. OSDI'24) whose admission order and preemption victim come from the bundle's
/// batching policy (serving/policies.hpp).
///
/// Roles: a `colocated` instance prefills and decodes; a `prefill` instance only prefills and
/// hands each finished prompt's KV to the cluster for transfer; a `decode` instance decodes
/// requests whose KV arrives from a prefill instance, and also prefills short prompts locally
/// (the article's PD rule) exactly as a colocated instance does.
///
/// A step (one forward pass) holds every decoding sequence plus prefill chunks up to a token
/// budget: budget = max_batched_tokens·attention groups − decoding sequences·(1 + γ); in-progress
/// prefills go first, then waiting requests are admitted first-come first-served while the
/// budget, the sequence limit and free KV memory allow, in the batching policy's admission order
/// (with head-of-line blocking the first prompt that does not fit stops admission). A chunk runs
/// in one data-parallel attention group, so it is at most max_batched_tokens long (the engines
/// schedule each DP rank with its own budget); the step's time is its busiest group's
/// (engine/step_cost.hpp).
///
/// Where each concern lives:
/// - serving/instance_config.hpp: the numbers (scheduler_config, prefix_cache_config,
///   speculative_config);
/// - serving/detail/kv_budget.hpp: KV memory in tokens (capacity, watermark, reservations, the
///   prefix cache's HBM share and tiers);
/// - serving/detail/speculation.hpp: the speculative draws (steps to emit a sequence's tokens,
///   replayed after a preemption);
/// - this file: the scheduler (step planning, admission, preemption, completion) and the step's
///   time and its device-time attribution.
///
/// Admission reserves a request's whole prompt and needs the watermark free; decoding sequences
/// grow by their tokens; before every step the scheduler needs room for each decoding sequence's
/// 1 + γ new tokens and, if there is none, preempts the running sequence the batching policy puts
/// last (FCFS: the youngest; its KV is dropped and recomputed later, vLLM's recompute
/// preemption), counting each preemption.
///
/// The per-step work does not depend on the batch's size: the decode batch is kept as sums
/// (sequences, Σ join context, Σ join step), and sequences leave through a min-heap keyed by the
/// step at which each finishes. Without speculation a sequence that joins at decode step k with r
/// tokens to go finishes at step k + r − 1. With speculation its number of steps is drawn when it
/// joins, and Σcontext grows by the expected E[N] per sequence per step.
///
/// Step time = engine step time (with γ verify tokens per decoding sequence; the MTP draft when
/// the layout has one) + γ draft-model forwards (speculative/cost.hpp) when a separate draft
/// model is given + the load time of prefix-cache hits from DRAM/SSD of requests admitted this
/// step (loads are not overlapped with compute: an upper bound).
///
/// Device-second attribution (serving::usage): a step's time × the instance's devices is split
/// into cache loading (the load time), prefill and decode; a mixed step's compute time is split
/// in proportion to the times its prefill part and its decode part would take alone on the same
/// engine.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <queue>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/fwd.hpp"
#include "infercost/io/workload_types.hpp"
#include "infercost/kvcache/tiered_cache.hpp"
#include "infercost/kvcache/tiers.hpp"
#include "infercost/serving/detail/kv_budget.hpp"
#include "infercost/serving/detail/speculation.hpp"
#include "infercost/serving/instance_config.hpp"
#include "infercost/serving/metrics.hpp"
#include "infercost/serving/policies.hpp"
#include "infercost/serving/report.hpp"
#include "infercost/speculative/cost.hpp"

namespace infercost::serving {

/// What finishing a step produced.
struct step_outcome {
  std::vector<std::int64_t> completed; ///< requests that finished (all tokens generated)
  std::vector<std::int64_t> prefilled; ///< prefill role: requests whose KV is ready to send
  std::int64_t preempted = 0;          ///< preemptions when the step was planned
};

/// One instance: engine, KV accounting, prefix cache and scheduler (see the file comment).
template <device_cost_model Device, policy_bundle Policies> class basic_instance {
public:
  using engine_type = engine::basic_step_cost<Device, typename Policies::attention>;
  using cache_type = kvcache::basic_tiered_cache<Device, typename Policies::eviction>;
  using batching_type = typename Policies::batching;

  /// @param index     the instance's index in its cluster (labels records)
  /// @param engine    step-cost model; must outlive the instance
  /// @param requests  the workload's requests, indexed by id; must outlive the instance
  /// @param records   one record per request, updated as requests progress
  /// @param block_tokens tokens per prefix-block hash of the workload
  /// @param seed      seeds the speculative acceptance draws (streams forked by request id)
  /// @param batching  the admission order and preemption victim (Policies::batching)
  /// @throws config_error for bad configs, a model that does not fit (with the numbers), an
  /// instance without KV memory, or speculation without a way to draft.
  basic_instance(int index, instance_role role, const engine_type& engine,
                 const scheduler_config& sched, const prefix_cache_config& cache,
                 const speculative_config& spec, std::span<const io::workload_request> requests,
                 std::vector<request_record>& records, std::int64_t block_tokens,
                 std::uint64_t seed, batching_type batching = {})
      : index_(index), role_(role), engine_(&engine), sched_((sched.validate(), sched)),
        requests_(requests), records_(&records), block_tokens_(block_tokens),
        batching_(std::move(batching)) {
    cache.validate();
    spec.validate();
    check_positive("serving::instance", "block_tokens", block_tokens);
    const engine::parallel_layout& l = engine.layout();
    devices_ = l.devices;
    max_running_ = static_cast<std::int64_t>(sched.max_sequences_per_group) *
                   static_cast<std::int64_t>(l.attention_groups());
    budget_tokens_ = sched.max_batched_tokens * static_cast<std::int64_t>(l.attention_groups());
    group_budget_tokens_ = sched.max_batched_tokens;
    kv_ = detail::kv_budget(engine, sched, cache, block_tokens);
    if (kv_.cache_tiers())
      cache_.emplace(*kv_.cache_tiers(), engine.device());
    speculation_ = detail::speculation(spec, role_ != instance_role::prefill, seed);
    if (speculation_.gamma() > 0) {
      if (spec.draft) {
        // The draft runs tensor-parallel on one attention group's devices, at the target's
        // precisions.
        const engine::parallel_layout draft_layout{.devices = l.tp,
                                                   .tp = l.tp,
                                                   .weight_prec = l.weight_prec,
                                                   .attention_prec = l.attention_prec,
                                                   .kv_prec = l.kv_prec};
        draft_.emplace(speculative::step_config{.target = engine.model(),
                                                .target_layout = l,
                                                .draft = *spec.draft,
                                                .draft_layout = draft_layout},
                       engine.device());
      } else if (!l.mtp_draft) {
        throw config_error("serving::speculative_config", "draft",
                           fmt::format("(none) is needed for gamma ({}) unless the layout drafts "
                                       "with the model's MTP module (mtp_draft)",
                                       speculation_.gamma()));
      }
    }
  }

  basic_instance(const basic_instance&) = delete;
  basic_instance& operator=(const basic_instance&) = delete;

  [[nodiscard]] int index() const noexcept { return index_; }
  [[nodiscard]] instance_role role() const noexcept { return role_; }
  [[nodiscard]] int devices() const noexcept { return devices_; }
  [[nodiscard]] const engine_type& engine() const noexcept { return *engine_; }
  [[nodiscard]] const instance_stats& stats() const noexcept { return stats_; }
  /// The prefix cache, or nullptr.
  [[nodiscard]] const cache_type* cache() const noexcept { return cache_ ? &*cache_ : nullptr; }
  /// KV tokens the running sequences may hold.
  [[nodiscard]] double capacity_tokens() const noexcept { return kv_.capacity_tokens(); }
  /// KV tokens held now: reservations of prompts being prefilled or sent plus the decoding
  /// sequences' contexts.
  [[nodiscard]] double used_tokens() const noexcept {
    return kv_.reserved_tokens() + decode_context_sum();
  }
  /// Whether a request could ever run here alone: its prompt (prefill role) or its whole
  /// sequence plus a step's speculative tokens, within capacity less the watermark.
  [[nodiscard]] bool fits(std::int64_t input, std::int64_t output) const noexcept {
    const double need = role_ == instance_role::prefill
                            ? static_cast<double>(input)
                            : static_cast<double>(input + output + speculation_.gamma());
    return kv_.admits(need);
  }
  /// Requests assigned and not yet gone (waiting, running, offered or being sent).
  [[nodiscard]] std::int64_t load() const noexcept { return live_; }
  /// Requests waiting for their first (or next) prefill pass.
  [[nodiscard]] std::int64_t waiting() const noexcept {
    return static_cast<std::int64_t>(waiting_.size());
  }
  /// Prompt tokens still to prefill (waiting and in-progress).
  [[nodiscard]] std::int64_t queued_prefill_tokens() const noexcept { return queued_tokens_; }
  /// Whether a step is in flight.
  [[nodiscard]] bool busy() const noexcept { return busy_; }
  /// Prompt tokens of `id` the prefix cache holds now (no side effects; 0 without a cache).
  [[nodiscard]] std::int64_t cached_prefix_tokens(std::int64_t id) const noexcept {
    if (!cache_)
      return 0;
    const io::workload_request& r = requests_[static_cast<std::size_t>(id)];
    const std::int64_t hit = cache_->match(r.block_hashes) * block_tokens_;
    return std::min(hit, r.input_tokens - 1);
  }

  /// Queues request `id` for prefill here.
  void enqueue(std::int64_t id) {
    const std::int32_t s = new_slot(id);
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    q.target = q.req->input_tokens;
    q.ph = phase::waiting;
    wait(s);
    queued_tokens_ += q.target;
    ++live_;
  }

  /// Decode role: request `id` has its KV ready on a prefill instance and its first token
  /// emitted; it waits here for KV memory (admit_transfer).
  void offer(std::int64_t id) {
    const std::int32_t s = new_slot(id);
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    q.target = q.req->input_tokens;
    q.emitted = 1;
    q.counted = true;
    q.ph = phase::offered;
    offered_.push_back(s);
    by_id_[id] = s;
    ++live_;
  }

  /// Reserves KV memory for the oldest offered request if it fits, and returns its id (the
  /// caller starts its transfer); std::nullopt when none is offered or it does not fit.
  std::optional<std::int64_t> admit_transfer() {
    if (offered_.empty())
      return std::nullopt;
    sequence& q = seqs_[static_cast<std::size_t>(offered_.front())];
    const double need = static_cast<double>(q.target);
    if (!kv_.admits(used_tokens() + need))
      return std::nullopt;
    offered_.pop_front();
    q.ph = phase::receiving;
    q.reserved = q.target;
    kv_.reserve(q.target);
    note_peak();
    return q.id;
  }

  /// Decode role: the KV of `id` has arrived; it joins the decode batch at the next step.
  void receive(std::int64_t id) {
    const std::int32_t s = take_id(id);
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    INFERCOST_ASSERT(q.ph == phase::receiving, "receive of a request that is not in transfer");
    ready_.push_back(s);
    q.ph = phase::ready;
  }

  /// Prefill role: the KV of `id` has been sent; frees its memory and its cache pins.
  void release(std::int64_t id) {
    const std::int32_t s = take_id(id);
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    INFERCOST_ASSERT(q.ph == phase::sending, "release of a request that is not being sent");
    kv_.release(q.reserved);
    free_slot(s);
  }

  /// Plans and starts a step at `now` if idle and there is work that fits; returns its time.
  std::optional<double> start_step(double now) {
    if (busy_)
      return std::nullopt;
    plan_ = {};
    // Sequences whose prefill finished (or whose KV arrived) join the decode batch.
    for (const std::int32_t s : ready_)
      join_decode(s);
    ready_.clear();
    make_room_for_decode(plan_);
    plan_.decoding = decoding_;
    plan_.context_sum = decode_context_sum();
    std::int64_t budget =
        budget_tokens_ - decoding_ * static_cast<std::int64_t>(1 + speculation_.gamma());
    for (const std::int32_t s : prefilling_) {
      if (budget <= 0)
        break;
      budget -= add_chunk(s, budget);
    }
    // Waiting prompts in the batching policy's order; with head-of-line blocking the first that
    // does not fit stops admission, otherwise later (smaller) ones may pass it.
    for (auto it = waiting_.begin();
         budget > 0 && it != waiting_.end() && running() < max_running_;) {
      const std::int32_t s = std::get<2>(*it);
      sequence& q = seqs_[static_cast<std::size_t>(s)];
      if (!kv_.admits(used_tokens() + static_cast<double>(q.target))) {
        if (head_of_line_)
          break;
        ++it;
        continue;
      }
      it = waiting_.erase(it);
      admit(s, now);
      budget -= add_chunk(s, budget);
    }
    if (plan_.decoding == 0 && plan_.chunks.empty())
      return std::nullopt;
    engine::step_batch b;
    b.totals.decode_sequences = static_cast<double>(plan_.decoding);
    b.totals.decode_context_sum = plan_.context_sum;
    b.speculative_tokens = plan_.decoding > 0 ? speculation_.gamma() : 0;
    for (const chunk& c : plan_.chunks)
      b.add_prefill(c.tokens, c.cached_before);
    const double compute_s = engine_->operator()(b).total_s + draft_s(plan_);
    const double step_s = compute_s + plan_.load_s;
    // Attribution of the step's device time (see the file comment).
    const double dev = devices_;
    double prefill_share = plan_.decoding == 0 ? 1.0 : 0.0;
    if (plan_.decoding > 0 && !plan_.chunks.empty()) {
      engine::step_batch p;
      for (const chunk& c : plan_.chunks)
        p.add_prefill(c.tokens, c.cached_before);
      engine::step_batch d;
      d.totals.decode_sequences = b.totals.decode_sequences;
      d.totals.decode_context_sum = b.totals.decode_context_sum;
      d.speculative_tokens = b.speculative_tokens;
      const double tp = engine_->operator()(p).total_s;
      const double td = engine_->operator()(d).total_s + draft_s(plan_);
      prefill_share = tp + td > 0.0 ? tp / (tp + td) : 0.5;
      ++stats_.mixed_steps;
    }
    stats_.prefill_device_s += compute_s * prefill_share * dev;
    stats_.decode_device_s += compute_s * (1.0 - prefill_share) * dev;
    stats_.cache_load_device_s += plan_.load_s * dev;
    stats_.busy_s += step_s;
    ++stats_.steps;
    stats_.decode_steps += plan_.decoding > 0 ? 1 : 0;
    stats_.decode_sequence_steps += plan_.decoding;
    stats_.prefill_steps += plan_.chunks.empty() ? 0 : 1;
    stats_.max_running = std::max(stats_.max_running, running());
    note_peak();
    busy_ = true;
    return step_s;
  }

  /// Finishes the step in flight at `now`: advances prefills and decodes, records first tokens
  /// and completions, and appends what happened to `out`.
  void finish_step(double now, step_outcome& out) {
    INFERCOST_ASSERT(busy_, "finish_step without a step in flight");
    busy_ = false;
    out.preempted += plan_.preempted;
    if (plan_.decoding > 0) {
      const std::int64_t k = decode_step_++;
      while (!finishing_.empty() && finishing_.top().step <= k) {
        const finish_entry f = finishing_.top();
        finishing_.pop();
        sequence& q = seqs_[static_cast<std::size_t>(f.slot)];
        if (q.ph != phase::decoding || q.generation != f.generation)
          continue; // preempted since
        leave_decode(q);
        q.emitted = q.req->output_tokens;
        complete(f.slot, now, out);
      }
    }
    for (const chunk& c : plan_.chunks) {
      sequence& q = seqs_[static_cast<std::size_t>(c.slot)];
      q.prefilled += c.tokens;
      if (q.prefilled == q.target)
        prefill_done(c.slot, now, out);
    }
  }

  /// Checks the batch sums, reservations, queues and finishing entries against a full scan of
  /// the sequences (for tests); returns "" or the first violation.
  [[nodiscard]] std::string check_invariants() const {
    std::int64_t decoding = 0, context = 0, steps = 0, live = 0, queued = 0, running = 0;
    double reserved = 0.0;
    std::vector<int> entries(seqs_.size(), 0);
    auto heap = finishing_;
    while (!heap.empty()) {
      const finish_entry f = heap.top();
      heap.pop();
      const sequence& q = seqs_[static_cast<std::size_t>(f.slot)];
      if (q.ph == phase::decoding && q.generation == f.generation) {
        ++entries[static_cast<std::size_t>(f.slot)];
        if (f.step < decode_step_)
          return fmt::format("request {} should have finished at decode step {}", q.id, f.step);
      }
    }
    for (std::size_t i = 0; i < seqs_.size(); ++i) {
      const sequence& q = seqs_[i];
      if (q.ph == phase::free)
        continue;
      ++live;
      reserved += static_cast<double>(q.reserved);
      const bool in_running = running_.contains(running_key(q, static_cast<std::int32_t>(i)));
      switch (q.ph) {
      case phase::decoding:
        ++decoding;
        ++running;
        context += q.join_context;
        steps += q.join_step;
        if (entries[i] != 1)
          return fmt::format("request {} has {} finishing entries", q.id, entries[i]);
        if (!in_running)
          return fmt::format("decoding request {} is not running", q.id);
        break;
      case phase::prefilling:
        ++running;
        queued += q.target - q.prefilled;
        if (!in_running)
          return fmt::format("prefilling request {} is not running", q.id);
        break;
      case phase::waiting:
        queued += q.target;
        [[fallthrough]];
      default:
        if (in_running)
          return fmt::format("request {} is running in phase {}", q.id, static_cast<int>(q.ph));
      }
    }
    if (decoding != decoding_ || context != join_context_sum_ || steps != join_step_sum_)
      return fmt::format("decode sums ({}, {}, {}) != scan ({}, {}, {})", decoding_,
                         join_context_sum_, join_step_sum_, decoding, context, steps);
    if (reserved != kv_.reserved_tokens())
      return fmt::format("reserved {} != scan {}", kv_.reserved_tokens(), reserved);
    if (live != live_)
      return fmt::format("load {} != scan {}", live_, live);
    if (queued != queued_tokens_)
      return fmt::format("queued tokens {} != scan {}", queued_tokens_, queued);
    if (running != this->running())
      return fmt::format("running {} != scan {}", this->running(), running);
    if (!busy_ && used_tokens() > kv_.capacity_tokens())
      return fmt::format("KV tokens {} over capacity {}", used_tokens(), kv_.capacity_tokens());
    return {};
  }

private:
  enum class phase : std::uint8_t {
    free,
    waiting,    ///< queued for a prefill pass
    prefilling, ///< admitted; chunks in progress; KV reserved
    ready,      ///< prefill done or KV received; joins decode at the next step
    decoding,   ///< in the decode batch
    sending,    ///< prefill role: KV waiting for / in transfer; reserved
    offered,    ///< decode role: KV ready elsewhere; waiting for memory here
    receiving,  ///< decode role: KV in transfer; reserved
  };

  struct sequence {
    const io::workload_request* req = nullptr;
    std::int64_t id = -1;
    std::int64_t target = 0;    ///< tokens the current prefill pass builds KV for
    std::int64_t prefilled = 0; ///< of those, done (cached ones included)
    std::int64_t emitted = 0;   ///< output tokens emitted so far
    std::int64_t reserved = 0;  ///< KV tokens reserved (prefilling, sending, receiving)
    std::int64_t join_step = 0; ///< decode step at which it joined the batch
    std::int64_t join_context = 0;
    std::int64_t pinned = 0;      ///< leading cache blocks pinned
    std::int64_t requeued = 0;    ///< 0, or k when it was this instance's k-th preemption
    double preempt_key = 0.0;     ///< the batching policy's preemption order
    std::uint32_t generation = 0; ///< of the slot; invalidates stale finishing entries
    std::uint32_t pass = 0;       ///< prefill passes started before this one (preemptions)
    phase ph = phase::free;
    bool counted = false; ///< first admission recorded (queueing, cache hits)
  };
  struct chunk {
    std::int32_t slot = -1;
    std::int64_t tokens = 0;
    std::int64_t cached_before = 0;
  };
  struct step_plan {
    std::int64_t decoding = 0;
    double context_sum = 0.0;
    std::vector<chunk> chunks;
    double load_s = 0.0;
    std::int64_t preempted = 0;
  };
  struct finish_entry {
    std::int64_t step = 0;
    std::int64_t id = 0;
    std::int32_t slot = -1;
    std::uint32_t generation = 0;
    bool operator>(const finish_entry& o) const noexcept {
      return step != o.step ? step > o.step : id > o.id;
    }
  };

  [[nodiscard]] double decode_context_sum() const noexcept {
    return static_cast<double>(join_context_sum_) +
           speculation_.expected_emitted() *
               static_cast<double>(decoding_ * decode_step_ - join_step_sum_);
  }
  [[nodiscard]] std::int64_t running() const noexcept {
    return static_cast<std::int64_t>(running_.size());
  }
  void note_peak() noexcept {
    stats_.peak_kv_tokens = std::max(stats_.peak_kv_tokens, used_tokens());
  }

  std::int32_t new_slot(std::int64_t id) {
    std::int32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::int32_t>(seqs_.size());
      seqs_.emplace_back();
    }
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    // The slot's generation survives reuse, so entries left in the finishing heap by earlier
    // occupants never match the new one.
    const std::uint32_t generation = q.generation;
    q = sequence{};
    q.generation = generation;
    q.req = &requests_[static_cast<std::size_t>(id)];
    q.id = id;
    q.preempt_key = batching_.preemption_order(view_of(q));
    return s;
  }
  void free_slot(std::int32_t s) {
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    unpin(q);
    q.ph = phase::free;
    ++q.generation;
    free_.push_back(s);
    --live_;
  }
  std::int32_t take_id(std::int64_t id) {
    const auto it = by_id_.find(id);
    INFERCOST_ASSERT(it != by_id_.end(), "unknown request id");
    const std::int32_t s = it->second;
    by_id_.erase(it);
    return s;
  }
  void unpin(sequence& q) {
    if (cache_ && q.pinned > 0) {
      const std::span<const kvcache::block_id> b(q.req->block_hashes);
      cache_->unpin(b.first(static_cast<std::size_t>(q.pinned)));
      q.pinned = 0;
    }
  }

  /// Starts a prefill pass of waiting sequence s: cache lookup, reservation, running set.
  void admit(std::int32_t s, double now) {
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    request_record& rec = (*records_)[static_cast<std::size_t>(q.id)];
    q.prefilled = 0;
    if (cache_ && !q.req->block_hashes.empty()) {
      // Only the prompt's blocks can hit; at least one token is computed for the logits.
      const kvcache::lookup_result l = cache_->lookup(q.req->block_hashes);
      const std::int64_t hit = std::min(l.hits() * block_tokens_, q.req->input_tokens);
      q.prefilled = std::min(hit, q.target - 1);
      plan_.load_s += l.load_time_s;
      stats_.cache_load_bytes += l.load_bytes;
    }
    if (!q.counted) {
      q.counted = true;
      rec.first_scheduled_s = now;
      rec.cached_tokens = q.prefilled;
      stats_.input_hit_tokens += q.prefilled;
      stats_.input_miss_tokens += q.req->input_tokens - q.prefilled;
      if (role_ == instance_role::prefill)
        rec.prefill_instance = index_;
      else
        rec.prefill_instance = rec.decode_instance = index_;
    }
    queued_tokens_ -= q.prefilled;
    q.reserved = q.target;
    kv_.reserve(q.target);
    q.ph = phase::prefilling;
    running_.insert(running_key(q, s));
    prefilling_.push_back(s);
  }

  /// Adds a chunk of sequence s of at most `budget` tokens, and at most one attention group's
  /// budget (a chunk runs in one group); returns its size.
  std::int64_t add_chunk(std::int32_t s, std::int64_t budget) {
    const sequence& q = seqs_[static_cast<std::size_t>(s)];
    const std::int64_t n = std::min({q.target - q.prefilled, budget, group_budget_tokens_});
    if (n <= 0)
      return 0;
    plan_.chunks.push_back({s, n, q.prefilled});
    queued_tokens_ -= n;
    stats_.prefill_tokens += n;
    return n;
  }

  /// A prefill pass of slot s finished at `now`.
  void prefill_done(std::int32_t s, double now, step_outcome& out) {
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    request_record& rec = (*records_)[static_cast<std::size_t>(q.id)];
    prefilling_.erase(std::find(prefilling_.begin(), prefilling_.end(), s));
    if (cache_ && !q.req->block_hashes.empty()) {
      const std::span<const kvcache::block_id> b(q.req->block_hashes);
      (void)cache_->insert(b);
      q.pinned = cache_->match(b);
      cache_->pin(b.first(static_cast<std::size_t>(q.pinned)));
    }
    const std::int64_t out_tokens = q.req->output_tokens;
    if (q.emitted < out_tokens) {
      if (q.emitted == 0)
        rec.first_token_s = now;
      ++q.emitted;
      ++stats_.prefill_emitted_tokens;
    }
    const bool more = q.emitted < out_tokens;
    if (role_ == instance_role::prefill && more) {
      running_.erase(running_key(q, s)); // not preemptible while its KV is sent
      q.ph = phase::sending;
      by_id_[q.id] = s;
      out.prefilled.push_back(q.id);
      return;
    }
    if (!more) {
      kv_.release(q.reserved);
      q.reserved = 0;
      complete(s, now, out);
      return;
    }
    // Joins the decode batch at the next step; the reservation becomes its context then.
    running_.erase(running_key(q, s));
    q.ph = phase::ready;
    ready_.push_back(s);
  }

  /// Moves ready slot s into the decode batch at the current decode step.
  void join_decode(std::int32_t s) {
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    kv_.release(q.reserved);
    q.reserved = 0;
    q.join_step = decode_step_;
    q.join_context = q.target;
    q.ph = phase::decoding;
    request_record& rec = (*records_)[static_cast<std::size_t>(q.id)];
    if (rec.decode_instance < 0)
      rec.decode_instance = index_;
    running_.insert(running_key(q, s));
    ++decoding_;
    join_context_sum_ += q.join_context;
    join_step_sum_ += q.join_step;
    const std::int64_t steps =
        speculation_.steps_to_emit(q.id, q.pass, q.req->output_tokens - q.emitted);
    finishing_.push({q.join_step + steps - 1, q.id, s, q.generation});
  }

  /// Removes decoding sequence q from the batch sums.
  void leave_decode(sequence& q) {
    --decoding_;
    join_context_sum_ -= q.join_context;
    join_step_sum_ -= q.join_step;
  }

  /// Preempts running sequences, the batching policy's last first, until the decode batch has
  /// room for its next step.
  void make_room_for_decode(step_plan& plan) {
    while (decoding_ > 0 &&
           used_tokens() + static_cast<double>(decoding_ * (1 + speculation_.gamma())) >
               kv_.capacity_tokens()) {
      INFERCOST_ASSERT(!running_.empty(), "decoding sequences must be running");
      const auto last = std::prev(running_.end());
      preempt(std::get<2>(*last));
      ++plan.preempted;
    }
  }

  /// Drops slot s's KV and puts it back at the head of the waiting queue. Its next pass
  /// recomputes the prompt and every token emitted so far (vLLM's recompute preemption) and then
  /// emits the next token.
  void preempt(std::int32_t s) {
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    running_.erase(running_key(q, s));
    if (q.ph == phase::decoding) {
      const std::int64_t m = decode_step_ - q.join_step; // decode steps it completed
      q.emitted +=
          std::min(speculation_.emitted_in(q.id, q.pass, m), q.req->output_tokens - q.emitted - 1);
      leave_decode(q);
    } else {
      INFERCOST_ASSERT(q.ph == phase::prefilling, "only running sequences are preempted");
      prefilling_.erase(std::find(prefilling_.begin(), prefilling_.end(), s));
      kv_.release(q.reserved);
      queued_tokens_ -= q.target - q.prefilled;
    }
    q.reserved = 0;
    unpin(q);
    ++q.generation;
    ++q.pass;
    q.target = q.req->input_tokens + q.emitted;
    q.prefilled = 0;
    queued_tokens_ += q.target;
    q.ph = phase::waiting;
    q.requeued = ++requeues_;
    wait(s);
    ++stats_.preemptions;
    ++(*records_)[static_cast<std::size_t>(q.id)].preemptions;
  }

  /// Slot s has emitted all its tokens at `now`.
  void complete(std::int32_t s, double now, step_outcome& out) {
    sequence& q = seqs_[static_cast<std::size_t>(s)];
    request_record& rec = (*records_)[static_cast<std::size_t>(q.id)];
    rec.completion_s = now;
    rec.status = request_status::completed;
    if (rec.decode_instance < 0 && role_ != instance_role::prefill)
      rec.decode_instance = index_;
    running_.erase(running_key(q, s));
    stats_.output_tokens += q.req->output_tokens;
    ++stats_.completed;
    out.completed.push_back(q.id);
    free_slot(s);
  }

  /// γ forwards of a separate draft model over the decode batch, per attention group.
  [[nodiscard]] double draft_s(const step_plan& p) const {
    if (!draft_ || p.decoding == 0)
      return 0.0;
    const double groups = engine_->layout().attention_groups();
    const auto batch =
        std::max<std::int64_t>(1, std::llround(static_cast<double>(p.decoding) / groups));
    const double ctx = p.context_sum / groups;
    double t = 0.0;
    for (int i = 0; i < speculation_.gamma(); ++i)
      t += draft_->draft_forward_s(batch, ctx + static_cast<double>(i * batch));
    return t;
  }

  /// What the batching policy sees of a sequence.
  [[nodiscard]] static request_view view_of(const sequence& q) noexcept {
    return {.id = q.id,
            .arrival_s = q.req->arrival_s,
            .input_tokens = q.req->input_tokens,
            .output_tokens = q.req->output_tokens,
            .requeued = q.requeued};
  }
  [[nodiscard]] static std::tuple<double, std::int64_t, std::int32_t>
  running_key(const sequence& q, std::int32_t s) noexcept {
    return {q.preempt_key, q.id, s};
  }
  /// Puts slot s in the waiting set at the batching policy's admission order.
  void wait(std::int32_t s) {
    const sequence& q = seqs_[static_cast<std::size_t>(s)];
    waiting_.insert({batching_.admission_order(view_of(q)), q.id, s});
  }

  int index_;
  instance_role role_;
  const engine_type* engine_;
  scheduler_config sched_;
  std::span<const io::workload_request> requests_;
  std::vector<request_record>* records_;
  std::int64_t block_tokens_;
  batching_type batching_;
  bool head_of_line_ = batching_.head_of_line_blocking();
  std::int64_t requeues_ = 0; ///< preemptions so far (orders requeued sequences)
  int devices_ = 1;
  std::int64_t max_running_ = 1;
  std::int64_t budget_tokens_ = 1;       ///< step token budget of the whole instance
  std::int64_t group_budget_tokens_ = 1; ///< of one attention group: the most one chunk takes
  detail::kv_budget kv_;
  std::optional<cache_type> cache_;
  detail::speculation speculation_;
  std::optional<speculative::basic_step_cost_model<Device>> draft_;

  std::vector<sequence> seqs_;
  std::vector<std::int32_t> free_;
  std::unordered_map<std::int64_t, std::int32_t> by_id_; ///< offered / receiving / sending
  /// Waiting sequences by (admission order, request id, slot).
  std::set<std::tuple<double, std::int64_t, std::int32_t>> waiting_;
  std::vector<std::int32_t> prefilling_; ///< admission order
  std::vector<std::int32_t> ready_;
  std::deque<std::int32_t> offered_;
  /// Running sequences (prefilling, decoding) by (preemption order, request id, slot): the last is
  /// preempted first (FCFS: the youngest arrival, as in vLLM).
  std::set<std::tuple<double, std::int64_t, std::int32_t>> running_;
  std::priority_queue<finish_entry, std::vector<finish_entry>, std::greater<>> finishing_;
  std::int64_t decoding_ = 0;
  std::int64_t join_context_sum_ = 0;
  std::int64_t join_step_sum_ = 0;
  std::int64_t decode_step_ = 0; ///< decode steps finished
  std::int64_t queued_tokens_ = 0;
  std::int64_t live_ = 0;
  bool busy_ = false;
  step_plan plan_;
  instance_stats stats_;
};

/// The common case: the default device and the default policies.
using instance = basic_instance<default_device, default_policies>;

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): instances on a run-time device, instantiated once.
INFERCOST_EXTERN template class basic_instance<any_device, runtime_policies>;
INFERCOST_EXTERN template class basic_instance<
    any_device, with_attention<attention::topk_sparse, runtime_policies>>;
#endif

} // namespace infercost::serving
