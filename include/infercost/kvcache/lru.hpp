/// @file
/// `kvcache::lru`: least-recently-used eviction for one cache tier.
#pragma once

#include <cstddef>
#include <string_view>

#include "infercost/kvcache/detail/handle_list.hpp"
#include "infercost/kvcache/eviction_policy.hpp"

namespace infercost::kvcache {

/// Least recently used: a block enters or is hit at the head of a list; the victim is the tail.
/// O(1) per operation.
class lru {
public:
  static constexpr std::string_view name = "lru";

  /// A block's links in the list.
  using node = detail::list_node;
  using table = block_table<node>;

  /// @param capacity  the tier's capacity in blocks (unused by LRU)
  explicit lru(std::size_t capacity = 0) noexcept { (void)capacity; }

  void insert(table blocks, block_handle h) noexcept { list_.push_front(blocks, h); }
  void touch(table blocks, block_handle h) noexcept {
    list_.remove(blocks, h);
    list_.push_front(blocks, h);
  }
  void erase(table blocks, block_handle h) noexcept { list_.remove(blocks, h); }
  [[nodiscard]] block_handle evict(table blocks) noexcept { return list_.pop_back(blocks); }
  [[nodiscard]] std::size_t size() const noexcept { return list_.size; }

private:
  detail::handle_list list_;
};

static_assert(eviction_policy<lru>);

} // namespace infercost::kvcache
