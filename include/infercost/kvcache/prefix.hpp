/// @file
/// Prefix-block identity: a prompt is cut into blocks of `block_tokens` tokens, and block k is
/// named by a hash of block k-1's id and block k's tokens. Two prompts share block k's id exactly
/// when they share tokens 0 .. (k+1)·block_tokens − 1 (up to 64-bit collisions), so the longest
/// run of leading ids found in a cache is the longest cached prefix. Mooncake's `hash_ids` are
/// ids of this kind (one per 512-token block) and are used as they are.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/kvcache/eviction_policy.hpp"

namespace infercost::kvcache {

namespace detail {
/// splitmix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}
} // namespace detail

/// Parent id of a prompt's first block.
inline constexpr block_id root_block_id = 0x9e3779b97f4a7c15ULL;

/// Id of a block from its parent's id and its tokens: a splitmix64-mixed chain over the tokens,
/// seeded by the parent, so equal (parent, tokens) give equal ids and a change anywhere in the
/// prefix changes every later id.
[[nodiscard]] inline block_id chain_block_id(block_id parent,
                                             std::span<const std::int32_t> tokens) noexcept {
  std::uint64_t h = detail::mix64(parent ^ 0x6a09e667f3bcc909ULL);
  for (const std::int32_t t : tokens)
    h = detail::mix64(
        h ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(t)) + 0x9e3779b97f4a7c15ULL));
  return detail::mix64(h ^ tokens.size());
}

/// Ids of a prompt's blocks. Only full blocks are named unless `include_partial`, in which case
/// a last, shorter block gets an id too (Mooncake names it: ceil(input / 512) ids).
/// @throws config_error if block_tokens <= 0.
[[nodiscard]] inline std::vector<block_id> prefix_block_ids(std::span<const std::int32_t> tokens,
                                                            std::int64_t block_tokens,
                                                            bool include_partial = false) {
  check_positive("kvcache::prefix_block_ids", "block_tokens", block_tokens);
  std::vector<block_id> ids;
  const auto bt = static_cast<std::size_t>(block_tokens);
  ids.reserve(tokens.size() / bt + 1);
  block_id parent = root_block_id;
  for (std::size_t begin = 0; begin < tokens.size(); begin += bt) {
    const std::size_t len = std::min(bt, tokens.size() - begin);
    if (len < bt && !include_partial)
      break;
    parent = chain_block_id(parent, tokens.subspan(begin, len));
    ids.push_back(parent);
  }
  return ids;
}

} // namespace infercost::kvcache
