/// @file
/// One-line summaries of model presets: the derived numbers that drive serving cost.
#pragma once

#include <string>
#include <vector>

#include "infercost/model/presets.hpp"

namespace infercost::model {

/// A model's derived headline numbers.
struct model_summary {
  std::string name;
  double total_params = 0;           ///< main model, MTP excluded
  double active_params = 0;          ///< per token, with input embedding and LM head (as reported)
  double activation_ratio = 0;       ///< active / total
  double kv_bytes_per_token = 0;     ///< BF16 KV, all layers, no window cap
  double kv_bytes_at_128k = 0;       ///< BF16 KV of one 128K-token sequence (window caps applied)
  double decode_flops_per_token = 0; ///< at 4K context
  double weight_bytes_fp8 = 0;       ///< weights at one byte per parameter
};

/// Summarises one model config. @throws config_error if it is invalid.
[[nodiscard]] inline model_summary summarize_model(const model_config& m) {
  model_summary s;
  s.name = m.name;
  s.total_params = count_params(m).total();
  s.active_params = active_params_reported(m);
  s.activation_ratio = s.active_params / s.total_params;
  s.kv_bytes_per_token = kv_bytes_per_token(m, precision::bf16);
  s.kv_bytes_at_128k = kv_bytes_per_sequence(m, 131072, precision::bf16);
  s.decode_flops_per_token = decode_token_work(m, 4096, precision::bf16).flops();
  s.weight_bytes_fp8 = weight_bytes(m, precision::fp8);
  return s;
}

/// Summaries of every preset, in presets::names order.
[[nodiscard]] inline std::vector<model_summary> presets_summary() {
  std::vector<model_summary> out;
  for (auto n : presets::names)
    out.push_back(summarize_model(presets::find(n)));
  return out;
}

} // namespace infercost::model
