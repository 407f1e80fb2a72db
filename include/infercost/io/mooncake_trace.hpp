/// @file
/// Reader for Mooncake request traces (JSON Lines, one request per line), as released with the
/// Mooncake FAST'25 paper (kvcache-ai/Mooncake, FAST25-release/traces):
///
///     {"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1, 2]}
///
/// `timestamp` is in milliseconds from the start of the trace; `hash_ids` holds one id per
/// 512-token prefix block of the input, chained so that equal ids mean equal prefixes. Traces
/// without `hash_ids` are accepted (the field is then empty). Unknown keys are skipped. Any
/// malformed line raises `trace_error` naming the file, the 1-based line and the 1-based column.
///
/// In header-only mode (the default) this header includes the parser, which uses nlohmann::json;
/// in compiled mode (core/macros.hpp) it only declares it. Each line goes through
/// nlohmann::json's SAX parser (RFC 8259 syntax, UTF-8 strings), which
/// fills a `mooncake_request` directly without building a document. Columns: for a syntax error,
/// the 1-based byte of the line at which the parser stopped; for a field that breaks a rule
/// (wrong type, negative, not an integer, out of range, duplicated), the 1-based byte of that
/// field's key (`"input_length"`) in the line; for a missing field or a line that is not an
/// object, 1.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/io/csv.hpp"
#include "infercost/io/workload.hpp"

namespace infercost::io {

/// One request of a Mooncake trace.
struct mooncake_request {
  double timestamp_ms = 0.0;           ///< arrival time from the start of the trace, ms (>= 0)
  std::int64_t input_length = 0;       ///< prompt tokens (>= 0)
  std::int64_t output_length = 0;      ///< generated tokens (>= 0)
  std::vector<std::uint64_t> hash_ids; ///< chained prefix-block ids, one per block; may be empty
  std::size_t line = 0;                ///< 1-based line of the trace it was read from (0: none)
};

/// Parses one line of a Mooncake trace. `file` and `line` (1-based) only label errors.
/// @throws trace_error for anything but one JSON object with a number `timestamp` in
///         [0, 1e12] ms (io::max_time_s) and non-negative integers `input_length` and
///         `output_length` below 2^63 (all required), an optional array of non-negative integers
///         below 2^64 `hash_ids`, no duplicate known keys, nesting at most 64 deep, nothing after
///         the object but white space, and at most ceil(input_length / 512) `hash_ids` (one per
///         block of the prompt; fewer are accepted).
[[nodiscard]] mooncake_request parse_mooncake_line(std::string_view text, const std::string& file,
                                                   std::size_t line);

/// Parses a whole Mooncake trace held in memory. Blank lines are skipped; timestamps must not
/// decrease (a decrease is reported at the `timestamp` key). `file` only labels errors.
/// @throws trace_error naming file, line and column of the first malformed line.
[[nodiscard]] std::vector<mooncake_request> parse_mooncake_trace(std::string_view text,
                                                                 const std::string& file);

/// Reads a Mooncake trace file, line by line. @throws trace_error if the file is a directory or
/// cannot be opened (line 0), or a line is malformed.
[[nodiscard]] std::vector<mooncake_request> read_mooncake_trace(const std::string& path);

/// Converts a parsed Mooncake trace (timestamps in ms) to a workload named `name`.
/// @throws trace_error naming `name` if the trace is empty (line 0) or has a zero-length prompt
/// (at the request's `line`).
[[nodiscard]] workload from_mooncake(const std::vector<mooncake_request>& trace, std::string name);

/// Reads the first `limit` requests (all by default) of a Mooncake JSONL trace file as a
/// workload, streaming it: memory holds the requests kept, not the file.
/// @throws trace_error as read_mooncake_trace, at `input_length` for a zero-length prompt, and
/// for an empty trace or more than io::max_requests requests.
[[nodiscard]] workload
read_mooncake_workload(const std::string& path,
                       std::size_t limit = std::numeric_limits<std::size_t>::max());

} // namespace infercost::io

// Header-only mode defines the reader here; the compiled library defines it once (macros.hpp).
#if !defined(INFERCOST_COMPILED) || defined(INFERCOST_COMPILED_SOURCE)
#include "infercost/io/detail/mooncake_trace.hpp"
#endif
