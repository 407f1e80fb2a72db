// What a device-hour costs, for the subcommands that price deployments (price, plan).
#include "commands.hpp"

#include <infercost/device/any_device.hpp>
#include <infercost/econ/tco.hpp>

#include <fmt/core.h>

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace infercost::cli {

std::pair<std::string, double> parse_rate(std::string_view area, const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos)
    throw config_error(area, "usd-per-hour", fmt::format("('{}') must be DEVICE=USD", kv));
  const std::string number = kv.substr(eq + 1);
  double v = 0.0;
  std::size_t used = 0;
  try {
    v = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != number.size())
    throw config_error(area, "usd-per-hour",
                       fmt::format("('{}') must be DEVICE=USD with USD a number", kv));
  check_positive(area, "usd-per-hour", v);
  // Aliases name the same catalog entry (ascend_910b is ascend_910b2).
  try {
    return {std::string(make_device(kv.substr(0, eq)).name()), v};
  } catch (const config_error& e) {
    throw config_error(area, "usd-per-hour", fmt::format("('{}'): {}", kv, e.what()));
  }
}

std::pair<double, std::string> device_rate(std::string_view area,
                                           const std::vector<std::string>& overrides,
                                           const std::string& device) {
  const std::string canonical(make_device(device).name());
  for (const std::string& kv : overrides)
    if (const auto [name, v] = parse_rate(area, kv); name == canonical)
      return {v, "--usd-per-hour"};
  econ::device_rate r = econ::default_rate(device);
  return {r.usd_per_device_hour, std::move(r.source)};
}

} // namespace infercost::cli
