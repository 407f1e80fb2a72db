// libFuzzer target for the option parsing of every `infercost` subcommand (see cli_options.hpp).
// GCC 12 reports a false "potential null pointer dereference" inside CLI11 2.1.2 once it is
// inlined here, as in examples/cli/main.cpp.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cli_options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  infercost::fuzz::cli_options(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
