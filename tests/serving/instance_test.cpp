#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "infercost/core/random.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/serving/instance.hpp"

using namespace infercost;
using serving::instance_role;
using serving::step_outcome;

namespace {

template <class D> using engine_t = engine::basic_step_cost<D, attention::full>;
template <class D> using instance_t = serving::basic_instance<D>;

/// Requests arriving at t = 0 with the given (input, output) lengths.
std::vector<io::workload_request> requests(std::vector<std::pair<std::int64_t, std::int64_t>> l) {
  std::vector<io::workload_request> r;
  for (std::size_t i = 0; i < l.size(); ++i)
    r.push_back({.id = static_cast<std::int64_t>(i),
                 .arrival_s = 0.0,
                 .input_tokens = l[i].first,
                 .output_tokens = l[i].second,
                 .block_hashes = {}});
  return r;
}

std::vector<serving::request_record> records_for(const std::vector<io::workload_request>& r) {
  std::vector<serving::request_record> rec(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) {
    rec[i].id = r[i].id;
    rec[i].input_tokens = r[i].input_tokens;
    rec[i].output_tokens = r[i].output_tokens;
  }
  return rec;
}

/// Runs steps back to back from `t` until the instance has nothing to do; returns the end time.
template <class I> double drain(I& inst, double t, step_outcome& out) {
  while (const std::optional<double> d = inst.start_step(t)) {
    t += *d;
    inst.finish_step(t, out);
  }
  return t;
}

double decode_s(const auto& e, double sequences, double context_sum, int gamma = 0) {
  engine::step_batch b;
  b.totals.decode_sequences = sequences;
  b.totals.decode_context_sum = context_sum;
  b.speculative_tokens = gamma;
  return e(b).total_s;
}

} // namespace

TEMPLATE_TEST_CASE("a long prompt is prefilled in budget-sized chunks, then decoded one token "
                   "per step at a growing context",
                   "[serving][instance]", h800_sxm, ascend_910b) {
  const engine_t<TestType> e(model::presets::llama3_8b(), {.devices = 1, .tp = 1});
  const auto reqs = requests({{5000, 3}});
  auto rec = records_for(reqs);
  instance_t<TestType> inst(0, instance_role::colocated, e, {.max_batched_tokens = 2048}, {}, {},
                            reqs, rec, 512, 1);
  inst.enqueue(0);
  CHECK(inst.queued_prefill_tokens() == 5000);
  step_outcome out;
  // Chunks of 2048, 2048 and 904 tokens after 0, 2048 and 4096 cached ones.
  const double chunks[] = {e(engine::step_batch{}.add_prefill(2048, 0)).total_s,
                           e(engine::step_batch{}.add_prefill(2048, 2048)).total_s,
                           e(engine::step_batch{}.add_prefill(904, 4096)).total_s};
  double t = 0.0;
  for (const double c : chunks) {
    const std::optional<double> d = inst.start_step(t);
    REQUIRE(d);
    CHECK(*d == c);
    t += *d;
    inst.finish_step(t, out);
  }
  CHECK(rec[0].first_token_s == t);
  CHECK(rec[0].first_scheduled_s == 0.0);
  // Two decode steps at contexts 5000 and 5001 emit tokens 2 and 3.
  for (const double ctx : {5000.0, 5001.0}) {
    const std::optional<double> d = inst.start_step(t);
    REQUIRE(d);
    CHECK(*d == decode_s(e, 1, ctx));
    t += *d;
    inst.finish_step(t, out);
  }
  REQUIRE(out.completed == std::vector<std::int64_t>{0});
  CHECK(rec[0].completion_s == t);
  CHECK(rec[0].status == serving::request_status::completed);
  CHECK_FALSE(inst.start_step(t));
  CHECK(inst.load() == 0);
  CHECK(inst.used_tokens() == 0.0);
  CHECK(inst.stats().prefill_tokens == 5000);
  CHECK(inst.stats().output_tokens == 3);
  CHECK(inst.stats().steps == 5);
}

TEMPLATE_TEST_CASE("with DP attention a prompt's chunks take one group's budget, not the "
                   "instance's",
                   "[serving][instance]", h800_sxm, ascend_910b) {
  // Four attention groups of one device: the instance's step budget is 4 × 2048 tokens, but a
  // chunk runs in one group, so a 5,000-token prompt still takes 2048 + 2048 + 904.
  const engine_t<TestType> e(model::presets::qwen3_30b_a3b(),
                             {.devices = 4, .tp = 1, .dp_attention = true, .ep = 4});
  const auto reqs = requests({{5000, 1}, {1000, 1}});
  auto rec = records_for(reqs);
  instance_t<TestType> inst(0, instance_role::colocated, e, {.max_batched_tokens = 2048}, {}, {},
                            reqs, rec, 512, 1);
  inst.enqueue(0);
  inst.enqueue(1);
  step_outcome out;
  // Step 1: a 2048-token chunk of the long prompt and the whole short one, side by side.
  const double first = e(engine::step_batch{}.add_prefill(2048, 0).add_prefill(1000, 0)).total_s;
  std::optional<double> d = inst.start_step(0.0);
  REQUIRE(d);
  CHECK(*d == first);
  double t = *d;
  inst.finish_step(t, out);
  CHECK(out.completed == std::vector<std::int64_t>{1});
  for (const auto& [n, cached] : {std::pair<std::int64_t, std::int64_t>{2048, 2048}, {904, 4096}}) {
    d = inst.start_step(t);
    REQUIRE(d);
    CHECK(*d == e(engine::step_batch{}.add_prefill(n, cached)).total_s);
    t += *d;
    inst.finish_step(t, out);
  }
  CHECK(rec[0].first_token_s == t);
  CHECK(inst.stats().steps == 3);
}

TEMPLATE_TEST_CASE("continuous batching mixes a new prompt into the decode batch and keeps "
                   "the context sum exact",
                   "[serving][instance]", h800_sxm, ascend_910b) {
  const engine_t<TestType> e(model::presets::llama3_8b(), {.devices = 1, .tp = 1});
  const auto reqs = requests({{100, 10}, {300, 4}});
  auto rec = records_for(reqs);
  instance_t<TestType> inst(0, instance_role::colocated, e, {}, {}, {}, reqs, rec, 512, 1);
  step_outcome out;
  inst.enqueue(0);
  double t = *inst.start_step(0.0);
  inst.finish_step(t, out); // prefill of request 0; token 1
  t += *inst.start_step(t);
  inst.finish_step(t, out); // decode at context 100; token 2
  inst.enqueue(1);
  // Mixed step: request 0 decodes at context 101 while request 1's prompt is prefilled.
  const std::optional<double> mixed = inst.start_step(t);
  REQUIRE(mixed);
  engine::step_batch b;
  b.add_decode(101).add_prefill(300, 0);
  CHECK(*mixed == e(b).total_s);
  t += *mixed;
  inst.finish_step(t, out);
  CHECK(rec[1].first_token_s == t);
  CHECK(inst.stats().mixed_steps == 1);
  // Both decode: contexts 102 and 300.
  const std::optional<double> both = inst.start_step(t);
  REQUIRE(both);
  CHECK(*both == decode_s(e, 2, 402));
  t += *both;
  inst.finish_step(t, out);
  t = drain(inst, t, out);
  CHECK(out.completed.size() == 2);
  CHECK(inst.stats().output_tokens == 14);
  // Request 1 finished first (3 decode steps after its prompt); request 0 last.
  CHECK(rec[1].completion_s < rec[0].completion_s);
  CHECK(rec[0].completion_s == t);
  // Device time is attributed in full: Σ step time × devices.
  const serving::instance_stats& s = inst.stats();
  CHECK(s.prefill_device_s + s.decode_device_s + s.cache_load_device_s ==
        Approx(s.busy_s).epsilon(1e-12));
  CHECK(s.prefill_device_s > 0.0);
  CHECK(s.decode_device_s > 0.0);
}

TEMPLATE_TEST_CASE("when the KV memory is full the youngest sequence is preempted and recomputed",
                   "[serving][instance]", h800_sxm, ascend_910b) {
  const TestType dev;
  const auto m = model::presets::llama3_8b();
  const engine_t<TestType> e(m, {.devices = 1, .tp = 1});
  // Leave room for about 20,000 tokens of KV: reserve everything else for activations.
  const double per_token = e.kv_bytes_per_device(1);
  const double reserve =
      1.0 - (e.weight_bytes_per_device() + 20000.0 * per_token) / dev.memory_bytes();
  const auto reqs = requests({{6000, 6000}, {6000, 6000}});
  auto rec = records_for(reqs);
  instance_t<TestType> inst(0, instance_role::colocated, e,
                            {.activation_reserve = reserve, .admission_watermark = 0.0}, {}, {},
                            reqs, rec, 512, 1);
  REQUIRE(inst.capacity_tokens() == Approx(20000).margin(1));
  CHECK(inst.fits(6000, 6000));
  CHECK_FALSE(inst.fits(15000, 6000));
  inst.enqueue(0);
  inst.enqueue(1);
  step_outcome out;
  double t = 0.0;
  double peak = 0.0;
  while (const std::optional<double> d = inst.start_step(t)) {
    peak = std::max(peak, inst.used_tokens());
    t += *d;
    inst.finish_step(t, out);
  }
  // 12,000 each at the end: both cannot fit, so the younger (request 1) was preempted.
  CHECK(out.completed.size() == 2);
  CHECK(inst.stats().preemptions >= 1);
  CHECK(rec[1].preemptions >= 1);
  CHECK(rec[0].preemptions == 0);
  CHECK(rec[0].completion_s < rec[1].completion_s);
  CHECK(peak <= inst.capacity_tokens());
  CHECK(inst.stats().output_tokens == 12000);
  // Recomputation prefilled more than the two prompts.
  CHECK(inst.stats().prefill_tokens > 12000);
  CHECK(inst.used_tokens() == 0.0);
  // The first pass is what counts for queueing and cache accounting.
  CHECK(inst.stats().input_miss_tokens == 12000);
}

TEMPLATE_TEST_CASE("under heavy preemption the batch sums match a full scan and every token is "
                   "emitted once",
                   "[serving][instance]", h800_sxm, ascend_910b) {
  const TestType dev;
  const auto m = model::presets::llama3_8b();
  const engine_t<TestType> e(m, {.devices = 1, .tp = 1});
  const double reserve =
      1.0 - (e.weight_bytes_per_device() + 20000.0 * e.kv_bytes_per_device(1)) / dev.memory_bytes();
  // Seed 17: 80 requests of 200–4,000 prompt and 1–3,000 output tokens in a 20,000-token KV
  // memory, arriving in waves between steps; with and without speculation.
  rng g(17);
  std::vector<std::pair<std::int64_t, std::int64_t>> lengths;
  std::int64_t outputs = 0;
  for (int i = 0; i < 80; ++i) {
    lengths.emplace_back(200 + static_cast<std::int64_t>(g.uniform_int(3800)),
                         1 + static_cast<std::int64_t>(g.uniform_int(3000)));
    outputs += lengths.back().second;
  }
  const auto reqs = requests(lengths);
  for (const int gamma : {0, 2}) {
    auto rec = records_for(reqs);
    const serving::speculative_config spec{
        .gamma = gamma, .alpha = 0.6, .draft = gamma > 0 ? std::optional(m) : std::nullopt};
    instance_t<TestType> inst(0, instance_role::colocated, e,
                              {.max_batched_tokens = 1024, .activation_reserve = reserve}, {}, spec,
                              reqs, rec, 512, 3);
    step_outcome out;
    double t = 0.0;
    std::size_t next = 0;
    int steps = 0;
    while (true) {
      for (int k = 0; k < 3 && next < reqs.size(); ++k)
        inst.enqueue(static_cast<std::int64_t>(next++));
      const std::optional<double> d = inst.start_step(t);
      if (!d && next == reqs.size())
        break;
      if (d) {
        t += *d;
        inst.finish_step(t, out);
        ++steps;
      }
      const std::string bad = inst.check_invariants();
      INFO("gamma " << gamma << ", step " << steps);
      REQUIRE(bad.empty());
    }
    INFO("gamma " << gamma);
    CHECK(out.completed.size() == 80);
    CHECK(inst.stats().preemptions > 10);
    CHECK(inst.stats().output_tokens == outputs);
    CHECK(inst.used_tokens() == 0.0);
    if (gamma == 0) {
      // Each token comes from one decode step or from the end of one prefill pass.
      CHECK(inst.stats().decode_sequence_steps + inst.stats().prefill_emitted_tokens == outputs);
    }
    for (const auto& r : rec) {
      REQUIRE(r.status == serving::request_status::completed);
      REQUIRE(r.completion_s >= r.first_token_s);
    }
  }
}

TEST_CASE("a prefill instance hands finished prompts over and holds their KV until released",
          "[serving][instance]") {
  const engine_t<h800_sxm> e(model::presets::llama3_8b(), {.devices = 1, .tp = 1});
  const auto reqs = requests({{1000, 5}, {2000, 1}, {500, 7}});
  auto rec = records_for(reqs);
  instance_t<h800_sxm> inst(3, instance_role::prefill, e, {.max_batched_tokens = 16384}, {}, {},
                            reqs, rec, 512, 1);
  inst.enqueue(0);
  inst.enqueue(1);
  inst.enqueue(2);
  step_outcome out;
  const std::optional<double> d = inst.start_step(0.0);
  REQUIRE(d);
  CHECK(*d == e(engine::step_batch{}.add_prefill(1000).add_prefill(2000).add_prefill(500)).total_s);
  inst.finish_step(*d, out);
  // Request 1 wants one token: prefill made it, so it completes here.
  CHECK(out.completed == std::vector<std::int64_t>{1});
  CHECK(out.prefilled == std::vector<std::int64_t>{0, 2});
  CHECK(rec[0].prefill_instance == 3);
  CHECK(rec[0].first_token_s == *d);
  CHECK(inst.used_tokens() == 1500.0);
  CHECK(inst.load() == 2);
  inst.release(0);
  CHECK(inst.used_tokens() == 500.0);
  inst.release(2);
  CHECK(inst.load() == 0);
  CHECK_FALSE(inst.start_step(*d));
}

TEST_CASE("a decode instance admits offered KV by memory and decodes it", "[serving][instance]") {
  const engine_t<h800_sxm> e(model::presets::llama3_8b(), {.devices = 1, .tp = 1});
  const auto reqs = requests({{4000, 3}});
  auto rec = records_for(reqs);
  instance_t<h800_sxm> inst(1, instance_role::decode, e, {}, {}, {}, reqs, rec, 512, 1);
  inst.offer(0);
  CHECK(inst.load() == 1);
  CHECK_FALSE(inst.start_step(0.0)); // nothing has arrived
  CHECK(inst.admit_transfer() == std::optional<std::int64_t>(0));
  CHECK_FALSE(inst.admit_transfer());
  CHECK(inst.used_tokens() == 4000.0);
  inst.receive(0);
  step_outcome out;
  double t = 1.0;
  for (const double ctx : {4000.0, 4001.0}) {
    const std::optional<double> d = inst.start_step(t);
    REQUIRE(d);
    CHECK(*d == decode_s(e, 1, ctx));
    t += *d;
    inst.finish_step(t, out);
  }
  CHECK(out.completed == std::vector<std::int64_t>{0});
  CHECK(rec[0].decode_instance == 1);
  CHECK(rec[0].completion_s == t);
}

TEST_CASE("speculative decode steps verify gamma tokens and emit what the acceptance model "
          "draws",
          "[serving][instance]") {
  // Llama-3-70B (TP2, FP8) drafted by Llama-3-8B, which shares its 128,256-token vocabulary.
  const auto target = model::presets::llama3_70b();
  const engine_t<h800_sxm> e(target, {.devices = 2, .tp = 2, .weight_prec = precision::fp8});
  const speculative::basic_step_cost_model<h800_sxm> draft(
      {.target = target,
       .target_layout = {.devices = 2, .tp = 2, .weight_prec = precision::fp8},
       .draft = model::presets::llama3_8b(),
       .draft_layout = {.devices = 2, .tp = 2, .weight_prec = precision::fp8}});
  // α = 1: every step emits γ + 1 = 4 tokens, so 1 + 4·3 tokens take one prefill and 3 steps
  // at contexts 1000, 1004, 1008 (the context grows by the 4 emitted tokens).
  const auto reqs = requests({{1000, 13}});
  auto rec = records_for(reqs);
  instance_t<h800_sxm> inst(0, instance_role::colocated, e, {}, {},
                            {.gamma = 3, .alpha = 1.0, .draft = model::presets::llama3_8b()}, reqs,
                            rec, 512, 7);
  CHECK(inst.fits(1000, 13));
  inst.enqueue(0);
  step_outcome out;
  double t = *inst.start_step(0.0);
  inst.finish_step(t, out);
  for (const double ctx : {1000.0, 1004.0, 1008.0}) {
    const std::optional<double> d = inst.start_step(t);
    REQUIRE(d);
    double drafts = 0.0;
    for (int i = 0; i < 3; ++i)
      drafts += draft.draft_forward_s(1, ctx + i);
    CHECK(*d == Approx(decode_s(e, 1, ctx, 3) + drafts).epsilon(1e-12));
    t += *d;
    inst.finish_step(t, out);
  }
  CHECK(out.completed == std::vector<std::int64_t>{0});
  CHECK(inst.stats().decode_steps == 3);
  // α = 0: one token per step, 12 steps.
  auto rec0 = records_for(reqs);
  instance_t<h800_sxm> slow(0, instance_role::colocated, e, {}, {},
                            {.gamma = 3, .alpha = 0.0, .draft = model::presets::llama3_8b()}, reqs,
                            rec0, 512, 7);
  slow.enqueue(0);
  step_outcome out0;
  (void)drain(slow, 0.0, out0);
  CHECK(slow.stats().decode_steps == 12);
  CHECK(out0.completed.size() == 1);
}

TEST_CASE("instances reject what they cannot run, naming the numbers", "[serving][instance]") {
  const auto reqs = requests({{10, 1}});
  auto rec = records_for(reqs);
  const engine_t<h800_sxm> e(model::presets::llama3_8b(), {.devices = 1, .tp = 1});
  CHECK_THROWS_WITH(
      instance_t<h800_sxm>(0, instance_role::colocated, e, {}, {}, {.gamma = 2}, reqs, rec, 512, 1),
      "serving::speculative_config: draft (none) is needed for gamma (2) unless the layout "
      "drafts with the model's MTP module (mtp_draft)");
  CHECK_THROWS_WITH(instance_t<h800_sxm>(0, instance_role::colocated, e, {.max_batched_tokens = 0},
                                         {}, {}, reqs, rec, 512, 1),
                    "serving::scheduler_config: max_batched_tokens (0) must be > 0");
  // 16 GB of BF16 weights in the 10% of an 80 GiB H800 left by a 90% activation reserve.
  try {
    instance_t<h800_sxm> x(0, instance_role::colocated, e, {.activation_reserve = 0.9}, {}, {},
                           reqs, rec, 512, 1);
    FAIL("no error for weights that do not fit");
  } catch (const config_error& err) {
    const std::string what = err.what();
    CHECK(what.find("llama3_8b needs 16.1 GB of weights per h800_sxm") != std::string::npos);
    CHECK(what.find("8.6 GB") != std::string::npos);
  }
  CHECK_THROWS_AS(instance_t<h800_sxm>(0, instance_role::colocated, e, {},
                                       {.enabled = true, .hbm_fraction = 0.95}, {}, reqs, rec, 512,
                                       1),
                  config_error);
}
