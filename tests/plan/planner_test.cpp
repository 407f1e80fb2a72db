// plan::search against references: the Pareto filter against a brute-force dominance check, the
// load summary and the screen's batch against hand-derived values, the operating-point price
// against the deployment's device-hours, and the search's choice against an exhaustive
// simulation of a small space on each device family.
#include <infercost/core/random.hpp>
#include <infercost/device/any_device.hpp>
#include <infercost/io/workload.hpp>
#include <infercost/model/presets.hpp>
#include <infercost/plan/planner.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace ic = infercost;
namespace plan = infercost::plan;

namespace {

/// A small space: one device, instances of 1 or 2 devices, colocated and PD, no cache, no MTP.
plan::search_space small_space(const char* device, double usd) {
  plan::search_space s;
  s.devices.push_back({.device = ic::make_device(device),
                       .usd_per_device_hour = usd,
                       .rate_source = "test",
                       .weights = ic::precision::bf16});
  s.instance_devices = {1, 2};
  s.max_batched_tokens = {2048};
  s.prefill_max_batched_tokens = 8192;
  s.mtp_tokens = {0};
  s.prefix_cache = {false};
  s.threads = 1;
  return s;
}

ic::io::workload poisson_workload(double rate, std::size_t n, std::int64_t isl, std::int64_t osl) {
  return ic::io::synthetic_workload(
      {.requests = n,
       .arrivals = {.process = ic::io::arrival_process::poisson, .rate_per_s = rate},
       .input_tokens = isl,
       .input_spread = 0.5,
       .output_tokens = osl,
       .output_spread = 0.5},
      7);
}

} // namespace

TEST_CASE("pareto keeps exactly the points no other point dominates", "[plan]") {
  ic::rng g(11);
  std::vector<plan::frontier_point> pts;
  for (int i = 0; i < 300; ++i)
    pts.push_back({.shape = std::to_string(i),
                   .user_tokens_per_s = std::floor(g.uniform(0.0, 50.0)),
                   .tokens_per_s_per_device = std::floor(g.uniform(0.0, 50.0)),
                   .usd_per_million_output = g.uniform(0.1, 9.0)});
  const std::vector<plan::frontier_point> f = plan::throughput_frontier(pts);
  // Reference: a point is kept iff no other point is >= on both axes and > on one (the first of
  // exact duplicates is kept).
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < pts.size() && !dominated; ++j) {
      const auto& a = pts[i];
      const auto& b = pts[j];
      const bool ge = b.user_tokens_per_s >= a.user_tokens_per_s &&
                      b.tokens_per_s_per_device >= a.tokens_per_s_per_device;
      const bool gt = b.user_tokens_per_s > a.user_tokens_per_s ||
                      b.tokens_per_s_per_device > a.tokens_per_s_per_device;
      dominated = (ge && gt) || (j < i && !gt && ge);
    }
    if (!dominated)
      expected.push_back(pts[i].shape);
  }
  std::vector<std::string> got;
  for (const auto& p : f)
    got.push_back(p.shape);
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  CHECK(got == expected);
  for (std::size_t k = 1; k < f.size(); ++k) {
    CHECK(f[k].user_tokens_per_s > f[k - 1].user_tokens_per_s);
    CHECK(f[k].tokens_per_s_per_device < f[k - 1].tokens_per_s_per_device);
  }
  // The cost frontier: cheaper is better.
  const auto c = plan::cost_frontier(pts);
  for (std::size_t k = 1; k < c.size(); ++k)
    CHECK(c[k].usd_per_million_output > c[k - 1].usd_per_million_output);
}

TEST_CASE("load summary: rate, lengths and the hits of an unbounded prefix cache", "[plan]") {
  ic::io::workload w{.name = "hand", .requests = {}, .block_tokens = 4};
  // Request 0: blocks a b (8 tokens) — all misses. Request 1: a b c (10 tokens) — a, b hit.
  // Request 2: a x (6 tokens) — a hits, x misses. Request 3: b (4 tokens): b is not a prefix
  // hit without a before it in this chain? Chained ids: b alone is a new chain start, seen before
  // → hits, capped at input − 1 tokens.
  w.requests.push_back(
      {.id = 0, .arrival_s = 0.0, .input_tokens = 8, .output_tokens = 2, .block_hashes = {1, 2}});
  w.requests.push_back({.id = 1,
                        .arrival_s = 1.0,
                        .input_tokens = 10,
                        .output_tokens = 4,
                        .block_hashes = {1, 2, 3}});
  w.requests.push_back(
      {.id = 2, .arrival_s = 2.0, .input_tokens = 6, .output_tokens = 6, .block_hashes = {1, 9}});
  w.requests.push_back(
      {.id = 3, .arrival_s = 3.0, .input_tokens = 4, .output_tokens = 0, .block_hashes = {2}});
  const plan::load_summary l = plan::load_summary::of(w);
  CHECK(l.requests_per_s == Approx(1.0)); // 3 gaps over 3 s
  CHECK(l.mean_input == Approx(7.0));
  CHECK(l.mean_output == Approx(3.0));
  CHECK(l.median_input == Approx(8.0)); // sorted 4 6 8 10: element floor(0.5 · 4) = 2
  CHECK(l.p90_input == Approx(10.0));   // element floor(0.9 · 4) = 3
  CHECK(l.input_at(0.9) == l.p90_input);
  CHECK(l.input_at(0.5) == l.median_input);
  // Hits: 0 + 8 + 4 + min(4, 4 − 1) = 15 of 28 tokens.
  CHECK(l.ideal_hit_rate == Approx(15.0 / 28.0));

  ic::io::workload same_time = w;
  for (auto& r : same_time.requests)
    r.arrival_s = 0.0;
  CHECK_THROWS_WITH(plan::load_summary::of(same_time), Catch::Contains("spans no time"));
}

TEST_CASE("the screen's decode batch is the largest whose step meets the TPOT objective",
          "[plan]") {
  for (const char* device : {"h100_sxm", "ascend_910b"}) {
    const ic::model::model_config m = ic::model::presets::llama3_8b();
    const ic::io::workload w = poisson_workload(4.0, 200, 1024, 128);
    const plan::objectives goals{.ttft_s = 2.0, .tpot_s = 0.02};
    const plan::planner p(m, small_space(device, 2.0), goals, w);
    const plan::pool_shape shape{.device = 0, .devices = 1, .style = plan::parallel_style::tp};
    const plan::pool_capacity c = p.capacity(shape, 0, false);
    INFO(device);
    REQUIRE(c.feasible);
    // Reference: the engine's decode step at the mean context, batch by batch.
    const ic::engine::basic_step_cost<ic::any_device, ic::attention::full> e(
        m, ic::plan::detail::layout_of(m, p.space(), shape, 0), {}, p.space().devices[0].device);
    const auto ctx = static_cast<std::int64_t>(p.load().mean_input + p.load().mean_output / 2.0);
    const auto step = [&](int b) {
      ic::engine::step_batch s;
      for (int k = 0; k < b; ++k)
        s.add_decode(ctx);
      return e(s).total_s;
    };
    CHECK(step(c.batch_per_group) <= goals.tpot_s);
    const int kv_limit = static_cast<int>(
        std::min<double>(c.kv_sequences_per_group, p.space().max_sequences_per_group));
    if (c.batch_per_group < kv_limit)
      CHECK(step(c.batch_per_group + 1) > goals.tpot_s);
    CHECK(c.decode_tokens_per_s == Approx(c.batch_per_group / step(c.batch_per_group)));
  }
}

TEST_CASE("node_dp_ep runs attention TP inside each node and DP across nodes", "[plan]") {
  const ic::model::model_config m = ic::model::presets::deepseek_v3();
  for (const char* device : {"h800_sxm", "ascend_910b"}) {
    INFO(device);
    const plan::search_space s = small_space(device, 2.0);
    const int node = s.devices[0].device.devices_per_node();
    const ic::engine::parallel_layout l = ic::plan::detail::layout_of(
        m, s, {.device = 0, .devices = 4 * node, .style = plan::parallel_style::node_dp_ep}, 0);
    CHECK(l.tp == node);
    CHECK(l.dp_attention);
    CHECK(l.attention_groups() == 4);
    CHECK(l.ep == 4 * node);
    CHECK(l.devices == 4 * node);
  }
  // The search offers the style only for instances spanning nodes (inside one it is tp_ep).
  plan::search_space s = small_space("h800_sxm", 2.0);
  s.instance_devices = {8, 32}; // BF16 DeepSeek-V3 needs 32 H800 (42 GB each)
  s.styles = {plan::parallel_style::node_dp_ep};
  const ic::io::workload w = poisson_workload(1.0, 50, 1024, 64);
  const plan::planner p(m, s, {.ttft_s = 5.0, .tpot_s = 0.2}, w);
  const plan::result r = p.search();
  for (const plan::evaluation& c : r.confirmed)
    CHECK(c.d.entry.devices == 32);
  REQUIRE(r.best);
  CHECK(r.best->d.entry.style == plan::parallel_style::node_dp_ep);
}

TEST_CASE("the search finds what an exhaustive simulation of a small space finds", "[plan]") {
  // Each device family: a CUDA GPU and an Ascend NPU.
  for (const char* device : {"h100_sxm", "ascend_910b"}) {
    INFO(device);
    const ic::model::model_config m = ic::model::presets::llama3_8b();
    const ic::io::workload w = poisson_workload(12.0, 300, 2048, 256);
    const plan::objectives goals{.ttft_s = 1.0, .tpot_s = 0.03};
    const plan::planner p(m, small_space(device, 2.0), goals, w);
    const plan::result r = p.search();
    const plan::result ex = p.exhaustive(6);
    REQUIRE(ex.best);
    REQUIRE(r.best);
    CHECK(r.best->meets);
    CHECK(r.best->usd_per_hour <= 1.02 * ex.best->usd_per_hour);
    // The search simulates far fewer deployments than the exhaustive sweep.
    CHECK(r.simulations < ex.simulations);
    // What it reports is what a plain simulation of its deployment measures.
    const plan::evaluation again = p.evaluate(r.best->d);
    CHECK(again.ttft_s == r.best->ttft_s);
    CHECK(again.tpot_s == r.best->tpot_s);
    CHECK(again.usd_per_hour == r.best->usd_per_hour);
  }
}

TEST_CASE("closed-loop clients: the screen's least rate, and confirmations that run them",
          "[plan]") {
  const ic::model::model_config m = ic::model::presets::llama3_8b();
  const ic::io::workload w = poisson_workload(12.0, 300, 2048, 256);
  const plan::objectives goals{.ttft_s = 1.0, .tpot_s = 0.03};
  // Hand-derived: N clients whose requests each take at most TTFT + (mean output − 1) × TPOT
  // send at least N / that many requests per second; a send cap below it bounds it instead.
  const plan::load_summary open = plan::load_summary::of(w);
  const plan::load_summary l = plan::load_summary::of(w, {.clients = 24}, goals);
  CHECK(l.mean_input == open.mean_input);
  CHECK(l.mean_output == open.mean_output);
  CHECK(l.requests_per_s == Approx(24.0 / (1.0 + (l.mean_output - 1.0) * 0.03)).epsilon(1e-12));
  CHECK(plan::load_summary::of(w, {.clients = 24, .request_rate = 0.5}, goals).requests_per_s ==
        0.5);
  // A lengths workload whose arrivals span no time plans with clients, and refuses without.
  ic::io::workload lengths = w;
  for (ic::io::workload_request& q : lengths.requests)
    q.arrival_s = 0.0;
  CHECK_THROWS_WITH(plan::load_summary::of(lengths), Catch::Contains("spans no time"));
  for (const char* device : {"h100_sxm", "ascend_910b"}) {
    INFO(device);
    const ic::serving::closed_loop few{.clients = 4, .warmup = 4, .cooldown = 4};
    const ic::serving::closed_loop many{.clients = 48, .warmup = 48, .cooldown = 48};
    const plan::planner a(m, small_space(device, 2.0), goals, lengths, few);
    const plan::planner b(m, small_space(device, 2.0), goals, lengths, many);
    const plan::result ra = a.search();
    const plan::result rb = b.search();
    REQUIRE(ra.best);
    REQUIRE(rb.best);
    CHECK(ra.best->meets);
    CHECK(rb.best->meets);
    // Twelve times the users cost at least as much.
    CHECK(rb.best->usd_per_hour >= ra.best->usd_per_hour);
    // Confirmations run the clients: at most N in flight, the first and last N left out.
    const ic::serving::report r = b.simulate(rb.best->d);
    REQUIRE(r.closed_loop);
    CHECK(r.closed_loop->clients == 48);
    CHECK(r.closed_loop->max_in_flight <= 48);
    CHECK(r.arrived == 300 - 2 * 48);
    // The exhaustive sweep agrees (within the search's 2%).
    const plan::result ex = b.exhaustive(6);
    REQUIRE(ex.best);
    CHECK(rb.best->usd_per_hour <= 1.02 * ex.best->usd_per_hour);
  }
}

TEST_CASE("the plan does not depend on the number of threads", "[plan]") {
  const ic::model::model_config m = ic::model::presets::llama3_8b();
  const ic::io::workload w = poisson_workload(12.0, 300, 2048, 256);
  plan::search_space one = small_space("h100_sxm", 2.0);
  plan::search_space two = one;
  two.threads = 2;
  const plan::objectives goals{.ttft_s = 1.0, .tpot_s = 0.03};
  const plan::result a = plan::planner(m, one, goals, w).search();
  const plan::result b = plan::planner(m, two, goals, w).search();
  REQUIRE(a.best);
  REQUIRE(b.best);
  CHECK(plan::describe(one, a.best->d) == plan::describe(two, b.best->d));
  CHECK(a.best->ttft_s == b.best->ttft_s);
  CHECK(a.simulations == b.simulations);
  REQUIRE(a.confirmed.size() == b.confirmed.size());
  for (std::size_t k = 0; k < a.confirmed.size(); ++k)
    CHECK(a.confirmed[k].tpot_s == b.confirmed[k].tpot_s);
}

TEST_CASE("operating-point prices charge every device-hour of the deployment", "[plan]") {
  const ic::model::model_config m = ic::model::presets::llama3_8b();
  const ic::io::workload w = poisson_workload(12.0, 300, 2048, 256);
  plan::search_space s = small_space("h100_sxm", 3.0);
  s.devices.push_back({.device = ic::make_device("h200_sxm"),
                       .usd_per_device_hour = 5.0,
                       .rate_source = "test",
                       .weights = ic::precision::bf16});
  const plan::planner p(m, s, {.ttft_s = 1.0, .tpot_s = 0.03}, w);
  // A heterogeneous PD deployment: 2 prefill instances of 1 H100, 1 decode instance of 2 H200.
  const plan::deployment d{.mode = ic::serving::serving_mode::pd,
                           .entry = {.device = 0, .devices = 1, .max_batched_tokens = 8192},
                           .entry_instances = 2,
                           .decode = {.device = 1, .devices = 2, .max_batched_tokens = 2048},
                           .decode_instances = 1};
  const plan::evaluation e = p.evaluate(d);
  CHECK(e.usd_per_hour == Approx(2 * 1 * 3.0 + 1 * 2 * 5.0));
  // Total cost = Σ pools devices × rate × makespan of the device time (usage::makespan_s).
  const double expected = e.usd_per_hour * e.use.makespan_s / 3600.0;
  CHECK(e.sheet.total_cost_usd() == Approx(expected).epsilon(1e-9));
  CHECK(e.sheet.unattributed_cost_usd == 0.0);
  CHECK(e.sheet.output.tokens == Approx(static_cast<double>(e.use.output_tokens)));
}

TEST_CASE("bad plan inputs name the field", "[plan]") {
  const ic::model::model_config m = ic::model::presets::llama3_8b();
  const ic::io::workload w = poisson_workload(12.0, 50, 512, 64);
  CHECK_THROWS_WITH(plan::planner(m, small_space("h100_sxm", 2.0), {.quantile = 0.8}, w),
                    Catch::Contains("quantile") && Catch::Contains("0.8"));
  CHECK_THROWS_WITH(plan::planner(m, small_space("h100_sxm", 0.0), {}, w),
                    Catch::Contains("usd_per_device_hour"));
  plan::search_space none = small_space("h100_sxm", 2.0);
  none.devices.clear();
  CHECK_THROWS_WITH(plan::planner(m, none, {}, w), Catch::Contains("devices"));
  plan::search_space neither = small_space("h100_sxm", 2.0);
  neither.colocated = neither.pd = false;
  CHECK_THROWS_WITH(plan::planner(m, neither, {}, w), Catch::Contains("colocated"));
  CHECK_THROWS_WITH(plan::planner(m, small_space("h100_sxm", 2.0), {.tpot_s = -1.0}, w),
                    Catch::Contains("tpot_s"));
}

TEST_CASE("a space where nothing fits reports why", "[plan]") {
  // Llama-3-405B in BF16 on one 80 GB device cannot hold its weights.
  const ic::model::model_config m = ic::model::presets::llama3_405b();
  const ic::io::workload w = poisson_workload(1.0, 20, 512, 16);
  const plan::result r = plan::planner(m, small_space("h100_sxm", 2.0), {}, w).search();
  CHECK_FALSE(r.best);
  CHECK(r.infeasible_shapes == r.shapes);
  REQUIRE_FALSE(r.infeasible_reasons.empty());
  CHECK_THAT(r.infeasible_reasons.front(), Catch::Contains("weights"));
}
