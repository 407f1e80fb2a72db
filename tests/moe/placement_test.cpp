#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "infercost/core/random.hpp"
#include "infercost/moe/placement.hpp"

using namespace infercost;

namespace {
// DeepSeek's published EPLB example (deepseek-ai/EPLB README): 2 layers × 12 experts, 16
// physical slots, 4 groups, 2 nodes, 8 GPUs.
const std::vector<std::vector<double>> eplb_weights{
    {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
    {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};
const std::vector<std::vector<int>> eplb_phy2log{
    {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
    {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
} // namespace

TEST_CASE("hierarchical placement reproduces DeepSeek's EPLB example exactly", "[moe]") {
  // max/mean per GPU of the published plans (recomputed from their phy2log): 1.208 and 1.242.
  const double expected[2] = {1.208, 1.242};
  for (std::size_t layer = 0; layer < 2; ++layer) {
    const moe::ep_plan plan = moe::rebalance_hierarchical(eplb_weights[layer], 16, 4, 2, 8);
    REQUIRE(plan.phy2log == eplb_phy2log[layer]);
    const double mm = plan.max_over_mean(eplb_weights[layer]);
    REQUIRE(std::isfinite(mm));
    REQUIRE(mm == Approx(expected[layer]).margin(5e-4));
    // Conservation: the devices carry exactly the experts' total load.
    const std::vector<double> d = plan.device_loads(eplb_weights[layer]);
    REQUIRE(std::accumulate(d.begin(), d.end(), 0.0) ==
            Approx(std::accumulate(eplb_weights[layer].begin(), eplb_weights[layer].end(), 0.0)));
    REQUIRE(std::accumulate(plan.logcnt.begin(), plan.logcnt.end(), 0) == 16);
  }
  // Layer 0 by hand from the published phy2log: total 1,033 over 8 GPUs (mean 129.125); GPU 6
  // holds slots 12, 13 = expert 0 (90) and one of expert 1's two replicas (132/2 = 66) = 156,
  // the maximum. max/mean = 156 / 129.125 = 1.2081.
  const moe::ep_plan p0 = moe::rebalance_hierarchical(eplb_weights[0], 16, 4, 2, 8);
  const std::vector<double> d0 = p0.device_loads(eplb_weights[0]);
  REQUIRE(*std::max_element(d0.begin(), d0.end()) == Approx(156.0));
  REQUIRE(std::accumulate(d0.begin(), d0.end(), 0.0) == Approx(1033.0));
}

TEST_CASE("replication gives the same max load per replica as an exhaustive search", "[moe]") {
  const std::uint64_t seed = 31;
  INFO("seed " << seed);
  rng g(seed);
  for (int trial = 0; trial < 30; ++trial) {
    const int e = 2 + static_cast<int>(g.uniform_int(4)),
              extra = static_cast<int>(g.uniform_int(4));
    std::vector<double> w(static_cast<std::size_t>(e));
    for (double& x : w)
      x = static_cast<double>(g.uniform_int(20));
    const moe::replication r = moe::replicate_experts(w, e + extra);
    double greedy = 0.0;
    for (int i = 0; i < e; ++i)
      greedy =
          std::max(greedy, w[static_cast<std::size_t>(i)] / r.logcnt[static_cast<std::size_t>(i)]);
    // Exhaustive: every way to give `extra` replicas to e experts.
    double best = 1e300;
    std::vector<int> cnt(static_cast<std::size_t>(e), 1);
    std::function<void(int, int)> rec = [&](int i, int left) {
      if (i == e - 1) {
        cnt[static_cast<std::size_t>(i)] = 1 + left;
        double m = 0.0;
        for (int j = 0; j < e; ++j)
          m = std::max(m, w[static_cast<std::size_t>(j)] / cnt[static_cast<std::size_t>(j)]);
        best = std::min(best, m);
        return;
      }
      for (int a = 0; a <= left; ++a) {
        cnt[static_cast<std::size_t>(i)] = 1 + a;
        rec(i + 1, left - a);
      }
    };
    rec(0, extra);
    REQUIRE(greedy == Approx(best));
    REQUIRE(std::accumulate(r.logcnt.begin(), r.logcnt.end(), 0) == e + extra);
  }
}

TEST_CASE("balanced packing fills every pack with the same number of items", "[moe]") {
  const std::vector<double> w{5, 1, 4, 4, 3, 2, 9, 0};
  const moe::packing p = moe::balanced_packing(w, 4);
  std::vector<int> count(4, 0);
  std::vector<double> load(4, 0.0);
  for (std::size_t i = 0; i < w.size(); ++i) {
    ++count[static_cast<std::size_t>(p.pack[i])];
    load[static_cast<std::size_t>(p.pack[i])] += w[i];
  }
  REQUIRE(count == std::vector<int>{2, 2, 2, 2});
  // Heaviest first into the lightest pack with room, lower pack on ties: 9→0, 5→1, 4→2, 4→3,
  // 3→2 (7), 2→3 (6), 1→1 (6), 0→0 (9).
  REQUIRE(load == std::vector<double>{9, 6, 7, 6});
}

TEST_CASE("replication lowers the max/mean device load on a skewed load", "[moe]") {
  const std::vector<double> zipf = zipf_weights(64, 1.0);
  const double before = moe::contiguous_plan(64, 8).max_over_mean(zipf);
  const double global = moe::rebalance_global(zipf, 64 + 16, 8).max_over_mean(zipf);
  REQUIRE(std::isfinite(global));
  REQUIRE(before > 3.0);
  REQUIRE(global < 1.1);
  REQUIRE(moe::rebalance(zipf, 80, 8, 3, 8).phy2log ==
          moe::rebalance_global(zipf, 80, 8).phy2log); // 3 nodes do not divide 8 groups
}

TEST_CASE("placement rejects bad layouts with clear errors", "[moe]") {
  const std::vector<double> w(12, 1.0);
  REQUIRE_THROWS_WITH(moe::rebalance_hierarchical(w, 16, 5, 1, 8),
                      "moe::rebalance_hierarchical: num_groups (5) must divide num_experts (12)");
  REQUIRE_THROWS_WITH(moe::rebalance_hierarchical(w, 16, 4, 3, 6),
                      "moe::rebalance_hierarchical: num_nodes (3) must divide num_groups (4)");
  REQUIRE_THROWS_WITH(moe::rebalance_hierarchical(w, 18, 4, 2, 8),
                      "moe::rebalance_hierarchical: num_devices (8) must divide num_physical (18)");
  REQUIRE_THROWS_WITH(moe::rebalance_hierarchical(w, 8, 4, 2, 8),
                      "moe::rebalance_hierarchical: num_physical (8) must be >= number of "
                      "experts (12)");
  REQUIRE_THROWS_WITH(moe::balanced_packing(std::vector<double>{1, -1}, 1),
                      "moe::balanced_packing: weights[i] (-1) must be >= 0");
  REQUIRE_THROWS_WITH(moe::balanced_packing(std::vector<double>{1, std::nan("")}, 1),
                      "moe::balanced_packing: weights[i] (nan) must be finite");
  REQUIRE_THROWS_WITH(moe::contiguous_plan(10, 4),
                      "moe::contiguous_plan: num_devices (4) must divide num_experts (10)");
  REQUIRE_THROWS_AS(moe::contiguous_plan(8, 4).device_loads(w), config_error);
}
