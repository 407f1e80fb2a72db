/// @file
/// The workload a serving simulation replays: a list of requests (arrival time, prompt and output
/// lengths, prefix-block hashes) and the bounds every workload is held to. The readers of the
/// public traces and the generators that make workloads are in io/workload.hpp (and
/// io/mooncake_trace.hpp); the simulators need only this type.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "infercost/core/error.hpp"

namespace infercost::io {

/// Tokens per hash id in the Mooncake release (FAST25-release/README: "block size 512").
inline constexpr std::int64_t mooncake_block_tokens = 512;

/// Checked arithmetic: the bounds a workload is held to (workload::validate), so that no sum the
/// simulator forms overflows and every time keeps microsecond resolution.
/// - A request's input + output tokens: at most 2^31 (2,147,483,648; thousands of times any
///   model's context). With at most 2^31 requests, every token total fits in an int64 (< 2^62).
/// - Arrival times: at most 1e9 s (about 31.7 years). A double resolves microseconds up to
///   2^53 µs (about 285 years), leaving room for the run's own duration.
inline constexpr std::int64_t max_request_tokens = std::int64_t{1} << 31;
inline constexpr std::size_t max_requests = std::size_t{1} << 31;
inline constexpr double max_time_s = 1e9;

/// One request of a workload.
struct workload_request {
  std::int64_t id = 0;                     ///< position in the workload (0-based)
  double arrival_s = 0.0;                  ///< arrival, seconds from the start (>= 0)
  std::int64_t input_tokens = 0;           ///< prompt tokens (>= 1)
  std::int64_t output_tokens = 0;          ///< tokens to generate (>= 0)
  std::vector<std::uint64_t> block_hashes; ///< chained prefix-block ids; empty: no prefix reuse
};

/// A list of requests in arrival order.
struct workload {
  std::string name;                       ///< where it came from (file or generator)
  std::vector<workload_request> requests; ///< in non-decreasing arrival order
  /// Tokens per block hash (Mooncake: 512); meaningful only when requests carry hashes.
  std::int64_t block_tokens = mooncake_block_tokens;

  [[nodiscard]] std::size_t size() const noexcept { return requests.size(); }
  [[nodiscard]] bool empty() const noexcept { return requests.empty(); }
  /// Σ prompt tokens.
  [[nodiscard]] std::int64_t input_tokens() const noexcept {
    std::int64_t s = 0;
    for (const auto& r : requests)
      s += r.input_tokens;
    return s;
  }
  /// Σ output tokens.
  [[nodiscard]] std::int64_t output_tokens() const noexcept {
    std::int64_t s = 0;
    for (const auto& r : requests)
      s += r.output_tokens;
    return s;
  }
  /// Last arrival minus first, seconds (0 for fewer than two requests).
  [[nodiscard]] double duration_s() const noexcept {
    return requests.size() < 2 ? 0.0 : requests.back().arrival_s - requests.front().arrival_s;
  }

  /// @throws config_error for an empty workload, ids that are not 0..n-1, a non-finite,
  /// negative or decreasing arrival, a prompt < 1 token, a negative output or a non-positive
  /// block size; the message names the request.
  void validate() const {
    constexpr std::string_view c = "io::workload";
    if (requests.empty())
      throw config_error(c, "requests", fmt::format("(0) of '{}' must not be empty", name));
    check_positive(c, "block_tokens", block_tokens);
    double prev = 0.0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const workload_request& r = requests[i];
      if (r.id != static_cast<std::int64_t>(i))
        throw config_error(c, "id",
                           fmt::format("({}) of request {} must equal its position", r.id, i));
      if (!std::isfinite(r.arrival_s) || r.arrival_s < 0.0)
        throw config_error(
            c, "arrival_s",
            fmt::format("({}) of request {} must be finite and >= 0", r.arrival_s, i));
      if (r.arrival_s < prev)
        throw config_error(c, "arrival_s",
                           fmt::format("({}) of request {} is before request {}'s ({})",
                                       r.arrival_s, i, i - 1, prev));
      prev = r.arrival_s;
      if (r.input_tokens < 1)
        throw config_error(c, "input_tokens",
                           fmt::format("({}) of request {} must be >= 1", r.input_tokens, i));
      if (r.output_tokens < 0)
        throw config_error(c, "output_tokens",
                           fmt::format("({}) of request {} must be >= 0", r.output_tokens, i));
      if (r.input_tokens > max_request_tokens || r.output_tokens > max_request_tokens ||
          r.input_tokens + r.output_tokens > max_request_tokens)
        throw config_error(c, "input_tokens",
                           fmt::format("({}) + output_tokens ({}) of request {} must be at most "
                                       "{} (see io::max_request_tokens)",
                                       r.input_tokens, r.output_tokens, i, max_request_tokens));
      if (r.arrival_s > max_time_s)
        throw config_error(c, "arrival_s",
                           fmt::format("({}) of request {} must be at most {:.0f} s (about 31.7 "
                                       "years; see io::max_time_s)",
                                       r.arrival_s, i, max_time_s));
    }
    if (requests.size() > max_requests)
      throw config_error(
          c, "requests",
          fmt::format("({}) of '{}' must be at most {}", requests.size(), name, max_requests));
  }
};

} // namespace infercost::io
