/// @file
/// JSON for serving reports (nlohmann::ordered_json): `to_json(report)` and `to_json(usage)`.
/// Keys come in a fixed order and numbers in round-trip form, non-finite numbers as null, so
/// equal reports give identical text. In header-only mode (the default) this header includes the
/// writer, which uses nlohmann::json; in compiled mode (core/macros.hpp) it only declares it.
#pragma once

#include <string>

#include "infercost/core/macros.hpp"
#include "infercost/serving/report.hpp"

namespace infercost::serving {

/// The usage as a JSON object.
[[nodiscard]] std::string to_json(const usage& u);

/// The report as JSON (one line; keys in a fixed order, numbers in round-trip form, non-finite
/// numbers as null, so equal reports give identical text). Per-request records are included when
/// `with_requests`.
[[nodiscard]] std::string to_json(const report& r, bool with_requests = false);

} // namespace infercost::serving

// Header-only mode defines the writer here; the compiled library defines it once (macros.hpp).
#if !defined(INFERCOST_COMPILED) || defined(INFERCOST_COMPILED_SOURCE)
#include "infercost/serving/detail/report_json.hpp"
#endif
