// What each fuzz target checks on one input, shared by the libFuzzer targets
// (tests/fuzz/*_fuzz.cpp) and the test that replays the kept inputs
// (tests/io/fuzz_corpus_test.cpp). A reader must either return requests that keep its promises or
// raise infercost::trace_error; any other exception, a broken promise (__builtin_trap), a crash, a
// leak or undefined behaviour is a finding.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "infercost/io/mooncake_trace.hpp"
#include "infercost/io/workload.hpp"

namespace infercost::fuzz {

/// Traps unless every request has a finite arrival in [0, io::max_time_s] not before the
/// previous one, a prompt of at least one token and a non-negative output.
inline void check_requests(const io::workload& w) {
  double prev = 0.0;
  for (const io::workload_request& r : w.requests) {
    if (!(r.arrival_s >= prev) || !(r.arrival_s <= io::max_time_s) || r.input_tokens < 1 ||
        r.output_tokens < 0)
      __builtin_trap();
    prev = r.arrival_s;
  }
}

/// The Mooncake JSONL reader on `text`.
inline void mooncake_trace(std::string_view text) {
  try {
    const auto trace = io::parse_mooncake_trace(text, "fuzz.jsonl");
    for (const auto& r : trace) {
      if (r.input_length < 0 || r.output_length < 0 || !(r.timestamp_ms >= 0.0) ||
          !(r.timestamp_ms <= io::max_time_s * 1e3))
        __builtin_trap();
      const auto blocks =
          static_cast<std::size_t>(r.input_length / 512 + (r.input_length % 512 != 0));
      if (r.hash_ids.size() > blocks)
        __builtin_trap();
    }
    check_requests(io::from_mooncake(trace, "fuzz.jsonl"));
  } catch (const trace_error&) {
  }
}

/// The Azure CSV reader on `text`.
inline void azure_csv(std::string_view text) {
  try {
    check_requests(io::from_azure_csv(io::csv_table(text, "fuzz.csv")));
  } catch (const trace_error&) {
  }
}

/// The length-only CSV reader on `text`, with gamma arrivals.
inline void lengths_csv(std::string_view text) {
  try {
    const io::arrival_config a{.process = io::arrival_process::gamma, .rate_per_s = 5.0, .cv = 2.0};
    check_requests(io::from_lengths_csv(io::csv_table(text, "fuzz.csv"), a, 7));
  } catch (const trace_error&) {
  }
}

} // namespace infercost::fuzz
