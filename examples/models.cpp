// Prints infercost's model presets with derived parameter counts, KV sizes and work per token,
// and what the article's "V4-Pro" shape really implies.
#include <infercost/engine/model_summary.hpp>

#include <fmt/core.h>

int main() {
  using namespace infercost;
  fmt::print("infercost model presets (sources in include/infercost/model/presets.hpp)\n\n");
  fmt::print("{:<17} {:>8} {:>8} {:>7} {:>9} {:>10} {:>10} {:>9}\n", "model", "total", "active",
             "active", "KV/token", "KV @128K", "decode", "FP8 wts");
  fmt::print("{:<17} {:>8} {:>8} {:>7} {:>9} {:>10} {:>10} {:>9}\n", "", "B", "B", "%", "KB bf16",
             "GB/seq", "GFLOP/tok", "GB");
  for (const auto& s : engine::presets_summary())
    fmt::print("{:<17} {:>8.1f} {:>8.2f} {:>7.2f} {:>9.1f} {:>10.2f} {:>10.1f} {:>9.0f}\n", s.name,
               s.total_params / 1e9, s.active_params / 1e9, 100 * s.activation_ratio,
               s.kv_bytes_per_token / 1e3, s.kv_bytes_at_128k / 1e9, s.decode_flops_per_token / 1e9,
               s.weight_bytes_fp8 / 1e9);

  const auto v4 = engine::summarize_model(model::presets::article_v4_pro());
  fmt::print(
      "\nThe article's \"DeepSeek V4-Pro\" (hidden 7168, 256 experts of hidden 2560, top-8;\n"
      "other dimensions taken from DeepSeek-V3, two-layer ReLU experts as in its code):\n");
  fmt::print("  {:<28} {:>10} {:>10}\n", "", "article", "computed");
  fmt::print("  {:<28} {:>9.0f}B {:>9.1f}B\n", "total parameters",
             model::presets::article_v4_pro_claimed_total / 1e9, v4.total_params / 1e9);
  fmt::print("  {:<28} {:>9.0f}B {:>9.1f}B\n", "active parameters",
             model::presets::article_v4_pro_claimed_active / 1e9, v4.active_params / 1e9);
  fmt::print("  {:<28} {:>9.2f}% {:>9.2f}%\n", "activation ratio",
             100 * model::presets::article_v4_pro_claimed_active /
                 model::presets::article_v4_pro_claimed_total,
             100 * v4.activation_ratio);
  fmt::print("  {:<28} {:>9.2f}B {:>9.3f}B\n", "params per expert (all layers)", 1600.0 / 256,
             2.0 * 7168 * 2560 * 58 / 1e9);
  fmt::print("\nReaching 1600B with these experts would take ~{:.0f} MoE layers, not 58.\n",
             (1600e9 - (v4.total_params - 58.0 * 256 * 2 * 7168 * 2560)) /
                 (256.0 * 2 * 7168 * 2560));
}
