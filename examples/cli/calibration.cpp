// `--calibration FILE`: engine profiles fitted by `infercost calibrate`, for every subcommand
// that times steps with an engine's overheads.
#include "commands.hpp"

#include <infercost/engine/calibration.hpp>
#include <infercost/io/calibration_file.hpp>

#include <string>

namespace infercost::cli {

engine::calibration calibration_of(const std::string& path) {
  return path.empty() ? engine::shipped_calibration() : io::read_calibration(path);
}

engine::engine_profile engine_profile_for(std::string_view engine, std::string_view device,
                                          const std::string& calibration_path) {
  return calibration_of(calibration_path).profile_for(device, engine);
}

void add_calibration_option(CLI::App* sub, std::string& path) {
  sub->add_option("--calibration", path,
                  "Engine profiles fitted by `infercost calibrate` (JSON); default: the "
                  "library's shipped fit");
}

} // namespace infercost::cli
