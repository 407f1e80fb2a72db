/// @file
/// `kvcache::s3fifo`: the scan-resistant S3-FIFO eviction for one cache tier.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string_view>

#include "infercost/kvcache/detail/handle_list.hpp"
#include "infercost/kvcache/detail/id_map.hpp"
#include "infercost/kvcache/eviction_policy.hpp"

namespace infercost::kvcache {

/// S3-FIFO (Yang et al., SOSP 2023, "FIFO queues are all you need for cache eviction"): a small
/// FIFO S of 10% of the capacity, a main FIFO M, and a ghost G remembering the ids of the last
/// |M| blocks evicted from S. New blocks enter S (or M if their id is in G). Hits only bump a
/// 2-bit counter. Evicting from S moves a block that was hit while in S to M, otherwise evicts it
/// and remembers its id in G; evicting from M reinserts a block with a non-zero counter at M's
/// head with the counter decremented. One-time scans pass through S without flushing M.
/// Amortised O(1): each reinsertion consumes a counter increment made by a hit.
///
/// S and M are lists, so that a block can leave from the middle when it is pinned or promoted.
/// In a tiered cache each tier's policy has its own G: a block demoted from HBM's S is
/// remembered by HBM's G, and goes to HBM's M if it comes back to HBM while remembered.
class s3fifo {
public:
  static constexpr std::string_view name = "s3fifo";

  /// A block's links in its queue, its queue and its hit counter.
  struct node : detail::list_node {
    std::uint8_t queue = 0; ///< small or main
    std::uint8_t freq = 0;  ///< hits, saturating at 3
  };
  using table = block_table<node>;

  /// @param capacity  the tier's capacity in blocks; sizes S (10%, at least 1) and G (the rest,
  ///                  at least 1)
  explicit s3fifo(std::size_t capacity)
      : small_target_(std::max<std::size_t>(capacity / 10, 1)),
        ghost_(capacity > small_target_ ? capacity - small_target_ : 1) {}

  void insert(table blocks, block_handle h) {
    node& n = blocks.node(h);
    n.queue = ghost_.forget(blocks.id(h)) ? main : small;
    n.freq = 0;
    queue_[n.queue].push_front(blocks, h);
  }
  void touch(table blocks, block_handle h) noexcept {
    if (blocks.node(h).freq < 3)
      ++blocks.node(h).freq;
  }
  void erase(table blocks, block_handle h) noexcept {
    queue_[blocks.node(h).queue].remove(blocks, h);
  }
  [[nodiscard]] block_handle evict(table blocks) {
    for (;;) {
      if (queue_[small].size >= small_target_ || queue_[main].size == 0) {
        const block_handle h = queue_[small].pop_back(blocks);
        node& n = blocks.node(h);
        if (n.freq > 0) { // hit while in S: moves to M
          n.freq = 0;
          n.queue = main;
          queue_[main].push_front(blocks, h);
          continue;
        }
        ghost_.remember(blocks.id(h));
        return h;
      }
      const block_handle h = queue_[main].pop_back(blocks);
      if (blocks.node(h).freq > 0) { // hit since it last passed: another round in M
        --blocks.node(h).freq;
        queue_[main].push_front(blocks, h);
        continue;
      }
      return h;
    }
  }
  [[nodiscard]] std::size_t size() const noexcept { return queue_[small].size + queue_[main].size; }

  /// Whether G remembers `id` (for tests and reports).
  [[nodiscard]] bool remembers(block_id id) const noexcept { return ghost_.remembers(id); }
  /// Ids G remembers now.
  [[nodiscard]] std::size_t ghost_size() const noexcept { return ghost_.size(); }
  /// Ids G remembers at most.
  [[nodiscard]] std::size_t ghost_capacity() const noexcept { return ghost_.capacity(); }

private:
  static constexpr std::uint8_t small = 0, main = 1; ///< queue_ indices of S and M

  /// G: the ids forgotten by the last `capacity` evictions from S, less those that entered the
  /// tier since: a FIFO of `capacity` forgets in which an entry whose id comes back is crossed
  /// out. Each forget takes the next stamp; a map from id to stamp finds remembered ids and tells
  /// a crossed-out entry (its id absent, or remembered again with a later stamp) when it ages out.
  class ghost {
  public:
    explicit ghost(std::size_t capacity) : capacity_(capacity) {}
    /// Remembers `id`, which is not remembered now (it was in the tier), as the latest forget.
    void remember(block_id id) {
      if (order_.size() == capacity_) {
        const entry oldest = order_.front();
        order_.pop_front();
        if (stamps_.find(oldest.id) == oldest.stamp)
          stamps_.erase(oldest.id);
      }
      stamps_.insert(id, next_);
      order_.push_back({id, next_});
      ++next_;
    }
    /// Whether `id` was remembered; crosses it out (it enters the tier).
    bool forget(block_id id) noexcept { return stamps_.erase(id) != absent; }
    [[nodiscard]] bool remembers(block_id id) const noexcept { return stamps_.find(id) != absent; }
    [[nodiscard]] std::size_t size() const noexcept { return stamps_.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  private:
    static constexpr std::uint64_t absent = std::numeric_limits<std::uint64_t>::max();
    struct entry {
      block_id id;
      std::uint64_t stamp;
    };
    std::size_t capacity_;
    detail::id_map<std::uint64_t, absent> stamps_; ///< remembered id -> stamp of its forget
    std::deque<entry> order_;                      ///< the last forgets, oldest first
    std::uint64_t next_ = 0;                       ///< the next stamp
  };

  std::size_t small_target_;
  ghost ghost_;
  std::array<detail::handle_list, 2> queue_; ///< S and M
};

static_assert(eviction_policy<s3fifo>);

} // namespace infercost::kvcache
