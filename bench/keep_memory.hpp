/// @file
/// Makes the allocator keep the memory it is given (glibc: no heap trimming, no mmap for large
/// blocks), as in a long-running process, so that a timed run does not pay page faults for
/// memory that an earlier run, or the other side of a comparison, has just released.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace infercost_bench {
inline void keep_allocator_memory() {
#if defined(__GLIBC__)
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
#endif
}
} // namespace infercost_bench
