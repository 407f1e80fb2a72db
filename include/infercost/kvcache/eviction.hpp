/// @file
/// Eviction policies of one cache tier: `lru`, `lfu` and the scan-resistant `s3fifo`. Each is
/// O(1) per operation (amortised for s3fifo), with its lists linked through the cache's block
/// nodes, so no operation scans the tier and none allocates per block.
///
/// A policy holds only the tier's *evictable* blocks: the cache removes a block from its policy
/// while the block is pinned and re-inserts it when it is unpinned, so a policy can never name a
/// pinned block as victim.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"

namespace infercost::kvcache {

/// Id of one KV block: a chained prefix hash (see prefix.hpp) or a trace's `hash_ids` entry.
using block_id = std::uint64_t;

namespace detail {

/// "No node" in a 32-bit index.
inline constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

/// Node tier of a dropped block whose id a tier's ghost still remembers (see ghost_window).
inline constexpr std::uint8_t ghost_tier = 0xfe;
/// Node tier of a free node.
inline constexpr std::uint8_t free_tier = 0xff;

/// One cached block, as stored by the cache; the link and data words belong to the tier's policy
/// (all tiers of a cache run the same policy type). 32 bytes, two nodes per cache line.
struct block_node {
  block_id id = 0;
  std::uint32_t prev = npos;     ///< policy list link
  std::uint32_t next = npos;     ///< policy list link (s3fifo: slot 0's link or ghost stamp)
  std::uint32_t aux = npos;      ///< policy data (lfu: frequency bucket; s3fifo: slot 1's)
  std::uint32_t aux2 = npos;     ///< policy data (s3fifo: slot 2's link or ghost stamp)
  std::uint32_t pins = 0;        ///< running requests using the block; > 0 means not evictable
  std::uint8_t tier = free_tier; ///< 0 hbm, 1 dram, 2 ssd, ghost_tier or free_tier
  std::uint8_t queue = 0;        ///< policy data (s3fifo: the queue holding it, 0 if none)
  std::uint8_t freq = 0;         ///< policy data (s3fifo: 2-bit access counter)
};
static_assert(sizeof(block_node) == 32);

using node_pool = std::vector<block_node>;

/// Hints the processor to fetch the cache line at `p` (no effect on results). Functions that only
/// prefetch are always inlined: GCC otherwise finds them free of side effects and deletes the
/// calls.
[[gnu::always_inline]] inline void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p);
#else
  (void)p;
#endif
}

/// splitmix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/// The cache's index: block id to the node holding it, by open addressing with linear probing and
/// backward-shift deletion (Knuth TAOCP 6.4 Algorithm R), load factor <= 1/2.
///
/// A slot is 8 bytes: the node and a 32-bit tag, the top half of the key's Fibonacci hash (key *
/// 2^64 / phi, Knuth TAOCP 6.4), whose top bits are also the key's home slot. Keys stay in the
/// nodes: a lookup compares tags and reads the node only when they match (it reads the node of a
/// hit anyway), and moves and rehashes recompute homes from tags alone. Half the size of a slot
/// holding the key, so twice the slots per cache line.
class node_index {
public:
  node_index() { rehash(16); }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// Grows the table so that `n` keys fit without rehashing.
  void reserve(std::size_t n) {
    std::size_t slots = slots_.size();
    while (slots < 2 * n)
      slots *= 2;
    if (slots != slots_.size())
      rehash(slots);
  }

  /// Starts fetching the slot `key` probes first.
  [[gnu::always_inline]] void prefetch(block_id key) const noexcept {
    detail::prefetch(&slots_[home(tag_of(key))]);
  }

  /// The node of `key` among `n`, or npos.
  [[nodiscard]] std::uint32_t find(const node_pool& n, block_id key) const noexcept {
    return slots_[probe(n, key)].node;
  }

  /// The slot holding `key`, or the empty slot where it would be inserted.
  [[nodiscard]] std::size_t probe(const node_pool& n, block_id key) const noexcept {
    const std::uint32_t tag = tag_of(key);
    std::size_t i = home(tag);
    for (;; i = (i + 1) & mask_) {
      const slot s = slots_[i];
      if (s.node == npos || (s.tag == tag && n[s.node].id == key))
        return i;
    }
  }
  /// The node in slot `i` (npos if empty).
  [[nodiscard]] std::uint32_t node_at(std::size_t i) const noexcept { return slots_[i].node; }

  /// Indexes absent `key` at node `node` (!= npos) in slot `i`, which probe() returned with no
  /// change to the index since.
  void insert_at(std::size_t i, block_id key, std::uint32_t node) {
    const std::uint32_t tag = tag_of(key);
    if (2 * (size_ + 1) > slots_.size()) {
      rehash(slots_.size() * 2);
      i = empty_slot(tag);
    }
    slots_[i] = {tag, node};
    ++size_;
  }

  /// Removes the entry of `key`, which is indexed at `node`.
  void erase(block_id key, std::uint32_t node) noexcept {
    std::size_t i = home(tag_of(key));
    while (slots_[i].node != node)
      i = (i + 1) & mask_;
    // Backward shift: move later entries of the probe run into the hole when their home slot
    // does not lie cyclically in (hole, j].
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_; slots_[j].node != npos; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].tag);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].node = npos;
    --size_;
  }

private:
  struct slot {
    std::uint32_t tag = 0;
    std::uint32_t node = npos;
  };
  [[nodiscard]] static std::uint32_t tag_of(block_id key) noexcept {
    return static_cast<std::uint32_t>((key * 0x9e3779b97f4a7c15ULL) >> 32);
  }
  [[nodiscard]] std::size_t home(std::uint32_t tag) const noexcept {
    return static_cast<std::size_t>(tag >> shift_);
  }
  [[nodiscard]] std::size_t empty_slot(std::uint32_t tag) const noexcept {
    std::size_t i = home(tag);
    while (slots_[i].node != npos)
      i = (i + 1) & mask_;
    return i;
  }
  void rehash(std::size_t n) {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(n, slot{});
    mask_ = n - 1;
    shift_ = 32 - static_cast<int>(std::bit_width(mask_));
    for (const slot& e : old)
      if (e.node != npos)
        slots_[empty_slot(e.tag)] = e;
  }
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 32;
  std::size_t size_ = 0;
};

/// A FIFO queue in a growable circular buffer (capacity a power of two).
template <class T> class ring {
public:
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// The k-th oldest element (k < size()).
  [[nodiscard]] const T& operator[](std::size_t k) const noexcept {
    return buf_[(head_ + k) & mask_];
  }
  [[nodiscard]] T& operator[](std::size_t k) noexcept { return buf_[(head_ + k) & mask_]; }
  [[nodiscard]] const T& front() const noexcept { return buf_[head_]; }
  [[gnu::always_inline]] void push_back(const T& x) {
    if (size_ == buf_.size())
      grow();
    buf_[(head_ + size_) & mask_] = x;
    ++size_;
  }
  void pop_front() noexcept {
    head_ = (head_ + 1) & mask_;
    --size_;
  }
  /// Allocates room for `n` elements (in one allocation).
  void reserve(std::size_t n) {
    std::size_t cap = buf_.empty() ? 16 : buf_.size();
    while (cap < n)
      cap *= 2;
    if (cap != buf_.size())
      reallocate(cap);
  }

private:
  [[gnu::noinline]] void grow() { reallocate(buf_.empty() ? 16 : 2 * buf_.size()); }
  /// Moves the elements, oldest first, to a new buffer of `cap` (a power of two >= size()).
  void reallocate(std::size_t cap) {
    std::vector<T> b(cap);
    for (std::size_t k = 0; k < size_; ++k)
      b[k] = (*this)[k];
    buf_ = std::move(b);
    mask_ = buf_.size() - 1;
    head_ = 0;
  }
  std::vector<T> buf_;
  std::size_t mask_ = 0; ///< buf_.size() - 1 (buf_ is empty or a power of two long)
  std::size_t head_ = 0, size_ = 0;
};

/// The ghost of S3-FIFO: the ids one tier forgot by its last `capacity` evictions from S, minus
/// those that came back since (a FIFO of `capacity` entries where an entry whose id re-enters
/// the tier is crossed out).
///
/// Each forget takes the next stamp; an id is remembered while its stamp is among the last
/// `capacity`. A stamp lives in the block's node, in the word of the ghost's slot (one slot per
/// tier: block_node::next, aux or aux2), so remembering, checking and forgetting touch only the
/// node the cache is moving anyway, and no operation hashes. For that the cache keeps a dropped
/// block's node (tier ghost_tier, still in its index) while any tier remembers it and reuses that
/// node when the id comes back (see basic_tiered_cache); it frees a node only when no tier
/// remembers it, and a fresh node's words are npos, which is never remembered.
///
/// While a block is in the slot's tier its stamp there means nothing (it was crossed out when the
/// block came in), so the tier's queues use the word as their list link (see s3fifo), and a node
/// whose block_node::queue names one of the slot's queues (queued_in()) holds no stamp there.
class ghost_window {
public:
  /// Slots, one per tier of a cache.
  static constexpr int slots = 3;

  /// @param capacity     ids remembered at most (>= 1; capped at 2^30)
  /// @param slot         the node word holding this ghost's stamps (0..slots-1)
  /// @param first_stamp  the first stamp taken (clamped to [capacity, renumber_at); tests start
  ///                     near renumber_at)
  ghost_window(std::size_t capacity, int slot, std::uint32_t first_stamp = 0)
      : capacity_(std::clamp<std::uint64_t>(capacity, 1, std::uint64_t{1} << 30)),
        word_(word_of(slot)), slot_(slot),
        next_(std::clamp<std::uint64_t>(first_stamp, capacity_, renumber_at - 1)) {}

  /// Whether the block of node i is remembered.
  [[nodiscard]] bool remembers(const node_pool& n, std::uint32_t i) const noexcept {
    return in_window(n[i].*word_);
  }

  /// Whether the block of node i is remembered; if so, forgets it (the block re-enters the tier).
  /// `word` is word(), given by a caller that knows it at compile time.
  [[gnu::always_inline]] bool consume(node_pool& n, std::uint32_t i,
                                      std::uint32_t block_node::*word) noexcept {
    std::uint32_t& s = n[i].*word;
    if (!in_window(s))
      return false;
    s = npos;
    return true;
  }
  [[gnu::always_inline]] bool consume(node_pool& n, std::uint32_t i) noexcept {
    return consume(n, i, word_);
  }

  /// Remembers the block of node i as the most recently forgotten (`word` as for consume()).
  [[gnu::always_inline]] void remember(node_pool& n, std::uint32_t i,
                                       std::uint32_t block_node::*word) noexcept {
    n[i].*word = static_cast<std::uint32_t>(next_++);
    if (next_ == renumber_at) [[unlikely]]
      renumber(n);
  }
  [[gnu::always_inline]] void remember(node_pool& n, std::uint32_t i) noexcept {
    remember(n, i, word_);
  }

  /// Ids remembered at most.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// The node word of the stamps.
  [[nodiscard]] std::uint32_t block_node::*word() const noexcept { return word_; }
  /// The slot of that word.
  [[nodiscard]] int slot() const noexcept { return slot_; }

  /// Ids remembered among nodes `n`, counted by a scan (for tests and reports).
  [[nodiscard]] std::size_t size(const node_pool& n) const noexcept {
    return static_cast<std::size_t>(std::count_if(n.begin(), n.end(), [&](const block_node& b) {
      return !queued_in(b, slot_) && in_window(b.*word_);
    }));
  }

  /// The node word of slot `slot`.
  static constexpr std::uint32_t block_node::*word_of(int slot) noexcept {
    return slot == 0 ? &block_node::next : slot == 1 ? &block_node::aux : &block_node::aux2;
  }
  /// block_node::queue of a block in queue q (0 or 1) of slot `slot`'s tier.
  static constexpr std::uint8_t queue_code(int slot, int q) noexcept {
    return static_cast<std::uint8_t>(1 + 2 * slot + q);
  }
  /// Whether node b is in a queue of slot `slot`'s tier (its slot word is then a list link).
  static constexpr bool queued_in(const block_node& b, int slot) noexcept {
    return b.queue != 0 && (b.queue - 1) / 2 == slot;
  }

  /// The stamp count at which stamps are renumbered (see renumber()).
  static constexpr std::uint32_t renumber_at = (std::uint32_t{1} << 31) + (std::uint32_t{1} << 30);

private:
  /// Whether stamp s is among the last capacity_ taken: 1 <= next_ - s <= capacity_. Stamps are
  /// below next_, which stays below npos, so npos (a fresh node) is never in the window: the
  /// difference wraps around to over 2^63.
  [[nodiscard]] bool in_window(std::uint32_t s) const noexcept { return next_ - s - 1 < capacity_; }
  /// Keeps stamps from reaching npos: every 2^31 forgets, moves the count and every stamp in the
  /// window down by 2^31 and marks stamps outside it npos (list links of queued nodes stay).
  /// O(nodes), amortised O(1) per forget.
  void renumber(node_pool& n) noexcept {
    constexpr std::uint32_t shift = std::uint32_t{1} << 31;
    for (block_node& b : n) {
      if (queued_in(b, slot_))
        continue;
      std::uint32_t& s = b.*word_;
      s = in_window(s) ? s - shift : npos;
    }
    next_ -= shift;
  }
  // 64-bit counts although stamps are 32-bit: stores to 32-bit node words cannot alias them, so
  // the compiler keeps them in registers across those stores.
  std::uint64_t capacity_;
  std::uint32_t block_node::*word_;
  int slot_;
  std::uint64_t next_; ///< the next stamp; capacity_ <= next_ <= renumber_at
};

/// A doubly linked list threaded through block_node::prev and block_node::next (or, for the
/// overloads taking `next`, another node word); head is most recent.
struct intrusive_list {
  std::uint32_t head = npos, tail = npos;
  std::size_t size = 0;

  [[gnu::always_inline]] void push_front(node_pool& n, std::uint32_t i) noexcept {
    push_front(n, i, &block_node::next);
  }
  [[gnu::always_inline]] void remove(node_pool& n, std::uint32_t i) noexcept {
    unlink(n, i, &block_node::next);
    n[i].prev = n[i].next = npos;
  }
  /// Removes and returns the tail (npos if empty).
  [[gnu::always_inline]] std::uint32_t pop_back(node_pool& n) noexcept {
    const std::uint32_t i = tail;
    if (i == npos)
      return npos;
    pop_back_unlinked(n, &block_node::next);
    n[i].prev = npos;
    return i;
  }

  /// push_front() linking through `next`.
  [[gnu::always_inline]] void push_front(node_pool& n, std::uint32_t i,
                                         std::uint32_t block_node::*next) noexcept {
    n[i].prev = npos;
    n[i].*next = head;
    if (head != npos)
      n[head].prev = i;
    else
      tail = i;
    head = i;
    ++size;
  }
  /// Unlinks node i from a list linked through `next`; its link words are left as they were.
  [[gnu::always_inline]] void unlink(node_pool& n, std::uint32_t i,
                                     std::uint32_t block_node::*next) noexcept {
    const std::uint32_t p = n[i].prev, x = n[i].*next;
    if (p != npos)
      n[p].*next = x;
    else
      head = x;
    if (x != npos)
      n[x].prev = p;
    else
      tail = p;
    --size;
  }
  /// Removes the tail (the list is not empty) of a list linked through `next`; its link words are
  /// left as they were.
  [[gnu::always_inline]] void pop_back_unlinked(node_pool& n,
                                                std::uint32_t block_node::*next) noexcept {
    const std::uint32_t p = n[tail].prev;
    tail = p;
    if (p != npos)
      n[p].*next = npos;
    else
      head = npos;
    --size;
  }
};

} // namespace detail

/// The interface the cache needs from an eviction policy over one tier of `capacity` blocks.
/// `victim` names the block the cache evicts next (npos if none is evictable) and may reorder
/// the policy's internal queues; the cache then calls `erase` on it.
///
/// Optional members the cache uses when present: a constructor `P(capacity, tier)` (preferred to
/// `P(capacity)`: tier 0, 1 or 2 of the cache, e.g. to pick the node word the policy owns),
/// `next_victim(const node_pool&)` (the block victim() would name, without side effects; for
/// prefetching), `pop_victim(n)` (victim() and erase() of it in one call), `remembers(n, i)`
/// (whether the policy's ghost remembers node i's block: the cache then keeps the node of that
/// block when it is dropped, and reuses it when the block comes back) and, with it,
/// `ghost_capacity()` (how many ids the ghost remembers at most; the tier's capacity if absent),
/// and `pop_victim_at<T>(n)`, `insert_at<T>(n, i)` (pop_victim() and insert() of tier T's
/// policy, where the cache knows T at compile time).
template <class P>
concept eviction_policy = std::constructible_from<P, std::size_t> &&
    requires(P p, const P& cp, detail::node_pool& n, std::uint32_t i) {
  { P::name } -> std::convertible_to<std::string_view>;
  p.insert(n, i);
  p.touch(n, i);
  p.erase(n, i);
  { p.victim(n) } -> std::same_as<std::uint32_t>;
  { cp.size() } -> std::convertible_to<std::size_t>;
};

/// Least recently used: a block enters or is hit at the head; the victim is the tail.
class lru {
public:
  static constexpr std::string_view name = "lru";
  /// @param capacity  the tier's capacity in blocks (unused by LRU)
  explicit lru(std::size_t capacity = 0) noexcept { (void)capacity; }
  void insert(detail::node_pool& n, std::uint32_t i) noexcept { list_.push_front(n, i); }
  void touch(detail::node_pool& n, std::uint32_t i) noexcept {
    if (list_.head == i)
      return;
    list_.remove(n, i);
    list_.push_front(n, i);
  }
  void erase(detail::node_pool& n, std::uint32_t i) noexcept { list_.remove(n, i); }
  [[nodiscard]] std::uint32_t victim(detail::node_pool&) const noexcept { return list_.tail; }
  /// victim() and erase() of it in one call.
  [[nodiscard]] std::uint32_t pop_victim(detail::node_pool& n) noexcept {
    return list_.pop_back(n);
  }
  /// The block victim() would name now (a hint for prefetching; no side effects).
  [[nodiscard]] std::uint32_t next_victim(const detail::node_pool&) const noexcept {
    return list_.tail;
  }
  [[nodiscard]] std::size_t size() const noexcept { return list_.size; }

private:
  detail::intrusive_list list_;
};

/// Least frequently used, O(1) (Shah, Mitra & Matani 2010, "An O(1) algorithm for implementing
/// the LFU cache eviction scheme"): a list of frequency buckets in increasing order, each with a
/// list of its blocks. A block's frequency counts hits since it entered this tier (it starts at
/// 1); ties go to the block that reached its frequency first. Blocks of frequency 1 -- every
/// block of a tier whose hits are promoted away -- live in a list of their own, so that entering
/// and leaving such a tier costs what LRU does.
class lfu {
public:
  static constexpr std::string_view name = "lfu";
  /// @param capacity  the tier's capacity in blocks (unused by LFU)
  explicit lfu(std::size_t capacity = 0) { (void)capacity; }

  void insert(detail::node_pool& n, std::uint32_t i) noexcept {
    ones_.push_front(n, i);
    n[i].aux = ones;
    ++size_;
  }
  void touch(detail::node_pool& n, std::uint32_t i) {
    const std::uint32_t b = n[i].aux;
    if (b == ones) {
      std::uint32_t nb = head_;
      if (nb == detail::npos || buckets_[nb].freq != 2)
        nb = new_bucket(2, detail::npos, head_);
      ones_.remove(n, i);
      add(n, i, nb);
      return;
    }
    const std::uint32_t f = buckets_[b].freq;
    if (f == std::numeric_limits<std::uint32_t>::max())
      return;
    std::uint32_t nb = buckets_[b].next;
    if (nb == detail::npos || buckets_[nb].freq != f + 1) {
      // Alone in its bucket, with no bucket f + 1 yet: relabelling the bucket moves the block.
      if (buckets_[b].items.size == 1) {
        buckets_[b].freq = f + 1;
        return;
      }
      nb = new_bucket(f + 1, b, nb);
    }
    remove_from_bucket(n, i);
    add(n, i, nb);
  }
  void erase(detail::node_pool& n, std::uint32_t i) noexcept {
    if (n[i].aux == ones)
      ones_.remove(n, i);
    else
      remove_from_bucket(n, i);
    --size_;
  }
  [[nodiscard]] std::uint32_t victim(detail::node_pool&) const noexcept { return lowest_tail(); }
  /// victim() and erase() of it in one call. Inlined for the common victim, a block of frequency
  /// 1; the others are popped out of line.
  [[nodiscard, gnu::always_inline]] std::uint32_t pop_victim(detail::node_pool& n) noexcept {
    if (ones_.size != 0) [[likely]] {
      --size_;
      return ones_.pop_back(n);
    }
    return pop_lowest_bucket(n);
  }
  /// The block victim() would name now (a hint for prefetching; no side effects).
  [[nodiscard]] std::uint32_t next_victim(const detail::node_pool&) const noexcept {
    return lowest_tail();
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
  /// pop_victim() with no block of frequency 1.
  [[gnu::noinline]] std::uint32_t pop_lowest_bucket(detail::node_pool& n) noexcept {
    if (head_ == detail::npos)
      return detail::npos;
    const std::uint32_t i = buckets_[head_].items.tail;
    remove_from_bucket(n, i);
    --size_;
    return i;
  }
  /// block_node::aux of a block of frequency 1 (others hold their bucket).
  static constexpr std::uint32_t ones = detail::npos - 1;
  /// Oldest block of the lowest frequency.
  [[nodiscard]] std::uint32_t lowest_tail() const noexcept {
    if (ones_.size != 0)
      return ones_.tail;
    return head_ == detail::npos ? detail::npos : buckets_[head_].items.tail;
  }
  struct bucket {
    std::uint32_t freq = 0;
    std::uint32_t prev = detail::npos, next = detail::npos;
    detail::intrusive_list items;
  };
  std::uint32_t new_bucket(std::uint32_t freq, std::uint32_t prev, std::uint32_t next) {
    std::uint32_t b;
    if (free_ != detail::npos) {
      b = free_;
      free_ = buckets_[b].next;
    } else {
      b = static_cast<std::uint32_t>(buckets_.size());
      buckets_.emplace_back();
    }
    buckets_[b] = bucket{freq, prev, next, {}};
    if (prev != detail::npos)
      buckets_[prev].next = b;
    else
      head_ = b;
    if (next != detail::npos)
      buckets_[next].prev = b;
    return b;
  }
  void add(detail::node_pool& n, std::uint32_t i, std::uint32_t b) noexcept {
    buckets_[b].items.push_front(n, i);
    n[i].aux = b;
  }
  /// Takes block i out of its bucket (frequency >= 2), freeing the bucket if it empties.
  void remove_from_bucket(detail::node_pool& n, std::uint32_t i) noexcept {
    const std::uint32_t b = n[i].aux;
    buckets_[b].items.remove(n, i);
    if (buckets_[b].items.size == 0) {
      const std::uint32_t p = buckets_[b].prev, x = buckets_[b].next;
      if (p != detail::npos)
        buckets_[p].next = x;
      else
        head_ = x;
      if (x != detail::npos)
        buckets_[x].prev = p;
      buckets_[b].next = free_;
      free_ = b;
    }
  }
  detail::intrusive_list ones_;       ///< blocks of frequency 1, newest first
  std::vector<bucket> buckets_;       ///< frequencies >= 2
  std::uint32_t head_ = detail::npos; ///< lowest-frequency bucket
  std::uint32_t free_ = detail::npos; ///< free bucket slots, linked through `next`
  std::size_t size_ = 0;
};

/// S3-FIFO (Yang et al., SOSP 2023, "FIFO queues are all you need for cache eviction"): a small
/// FIFO S of 10% of the capacity, a main FIFO M, and a ghost G remembering the ids of the last
/// |M| blocks evicted from S. New blocks enter S (or M if their id is in G). Hits only bump a
/// 2-bit counter. Evicting from S moves a block that was hit while in S to M, otherwise evicts it
/// and remembers its id in G; evicting from M reinserts a block with a non-zero counter at M's
/// head with the counter decremented. One-time scans pass through S without flushing M.
/// Amortised O(1): each reinsertion consumes a counter increment made by a hit.
///
/// S and M are doubly linked lists through block_node::prev and the word of the policy's slot,
/// which also holds G's stamp of a block while it is out of the tier (see ghost_window): a queued
/// block needs a link and no stamp, a block out of the tier a stamp and no link. G keeps its
/// stamps in the nodes and so needs the cache to keep the nodes of dropped blocks it remembers
/// (the `remembers` hook) and to give each tier's policy its own slot (the `slot` argument).
class s3fifo {
public:
  static constexpr std::string_view name = "s3fifo";
  /// @param capacity  the tier's capacity in blocks; sizes S (10%) and G (the size of M)
  /// @param slot      the node word of G's stamps and of the queues' links: the tier's index
  ///                  (0..2) in a cache, so that the tiers keep apart
  explicit s3fifo(std::size_t capacity, int slot = 0)
      : small_target_(capacity / 10 > 0 ? capacity / 10 : 1),
        ghost_(capacity > small_target_ ? capacity - small_target_ : 1, check_slot(slot)) {}

  void insert(detail::node_pool& n, std::uint32_t i) { insert_in(n, i, own_slot()); }
  /// insert() by a cache that knows at compile time that this policy's slot is Slot.
  template <int Slot> [[gnu::always_inline]] void insert_at(detail::node_pool& n, std::uint32_t i) {
    INFERCOST_ASSERT(Slot == ghost_.slot(), "s3fifo::insert_at called with another slot");
    insert_in(n, i, fixed_slot<Slot>{});
  }
  void touch(detail::node_pool& n, std::uint32_t i) noexcept {
    // Saturating, without a branch: whether a block is at 3 follows no pattern.
    n[i].freq = static_cast<std::uint8_t>(n[i].freq + (n[i].freq < 3));
  }
  /// Takes block i out of the tier; if victim() named it as evicted from S, G remembers it.
  void erase(detail::node_pool& n, std::uint32_t i) noexcept {
    std::uint32_t detail::block_node::*const w = ghost_.word();
    queue_[n[i].queue == code(own_slot(), 0) ? 0 : 1].unlink(n, i, w);
    n[i].queue = 0;
    if (i == pending_)
      ghost_.remember(n, i);
    else
      n[i].*w = detail::npos;
    pending_ = detail::npos;
  }
  /// The block the cache evicts next, after moving the blocks ahead of it that were hit; the
  /// next erase() of it is its eviction.
  [[nodiscard]] std::uint32_t victim(detail::node_pool& n) {
    pending_ = detail::npos;
    const std::uint32_t v = next_out<false>(n, own_slot());
    if (v != detail::npos && n[v].queue == code(own_slot(), 0))
      pending_ = v;
    return v;
  }
  /// victim() and erase() of it in one step (the cache uses it when present).
  [[nodiscard]] std::uint32_t pop_victim(detail::node_pool& n) {
    return next_out<true>(n, own_slot());
  }
  /// pop_victim() by a cache that knows at compile time that this policy's slot is Slot.
  template <int Slot>
  [[nodiscard, gnu::always_inline]] std::uint32_t pop_victim_at(detail::node_pool& n) {
    INFERCOST_ASSERT(Slot == ghost_.slot(), "s3fifo::pop_victim_at called with another slot");
    return next_out<true>(n, fixed_slot<Slot>{});
  }
  /// Whether G remembers node i's block (i out of this tier); the cache keeps a dropped block's
  /// node while any tier does.
  [[nodiscard]] bool remembers(const detail::node_pool& n, std::uint32_t i) const noexcept {
    return ghost_.remembers(n, i);
  }
  [[nodiscard]] std::size_t size() const noexcept { return queue_[0].size + queue_[1].size; }
  /// Ids G remembers at most.
  [[nodiscard]] std::size_t ghost_capacity() const noexcept { return ghost_.capacity(); }
  /// Ids G remembers among nodes `n` (a scan, for tests and reports).
  [[nodiscard]] std::size_t ghost_size(const detail::node_pool& n) const noexcept {
    return ghost_.size(n);
  }

private:
  static int check_slot(int slot) {
    if (slot < 0 || slot >= detail::ghost_window::slots)
      throw config_error("kvcache::s3fifo", "slot",
                         fmt::format("({}) must be in [0, {})", slot, detail::ghost_window::slots));
    return slot;
  }
  /// The slot, known at run time or (fixed_slot) at compile time, so that node words are
  /// addressed by a constant offset on the cache's hot paths.
  struct runtime_slot {
    int value;
  };
  /// This policy's slot (G's), known at run time.
  [[nodiscard]] runtime_slot own_slot() const noexcept { return {ghost_.slot()}; }
  template <int Slot> struct fixed_slot { static constexpr int value = Slot; };
  template <class S> static constexpr std::uint32_t detail::block_node::*word(S s) noexcept {
    return detail::ghost_window::word_of(s.value);
  }
  /// block_node::queue of the blocks of queue q (0: S, 1: M).
  template <class S> static constexpr std::uint8_t code(S s, int q) noexcept {
    return detail::ghost_window::queue_code(s.value, q);
  }

  template <class S>
  [[gnu::always_inline]] void insert_in(detail::node_pool& n, std::uint32_t i, S slot) {
    n[i].freq = 0;
    // A branch, not a select: the common case (S) then need not wait for the stamp's load.
    if (ghost_.consume(n, i, word(slot))) [[unlikely]] {
      n[i].queue = code(slot, 1);
      queue_[1].push_front(n, i, word(slot));
    } else {
      n[i].queue = code(slot, 0);
      queue_[0].push_front(n, i, word(slot));
    }
  }

  /// The victim, after moving the blocks ahead of it that were hit; if Pop, also takes it out of
  /// its queue (with G remembering it if it leaves S).
  template <bool Pop, class S>
  [[nodiscard, gnu::always_inline]] std::uint32_t next_out(detail::node_pool& n, S slot) {
    std::uint32_t detail::block_node::*const w = word(slot);
    detail::intrusive_list& small = queue_[0];
    detail::intrusive_list& main = queue_[1];
    for (;;) {
      if (small.size >= small_target_ || main.size == 0) { // small_target_ >= 1
        const std::uint32_t t = small.tail;
        if (t == detail::npos)
          return detail::npos;
        if (n[t].freq > 0) [[unlikely]] {
          small.pop_back_unlinked(n, w);
          n[t].queue = code(slot, 1);
          n[t].freq = 0;
          main.push_front(n, t, w);
          continue;
        }
        if constexpr (Pop) {
          small.pop_back_unlinked(n, w);
          n[t].queue = 0;
          ghost_.remember(n, t, w); // overwrites the link
        }
        return t;
      }
      const std::uint32_t t = main.tail;
      if (n[t].freq > 0) {
        --n[t].freq;
        main.pop_back_unlinked(n, w);
        main.push_front(n, t, w);
        continue;
      }
      if constexpr (Pop) {
        main.pop_back_unlinked(n, w);
        n[t].queue = 0;
        n[t].*w = detail::npos;
      }
      return t;
    }
  }

  std::size_t small_target_;
  detail::ghost_window ghost_;                  ///< also holds the policy's slot
  std::array<detail::intrusive_list, 2> queue_; ///< S and M
  std::uint32_t pending_ = detail::npos;        ///< the block victim() named as evicted from S
};

} // namespace infercost::kvcache
