/// @file
/// `engine::calibration`: engine profiles fitted to measured serving runs, one per device and
/// engine, and the library's own fitted defaults.
///
/// `infercost calibrate FILE.csv` fits the terms of engine::engine_profile that a fit can tell
/// apart on serving benchmarks — the exposed host time of a decode step (decode_step_s), of a
/// step with prefill tokens (prefill_step_s), and the host time to launch one kernel of an eager
/// step (launch_s, times the preset's launches_per_layer), the front end's time per request
/// (request_s) and, with `--fit-expert-gemm` on pairs with rows of MoE models, the routed
/// experts' share of the GEMM compute rate (expert_gemm_efficiency) — for every (device, engine)
/// pair of the file, by least squares on the log error of mean TTFT and mean TPOT over one half
/// of the rows, and writes them as a calibration file (io/calibration_file.hpp). A profile that
/// was not fitted is the engine's preset (engine::profile_of).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "infercost/engine/engine_profile.hpp"

namespace infercost::engine {

/// Fitted engine profiles by (device, engine).
struct calibration {
  /// One fitted profile and what it was fitted on.
  struct entry {
    std::string device;       ///< device name (device catalog), e.g. "h100_sxm"
    std::string engine;       ///< engine preset name (profile_names), e.g. "trtllm"
    engine_profile profile{}; ///< the preset with its fitted terms replaced
    std::int64_t rows = 0;    ///< rows the fit used
    double fit_rms_log = 0.0; ///< root mean square of the log errors it reached on them
  };
  std::vector<entry> entries;
  std::string source; ///< what it was fitted on and how (the command)

  /// The fitted entry for (device, engine), or nullptr.
  [[nodiscard]] const entry* find(std::string_view device, std::string_view engine) const {
    for (const entry& e : entries)
      if (e.device == device && e.engine == engine)
        return &e;
    return nullptr;
  }

  /// The fitted profile of `engine` on `device`, or the engine's preset when none was fitted.
  /// @throws config_error for an engine that has no preset.
  [[nodiscard]] engine_profile profile_for(std::string_view device, std::string_view engine) const {
    if (const entry* e = find(device, engine))
      return e->profile;
    return profile_of(engine);
  }

  /// Puts `e` in place of the entry for its (device, engine), or adds it.
  void set(entry e) {
    for (entry& x : entries)
      if (x.device == e.device && x.engine == e.engine) {
        x = std::move(e);
        return;
      }
    entries.push_back(std::move(e));
  }
};

/// The library's fitted defaults: every (device, engine) pair of the aiconfigurator silicon file
/// (shared/data/aiconfigurator/silicon_h100_h200.csv, 1,884 measured runs; see its README for
/// source and licence), fitted on its even rows (0-based positions) and rounded to 4 significant
/// digits. Reproduce with
///     infercost calibrate silicon_h100_h200.csv --rows even --max-evaluations 80
///         --fit-expert-gemm -o fit.json
/// (each aggregated row's clients spread over one request's latency, `--ramp-up -1`, the default)
/// and report errors only on the odd rows (`infercost validate FILE --rows odd`): the fit has
/// seen the even ones. Pairs not listed keep their engine's preset.
[[nodiscard]] inline calibration shipped_calibration() {
  auto fitted = [](std::string_view device, std::string_view engine, std::int64_t rows, double rms,
                   double decode_step_s, double prefill_step_s, double launch_s, double request_s,
                   double expert_gemm_efficiency) {
    engine_profile p = profile_of(engine);
    p.decode_step_s = decode_step_s;
    p.prefill_step_s = prefill_step_s;
    p.launch_s = launch_s;
    p.request_s = request_s;
    p.expert_gemm_efficiency = expert_gemm_efficiency;
    return calibration::entry{.device = std::string(device),
                              .engine = std::string(engine),
                              .profile = p,
                              .rows = rows,
                              .fit_rms_log = rms};
  };
  calibration c;
  c.source = "infercost calibrate silicon_h100_h200.csv --rows even --max-evaluations 80 "
             "--requests-per-client 4 --seed 1 --ramp-up -1 --fit-expert-gemm";
  // device, engine, rows, rms log error, decode_step_s, prefill_step_s, launch_s, request_s,
  // expert_gemm_efficiency
  c.entries = {
      fitted("h100_sxm", "sglang", 44, 0.7956, 1.839e-06, 0.0004767, 5.883e-06, 1.994, 1.0),
      fitted("h100_sxm", "trtllm", 248, 0.4927, 8.606e-05, 0.0007609, 1.732e-06, 0.2429, 0.5071),
      fitted("h100_sxm", "vllm", 121, 0.6626, 0.0001705, 0.0006441, 1.011e-05, 0.1157, 0.2488),
      fitted("h200_sxm", "sglang", 76, 0.6647, 0.0001403, 0.001028, 5.521e-06, 0.5258, 0.2446),
      fitted("h200_sxm", "trtllm", 95, 0.7315, 3.259e-05, 0.0005518, 1.503e-06, 0.272, 0.1848),
      fitted("h200_sxm", "vllm", 156, 0.4313, 0.0003303, 0.000578, 3.757e-06, 0.08626, 0.1242),
  };
  return c;
}

} // namespace infercost::engine
