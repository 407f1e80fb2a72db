/// @file
/// Unit constants. Quantities carry their unit in their name (`latency_s`, `bytes`,
/// `bytes_per_s`, `flops`); these constants only make literals readable. Decimal prefixes for
/// rates and datasheet capacities (vendors print GB = 1e9 and TB/s = 1e12), binary for memory
/// sizes where a source uses GiB.
#pragma once

namespace infercost::units {
inline constexpr double kilo = 1e3;
inline constexpr double mega = 1e6;
inline constexpr double giga = 1e9;
inline constexpr double tera = 1e12;
inline constexpr double peta = 1e15;

inline constexpr double kib = 1024.0;
inline constexpr double mib = 1024.0 * kib;
inline constexpr double gib = 1024.0 * mib;
inline constexpr double tib = 1024.0 * gib;

inline constexpr double us = 1e-6;
inline constexpr double ms = 1e-3;
inline constexpr double hour_s = 3600.0;
inline constexpr double year_h = 365.0 * 24.0; ///< hours in a 365-day year

inline constexpr double gbit_per_s = 1e9 / 8.0; ///< one Gb/s in bytes per second
} // namespace infercost::units
