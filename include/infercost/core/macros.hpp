/// @file
/// Every macro infercost defines, in one place.
///
/// - `INFERCOST_VERSION_{MAJOR,MINOR,PATCH}` (version.hpp)
/// - `INFERCOST_ASSERT(cond, msg)`: internal invariant check. Define it before including any
///   infercost header to replace it; define `INFERCOST_DISABLE_ASSERT` to compile it out.
#pragma once

#include <cstdio>
#include <cstdlib>

#ifndef INFERCOST_ASSERT
#ifdef INFERCOST_DISABLE_ASSERT
#define INFERCOST_ASSERT(cond, msg) ((void)0)
#else
#define INFERCOST_ASSERT(cond, msg)                                                                \
  ((cond) ? (void)0 : ::infercost::detail::assert_fail(#cond, msg, __FILE__, __LINE__))
#endif
#endif

namespace infercost::detail {
/// Called when an internal invariant fails: prints where and aborts. Invariants are bugs in
/// infercost, not bad input; bad input raises infercost::error instead.
[[noreturn]] inline void assert_fail(const char* cond, const char* msg, const char* file,
                                     int line) noexcept {
  std::fprintf(stderr, "%s:%d: infercost assertion failed: %s (%s)\n", file, line, cond, msg);
  std::abort();
}
} // namespace infercost::detail
