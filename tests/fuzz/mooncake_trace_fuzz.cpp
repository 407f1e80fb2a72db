// libFuzzer target for the Mooncake JSONL reader: any input either parses or raises
// infercost::trace_error; any other exception, crash, leak or undefined behaviour is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "infercost/io/mooncake_trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto trace = infercost::io::parse_mooncake_trace(text, "fuzz.jsonl");
    for (const auto& r : trace)
      if (r.input_length < 0 || r.output_length < 0 || !(r.timestamp_ms >= 0.0))
        __builtin_trap(); // the reader promised to reject these
  } catch (const infercost::trace_error&) {
  }
  return 0;
}
