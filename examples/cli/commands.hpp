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
#include <utility>
#include <vector>

namespace infercost::plan {
struct device_offer;
} // namespace infercost::plan

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

/// The engine profile of each device for the engine named `engine` (engine_profile_for), as the
/// planner takes it; empty for "none" (the roofline alone). @throws config_error for an unknown
/// engine (tried on `probe`), trace_error for an unreadable calibration file.
std::function<engine::engine_profile(const any_device&)>
engine_profiles(const std::string& engine, const std::string& calibration_path,
                const any_device& probe);

/// Adds `--calibration FILE` to `sub`, stored in `path`.
void add_calibration_option(CLI::App* sub, std::string& path);

/// `text` as a seed: decimal digits only, with a value in [0, 2^64 − 1].
/// @throws CLI::ValidationError naming --seed and the text for anything else (a sign, a
/// fraction, an exponent, a larger number, an empty string).
unsigned long long parse_seed(const std::string& text);

/// Adds `--seed N` to `sub`, stored in `seed` (its value is the default shown); a value that
/// parse_seed refuses fails the command line's parse with its message.
CLI::Option* add_seed_option(CLI::App* sub, unsigned long long& seed);

/// Most devices a simulated deployment may hold (instances × devices per instance, all pools):
/// ten times the largest clusters built, and a bound on the simulator's per-device state.
inline constexpr long long max_devices = 1'000'000;

/// Throws config_error naming `component` and `flag` unless 0 <= value <= max.
inline void check_count(std::string_view component, std::string_view flag, long long value,
                        long long max) {
  check_non_negative(component, flag, value);
  if (value > max)
    throw config_error(component, flag, fmt::format("({}) must be at most {}", value, max));
}

/// One `--usd-per-hour DEVICE=USD` entry: the device's catalog name and the rate.
/// @throws config_error (naming `area`) for an entry that is not DEVICE=USD with a positive
/// number, in full, or that names no catalog device.
std::pair<std::string, double> parse_rate(std::string_view area, const std::string& kv);

/// $/device-hour of `device` and where it comes from: an entry of `overrides`
/// (`--usd-per-hour DEVICE=USD`), else the first econ deployment preset of that device
/// (DeepSeek's $2 H800 rental, an H200 cloud rate, a 910B purchase TCO, ...), else the device's
/// typical purchase TCO. @throws config_error for a bad entry or an unknown device.
std::pair<double, std::string> device_rate(std::string_view area,
                                           const std::vector<std::string>& overrides,
                                           const std::string& device);

/// A device the planner may use (plan::device_offer): catalog device `name` with its scale-up
/// domain resized to `devices_per_node` when > 0, its rate (device_rate) and the weight precision
/// `precision_name`, or the one it serves when empty. Defined with `infercost plan`.
/// @throws config_error for an unknown device, a bad rate entry or precision.
plan::device_offer device_offer_of(std::string_view area, const std::string& name,
                                   const std::vector<std::string>& overrides,
                                   const std::string& precision_name, int devices_per_node);

command add_devices(CLI::App& app);
command add_models(CLI::App& app);
command add_step(CLI::App& app);
command add_serve(CLI::App& app);
command add_price(CLI::App& app);
command add_validate(CLI::App& app);
command add_calibrate(CLI::App& app);
command add_plan(CLI::App& app);

/// Adds every subcommand above to `app`, in the order `infercost --help` lists them.
std::vector<command> add_commands(CLI::App& app);

} // namespace infercost::cli
