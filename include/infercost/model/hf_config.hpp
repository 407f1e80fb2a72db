/// @file
/// A model's architecture read from its Hugging Face `config.json`.
///
/// The reader uses nlohmann::json, so the umbrella infercost.hpp leaves this header out; include it
/// (or infercost/all.hpp) to use it. In header-only mode (the default) this header includes the
/// reader (model/detail/hf_config.hpp); in compiled mode (core/macros.hpp) it only declares it,
/// and nlohmann::json stays out of the including translation unit.
///
/// Read keys, mapped onto model_config:
/// - size: hidden_size, num_hidden_layers, vocab_size, num_attention_heads (all required),
///   tie_word_embeddings (absent: false).
/// - attention: MLA when kv_lora_rank is set (q_lora_rank, kv_lora_rank, qk_nope_head_dim,
///   qk_rope_head_dim, v_head_dim), else GQA (num_key_value_heads, absent: num_attention_heads;
///   head_dim, absent: hidden_size / num_attention_heads). DSA indexer: index_n_heads,
///   index_head_dim, index_topk.
/// - sliding windows: layer_types ("sliding_attention" / "full_attention"), else
///   sliding_window_pattern (every pattern-th layer global, Gemma 3), else use_sliding_window with
///   max_window_layers (Qwen2: layers from max_window_layers on use the window), else a
///   sliding_window on every layer (Mistral).
/// - FFN: intermediate_size; every FFN is gated (three matrices: SwiGLU, GeGLU).
/// - MoE: n_routed_experts / num_experts / num_local_experts, num_experts_per_tok /
///   experts_per_token, moe_intermediate_size (absent: intermediate_size is the expert width and
///   the model has no dense FFN), n_shared_experts or shared_expert_intermediate_size (as that
///   many experts of moe_intermediate_size; it must be a multiple), n_group, topk_group,
///   scoring_func, routed_scaling_factor, norm_topk_prob.
/// - dense layers of an MoE model: first_k_dense_replace, moe_layer_freq, mlp_only_layers,
///   decoder_sparse_step. model_config counts dense layers, not where they sit, so dense layers
///   anywhere are counted as leading ones: parameter counts and per-step work are the same.
/// - MTP: num_nextn_predict_layers, mtp_num_hidden_layers, or num_mtp_modules (with use_mtp).
/// - a multimodal config (text_config) is read from its text_config; the vision tower is left out.
///
/// Not expressible, so rejected with config_error: linear-attention layers (layer_types
/// "linear_attention", as in Qwen3-Next and Qwen3.5; attn_type_list 0, as in MiniMax-01) and a
/// shared expert whose width is not a multiple of the routed experts'.
///
/// Approximations: attention and expert biases (gpt-oss) and learned per-head attention-sink
/// logits (gpt-oss) are left out, like norm weights (< 0.1% of the parameters); query/key norms
/// and gates on the attention output are not counted.
#pragma once

#include <filesystem>
#include <string_view>

#include "infercost/core/macros.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::model {

/// The architecture described by the text of a Hugging Face config.json. `source_name` names the
/// text in errors (a file name) and becomes the model's name.
/// @throws config_error naming the source and the key for malformed JSON (with line and column),
/// a missing required key, a value of the wrong type, an architecture model_config cannot express,
/// or a config that fails model_config::validate.
[[nodiscard]] model_config from_hf_config_json(std::string_view text, std::string_view source_name);

/// The architecture in a Hugging Face config.json file. The model is named after the file's
/// directory when the file is called config.json (a downloaded repository), else after the file.
/// @throws config_error naming the file when it cannot be read, and as from_hf_config_json.
[[nodiscard]] model_config from_hf_config(const std::filesystem::path& file);

} // namespace infercost::model

// Header-only mode defines the reader here; the compiled library defines it once (macros.hpp).
#if !defined(INFERCOST_COMPILED) || defined(INFERCOST_COMPILED_SOURCE)
#include "infercost/model/detail/hf_config.hpp"
#endif
