// The whole Mooncake conversation trace (12,031 requests, 4.12M output tokens) on a 16-instance
// colocated cluster (Llama-3-70B, FP8, TP8 on H800: 128 GPUs), at 1x, 4x and 16x its rate.
//
// Baseline, in the same run: a per-sequence reference simulator of the same policy (FCFS
// admission by KV memory, chunked prefill up to the same budget, least-loaded routing, no
// preemption, cache or speculation) that keeps every running sequence and loops over them each
// step to build the batch and find those that finish — the straightforward implementation. It
// must give the same first-token and completion times, bit for bit (counter `mismatches`), and
// the serving simulator should be at least as fast (`vs_reference` = reference CPU time / ours).
//
// BM_large_batches: long decodes in batches of 256 on one instance, where a per-sequence loop
// costs the most.
//
// Goals: the 1x trace under 2 s of CPU; `per_request_vs_1x` (CPU time per request relative to
// the 1x run) near or below 1 at 4x and 16x: cost follows requests and steps, not tokens x batch.
// `engine_share`: the part of our time spent in engine::step_cost calls (estimated from a timed
// loop of calls). Times are CPU seconds
// (std::clock), so other load on the machine does not skew the ratios.
//
// BM_deepseek_v3_replay: what a capacity planner pays for each deployment it evaluates: the whole
// trace on DeepSeek-V3 (FP8 weights, 64 H800s in instances of 16 with DP attention and EP 16, as
// `infercost serve --model deepseek_v3 --devices-per-instance 16 --dp-attention` builds them).
// Arg 0: 4 colocated instances with none of the levers; Arg 1: PD with 2 prefill and 2 decode
// instances, the prefix cache and MTP (one draft token), all on; Arg 2: Arg 1 with Zipf(1) expert
// popularity and 32 EPLB replicas, where every expert has its own touch probability. Baseline, in
// the same run: the trace's parse, which a planner pays once (`vs_parse` = replay CPU / parse
// CPU), and the plain replay of Arg 0 (`vs_plain`). Goal: each replay (`cpu_s`) under 1 s of CPU.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <string>
#include <vector>

#include "infercost/device/catalog.hpp"
#include "infercost/io/mooncake_trace.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/serving/cluster.hpp"

namespace {

using namespace infercost;
using device = h800_sxm; // the Mooncake cluster's devices
using engine_t = engine::basic_step_cost<device, attention::full>;

constexpr int instances = 16;
const engine::parallel_layout layout{.devices = 8, .tp = 8, .weight_prec = precision::fp8};

const io::workload& trace() {
  static const io::workload w = [] {
    const std::string path = std::string(INFERCOST_DATA_DIR) + "/mooncake/conversation_trace.jsonl";
    try {
      return io::read_mooncake_workload(path);
    } catch (const trace_error& e) {
      std::fprintf(stderr, "serving_bench: %s\n", e.what());
      return io::workload{};
    }
  }();
  return w;
}

double cpu_s() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

/// Replays `w` on `c` once per benchmark iteration; keeps the last report in `r` and returns the
/// mean CPU seconds of one replay.
template <class Cluster>
double timed_replays(benchmark::State& state, Cluster& c, const io::workload& w,
                     serving::report& r) {
  double cpu = 0.0;
  for (auto _ : state) {
    const double t0 = cpu_s();
    r = c.run(w, 1);
    cpu += cpu_s() - t0;
    benchmark::DoNotOptimize(r.steps);
  }
  return cpu / static_cast<double>(state.iterations());
}

/// The reference: the same colocated policy with every running sequence kept and visited.
class reference_cluster {
public:
  reference_cluster(const engine_t& e, const serving::scheduler_config& s, int n)
      : e_(e), insts_(static_cast<std::size_t>(n)) {
    const double cap =
        std::floor(e.kv_capacity_bytes(s.activation_reserve) / e.kv_bytes_per_device(1));
    for (auto& i : insts_) {
      i.capacity = cap;
      i.watermark = std::floor(cap * s.admission_watermark);
      i.budget = s.max_batched_tokens * e.layout().attention_groups();
      i.max_running = std::int64_t{s.max_sequences_per_group} * e.layout().attention_groups();
    }
  }

  /// Runs `w`; fills first-token and completion times per request.
  void run(const io::workload& w, std::vector<double>& first, std::vector<double>& done) {
    first.assign(w.size(), 0.0);
    done.assign(w.size(), 0.0);
    first_ = &first;
    done_ = &done;
    w_ = &w;
    serving::event_queue q;
    std::size_t next = 0;
    while (true) {
      if (next < w.size() && w.requests[next].arrival_s <= q.next_time_s()) {
        const double t = w.requests[next].arrival_s;
        q.advance_to(t);
        std::size_t best = 0;
        for (std::size_t i = 1; i < insts_.size(); ++i)
          if (insts_[i].live < insts_[best].live)
            best = i;
        insts_[best].waiting.push_back(static_cast<std::int64_t>(next));
        ++insts_[best].live;
        kick(q, best, t);
        ++next;
      } else if (!q.empty()) {
        const serving::event e = q.pop();
        finish(static_cast<std::size_t>(e.instance), e.time_s);
        kick(q, static_cast<std::size_t>(e.instance), e.time_s);
      } else {
        break;
      }
    }
  }

private:
  struct seq {
    std::int64_t id = 0, target = 0, prefilled = 0, emitted = 0, context = 0;
    bool decoding = false;
  };
  struct chunk {
    std::size_t index = 0; ///< position in `running`
    std::int64_t tokens = 0;
  };
  struct inst {
    double capacity = 0, watermark = 0;
    std::int64_t budget = 0, max_running = 0, live = 0;
    std::deque<std::int64_t> waiting;
    std::vector<seq> running; ///< admission order
    std::vector<chunk> chunks;
    bool decoded = false, busy = false;
  };

  void kick(serving::event_queue& q, std::size_t k, double now) {
    inst& in = insts_[k];
    if (in.busy)
      return;
    std::int64_t decoding = 0, context = 0, reserved = 0;
    for (const seq& s : in.running) {
      if (s.decoding) {
        ++decoding;
        context += s.context;
      } else {
        reserved += s.target;
      }
    }
    auto used = [&] { return static_cast<double>(reserved + context); };
    std::int64_t budget = in.budget - decoding;
    in.chunks.clear();
    engine::step_batch b;
    b.totals.decode_sequences = static_cast<double>(decoding);
    b.totals.decode_context_sum = static_cast<double>(context);
    for (std::size_t i = 0; i < in.running.size() && budget > 0; ++i) {
      const seq& s = in.running[i];
      if (s.decoding)
        continue;
      const std::int64_t n = std::min(s.target - s.prefilled, budget);
      in.chunks.push_back({i, n});
      budget -= n;
    }
    while (budget > 0 && !in.waiting.empty() &&
           static_cast<std::int64_t>(in.running.size()) < in.max_running) {
      const io::workload_request& r = w_->requests[static_cast<std::size_t>(in.waiting.front())];
      if (used() + static_cast<double>(r.input_tokens) + in.watermark > in.capacity)
        break;
      in.waiting.pop_front();
      in.running.push_back({.id = r.id, .target = r.input_tokens});
      reserved += r.input_tokens;
      const std::int64_t n = std::min(r.input_tokens, budget);
      in.chunks.push_back({in.running.size() - 1, n});
      budget -= n;
    }
    if (decoding == 0 && in.chunks.empty())
      return;
    for (const chunk& c : in.chunks)
      b.add_prefill(c.tokens, in.running[c.index].prefilled);
    in.decoded = decoding > 0;
    in.busy = true;
    q.push(now + e_(b).total_s, serving::event_kind::step_end, static_cast<int>(k));
  }

  void finish(std::size_t k, double now) {
    inst& in = insts_[k];
    in.busy = false;
    std::vector<bool> prefilled_now(in.running.size(), false);
    for (const chunk& c : in.chunks) {
      seq& s = in.running[c.index];
      s.prefilled += c.tokens;
      prefilled_now[c.index] = s.prefilled == s.target;
    }
    std::vector<seq> kept;
    kept.reserve(in.running.size());
    for (std::size_t i = 0; i < in.running.size(); ++i) {
      seq s = in.running[i];
      const std::int64_t out = w_->requests[static_cast<std::size_t>(s.id)].output_tokens;
      if (s.decoding) {
        ++s.emitted;
        ++s.context;
      } else if (prefilled_now[i]) {
        if (s.emitted < out) {
          (*first_)[static_cast<std::size_t>(s.id)] = now;
          ++s.emitted;
        }
        s.decoding = true;
        s.context = s.target;
      }
      if (s.decoding && s.emitted >= out) {
        (*done_)[static_cast<std::size_t>(s.id)] = now;
        --in.live;
        continue;
      }
      kept.push_back(s);
    }
    in.running.swap(kept);
  }

  const engine_t& e_;
  std::vector<inst> insts_;
  const io::workload* w_ = nullptr;
  std::vector<double>* first_ = nullptr;
  std::vector<double>* done_ = nullptr;
};

double cpu_per_request_1x = 0.0;

/// Runs `w` on our simulator (timed over the benchmark's iterations) and once on the reference;
/// sets the counters. Returns our CPU seconds per request.
double compare(benchmark::State& state, const io::workload& w, const model::model_config& m,
               const engine::parallel_layout& l, const serving::scheduler_config& sched, int n) {
  serving::basic_cluster<device> c(
      m, {.colocated = {.instances = n, .layout = l, .scheduler = sched}});
  serving::report r;
  const double ours = timed_replays(state, c, w, r);

  reference_cluster ref(c.prefill_engine(), sched, n);
  std::vector<double> first, done;
  const double t0 = cpu_s();
  ref.run(w, first, done);
  const double reference = cpu_s() - t0;
  std::int64_t mismatches = 0;
  for (std::size_t i = 0; i < w.size(); ++i)
    mismatches += r.requests[i].first_token_s != first[i] || r.requests[i].completion_s != done[i];

  // The engine calls alone: one decode step of a typical batch, timed in a loop.
  const engine_t& e = c.prefill_engine();
  engine::step_batch b;
  b.totals.decode_sequences = 16;
  b.totals.decode_context_sum = 16 * 12000.0;
  constexpr int calls = 200000;
  double sink = 0.0;
  const double e0 = cpu_s();
  for (int i = 0; i < calls; ++i) {
    b.totals.decode_context_sum += 1.0;
    sink += e(b).total_s;
  }
  const double engine_call_s = (cpu_s() - e0) / calls;
  benchmark::DoNotOptimize(sink);
  // Each step calls the engine once, and a mixed step twice more to split its device time.
  std::int64_t engine_calls = 0, running = 0;
  for (const auto& i : r.instances) {
    engine_calls += i.stats.steps + 2 * i.stats.mixed_steps;
    running = std::max(running, i.stats.max_running);
  }

  const double per_request = ours / static_cast<double>(w.size());
  state.counters["requests"] = static_cast<double>(r.completed);
  state.counters["output_tokens"] = static_cast<double>(r.output_tokens);
  state.counters["steps"] = static_cast<double>(r.steps);
  state.counters["max_batch"] = static_cast<double>(running);
  state.counters["cpu_s"] = ours;
  state.counters["sim_s_per_cpu_s"] = r.makespan_s / ours;
  state.counters["us_per_request"] = per_request * 1e6;
  state.counters["ns_per_step"] = ours / static_cast<double>(r.steps) * 1e9;
  state.counters["engine_share"] = engine_call_s * static_cast<double>(engine_calls) / ours;
  state.counters["reference_cpu_s"] = reference;
  state.counters["vs_reference"] = reference / ours;
  state.counters["mismatches"] = static_cast<double>(mismatches);
  state.counters["preemptions"] = static_cast<double>(r.preemptions);
  return per_request;
}

void BM_mooncake_16_instances(benchmark::State& state) {
  if (trace().empty()) {
    state.SkipWithError("Mooncake conversation trace not found");
    return;
  }
  const io::workload w = io::scale_time(trace(), static_cast<double>(state.range(0)));
  const double per_request = compare(state, w, model::presets::llama3_70b(), layout, {}, instances);
  if (state.range(0) == 1)
    cpu_per_request_1x = per_request;
  state.counters["per_request_vs_1x"] =
      cpu_per_request_1x > 0.0 ? per_request / cpu_per_request_1x : 0.0;
}

/// Long decodes in large batches, where a per-sequence loop costs the most: 20,000 requests of
/// ~200 prompt and ~2,000 output tokens at 25/s on one Llama-3-8B H800 (FP8 weights and KV)
/// holding up to 256 sequences (memory for all of them, so neither simulator preempts).
void BM_large_batches(benchmark::State& state) {
  const io::workload w = io::synthetic_workload({.requests = 20000,
                                                 .arrivals = {.rate_per_s = 25.0},
                                                 .input_tokens = 200,
                                                 .input_spread = 0.5,
                                                 .output_tokens = 2000,
                                                 .output_spread = 0.5},
                                                1);
  const engine::parallel_layout l{
      .devices = 1, .tp = 1, .weight_prec = precision::fp8, .kv_prec = precision::fp8};
  (void)compare(state, w, model::presets::llama3_8b(), l, {.max_sequences_per_group = 256}, 1);
}

double deepseek_plain_cpu_s = 0.0;

void BM_deepseek_v3_replay(benchmark::State& state) {
  const std::string path = std::string(INFERCOST_DATA_DIR) + "/mooncake/conversation_trace.jsonl";
  io::workload w;
  const double p0 = cpu_s();
  try {
    w = io::read_mooncake_workload(path);
  } catch (const trace_error& e) {
    state.SkipWithError(e.what());
    return;
  }
  const double parse = cpu_s() - p0;
  const bool levers = state.range(0) >= 1, skew = state.range(0) == 2;
  const engine::parallel_layout l{.devices = 16,
                                  .tp = 1,
                                  .dp_attention = true,
                                  .ep = 16,
                                  .redundant_experts = skew ? 32 : 0,
                                  .expert_skew = skew ? 1.0 : 0.0,
                                  .weight_prec = precision::fp8,
                                  .dispatch_prec = precision::fp8,
                                  .mtp_draft = levers};
  serving::cluster_config cfg{.colocated = {.instances = 4, .layout = l}};
  if (levers) {
    cfg.mode = serving::serving_mode::pd;
    cfg.prefill.instances = 2;
    cfg.prefill.layout = l;
    cfg.decode = {.instances = 2, .layout = l};
    cfg.cache.enabled = true;
    cfg.speculative.gamma = 1;
  }
  serving::basic_cluster<device> c(model::presets::deepseek_v3(), cfg);
  serving::report r;
  const double ours = timed_replays(state, c, w, r);
  if (!levers)
    deepseek_plain_cpu_s = ours;
  state.counters["requests"] = static_cast<double>(r.completed);
  state.counters["steps"] = static_cast<double>(r.steps);
  state.counters["parse_cpu_s"] = parse;
  state.counters["cpu_s"] = ours;
  state.counters["ns_per_step"] = ours / static_cast<double>(r.steps) * 1e9;
  state.counters["vs_parse"] = ours / parse;
  state.counters["vs_plain"] = deepseek_plain_cpu_s > 0.0 ? ours / deepseek_plain_cpu_s : 0.0;
}

} // namespace

BENCHMARK(BM_mooncake_16_instances)
    ->Arg(1)
    ->Arg(4)
    ->Arg(16)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_large_batches)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_deepseek_v3_replay)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
