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

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
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
#include "infercost/io/workload_types.hpp"
#include "infercost/kvcache/detail/id_map.hpp"
#include "infercost/kvcache/eviction.hpp" // the concept and the library's policies
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

/// The tiers of one instance, as a cache config: `hbm_bytes` of HBM, its share of hosts `h`'s DRAM
/// and drives (instance_host_share; each only when used), blocks of `block_bytes` bytes holding
/// `block_tokens` tokens. The drives' bandwidths add (at least one drive's).
/// @throws config_error for an invalid host or device count.
template <device_cost_model Device>
[[nodiscard]] cache_config
host_cache_config(const Device& dev, const host_config& h, int devices, double hbm_bytes,
                  double block_bytes, std::int64_t block_tokens, bool use_dram = true,
                  bool use_ssd = true, write_policy w = write_policy::write_back) {
  const host_share s = instance_host_share(dev, h, devices);
  const double drives = std::max(s.ssd_drives, 1.0);
  return {.hbm_bytes = hbm_bytes,
          .dram_bytes = use_dram ? s.dram_bytes : 0.0,
          .ssd_bytes = use_ssd ? s.ssd_bytes : 0.0,
          .block_bytes = block_bytes,
          .block_tokens = block_tokens,
          .write = w,
          .promote_on_hit = true,
          .devices = devices,
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
/// eviction_policy: lru, lfu, s3fifo, or a user's own) orders each tier's evictable blocks, one
/// policy object per tier. Every operation is O(1) per block (expected, amortised) when the
/// policy's are. The default policy is lru (fwd.hpp).
template <device_cost_model Device, eviction_policy Eviction> class basic_tiered_cache {
public:
  using device_type = Device;
  using eviction_type = Eviction;

  /// @throws config_error if `cfg` is invalid.
  explicit basic_tiered_cache(const cache_config& cfg, Device device = Device{})
      : cfg_((cfg.validate(), cfg)), device_(std::move(device)),
        capacity_{detail::capacity_blocks(cfg.hbm_bytes, cfg.block_bytes),
                  detail::capacity_blocks(cfg.dram_bytes, cfg.block_bytes),
                  detail::capacity_blocks(cfg.ssd_bytes, cfg.block_bytes)},
        policy_{make_policy(0), make_policy(1), make_policy(2)} {}

  [[nodiscard]] const cache_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }
  [[nodiscard]] const cache_stats& stats() const noexcept { return stats_; }
  /// Tier `t`'s eviction policy (for tests and reports).
  [[nodiscard]] const Eviction& policy(tier t) const noexcept {
    return policy_[static_cast<int>(t)];
  }
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

  /// The tier holding `id`, if any.
  [[nodiscard]] std::optional<tier> tier_of(block_id id) const noexcept {
    const block_handle h = index_.find(id);
    if (h == no_block)
      return std::nullopt;
    return static_cast<tier>(blocks_[h].tier);
  }
  /// How many requests pin `id` (0 if absent or unpinned).
  [[nodiscard]] std::uint32_t pins(block_id id) const noexcept {
    const block_handle h = index_.find(id);
    return h == no_block ? 0 : blocks_[h].pins;
  }

  /// Length of the cached prefix of `blocks`, without side effects (for cache-aware routing).
  [[nodiscard]] std::int64_t match(std::span<const block_id> blocks) const noexcept {
    std::int64_t n = 0;
    for (const block_id b : blocks) {
      if (index_.find(b) == no_block)
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
    std::size_t k = 0;
    for (; k < blocks.size(); ++k) {
      const block_handle h = index_.find(blocks[k]);
      if (h == no_block)
        break;
      const int t = blocks_[h].tier;
      ++r.hit_blocks[t];
      if (t != 0)
        from_bytes[t] += cfg_.block_bytes;
      if (t != 0 && cfg_.promote_on_hit) {
        if (promote(h, t)) {
          ++r.promoted_blocks;
          continue;
        }
        ++r.promotion_failures;
      }
      touch(h);
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
    for (const block_id b : blocks) {
      if (const block_handle h = index_.find(b); h != no_block) {
        ++r.present_blocks;
        const int t = blocks_[h].tier;
        if (t != 0 && can_make_room(0)) {
          detach(h, t);
          make_room(0);
          attach(h, 0);
        } else {
          touch(h);
        }
        continue;
      }
      ++r.new_blocks;
      int t = 0;
      while (t < num_tiers && !can_make_room(t))
        ++t;
      if (t == num_tiers) {
        ++r.dropped;
        continue;
      }
      make_room(t);
      attach(new_block(b), t);
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
      if (index_.find(b) == no_block)
        throw config_error("kvcache::tiered_cache", "pin",
                           fmt::format("block ({}) is not cached", b));
    for (const block_id b : blocks) {
      const block_handle h = index_.find(b);
      if (blocks_[h].pins++ == 0)
        policy_[blocks_[h].tier].erase(table(), h);
    }
  }

  /// Releases one pin of every block of `blocks`; a block whose last pin goes becomes evictable
  /// again (as if just used). @throws config_error, unpinning nothing, if a block is not pinned.
  void unpin(std::span<const block_id> blocks) {
    for (const block_id b : blocks) {
      const block_handle h = index_.find(b);
      if (h == no_block || blocks_[h].pins == 0)
        throw config_error("kvcache::tiered_cache", "unpin",
                           fmt::format("block ({}) is not pinned", b));
    }
    // A block listed twice must be pinned twice.
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      const block_handle h = index_.find(blocks[k]);
      if (blocks_[h].pins == 0) {
        for (std::size_t j = 0; j < k; ++j)
          pin(blocks.subspan(j, 1));
        throw config_error("kvcache::tiered_cache", "unpin",
                           fmt::format("block ({}) is not pinned", blocks[k]));
      }
      if (--blocks_[h].pins == 0)
        policy_[blocks_[h].tier].insert(table(), h);
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
    for (block_handle h = 0; h < blocks_.size(); ++h) {
      const block& b = blocks_[h];
      if (b.tier == free_tier)
        continue;
      ++live;
      if (index_.find(b.id) != h)
        return fmt::format("block {} is not indexed at its handle", b.id);
      if (b.tier >= num_tiers)
        return fmt::format("block {} has tier {}", b.id, b.tier);
      ++used[b.tier];
      if (b.pins == 0)
        ++evictable[b.tier];
    }
    if (live != index_.size())
      return fmt::format("{} live blocks but {} indexed", live, index_.size());
    if (live + free_.size() != blocks_.size())
      return fmt::format("{} live and {} free handles of {}", live, free_.size(), blocks_.size());
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
  using block = detail::cached_block<typename Eviction::node>;
  /// block::tier of a free handle.
  static constexpr std::uint8_t free_tier = 0xff;

  /// The policies' view of blocks_.
  [[nodiscard]] block_table<typename Eviction::node> table() noexcept {
    return block_table<typename Eviction::node>(blocks_);
  }

  /// Tier t's policy.
  [[nodiscard]] Eviction make_policy(int t) const {
    return Eviction(
        static_cast<std::size_t>(std::min<std::int64_t>(capacity_[t], std::int64_t{1} << 40)));
  }

  /// Whether tier t can take one more block: a free slot, or an evictable block to demote.
  [[nodiscard]] bool can_make_room(int t) const noexcept {
    return used_[t] < capacity_[t] || policy_[t].size() > 0; // a 0-block tier has no policy entries
  }

  /// Frees one slot in tier t if it is full; requires can_make_room(t). The victim moves to the
  /// first lower tier that can take it, which may in turn evict its own victim, and so on; the
  /// last victim is dropped if no tier below can take it. Victims are chosen top-down and land
  /// bottom-up, at most one per tier.
  void make_room(int t) {
    if (used_[t] < capacity_[t])
      return;
    const block_handle v = policy_[t].evict(table()); // victims are unpinned
    --used_[t];
    ++stats_.demotions[t];
    int to = t + 1;
    while (to < num_tiers && !can_make_room(to))
      ++to;
    if (to == num_tiers) {
      drop(v);
      return;
    }
    make_room(to);
    attach(v, to);
    count_move(t, to);
  }

  /// A hit on block h: refreshes it in its tier's policy unless it is pinned.
  void touch(block_handle h) {
    if (blocks_[h].pins == 0)
      policy_[blocks_[h].tier].touch(table(), h);
  }

  /// Removes block h from its tier t (its handle and index entry stay).
  void detach(block_handle h, int t) {
    if (blocks_[h].pins == 0)
      policy_[t].erase(table(), h);
    --used_[t];
  }
  /// Puts detached block h into tier t, which has a free slot: every caller has just run
  /// make_room(t) (check_invariants() checks capacities).
  void attach(block_handle h, int t) {
    blocks_[h].tier = static_cast<std::uint8_t>(t);
    ++used_[t];
    if (blocks_[h].pins == 0)
      policy_[t].insert(table(), h);
  }

  /// A handle for absent block `id`, indexed, in no tier yet.
  block_handle new_block(block_id id) {
    block_handle h;
    if (free_.empty()) {
      INFERCOST_ASSERT(blocks_.size() < no_block, "more than 2^32 - 1 cached blocks");
      h = static_cast<block_handle>(blocks_.size());
      blocks_.emplace_back();
    } else {
      h = free_.back();
      free_.pop_back();
    }
    blocks_[h] = {.id = id, .pins = 0, .tier = free_tier, .node = {}};
    index_.insert(id, h);
    return h;
  }

  /// Forgets block h (detached, unpinned) and counts it as dropped.
  void drop(block_handle h) {
    ++stats_.dropped_blocks;
    index_.erase(blocks_[h].id);
    blocks_[h].tier = free_tier;
    free_.push_back(h);
  }

  /// Bytes of one block moving down from tier `from` to tier `to`.
  void count_move(int from, int to) noexcept {
    if (from == 0 && cfg_.write == write_policy::write_back)
      stats_.bytes[static_cast<int>(link::hbm_to_dram)] += cfg_.block_bytes;
    if (to == 2)
      stats_.bytes[static_cast<int>(link::dram_to_ssd)] += cfg_.block_bytes;
  }

  /// Copies block h (in tier `from`, DRAM or SSD) up to HBM if HBM can make room; returns whether
  /// it did.
  bool promote(block_handle h, int from) {
    if (!can_make_room(0))
      return false;
    detach(h, from);
    make_room(0);
    attach(h, 0);
    ++stats_.promotions;
    stats_.bytes[static_cast<int>(link::dram_to_hbm)] += cfg_.block_bytes;
    if (from == 2)
      stats_.bytes[static_cast<int>(link::ssd_to_dram)] += cfg_.block_bytes;
    return true;
  }

  cache_config cfg_;
  Device device_;
  std::array<std::int64_t, num_tiers> capacity_;
  std::array<std::int64_t, num_tiers> used_{};
  std::array<Eviction, num_tiers> policy_;
  std::vector<block> blocks_;      ///< by handle
  std::vector<block_handle> free_; ///< handles of dropped blocks, for reuse
  detail::block_index index_;      ///< id -> handle of every cached block
  cache_stats stats_;
};

/// A three-tier LRU cache priced on the default device.
using tiered_cache = basic_tiered_cache<default_device, lru>;

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): the LRU cache on a run-time device, instantiated once.
INFERCOST_EXTERN template class basic_tiered_cache<any_device, lru>;
#endif

} // namespace infercost::kvcache
