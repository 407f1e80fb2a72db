/// @file
/// `basic_tiered_cache<Device, Eviction>`: a prefix cache of KV blocks over three tiers (HBM,
/// DRAM, SSD), each with its own `Eviction` policy.
///
/// Rules (each checked by tests):
/// - Every block that entered the cache is in exactly one tier or was counted as dropped.
/// - A tier never holds more blocks than its capacity.
/// - Demotion cascades: a victim of HBM goes to DRAM, a victim of DRAM to SSD; if a tier has no
///   room and nothing evictable, the block goes to the next tier down; only when no lower tier can
///   take it is it dropped, and that is counted.
/// - Pinned blocks (in use by running requests) are never evicted. Promotion of a hit to HBM
///   happens only if HBM has a free slot or an evictable block, so it never loops: with
///   everything pinned the hit stays where it is and the failed promotion is counted.
/// - Hit blocks + missed blocks = looked-up blocks. A lookup hits the longest run of leading
///   blocks present in any tier; everything after the first absent block is a miss.
///
/// Cost face: moves are counted in bytes per link; the load time of a lookup's hits is the NVMe
/// read of its SSD hits (one latency + bytes / read bandwidth) followed by the host-link copy of
/// its DRAM and SSD hits to HBM (`Device::host_transfer_time_s`, the instance's devices loading
/// their shares in parallel). Demotions run in the background and are reported as bytes.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/fwd.hpp"
#include "infercost/kvcache/eviction.hpp"
#include "infercost/kvcache/tiers.hpp"

namespace infercost::kvcache {

/// Capacities, block size, write policy and transfer characteristics of one cache.
struct cache_config {
  double hbm_bytes = 0.0;   ///< HBM given to KV (all devices of the instance); may be unlimited
  double dram_bytes = 0.0;  ///< host DRAM given to KV; may be unlimited
  double ssd_bytes = 0.0;   ///< NVMe given to KV; may be unlimited
  double block_bytes = 0.0; ///< KV bytes of one block (> 0), see kvcache::block_bytes
  std::int64_t block_tokens = io::mooncake_block_tokens; ///< tokens per block
  write_policy write = write_policy::write_back;
  bool promote_on_hit = true; ///< copy DRAM/SSD hits up to HBM
  int devices = 1;            ///< devices whose host links load a lookup's hits in parallel
  /// NVMe bandwidth and latency available to this instance; default one Samsung 990 PRO.
  double ssd_read_bytes_per_s = 7450.0 * units::mega;
  double ssd_write_bytes_per_s = 6900.0 * units::mega;
  double ssd_latency_s = 100.0 * units::us;

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "kvcache::tiered_cache";
    auto capacity = [&](std::string_view f, double v) {
      if (std::isnan(v) || v < 0.0)
        throw config_error(c, f, fmt::format("({}) must be >= 0", v));
    };
    capacity("hbm_bytes", hbm_bytes);
    capacity("dram_bytes", dram_bytes);
    capacity("ssd_bytes", ssd_bytes);
    check_positive(c, "block_bytes", block_bytes);
    check_positive(c, "block_tokens", block_tokens);
    check_positive(c, "devices", devices);
    check_positive(c, "ssd_read_bytes_per_s", ssd_read_bytes_per_s);
    check_positive(c, "ssd_write_bytes_per_s", ssd_write_bytes_per_s);
    check_non_negative(c, "ssd_latency_s", ssd_latency_s);
  }
};

/// A cache config for an instance of `d.devices` devices of type Device serving `m`, on hosts
/// `h`. @throws config_error for invalid input or weights that do not fit.
template <device_cost_model Device>
[[nodiscard]] cache_config make_cache_config(const Device& dev, const model::model_config& m,
                                             const deployment& d, const host_config& h = {},
                                             write_policy w = write_policy::write_back) {
  const tier_bytes t = instance_tier_bytes(dev, m, d, h);
  const double share = static_cast<double>(d.devices) / h.devices_per_node;
  const double drives = std::max(h.ssd_drives * share, 1.0);
  return {.hbm_bytes = t.hbm,
          .dram_bytes = t.dram,
          .ssd_bytes = t.ssd,
          .block_bytes = block_bytes(m, d),
          .block_tokens = d.block_tokens,
          .write = w,
          .promote_on_hit = true,
          .devices = d.devices,
          .ssd_read_bytes_per_s = h.ssd_read_bytes_per_s * drives,
          .ssd_write_bytes_per_s = h.ssd_write_bytes_per_s * drives,
          .ssd_latency_s = h.ssd_latency_s};
}

/// Links bytes move over. ssd→hbm goes through DRAM and counts on both ssd_to_dram and
/// dram_to_hbm; hbm→ssd (DRAM full of pinned blocks) counts on hbm_to_dram and dram_to_ssd.
enum class link { hbm_to_dram, dram_to_hbm, dram_to_ssd, ssd_to_dram };
inline constexpr int num_links = 4;

/// What one lookup found.
struct lookup_result {
  std::array<std::int64_t, num_tiers> hit_blocks{}; ///< leading blocks found, by tier found in
  std::int64_t miss_blocks = 0;                     ///< blocks after the cached prefix
  std::int64_t promoted_blocks = 0;                 ///< hits copied up to HBM
  std::int64_t promotion_failures = 0; ///< hits left below HBM (nothing in HBM evictable)
  double load_bytes = 0.0;             ///< bytes copied from DRAM/SSD to HBM for the hits
  double load_time_s = 0.0;            ///< NVMe read + host-link copy of those bytes

  /// Leading blocks found in any tier.
  [[nodiscard]] std::int64_t hits() const noexcept {
    return hit_blocks[0] + hit_blocks[1] + hit_blocks[2];
  }
};

/// What one insert did.
struct insert_result {
  std::int64_t new_blocks = 0;       ///< blocks not cached before
  std::int64_t present_blocks = 0;   ///< blocks already cached (refreshed)
  std::int64_t placed_below_hbm = 0; ///< new blocks that went to DRAM/SSD (HBM all pinned)
  std::int64_t dropped = 0;          ///< new blocks no tier could take
};

/// Running totals of a cache.
struct cache_stats {
  std::int64_t lookups = 0; ///< lookup calls
  std::int64_t looked_up_blocks = 0;
  std::array<std::int64_t, num_tiers> hit_blocks{};
  std::int64_t miss_blocks = 0;
  std::int64_t inserted_blocks = 0; ///< new blocks that entered the cache
  std::int64_t unplaced_blocks = 0; ///< new blocks dropped at insertion (no tier had room)
  std::int64_t dropped_blocks = 0;  ///< blocks evicted from the last tier that could hold them
  std::array<std::int64_t, num_tiers> demotions{}; ///< blocks leaving each tier downwards
  std::int64_t promotions = 0;
  std::int64_t promotion_failures = 0;
  std::array<double, num_links> bytes{}; ///< bytes moved per link
  double write_through_bytes = 0.0;      ///< of bytes[hbm_to_dram], copies made at insertion

  [[nodiscard]] std::int64_t hits() const noexcept {
    return hit_blocks[0] + hit_blocks[1] + hit_blocks[2];
  }
  /// Bytes moved over one link.
  [[nodiscard]] double bytes_on(link l) const noexcept { return bytes[static_cast<int>(l)]; }
};

namespace detail {
/// Capacity in blocks of `bytes` bytes; unlimited maps to a bound no trace reaches.
[[nodiscard]] inline std::int64_t capacity_blocks(double bytes, double block_bytes) {
  constexpr double huge = 1e15;
  const double b = std::isinf(bytes) ? huge : std::floor(bytes / block_bytes);
  return static_cast<std::int64_t>(std::min(b, huge));
}
} // namespace detail

/// A three-tier prefix cache of KV blocks. `Device` prices host-link transfers; `Eviction` (an
/// eviction_policy: lru, lfu, s3fifo) orders each tier's evictable blocks. Every operation is
/// O(1) per block (expected, amortised). The default policy is lru (fwd.hpp).
template <class Device, class Eviction> class basic_tiered_cache {
  static_assert(device_cost_model<Device>,
                "basic_tiered_cache: Device must model infercost::device_cost_model (a catalog "
                "device such as h100_sxm or ascend_910b)");
  static_assert(eviction_policy<Eviction>,
                "basic_tiered_cache: Eviction must model kvcache::eviction_policy (lru, lfu or "
                "s3fifo, or a type with insert/touch/erase/victim/size and a name)");

public:
  using device_type = Device;
  using eviction_type = Eviction;

  /// @throws config_error if `cfg` is invalid.
  explicit basic_tiered_cache(const cache_config& cfg, Device device = Device{})
      : cfg_((cfg.validate(), cfg)), device_(std::move(device)),
        capacity_{detail::capacity_blocks(cfg.hbm_bytes, cfg.block_bytes),
                  detail::capacity_blocks(cfg.dram_bytes, cfg.block_bytes),
                  detail::capacity_blocks(cfg.ssd_bytes, cfg.block_bytes)},
        policy_{make_policy(0), make_policy(1), make_policy(2)} {
    // Bounded caches allocate their nodes (up to 2^22) and index (up to 2^20 blocks, 32 MB) up
    // front, so steady state does not grow them. The pool has one node more than the tiers: a
    // new block is given its node before room is made for it; with a ghost, room for as many
    // dropped blocks' nodes again.
    const std::int64_t total = (capacity_[0] + capacity_[1] + capacity_[2]) * (has_ghost ? 2 : 1);
    if (total > 0 && total <= (std::int64_t{1} << 22)) {
      // Constructed once and cleared (capacity stays) so that the pool's pages are mapped now,
      // not on the first requests.
      nodes_.resize(static_cast<std::size_t>(total) + 1);
      nodes_.clear();
      if constexpr (has_ghost)
        ghost_nodes_.reserve(static_cast<std::size_t>(total));
    }
    if (total > 0 && total <= (std::int64_t{1} << 20))
      index_.reserve(static_cast<std::size_t>(total) + 1);
    if constexpr (has_ghost)
      for (int t = 0; t < num_tiers; ++t)
        ghost_capacity_ += ghost_capacity(t);
  }

  /// Whether `Eviction` keeps a ghost of forgotten ids (s3fifo): then the index also keeps the
  /// nodes of dropped blocks some tier's ghost still remembers (ghost_blocks()).
  static constexpr bool has_ghost = requires(const Eviction& p, const detail::node_pool& n) {
    p.remembers(n, std::uint32_t{});
  };

  [[nodiscard]] const cache_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }
  [[nodiscard]] const cache_stats& stats() const noexcept { return stats_; }
  /// Capacity of tier `t` in blocks.
  [[nodiscard]] std::int64_t capacity_blocks(tier t) const noexcept {
    return capacity_[static_cast<int>(t)];
  }
  /// Blocks held in tier `t`.
  [[nodiscard]] std::int64_t used_blocks(tier t) const noexcept {
    return used_[static_cast<int>(t)];
  }
  /// Blocks held in all tiers.
  [[nodiscard]] std::int64_t size() const noexcept { return used_[0] + used_[1] + used_[2]; }
  /// Dropped blocks whose nodes are kept (not cached: lookups miss them) while a tier's ghost may
  /// remember them; always 0 without a ghost.
  [[nodiscard]] std::int64_t ghost_blocks() const noexcept { return ghosts_; }

  /// The tier holding `id`, if any.
  [[nodiscard]] std::optional<tier> tier_of(block_id id) const noexcept {
    const std::uint32_t i = find_cached(id);
    if (i == detail::npos)
      return std::nullopt;
    return static_cast<tier>(nodes_[i].tier);
  }
  /// How many requests pin `id` (0 if absent or unpinned).
  [[nodiscard]] std::uint32_t pins(block_id id) const noexcept {
    const std::uint32_t i = find_cached(id);
    return i == detail::npos ? 0 : nodes_[i].pins;
  }

  /// Length of the cached prefix of `blocks`, without side effects (for cache-aware routing).
  [[nodiscard]] std::int64_t match(std::span<const block_id> blocks) const noexcept {
    std::int64_t n = 0;
    for (const block_id b : blocks) {
      if (find_cached(b) == detail::npos)
        break;
      ++n;
    }
    return n;
  }

  /// Looks up the longest cached prefix of `blocks`: counts hits per tier, refreshes them in
  /// their policy, promotes DRAM/SSD hits to HBM (if configured) and prices loading them.
  lookup_result lookup(std::span<const block_id> blocks) {
    lookup_result r;
    std::array<double, num_tiers> from_bytes{};
    prefetch_ahead(blocks, 0);
    std::size_t k = 0;
    for (; k < blocks.size(); ++k) {
      prefetch_ahead(blocks, k + 1);
      const std::uint32_t i = index_.find(nodes_, blocks[k]);
      if (i == detail::npos)
        break;
      const int t = nodes_[i].tier;
      if (has_ghost && t == detail::ghost_tier)
        break;
      ++r.hit_blocks[t];
      if (t == 0 || !cfg_.promote_on_hit) {
        if (nodes_[i].pins == 0)
          policy_[t].touch(nodes_, i);
        if (t != 0)
          from_bytes[t] += cfg_.block_bytes;
        continue;
      }
      if (promote(i, t)) {
        ++r.promoted_blocks;
      } else {
        ++r.promotion_failures;
        if (nodes_[i].pins == 0)
          policy_[t].touch(nodes_, i);
      }
      from_bytes[t] += cfg_.block_bytes;
    }
    r.miss_blocks = static_cast<std::int64_t>(blocks.size() - k);
    r.load_bytes = from_bytes[1] + from_bytes[2];
    r.load_time_s = load_time_s(from_bytes[1], from_bytes[2]);
    ++stats_.lookups;
    stats_.looked_up_blocks += static_cast<std::int64_t>(blocks.size());
    for (int t = 0; t < num_tiers; ++t)
      stats_.hit_blocks[t] += r.hit_blocks[t];
    stats_.miss_blocks += r.miss_blocks;
    stats_.promotion_failures += r.promotion_failures;
    return r;
  }

  /// Inserts blocks whose KV was just computed in HBM. New blocks go to HBM (evicting if needed),
  /// or to the first lower tier with room when HBM holds only pinned blocks, or are dropped and
  /// counted. Blocks already cached are refreshed and, if below HBM, moved up at no transfer cost
  /// when HBM can make room (their KV is in HBM now).
  insert_result insert(std::span<const block_id> blocks) {
    insert_result r;
    prefetch_ahead(blocks, 0);
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      prefetch_ahead(blocks, k + 1);
      const block_id b = blocks[k];
      const std::size_t slot = index_.probe(nodes_, b);
      const std::uint32_t i = index_.node_at(slot);
      const bool ghost = has_ghost && i != detail::npos && nodes_[i].tier == detail::ghost_tier;
      if (i != detail::npos && !ghost) {
        ++r.present_blocks;
        const int t = nodes_[i].tier;
        if (t != 0 && can_make_room(0)) {
          detach(i, t);
          make_room<0>();
          attach<0>(i);
        } else if (nodes_[i].pins == 0) {
          policy_[t].touch(nodes_, i);
        }
        continue;
      }
      ++r.new_blocks;
      int t = 0;
      while (t < num_tiers && !can_make_room(t))
        ++t;
      if (t == num_tiers) {
        ++r.dropped; // a ghost node stays a ghost
        continue;
      }
      // Indexed before room is made, while the probe's slot is still valid. A ghost node is
      // reused: its stamps let each tier's ghost recognise the block.
      const std::uint32_t n = ghost ? revive(i) : new_node(b, slot);
      if (t == 0) [[likely]] { // inlined: the path of nearly every new block
        make_room<0>();
        attach<0>(n);
      } else {
        make_room(t);
        attach(n, t);
      }
      if (t == 0 && cfg_.write == write_policy::write_through) {
        stats_.bytes[static_cast<int>(link::hbm_to_dram)] += cfg_.block_bytes;
        stats_.write_through_bytes += cfg_.block_bytes;
      }
      if (t > 0) {
        ++r.placed_below_hbm;
        count_move(0, t);
      }
    }
    stats_.inserted_blocks += r.new_blocks;
    stats_.unplaced_blocks += r.dropped;
    return r;
  }

  /// Pins every block of `blocks` (a running request uses them): pinned blocks are never
  /// evicted. Pins nest. @throws config_error, pinning nothing, if a block is not cached.
  void pin(std::span<const block_id> blocks) {
    for (const block_id b : blocks)
      if (find_cached(b) == detail::npos)
        throw config_error("kvcache::tiered_cache", "pin",
                           fmt::format("block ({}) is not cached", b));
    for (const block_id b : blocks) {
      const std::uint32_t i = index_.find(nodes_, b);
      if (nodes_[i].pins++ == 0)
        policy_[nodes_[i].tier].erase(nodes_, i);
    }
  }

  /// Releases one pin of every block of `blocks`; a block whose last pin goes becomes evictable
  /// again (as if just used). @throws config_error, unpinning nothing, if a block is not pinned.
  void unpin(std::span<const block_id> blocks) {
    for (const block_id b : blocks) {
      const std::uint32_t i = find_cached(b);
      if (i == detail::npos || nodes_[i].pins == 0)
        throw config_error("kvcache::tiered_cache", "unpin",
                           fmt::format("block ({}) is not pinned", b));
    }
    // A block listed twice must be pinned twice.
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      const std::uint32_t i = index_.find(nodes_, blocks[k]);
      if (nodes_[i].pins == 0) {
        for (std::size_t j = 0; j < k; ++j)
          pin(blocks.subspan(j, 1));
        throw config_error("kvcache::tiered_cache", "unpin",
                           fmt::format("block ({}) is not pinned", blocks[k]));
      }
      if (--nodes_[i].pins == 0)
        policy_[nodes_[i].tier].insert(nodes_, i);
    }
  }

  /// Time to load `dram_bytes` from DRAM and `ssd_bytes` from SSD into HBM: the NVMe read, then
  /// one host-link copy of both, split over the instance's devices.
  [[nodiscard]] double load_time_s(double dram_bytes, double ssd_bytes) const {
    double t = 0.0;
    if (ssd_bytes > 0.0)
      t += cfg_.ssd_latency_s + ssd_bytes / cfg_.ssd_read_bytes_per_s;
    if (dram_bytes + ssd_bytes > 0.0)
      t += device_.host_transfer_time_s((dram_bytes + ssd_bytes) / cfg_.devices);
    return t;
  }

  /// Checks every invariant by a full scan (for tests); returns "" or the first violation.
  [[nodiscard]] std::string check_invariants() const {
    std::array<std::int64_t, num_tiers> used{}, evictable{};
    std::size_t live = 0;
    std::int64_t ghosts = 0;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
      const detail::block_node& n = nodes_[i];
      if (n.tier == detail::free_tier)
        continue;
      if (index_.find(nodes_, n.id) != i)
        return fmt::format("block {} is not indexed at its node", n.id);
      ++live;
      if (n.tier == detail::ghost_tier) {
        ++ghosts;
        if (!has_ghost || n.pins != 0)
          return fmt::format("ghost block {} (pins {}) without a ghost policy", n.id, n.pins);
        continue;
      }
      if (n.tier >= num_tiers)
        return fmt::format("block {} has tier {}", n.id, n.tier);
      ++used[n.tier];
      if (n.pins == 0)
        ++evictable[n.tier];
    }
    if (live != index_.size())
      return fmt::format("{} live nodes but {} indexed", live, index_.size());
    if (ghosts != ghosts_)
      return fmt::format("{} ghost nodes but {} counted", ghosts, ghosts_);
    for (int t = 0; t < num_tiers; ++t) {
      if (used[t] != used_[t])
        return fmt::format("tier {} counts {} blocks but holds {}", t, used_[t], used[t]);
      if (used[t] > capacity_[t])
        return fmt::format("tier {} holds {} blocks over capacity {}", t, used[t], capacity_[t]);
      if (static_cast<std::int64_t>(policy_[t].size()) != evictable[t])
        return fmt::format("tier {} policy holds {} blocks but {} are evictable", t,
                           policy_[t].size(), evictable[t]);
    }
    if (stats_.inserted_blocks != size() + stats_.dropped_blocks + stats_.unplaced_blocks)
      return fmt::format("inserted {} != held {} + dropped {} + unplaced {}",
                         stats_.inserted_blocks, size(), stats_.dropped_blocks,
                         stats_.unplaced_blocks);
    if (stats_.looked_up_blocks != stats_.hits() + stats_.miss_blocks)
      return fmt::format("looked up {} != hits {} + misses {}", stats_.looked_up_blocks,
                         stats_.hits(), stats_.miss_blocks);
    return {};
  }

private:
  /// Tier t's policy, told its tier if it takes one.
  [[nodiscard]] Eviction make_policy(int t) const {
    const auto capacity =
        static_cast<std::size_t>(std::min<std::int64_t>(capacity_[t], std::int64_t{1} << 40));
    if constexpr (std::constructible_from<Eviction, std::size_t, int>)
      return Eviction(capacity, t);
    else
      return Eviction(capacity);
  }

  /// Whether tier t can take one more block: a free slot, or an evictable block to demote.
  [[nodiscard]] bool can_make_room(int t) const noexcept {
    return used_[t] < capacity_[t] || policy_[t].size() > 0; // a 0-block tier has no policy entries
  }

  /// Blocks ahead of the one being processed whose index slots are fetched early.
  static constexpr std::size_t prefetch_distance = 8;

  /// Software pipeline over a request's blocks: before block 0, fetches the index slots of the
  /// first prefetch_distance - 1 blocks (k == 0); at block k >= 1, the slot of block
  /// k + prefetch_distance - 1; so a request's memory accesses overlap instead of waiting one by
  /// one. Past the last block it fetches the last block's slot again: a fetch of a line already
  /// fetched costs little, a loop exit or branch the predictor misses on every request costs
  /// more.
  [[gnu::always_inline]] void prefetch_ahead(std::span<const block_id> blocks,
                                             std::size_t k) const noexcept {
    if (k == 0) {
      if (blocks.empty())
        return;
      for (std::size_t j = 0; j + 1 < prefetch_distance; ++j) // a fixed count: unrolled
        index_.prefetch(blocks[std::min(j, blocks.size() - 1)]);
    } else {
      index_.prefetch(blocks[std::min(k + prefetch_distance - 1, blocks.size() - 1)]);
    }
  }

  /// After a drop from tier t, fetches the index slot of the block that tier would evict next.
  [[gnu::always_inline]] void prefetch_next_drop(int t) const noexcept {
    if constexpr (requires(const Eviction& p) { p.next_victim(nodes_); }) {
      const std::uint32_t w = policy_[t].next_victim(nodes_);
      if (w != detail::npos)
        index_.prefetch(nodes_[w].id);
    }
  }

  /// Ids tier t's ghost remembers at most (its capacity if the policy does not say).
  [[nodiscard]] std::size_t ghost_capacity(int t) const noexcept {
    if constexpr (requires(const Eviction& p) { p.ghost_capacity(); })
      return policy_[t].ghost_capacity();
    else
      return static_cast<std::size_t>(std::min<std::int64_t>(capacity_[t], std::int64_t{1} << 40));
  }

  /// Frees one slot in tier t if it is full; requires can_make_room(t).
  void make_room(int t) {
    switch (t) {
    case 0:
      make_room<0>();
      break;
    case 1:
      make_room<1>();
      break;
    default:
      make_room<2>();
      break;
    }
  }

  /// Frees one slot in tier T if it is full; requires can_make_room(T). The victim moves to the
  /// first lower tier that can take it, which may in turn evict its own victim, and so on; the
  /// last victim is dropped if no tier below can take it. Victims are chosen top-down and land
  /// bottom-up, at most one per tier (templates unroll the cascade).
  template <int T> [[gnu::always_inline]] void make_room() {
    if (used_[T] < capacity_[T])
      return;
    std::uint32_t v;
    if constexpr (requires(Eviction & p) { p.template pop_victim_at<T>(nodes_); }) {
      v = policy_[T].template pop_victim_at<T>(nodes_);
      INFERCOST_ASSERT(v != detail::npos, "make_room called on a tier with nothing evictable");
    } else if constexpr (requires(Eviction & p) { p.pop_victim(nodes_); }) {
      v = policy_[T].pop_victim(nodes_);
      INFERCOST_ASSERT(v != detail::npos, "make_room called on a tier with nothing evictable");
    } else {
      v = policy_[T].victim(nodes_);
      INFERCOST_ASSERT(v != detail::npos, "make_room called on a tier with nothing evictable");
      policy_[T].erase(nodes_, v); // victims are unpinned
    }
    --used_[T];
    ++stats_.demotions[T];
    demote<T, T + 1>(v);
  }

  /// Moves victim v of tier From (detached) to tier U or the first tier below it that can take
  /// it, or drops it.
  template <int From, int U> [[gnu::always_inline]] void demote(std::uint32_t v) {
    if constexpr (U == num_tiers) {
      drop(v);
      prefetch_next_drop(From);
    } else {
      if (!can_make_room(U)) {
        demote<From, U + 1>(v);
        return;
      }
      make_room<U>();
      attach_victim<U>(v);
      count_move(From, U);
    }
  }

  /// Forgets block v (already detached) and counts it as dropped. With a ghost, a block some
  /// tier remembers keeps its node and index entry (as a ghost node) until none does; ghost
  /// nodes no tier remembers any more are freed in batches (reclaim_ghosts()).
  [[gnu::always_inline]] void drop(std::uint32_t v) {
    ++stats_.dropped_blocks;
    if constexpr (has_ghost) {
      if (remembered(v)) {
        nodes_[v].tier = detail::ghost_tier;
        ++ghosts_;
        ghost_nodes_.push_back({nodes_[v].id, v});
        if (ghost_nodes_.size() >= reclaim_at_) [[unlikely]]
          reclaim_ghosts();
        return;
      }
    }
    free_node(v);
  }

  /// Frees node v and its index entry.
  void free_node(std::uint32_t v) noexcept { release_node(nodes_[v].id, v); }
  /// free_node() of node v, which holds block `id`, inlined.
  [[gnu::always_inline]] void release_node(block_id id, std::uint32_t v) noexcept {
    index_.erase(id, v);
    nodes_[v].tier = detail::free_tier;
    nodes_[v].prev = free_; // a free node is in no policy list
    free_ = v;
  }

  /// Whether any tier's ghost remembers node v's block.
  [[nodiscard, gnu::always_inline]] bool remembered(std::uint32_t v) const noexcept {
    if constexpr (has_ghost)
      return policy_[2].remembers(nodes_, v) || policy_[1].remembers(nodes_, v) ||
             policy_[0].remembers(nodes_, v); // SSD's first: it has just evicted v
    else
      return false;
  }

  /// A ghost node and the id it held when it became one.
  struct ghost_entry {
    block_id id = 0;
    std::uint32_t node = detail::npos;
  };

  /// Ghost entries (drops of remembered blocks) between two runs of reclaim_ghosts().
  static constexpr std::size_t reclaim_batch = 256;

  /// Frees ghost nodes no tier remembers any more, oldest dropped first: pops entries from the
  /// front of ghost_nodes_ (stale ones, of nodes revived or freed since, are skipped) and frees
  /// forgotten ghosts, up to the first ghost still remembered. Ghosts are forgotten roughly in
  /// drop order, so that one is normally followed by ones still remembered; but if entries pile
  /// up behind it (more than twice what the ghosts can remember, plus a batch: so some are
  /// forgotten or stale, e.g. because the front's tier stopped evicting), remembered entries
  /// move to the back, up to reclaim_batch of them per run, until forgotten ones come to the
  /// front. Runs once per reclaim_batch drops of remembered blocks, so the check that stops it
  /// is paid once per batch. Amortised O(1) per drop: each drop pushes one entry, each run
  /// rotates at most a batch of them. Entries (and so ghost nodes) stay below twice the ghosts'
  /// capacity plus two batches when that capacity is below a batch.
  [[gnu::noinline]] void reclaim_ghosts() {
    constexpr std::size_t ahead = 32; // entries whose index slot and node are fetched early
    for (std::size_t k = 0; k < ahead && k < ghost_nodes_.size(); ++k)
      prefetch_ghost(ghost_nodes_[k]);
    std::size_t rotations = 0;
    while (!ghost_nodes_.empty()) {
      if (ghost_nodes_.size() > ahead)
        prefetch_ghost(ghost_nodes_[ahead]);
      const ghost_entry e = ghost_nodes_.front();
      const std::uint32_t j = e.node;
      if (nodes_[j].tier == detail::ghost_tier) {
        if (remembered(j)) {
          if (rotations == reclaim_batch ||
              ghost_nodes_.size() <= 2 * ghost_capacity_ + reclaim_batch)
            break;
          ++rotations;
          ghost_nodes_.pop_front();
          ghost_nodes_.push_back(e);
          continue;
        }
        --ghosts_;
        release_node(e.id, j);
      }
      ghost_nodes_.pop_front();
    }
    reclaim_at_ = ghost_nodes_.size() + reclaim_batch;
  }

  /// Fetches what reclaim_ghosts() reads for entry e: its index slot and node (which holds the
  /// ghost stamps).
  [[gnu::always_inline]] void prefetch_ghost(const ghost_entry& e) const noexcept {
    index_.prefetch(e.id);
    detail::prefetch(&nodes_[e.node]);
  }

  /// Takes ghost node i back for its block, which is being inserted again.
  std::uint32_t revive(std::uint32_t i) noexcept {
    --ghosts_;
    nodes_[i].tier = detail::free_tier; // until attached: reclaim_ghosts() must not free it
    return i;
  }

  /// The node of `id` if cached (not a ghost), else npos.
  [[nodiscard]] std::uint32_t find_cached(block_id id) const noexcept {
    const std::uint32_t i = index_.find(nodes_, id);
    if constexpr (has_ghost)
      if (i != detail::npos && nodes_[i].tier == detail::ghost_tier)
        return detail::npos;
    return i;
  }

  /// Bytes of one block moving down from tier `from` to tier `to`.
  void count_move(int from, int to) noexcept {
    if (from == 0 && cfg_.write == write_policy::write_back)
      stats_.bytes[static_cast<int>(link::hbm_to_dram)] += cfg_.block_bytes;
    if (to == 2)
      stats_.bytes[static_cast<int>(link::dram_to_ssd)] += cfg_.block_bytes;
  }

  /// Copies block i (in tier `from`, DRAM or SSD) up to HBM if HBM can make room; returns whether
  /// it did.
  bool promote(std::uint32_t i, int from) {
    if (!can_make_room(0))
      return false;
    detach(i, from);
    make_room<0>();
    attach<0>(i);
    ++stats_.promotions;
    stats_.bytes[static_cast<int>(link::dram_to_hbm)] += cfg_.block_bytes;
    if (from == 2)
      stats_.bytes[static_cast<int>(link::ssd_to_dram)] += cfg_.block_bytes;
    return true;
  }

  /// Removes block i from its tier t (its node and index entry stay).
  void detach(std::uint32_t i, int t) noexcept {
    if (nodes_[i].pins == 0)
      policy_[t].erase(nodes_, i);
    --used_[t];
  }
  /// Puts detached block i into tier t, which has a free slot: every caller has just run
  /// make_room(t), which asserts that it can free one (check_invariants() checks capacities).
  [[gnu::always_inline]] void attach(std::uint32_t i, int t) {
    nodes_[i].tier = static_cast<std::uint8_t>(t);
    ++used_[t];
    if (nodes_[i].pins == 0)
      policy_[t].insert(nodes_, i);
  }
  /// attach() to tier T, known at compile time.
  template <int T> [[gnu::always_inline]] void attach(std::uint32_t i) {
    if (nodes_[i].pins == 0) {
      attach_victim<T>(i);
    } else {
      nodes_[i].tier = static_cast<std::uint8_t>(T);
      ++used_[T];
    }
  }

  /// attach() of a victim of a higher tier, which is unpinned (policies hold only unpinned
  /// blocks).
  template <int T> [[gnu::always_inline]] void attach_victim(std::uint32_t i) {
    nodes_[i].tier = static_cast<std::uint8_t>(T);
    ++used_[T];
    if constexpr (requires(Eviction & p) { p.template insert_at<T>(nodes_, i); })
      policy_[T].template insert_at<T>(nodes_, i);
    else
      policy_[T].insert(nodes_, i);
  }

  /// A fresh node for absent block `id`, indexed at `slot` (from index_.probe(id)).
  std::uint32_t new_node(block_id id, std::size_t slot) {
    std::uint32_t i;
    if (free_ != detail::npos) {
      i = free_;
      free_ = nodes_[i].prev;
      nodes_[i] = detail::block_node{};
    } else {
      INFERCOST_ASSERT(nodes_.size() < detail::npos - 1, "more than 2^32 cached blocks");
      i = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    nodes_[i].id = id;
    index_.insert_at(slot, id, i);
    return i;
  }

  cache_config cfg_;
  Device device_;
  std::array<std::int64_t, num_tiers> capacity_;
  std::array<std::int64_t, num_tiers> used_{};
  std::array<Eviction, num_tiers> policy_;
  detail::node_pool nodes_;
  detail::node_index index_;
  std::uint32_t free_ = detail::npos;
  detail::ring<ghost_entry> ghost_nodes_;  ///< ghost nodes, by drop (entries may be stale)
  std::int64_t ghosts_ = 0;                ///< nodes with tier ghost_tier
  std::size_t reclaim_at_ = reclaim_batch; ///< ghost_nodes_ size that runs reclaim_ghosts()
  std::size_t ghost_capacity_ = 0;         ///< ids all tiers' ghosts remember at most
  cache_stats stats_;
};

/// A three-tier LRU cache priced on the default device.
using tiered_cache = basic_tiered_cache<default_device, lru>;

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): the LRU cache on a run-time device, instantiated once.
INFERCOST_EXTERN template class basic_tiered_cache<any_device, lru>;
#endif

} // namespace infercost::kvcache
