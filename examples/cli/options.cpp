// Options shared by several subcommands, and the list of subcommands.
#include "commands.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

namespace infercost::cli {

unsigned long long parse_seed(const std::string& text) {
  static_assert(std::numeric_limits<unsigned long long>::digits == 64,
                "a seed is 64 bits: unsigned long long must be too");
  unsigned long long v = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  // from_chars on an unsigned type takes no sign, fraction, exponent or white space.
  const auto [ptr, ec] = std::from_chars(first, last, v);
  if (first == last || ec != std::errc{} || ptr != last)
    throw CLI::ValidationError(
        fmt::format("--seed ('{}') must be an integer in [0, {}] (2^64 - 1), written in decimal "
                    "digits",
                    text, std::numeric_limits<std::uint64_t>::max()));
  return v;
}

CLI::Option* add_seed_option(CLI::App* sub, unsigned long long& seed) {
  return sub
      ->add_option_function<std::string>(
          "--seed", [&seed](const std::string& text) { seed = parse_seed(text); },
          "Seed of every random choice: an integer in [0, 2^64 - 1]")
      ->default_str(std::to_string(seed));
}

std::vector<command> add_commands(CLI::App& app) {
  return {add_devices(app), add_models(app),   add_step(app),      add_serve(app),
          add_price(app),   add_validate(app), add_calibrate(app), add_plan(app)};
}

} // namespace infercost::cli
