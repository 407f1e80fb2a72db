#include <catch2/catch.hpp>

#include <string>

#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::model;

TEST_CASE("DeepSeek-V3 has 671B parameters, 37B active and 70,272 KV bytes per token",
          "[model][presets]") {
  // DeepSeek-V3 report: "671B total parameters with 37B activated for each token"; MLA caches
  // (kv_lora_rank 512 + rope 64) * 61 layers * 2 bytes = 70,272 bytes per token in BF16.
  const auto m = presets::deepseek_v3();
  const auto p = count_params(m);
  CHECK(p.total() / 1e9 == Approx(671.0).epsilon(0.005));
  CHECK(active_params_reported(m) / 1e9 == Approx(37.0).epsilon(0.03));
  CHECK(kv_bytes_per_token(m, precision::bf16) == 70272.0);
  CHECK(kv_bytes_per_token(m, precision::fp8) == 35136.0);
  // One expert: 3 * 7168 * 2048.
  CHECK(expert_params(m) == 3.0 * 7168 * 2048);
  CHECK(m.num_moe_layers() == 58);
  // The MTP module: 11.6B without the shared embedding and head (the report's 14B includes
  // the 0.93B embedding and 0.93B head it shares).
  CHECK(p.mtp / 1e9 == Approx(11.6).epsilon(0.01));
}

TEST_CASE("Llama-3.1 and Mixtral counts match their published sizes", "[model][presets]") {
  // Llama-3.1-70B KV: 80 layers * 2 * 8 KV heads * 128 * 2 bytes = 327,680 bytes per token.
  CHECK(kv_bytes_per_token(presets::llama3_70b(), precision::bf16) == 327680.0);
  CHECK(count_params(presets::llama3_70b()).total() / 1e9 == Approx(70.6).epsilon(0.005));
  CHECK(count_params(presets::llama3_8b()).total() / 1e9 == Approx(8.03).epsilon(0.005));
  // Meta's model card: 405B; the config gives 405.85B.
  CHECK(count_params(presets::llama3_405b()).total() / 1e9 == Approx(405.85).epsilon(0.002));
  CHECK(kv_bytes_per_token(presets::llama3_405b(), precision::bf16) == 126.0 * 2 * 8 * 128 * 2);
  // Mixtral paper: "47B total ... 13B active"; Mistral's model card: 46.7B / 12.9B.
  const auto mx = presets::mixtral_8x7b();
  CHECK(count_params(mx).total() / 1e9 == Approx(46.7).epsilon(0.005));
  CHECK(active_params_reported(mx) / 1e9 == Approx(12.9).epsilon(0.005));
  // Qwen3 model names give the sizes: 235B total / 22B active, 30B / 3B.
  CHECK(count_params(presets::qwen3_235b_a22b()).total() / 1e9 == Approx(235).epsilon(0.01));
  CHECK(active_params_reported(presets::qwen3_235b_a22b()) / 1e9 == Approx(22).epsilon(0.02));
  CHECK(count_params(presets::qwen3_30b_a3b()).total() / 1e9 == Approx(30.5).epsilon(0.01));
  CHECK(active_params_reported(presets::qwen3_30b_a3b()) / 1e9 == Approx(3.3).epsilon(0.03));
}

TEST_CASE("the article's V4-Pro shape implies about 559B, not 1600B", "[model][presets]") {
  // 58 MoE layers * 256 experts * (2 * 7168 * 2560) = 544.9B in experts alone.
  const auto m = presets::article_v4_pro();
  const auto p = count_params(m);
  CHECK(p.routed_experts == 58.0 * 256 * 2 * 7168 * 2560);
  CHECK(p.total() / 1e9 == Approx(559.1).epsilon(0.002));
  CHECK(p.total() < presets::article_v4_pro_claimed_total / 2);
  CHECK(active_params_reported(m) / 1e9 == Approx(31.2).epsilon(0.01));
}

TEST_CASE("every preset validates and find() lists names for an unknown one", "[model][presets]") {
  for (auto n : presets::names) {
    const auto m = presets::find(n);
    CHECK(m.name == n);
    CHECK_NOTHROW(m.validate());
    CHECK(count_params(m).total() > active_params(m) * 0.99);
  }
  try {
    (void)presets::find("gpt5");
    FAIL("no exception");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("('gpt5') is not a known model") != std::string::npos);
    CHECK(msg.find("deepseek_v3") != std::string::npos);
  }
}

TEST_CASE("the presets of the measured models match their published sizes", "[model][presets]") {
  // Qwen3-32B model card: 32.8B parameters.
  CHECK(count_params(presets::qwen3_32b()).total() / 1e9 == Approx(32.8).epsilon(0.002));
  // Qwen3-32B KV: 64 layers * 2 * 8 KV heads * 128 * 2 bytes = 262,144 bytes per token.
  CHECK(kv_bytes_per_token(presets::qwen3_32b(), precision::bf16) == 262144.0);
  // gpt-oss model card (OpenAI, 2025): 116.83B total, 5.13B active per token.
  const auto g = presets::gpt_oss_120b();
  CHECK(count_params(g).total() / 1e9 == Approx(116.8).epsilon(0.002));
  CHECK(active_params(g) / 1e9 == Approx(5.13).epsilon(0.01));
  // 18 full layers hold every token, 18 sliding ones at most 128: at 1,000 tokens,
  // 2 * 8 * 64 * 2 bytes = 2,048 bytes per token per layer * (18 * 1000 + 18 * 128).
  CHECK(kv_bytes_per_sequence(g, 1000, precision::bf16) == 2048.0 * (18 * 1000 + 18 * 128));
  // MiniMax-M2 model card: 230B total, 10B activated.
  CHECK(count_params(presets::minimax_m25()).total() / 1e9 == Approx(230).epsilon(0.01));
  CHECK(active_params(presets::minimax_m25()) / 1e9 == Approx(10).epsilon(0.05));
  // Kimi-K2 model card: 1T total (1.04T with the embeddings as the Hub counts), 32B activated.
  CHECK(count_params(presets::kimi_k25()).total() / 1e12 == Approx(1.03).epsilon(0.01));
  CHECK(active_params_reported(presets::kimi_k25()) / 1e9 == Approx(32).epsilon(0.03));
  // GLM-5 (Z.ai): 744B total, 40B active.
  CHECK(count_params(presets::glm5()).total() / 1e9 == Approx(744).epsilon(0.002));
  CHECK(active_params(presets::glm5()) / 1e9 == Approx(40).epsilon(0.03));
  // GLM-5 MLA + indexer KV: 78 layers * ((512 + 64) * 2 + 128 * 1) bytes = 99,840 per token.
  CHECK(kv_bytes_per_token(presets::glm5(), precision::bf16) == 99840.0);
  // DeepSeek-R1 is DeepSeek-V3's architecture.
  CHECK(count_params(presets::deepseek_r1()).total() ==
        count_params(presets::deepseek_v3()).total());
}

TEST_CASE("vLLM-Ascend's W8A8 Qwen3-235B-A22B checkpoint has the base model's shape",
          "[model][presets]") {
  // vllm-ascend/Qwen3-235B-A22B-W8A8 (the checkpoint of vLLM-Ascend's Qwen3-235B-A22B tutorial)
  // quantises the weights of Qwen/Qwen3-235B-A22B; the precision of a run sets their storage.
  const auto m = presets::find_by_hf_id("vllm-ascend/Qwen3-235B-A22B-W8A8");
  REQUIRE(m.has_value());
  CHECK(m->name == "qwen3_235b_a22b");
  CHECK(presets::find_by_hf_id("vllm-ascend/qwen3-235b-a22b-w8a8").has_value());
}
