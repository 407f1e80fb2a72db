/// @file
/// `kvcache::lfu`: least-frequently-used eviction for one cache tier.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "infercost/kvcache/detail/handle_list.hpp"
#include "infercost/kvcache/eviction_policy.hpp"

namespace infercost::kvcache {

/// Least frequently used, O(1) per operation (Shah, Mitra & Matani 2010, "An O(1) algorithm for
/// implementing the LFU cache eviction scheme"): a list of frequency buckets in increasing
/// order, each with a list of its blocks, newest first. A block's frequency counts hits since it
/// entered this tier (it starts at 1); the victim is the block of the lowest frequency that
/// reached it first. The bucket of frequency 1, which every block enters, is always first and is
/// kept when it empties.
class lfu {
public:
  static constexpr std::string_view name = "lfu";

  /// A block's links in its bucket's list, and its bucket.
  struct node : detail::list_node {
    std::uint32_t bucket = 0;
  };
  using table = block_table<node>;

  /// @param capacity  the tier's capacity in blocks (unused by LFU)
  explicit lfu(std::size_t capacity = 0) : buckets_{bucket{1, none, none, {}}} { (void)capacity; }

  void insert(table blocks, block_handle h) noexcept { add(blocks, h, ones); }
  void touch(table blocks, block_handle h) {
    const std::uint32_t b = blocks.node(h).bucket;
    const std::uint64_t f = buckets_[b].freq;
    std::uint32_t up = buckets_[b].next;
    if (up == none || buckets_[up].freq != f + 1) {
      // Alone in its bucket, with no bucket f + 1: relabelling the bucket moves the block.
      if (b != ones && buckets_[b].items.size == 1) {
        buckets_[b].freq = f + 1;
        return;
      }
      up = new_bucket(f + 1, b, up);
    }
    remove(blocks, h);
    add(blocks, h, up);
  }
  void erase(table blocks, block_handle h) noexcept { remove(blocks, h); }
  [[nodiscard]] block_handle evict(table blocks) noexcept {
    const std::uint32_t b = buckets_[ones].items.size > 0 ? ones : buckets_[ones].next;
    const block_handle h = buckets_[b].items.tail;
    remove(blocks, h);
    return h;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::uint32_t ones = 0; ///< the bucket of frequency 1

  struct bucket {
    std::uint64_t freq = 0;
    std::uint32_t prev = none; ///< next lower frequency
    std::uint32_t next = none; ///< next higher frequency
    detail::handle_list items;
  };

  /// A bucket of frequency `freq` between buckets `prev` and `next` (next may be none).
  std::uint32_t new_bucket(std::uint64_t freq, std::uint32_t prev, std::uint32_t next) {
    std::uint32_t b = free_;
    if (b != none) {
      free_ = buckets_[b].next;
    } else {
      b = static_cast<std::uint32_t>(buckets_.size());
      buckets_.emplace_back();
    }
    buckets_[b] = bucket{freq, prev, next, {}};
    buckets_[prev].next = b;
    if (next != none)
      buckets_[next].prev = b;
    return b;
  }

  void add(table blocks, block_handle h, std::uint32_t b) noexcept {
    buckets_[b].items.push_front(blocks, h);
    blocks.node(h).bucket = b;
    ++size_;
  }

  /// Takes h out of its bucket, freeing the bucket if it empties (but for the first).
  void remove(table blocks, block_handle h) noexcept {
    const std::uint32_t b = blocks.node(h).bucket;
    bucket& k = buckets_[b];
    k.items.remove(blocks, h);
    --size_;
    if (k.items.size > 0 || b == ones)
      return;
    buckets_[k.prev].next = k.next;
    if (k.next != none)
      buckets_[k.next].prev = k.prev;
    k.next = free_;
    free_ = b;
  }

  std::vector<bucket> buckets_; ///< buckets_[ones] is first; the others are in use or free
  std::uint32_t free_ = none;   ///< free buckets, linked through `next`
  std::size_t size_ = 0;
};

static_assert(eviction_policy<lfu>);

} // namespace infercost::kvcache
