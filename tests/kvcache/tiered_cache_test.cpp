#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "infercost/core/random.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/kvcache/tiered_cache.hpp"

using namespace infercost;
using namespace infercost::kvcache;

namespace {

constexpr double blk = 1000.0; // bytes per block in these tests

cache_config small_config(std::int64_t hbm, std::int64_t dram, std::int64_t ssd,
                          write_policy w = write_policy::write_back) {
  return {.hbm_bytes = hbm * blk,
          .dram_bytes = dram * blk,
          .ssd_bytes = ssd * blk,
          .block_bytes = blk,
          .block_tokens = 16,
          .write = w};
}

/// The cache's rules written the slow, obvious way: a map of blocks, and victims found by
/// scanning a tier for the unpinned block with the smallest (frequency, stamp) -- LRU ignores
/// frequency. Stamps order insertions and hits, as the O(1) lists do.
class reference_cache {
public:
  reference_cache(std::array<std::int64_t, 3> cap, bool lfu) : cap_(cap), lfu_(lfu) {}

  std::array<std::int64_t, 3> hits{};
  std::int64_t misses = 0, dropped = 0, unplaced = 0, promotions = 0, failures = 0;

  struct entry {
    int tier = 0;
    std::uint32_t pins = 0;
    std::uint64_t stamp = 0, freq = 0;
  };
  std::map<block_id, entry> blocks;

  void lookup(const std::vector<block_id>& ids) {
    std::size_t k = 0;
    for (; k < ids.size(); ++k) {
      auto it = blocks.find(ids[k]);
      if (it == blocks.end())
        break;
      const int t = it->second.tier;
      ++hits[t];
      if (t == 0) {
        touch(it->second);
        continue;
      }
      if (can_make_room(0)) {
        detach(ids[k]);
        make_room(0);
        attach(ids[k], 0);
        ++promotions;
      } else {
        ++failures;
        touch(it->second);
      }
    }
    misses += static_cast<std::int64_t>(ids.size() - k);
  }

  void insert(const std::vector<block_id>& ids) {
    for (const block_id b : ids) {
      auto it = blocks.find(b);
      if (it != blocks.end()) {
        if (it->second.tier != 0 && can_make_room(0)) {
          detach(b);
          make_room(0);
          attach(b, 0);
        } else {
          touch(it->second);
        }
        continue;
      }
      int t = 0;
      while (t < 3 && !can_make_room(t))
        ++t;
      if (t == 3) {
        ++unplaced;
        continue;
      }
      make_room(t);
      blocks[b] = entry{};
      attach(b, t);
    }
  }

  void pin(const std::vector<block_id>& ids) {
    for (const block_id b : ids)
      ++blocks.at(b).pins;
  }
  void unpin(const std::vector<block_id>& ids) {
    for (const block_id b : ids) {
      entry& e = blocks.at(b);
      if (--e.pins == 0)
        enter(e);
    }
  }

private:
  void enter(entry& e) {
    e.stamp = ++clock_;
    e.freq = 1;
  }
  void touch(entry& e) {
    if (e.pins > 0)
      return;
    e.stamp = ++clock_;
    ++e.freq;
  }
  std::int64_t used(int t) const {
    std::int64_t n = 0;
    for (const auto& [id, e] : blocks)
      n += e.tier == t;
    return n;
  }
  bool can_make_room(int t) const {
    if (used(t) < cap_[t])
      return true;
    if (cap_[t] == 0)
      return false;
    for (const auto& [id, e] : blocks)
      if (e.tier == t && e.pins == 0)
        return true;
    return false;
  }
  void make_room(int t) {
    if (used(t) < cap_[t])
      return;
    block_id v = 0;
    const entry* best = nullptr;
    for (const auto& [id, e] : blocks) {
      if (e.tier != t || e.pins != 0)
        continue;
      const bool better =
          !best || (lfu_ ? (e.freq < best->freq || (e.freq == best->freq && e.stamp < best->stamp))
                         : e.stamp < best->stamp);
      if (better) {
        best = &e;
        v = id;
      }
    }
    demote(v, t);
  }
  void demote(block_id v, int from) {
    detach(v);
    for (int t = from + 1; t < 3; ++t) {
      if (can_make_room(t)) {
        make_room(t);
        attach(v, t);
        return;
      }
    }
    ++dropped;
    blocks.erase(v);
  }
  void detach(block_id b) { blocks.at(b).tier = -1; }
  void attach(block_id b, int t) {
    entry& e = blocks.at(b);
    e.tier = t;
    enter(e);
  }

  std::array<std::int64_t, 3> cap_;
  bool lfu_;
  std::uint64_t clock_ = 0;
};

/// A request's blocks: one of 6 shared system prompts (2 blocks), then one of 40 documents
/// (up to 8 blocks), cut at a random length.
std::vector<block_id> random_request(rng& g) {
  const std::uint64_t sys = g.uniform_int(6), doc = g.uniform_int(40);
  const std::uint64_t len = 1 + g.uniform_int(10);
  std::vector<block_id> ids;
  for (std::uint64_t j = 0; j < len; ++j)
    ids.push_back(j < 2 ? sys * 10 + j : 1000 + (sys * 40 + doc) * 10 + j);
  return ids;
}

/// Drives `cache` (and `ref`, if given) with a long random sequence of lookups, inserts, pins
/// and unpins; checks they agree and the cache's invariants hold throughout.
template <class Cache>
void random_ops(Cache& cache, reference_cache* ref, std::uint64_t seed, int ops) {
  INFO("seed " << seed);
  rng g(seed);
  std::vector<std::vector<block_id>> pinned;
  for (int op = 0; op < ops; ++op) {
    const std::uint64_t kind = g.uniform_int(10);
    if (kind < 4) {
      const auto ids = random_request(g);
      (void)cache.lookup(ids);
      if (ref)
        ref->lookup(ids);
    } else if (kind < 8) {
      const auto ids = random_request(g);
      (void)cache.insert(ids);
      if (ref)
        ref->insert(ids);
    } else if (kind == 8 && pinned.size() < 6) {
      auto ids = random_request(g);
      ids.resize(static_cast<std::size_t>(cache.match(ids)));
      cache.pin(ids);
      if (ref)
        ref->pin(ids);
      pinned.push_back(ids);
    } else if (!pinned.empty()) {
      const std::size_t k = g.uniform_int(pinned.size());
      cache.unpin(pinned[k]);
      if (ref)
        ref->unpin(pinned[k]);
      pinned.erase(pinned.begin() + static_cast<std::ptrdiff_t>(k));
    }
    // Pinned blocks are never evicted.
    for (const auto& ids : pinned)
      for (const block_id b : ids)
        REQUIRE(cache.pins(b) > 0);
    if (op % 97 == 0 || op == ops - 1)
      REQUIRE(cache.check_invariants() == "");
    if (ref && (op % 13 == 0 || op == ops - 1)) {
      REQUIRE(static_cast<std::size_t>(cache.size()) == ref->blocks.size());
      for (const auto& [id, e] : ref->blocks) {
        const auto t = cache.tier_of(id);
        REQUIRE(t.has_value());
        REQUIRE(static_cast<int>(*t) == e.tier);
        REQUIRE(cache.pins(id) == e.pins);
      }
      const cache_stats& s = cache.stats();
      REQUIRE(s.hit_blocks == ref->hits);
      REQUIRE(s.miss_blocks == ref->misses);
      REQUIRE(s.dropped_blocks == ref->dropped);
      REQUIRE(s.unplaced_blocks == ref->unplaced);
      REQUIRE(s.promotions == ref->promotions);
      REQUIRE(s.promotion_failures == ref->failures);
    }
  }
  for (const auto& ids : pinned)
    cache.unpin(ids);
  REQUIRE(cache.check_invariants() == "");
}

} // namespace

TEST_CASE("lru and lfu tiered caches match the reference model over long random sequences",
          "[kvcache][tiered_cache]") {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    for (const auto& cap :
         {std::array<std::int64_t, 3>{6, 10, 15}, std::array<std::int64_t, 3>{3, 0, 8},
          std::array<std::int64_t, 3>{4, 6, 0}}) {
      {
        basic_tiered_cache<h100_sxm, lru> c(small_config(cap[0], cap[1], cap[2]));
        reference_cache ref(cap, false);
        random_ops(c, &ref, seed, 4000);
        CHECK(c.stats().hits() > 0);
        CHECK(c.stats().dropped_blocks + c.stats().unplaced_blocks > 0);
      }
      {
        basic_tiered_cache<h100_sxm, lfu> c(small_config(cap[0], cap[1], cap[2]));
        reference_cache ref(cap, true);
        random_ops(c, &ref, seed + 100, 4000);
        CHECK(c.stats().hits() > 0);
      }
    }
  }
}

TEST_CASE("s3fifo tiered cache keeps every invariant over long random sequences",
          "[kvcache][tiered_cache]") {
  for (const std::uint64_t seed : {11u, 12u, 13u}) {
    basic_tiered_cache<ascend_910b, s3fifo> c(small_config(6, 10, 15));
    random_ops(c, nullptr, seed, 20000);
    CHECK(c.stats().hits() > 0);
    CHECK(c.stats().promotions > 0);
    CHECK(c.stats().demotions[1] > 0);
    // Each tier's ghost holds at most its capacity: the tier's capacity less S's 10%.
    for (const auto& [t, ghost] : {std::pair{tier::hbm, 5u}, {tier::dram, 9u}, {tier::ssd, 14u}}) {
      CHECK(c.policy(t).ghost_capacity() == ghost);
      CHECK(c.policy(t).ghost_size() <= ghost);
      CHECK(c.policy(t).ghost_size() > 0);
    }
  }
}

TEST_CASE("a block that s3fifo dropped comes back to its tier's main queue while the tier's "
          "ghost remembers it",
          "[kvcache][tiered_cache]") {
  // HBM holds 1 block, SSD 10 (S: 1 block, ghost: 9 ids). Blocks 1..12 pass through HBM into
  // SSD, whose S is its every victim: block 12's arrival drops block 1, and SSD's ghost
  // remembers it.
  basic_tiered_cache<h800_sxm, s3fifo> c(small_config(1, 0, 10));
  for (block_id b = 1; b <= 12; ++b)
    (void)c.insert(std::vector<block_id>{b});
  REQUIRE(c.stats().dropped_blocks == 1);
  CHECK_FALSE(c.tier_of(1).has_value());
  CHECK(c.match(std::vector<block_id>{1}) == 0);
  CHECK(c.lookup(std::vector<block_id>{1}).hits() == 0);
  CHECK(c.pins(1) == 0);
  CHECK_THROWS_AS(c.pin(std::vector<block_id>{1}), config_error);
  CHECK(c.policy(tier::ssd).remembers(1));
  // Block 1 comes back, and block 13 demotes it to SSD: a ghost hit, so it enters SSD's M and
  // the ghost crosses it out.
  CHECK(c.insert(std::vector<block_id>{1}).new_blocks == 1);
  (void)c.insert(std::vector<block_id>{13});
  REQUIRE(c.tier_of(1) == tier::ssd);
  CHECK_FALSE(c.policy(tier::ssd).remembers(1));
  // S always holds its 1-block target from now on, so every later victim comes from S: block 1
  // stays through 30 more blocks, where LRU would drop it after 10.
  for (block_id b = 14; b <= 43; ++b)
    (void)c.insert(std::vector<block_id>{b});
  CHECK(c.tier_of(1) == tier::ssd);
  CHECK(c.check_invariants() == "");
  CHECK(c.stats().inserted_blocks == 44);
}

TEST_CASE("a block demoted from HBM into a full DRAM cascades to SSD and is dropped only from "
          "the last tier",
          "[kvcache][tiered_cache]") {
  basic_tiered_cache<h100_sxm, lru> c(small_config(1, 1, 1));
  const std::vector<block_id> a{1}, b{2}, d{3}, e{4};
  c.insert(a);
  c.insert(b); // 1 -> dram
  c.insert(d); // 2 -> dram, 1 -> ssd
  CHECK(c.tier_of(3) == tier::hbm);
  CHECK(c.tier_of(2) == tier::dram);
  CHECK(c.tier_of(1) == tier::ssd);
  CHECK(c.stats().dropped_blocks == 0);
  c.insert(e); // 3 -> dram, 2 -> ssd, 1 dropped and counted
  CHECK_FALSE(c.tier_of(1).has_value());
  CHECK(c.stats().dropped_blocks == 1);
  CHECK(c.stats().bytes_on(link::hbm_to_dram) == 3 * blk);
  CHECK(c.stats().bytes_on(link::dram_to_ssd) == 2 * blk);
  CHECK(c.check_invariants() == "");
  // With no SSD the HBM victim still reaches DRAM; the DRAM victim is the one dropped.
  basic_tiered_cache<h100_sxm, lru> two(small_config(1, 1, 0));
  two.insert(a);
  two.insert(b);
  two.insert(d);
  CHECK(two.tier_of(2) == tier::dram);
  CHECK(two.stats().dropped_blocks == 1);
}

TEST_CASE("promotion with everything pinned terminates and leaves the hit in place",
          "[kvcache][tiered_cache]") {
  basic_tiered_cache<h100_sxm, s3fifo> c(small_config(2, 2, 2));
  const std::vector<block_id> hot{1, 2}, cold{3, 4}, colder{5, 6}, extra{7};
  c.insert(hot);
  c.pin(hot);
  const insert_result r = c.insert(cold); // HBM all pinned: placed in DRAM
  CHECK(r.placed_below_hbm == 2);
  CHECK(c.tier_of(3) == tier::dram);
  c.pin(cold);
  c.insert(colder);
  c.pin(colder);
  CHECK(c.tier_of(5) == tier::ssd);
  // Every tier full of pinned blocks: nothing can move, nothing is lost, the new block is counted.
  const insert_result x = c.insert(extra);
  CHECK(x.dropped == 1);
  CHECK(c.stats().unplaced_blocks == 1);
  const std::vector<block_id> all{1, 2, 3, 4, 5, 6};
  const lookup_result l = c.lookup(all);
  CHECK(l.hit_blocks == std::array<std::int64_t, 3>{2, 2, 2});
  CHECK(l.promotion_failures == 4);
  CHECK(l.promoted_blocks == 0);
  CHECK(c.tier_of(3) == tier::dram);
  CHECK(c.check_invariants() == "");
  // Unpinning HBM lets the next lookup promote.
  c.unpin(hot);
  const lookup_result l2 = c.lookup(cold);
  CHECK(l2.promoted_blocks == 2);
  CHECK(c.tier_of(3) == tier::hbm);
  CHECK(c.tier_of(1) == tier::dram);
  CHECK(c.check_invariants() == "");
}

TEST_CASE("a lookup hits the longest cached prefix and counts the rest as misses",
          "[kvcache][tiered_cache]") {
  basic_tiered_cache<h100_sxm, lru> c(small_config(10, 10, 10));
  c.insert(std::vector<block_id>{1, 2, 3, 5});
  const lookup_result r = c.lookup(std::vector<block_id>{1, 2, 3, 4, 5});
  CHECK(r.hits() == 3);
  CHECK(r.miss_blocks == 2); // block 5 is cached but follows the missing 4
  CHECK(c.match(std::vector<block_id>{1, 2, 9}) == 2);
  CHECK(c.stats().looked_up_blocks == 5);
}

TEST_CASE("write-through copies at insertion, write-back at demotion", "[kvcache][tiered_cache]") {
  basic_tiered_cache<h100_sxm, lru> wb(small_config(2, 4, 0, write_policy::write_back));
  basic_tiered_cache<h100_sxm, lru> wt(small_config(2, 4, 0, write_policy::write_through));
  const std::vector<block_id> ids{1, 2, 3};
  wb.insert(ids);
  wt.insert(ids);
  CHECK(wb.stats().bytes_on(link::hbm_to_dram) == 1 * blk); // one demotion
  CHECK(wt.stats().bytes_on(link::hbm_to_dram) == 3 * blk); // three copies, free demotion
  CHECK(wt.stats().write_through_bytes == 3 * blk);
}

TEMPLATE_TEST_CASE("loading hits costs an NVMe read then the device's host link",
                   "[kvcache][tiered_cache]", infercost::h800_sxm, infercost::ascend_910b) {
  cache_config cfg = small_config(1, 1, 1);
  cfg.block_bytes = 1e9;
  cfg.hbm_bytes = cfg.dram_bytes = cfg.ssd_bytes = 1e9;
  cfg.ssd_read_bytes_per_s = 5e9;
  cfg.ssd_latency_s = 1e-4;
  basic_tiered_cache<TestType, lru> c(cfg);
  c.insert(std::vector<block_id>{1});
  c.insert(std::vector<block_id>{2});
  c.insert(std::vector<block_id>{3}); // 1 in ssd, 2 in dram, 3 in hbm
  const lookup_result r = c.lookup(std::vector<block_id>{1});
  // 1 GB from SSD: 100 µs + 1e9 / 5e9 s = 0.2001 s, then 1 GB over the host link.
  const double expect = 0.2001 + TestType{}.host_transfer_time_s(1e9);
  REQUIRE(std::isfinite(r.load_time_s));
  CHECK(r.load_time_s == Approx(expect));
  CHECK(r.load_bytes == 1e9);
  CHECK(r.hit_blocks[2] == 1);
  CHECK(c.tier_of(1) == tier::hbm);
  CHECK(c.stats().bytes_on(link::ssd_to_dram) == 1e9);
  CHECK(c.check_invariants() == "");
}

TEST_CASE("tiered cache rejects bad configs and bad pins", "[kvcache][tiered_cache]") {
  cache_config cfg = small_config(1, 1, 1);
  cfg.block_bytes = 0;
  CHECK_THROWS_WITH(tiered_cache(cfg), "kvcache::tiered_cache: block_bytes (0) must be > 0");
  cfg = small_config(1, 1, 1);
  cfg.dram_bytes = -1;
  CHECK_THROWS_WITH(tiered_cache(cfg), "kvcache::tiered_cache: dram_bytes (-1) must be >= 0");
  cfg.dram_bytes = std::nan("");
  CHECK_THROWS_AS(tiered_cache(cfg), config_error);
  tiered_cache c(small_config(2, 2, 2));
  c.insert(std::vector<block_id>{1});
  CHECK_THROWS_WITH(c.pin(std::vector<block_id>{1, 9}),
                    "kvcache::tiered_cache: pin block (9) is not cached");
  CHECK(c.pins(1) == 0); // nothing pinned
  CHECK_THROWS_WITH(c.unpin(std::vector<block_id>{1}),
                    "kvcache::tiered_cache: unpin block (1) is not pinned");
  c.pin(std::vector<block_id>{1});
  CHECK_THROWS_AS(c.unpin(std::vector<block_id>{1, 1}), config_error);
  CHECK(c.pins(1) == 1); // rolled back
  c.unpin(std::vector<block_id>{1});
  CHECK(c.check_invariants() == "");
}

TEST_CASE("unlimited tiers never evict", "[kvcache][tiered_cache]") {
  cache_config cfg = small_config(0, 0, 0);
  cfg.hbm_bytes = unlimited_bytes;
  tiered_cache c(cfg);
  std::vector<block_id> ids(5000);
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i] = i * 7919;
  c.insert(ids);
  CHECK(c.used_blocks(tier::hbm) == 5000);
  CHECK(c.stats().demotions[0] == 0);
  CHECK(c.lookup(ids).hit_blocks[0] == 5000);
}
