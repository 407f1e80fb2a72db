// Closed-loop clients: N clients, each sending its next request when its previous one ends.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "infercost/device/catalog.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/serving/cluster.hpp"
#include "infercost/serving/report_json.hpp"

using namespace infercost;

namespace {

/// `n` requests of fixed lengths, all at time 0 (a closed loop ignores the times).
io::workload fixed(std::int64_t n, std::int64_t input, std::int64_t output, double gap_s = 0.0) {
  io::workload w;
  w.name = "fixed";
  for (std::int64_t i = 0; i < n; ++i)
    w.requests.push_back({.id = i,
                          .arrival_s = gap_s * static_cast<double>(i),
                          .input_tokens = input,
                          .output_tokens = output,
                          .block_hashes = {}});
  return w;
}

/// Requests of varied lengths (uniform ±50%).
io::workload varied(std::size_t n, std::uint64_t seed) {
  return io::synthetic_workload({.requests = n,
                                 .input_tokens = 1500,
                                 .input_spread = 0.5,
                                 .output_tokens = 60,
                                 .output_spread = 0.5},
                                seed);
}

/// The most requests in flight at once in `records`, from their [arrival, end) intervals; a
/// request that ends at t and one issued at t do not overlap (a rejected one ends where it
/// arrives).
std::int64_t peak_in_flight(const std::vector<serving::request_record>& records) {
  std::vector<std::pair<double, int>> edges; // (time, +1 issue / −1 end); ends sort first
  for (const serving::request_record& q : records) {
    const double end = q.completed() ? q.completion_s : q.arrival_s;
    edges.emplace_back(q.arrival_s, +1);
    edges.emplace_back(end, -1);
  }
  std::sort(edges.begin(), edges.end());
  std::int64_t level = 0, peak = 0;
  for (const auto& [t, d] : edges) {
    level += d;
    peak = std::max(peak, level);
  }
  return peak;
}

const engine::parallel_layout one_gpu{.devices = 1, .tp = 1};

} // namespace

TEST_CASE("one closed-loop client sends each request when the previous one ends",
          "[serving][closed_loop]") {
  // Llama-3.1-8B on one H800: 1 client, 4 requests of 1,000 prompt and 5 output tokens.
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> c(m, {.colocated = {.layout = one_gpu}});
  const serving::report r = c.run(fixed(4, 1000, 5), {.clients = 1}, 7);
  REQUIRE(r.completed == 4);
  REQUIRE(r.closed_loop);
  // Each request runs alone: one prefill step of the 1,000-token prompt (its first token), then
  // four decode steps at contexts 1000, 1001, 1002, 1003 (one token each).
  const double prefill = c.prefill_engine()(engine::step_batch{}.add_prefill(1000)).total_s;
  double decode = 0.0;
  for (std::int64_t k = 0; k < 4; ++k)
    decode += c.prefill_engine()(engine::step_batch{}.add_decode(1000 + k)).total_s;
  const double e2e = prefill + decode;
  for (std::size_t i = 0; i < 4; ++i) {
    const serving::request_record& q = r.requests[i];
    // Request i is issued when request i − 1 completes: at i × E2E.
    CHECK(q.arrival_s == Approx(static_cast<double>(i) * e2e).epsilon(1e-12));
    CHECK(q.queue_s() == Approx(0.0).margin(1e-12));
    CHECK(q.ttft_s() == Approx(prefill).epsilon(1e-12));
    CHECK(q.tpot_s() == Approx(decode / 4.0).epsilon(1e-12));
    CHECK(q.e2e_s() == Approx(e2e).epsilon(1e-12));
  }
  CHECK(r.start_s == 0.0);
  CHECK(r.makespan_s == Approx(4.0 * e2e).epsilon(1e-12));
  CHECK(r.throughput_rps == Approx(1.0 / e2e).epsilon(1e-12));
  // One request in the system the whole time; the GPU never idles.
  CHECK(r.mean_in_system == Approx(1.0).epsilon(1e-12));
  CHECK(r.use.idle_device_s == Approx(0.0).margin(1e-9));
  CHECK(r.use.prefill_device_s == Approx(4.0 * prefill).epsilon(1e-12));
  CHECK(r.use.decode_device_s == Approx(4.0 * decode).epsilon(1e-12));
  CHECK(r.closed_loop->max_in_flight == 1);
  CHECK(r.closed_loop->run_s == Approx(4.0 * e2e).epsilon(1e-12));
}

TEST_CASE("a think time delays each client's next request", "[serving][closed_loop]") {
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> c(m, {.colocated = {.layout = one_gpu}});
  const serving::report busy = c.run(fixed(3, 800, 4), {.clients = 1}, 1);
  const serving::report idle = c.run(fixed(3, 800, 4), {.clients = 1, .think_time_s = 0.5}, 1);
  REQUIRE(idle.completed == 3);
  const double e2e = busy.requests[0].e2e_s();
  // Three requests of E2E each with two 0.5 s pauses between them; latencies are unchanged.
  CHECK(idle.makespan_s == Approx(3.0 * e2e + 2.0 * 0.5).epsilon(1e-12));
  CHECK(idle.requests[2].arrival_s == Approx(2.0 * e2e + 1.0).epsilon(1e-12));
  CHECK(idle.latency.e2e_s.max == Approx(e2e).epsilon(1e-12));
  // The GPU idles during the pauses: 1 device × 1 s.
  CHECK(idle.use.idle_device_s == Approx(1.0).epsilon(1e-9));
  CHECK(idle.mean_in_system == Approx(3.0 * e2e / (3.0 * e2e + 1.0)).epsilon(1e-12));
}

TEST_CASE("an engine's front end adds its time to every request's latency",
          "[serving][closed_loop]") {
  // The same four requests with a 50 ms front end (engine_profile::request_s): each reaches the
  // scheduler 50 ms after it is sent, so TTFT and E2E grow by 50 ms and the client's cycle too;
  // the device time does not change.
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> plain(m, {.colocated = {.layout = one_gpu}});
  engine::parallel_layout slow = one_gpu;
  slow.overheads.request_s = 0.05;
  serving::basic_cluster<h800_sxm> fronted(m, {.colocated = {.layout = slow}});
  const serving::report a = plain.run(fixed(4, 1000, 5), {.clients = 1}, 7);
  const serving::report b = fronted.run(fixed(4, 1000, 5), {.clients = 1}, 7);
  REQUIRE(b.completed == 4);
  CHECK(b.latency.ttft_s.mean == Approx(a.latency.ttft_s.mean + 0.05).epsilon(1e-12));
  CHECK(b.latency.e2e_s.mean == Approx(a.latency.e2e_s.mean + 0.05).epsilon(1e-12));
  CHECK(b.latency.tpot_s.mean == Approx(a.latency.tpot_s.mean).epsilon(1e-12));
  CHECK(b.requests[3].arrival_s == Approx(3.0 * b.requests[0].e2e_s()).epsilon(1e-12));
  CHECK(b.use.prefill_device_s == Approx(a.use.prefill_device_s).epsilon(1e-12));
  CHECK(b.use.decode_device_s == Approx(a.use.decode_device_s).epsilon(1e-12));
}

TEST_CASE("a ramp spreads the clients' first requests evenly", "[serving][closed_loop]") {
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> c(m, {.colocated = {.instances = 4, .layout = one_gpu}});
  // Four clients over a 2 s ramp send their first requests at 0, 0.5, 1 and 1.5 s, and their
  // second ones 10 s (the think time) after their first ends; with one instance each and far
  // shorter requests, none meets another and every latency is the same.
  const serving::report r =
      c.run(fixed(8, 800, 4), {.clients = 4, .think_time_s = 10.0, .ramp_up_s = 2.0}, 1);
  REQUIRE(r.completed == 8);
  const double e2e = r.requests[0].e2e_s();
  CHECK(e2e < 0.5);
  for (int k = 0; k < 4; ++k) {
    const auto i = static_cast<std::size_t>(k);
    CHECK(r.requests[i].arrival_s == Approx(0.5 * k).margin(1e-12));
    CHECK(r.requests[i + 4].arrival_s == Approx(0.5 * k + e2e + 10.0).epsilon(1e-12));
  }
  CHECK(r.latency.e2e_s.max == Approx(e2e).epsilon(1e-12));
  CHECK(r.closed_loop->ramp_up_s == 2.0);
  CHECK_THROWS_WITH(c.run(fixed(8, 800, 4), {.clients = 4, .ramp_up_s = -1.0}, 1),
                    "serving::closed_loop: ramp_up_s (-1) must be >= 0");
}

TEST_CASE("a request rate holds each send until its creation time, as vllm bench serve does",
          "[serving][closed_loop]") {
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> c(m, {.colocated = {.instances = 8, .layout = one_gpu}});
  const io::workload w = fixed(1, 300, 2);
  // As many clients as requests: nothing waits for a client, so every request is sent when it is
  // created. 400 creations at 20 per second: increasing, the last at exactly 400 / 20 = 20 s
  // (the benchmark rescales the gaps so), gaps of mean 1/20 s and, being exponential, a standard
  // deviation near their mean.
  const std::int64_t n = 400;
  const serving::closed_loop open{.clients = 400, .requests = n, .request_rate = 20.0};
  const serving::report r = c.run(w, open, 5);
  REQUIRE(r.completed == n);
  std::vector<double> gaps;
  double previous = 0.0;
  for (const serving::request_record& q : r.requests) {
    CHECK(q.arrival_s > previous);
    gaps.push_back(q.arrival_s - previous);
    previous = q.arrival_s;
  }
  CHECK(r.requests.back().arrival_s == Approx(20.0).epsilon(1e-12));
  double mean = 0.0, square = 0.0;
  for (const double x : gaps) {
    mean += x / static_cast<double>(n);
    square += x * x / static_cast<double>(n);
  }
  CHECK(mean == Approx(0.05).epsilon(1e-12));
  CHECK(std::sqrt(square - mean * mean) == Approx(0.05).epsilon(0.15));
  CHECK(r.closed_loop->request_rate == 20.0);
  // The same sends without the seed's change; another seed, other sends.
  CHECK(c.run(w, open, 5).requests[7].arrival_s == r.requests[7].arrival_s);
  CHECK(c.run(w, open, 6).requests[7].arrival_s != r.requests[7].arrival_s);
  // A large burstiness (gamma shape) makes the gaps regular: all within 10% of 1/20 s.
  serving::closed_loop even = open;
  even.burstiness = 1e4;
  const serving::report e = c.run(w, even, 5);
  previous = 0.0;
  for (const serving::request_record& q : e.requests) {
    CHECK(q.arrival_s - previous == Approx(0.05).epsilon(0.1));
    previous = q.arrival_s;
  }
  // One client: request k is sent at the later of its creation and the end of request k − 1.
  const serving::closed_loop one{.clients = 1, .requests = 40, .request_rate = 20.0};
  const serving::report s = c.run(w, one, 5);
  const std::vector<double> created =
      serving::detail::client_arrivals::creation_times(40, one, rng(5).fork(4)); // as the cluster
  REQUIRE(s.completed == 40);
  int waited = 0;
  for (std::size_t k = 0; k < 40; ++k) {
    const double ready = k == 0 ? 0.0 : s.requests[k - 1].completion_s;
    CHECK(s.requests[k].arrival_s == Approx(std::max(created[k], ready)).epsilon(1e-12));
    waited += created[k] < ready;
  }
  // Requests far shorter than the gaps: most are sent when created, and at least one waits.
  CHECK(s.requests[0].e2e_s() < 0.05);
  CHECK(waited < 20);
  CHECK_THROWS_WITH(c.run(w, {.request_rate = -1.0}, 1),
                    "serving::closed_loop: request_rate (-1) must be >= 0");
  CHECK_THROWS_WITH(c.run(w, {.burstiness = 0.0}, 1),
                    "serving::closed_loop: burstiness (0) must be > 0");
}

TEST_CASE("one closed-loop client agrees with arrivals spaced far apart",
          "[serving][closed_loop]") {
  // With one client a request never meets another; neither does it when arrivals are 100 s
  // apart (far longer than a request takes). Both runs take the same steps.
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> c(m, {.colocated = {.instances = 2, .layout = one_gpu}});
  const io::workload w = varied(20, 3);
  io::workload spaced = w;
  for (std::size_t i = 0; i < spaced.size(); ++i)
    spaced.requests[i].arrival_s = 100.0 * static_cast<double>(i);
  const serving::report closed = c.run(w, {.clients = 1}, 5);
  const serving::report open = c.run(spaced, 5);
  REQUIRE(closed.completed == 20);
  REQUIRE(open.completed == 20);
  REQUIRE(open.latency.e2e_s.max < 100.0);
  for (std::size_t i = 0; i < 20; ++i) {
    const serving::request_record &a = closed.requests[i], &b = open.requests[i];
    CHECK(a.prefill_instance == b.prefill_instance);
    CHECK(a.ttft_s() == Approx(b.ttft_s()).epsilon(1e-9));
    CHECK(a.e2e_s() == Approx(b.e2e_s()).epsilon(1e-9));
    if (a.output_tokens >= 2)
      CHECK(a.tpot_s() == Approx(b.tpot_s()).epsilon(1e-9));
  }
  CHECK(closed.latency.ttft_s.p90 == Approx(open.latency.ttft_s.p90).epsilon(1e-9));
  CHECK(closed.steps == open.steps);
  // The same steps, summed in the same order: the same device time, bit for bit.
  CHECK(closed.use.prefill_device_s == open.use.prefill_device_s);
  CHECK(closed.use.decode_device_s == open.use.decode_device_s);
  CHECK(closed.use.output_tokens == open.use.output_tokens);
  // The closed loop's makespan is the sum of the E2Es; the open one's spans the gaps.
  double sum = 0.0;
  for (const serving::request_record& q : open.requests)
    sum += q.e2e_s();
  CHECK(closed.makespan_s == Approx(sum).epsilon(1e-9));
}

TEST_CASE("closed-loop clients keep at most their number of requests in flight and lose none",
          "[serving][closed_loop]") {
  const auto m = model::presets::llama3_8b();
  const int clients = GENERATE(1, 3, 8, 32);
  SECTION("colocated") {
    serving::basic_cluster<h800_sxm> c(
        m,
        {.colocated = {.instances = 2,
                       .layout = one_gpu,
                       .scheduler = {.max_batched_tokens = 1024, .max_sequences_per_group = 6}}});
    const serving::report r = c.run(varied(150, 11), {.clients = clients}, 2);
    CAPTURE(clients);
    REQUIRE(r.requests.size() == 150);
    CHECK(r.closed_loop->completed + r.closed_loop->rejected == 150);
    CHECK(r.closed_loop->rejected == 0);
    CHECK(peak_in_flight(r.requests) == clients);
    CHECK(r.closed_loop->max_in_flight == clients);
    for (const serving::request_record& q : r.requests)
      CHECK(q.status != serving::request_status::pending);
  }
  SECTION("pd, with requests too long to fit rejected") {
    serving::basic_cluster<h800_sxm> c(m, {.mode = serving::serving_mode::pd,
                                           .prefill = {.instances = 1, .layout = one_gpu},
                                           .decode = {.instances = 2, .layout = one_gpu}});
    io::workload w = varied(40, 12);
    // Every fifth request asks for more KV than an 80 GB GPU holds beside 16 GB of weights:
    // 600,000 tokens × 131,072 bytes = 79 GB.
    for (std::size_t i = 0; i < w.size(); i += 5)
      w.requests[i].input_tokens = 600000;
    const serving::report r = c.run(w, {.clients = clients, .requests = 100}, 4);
    CAPTURE(clients);
    REQUIRE(r.requests.size() == 100);
    // Request k is the workload's k mod 40: ids 0, 5, ..., 95 are rejected, 20 of them.
    CHECK(r.closed_loop->rejected == 20);
    CHECK(r.closed_loop->completed == 80);
    CHECK(r.requests[45].status == serving::request_status::rejected);
    CHECK(r.requests[45].reason == serving::rejection_reason::exceeds_kv_capacity);
    CHECK(r.requests[46].input_tokens == w.requests[6].input_tokens);
    CHECK(peak_in_flight(r.requests) <= clients);
    CHECK(r.closed_loop->max_in_flight <= clients);
    CHECK(r.kv_transfers > 0);
  }
}

TEST_CASE("warm-up and cool-down requests are left out of the statistics",
          "[serving][closed_loop]") {
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> c(m, {.colocated = {.instances = 1, .layout = one_gpu}});
  const io::workload w = varied(60, 21);
  const serving::closed_loop all{.clients = 6};
  const serving::closed_loop trimmed{.clients = 6, .warmup = 10, .cooldown = 15};
  const serving::report a = c.run(w, all, 3), t = c.run(w, trimmed, 3);
  // The same simulation: only the statistics differ.
  REQUIRE(a.requests.size() == 60);
  REQUIRE(t.requests.size() == 60);
  for (std::size_t i = 0; i < 60; ++i)
    CHECK(a.requests[i].completion_s == t.requests[i].completion_s);
  CHECK(a.use.busy_device_s() == t.use.busy_device_s());
  CHECK(a.use.idle_device_s == t.use.idle_device_s);
  CHECK(a.use.output_tokens == w.output_tokens());
  CHECK(t.use.output_tokens == w.output_tokens());
  // Measured: requests 10 .. 44, 35 of them.
  CHECK(t.closed_loop->first_measured == 10);
  CHECK(t.closed_loop->measured == 35);
  CHECK(t.arrived == 35);
  CHECK(t.completed == 35);
  CHECK(t.latency.e2e_s.count == 35);
  double sum = 0.0, end = 0.0;
  std::int64_t out = 0;
  for (std::size_t i = 10; i < 45; ++i) {
    sum += t.requests[i].e2e_s();
    end = std::max(end, t.requests[i].completion_s);
    out += t.requests[i].output_tokens;
  }
  CHECK(t.latency.e2e_s.mean == Approx(sum / 35.0).epsilon(1e-12));
  CHECK(t.output_tokens == out);
  // The window: request 10's issue to the last measured completion.
  CHECK(t.start_s == t.requests[10].arrival_s);
  CHECK(t.start_s > 0.0);
  CHECK(t.end_s == end);
  CHECK(t.makespan_s == end - t.requests[10].arrival_s);
  CHECK(t.throughput_rps == Approx(35.0 / (end - t.start_s)).epsilon(1e-12));
  CHECK(t.output_tokens_per_s_per_device ==
        Approx(static_cast<double>(out) / (end - t.start_s)).epsilon(1e-12));
  // Six clients are busy all through the window (the cool-down keeps them busy to its end).
  CHECK(t.mean_in_system == Approx(6.0).epsilon(1e-9));
  // The whole run is what the deployment spent.
  CHECK(t.use.makespan_s == a.makespan_s);
  CHECK(t.closed_loop->run_s == a.makespan_s);
}

TEST_CASE("closed-loop runs are deterministic and say so in their JSON", "[serving][closed_loop]") {
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm, serving::runtime_policies> c(
      m, {.colocated = {.instances = 3, .layout = one_gpu}}, {}, {}, h800_sxm{},
      {.balancer = serving::power_of_two{}});
  const io::workload w = varied(80, 31);
  const serving::closed_loop cl{.clients = 12,
                                .requests = 200,
                                .warmup = 20,
                                .cooldown = 20,
                                .think_time_s = 0.01,
                                .ramp_up_s = 0.05};
  const std::string a = serving::to_json(c.run(w, cl, 9), true);
  const std::string b = serving::to_json(c.run(w, cl, 9), true);
  CHECK(a == b);
  CHECK(a.find("\"closed_loop\":{\"clients\":12,\"issued\":200,\"warmup\":20,\"cooldown\":20,"
               "\"think_time_s\":0.01,\"ramp_up_s\":0.05,\"request_rate\":0.0,\"burstiness\":1.0,"
               "\"first_measured\":20,\"measured\":160,") != std::string::npos);
  // An open-loop report has no closed_loop key.
  CHECK(serving::to_json(c.run(w, 9)).find("closed_loop") == std::string::npos);
}

TEST_CASE("bad closed-loop input gets clear errors", "[serving][closed_loop]") {
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm> c(m, {.colocated = {.layout = one_gpu}});
  const io::workload w = fixed(5, 100, 3);
  CHECK_THROWS_WITH(c.run(w, {.clients = 0}, 1), "serving::closed_loop: clients (0) must be > 0");
  CHECK_THROWS_WITH(c.run(w, {.requests = -1}, 1),
                    "serving::closed_loop: requests (-1) must be >= 0");
  CHECK_THROWS_WITH(c.run(w, {.warmup = -2}, 1), "serving::closed_loop: warmup (-2) must be >= 0");
  CHECK_THROWS_WITH(c.run(w, {.cooldown = -3}, 1),
                    "serving::closed_loop: cooldown (-3) must be >= 0");
  CHECK_THROWS_WITH(c.run(w, {.think_time_s = -0.5}, 1),
                    "serving::closed_loop: think_time_s (-0.5) must be >= 0");
  CHECK_THROWS_WITH(c.run(w, {.think_time_s = std::nan("")}, 1),
                    Catch::Contains("think_time_s (nan) must be finite"));
  // Five requests (the workload's), of which 3 warm up and 2 cool down: none is left.
  CHECK_THROWS_WITH(c.run(w, {.warmup = 3, .cooldown = 2}, 1),
                    "serving::closed_loop: warmup (3) + cooldown (2) must leave at least one of "
                    "the 5 requests issued measured");
  CHECK_THROWS_WITH(c.run(w, {.requests = 10, .warmup = 10}, 1),
                    Catch::Contains("warmup (10) + cooldown (0)"));
  io::workload none;
  none.name = "none";
  CHECK_THROWS_WITH(c.run(none, {}, 1), "io::workload: requests (0) of 'none' must not be empty");
  io::workload bad = fixed(3, 100, 3);
  bad.requests[1].input_tokens = 0;
  CHECK_THROWS_WITH(c.run(bad, {.clients = 2}, 1),
                    "io::workload: input_tokens (0) of request 1 must be >= 1");
  // Arrival times are ignored: an unsorted workload is fine.
  io::workload unsorted = fixed(3, 100, 3);
  unsorted.requests[0].arrival_s = 9.0;
  CHECK(c.run(unsorted, {.clients = 2}, 1).completed == 3);
}
