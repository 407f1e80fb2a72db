// Subcommands of the `infercost` command-line program. Each file in examples/cli/ adds one
// subcommand to the app and returns the function that runs it once parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <infercost/core/error.hpp>
#include <infercost/device/any_device.hpp>
#include <infercost/engine/calibration.hpp>
#include <infercost/engine/engine_profile.hpp>
#include <infercost/model/hf_config.hpp>
#include <infercost/model/presets.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

namespace infercost::cli {

/// Runs a parsed subcommand; returns the process exit status.
using runner = std::function<int()>;

/// A registered subcommand and what runs it.
struct command {
  CLI::App* app;
  runner run;
};

/// The catalog device `name`, its scale-up domain resized to `devices_per_node` when that is > 0
/// (the flag --devices-per-node). @throws config_error for an unknown name or a count < 0.
inline any_device device_of(std::string_view name, int devices_per_node) {
  any_device d = make_device(name);
  check_non_negative("cli", "devices-per-node", devices_per_node);
  if (devices_per_node > 0)
    d.set_devices_per_node(devices_per_node);
  return d;
}

/// The model `--model` names: a path ending in ".json" is a Hugging Face config.json, loaded;
/// anything else is a preset name (see `infercost models`).
/// @throws config_error for an unknown preset or an unreadable or unsupported config.json.
inline model::model_config model_of(std::string_view name_or_path) {
  if (name_or_path.size() >= 5 && name_or_path.substr(name_or_path.size() - 5) == ".json")
    return model::from_hf_config(std::filesystem::path(name_or_path));
  return model::presets::find(name_or_path);
}

/// `path` opened for writing (truncated) before any work is done, so that an unwritable path
/// fails at once, not after a run. @throws config_error naming `component` and `field`.
inline std::ofstream open_output(std::string_view component, std::string_view field,
                                 const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    throw config_error(component, field, fmt::format("('{}') cannot be written", path));
  return out;
}

/// The engine profile `engine` on the device named `device`: its fitted profile in the
/// calibration file at `calibration_path`, or in the library's shipped calibration
/// (engine::shipped_calibration) when the path is empty; the engine's preset when neither fits
/// that pair. @throws config_error for an unknown engine, trace_error for an unreadable file.
engine::engine_profile engine_profile_for(std::string_view engine, std::string_view device,
                                          const std::string& calibration_path);

/// The calibration file at `path`, or the library's shipped calibration when it is empty.
/// @throws trace_error for an unreadable or malformed file.
engine::calibration calibration_of(const std::string& path);

/// Adds `--calibration FILE` to `sub`, stored in `path`.
void add_calibration_option(CLI::App* sub, std::string& path);

command add_devices(CLI::App& app);
command add_models(CLI::App& app);
command add_step(CLI::App& app);
command add_serve(CLI::App& app);
command add_price(CLI::App& app);
command add_validate(CLI::App& app);
command add_calibrate(CLI::App& app);

} // namespace infercost::cli
