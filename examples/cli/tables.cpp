// `infercost devices` and `infercost models`: the catalog tables, as text or JSON.
#include "commands.hpp"

#include <infercost/device/catalog.hpp>
#include <infercost/device/summary.hpp>
#include <infercost/engine/model_summary.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace infercost::cli {
namespace {

nlohmann::json to_json(const device_summary& d) {
  return {{"name", d.name},
          {"family", d.family},
          {"bf16_flops", d.bf16_flops},
          {"fp8_flops", d.fp8_flops},
          {"int8_flops", d.int8_flops},
          {"memory_bytes", d.memory_bytes},
          {"memory_bytes_per_s", d.memory_bytes_per_s},
          {"ridge_bf16_flop_per_byte", d.ridge_bf16},
          {"scale_up_bytes_per_s", d.scale_up_bytes_per_s},
          {"scale_out_bytes_per_s", d.scale_out_bytes_per_s},
          {"tdp_w", d.tdp_w},
          {"price_usd", d.price_usd},
          {"usd_per_hour", d.usd_per_hour}};
}

nlohmann::json to_json(const engine::model_summary& s) {
  return {{"name", s.name},
          {"total_params", s.total_params},
          {"active_params", s.active_params},
          {"activation_ratio", s.activation_ratio},
          {"kv_bytes_per_token_bf16", s.kv_bytes_per_token},
          {"kv_bytes_at_128k_bf16", s.kv_bytes_at_128k},
          {"decode_flops_per_token_at_4k", s.decode_flops_per_token},
          {"weight_bytes_fp8", s.weight_bytes_fp8}};
}

/// The other names of the catalog entry `name` (device_aliases), in catalog order.
std::vector<std::string> aliases_of(std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [alias, entry] : device_aliases)
    if (entry == name)
      out.emplace_back(alias);
  return out;
}

int print_devices(bool json) {
  const auto rows = catalog_summary();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : rows) {
      out.push_back(to_json(d));
      out.back()["aliases"] = aliases_of(d.name);
    }
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  fmt::print("{:<13} {:<10} {:>7} {:>7} {:>6} {:>7} {:>6} {:>8} {:>9} {:>6}\n", "device", "family",
             "BF16", "FP8", "HBM", "HBM", "ridge", "scale-up", "scale-out", "$/h");
  fmt::print("{:<13} {:<10} {:>7} {:>7} {:>6} {:>7} {:>6} {:>8} {:>9} {:>6}\n", "", "", "TFLOPS",
             "TFLOPS", "GiB", "TB/s", "F/B", "GB/s", "GB/s", "TCO");
  for (const auto& d : rows)
    fmt::print("{:<13} {:<10} {:>7.0f} {:>7.0f} {:>6.0f} {:>7.2f} {:>6.0f} {:>8.0f} {:>9.0f} "
               "{:>6.2f}\n",
               d.name, d.family, d.bf16_flops / 1e12, d.fp8_flops / 1e12,
               d.memory_bytes / units::gib, d.memory_bytes_per_s / 1e12, d.ridge_bf16,
               d.scale_up_bytes_per_s / 1e9, d.scale_out_bytes_per_s / 1e9, d.usd_per_hour);
  fmt::print("\naliases (other names of the same catalog entry, accepted wherever a device is)\n");
  for (const auto& [alias, entry] : device_aliases)
    fmt::print("  {:<16} = {}\n", alias, entry);
  return 0;
}

int print_models(bool json) {
  const auto rows = engine::presets_summary();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : rows)
      out.push_back(to_json(s));
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  fmt::print("{:<17} {:>8} {:>8} {:>7} {:>9} {:>10}\n", "model", "total B", "active B", "active%",
             "KV KB/tok", "KV GB@128K");
  for (const auto& s : rows)
    fmt::print("{:<17} {:>8.1f} {:>8.2f} {:>7.2f} {:>9.1f} {:>10.2f}\n", s.name,
               s.total_params / 1e9, s.active_params / 1e9, 100 * s.activation_ratio,
               s.kv_bytes_per_token / 1e3, s.kv_bytes_at_128k / 1e9);
  return 0;
}

} // namespace

command add_devices(CLI::App& app) {
  auto* sub = app.add_subcommand("devices", "Print the device catalog");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "Print JSON instead of a table");
  return {sub, [json] { return print_devices(*json); }};
}

command add_models(CLI::App& app) {
  auto* sub = app.add_subcommand("models", "Print the model presets with derived numbers");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "Print JSON instead of a table");
  return {sub, [json] { return print_models(*json); }};
}

} // namespace infercost::cli
