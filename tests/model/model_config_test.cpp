#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::model;

TEST_CASE("sliding-window layers hold only the window in the KV cache", "[model][kv]") {
  const auto m = presets::mistral_7b(); // every layer windowed at 4096
  const double per_token = kv_bytes_per_token(m, precision::bf16);
  CHECK(kv_bytes_per_sequence(m, 1000, precision::bf16) == 1000 * per_token);
  CHECK(kv_bytes_per_sequence(m, 100000, precision::bf16) == 4096 * per_token);
  const auto g = presets::gemma3_12b(); // 8 global + 40 local layers at 1024
  const double layer = 2.0 * 8 * 256 * 2;
  CHECK(kv_bytes_per_sequence(g, 32768, precision::bf16) == layer * (8 * 32768.0 + 40 * 1024.0));
  CHECK_THROWS_AS(kv_bytes_per_sequence(g, -1, precision::bf16), config_error);
}

TEST_CASE("the DSA indexer adds its FP8 keys to the KV footprint", "[model][kv]") {
  // DeepSeek-V3.2: 128-dim indexer key per token per layer in FP8.
  const auto m = presets::deepseek_v32_exp();
  CHECK(kv_bytes_per_token(m, precision::bf16) == 70272.0 + 61 * 128.0);
}

TEST_CASE("model_config rejects inconsistent configs, naming the field", "[model][config]") {
  auto m = presets::mixtral_8x7b();
  m.top_k = 9;
  CHECK_THROWS_WITH(m.validate(), "model::mixtral_8x7b: top_k (9) must be <= num_experts (8)");
  m = presets::deepseek_v3();
  m.n_group = 3;
  CHECK_THROWS_WITH(m.validate(), "model::deepseek_v3: n_group (3) must divide num_experts (256)");
  m = presets::deepseek_v3();
  m.topk_group = 9;
  CHECK_THROWS_WITH(m.validate(), "model::deepseek_v3: topk_group (9) must be <= n_group (8)");
  m = presets::llama3_8b();
  m.hidden = 0;
  CHECK_THROWS_WITH(m.validate(), "model::llama3_8b: hidden (0) must be > 0");
  m = presets::llama3_8b();
  m.num_kv_heads = 5;
  CHECK_THROWS_WITH(m.validate(), "model::llama3_8b: num_kv_heads (5) must divide num_heads (32)");
  m = presets::deepseek_v3();
  m.routed_scaling_factor = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(m.validate(), "model::deepseek_v3: routed_scaling_factor (nan) must be finite");
  m = presets::deepseek_v3();
  m.index_heads = 4;
  CHECK_THROWS_AS(m.validate(), config_error);
  CHECK_THROWS_AS(count_params(m), config_error);
}
