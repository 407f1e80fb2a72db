#include <catch2/catch.hpp>

#include <vector>

#include "infercost/serving/balancer.hpp"

using namespace infercost;
using serving::balancer;
using serving::balancer_kind;
using serving::candidate;

TEST_CASE("round robin visits instances in turn", "[serving][balancer]") {
  balancer b(balancer_kind::round_robin, 1);
  const std::vector<candidate> c(3, candidate{.load = 5});
  std::vector<std::size_t> got;
  for (int i = 0; i < 7; ++i)
    got.push_back(b.pick(c, 100));
  CHECK(got == std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0});
}

TEST_CASE("least loaded picks the fewest requests, lowest index on ties", "[serving][balancer]") {
  balancer b(balancer_kind::least_loaded, 1);
  CHECK(b.pick(std::vector<candidate>{{.load = 3}, {.load = 1}, {.load = 1}}, 10) == 1);
  CHECK(b.pick(std::vector<candidate>{{.load = 0}, {.load = 0}}, 10) == 0);
}

TEST_CASE("power of two draws two distinct instances and keeps the less loaded",
          "[serving][balancer]") {
  // Loads 0..7: the pick is the smaller of two distinct uniform draws, so instance 7 is never
  // picked and P(pick = i) = 2(7 − i)/56; instance 0 expects 1/4 of 8,000 draws (seed 5).
  std::vector<candidate> c;
  for (int i = 0; i < 8; ++i)
    c.push_back({.load = i});
  balancer b(balancer_kind::power_of_two, 5);
  std::vector<int> hits(8, 0);
  for (int k = 0; k < 8000; ++k)
    ++hits[b.pick(c, 1)];
  CHECK(hits[7] == 0);
  CHECK(hits[0] == Approx(2000).margin(150));
  CHECK(hits[6] == Approx(8000.0 * 2 / 56).margin(80));
  // Same seed, same choices; one instance needs no draw.
  balancer x(balancer_kind::power_of_two, 9), y(balancer_kind::power_of_two, 9);
  for (int k = 0; k < 100; ++k)
    REQUIRE(x.pick(c, 1) == y.pick(c, 1));
  CHECK(x.pick(std::vector<candidate>{{.load = 4}}, 1) == 0);
}

TEST_CASE("cache aware trades a cached prefix against a queue", "[serving][balancer]") {
  balancer b(balancer_kind::cache_aware, 1);
  CHECK(b.needs_cache_match());
  // Prompt of 8,000 tokens: instance 0 has 2,000 queued and nothing cached (cost 10,000);
  // instance 1 has 6,000 queued and 7,000 cached (cost 7,000): the cache wins.
  CHECK(b.pick(std::vector<candidate>{{.load = 1, .queued_tokens = 2000, .cached_tokens = 0},
                                      {.load = 9, .queued_tokens = 6000, .cached_tokens = 7000}},
               8000) == 1);
  // With 9,000 queued behind the cache the empty instance wins.
  CHECK(b.pick(std::vector<candidate>{{.load = 1, .queued_tokens = 2000, .cached_tokens = 0},
                                      {.load = 9, .queued_tokens = 9000, .cached_tokens = 7000}},
               8000) == 0);
  // Equal cost: the less loaded.
  CHECK(b.pick(std::vector<candidate>{{.load = 4}, {.load = 2}}, 100) == 1);
}

TEST_CASE("balancer names parse and bad input is rejected", "[serving][balancer]") {
  CHECK(serving::parse_balancer("power_of_two") == balancer_kind::power_of_two);
  CHECK(serving::to_string(balancer_kind::cache_aware) == "cache_aware");
  CHECK_THROWS_WITH(serving::parse_balancer("random"),
                    "serving::balancer: name ('random') must be one of round_robin, "
                    "least_loaded, power_of_two, cache_aware");
  balancer b(balancer_kind::least_loaded, 1);
  CHECK_THROWS_WITH(b.pick(std::vector<candidate>{}, 1),
                    "serving::balancer: instances (0) must be > 0");
}
