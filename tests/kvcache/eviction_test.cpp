#include <catch2/catch.hpp>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "infercost/core/random.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/kvcache/eviction.hpp"
#include "infercost/kvcache/tiered_cache.hpp"

using namespace infercost;
using namespace infercost::kvcache;

static_assert(eviction_policy<lru>);
static_assert(eviction_policy<lfu>);
static_assert(eviction_policy<s3fifo>);

TEST_CASE("flat index agrees with std::unordered_map over random inserts and erases",
          "[kvcache][eviction]") {
  const std::uint64_t seed = 7;
  INFO("seed " << seed);
  rng g(seed);
  kvcache::detail::flat_index idx;
  std::unordered_map<block_id, std::uint32_t> ref;
  for (int op = 0; op < 200000; ++op) {
    // Keys collide in the low bits on purpose (multiples of 4096) to exercise probing.
    const block_id k = g.uniform_int(3000) * 4096;
    if (g.uniform_int(3) == 0) {
      CHECK(idx.erase(k) == (ref.erase(k) == 1));
    } else {
      const auto v = static_cast<std::uint32_t>(g.uniform_int(1000000));
      idx.set(k, v);
      ref[k] = v;
    }
    if (op % 1000 == 0) {
      REQUIRE(idx.size() == ref.size());
      for (block_id q = 0; q < 3000; ++q) {
        const auto it = ref.find(q * 4096);
        REQUIRE(idx.find(q * 4096) == (it == ref.end() ? kvcache::detail::npos : it->second));
      }
    }
  }
}

namespace {
kvcache::detail::node_pool make_nodes(std::size_t n) {
  kvcache::detail::node_pool p(n);
  for (std::size_t i = 0; i < n; ++i)
    p[i].id = i;
  return p;
}
} // namespace

TEST_CASE("lru evicts the least recently used block", "[kvcache][eviction]") {
  auto n = make_nodes(4);
  lru p(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    p.insert(n, i);
  p.touch(n, 0);
  CHECK(p.victim(n) == 1);
  p.erase(n, 1);
  CHECK(p.victim(n) == 2);
  CHECK(p.size() == 3);
}

TEST_CASE("lfu evicts the least frequently used block, oldest first among equals",
          "[kvcache][eviction]") {
  auto n = make_nodes(4);
  lfu p(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    p.insert(n, i);
  p.touch(n, 0);
  p.touch(n, 0);
  p.touch(n, 1);
  p.touch(n, 2);
  // freq: 0 -> 3, 1 -> 2, 2 -> 2, 3 -> 1
  CHECK(p.victim(n) == 3);
  p.erase(n, 3);
  CHECK(p.victim(n) == 1); // reached frequency 2 before block 2
  p.erase(n, 1);
  CHECK(p.victim(n) == 2);
  p.erase(n, 2);
  CHECK(p.victim(n) == 0);
  p.erase(n, 0);
  CHECK(p.victim(n) == kvcache::detail::npos);
  CHECK(p.size() == 0);
}

TEST_CASE("s3fifo keeps a hot working set through a one-time scan that flushes lru",
          "[kvcache][eviction]") {
  // One tier of 100 blocks; 50 hot blocks hit repeatedly, then 1,000 blocks seen once each,
  // interleaved with hot hits; then count how many hot blocks are still cached.
  auto run = [](auto policy_tag) {
    using policy = decltype(policy_tag);
    basic_tiered_cache<h100_sxm, policy> c(
        cache_config{.hbm_bytes = 100.0, .dram_bytes = 0, .ssd_bytes = 0, .block_bytes = 1.0});
    std::vector<block_id> hot(50);
    for (std::size_t i = 0; i < hot.size(); ++i)
      hot[i] = i;
    for (int round = 0; round < 3; ++round)
      for (const block_id b : hot) {
        const std::vector<block_id> one{b};
        if (c.lookup(one).hits() == 0)
          c.insert(one);
      }
    for (block_id s = 0; s < 1000; ++s) {
      const std::vector<block_id> one{100000 + s};
      c.lookup(one);
      c.insert(one);
      if (s % 4 == 0) {
        const std::vector<block_id> h{hot[(s / 4) % hot.size()]};
        if (c.lookup(h).hits() == 0)
          c.insert(h);
      }
    }
    std::int64_t kept = 0;
    for (const block_id b : hot)
      kept += c.tier_of(b).has_value();
    REQUIRE(c.check_invariants() == "");
    return kept;
  };
  const std::int64_t kept_s3 = run(s3fifo(0));
  const std::int64_t kept_lru = run(lru(0));
  INFO("s3fifo kept " << kept_s3 << ", lru kept " << kept_lru);
  CHECK(kept_s3 >= 45);
  CHECK(kept_lru < kept_s3);
}
