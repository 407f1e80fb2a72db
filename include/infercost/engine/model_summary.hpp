/// @file
/// One-line summaries of model presets: the derived numbers that drive serving cost. The decode
/// FLOPs per token are the step-cost engine's (one sequence at a 4K context on one device), so
/// they count attention as it runs (MLA absorbed, attention/cost.hpp) and the LM head.
#pragma once

#include <string>
#include <vector>

#include "infercost/device/catalog.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/model/presets.hpp"

namespace infercost::engine {

/// A model's derived headline numbers.
struct model_summary {
  std::string name;
  double total_params = 0;           ///< main model, MTP excluded
  double active_params = 0;          ///< per token, with input embedding and LM head (as reported)
  double activation_ratio = 0;       ///< active / total
  double kv_bytes_per_token = 0;     ///< BF16 KV, all layers, no window cap
  double kv_bytes_at_128k = 0;       ///< BF16 KV of one 128K-token sequence (window caps applied)
  double decode_flops_per_token = 0; ///< at a 4K context (engine: attention, layers, LM head)
  double weight_bytes_fp8 = 0;       ///< weights at one byte per parameter
};

/// Summarises one model config. @throws config_error if it is invalid.
[[nodiscard]] inline model_summary summarize_model(const model::model_config& m) {
  model_summary s;
  s.name = m.name;
  s.total_params = model::count_params(m).total();
  s.active_params = model::active_params_reported(m);
  s.activation_ratio = s.active_params / s.total_params;
  s.kv_bytes_per_token = model::kv_bytes_per_token(m, precision::bf16);
  s.kv_bytes_at_128k = model::kv_bytes_per_sequence(m, 131072, precision::bf16);
  const basic_step_cost<default_device, attention::full> one_device(m, {.devices = 1, .tp = 1});
  s.decode_flops_per_token = one_device(step_batch{}.add_decode(4096)).flops;
  s.weight_bytes_fp8 = model::weight_bytes(m, precision::fp8);
  return s;
}

/// Summaries of every preset, in presets::names order.
[[nodiscard]] inline std::vector<model_summary> presets_summary() {
  std::vector<model_summary> out;
  for (auto n : model::presets::names)
    out.push_back(summarize_model(model::presets::find(n)));
  return out;
}

} // namespace infercost::engine
