/// @file
/// Every macro infercost defines, in one place.
///
/// - `INFERCOST_VERSION_{MAJOR,MINOR,PATCH}` (version.hpp)
/// - `INFERCOST_ASSERT(cond, msg)`: internal invariant check. Define it before including any
///   infercost header to replace it; define `INFERCOST_DISABLE_ASSERT` to compile it out.
/// - `INFERCOST_COMPILED`: the optional compiled mode. Defined (to 1) by the CMake target
///   `infercost::compiled`, a small static library that holds, compiled once, the heavy pieces
///   every program would otherwise compile in each of its translation units: the numeric
///   templates at `float` (attention forward passes, synthetic inputs), the serving simulation
///   for `any_device`, the Mooncake JSON Lines reader, the JSON report writer and the Hugging
///   Face config.json reader. With it, headers declare those instantiations `extern template` and
///   leave out the readers' and the writer's definitions (and nlohmann::json). Without it (the
///   default) the library is header-only.
/// - `INFERCOST_COMPILED_SOURCE`: defined only by the translation unit that builds that library.
/// - `INFERCOST_EXTERN`: `extern` in compiled mode, empty in the library's own translation unit;
///   prefixes the explicit instantiations listed at the end of the headers concerned.
/// - `INFERCOST_FUNC`: `inline` for functions defined in headers in header-only mode, empty where
///   the compiled library defines them once.
#pragma once

#include <cstdio>
#include <cstdlib>

#if defined(INFERCOST_COMPILED_SOURCE) && !defined(INFERCOST_COMPILED)
#define INFERCOST_COMPILED 1
#endif

#ifndef INFERCOST_EXTERN
#ifdef INFERCOST_COMPILED_SOURCE
#define INFERCOST_EXTERN
#else
#define INFERCOST_EXTERN extern
#endif
#endif

#ifndef INFERCOST_FUNC
#ifdef INFERCOST_COMPILED_SOURCE
#define INFERCOST_FUNC
#else
#define INFERCOST_FUNC inline
#endif
#endif

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
