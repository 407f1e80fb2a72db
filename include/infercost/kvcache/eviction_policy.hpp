/// @file
/// The public types of the `kvcache::eviction_policy` concept (defined in infercost/concepts.hpp
/// with the others): what a tiered cache asks of the policy that orders one tier's evictable
/// blocks speaks in `block_id`, `block_handle` and `block_table`. The library's policies are lru
/// (lru.hpp), lfu (lfu.hpp) and s3fifo (s3fifo.hpp); a user's class that satisfies the concept
/// works in basic_tiered_cache without editing the library (tests/kvcache/custom_policy_test.cpp
/// defines one).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "infercost/concepts.hpp"

namespace infercost::kvcache {

/// Id of one KV block: a chained prefix hash (see prefix.hpp) or a trace's `hash_ids` entry.
using block_id = std::uint64_t;

/// The cache's name for a block it holds: a small integer, unique among the blocks the cache
/// holds, reused after the block leaves the cache. It indexes the cache's block table.
using block_handle = std::uint32_t;

/// "No block": a handle no block has.
inline constexpr block_handle no_block = std::numeric_limits<block_handle>::max();

namespace detail {
/// What the cache keeps of one block: its id, pins and tier, and the node of the policy whose
/// tier holds it (see block_table).
template <class Node> struct cached_block {
  block_id id = 0;
  std::uint32_t pins = 0; ///< running requests using the block; > 0 means not evictable
  std::uint8_t tier = 0;  ///< 0 hbm, 1 dram, 2 ssd, or the cache's mark of a free handle
  Node node{};
};
} // namespace detail

/// The cache's blocks, by handle, as an eviction policy sees them: each block's id, and its node,
/// a `Node` (the policy's `P::node`) in which the policy keeps what it needs per block (list
/// links, a counter). A block's node belongs to the policy of the tier holding it, from the
/// insert() that brings the block in (which must set every member the policy reads: the node
/// holds whatever the block's last policy left there) until the block leaves the policy. Keeping
/// the nodes with the cache's own record of each block puts everything an operation touches for
/// one block in one place in memory.
template <class Node> class block_table {
public:
  explicit block_table(std::span<detail::cached_block<Node>> blocks) noexcept : blocks_(blocks) {}
  /// Block h's node.
  [[nodiscard]] Node& node(block_handle h) const noexcept { return blocks_[h].node; }
  /// Block h's id.
  [[nodiscard]] block_id id(block_handle h) const noexcept { return blocks_[h].id; }

private:
  std::span<detail::cached_block<Node>> blocks_;
};

} // namespace infercost::kvcache
