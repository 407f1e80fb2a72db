/// @file
/// The roofline model (Williams, Waterman & Patterson, CACM 2009): an operation takes as long as
/// the slower of its compute and its memory traffic, plus a fixed overhead.
#pragma once

#include <algorithm>

namespace infercost {

/// Time of one op from its compute-bound and memory-bound times.
[[nodiscard]] constexpr double roofline_time_s(double compute_s, double memory_s,
                                               double overhead_s) noexcept {
  return std::max(compute_s, memory_s) + overhead_s;
}

/// Ridge point: the arithmetic intensity (FLOP/byte) above which an op is compute-bound.
[[nodiscard]] constexpr double ridge_point(double flops_per_s, double bytes_per_s) noexcept {
  return bytes_per_s > 0.0 ? flops_per_s / bytes_per_s : 0.0;
}

/// True when an op of this intensity is limited by compute rather than memory.
[[nodiscard]] constexpr bool is_compute_bound(double intensity, double flops_per_s,
                                              double bytes_per_s) noexcept {
  return intensity >= ridge_point(flops_per_s, bytes_per_s);
}

} // namespace infercost
