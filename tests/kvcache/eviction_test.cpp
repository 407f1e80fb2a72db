#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "infercost/core/random.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/kvcache/detail/id_map.hpp"
#include "infercost/kvcache/eviction.hpp"
#include "infercost/kvcache/tiered_cache.hpp"

using namespace infercost;
using namespace infercost::kvcache;

static_assert(eviction_policy<lru>);
static_assert(eviction_policy<lfu>);
static_assert(eviction_policy<s3fifo>);

TEST_CASE("id map agrees with std::unordered_map over random inserts and erases, colliding "
          "homes included",
          "[kvcache][eviction]") {
  // Keys share their low bits (probing and backward shifts), and a tenth of them are built to
  // share the top 32 bits of their Fibonacci hash (key * 2^64 / phi), and so their home slot,
  // with another key, so that lookups must tell keys apart by the key itself.
  constexpr std::uint64_t phi = 0x9e3779b97f4a7c15ULL;
  constexpr std::uint64_t phi_inverse = 0xf1de83e19937733dULL; // phi * phi_inverse = 1 mod 2^64
  static_assert(phi * phi_inverse == 1);
  for (const std::uint64_t seed : {7u, 8u}) {
    INFO("seed " << seed);
    rng g(seed);
    std::vector<block_id> keys;
    for (std::uint64_t q = 0; q < 3000; ++q) {
      if (q % 10 == 9) { // same top 32 bits of key * phi as the previous key, different key
        keys.push_back((keys.back() * phi + 1) * phi_inverse);
        REQUIRE((keys.back() * phi) >> 32 == (keys[keys.size() - 2] * phi) >> 32);
      } else {
        keys.push_back(q << 20);
      }
    }
    REQUIRE(std::set<block_id>(keys.begin(), keys.end()).size() == keys.size());
    kvcache::detail::block_index idx;
    std::unordered_map<block_id, block_handle> ref;
    for (int op = 0; op < 200000; ++op) {
      const block_id k = keys[g.uniform_int(keys.size())];
      const auto it = ref.find(k);
      if (g.uniform_int(3) == 0) {
        REQUIRE(idx.erase(k) == (it == ref.end() ? no_block : it->second));
        if (it != ref.end())
          ref.erase(it);
      } else {
        REQUIRE(idx.find(k) == (it == ref.end() ? no_block : it->second));
        if (it == ref.end()) {
          const auto v = static_cast<block_handle>(op);
          idx.insert(k, v);
          ref.emplace(k, v);
        }
      }
      if (op % 1000 == 0) {
        REQUIRE(idx.size() == ref.size());
        for (const block_id q : keys) {
          const auto r = ref.find(q);
          REQUIRE(idx.find(q) == (r == ref.end() ? no_block : r->second));
        }
      }
    }
  }
}

namespace {
/// A block table of `n` blocks (ids 0 .. n-1) for driving a policy P outside a cache.
template <class P> struct table_of {
  explicit table_of(std::size_t n) : blocks(n) {
    for (std::size_t i = 0; i < n; ++i)
      blocks[i].id = i;
  }
  std::vector<kvcache::detail::cached_block<typename P::node>> blocks;
  [[nodiscard]] block_table<typename P::node> view() {
    return block_table<typename P::node>(blocks);
  }
};

/// The table of blocks 0 .. n-1, inserted into `p` in that order.
template <class P> table_of<P> inserted(P& p, std::size_t n) {
  table_of<P> t(n);
  for (block_handle i = 0; i < n; ++i)
    p.insert(t.view(), i);
  return t;
}
} // namespace

TEST_CASE("lru evicts the least recently used block", "[kvcache][eviction]") {
  lru p(4);
  table_of<lru> t = inserted(p, 4);
  p.touch(t.view(), 0);
  p.erase(t.view(), 2);
  CHECK(p.size() == 3);
  CHECK(p.evict(t.view()) == 1);
  CHECK(p.evict(t.view()) == 3);
  CHECK(p.evict(t.view()) == 0);
  CHECK(p.size() == 0);
}

TEST_CASE("lfu evicts the least frequently used block, oldest first among equals",
          "[kvcache][eviction]") {
  lfu p(4);
  table_of<lfu> t = inserted(p, 4);
  p.touch(t.view(), 0);
  p.touch(t.view(), 0);
  p.touch(t.view(), 1);
  p.touch(t.view(), 2);
  // freq: 0 -> 3, 1 -> 2, 2 -> 2, 3 -> 1
  CHECK(p.evict(t.view()) == 3);
  CHECK(p.evict(t.view()) == 1); // reached frequency 2 before block 2
  p.insert(t.view(), 3);         // back at frequency 1: the next victim
  CHECK(p.evict(t.view()) == 3);
  CHECK(p.evict(t.view()) == 2);
  CHECK(p.evict(t.view()) == 0);
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

TEST_CASE("s3fifo's ghost remembers the ids of its last |M| evictions from S and crosses out "
          "those that come back",
          "[kvcache][eviction]") {
  // Capacity 10: S holds 1 block (10%), so every block that was not hit is evicted from S, and
  // the ghost remembers the last 9 of them.
  table_of<s3fifo> t(30);
  s3fifo p(10);
  REQUIRE(p.ghost_capacity() == 9);
  for (block_handle i = 0; i < 12; ++i) {
    p.insert(t.view(), i);
    if (i > 0)
      CHECK(p.evict(t.view()) == i - 1); // the one block in S
  }
  // Blocks 0..10 were evicted from S; the ghost holds the last 9: 2..10.
  CHECK(p.ghost_size() == 9);
  CHECK_FALSE(p.remembers(1));
  CHECK(p.remembers(2));
  CHECK(p.remembers(10));
  CHECK_FALSE(p.remembers(11)); // in the tier
  // Block 5 comes back: remembered, so it enters M, and the ghost crosses it out.
  p.insert(t.view(), 5);
  CHECK(t.blocks[5].node.queue == 1);
  CHECK_FALSE(p.remembers(5));
  CHECK(p.ghost_size() == 8);
  // S (block 11) holds its target, so S is evicted from: 11 is forgotten, and the 10th forget
  // since block 2's ages it out. With S below its target, M's block 5 (never hit) is the victim,
  // and blocks evicted from M are not remembered.
  CHECK(p.evict(t.view()) == 11);
  CHECK(p.evict(t.view()) == 5);
  CHECK(p.remembers(11));
  CHECK_FALSE(p.remembers(5));
  CHECK_FALSE(p.remembers(2));
  CHECK(p.remembers(3));
  CHECK(p.ghost_size() == 8); // 3, 4, 6 .. 11
  CHECK(p.size() == 0);
}

TEST_CASE("handle lists keep queue order through removals from the middle, several lists in one "
          "table",
          "[kvcache][eviction]") {
  const std::uint64_t seed = 23;
  INFO("seed " << seed);
  rng g(seed);
  table_of<lru> t(300);
  std::array<kvcache::detail::handle_list, 2> q;
  std::array<std::deque<block_handle>, 2> ref; // front = oldest
  std::vector<int> in(t.blocks.size(), -1);    // the list holding each block
  for (int op = 0; op < 60000; ++op) {
    const std::uint64_t kind = g.uniform_int(3);
    const auto l = static_cast<int>(g.uniform_int(2));
    const auto i = static_cast<block_handle>(g.uniform_int(t.blocks.size()));
    if (kind == 0 && in[i] < 0) {
      q[l].push_front(t.view(), i);
      ref[l].push_back(i);
      in[i] = l;
    } else if (kind == 1 && in[i] >= 0) {
      q[in[i]].remove(t.view(), i); // anywhere, the ends included
      auto& r = ref[in[i]];
      r.erase(std::find(r.begin(), r.end(), i));
      in[i] = -1;
    } else if (kind == 2 && !ref[l].empty()) {
      REQUIRE(q[l].pop_back(t.view()) == ref[l].front());
      in[ref[l].front()] = -1;
      ref[l].pop_front();
    }
    for (int k = 0; k < 2; ++k) {
      REQUIRE(q[k].size == ref[k].size());
      REQUIRE(q[k].tail == (ref[k].empty() ? no_block : ref[k].front()));
      REQUIRE(q[k].head == (ref[k].empty() ? no_block : ref[k].back()));
    }
  }
}

namespace {
/// S3-FIFO written the plain way, on block ids: std::list queues (front = newest) and a ghost map
/// of id -> stamp of its last forget, remembered while the stamp is among the last
/// `ghost_capacity` forgets.
class reference_s3fifo {
public:
  explicit reference_s3fifo(std::size_t capacity)
      : small_target_(capacity / 10 > 0 ? capacity / 10 : 1),
        ghost_capacity_(capacity > small_target_ ? capacity - small_target_ : 1) {}
  void insert(block_id id) {
    freq_[id] = 0;
    const bool ghost_hit = remembers(id);
    ghost_.erase(id);
    if (ghost_hit) {
      main_.push_front(id);
      in_main_[id] = true;
    } else {
      small_.push_front(id);
      in_main_[id] = false;
    }
  }
  void touch(block_id id) { freq_[id] = std::min(freq_[id] + 1, 3); }
  void erase(block_id id) { (in_main_[id] ? main_ : small_).remove(id); }
  block_id evict() {
    for (;;) {
      if (!small_.empty() && (small_.size() >= small_target_ || main_.empty())) {
        const block_id t = small_.back();
        small_.pop_back();
        if (freq_[t] > 0) {
          freq_[t] = 0;
          main_.push_front(t);
          in_main_[t] = true;
          continue;
        }
        ghost_[t] = next_++;
        return t;
      }
      const block_id t = main_.back();
      main_.pop_back();
      if (freq_[t] > 0) {
        --freq_[t];
        main_.push_front(t);
        continue;
      }
      return t;
    }
  }
  [[nodiscard]] bool remembers(block_id id) const {
    const auto it = ghost_.find(id);
    return it != ghost_.end() && next_ - it->second <= ghost_capacity_;
  }
  std::size_t size() const { return small_.size() + main_.size(); }
  std::size_t ghost_size() const {
    std::size_t n = 0;
    for (const auto& [id, stamp] : ghost_)
      n += next_ - stamp <= ghost_capacity_ ? 1 : 0;
    return n;
  }

private:
  std::size_t small_target_, ghost_capacity_;
  std::list<block_id> small_, main_;
  std::map<block_id, int> freq_;
  std::map<block_id, bool> in_main_;
  std::map<block_id, std::uint64_t> ghost_;
  std::uint64_t next_ = 0;
};
} // namespace

TEST_CASE("s3fifo matches a plain list-and-map S3-FIFO as blocks come, go and come back",
          "[kvcache][eviction]") {
  // Drives the policy the way the cache does: blocks leave the tier as victims or detached
  // (pins, promotions) and may come back, or leave the cache, which then gives their handles to
  // new blocks. Ids come from a small hot set, so ghost hits are common, and 1% are fresh ids
  // never seen again.
  for (const auto& [capacity, hot] :
       {std::pair<std::size_t, std::uint64_t>{1, 60}, {3, 60}, {12, 60}, {40, 60}, {12, 16}}) {
    const std::uint64_t seed = 31 + capacity + hot;
    INFO("seed " << seed << ", capacity " << capacity << ", hot ids " << hot);
    block_id fresh = 1000;
    rng g(seed);
    std::vector<kvcache::detail::cached_block<s3fifo::node>> blocks;
    const auto view = [&] { return block_table<s3fifo::node>(blocks); };
    std::vector<block_handle> free_handles;
    std::map<block_id, block_handle> handle_of; // cached blocks: in the tier or detached
    std::map<block_id, bool> in_tier;
    std::size_t tier_size = 0, ghost_hits = 0;
    s3fifo p(capacity);
    reference_s3fifo ref(capacity);
    auto drop = [&](block_id id) { // the block leaves the cache
      free_handles.push_back(handle_of.at(id));
      handle_of.erase(id);
      in_tier.erase(id);
      REQUIRE(p.remembers(id) == ref.remembers(id));
    };
    for (int op = 0; op < 20000; ++op) {
      const block_id id = g.uniform_int(100) == 0 ? fresh++ : g.uniform_int(hot);
      const std::uint64_t kind = g.uniform_int(8);
      const auto it = handle_of.find(id);
      if (kind < 3 && (it == handle_of.end() || !in_tier[id])) {
        if (tier_size == capacity) { // make room as the cache does
          const block_handle v = p.evict(view());
          const block_id rv = ref.evict();
          REQUIRE(blocks[v].id == rv);
          --tier_size;
          in_tier[rv] = false;
          if (g.uniform_int(2) == 0 && rv != id)
            drop(rv); // demoted out of the cache; else it waits in a lower tier
        }
        block_handle h;
        if (it != handle_of.end()) {
          h = it->second;
        } else {
          if (free_handles.empty()) {
            h = static_cast<block_handle>(blocks.size());
            blocks.emplace_back();
          } else {
            h = free_handles.back();
            free_handles.pop_back();
          }
          blocks[h].id = id; // its node holds what the handle's last block left there
          handle_of[id] = h;
        }
        ghost_hits += ref.remembers(id) ? 1 : 0;
        p.insert(view(), h);
        ref.insert(id);
        in_tier[id] = true;
        ++tier_size;
      } else if (kind < 6 && it != handle_of.end() && in_tier[id]) {
        p.touch(view(), it->second);
        ref.touch(id);
      } else if (kind == 6 && it != handle_of.end() && in_tier[id]) {
        p.erase(view(), it->second); // pinned, or promoted up
        ref.erase(id);
        in_tier[id] = false;
        --tier_size;
      } else if (kind == 7 && it != handle_of.end() && !in_tier[id]) {
        drop(id); // a detached block leaves the cache from a lower tier
      }
      REQUIRE(p.size() == ref.size());
      REQUIRE(p.size() == tier_size);
      REQUIRE(p.ghost_size() == ref.ghost_size());
      REQUIRE(p.remembers(id) == ref.remembers(id));
    }
    CHECK(ghost_hits > (capacity > 1 ? 100u : 0u)); // the ghost path is exercised
  }
}
