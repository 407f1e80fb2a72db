/// @file
/// Eviction for the tiered cache: the concept `eviction_policy` (eviction_policy.hpp) and the
/// library's three policies, each in its own header -- `lru` (lru.hpp), `lfu` (lfu.hpp) and the
/// scan-resistant `s3fifo` (s3fifo.hpp). Include this for all of them, or one policy's header
/// for that policy alone.
///
/// A policy holds only its tier's *evictable* blocks: the cache erases a block from its policy
/// while the block is pinned and inserts it again when it is unpinned, so a policy can never
/// name a pinned block as victim.
#pragma once

#include "infercost/kvcache/eviction_policy.hpp"
#include "infercost/kvcache/lfu.hpp"
#include "infercost/kvcache/lru.hpp"
#include "infercost/kvcache/s3fifo.hpp"
