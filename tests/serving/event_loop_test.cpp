#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "infercost/core/random.hpp"
#include "infercost/serving/event_loop.hpp"

using namespace infercost;
using serving::event_kind;
using serving::event_queue;

TEST_CASE("event queue pops by time, then by scheduling order", "[serving][event_loop]") {
  event_queue q;
  CHECK(q.next_time_s() == std::numeric_limits<double>::infinity());
  q.push(2.0, event_kind::step_end, 0);
  q.push(1.0, event_kind::step_end, 1);
  q.push(2.0, event_kind::transfer_end, 2, 7);
  q.push(1.0, event_kind::step_end, 3);
  REQUIRE(q.size() == 4);
  CHECK(q.next_time_s() == 1.0);
  std::vector<int> order;
  while (!q.empty())
    order.push_back(q.pop().instance);
  // Two at t=1 in push order (1 then 3), then two at t=2 in push order (0 then 2).
  CHECK(order == std::vector<int>{1, 3, 0, 2});
  CHECK(q.now() == 2.0);
  CHECK(q.popped() == 4);
}

TEST_CASE("event queue agrees with a linear-scan reference on random events",
          "[serving][event_loop]") {
  // Seed 11: 20 rounds of 100 pushes at 50 distinct times from now, then 60 pops; each pop must
  // be the pending event with the smallest (time, sequence), found by a linear scan.
  rng g(11);
  event_queue q;
  struct ref {
    double t;
    std::uint64_t seq;
  };
  std::vector<ref> pending;
  std::size_t popped = 0;
  auto pop_and_compare = [&] {
    const serving::event e = q.pop();
    std::size_t best = 0;
    for (std::size_t i = 1; i < pending.size(); ++i)
      if (pending[i].t < pending[best].t ||
          (pending[i].t == pending[best].t && pending[i].seq < pending[best].seq))
        best = i;
    REQUIRE(e.time_s == pending[best].t);
    REQUIRE(e.seq == pending[best].seq);
    pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(best));
    ++popped;
  };
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) {
      const double t = q.now() + static_cast<double>(g.uniform_int(50));
      const std::uint64_t s = q.push(t, event_kind::step_end, i);
      pending.push_back({t, s});
    }
    for (int i = 0; i < 60; ++i)
      pop_and_compare();
  }
  while (!q.empty())
    pop_and_compare();
  CHECK(popped == 2000);
  CHECK(pending.empty());
}

TEST_CASE("event queue refuses to schedule in the past or at a non-finite time",
          "[serving][event_loop]") {
  event_queue q;
  q.push(5.0, event_kind::arrival);
  (void)q.pop();
  CHECK_THROWS_WITH(q.push(4.0, event_kind::step_end),
                    "serving::event_queue: time_s (4) is before the current time (5)");
  CHECK_THROWS_WITH(q.push(std::nan(""), event_kind::step_end),
                    "serving::event_queue: time_s (nan) must be finite");
  CHECK_THROWS_WITH(q.pop(), "serving::event_queue: pop (empty queue) has no event");
  CHECK_THROWS_AS(q.advance_to(4.5), config_error);
  q.advance_to(6.0);
  CHECK(q.now() == 6.0);
  CHECK_NOTHROW(q.push(6.0, event_kind::step_end));
}
