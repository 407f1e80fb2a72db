// libFuzzer target for the length-only CSV reader (see fuzz_checks.hpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  infercost::fuzz::lengths_csv(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
