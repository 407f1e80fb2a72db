/// @file
/// Doubly linked lists of blocks for the library's eviction policies: O(1) insertion at the
/// front, removal anywhere and removal at the back, linked through the policy's block nodes.
#pragma once

#include <cstddef>

#include "infercost/core/macros.hpp"
#include "infercost/kvcache/eviction_policy.hpp"

namespace infercost::kvcache::detail {

/// A policy node's links in a handle_list; policies' nodes derive from it.
struct list_node {
  block_handle prev = no_block;
  block_handle next = no_block;
};

/// A list of blocks linked through the `prev` and `next` members of a policy's nodes (see
/// block_table and list_node); a policy may keep several lists, a block being in at most one of
/// them. Head is the newest block, tail the oldest.
struct handle_list {
  block_handle head = no_block;
  block_handle tail = no_block;
  std::size_t size = 0;

  /// Puts `h` (in no list) at the front.
  template <class Node> void push_front(block_table<Node> blocks, block_handle h) noexcept {
    blocks.node(h).prev = no_block;
    blocks.node(h).next = head;
    if (head != no_block)
      blocks.node(head).prev = h;
    else
      tail = h;
    head = h;
    ++size;
  }

  /// Takes `h`, which is in this list, out of it.
  template <class Node> void remove(block_table<Node> blocks, block_handle h) noexcept {
    const block_handle p = blocks.node(h).prev, n = blocks.node(h).next;
    if (p != no_block)
      blocks.node(p).next = n;
    else
      head = n;
    if (n != no_block)
      blocks.node(n).prev = p;
    else
      tail = p;
    --size;
  }

  /// Takes out and returns the tail; the list is not empty.
  template <class Node> block_handle pop_back(block_table<Node> blocks) noexcept {
    INFERCOST_ASSERT(size > 0, "handle_list::pop_back on an empty list");
    const block_handle h = tail;
    remove(blocks, h);
    return h;
  }
};

} // namespace infercost::kvcache::detail
