/// @file
/// Reads and writes calibration files (engine::calibration as JSON), the files that
/// `infercost calibrate` writes and `--calibration FILE` reads:
///
///     {"source": "infercost calibrate data.csv --rows even ...",
///      "profiles": [{"device": "h100_sxm", "engine": "trtllm", "rows": 240,
///                    "fit_rms_log": 0.31, "decode_step_s": 1.2e-4, "prefill_step_s": 2.1e-3,
///                    "launch_s": 6.0e-6, "launches_per_layer": 10, "request_s": 0.05,
///                    "oneshot_allreduce_bytes": 0, "ep_comm_unit_share": 0,
///                    "expert_gemm_efficiency": 0.8}]}
///
/// A profile starts from its engine's preset (engine::profile_of); the terms present replace the
/// preset's. Unknown keys are an error (a misspelt term must not be ignored).
#pragma once

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "infercost/core/error.hpp"
#include "infercost/engine/calibration.hpp"

namespace infercost::io {

namespace detail {

/// The 1-based line of byte `offset` in `text`.
inline std::size_t line_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

} // namespace detail

/// Parses the calibration in `text`; `file` names it in errors.
/// @throws trace_error naming the file, line (for syntax errors) and the field at fault.
inline engine::calibration parse_calibration(std::string_view text, const std::string& file) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw trace_error(file, detail::line_of(text, e.byte), 0, e.what());
  }
  auto fail = [&](const std::string& what) -> void { throw trace_error(file, 0, 0, what); };
  if (!j.is_object() || !j.contains("profiles") || !j["profiles"].is_array())
    fail("calibration: expected an object with a \"profiles\" array");
  engine::calibration c;
  if (j.contains("source") && j["source"].is_string())
    c.source = j["source"].get<std::string>();
  for (std::size_t i = 0; i < j["profiles"].size(); ++i) {
    const nlohmann::json& p = j["profiles"][i];
    const std::string at = fmt::format("profiles[{}]", i);
    if (!p.is_object())
      fail(at + ": expected an object");
    auto text_of = [&](const char* key) {
      if (!p.contains(key) || !p[key].is_string())
        fail(fmt::format("{}.{}: expected a string", at, key));
      return p[key].get<std::string>();
    };
    engine::calibration::entry e;
    e.device = text_of("device");
    e.engine = text_of("engine");
    try {
      e.profile = engine::profile_of(e.engine);
    } catch (const config_error& err) {
      fail(fmt::format("{}.engine: {}", at, err.what()));
    }
    for (const auto& [key, value] : p.items()) {
      if (key == "device" || key == "engine")
        continue;
      if (!value.is_number())
        fail(fmt::format("{}.{}: expected a number", at, key));
      const double v = value.get<double>();
      if (key == "rows")
        e.rows = value.get<std::int64_t>();
      else if (key == "fit_rms_log")
        e.fit_rms_log = v;
      else if (key == "decode_step_s")
        e.profile.decode_step_s = v;
      else if (key == "prefill_step_s")
        e.profile.prefill_step_s = v;
      else if (key == "launch_s")
        e.profile.launch_s = v;
      else if (key == "request_s")
        e.profile.request_s = v;
      else if (key == "launches_per_layer")
        e.profile.launches_per_layer = v;
      else if (key == "oneshot_allreduce_bytes")
        e.profile.oneshot_allreduce_bytes = v;
      else if (key == "ep_comm_unit_share")
        e.profile.ep_comm_unit_share = v;
      else if (key == "expert_gemm_efficiency")
        e.profile.expert_gemm_efficiency = v;
      else
        fail(fmt::format("{}.{}: unknown key", at, key));
    }
    try {
      e.profile.validate();
    } catch (const config_error& err) {
      fail(fmt::format("{}: {}", at, err.what()));
    }
    c.set(std::move(e));
  }
  return c;
}

/// Reads the calibration file at `path`. @throws trace_error when it cannot be read or parsed.
inline engine::calibration read_calibration(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw trace_error(path, 0, 0, "calibration: cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_calibration(s.str(), path);
}

/// `c` as the JSON text of a calibration file (two-space indent, profiles in order).
inline std::string to_json(const engine::calibration& c) {
  nlohmann::ordered_json profiles = nlohmann::ordered_json::array();
  for (const engine::calibration::entry& e : c.entries)
    profiles.push_back(
        nlohmann::ordered_json{{"device", e.device},
                               {"engine", e.engine},
                               {"rows", e.rows},
                               {"fit_rms_log", e.fit_rms_log},
                               {"decode_step_s", e.profile.decode_step_s},
                               {"prefill_step_s", e.profile.prefill_step_s},
                               {"launch_s", e.profile.launch_s},
                               {"launches_per_layer", e.profile.launches_per_layer},
                               {"request_s", e.profile.request_s},
                               {"oneshot_allreduce_bytes", e.profile.oneshot_allreduce_bytes},
                               {"ep_comm_unit_share", e.profile.ep_comm_unit_share},
                               {"expert_gemm_efficiency", e.profile.expert_gemm_efficiency}});
  nlohmann::ordered_json out;
  out["source"] = c.source;
  out["profiles"] = std::move(profiles);
  return out.dump(2) + "\n";
}

} // namespace infercost::io
