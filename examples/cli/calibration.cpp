// `--calibration FILE`: engine profiles fitted by `infercost calibrate`, for every subcommand
// that times steps with an engine's overheads.
#include "commands.hpp"

#include <infercost/engine/calibration.hpp>
#include <infercost/io/calibration_file.hpp>

#include <functional>
#include <string>

namespace infercost::cli {

engine::calibration calibration_of(const std::string& path) {
  return path.empty() ? engine::shipped_calibration() : io::read_calibration(path);
}

engine::engine_profile engine_profile_for(std::string_view engine, std::string_view device,
                                          const std::string& calibration_path) {
  return calibration_of(calibration_path).profile_for(device, engine);
}

std::function<engine::engine_profile(const any_device&)>
engine_profiles(const std::string& engine, const std::string& calibration_path,
                const any_device& probe) {
  if (engine == "none")
    return {};
  const engine::calibration cal = calibration_of(calibration_path);
  (void)cal.profile_for(probe.name(), engine); // an unknown engine fails here, not in a search
  return [cal, engine](const any_device& d) { return cal.profile_for(d.name(), engine); };
}

void add_calibration_option(CLI::App* sub, std::string& path) {
  sub->add_option("--calibration", path,
                  "Engine profiles fitted by `infercost calibrate` (JSON); default: the "
                  "library's shipped fit");
}

} // namespace infercost::cli
