/// @file
/// Model presets, from each model's published config.json (Hugging Face) or paper.
#pragma once

#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "infercost/core/error.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::model::presets {

/// DeepSeek-V3 (deepseek-ai/DeepSeek-V3 config.json; identical to DeepSeek-R1's): hidden 7168,
/// 61 layers, MLA (128 heads, q_lora 1536, kv_lora 512, nope 128, rope 64, v 128), 256 routed +
/// 1 shared experts of width 2048, top-8, 8 groups / top-4 groups, sigmoid scoring, routed
/// scaling 2.5, first 3 layers dense (width 18432), vocab 129280, untied head, 1 MTP module.
[[nodiscard]] inline model_config deepseek_v3() {
  return model_config{.name = "deepseek_v3",
                      .hidden = 7168,
                      .num_layers = 61,
                      .vocab = 129280,
                      .tie_embeddings = false,
                      .attention = attention_kind::mla,
                      .num_heads = 128,
                      .num_kv_heads = 128,
                      .head_dim = 0,
                      .q_lora_rank = 1536,
                      .kv_lora_rank = 512,
                      .qk_nope_head_dim = 128,
                      .qk_rope_head_dim = 64,
                      .v_head_dim = 128,
                      .ffn = ffn_kind::swiglu,
                      .intermediate = 18432,
                      .num_experts = 256,
                      .num_shared_experts = 1,
                      .moe_intermediate = 2048,
                      .top_k = 8,
                      .n_group = 8,
                      .topk_group = 4,
                      .first_k_dense = 3,
                      .scoring = router_scoring::sigmoid,
                      .routed_scaling_factor = 2.5,
                      .norm_topk_prob = true,
                      .mtp_layers = 1};
}

/// DeepSeek-V3.2-Exp: DeepSeek-V3 plus the DSA lightning indexer (deepseek-ai/DeepSeek-V3.2-Exp
/// inference/model.py ModelArgs: index_n_heads 64, index_head_dim 128, index_topk 2048).
[[nodiscard]] inline model_config deepseek_v32_exp() {
  model_config m = deepseek_v3();
  m.name = "deepseek_v32_exp";
  m.index_heads = 64;
  m.index_head_dim = 128;
  m.index_topk = 2048;
  return m;
}

/// Qwen3-235B-A22B (Qwen/Qwen3-235B-A22B config.json): hidden 4096, 94 layers, 64 heads, 4 KV
/// heads, head_dim 128, 128 experts of width 1536, top-8, softmax with top-k renormalisation,
/// vocab 151936, untied.
[[nodiscard]] inline model_config qwen3_235b_a22b() {
  return model_config{.name = "qwen3_235b_a22b",
                      .hidden = 4096,
                      .num_layers = 94,
                      .vocab = 151936,
                      .num_heads = 64,
                      .num_kv_heads = 4,
                      .head_dim = 128,
                      .intermediate = 12288,
                      .num_experts = 128,
                      .moe_intermediate = 1536,
                      .top_k = 8,
                      .scoring = router_scoring::softmax,
                      .norm_topk_prob = true};
}

/// Qwen3-30B-A3B (Qwen/Qwen3-30B-A3B config.json): hidden 2048, 48 layers, 32 heads, 4 KV heads,
/// head_dim 128, 128 experts of width 768, top-8, vocab 151936, untied.
[[nodiscard]] inline model_config qwen3_30b_a3b() {
  return model_config{.name = "qwen3_30b_a3b",
                      .hidden = 2048,
                      .num_layers = 48,
                      .vocab = 151936,
                      .num_heads = 32,
                      .num_kv_heads = 4,
                      .head_dim = 128,
                      .intermediate = 6144,
                      .num_experts = 128,
                      .moe_intermediate = 768,
                      .top_k = 8,
                      .scoring = router_scoring::softmax,
                      .norm_topk_prob = true};
}

/// Mixtral-8x7B-v0.1 (mistralai/Mixtral-8x7B-v0.1 config.json): hidden 4096, 32 layers, 32 heads,
/// 8 KV heads, 8 experts of width 14336, top-2 softmax, vocab 32000, no sliding window.
[[nodiscard]] inline model_config mixtral_8x7b() {
  return model_config{.name = "mixtral_8x7b",
                      .hidden = 4096,
                      .num_layers = 32,
                      .vocab = 32000,
                      .num_heads = 32,
                      .num_kv_heads = 8,
                      .head_dim = 128,
                      .num_experts = 8,
                      .moe_intermediate = 14336,
                      .top_k = 2,
                      .scoring = router_scoring::softmax,
                      .norm_topk_prob = true};
}

/// Llama-3.1-8B (meta-llama/Llama-3.1-8B config.json): hidden 4096, 32 layers, 32 heads, 8 KV
/// heads, FFN 14336, vocab 128256, untied.
[[nodiscard]] inline model_config llama3_8b() {
  return model_config{.name = "llama3_8b",
                      .hidden = 4096,
                      .num_layers = 32,
                      .vocab = 128256,
                      .num_heads = 32,
                      .num_kv_heads = 8,
                      .head_dim = 128,
                      .intermediate = 14336};
}

/// Llama-3.1-70B (meta-llama/Llama-3.1-70B config.json): hidden 8192, 80 layers, 64 heads, 8 KV
/// heads, FFN 28672, vocab 128256, untied.
[[nodiscard]] inline model_config llama3_70b() {
  return model_config{.name = "llama3_70b",
                      .hidden = 8192,
                      .num_layers = 80,
                      .vocab = 128256,
                      .num_heads = 64,
                      .num_kv_heads = 8,
                      .head_dim = 128,
                      .intermediate = 28672};
}

/// Llama-3.1-405B (meta-llama/Llama-3.1-405B config.json): hidden 16384, 126 layers, 128 heads,
/// 8 KV heads, FFN 53248, vocab 128256, untied. The dense model DeepSeek-V3's report compares
/// against (DeepSeek-V3 Technical Report, Table 3: "LLaMA-3.1 405B Base").
[[nodiscard]] inline model_config llama3_405b() {
  return model_config{.name = "llama3_405b",
                      .hidden = 16384,
                      .num_layers = 126,
                      .vocab = 128256,
                      .num_heads = 128,
                      .num_kv_heads = 8,
                      .head_dim = 128,
                      .intermediate = 53248};
}

/// Mistral-7B-v0.1 (mistralai/Mistral-7B-v0.1 config.json): Llama-like, every layer a 4096-token
/// sliding window; hidden 4096, 32 layers, 32 heads, 8 KV heads, FFN 14336, vocab 32000.
[[nodiscard]] inline model_config mistral_7b() {
  return model_config{.name = "mistral_7b",
                      .hidden = 4096,
                      .num_layers = 32,
                      .vocab = 32000,
                      .num_heads = 32,
                      .num_kv_heads = 8,
                      .head_dim = 128,
                      .sliding_window = 4096,
                      .intermediate = 14336};
}

/// Gemma-3-12B (google/gemma-3-12b config.json, text part): hidden 3840, 48 layers, 16 heads,
/// 8 KV heads, head_dim 256, FFN 15360 (GeGLU: three matrices like SwiGLU), vocab 262208, tied
/// embeddings; sliding window 1024 with pattern 6 (5 local : 1 global), so 8 global layers.
[[nodiscard]] inline model_config gemma3_12b() {
  return model_config{.name = "gemma3_12b",
                      .hidden = 3840,
                      .num_layers = 48,
                      .vocab = 262208,
                      .tie_embeddings = true,
                      .num_heads = 16,
                      .num_kv_heads = 8,
                      .head_dim = 256,
                      .sliding_window = 1024,
                      .full_attention_layers = 8,
                      .intermediate = 15360};
}

/// DeepSeek-R1 (https://huggingface.co/deepseek-ai/DeepSeek-R1/blob/main/config.json, also
/// ai-dynamo/aiconfigurator model_configs/deepseek-ai--DeepSeek-R1_config.json): the DeepSeek-V3
/// architecture, every field equal to deepseek_v3's.
[[nodiscard]] inline model_config deepseek_r1() {
  model_config m = deepseek_v3();
  m.name = "deepseek_r1";
  return m;
}

/// Qwen3-32B (https://huggingface.co/Qwen/Qwen3-32B/blob/main/config.json, also
/// ai-dynamo/aiconfigurator model_configs/Qwen--Qwen3-32B_config.json): dense, hidden 5120,
/// 64 layers, 64 heads, 8 KV heads, head_dim 128, FFN 25600, vocab 151936, untied, no sliding
/// window (use_sliding_window false).
[[nodiscard]] inline model_config qwen3_32b() {
  return model_config{.name = "qwen3_32b",
                      .hidden = 5120,
                      .num_layers = 64,
                      .vocab = 151936,
                      .num_heads = 64,
                      .num_kv_heads = 8,
                      .head_dim = 128,
                      .intermediate = 25600};
}

/// gpt-oss-120b (https://huggingface.co/openai/gpt-oss-120b/blob/main/config.json, also
/// ai-dynamo/aiconfigurator model_configs/openai--gpt-oss-120b_config.json): hidden 2880,
/// 36 layers alternating sliding (window 128) and full attention (layer_types: 18 of each),
/// 64 heads, 8 KV heads, head_dim 64, 128 experts of width 2880 (intermediate_size), top-4
/// softmax, vocab 201088, untied. Attention and expert biases and the per-head learned sink
/// logits are left out (< 0.1% of the parameters). OpenAI's model card: 116.8B total, 5.1B active.
[[nodiscard]] inline model_config gpt_oss_120b() {
  return model_config{.name = "gpt_oss_120b",
                      .hidden = 2880,
                      .num_layers = 36,
                      .vocab = 201088,
                      .num_heads = 64,
                      .num_kv_heads = 8,
                      .head_dim = 64,
                      .sliding_window = 128,
                      .full_attention_layers = 18,
                      .num_experts = 128,
                      .moe_intermediate = 2880,
                      .top_k = 4,
                      .scoring = router_scoring::softmax,
                      .norm_topk_prob = true};
}

/// MiniMax-M2.5 (https://huggingface.co/MiniMaxAI/MiniMax-M2.5/blob/main/config.json, as
/// ai-dynamo/aiconfigurator model_configs/MiniMaxAI--MiniMax-M2.5_config.json): hidden 3072,
/// 62 full-attention layers, 48 heads, 8 KV heads, head_dim 128, 256 experts of width 1536
/// (intermediate_size), top-8 sigmoid with routing bias, no shared expert, vocab 200064, untied,
/// 3 MTP modules (num_mtp_modules). MiniMax's M2 model card: 230B total, 10B active.
[[nodiscard]] inline model_config minimax_m25() {
  return model_config{.name = "minimax_m25",
                      .hidden = 3072,
                      .num_layers = 62,
                      .vocab = 200064,
                      .num_heads = 48,
                      .num_kv_heads = 8,
                      .head_dim = 128,
                      .num_experts = 256,
                      .moe_intermediate = 1536,
                      .top_k = 8,
                      .scoring = router_scoring::sigmoid,
                      .norm_topk_prob = true,
                      .mtp_layers = 3};
}

/// Kimi-K2.5 (https://huggingface.co/moonshotai/Kimi-K2.5/blob/main/config.json, text_config,
/// as ai-dynamo/aiconfigurator model_configs/moonshotai--Kimi-K2.5_config.json): the Kimi-K2
/// (DeepSeek-V3) architecture with 64 heads, 384 routed + 1 shared experts of width 2048, top-8,
/// one group, sigmoid, routed scaling 2.827, first layer dense (width 18432), vocab 163840,
/// no MTP; MLA as DeepSeek-V3 (q_lora 1536, kv_lora 512, nope 128, rope 64, v 128). The vision
/// tower (MoonViT, vision_config) is left out. Moonshot's Kimi-K2 model card: 1.04T total,
/// 32B active.
[[nodiscard]] inline model_config kimi_k25() {
  return model_config{.name = "kimi_k25",
                      .hidden = 7168,
                      .num_layers = 61,
                      .vocab = 163840,
                      .tie_embeddings = false,
                      .attention = attention_kind::mla,
                      .num_heads = 64,
                      .num_kv_heads = 64,
                      .head_dim = 0,
                      .q_lora_rank = 1536,
                      .kv_lora_rank = 512,
                      .qk_nope_head_dim = 128,
                      .qk_rope_head_dim = 64,
                      .v_head_dim = 128,
                      .ffn = ffn_kind::swiglu,
                      .intermediate = 18432,
                      .num_experts = 384,
                      .num_shared_experts = 1,
                      .moe_intermediate = 2048,
                      .top_k = 8,
                      .n_group = 1,
                      .topk_group = 1,
                      .first_k_dense = 1,
                      .scoring = router_scoring::sigmoid,
                      .routed_scaling_factor = 2.827,
                      .norm_topk_prob = true,
                      .mtp_layers = 0};
}

/// GLM-5 (https://huggingface.co/zai-org/GLM-5/blob/main/config.json, as
/// ai-dynamo/aiconfigurator model_configs/zai-org--GLM-5_config.json; GlmMoeDsaForCausalLM):
/// hidden 6144, 78 layers, MLA with 64 heads (q_lora 2048, kv_lora 512, nope 192, rope 64,
/// v 256) and the DSA indexer (index_n_heads 32, index_head_dim 128, index_topk 2048), 256 routed
/// + 1 shared experts of width 2048, top-8, one group, sigmoid, routed scaling 2.5, first 3
/// layers dense (width 12288), vocab 154880, untied, 1 MTP layer.
[[nodiscard]] inline model_config glm5() {
  return model_config{.name = "glm5",
                      .hidden = 6144,
                      .num_layers = 78,
                      .vocab = 154880,
                      .tie_embeddings = false,
                      .attention = attention_kind::mla,
                      .num_heads = 64,
                      .num_kv_heads = 64,
                      .head_dim = 0,
                      .q_lora_rank = 2048,
                      .kv_lora_rank = 512,
                      .qk_nope_head_dim = 192,
                      .qk_rope_head_dim = 64,
                      .v_head_dim = 256,
                      .index_heads = 32,
                      .index_head_dim = 128,
                      .index_topk = 2048,
                      .ffn = ffn_kind::swiglu,
                      .intermediate = 12288,
                      .num_experts = 256,
                      .num_shared_experts = 1,
                      .moe_intermediate = 2048,
                      .top_k = 8,
                      .n_group = 1,
                      .topk_group = 1,
                      .first_k_dense = 3,
                      .scoring = router_scoring::sigmoid,
                      .routed_scaling_factor = 2.5,
                      .norm_topk_prob = true,
                      .mtp_layers = 1};
}

/// The shape the article gives for "DeepSeek V4-Pro": hidden 7168, 256 experts of hidden 2560,
/// top-8, with its two-layer ReLU expert and no shared expert. The article gives nothing else,
/// so layers, attention, vocabulary and dense layers are DeepSeek-V3's. With these numbers the
/// model has ~558B parameters and ~32B active, not the article's 1600B / 48B.
[[nodiscard]] inline model_config article_v4_pro() {
  model_config m = deepseek_v3();
  m.name = "article_v4_pro";
  m.ffn = ffn_kind::relu;
  m.moe_intermediate = 2560;
  m.num_shared_experts = 0;
  m.mtp_layers = 0;
  return m;
}

/// The article's stated totals for its "V4-Pro" (1600B total, ~48B active).
inline constexpr double article_v4_pro_claimed_total = 1600e9;
inline constexpr double article_v4_pro_claimed_active = 48e9;

/// Names accepted by find_model, in display order.
inline constexpr std::array<std::string_view, 17> names{
    "deepseek_v3",  "deepseek_v32_exp", "qwen3_235b_a22b", "qwen3_30b_a3b",
    "mixtral_8x7b", "llama3_8b",        "llama3_70b",      "llama3_405b",
    "mistral_7b",   "gemma3_12b",       "article_v4_pro",  "deepseek_r1",
    "qwen3_32b",    "gpt_oss_120b",     "minimax_m25",     "kimi_k25",
    "glm5"};

/// The preset with this name. @throws config_error listing the valid names.
[[nodiscard]] inline model_config find(std::string_view name) {
  if (name == "deepseek_v3")
    return deepseek_v3();
  if (name == "deepseek_v32_exp")
    return deepseek_v32_exp();
  if (name == "qwen3_235b_a22b")
    return qwen3_235b_a22b();
  if (name == "qwen3_30b_a3b")
    return qwen3_30b_a3b();
  if (name == "mixtral_8x7b")
    return mixtral_8x7b();
  if (name == "llama3_8b")
    return llama3_8b();
  if (name == "llama3_70b")
    return llama3_70b();
  if (name == "llama3_405b")
    return llama3_405b();
  if (name == "mistral_7b")
    return mistral_7b();
  if (name == "gemma3_12b")
    return gemma3_12b();
  if (name == "article_v4_pro")
    return article_v4_pro();
  if (name == "deepseek_r1")
    return deepseek_r1();
  if (name == "qwen3_32b")
    return qwen3_32b();
  if (name == "gpt_oss_120b")
    return gpt_oss_120b();
  if (name == "minimax_m25")
    return minimax_m25();
  if (name == "kimi_k25")
    return kimi_k25();
  if (name == "glm5")
    return glm5();
  std::string valid;
  for (auto n : names)
    valid += (valid.empty() ? "" : ", ") + std::string(n);
  throw config_error("model::presets", "name",
                     fmt::format("('{}') is not a known model; valid: {}", name, valid));
}

/// Hugging Face model ids (owner/name) and the preset of each one's architecture. Quantised or
/// instruction-tuned releases share their base model's architecture (the FP8 checkpoints change
/// the weights' storage, which the precision of a run sets, not the shape).
inline constexpr auto hf_ids = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"deepseek-ai/DeepSeek-V3", "deepseek_v3"},
    {"deepseek-ai/DeepSeek-R1", "deepseek_r1"},
    {"deepseek-ai/DeepSeek-R1-0528", "deepseek_r1"},
    {"Qwen/Qwen3-32B", "qwen3_32b"},
    {"Qwen/Qwen3-32B-FP8", "qwen3_32b"},
    {"openai/gpt-oss-120b", "gpt_oss_120b"},
    {"MiniMaxAI/MiniMax-M2.5", "minimax_m25"},
    {"moonshotai/Kimi-K2.5", "kimi_k25"},
    {"nvidia/Kimi-K2.5-NVFP4", "kimi_k25"},
    {"zai-org/GLM-5", "glm5"},
    {"zai-org/GLM-5-FP8", "glm5"},
    {"zhipuai/GLM-5", "glm5"},
    {"deepseek-ai/DeepSeek-V3-0324", "deepseek_v3"},
    {"deepseek-ai/DeepSeek-V3.2-Exp", "deepseek_v32_exp"},
    {"Qwen/Qwen3-235B-A22B", "qwen3_235b_a22b"},
    {"Qwen/Qwen3-235B-A22B-FP8", "qwen3_235b_a22b"},
    {"vllm-ascend/Qwen3-235B-A22B-W8A8", "qwen3_235b_a22b"},
    {"Qwen/Qwen3-30B-A3B", "qwen3_30b_a3b"},
    {"mistralai/Mixtral-8x7B-v0.1", "mixtral_8x7b"},
    {"meta-llama/Llama-3.1-8B", "llama3_8b"},
    {"meta-llama/Llama-3.1-8B-Instruct", "llama3_8b"},
    {"nvidia/Llama-3.1-8B-Instruct-FP8", "llama3_8b"},
    {"meta-llama/Llama-3.1-70B", "llama3_70b"},
    {"meta-llama/Llama-3.1-70B-Instruct", "llama3_70b"},
    {"meta-llama/Llama-3.1-405B", "llama3_405b"},
    {"mistralai/Mistral-7B-v0.1", "mistral_7b"},
});

namespace detail {
/// Case-insensitive equality: the Hugging Face Hub resolves ids regardless of case.
[[nodiscard]] inline bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}
} // namespace detail

/// The preset of the model with Hugging Face id `hf_id` (e.g. "deepseek-ai/DeepSeek-R1"), matched
/// without regard to case; std::nullopt when no preset has that model's architecture.
[[nodiscard]] inline std::optional<model_config> find_by_hf_id(std::string_view hf_id) {
  for (const auto& [id, preset] : hf_ids)
    if (detail::iequal(id, hf_id))
      return find(preset);
  return std::nullopt;
}

} // namespace infercost::model::presets
