#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "infercost/model/hf_config.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::model;

namespace {

/// meta-llama/Llama-3.1-8B config.json
/// (https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json).
constexpr std::string_view llama31_8b_json = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 128000,
  "eos_token_id": 128001,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 131072,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.0.dev0",
  "use_cache": true,
  "vocab_size": 128256
})";

/// deepseek-ai/DeepSeek-V3 config.json
/// (https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json).
constexpr std::string_view deepseek_v3_json = R"({
  "architectures": ["DeepseekV3ForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 0,
  "eos_token_id": 1,
  "ep_size": 1,
  "first_k_dense_replace": 3,
  "hidden_act": "silu",
  "hidden_size": 7168,
  "initializer_range": 0.02,
  "intermediate_size": 18432,
  "kv_lora_rank": 512,
  "max_position_embeddings": 163840,
  "model_type": "deepseek_v3",
  "moe_intermediate_size": 2048,
  "moe_layer_freq": 1,
  "n_group": 8,
  "n_routed_experts": 256,
  "n_shared_experts": 1,
  "norm_topk_prob": true,
  "num_attention_heads": 128,
  "num_experts_per_tok": 8,
  "num_hidden_layers": 61,
  "num_key_value_heads": 128,
  "num_nextn_predict_layers": 1,
  "q_lora_rank": 1536,
  "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64,
  "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                          "weight_block_size": [128, 128]},
  "rms_norm_eps": 1e-06,
  "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0,
                   "mscale_all_dim": 1.0, "original_max_position_embeddings": 4096,
                   "type": "yarn"},
  "rope_theta": 10000,
  "routed_scaling_factor": 2.5,
  "scoring_func": "sigmoid",
  "tie_word_embeddings": false,
  "topk_group": 4,
  "topk_method": "noaux_tc",
  "torch_dtype": "bfloat16",
  "transformers_version": "4.33.1",
  "use_cache": true,
  "v_head_dim": 128,
  "vocab_size": 129280
})";

/// openai/gpt-oss-120b config.json (https://huggingface.co/openai/gpt-oss-120b), the keys that
/// shape the model; layer_types alternates sliding and full attention over the 36 layers.
constexpr std::string_view gpt_oss_120b_json = R"({
  "architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss",
  "attention_bias": true, "experts_per_token": 4, "head_dim": 64, "hidden_size": 2880,
  "intermediate_size": 2880,
  "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention"],
  "num_attention_heads": 64, "num_experts_per_tok": 4, "num_hidden_layers": 36,
  "num_key_value_heads": 8, "num_local_experts": 128, "sliding_window": 128,
  "tie_word_embeddings": false, "vocab_size": 201088
})";

/// Every field but the name.
void check_same_architecture(const model_config& a, const model_config& b) {
  CHECK(a.hidden == b.hidden);
  CHECK(a.num_layers == b.num_layers);
  CHECK(a.vocab == b.vocab);
  CHECK(a.tie_embeddings == b.tie_embeddings);
  CHECK(a.attention == b.attention);
  CHECK(a.num_heads == b.num_heads);
  CHECK(a.num_kv_heads == b.num_kv_heads);
  CHECK(a.head_dim == b.head_dim);
  CHECK(a.q_lora_rank == b.q_lora_rank);
  CHECK(a.kv_lora_rank == b.kv_lora_rank);
  CHECK(a.qk_nope_head_dim == b.qk_nope_head_dim);
  CHECK(a.qk_rope_head_dim == b.qk_rope_head_dim);
  CHECK(a.v_head_dim == b.v_head_dim);
  CHECK(a.sliding_window == b.sliding_window);
  CHECK(a.full_attention_layers == b.full_attention_layers);
  CHECK(a.attention_sinks == b.attention_sinks);
  CHECK(a.index_heads == b.index_heads);
  CHECK(a.index_head_dim == b.index_head_dim);
  CHECK(a.index_topk == b.index_topk);
  CHECK(a.ffn == b.ffn);
  CHECK(a.intermediate == b.intermediate);
  CHECK(a.num_experts == b.num_experts);
  CHECK(a.num_shared_experts == b.num_shared_experts);
  CHECK(a.moe_intermediate == b.moe_intermediate);
  CHECK(a.top_k == b.top_k);
  CHECK(a.n_group == b.n_group);
  CHECK(a.topk_group == b.topk_group);
  CHECK(a.first_k_dense == b.first_k_dense);
  CHECK(a.scoring == b.scoring);
  CHECK(a.routed_scaling_factor == b.routed_scaling_factor);
  CHECK(a.norm_topk_prob == b.norm_topk_prob);
  CHECK(a.mtp_layers == b.mtp_layers);
}

/// The message of the config_error `f` throws (empty, and a failed check, if none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL_CHECK("no config_error");
  return {};
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("Llama-3.1-8B's config.json loads as the llama3_8b preset, 8.0B parameters",
          "[model][hf_config]") {
  const auto m = from_hf_config_json(llama31_8b_json, "Llama-3.1-8B");
  CHECK(m.name == "Llama-3.1-8B");
  check_same_architecture(m, presets::llama3_8b());
  // head_dim is absent: 4096 / 32 = 128. Parameters: embedding and head 2 * 128256 * 4096 =
  // 1.0507B; per layer q,o 2 * 4096^2 + k,v 2 * 4096 * 1024 + FFN 3 * 4096 * 14336 = 218.1M,
  // times 32 = 6.979B; total 8.030B (Meta's model card: 8B, "8.03B" on the Hub).
  CHECK(count_params(m).total() ==
        2.0 * 128256 * 4096 + 32.0 * (2.0 * 4096 * 4096 + 2.0 * 4096 * 1024 + 3.0 * 4096 * 14336));
  CHECK(count_params(m).total() / 1e9 == Approx(8.03).epsilon(0.001));
}

TEST_CASE("DeepSeek-V3's config.json loads as the deepseek_v3 preset, 671B total / 37B active",
          "[model][hf_config]") {
  const auto m = from_hf_config_json(deepseek_v3_json, "DeepSeek-V3");
  check_same_architecture(m, presets::deepseek_v3());
  check_same_architecture(m, presets::deepseek_r1());
  // DeepSeek-V3 Technical Report (arXiv:2412.19437), abstract: "671B total parameters with 37B
  // activated for each token"; the MTP module is counted apart.
  CHECK(count_params(m).total() / 1e9 == Approx(671.0).epsilon(0.001));
  CHECK(active_params_reported(m) / 1e9 == Approx(37.0).epsilon(0.03));
  CHECK(m.is_moe());
  CHECK(m.num_moe_layers() == 58); // 61 layers - first_k_dense_replace 3
}

TEST_CASE("gpt-oss-120b's layer_types give 18 sliding-window and 18 full-attention layers",
          "[model][hf_config]") {
  const auto m = from_hf_config_json(gpt_oss_120b_json, "gpt-oss-120b");
  check_same_architecture(m, presets::gpt_oss_120b());
  CHECK(m.num_sliding_layers() == 18);
  // OpenAI's gpt-oss model card: 116.8B total, 5.1B active (biases and sinks not counted here).
  CHECK(count_params(m).total() / 1e9 == Approx(116.8).epsilon(0.002));
  CHECK(active_params(m) / 1e9 == Approx(5.13).epsilon(0.01));
}

TEST_CASE("a multimodal config is read from its text_config and Qwen2-MoE keys map onto experts",
          "[model][hf_config]") {
  // Kimi-K2.5's layout: the language model under text_config (moonshotai/Kimi-K2.5 config.json).
  const std::string kimi = R"({"architectures": ["KimiK25ForConditionalGeneration"],
    "vision_config": {"vt_hidden_size": 1152}, "text_config": {
    "first_k_dense_replace": 1, "hidden_size": 7168, "intermediate_size": 18432,
    "kv_lora_rank": 512, "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 1,
    "n_routed_experts": 384, "n_shared_experts": 1, "norm_topk_prob": true,
    "num_attention_heads": 64, "num_experts_per_tok": 8, "num_hidden_layers": 61,
    "num_key_value_heads": 64, "num_nextn_predict_layers": 0, "q_lora_rank": 1536,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "routed_scaling_factor": 2.827,
    "scoring_func": "sigmoid", "tie_word_embeddings": false, "topk_group": 1,
    "v_head_dim": 128, "vocab_size": 163840}, "tie_word_embeddings": false})";
  const auto k = from_hf_config_json(kimi, "Kimi-K2.5");
  check_same_architecture(k, presets::kimi_k25());
  // Moonshot's Kimi-K2 model card: 1T total, 32B activated.
  CHECK(count_params(k).total() / 1e12 == Approx(1.03).epsilon(0.01));
  CHECK(active_params_reported(k) / 1e9 == Approx(32.9).epsilon(0.01));

  // A Qwen2-MoE-style shared expert 4x the routed width counts as 4 shared experts; layers 0
  // and 5 dense by mlp_only_layers, and decoder_sparse_step 2 makes even layers dense:
  // dense = {0, 2, 4, 5} of 6 layers.
  const std::string qwen_moe = R"({"hidden_size": 64, "num_hidden_layers": 6,
    "vocab_size": 1000, "num_attention_heads": 4, "num_key_value_heads": 2,
    "intermediate_size": 256, "moe_intermediate_size": 32, "num_experts": 8,
    "num_experts_per_tok": 2, "shared_expert_intermediate_size": 128,
    "mlp_only_layers": [0, 5], "decoder_sparse_step": 2})";
  const auto q = from_hf_config_json(qwen_moe, "tiny-moe");
  CHECK(q.num_shared_experts == 4);
  CHECK(q.first_k_dense == 4);
  CHECK(q.num_moe_layers() == 2);
  CHECK(q.head_dim == 16); // 64 / 4
  CHECK(q.intermediate == 256);
  CHECK(q.scoring == router_scoring::softmax);
}

TEST_CASE("sliding windows come from sliding_window_pattern, use_sliding_window or every layer",
          "[model][hf_config]") {
  const std::string base = R"("hidden_size": 64, "num_hidden_layers": 12, "vocab_size": 100,
    "num_attention_heads": 4, "intermediate_size": 128, )";
  // Gemma 3: pattern 6 makes layers 5 and 11 global: 2 of 12.
  const auto g = from_hf_config_json(
      "{" + base + R"("sliding_window": 1024, "sliding_window_pattern": 6})", "gemma-like");
  CHECK(g.sliding_window == 1024);
  CHECK(g.full_attention_layers == 2);
  // Qwen2: use_sliding_window false switches the window off; true with max_window_layers 4
  // keeps layers 0-3 full.
  const auto off = from_hf_config_json(
      "{" + base + R"("sliding_window": 4096, "use_sliding_window": false})", "qwen2-off");
  CHECK(off.sliding_window == 0);
  const auto on = from_hf_config_json(
      "{" + base + R"("sliding_window": 4096, "use_sliding_window": true, "max_window_layers": 4})",
      "qwen2-on");
  CHECK(on.sliding_window == 4096);
  CHECK(on.full_attention_layers == 4);
  // Mistral-7B-v0.1: a window on every layer.
  const auto mistral = from_hf_config_json("{" + base + R"("sliding_window": 4096})", "mistral");
  CHECK(mistral.sliding_window == 4096);
  CHECK(mistral.num_sliding_layers() == 12);
}

TEST_CASE("bad config.json input names the source, the key and the line", "[model][hf_config]") {
  // Malformed JSON: the stray comma is on line 3.
  auto msg = error_of(
      [] { (void)from_hf_config_json("{\n  \"hidden_size\": 64,\n  ,\n}", "broken.json"); });
  CHECK(contains(msg, "model::hf_config(broken.json)"));
  CHECK(contains(msg, "line 3"));

  msg = error_of([] { (void)from_hf_config_json(R"({"hidden_size": 64})", "partial.json"); });
  CHECK(contains(msg, "partial.json"));
  CHECK(contains(msg, "num_hidden_layers (missing) is a required key"));

  msg = error_of([] {
    (void)from_hf_config_json(
        R"({"hidden_size": "big", "num_hidden_layers": 2, "vocab_size": 10,
            "num_attention_heads": 2, "intermediate_size": 8})",
        "typed.json");
  });
  CHECK(contains(msg, "hidden_size (\"big\") must be an integer"));

  msg = error_of([] { (void)from_hf_config_json("[1, 2]", "array.json"); });
  CHECK(contains(msg, "json must be one JSON object"));

  // Linear-attention layers (Qwen3.5, Qwen3-Next) cannot be expressed.
  msg = error_of([] {
    (void)from_hf_config_json(
        R"({"hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 10,
            "num_attention_heads": 2, "intermediate_size": 8,
            "layer_types": ["linear_attention", "full_attention"]})",
        "hybrid.json");
  });
  CHECK(contains(msg, "layer_types ('linear_attention') is not expressible"));

  // An inconsistent architecture fails model_config::validate, named as the file's.
  msg = error_of([] {
    (void)from_hf_config_json(
        R"({"hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 10,
            "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 8})",
        "gqa.json");
  });
  CHECK(contains(msg, "model::hf_config(gqa.json): num_kv_heads"));

  msg = error_of([] { (void)from_hf_config("/nonexistent/dir/config.json"); });
  CHECK(contains(msg, "/nonexistent/dir/config.json"));
  CHECK(contains(msg, "cannot be opened"));
}

TEST_CASE("a config.json file is named after its directory", "[model][hf_config]") {
  const auto dir =
      std::filesystem::temp_directory_path() / "infercost_hf_config_test" / "Llama-3.1-8B";
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "config.json");
    out << llama31_8b_json;
  }
  const auto m = from_hf_config(dir / "config.json");
  CHECK(m.name == "Llama-3.1-8B");
  check_same_architecture(m, presets::llama3_8b());
  std::filesystem::remove_all(dir.parent_path());
}

TEST_CASE("every Hugging Face id of the measured runs with a preset finds it",
          "[model][presets][hf_config]") {
  // The model ids of aiconfigurator's silicon_h100_h200.csv, and the preset of each.
  const std::pair<std::string_view, std::string_view> ids[] = {
      {"deepseek-ai/DeepSeek-V3", "deepseek_v3"},
      {"deepseek-ai/DeepSeek-R1", "deepseek_r1"},
      {"meta-llama/Llama-3.1-8B-Instruct", "llama3_8b"},
      {"nvidia/Llama-3.1-8B-Instruct-FP8", "llama3_8b"},
      {"meta-llama/Llama-3.1-70B", "llama3_70b"},
      {"Qwen/Qwen3-32B", "qwen3_32b"},
      {"Qwen/Qwen3-235B-A22B-FP8", "qwen3_235b_a22b"},
      {"openai/gpt-oss-120b", "gpt_oss_120b"},
      {"MiniMaxAI/MiniMax-M2.5", "minimax_m25"},
      {"moonshotai/Kimi-K2.5", "kimi_k25"},
      {"zhipuai/GLM-5", "glm5"},
  };
  for (const auto& [id, name] : ids) {
    const auto m = presets::find_by_hf_id(id);
    REQUIRE(m.has_value());
    CHECK(m->name == name);
  }
  CHECK(presets::find_by_hf_id("deepseek-ai/deepseek-r1")->name == "deepseek_r1");
  // Qwen3.5's Gated DeltaNet layers have no preset.
  CHECK_FALSE(presets::find_by_hf_id("Qwen/Qwen3.5-397B-A17B").has_value());
  CHECK_FALSE(presets::find_by_hf_id("").has_value());
  for (const auto& [id, name] : presets::hf_ids)
    CHECK_NOTHROW(presets::find(name));
}
