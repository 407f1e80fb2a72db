#include <catch2/catch.hpp>

#include <vector>

#include "infercost/serving/policies.hpp"

using namespace infercost;
using serving::candidate;
using serving::request_view;

namespace {
request_view prompt(std::int64_t input, std::int64_t id = 0, double arrival = 0.0) {
  return {.id = id, .arrival_s = arrival, .input_tokens = input, .output_tokens = 10};
}
} // namespace

TEST_CASE("round robin visits instances in turn", "[serving][policies]") {
  serving::round_robin b;
  b.seed(1);
  const std::vector<candidate> c(3, candidate{.load = 5});
  std::vector<std::size_t> got;
  for (int i = 0; i < 7; ++i)
    got.push_back(b.pick(c, prompt(100)));
  CHECK(got == std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0});
}

TEST_CASE("least loaded picks the fewest requests, lowest index on ties", "[serving][policies]") {
  serving::least_loaded b;
  CHECK(b.pick(std::vector<candidate>{{.load = 3}, {.load = 1}, {.load = 1}}, prompt(10)) == 1);
  CHECK(b.pick(std::vector<candidate>{{.load = 0}, {.load = 0}}, prompt(10)) == 0);
}

TEST_CASE("power of two draws two distinct instances and keeps the less loaded",
          "[serving][policies]") {
  // Loads 0..7: the pick is the smaller of two distinct uniform draws, so instance 7 is never
  // picked and P(pick = i) = 2(7 − i)/56; instance 0 expects 1/4 of 8,000 draws (seed 5).
  std::vector<candidate> c;
  for (int i = 0; i < 8; ++i)
    c.push_back({.load = i});
  serving::power_of_two b;
  b.seed(5);
  std::vector<int> hits(8, 0);
  for (int k = 0; k < 8000; ++k)
    ++hits[b.pick(c, prompt(1))];
  CHECK(hits[7] == 0);
  CHECK(hits[0] == Approx(2000).margin(150));
  CHECK(hits[6] == Approx(8000.0 * 2 / 56).margin(80));
  // Same seed, same choices; one instance needs no draw.
  serving::power_of_two x, y;
  x.seed(9);
  y.seed(9);
  for (int k = 0; k < 100; ++k)
    REQUIRE(x.pick(c, prompt(1)) == y.pick(c, prompt(1)));
  CHECK(x.pick(std::vector<candidate>{{.load = 4}}, prompt(1)) == 0);
}

TEST_CASE("cache aware trades a cached prefix against a queue", "[serving][policies]") {
  serving::cache_aware b;
  CHECK(b.needs_cache_match());
  // Prompt of 8,000 tokens: instance 0 has 2,000 queued and nothing cached (cost 10,000);
  // instance 1 has 6,000 queued and 7,000 cached (cost 7,000): the cache wins.
  CHECK(b.pick(std::vector<candidate>{{.load = 1, .queued_tokens = 2000, .cached_tokens = 0},
                                      {.load = 9, .queued_tokens = 6000, .cached_tokens = 7000}},
               prompt(8000)) == 1);
  // With 9,000 queued behind the cache the empty instance wins.
  CHECK(b.pick(std::vector<candidate>{{.load = 1, .queued_tokens = 2000, .cached_tokens = 0},
                                      {.load = 9, .queued_tokens = 9000, .cached_tokens = 7000}},
               prompt(8000)) == 0);
  // Equal cost: the less loaded.
  CHECK(b.pick(std::vector<candidate>{{.load = 4}, {.load = 2}}, prompt(100)) == 1);
}

TEST_CASE("a run-time balancer behaves as the one it holds", "[serving][policies]") {
  std::vector<candidate> c;
  for (int i = 0; i < 8; ++i)
    c.push_back({.load = 7 - i, .queued_tokens = 100 * i});
  for (const char* name : {"round_robin", "least_loaded", "power_of_two", "cache_aware"}) {
    serving::balancer_choice choice = serving::parse_balancer(name);
    CHECK(choice.kind() == name);
    choice.seed(3);
    serving::power_of_two p2;
    p2.seed(3);
    serving::round_robin rr;
    for (int k = 0; k < 20; ++k) {
      const std::size_t got = choice.pick(c, prompt(500));
      const std::string_view n = name;
      if (n == "round_robin")
        CHECK(got == rr.pick(c, prompt(500)));
      else if (n == "least_loaded")
        CHECK(got == 7);
      else if (n == "power_of_two")
        CHECK(got == p2.pick(c, prompt(500)));
      else
        CHECK(got == 0); // queued 0 + 500 is the fewest tokens
    }
    CHECK(choice.needs_cache_match() == (std::string_view(name) == "cache_aware"));
  }
  CHECK_THROWS_WITH(serving::parse_balancer("random"),
                    "serving::balancer: name ('random') must be one of round_robin, "
                    "least_loaded, power_of_two, cache_aware");
  serving::least_loaded b;
  CHECK_THROWS_WITH(b.pick(std::vector<candidate>{}, prompt(1)),
                    "serving::balancer: instances (0) must be > 0");
}

TEST_CASE("PD admission: the article's threshold, always, and a backed-up prefill pool",
          "[serving][policies]") {
  const serving::pool_load idle{.instances = 2, .requests = 0, .queued_prefill_tokens = 0};
  const serving::length_threshold t{.threshold_tokens = 4096};
  CHECK_FALSE(t.disaggregate(prompt(4096), idle, idle));
  CHECK(t.disaggregate(prompt(4097), idle, idle));
  CHECK(serving::length_threshold{}.disaggregate(prompt(1), idle, idle));
  CHECK(serving::always_disaggregate{}.disaggregate(prompt(1), idle, idle));
  // load_aware, threshold 1000, factor 4: a 5,000-token prompt goes to the prefill pool while
  // its backlog per instance (40,000 / 2 = 20,000) is at most 4 × the decode pool's with the
  // prompt ((0 + 5,000) / 1 = 5,000 → 20,000); one more queued token and it stays on decode.
  const serving::load_aware la{.threshold_tokens = 1000, .backlog_factor = 4.0};
  const serving::pool_load decode{.instances = 1, .requests = 3, .queued_prefill_tokens = 0};
  CHECK(la.disaggregate(prompt(5000), {.instances = 2, .queued_prefill_tokens = 40000}, decode));
  CHECK_FALSE(
      la.disaggregate(prompt(5000), {.instances = 2, .queued_prefill_tokens = 40002}, decode));
  CHECK_FALSE(la.disaggregate(prompt(1000), idle, idle)); // under the threshold
  const serving::admission_choice choice = serving::load_aware{.threshold_tokens = 1000};
  CHECK(choice.kind() == "load_aware");
  CHECK(choice.disaggregate(prompt(5000), idle, idle));
}

TEST_CASE("FCFS admits in arrival order, a preempted sequence first; deadline first by "
          "deadline",
          "[serving][policies]") {
  const serving::fcfs f;
  CHECK(f.admission_order(prompt(10, 7)) == 7.0);
  request_view back = prompt(10, 7);
  back.requeued = 3;
  // Requeued sequences come before every new one, the latest preempted first.
  CHECK(f.admission_order(back) == -3.0);
  back.requeued = 4;
  CHECK(f.admission_order(back) < -3.0);
  CHECK(f.preemption_order(back) == 7.0); // the youngest is preempted first
  CHECK(f.head_of_line_blocking());
  const serving::deadline_first d{.ttft_objective_s = 2.0};
  CHECK(d.admission_order(prompt(10, 1, 5.0)) == 7.0);
  CHECK(d.preemption_order(prompt(10, 1, 5.0)) == 7.0);
  CHECK_FALSE(d.head_of_line_blocking());
  const serving::batching_choice c = serving::deadline_first{};
  CHECK(c.kind() == "deadline_first");
}

TEST_CASE("layer-wise transfer leaves only what the prefill did not hide, and one layer",
          "[serving][policies]") {
  // A 100 ms transfer after a 70 ms prefill of a 60-layer model: 30 ms remain; after a 200 ms
  // prefill the last layer's share, 100 / 60 ms.
  const serving::layer_wise lw;
  CHECK(lw.remaining_s({.transfer_s = 0.1, .prefill_s = 0.07, .layers = 60}) ==
        Approx(0.03).epsilon(1e-12));
  CHECK(lw.remaining_s({.transfer_s = 0.1, .prefill_s = 0.2, .layers = 60}) ==
        Approx(0.1 / 60).epsilon(1e-12));
  CHECK(serving::whole_prompt{}.remaining_s({.transfer_s = 0.1, .prefill_s = 0.2, .layers = 60}) ==
        0.1);
  const serving::transfer_choice c = serving::layer_wise{};
  CHECK(c.kind() == "layer_wise");
}
