#include <catch2/catch.hpp>

#include "infercost/engine/model_summary.hpp"

using namespace infercost;

TEST_CASE("model summaries derive activation ratio and KV per 128K sequence", "[engine][summary]") {
  const auto s = engine::summarize_model(model::presets::deepseek_v3());
  CHECK(s.activation_ratio == Approx(s.active_params / s.total_params));
  CHECK(s.activation_ratio == Approx(0.056).epsilon(0.02));
  CHECK(s.kv_bytes_at_128k == 131072.0 * 70272.0);
  CHECK(s.weight_bytes_fp8 == Approx(s.total_params));
  const auto rows = engine::presets_summary();
  CHECK(rows.size() == model::presets::names.size());
  // A 4096-window model's 128K KV equals its 4096-token KV.
  const auto mistral = engine::summarize_model(model::presets::mistral_7b());
  CHECK(mistral.kv_bytes_at_128k == 4096.0 * mistral.kv_bytes_per_token);
}
