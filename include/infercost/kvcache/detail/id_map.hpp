/// @file
/// A hash map keyed by block id: the tiered cache's index (id to handle) and S3-FIFO's ghost (id
/// to the stamp of its forget).
#pragma once

#include <bit>
#include <cstddef>
#include <utility>
#include <vector>

#include "infercost/kvcache/eviction_policy.hpp"

namespace infercost::kvcache::detail {

/// A hash map from block id to `Value`, by open addressing with linear probing and backward-shift
/// deletion (Knuth TAOCP 6.4 Algorithm R); load factor <= 1/2. A key's home slot is the top bits
/// of its Fibonacci hash, key * 2^64 / phi (Knuth TAOCP 6.4), which spreads ids that differ only
/// in their high or low bits. `Empty` marks a free slot and is never stored.
template <class Value, Value Empty> class id_map {
public:
  id_map() { rehash(16); }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The value of `id`, or Empty.
  [[nodiscard]] Value find(block_id id) const noexcept { return slots_[probe(id)].value; }

  /// Maps absent `id` to `v` (!= Empty).
  void insert(block_id id, Value v) {
    if (2 * (size_ + 1) > slots_.size())
      rehash(2 * slots_.size());
    slots_[probe(id)] = {id, v};
    ++size_;
  }

  /// Removes `id`; returns its value, or Empty if it was absent.
  Value erase(block_id id) noexcept {
    std::size_t hole = probe(id);
    const Value v = slots_[hole].value;
    if (v == Empty)
      return Empty;
    // Backward shift: move later entries of the probe run into the hole when their home slot
    // does not lie cyclically in (hole, j].
    for (std::size_t j = (hole + 1) & mask_; slots_[j].value != Empty; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].id);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].value = Empty;
    --size_;
    return v;
  }

private:
  struct slot {
    block_id id = 0;
    Value value = Empty;
  };
  [[nodiscard]] std::size_t home(block_id id) const noexcept {
    return static_cast<std::size_t>((id * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  /// The slot holding `id`, or the empty slot where it would go.
  [[nodiscard]] std::size_t probe(block_id id) const noexcept {
    std::size_t i = home(id);
    while (slots_[i].value != Empty && slots_[i].id != id)
      i = (i + 1) & mask_;
    return i;
  }
  void rehash(std::size_t n) {
    std::vector<slot> old = std::exchange(slots_, std::vector<slot>(n));
    mask_ = n - 1;
    shift_ = 64 - static_cast<int>(std::bit_width(mask_));
    size_ = 0;
    for (const slot& s : old)
      if (s.value != Empty)
        insert(s.id, s.value);
  }

  std::vector<slot> slots_; ///< a power of two long
  std::size_t mask_ = 0;    ///< slots_.size() - 1
  int shift_ = 64;          ///< 64 - log2(slots_.size())
  std::size_t size_ = 0;
};

/// The cache's index: block id to handle.
using block_index = id_map<block_handle, no_block>;

} // namespace infercost::kvcache::detail
