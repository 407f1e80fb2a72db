#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "data.hpp"
#include "infercost/io/mooncake_trace.hpp"
#include "infercost/kvcache/replay.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/serving/cluster.hpp"
#include "infercost/serving/report_json.hpp"

using namespace infercost;
using serving::cluster_config;
using serving::serving_mode;

namespace {

template <class D> using cluster_t = serving::basic_cluster<D>;

/// One request arriving at t = 0.
io::workload single(std::int64_t input, std::int64_t output) {
  return {.name = "single",
          .requests = {{.id = 0,
                        .arrival_s = 0.0,
                        .input_tokens = input,
                        .output_tokens = output,
                        .block_hashes = {}}},
          .block_tokens = 512};
}

double decode_s(const auto& e, std::int64_t context) {
  return e(engine::step_batch{}.add_decode(context)).total_s;
}

const engine::parallel_layout one_device{.devices = 1, .tp = 1};

cluster_config pd(int p, int d, engine::parallel_layout l = one_device) {
  return {.mode = serving_mode::pd,
          .prefill = {.instances = p, .layout = l, .scheduler = {.max_batched_tokens = 16384}},
          .decode = {.instances = d, .layout = l}};
}

/// Σ output tokens of completed requests, from the records.
std::int64_t completed_output(const serving::report& r) {
  std::int64_t s = 0;
  for (const auto& q : r.requests)
    s += q.completed() ? q.output_tokens : 0;
  return s;
}

} // namespace

TEMPLATE_TEST_CASE("a request alone: TTFT is its prefill step and TPOT its decode steps, "
                   "exactly",
                   "[serving][cluster]", h800_sxm, ascend_910b) {
  const auto m = model::presets::llama3_8b();
  cluster_t<TestType> c(m, {.colocated = {.instances = 2, .layout = one_device}});
  const serving::report r = c.run(single(1500, 40), 1);
  REQUIRE(r.completed == 1);
  const serving::request_record& q = r.requests[0];
  const auto& e = c.prefill_engine();
  // TTFT: one step prefilling the 1,500-token prompt (under the 2,048-token budget).
  CHECK(q.ttft_s() == e(engine::step_batch{}.add_prefill(1500)).total_s);
  CHECK(q.queue_s() == 0.0);
  // TPOT: 39 decode steps at contexts 1500 .. 1538, accumulated as the simulation does.
  double t = q.first_token_s;
  for (std::int64_t k = 0; k < 39; ++k)
    t += decode_s(e, 1500 + k);
  CHECK(q.completion_s == t);
  CHECK(q.tpot_s() == (t - q.first_token_s) / 39.0);
  CHECK(std::isfinite(q.tpot_s()));
  // The step costs rise with the context, so TPOT lies between the first and last step.
  CHECK(q.tpot_s() > decode_s(e, 1500));
  CHECK(q.tpot_s() < decode_s(e, 1538));
  CHECK(r.kv_transfers == 0);
  CHECK(r.output_tokens == 40);
}

TEMPLATE_TEST_CASE("a request alone under PD: TTFT adds the KV transfer, TPOT is the decode "
                   "instance's steps, exactly",
                   "[serving][cluster]", h800_sxm, ascend_910b) {
  const auto m = model::presets::llama3_8b();
  cluster_t<TestType> c(m, pd(1, 1));
  const serving::report r = c.run(single(3000, 20), 1);
  REQUIRE(r.completed == 1);
  const serving::request_record& q = r.requests[0];
  const double prefill = c.prefill_engine()(engine::step_batch{}.add_prefill(3000)).total_s;
  // Two single-device instances fit in one node: the KV (3,000 tokens × 128 KiB for Llama-3-8B
  // in BF16) moves over the scale-up link, point to point.
  CHECK(c.kv_transfer().scope() == link_scope::intra_node);
  const double bytes = model::kv_bytes_per_sequence(m, 3000, precision::bf16);
  CHECK(bytes == 3000.0 * 131072.0);
  const double transfer = TestType{}.comm_time_s({.kind = collective::point_to_point,
                                                  .bytes = bytes,
                                                  .ranks = 2,
                                                  .scope = link_scope::intra_node});
  CHECK(c.kv_transfer().time_s(3000) == transfer);
  CHECK(q.ttft_s() == prefill + transfer);
  CHECK(q.transfer_s == Approx(transfer).epsilon(1e-12));
  CHECK(q.kv_bytes == bytes);
  CHECK(q.prefill_instance == 0);
  CHECK(q.decode_instance == 1);
  double t = q.first_token_s;
  for (std::int64_t k = 0; k < 19; ++k)
    t += decode_s(*c.decode_engine(), 3000 + k);
  CHECK(q.completion_s == t);
  CHECK(r.kv_transfers == 1);
  CHECK(r.kv_bytes_transferred == bytes);
  // Forcing the scale-out link makes the same transfer slower.
  cluster_config inter = pd(1, 1);
  inter.kv_transfer_scope = link_scope::inter_node;
  cluster_t<TestType> far(m, inter);
  CHECK(far.kv_transfer().time_s(3000) > transfer);
  CHECK(far.run(single(3000, 20), 1).requests[0].ttft_s() > q.ttft_s());
}

TEMPLATE_TEST_CASE("Little's law holds on a steady Poisson workload and nothing is lost",
                   "[serving][cluster]", h800_sxm, ascend_910b) {
  // Seed 21: 1,500 requests at 6 per second, prompts 400–1,600 and outputs 50–150 tokens, on
  // two single-device Llama-3-8B instances (moderately loaded, so requests queue and batch).
  const io::workload w = io::synthetic_workload({.requests = 1500,
                                                 .arrivals = {.rate_per_s = 6.0},
                                                 .input_tokens = 1000,
                                                 .input_spread = 0.6,
                                                 .output_tokens = 100,
                                                 .output_spread = 0.5},
                                                21);
  cluster_t<TestType> c(model::presets::llama3_8b(),
                        {.colocated = {.instances = 2, .layout = one_device}});
  const serving::report r = c.run(w, 21);
  REQUIRE(r.arrived == 1500);
  CHECK(r.completed + r.rejected == r.arrived);
  CHECK(r.rejected == 0);
  CHECK(r.output_tokens == w.output_tokens());
  CHECK(completed_output(r) == w.output_tokens());
  CHECK(r.use.output_tokens == w.output_tokens());
  CHECK(r.use.input_hit_tokens + r.use.input_miss_tokens == w.input_tokens());
  // Sample-path Little's law: ∫N(t)dt over the makespan is Σ E2E, so L = λ·W with
  // λ = completed / makespan, up to rounding.
  const double lambda = static_cast<double>(r.completed) / r.makespan_s;
  const double W = r.latency.e2e_s.mean;
  REQUIRE(std::isfinite(W));
  CHECK(r.mean_in_system == Approx(lambda * W).epsilon(1e-9));
  // And with the offered rate: λ ≈ 6/s (1,500 exponential gaps: 2.6% standard error, plus the
  // drain after the last arrival).
  CHECK(r.mean_in_system == Approx(6.0 * W).epsilon(0.1));
  CHECK(lambda == Approx(6.0).epsilon(0.1));
  // Utilisation and device time add up.
  CHECK(r.mean_utilisation > 0.0);
  CHECK(r.mean_utilisation <= 1.0);
  double busy = 0.0;
  for (const auto& i : r.instances)
    busy += i.stats.busy_s * i.devices;
  CHECK(r.use.busy_device_s() == Approx(busy).epsilon(1e-9));
  CHECK(r.use.busy_device_s() + r.use.idle_device_s ==
        Approx(r.devices * r.makespan_s).epsilon(1e-9));
  CHECK(r.latency.tpot_s.p50 > 0.0);
  CHECK(r.latency.ttft_s.p99 >= r.latency.ttft_s.p50);
}

TEST_CASE("same seed, identical JSON; another seed, another run", "[serving][cluster]") {
  const io::workload w = io::synthetic_workload({.requests = 300,
                                                 .arrivals = {.rate_per_s = 20.0},
                                                 .input_tokens = 800,
                                                 .input_spread = 0.5,
                                                 .output_tokens = 60,
                                                 .output_spread = 0.5},
                                                3);
  const auto target = model::presets::llama3_70b();
  cluster_config cfg{
      .colocated = {.instances = 3,
                    .layout = {.devices = 2, .tp = 2, .weight_prec = precision::fp8}},
      .speculative = {.gamma = 2, .alpha = 0.7, .draft = model::presets::llama3_8b()}};
  struct random_balancer : serving::default_policies {
    using balancer = serving::power_of_two;
  };
  serving::basic_cluster<h800_sxm, random_balancer> c(target, cfg);
  const std::string a = serving::to_json(c.run(w, 99), true);
  const std::string b = serving::to_json(c.run(w, 99), true);
  const std::string other = serving::to_json(c.run(w, 100), true);
  CHECK(a == b);
  CHECK(a != other);
  CHECK(a.find("\"completed\":300") != std::string::npos);
}

TEST_CASE("speculative decoding conserves tokens and shortens TPOT at a light load",
          "[serving][cluster]") {
  const io::workload w = io::synthetic_workload({.requests = 200,
                                                 .arrivals = {.rate_per_s = 2.0},
                                                 .input_tokens = 1000,
                                                 .output_tokens = 200,
                                                 .output_spread = 0.5},
                                                4);
  const auto target = model::presets::llama3_70b();
  const engine::parallel_layout l{.devices = 2, .tp = 2, .weight_prec = precision::fp8};
  serving::basic_cluster<h800_sxm> plain(target, {.colocated = {.instances = 2, .layout = l}});
  serving::basic_cluster<h800_sxm> spec(
      target, {.colocated = {.instances = 2, .layout = l},
               .speculative = {.gamma = 3, .alpha = 0.8, .draft = model::presets::llama3_8b()}});
  const serving::report a = plain.run(w, 5);
  const serving::report b = spec.run(w, 5);
  CHECK(b.completed == 200);
  CHECK(b.output_tokens == w.output_tokens());
  CHECK(completed_output(b) == w.output_tokens());
  // E[N] = (1 − 0.8⁴)/0.2 = 2.95 tokens per step at a verify cost well under 2.95 steps.
  CHECK(b.latency.tpot_s.p50 < 0.6 * a.latency.tpot_s.p50);
  std::int64_t steps_a = 0, steps_b = 0;
  for (const auto& i : a.instances)
    steps_a += i.stats.decode_steps;
  for (const auto& i : b.instances)
    steps_b += i.stats.decode_steps;
  CHECK(steps_b < steps_a);
}

TEST_CASE("every balancer completes the workload, and PD conserves requests and tokens",
          "[serving][cluster]") {
  const io::workload w = io::synthetic_workload({.requests = 400,
                                                 .arrivals = {.rate_per_s = 8.0},
                                                 .input_tokens = 2000,
                                                 .input_spread = 0.9,
                                                 .output_tokens = 80,
                                                 .output_spread = 0.9},
                                                8);
  const auto m = model::presets::llama3_8b();
  for (const char* kind : {"round_robin", "least_loaded", "power_of_two", "cache_aware"}) {
    const cluster_config col{.colocated = {.instances = 3, .layout = one_device}};
    const cluster_config dis = pd(1, 2);
    // The article's rule at a smaller threshold.
    const serving::policy_values<serving::runtime_policies> policies{
        .balancer = serving::parse_balancer(kind),
        .admission = serving::length_threshold{.threshold_tokens = 1500}};
    for (const cluster_config& cfg : {col, dis}) {
      serving::basic_cluster<h800_sxm, serving::runtime_policies> c(m, cfg, {}, {}, policies);
      const serving::report r = c.run(w, 2);
      INFO("balancer " << kind << ", mode " << r.mode);
      CHECK(r.balancer == kind);
      CHECK(r.completed == 400);
      CHECK(r.output_tokens == w.output_tokens());
      CHECK(r.use.input_hit_tokens + r.use.input_miss_tokens == w.input_tokens());
      if (cfg.mode == serving_mode::pd) {
        // Prompts over the threshold went through the prefill pool and were transferred
        // (those wanting a single token finish on the prefill instance).
        std::int64_t long_prompts = 0;
        for (const auto& q : w.requests)
          long_prompts += q.input_tokens > 1500 && q.output_tokens >= 2 ? 1 : 0;
        CHECK(r.kv_transfers == long_prompts);
        for (const auto& q : r.requests) {
          if (q.input_tokens <= 1500)
            REQUIRE(q.prefill_instance >= 1); // prefilled on a decode instance
          else
            REQUIRE(q.prefill_instance == 0);
        }
      }
    }
  }
}

TEST_CASE("requests that cannot fit or find a full queue are rejected with a reason",
          "[serving][cluster]") {
  io::workload w = io::synthetic_workload({.requests = 50,
                                           .arrivals = {.rate_per_s = 1000.0},
                                           .input_tokens = 500,
                                           .output_tokens = 500},
                                          6);
  // Request 7 needs more KV than a Llama-3-8B H800 holds (about 470K tokens).
  w.requests[7].input_tokens = 600000;
  serving::basic_cluster<h800_sxm> c(
      model::presets::llama3_8b(),
      {.colocated = {.instances = 1, .layout = one_device, .scheduler = {.max_queue = 10}}});
  const serving::report r = c.run(w, 1);
  CHECK(r.requests[7].status == serving::request_status::rejected);
  CHECK(r.requests[7].reason == serving::rejection_reason::exceeds_kv_capacity);
  CHECK(r.rejected_by[static_cast<int>(serving::rejection_reason::exceeds_kv_capacity)] == 1);
  CHECK(r.rejected_by[static_cast<int>(serving::rejection_reason::queue_full)] > 0);
  CHECK(r.completed + r.rejected == 50);
  CHECK(r.output_tokens == completed_output(r));
  CHECK(serving::to_json(r).find("\"queue_full\":") != std::string::npos);
}

TEST_CASE("bad cluster input gets clear errors", "[serving][cluster]") {
  const auto m = model::presets::llama3_8b();
  CHECK_THROWS_WITH(serving::basic_cluster<h800_sxm>(m, {.colocated = {.instances = 0}}),
                    "serving::cluster: colocated.instances (0) must be > 0");
  CHECK_THROWS_WITH(serving::basic_cluster<h800_sxm>(m, pd(1, 0)),
                    "serving::cluster: decode.instances (0) must be > 0");
  CHECK_THROWS_WITH(serving::basic_cluster<h800_sxm>(m, {.objective = {.ttft_s = 0.0}}),
                    "serving::slo: ttft_s (0) must be > 0");
  CHECK_THROWS_WITH(serving::basic_cluster<h800_sxm>(m, {.objective = {.tpot_s = -1.0}}),
                    "serving::slo: tpot_s (-1) must be > 0");
  CHECK_THROWS_WITH(serving::parse_serving_mode("mixed"),
                    "serving::cluster: mode ('mixed') must be colocated or pd");
  // Llama-3-70B in BF16 (141 GB) on one 80 GiB H800: the model does not fit; say by how much.
  try {
    serving::basic_cluster<h800_sxm> c(model::presets::llama3_70b(), {});
    FAIL("no error for a model that does not fit");
  } catch (const config_error& e) {
    const std::string what = e.what();
    CHECK(what.find("llama3_70b needs 141.1 GB of weights per h800_sxm but only 77.3 GB") !=
          std::string::npos);
  }
  serving::basic_cluster<h800_sxm> c(m, {});
  io::workload empty;
  empty.name = "none";
  CHECK_THROWS_WITH(c.run(empty, 1), "io::workload: requests (0) of 'none' must not be empty");
  io::workload unsorted = io::synthetic_workload({.requests = 3}, 1);
  std::swap(unsorted.requests[0].arrival_s, unsorted.requests[2].arrival_s);
  CHECK_THROWS_AS(c.run(unsorted, 1), config_error);
  io::workload negative = io::synthetic_workload({.requests = 3}, 1);
  negative.requests[1].output_tokens = -4;
  CHECK_THROWS_WITH(c.run(negative, 1),
                    "io::workload: output_tokens (-4) of request 1 must be >= 0");
}

TEST_CASE("a prefix cache turns shared prefixes into hits that shorten prefill",
          "[serving][cluster]") {
  // Seed 12: 600 requests of ~6K tokens whose first 4K tokens come from 8 Zipf-popular groups.
  const io::workload w = io::synthetic_workload({.requests = 600,
                                                 .arrivals = {.rate_per_s = 4.0},
                                                 .input_tokens = 6000,
                                                 .input_spread = 0.3,
                                                 .output_tokens = 50,
                                                 .prefix_groups = 8,
                                                 .prefix_tokens = 4096,
                                                 .prefix_zipf = 1.0},
                                                12);
  const auto m = model::presets::llama3_8b();
  auto run = [&](bool cache, const char* b) {
    serving::basic_cluster<h800_sxm, serving::runtime_policies> c(
        m,
        {.colocated = {.instances = 4, .layout = one_device},
         .cache = {.enabled = cache, .hbm_fraction = 0.2}},
        {}, {}, {.balancer = serving::parse_balancer(b)});
    return c.run(w, 1);
  };
  const serving::report none = run(false, "round_robin");
  const serving::report rr = run(true, "round_robin");
  const serving::report aware = run(true, "cache_aware");
  CHECK(none.use.input_hit_tokens == 0);
  CHECK_FALSE(none.cache.enabled);
  for (const serving::report* r : {&rr, &aware}) {
    CHECK(r->completed == 600);
    CHECK(r->cache.enabled);
    CHECK(r->cache.lookups == 600);
    CHECK(r->cache.looked_up_blocks == r->cache.hit_blocks[0] + r->cache.hit_blocks[1] +
                                           r->cache.hit_blocks[2] + r->cache.miss_blocks);
    CHECK(r->use.input_hit_tokens + r->use.input_miss_tokens == w.input_tokens());
    // At most the 8 shared blocks of 12 per request can hit: < 8/12 of blocks.
    CHECK(r->cache.block_hit_rate() > 0.3);
    CHECK(r->cache.block_hit_rate() < 8.0 / 12.0);
    CHECK(r->latency.ttft_s.mean < none.latency.ttft_s.mean);
    std::int64_t cached = 0;
    for (const auto& q : r->requests)
      cached += q.cached_tokens;
    CHECK(cached == r->use.input_hit_tokens);
  }
  // Cache-aware routing sends a group to the instance that holds it: its first request per
  // instance misses less often than round robin's.
  CHECK(aware.cache.block_hit_rate() >= rr.cache.block_hit_rate());
}

TEST_CASE("on the Mooncake conversation sample the cluster's prefix hits match a replay",
          "[serving][cluster]") {
  // The first 1,500 requests of the shipped sample on one 8-GPU Llama-3-70B instance with an
  // unbounded DRAM tier: every block ever computed stays cached, so the hit rate is the trace's
  // prefix reuse.
  const io::workload w = io::take(
      io::read_mooncake_workload(test::sample_file("mooncake_conversation_2000.jsonl")), 1500);
  const auto m = model::presets::llama3_70b();
  serving::basic_cluster<h800_sxm> c(
      m,
      {.colocated = {.instances = 1,
                     .layout = {.devices = 8, .tp = 8, .weight_prec = precision::fp8}},
       .cache = {
           .enabled = true, .hbm_fraction = 0.2, .host = {.dram_bytes = 1e18, .ssd_drives = 0}}});
  const serving::report r = c.run(w, 1);
  CHECK(r.completed == 1500);
  kvcache::basic_tiered_cache<h800_sxm> unbounded(
      {.hbm_bytes = kvcache::unlimited_bytes, .block_bytes = 1.0});
  const kvcache::replay_report ref = kvcache::replay(unbounded, w.requests, {.model = m});
  // The simulation inserts a prompt's blocks when its prefill ends, so requests whose prefills
  // overlap can miss what a sequential replay hits: at most a little below it.
  INFO("simulated " << r.cache.block_hit_rate() << ", replay " << ref.block_hit_rate());
  CHECK(r.cache.block_hit_rate() <= ref.block_hit_rate() + 1e-12);
  CHECK(r.cache.block_hit_rate() > ref.block_hit_rate() - 0.05);
  CHECK(r.use.input_hit_tokens > 0);
}

TEST_CASE("PD against colocated on the Azure conversation trace at equal device count",
          "[serving][cluster][data]") {
  const auto path = test::data_file("azure2023/AzureLLMInferenceTrace_conv.csv");
  if (!path)
    return;
  // 16 H800s serving Llama-3-70B (FP8, TP4): four colocated instances against three prefill
  // plus one decode instance, on the first 4,000 requests replayed at 4x their rate.
  const io::workload w = io::scale_time(io::take(io::read_azure_workload(*path), 4000), 4.0);
  const auto m = model::presets::llama3_70b();
  const engine::parallel_layout l{.devices = 4, .tp = 4, .weight_prec = precision::fp8};
  serving::basic_cluster<h800_sxm> col(m, {.colocated = {.instances = 4, .layout = l}});
  serving::basic_cluster<h800_sxm> dis(m, pd(3, 1, l));
  REQUIRE(col.devices() == dis.devices());
  const serving::report a = col.run(w, 1);
  const serving::report b = dis.run(w, 1);
  CHECK(a.completed == 4000);
  CHECK(b.completed == 4000);
  // Decode steps that never carry prefill chunks: PD's TPOT is lower and tighter.
  CHECK(b.latency.tpot_s.p90 < a.latency.tpot_s.p90);
  CHECK(b.latency.tpot_s.p99 - b.latency.tpot_s.p50 < a.latency.tpot_s.p99 - a.latency.tpot_s.p50);
  // Under a tight TPOT objective PD attains more.
  const serving::slo tight{.ttft_s = 1.0, .tpot_s = 0.025};
  CHECK(serving::goodput(b.requests, tight, b.makespan_s).attainment >
        serving::goodput(a.requests, tight, a.makespan_s).attainment);
  CHECK(b.kv_transfers > 0);
  CHECK(b.kv_bytes_transferred > 0.0);
}
