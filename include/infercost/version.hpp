/// @file
/// Library version. CMake reads these three macros to set the package version.
#pragma once

#define INFERCOST_VERSION_MAJOR 0
#define INFERCOST_VERSION_MINOR 1
#define INFERCOST_VERSION_PATCH 0

namespace infercost {
/// Version as a single number: major * 10000 + minor * 100 + patch.
inline constexpr int version =
    INFERCOST_VERSION_MAJOR * 10000 + INFERCOST_VERSION_MINOR * 100 + INFERCOST_VERSION_PATCH;
} // namespace infercost
