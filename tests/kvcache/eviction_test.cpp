#include <catch2/catch.hpp>

#include <algorithm>
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
#include "infercost/kvcache/eviction.hpp"
#include "infercost/kvcache/tiered_cache.hpp"

using namespace infercost;
using namespace infercost::kvcache;

static_assert(eviction_policy<lru>);
static_assert(eviction_policy<lfu>);
static_assert(eviction_policy<s3fifo>);

TEST_CASE("node index agrees with std::unordered_map over random inserts and erases, colliding "
          "tags included",
          "[kvcache][eviction]") {
  // Keys share their low bits (probing and backward shifts), and a tenth of them are built to
  // share their tag with another key (the top half of key * 2^64 / phi), so that lookups must
  // tell keys apart by the id in the node. Node i holds the key it was given; freed nodes are
  // reused.
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
    kvcache::detail::node_index idx;
    kvcache::detail::node_pool nodes;
    std::vector<std::uint32_t> free_nodes;
    std::unordered_map<block_id, std::uint32_t> ref;
    for (int op = 0; op < 200000; ++op) {
      const block_id k = keys[g.uniform_int(keys.size())];
      const auto it = ref.find(k);
      if (g.uniform_int(3) == 0) {
        if (it != ref.end()) {
          idx.erase(k, it->second);
          free_nodes.push_back(it->second);
          ref.erase(it);
        }
      } else {
        const std::size_t slot = idx.probe(nodes, k);
        REQUIRE((idx.node_at(slot) == kvcache::detail::npos) == (it == ref.end()));
        if (it == ref.end()) {
          std::uint32_t i;
          if (free_nodes.empty()) {
            i = static_cast<std::uint32_t>(nodes.size());
            nodes.emplace_back();
          } else {
            i = free_nodes.back();
            free_nodes.pop_back();
          }
          nodes[i].id = k;
          idx.insert_at(slot, k, i);
          ref.emplace(k, i);
        }
      }
      if (op % 1000 == 0) {
        REQUIRE(idx.size() == ref.size());
        for (const block_id q : keys) {
          const auto r = ref.find(q);
          REQUIRE(idx.find(nodes, q) == (r == ref.end() ? kvcache::detail::npos : r->second));
        }
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

TEST_CASE("ghost window remembers the last capacity forgets across a renumbering of its stamps, "
          "each tier in its own node word",
          "[kvcache][eviction]") {
  // Start six stamps before the renumbering point and forget 12 blocks through it.
  constexpr std::size_t capacity = 4;
  kvcache::detail::node_pool n(12);
  using kvcache::detail::ghost_window;
  ghost_window g(capacity, 1, ghost_window::renumber_at - 6);
  ghost_window other(capacity, 2);
  for (std::uint32_t i = 0; i < n.size(); ++i) {
    REQUIRE_FALSE(g.remembers(n, i)); // a fresh node is never remembered
    g.remember(n, i);
    INFO("after forgetting block " << i);
    for (std::uint32_t j = 0; j < n.size(); ++j)
      CHECK(g.remembers(n, j) == (j <= i && i - j < capacity));
    CHECK(g.size(n) == std::min<std::size_t>(i + 1, capacity));
    CHECK(other.size(n) == 0); // slot 2's word is untouched
    CHECK(n[i].next == kvcache::detail::npos);
  }
  // Renumbering (after block 5) marked the stamps of blocks forgotten by then npos and moved the
  // others down by 2^31.
  CHECK(n[0].aux == kvcache::detail::npos);
  CHECK(n[1].aux == kvcache::detail::npos);
  CHECK(n[2].aux == ghost_window::renumber_at - 4 - (std::uint32_t{1} << 31));
  CHECK(n[11].aux == n[2].aux + 9);
  // A block that comes back is crossed out; the others age out as before.
  CHECK(g.consume(n, 10));
  CHECK_FALSE(g.consume(n, 10));
  CHECK_FALSE(g.consume(n, 3));
  CHECK(g.size(n) == 3);
  g.remember(n, 0);
  CHECK_FALSE(g.remembers(n, 8));
  CHECK(g.remembers(n, 9));
  CHECK(g.remembers(n, 11));
  CHECK(g.remembers(n, 0));
}

TEST_CASE("s3fifo rejects a ghost slot outside the cache's three tiers", "[kvcache][eviction]") {
  CHECK_NOTHROW(s3fifo(10, 2));
  CHECK_THROWS_WITH(s3fifo(10, 3), "kvcache::s3fifo: slot (3) must be in [0, 3)");
  CHECK_THROWS_AS(s3fifo(10, -1), config_error);
}

TEST_CASE("intrusive list keeps queue order through removals from the middle, linked through "
          "any node word",
          "[kvcache][eviction]") {
  const std::uint64_t seed = 23;
  INFO("seed " << seed);
  rng g(seed);
  auto n = make_nodes(300);
  constexpr std::uint32_t kvcache::detail::block_node::*word = &kvcache::detail::block_node::aux2;
  kvcache::detail::intrusive_list q;
  std::deque<std::uint32_t> ref; // front = oldest
  std::vector<bool> queued(n.size(), false);
  for (int op = 0; op < 60000; ++op) {
    const std::uint64_t kind = g.uniform_int(3);
    const auto i = static_cast<std::uint32_t>(g.uniform_int(n.size()));
    if (kind == 0 && !queued[i]) {
      q.push_front(n, i, word);
      ref.push_back(i);
      queued[i] = true;
    } else if (kind == 1 && queued[i]) {
      q.unlink(n, i, word); // anywhere, the ends included
      ref.erase(std::find(ref.begin(), ref.end(), i));
      queued[i] = false;
    } else if (kind == 2 && !ref.empty()) {
      REQUIRE(q.tail == ref.front());
      q.pop_back_unlinked(n, word);
      queued[ref.front()] = false;
      ref.pop_front();
    }
    REQUIRE(q.size == ref.size());
    REQUIRE(q.tail == (ref.empty() ? kvcache::detail::npos : ref.front()));
    REQUIRE(q.head == (ref.empty() ? kvcache::detail::npos : ref.back()));
  }
  for (const auto& b : n) {
    CHECK(b.next == kvcache::detail::npos); // the other link words are untouched
    CHECK(b.aux == kvcache::detail::npos);
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
  block_id victim() {
    for (;;) {
      if (!small_.empty() && (small_.size() >= small_target_ || main_.empty())) {
        const block_id t = small_.back();
        if (freq_[t] > 0) {
          small_.pop_back();
          freq_[t] = 0;
          main_.push_front(t);
          in_main_[t] = true;
          continue;
        }
        ghost_[t] = next_++;
        return t;
      }
      const block_id t = main_.back();
      if (freq_[t] > 0) {
        --freq_[t];
        main_.pop_back();
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
  // (pins, promotions) and may come back, or leave the cache; a block that leaves the cache
  // keeps its node while the ghost remembers it (the node is reused if the id comes back), and
  // nodes the ghost has forgotten are reused for new ids. Ids come from a small hot set, so
  // ghost hits are common, and 1% are fresh ids never seen again.
  for (const auto& [capacity, hot] :
       {std::pair<std::size_t, std::uint64_t>{1, 60}, {3, 60}, {12, 60}, {40, 60}, {12, 16}}) {
    const std::uint64_t seed = 31 + capacity + hot;
    INFO("seed " << seed << ", capacity " << capacity << ", hot ids " << hot);
    block_id fresh = 1000;
    rng g(seed);
    kvcache::detail::node_pool n;
    std::vector<std::uint32_t> free_nodes;
    std::map<block_id, std::uint32_t> node_of;  // cached blocks: in the tier or detached
    std::map<block_id, std::uint32_t> ghost_of; // dropped blocks whose nodes are kept
    std::map<block_id, bool> in_tier;
    std::size_t tier_size = 0, ghost_hits = 0;
    s3fifo p(capacity);
    reference_s3fifo ref(capacity);
    auto drop = [&](block_id id) {
      const std::uint32_t i = node_of.at(id);
      REQUIRE(p.remembers(n, i) == ref.remembers(id));
      if (p.remembers(n, i))
        ghost_of[id] = i;
      else
        free_nodes.push_back(i);
      node_of.erase(id);
      in_tier.erase(id);
    };
    for (int op = 0; op < 20000; ++op) {
      const block_id id = g.uniform_int(100) == 0 ? fresh++ : g.uniform_int(hot);
      const std::uint64_t kind = g.uniform_int(8);
      const auto it = node_of.find(id);
      if (kind < 3 && (it == node_of.end() || !in_tier[id])) {
        if (tier_size == capacity) { // make room as the cache does
          const std::uint32_t v = p.victim(n);
          const block_id rv = ref.victim();
          REQUIRE(v != kvcache::detail::npos);
          REQUIRE(n[v].id == rv);
          p.erase(n, v);
          ref.erase(rv);
          --tier_size;
          in_tier[rv] = false;
          if (g.uniform_int(2) == 0 && rv != id)
            drop(rv); // demoted out of the cache; else it waits in a lower tier
        }
        std::uint32_t i;
        if (it != node_of.end()) {
          i = it->second;
        } else if (const auto gh = ghost_of.find(id); gh != ghost_of.end()) {
          i = gh->second; // the kept node of a dropped block that comes back
          ghost_of.erase(gh);
          node_of[id] = i;
        } else {
          for (auto k = ghost_of.begin(); k != ghost_of.end();) { // reclaim forgotten ghosts
            REQUIRE(p.remembers(n, k->second) == ref.remembers(k->first));
            if (!p.remembers(n, k->second)) {
              free_nodes.push_back(k->second);
              k = ghost_of.erase(k);
            } else {
              ++k;
            }
          }
          if (free_nodes.empty()) {
            i = static_cast<std::uint32_t>(n.size());
            n.emplace_back();
          } else {
            i = free_nodes.back();
            free_nodes.pop_back();
          }
          n[i] = kvcache::detail::block_node{};
          n[i].id = id;
          node_of[id] = i;
        }
        ghost_hits += ref.remembers(id) ? 1 : 0;
        p.insert(n, i);
        ref.insert(id);
        in_tier[id] = true;
        ++tier_size;
      } else if (kind < 6 && it != node_of.end() && in_tier[id]) {
        p.touch(n, it->second);
        ref.touch(id);
      } else if (kind == 6 && it != node_of.end() && in_tier[id]) {
        p.erase(n, it->second); // pinned, or promoted up
        ref.erase(id);
        in_tier[id] = false;
        --tier_size;
      } else if (kind == 7 && it != node_of.end() && !in_tier[id]) {
        drop(id); // a detached block leaves the cache from a lower tier
      }
      REQUIRE(p.size() == ref.size());
      REQUIRE(p.size() == tier_size);
      REQUIRE(p.ghost_size(n) == ref.ghost_size());
    }
    CHECK(ghost_hits > (capacity > 1 ? 100u : 0u)); // the ghost path is exercised
  }
}
