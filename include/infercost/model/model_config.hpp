/// @file
/// `model_config`: the architecture of a transformer LLM as a run-time value, and what follows from
/// it alone: parameter counts (total and active per token) and KV-cache bytes per token and per
/// sequence. The work and time of a forward pass are the step-cost engine's (engine/step_cost.hpp),
/// with attention's work from attention/cost.hpp: one accounting, in one place.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/device/work.hpp"

namespace infercost::model {

/// How attention stores K/V.
enum class attention_kind {
  gqa, ///< multi-head / grouped-query: K and V per KV head (MHA is gqa with kv_heads == heads)
  mla, ///< multi-head latent attention (DeepSeek-V2/V3): a compressed latent plus a RoPE key
};

/// Feed-forward block form.
enum class ffn_kind {
  swiglu, ///< gate, up and down projections (3 matrices): Llama, Mixtral, Qwen, DeepSeek
  relu,   ///< up and down projections with ReLU (2 matrices): the article's expert
};

/// Router scoring function of an MoE layer.
enum class router_scoring { softmax, sigmoid };

/// The architecture of one model. Field names follow the Hugging Face config.json names where
/// one exists. A value of 0 switches a feature off (no MoE, no sliding window, no indexer).
struct model_config {
  std::string name;
  int hidden = 0;     ///< hidden_size
  int num_layers = 0; ///< num_hidden_layers
  int vocab = 0;      ///< vocab_size
  bool tie_embeddings = false;

  // Attention.
  attention_kind attention = attention_kind::gqa;
  int num_heads = 0;             ///< num_attention_heads
  int num_kv_heads = 0;          ///< num_key_value_heads (gqa)
  int head_dim = 0;              ///< head_dim (gqa)
  int q_lora_rank = 0;           ///< MLA query compression rank; 0 = direct query projection
  int kv_lora_rank = 0;          ///< MLA latent rank
  int qk_nope_head_dim = 0;      ///< MLA per-head non-positional query/key dim
  int qk_rope_head_dim = 0;      ///< MLA per-head (and shared key) RoPE dim
  int v_head_dim = 0;            ///< MLA per-head value dim
  int sliding_window = 0;        ///< window of sliding-window layers; 0 = none
  int full_attention_layers = 0; ///< with a window: layers that still attend over everything
  int attention_sinks = 0;       ///< sink tokens kept by sliding-window layers
  int index_heads = 0;           ///< sparse-attention indexer heads (DeepSeek-V3.2 DSA)
  int index_head_dim = 0;        ///< indexer key dim
  int index_topk = 0;            ///< keys each query attends to after indexing

  // Feed-forward.
  ffn_kind ffn = ffn_kind::swiglu;
  int intermediate = 0; ///< dense FFN width (intermediate_size)

  // Mixture of experts; num_experts == 0 means a dense model.
  int num_experts = 0;        ///< routed experts (n_routed_experts / num_local_experts)
  int num_shared_experts = 0; ///< always-active experts
  int moe_intermediate = 0;   ///< expert FFN width
  int top_k = 0;              ///< routed experts per token (num_experts_per_tok)
  int n_group = 1;            ///< expert groups for group-limited routing
  int topk_group = 1;         ///< groups kept per token
  int first_k_dense = 0;      ///< leading layers with a dense FFN (first_k_dense_replace)
  router_scoring scoring = router_scoring::softmax;
  double routed_scaling_factor = 1.0;
  bool norm_topk_prob = true; ///< renormalise the top-k weights to sum to 1

  int mtp_layers = 0; ///< multi-token-prediction modules (num_nextn_predict_layers)

  [[nodiscard]] bool is_moe() const noexcept { return num_experts > 0; }
  [[nodiscard]] int num_moe_layers() const noexcept {
    return is_moe() ? num_layers - first_k_dense : 0;
  }
  [[nodiscard]] int num_dense_layers() const noexcept { return num_layers - num_moe_layers(); }
  [[nodiscard]] int num_sliding_layers() const noexcept {
    return sliding_window > 0 ? num_layers - full_attention_layers : 0;
  }
  /// Per-head query/key dim used in QK^T.
  [[nodiscard]] int qk_head_dim() const noexcept {
    return attention == attention_kind::mla ? qk_nope_head_dim + qk_rope_head_dim : head_dim;
  }
  /// Per-head value dim used in PV.
  [[nodiscard]] int value_head_dim() const noexcept {
    return attention == attention_kind::mla ? v_head_dim : head_dim;
  }

  /// @throws config_error naming the first inconsistent field.
  void validate() const {
    const std::string c = "model::" + (name.empty() ? std::string("model_config") : name);
    check_positive(c, "hidden", hidden);
    check_positive(c, "num_layers", num_layers);
    check_positive(c, "vocab", vocab);
    check_positive(c, "num_heads", num_heads);
    if (attention == attention_kind::gqa) {
      check_positive(c, "num_kv_heads", num_kv_heads);
      check_positive(c, "head_dim", head_dim);
      check_at_most(c, "num_kv_heads", num_kv_heads, "num_heads", num_heads);
      if (num_heads % num_kv_heads != 0)
        throw config_error(c, "num_kv_heads",
                           fmt::format("({}) must divide num_heads ({})", num_kv_heads, num_heads));
    } else {
      check_non_negative(c, "q_lora_rank", q_lora_rank);
      check_positive(c, "kv_lora_rank", kv_lora_rank);
      check_positive(c, "qk_nope_head_dim", qk_nope_head_dim);
      check_positive(c, "qk_rope_head_dim", qk_rope_head_dim);
      check_positive(c, "v_head_dim", v_head_dim);
    }
    check_non_negative(c, "sliding_window", sliding_window);
    check_non_negative(c, "full_attention_layers", full_attention_layers);
    check_at_most(c, "full_attention_layers", full_attention_layers, "num_layers", num_layers);
    check_non_negative(c, "attention_sinks", attention_sinks);
    check_non_negative(c, "index_heads", index_heads);
    check_non_negative(c, "index_head_dim", index_head_dim);
    check_non_negative(c, "index_topk", index_topk);
    if ((index_heads > 0) != (index_topk > 0) || (index_heads > 0) != (index_head_dim > 0))
      throw config_error(c, "index_heads",
                         fmt::format("({}) , index_head_dim ({}) and index_topk ({}) must be all "
                                     "zero or all positive",
                                     index_heads, index_head_dim, index_topk));
    check_non_negative(c, "first_k_dense", first_k_dense);
    check_at_most(c, "first_k_dense", first_k_dense, "num_layers", num_layers);
    if (num_dense_layers() > 0)
      check_positive(c, "intermediate", intermediate);
    check_non_negative(c, "num_experts", num_experts);
    if (is_moe()) {
      check_positive(c, "moe_intermediate", moe_intermediate);
      check_positive(c, "top_k", top_k);
      check_at_most(c, "top_k", top_k, "num_experts", num_experts);
      check_non_negative(c, "num_shared_experts", num_shared_experts);
      check_positive(c, "n_group", n_group);
      if (num_experts % n_group != 0)
        throw config_error(c, "n_group",
                           fmt::format("({}) must divide num_experts ({})", n_group, num_experts));
      check_positive(c, "topk_group", topk_group);
      check_at_most(c, "topk_group", topk_group, "n_group", n_group);
      if (top_k > topk_group * (num_experts / n_group))
        throw config_error(c, "top_k",
                           fmt::format("({}) must be <= topk_group * experts per group ({})", top_k,
                                       topk_group * (num_experts / n_group)));
      check_positive(c, "routed_scaling_factor", routed_scaling_factor);
    }
    check_non_negative(c, "mtp_layers", mtp_layers);
  }
};

/// Parameter counts of a model, split by part. Norm weights and biases are left out (they are
/// < 0.01% of any preset).
struct param_counts {
  double embedding = 0;      ///< input embedding + LM head (once if tied)
  double attention = 0;      ///< all layers' attention projections (and indexers)
  double dense_ffn = 0;      ///< all dense-FFN layers
  double routed_experts = 0; ///< all routed experts of all MoE layers
  double shared_experts = 0; ///< all shared experts
  double router = 0;         ///< router (gate) matrices
  double mtp = 0;            ///< multi-token-prediction modules (not counted in total)

  /// Total parameters of the main model (MTP modules excluded, as DeepSeek counts 671B).
  [[nodiscard]] double total() const noexcept {
    return embedding + attention + dense_ffn + routed_experts + shared_experts + router;
  }
};

/// Weight matrices of one FFN block: 3 for SwiGLU (gate, up, down), 2 for ReLU (up, down).
[[nodiscard]] constexpr double ffn_matrices(ffn_kind k) noexcept {
  return k == ffn_kind::swiglu ? 3.0 : 2.0;
}

/// Parameters of one FFN block of `width` on `hidden`.
[[nodiscard]] inline double ffn_params(ffn_kind k, int hidden, int width) {
  return ffn_matrices(k) * static_cast<double>(hidden) * static_cast<double>(width);
}

/// Parameters of one layer's attention projections (and its indexer, if any).
[[nodiscard]] inline double attention_params_per_layer(const model_config& m) {
  const double h = m.hidden, nh = m.num_heads;
  double p = 0.0;
  if (m.attention == attention_kind::gqa) {
    const double hd = m.head_dim, kv = m.num_kv_heads;
    p = h * nh * hd + 2.0 * h * kv * hd + nh * hd * h; // q, k, v, o
  } else {
    const double qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    const double q = m.q_lora_rank > 0
                         ? h * m.q_lora_rank + static_cast<double>(m.q_lora_rank) * nh * qk
                         : h * nh * qk;
    const double kv_a = h * (m.kv_lora_rank + m.qk_rope_head_dim);
    const double kv_b =
        static_cast<double>(m.kv_lora_rank) * nh * (m.qk_nope_head_dim + m.v_head_dim);
    const double o = nh * m.v_head_dim * h;
    p = q + kv_a + kv_b + o;
  }
  if (m.index_heads > 0) {
    // DSA lightning indexer: query heads from the query latent (or hidden), one shared key,
    // per-head weights (DeepSeek-V3.2-Exp inference/model.py, class Indexer).
    const double q_in = m.q_lora_rank > 0 ? m.q_lora_rank : m.hidden;
    p += q_in * m.index_heads * m.index_head_dim + h * m.index_head_dim + h * m.index_heads;
  }
  return p;
}

/// Parameters of one routed (or shared) expert.
[[nodiscard]] inline double expert_params(const model_config& m) {
  return ffn_params(m.ffn, m.hidden, m.moe_intermediate);
}

/// Parameters of an MTP module's projection of [embedding; hidden state] (2·hidden) to hidden
/// (DeepSeek-V3 §2.2, "M_k ∈ R^{d×2d}").
[[nodiscard]] inline double mtp_projection_params(const model_config& m) {
  return 2.0 * static_cast<double>(m.hidden) * m.hidden;
}

/// The transformer of one multi-token-prediction module of `m` (DeepSeek-V3 §2.2): one layer of
/// `m`'s kind (MoE if `m` is) with `m`'s shared embedding and LM head; its projection is
/// mtp_projection_params. @throws config_error if `m` is invalid.
[[nodiscard]] inline model_config mtp_module(const model_config& m) {
  m.validate();
  model_config t = m;
  t.name = m.name + "_mtp";
  t.num_layers = 1;
  t.first_k_dense = 0;
  t.full_attention_layers = std::min(t.full_attention_layers, 1);
  t.mtp_layers = 0;
  return t;
}

/// Every parameter count of the model. @throws config_error if the config is invalid.
[[nodiscard]] inline param_counts count_params(const model_config& m) {
  m.validate();
  param_counts p;
  const double emb = static_cast<double>(m.vocab) * m.hidden;
  p.embedding = m.tie_embeddings ? emb : 2.0 * emb;
  p.attention = m.num_layers * attention_params_per_layer(m);
  p.dense_ffn = m.num_dense_layers() * ffn_params(m.ffn, m.hidden, m.intermediate);
  if (m.is_moe()) {
    const double e = expert_params(m);
    p.routed_experts = static_cast<double>(m.num_moe_layers()) * m.num_experts * e;
    p.shared_experts = static_cast<double>(m.num_moe_layers()) * m.num_shared_experts * e;
    p.router = static_cast<double>(m.num_moe_layers()) * m.hidden * m.num_experts;
  }
  // An MTP module (DeepSeek-V3 §2.2): a projection of 2*hidden to hidden and one full layer
  // (MoE if the model is); embedding and head are shared with the main model.
  if (m.mtp_layers > 0) {
    const double layer_ffn = m.is_moe()
                                 ? (m.num_experts + m.num_shared_experts) * expert_params(m) +
                                       static_cast<double>(m.hidden) * m.num_experts
                                 : ffn_params(m.ffn, m.hidden, m.intermediate);
    p.mtp = m.mtp_layers * (mtp_projection_params(m) + attention_params_per_layer(m) + layer_ffn);
  }
  return p;
}

/// Parameters a single token activates: embedding row lookups are not matrix work, so only the LM
/// head counts from the embeddings; attention, dense FFNs, shared experts, top_k routed experts
/// and the router of every layer.
[[nodiscard]] inline double active_params(const model_config& m) {
  const param_counts p = count_params(m);
  double a = static_cast<double>(m.vocab) * m.hidden + p.attention + p.dense_ffn + p.router +
             p.shared_experts;
  if (m.is_moe())
    a += static_cast<double>(m.num_moe_layers()) * m.top_k * expert_params(m);
  return a;
}

/// Active parameters counted as DeepSeek and Mistral report them: with both the input embedding
/// and the LM head (DeepSeek-V3 "37B activated", Mixtral "12.9B active").
[[nodiscard]] inline double active_params_reported(const model_config& m) {
  const double emb = static_cast<double>(m.vocab) * m.hidden;
  return active_params(m) + (m.tie_embeddings ? 0.0 : emb);
}

/// KV-cache elements stored per token per layer: 2 * kv_heads * head_dim (gqa) or
/// kv_lora_rank + qk_rope_head_dim (mla).
[[nodiscard]] inline double kv_elements_per_token_per_layer(const model_config& m) noexcept {
  if (m.attention == attention_kind::mla)
    return static_cast<double>(m.kv_lora_rank + m.qk_rope_head_dim);
  return 2.0 * m.num_kv_heads * m.head_dim;
}

/// KV-cache bytes per token over all layers, without window caps (what a token costs while it is
/// inside every window). Indexer keys, if any, are stored at `index_precision` (FP8 in
/// DeepSeek-V3.2).
[[nodiscard]] inline double kv_bytes_per_token(const model_config& m, precision kv_precision,
                                               precision index_precision = precision::fp8) {
  double per_layer = kv_elements_per_token_per_layer(m) * bytes_per_element(kv_precision);
  per_layer += m.index_head_dim * bytes_per_element(index_precision);
  return per_layer * m.num_layers;
}

/// KV-cache bytes of one sequence of `context` tokens: sliding-window layers hold only
/// min(context, window + sinks) tokens.
[[nodiscard]] inline double kv_bytes_per_sequence(const model_config& m, std::int64_t context,
                                                  precision kv_precision,
                                                  precision index_precision = precision::fp8) {
  if (context < 0)
    throw config_error("model::kv_bytes_per_sequence", "context",
                       fmt::format("({}) must be >= 0", context));
  const double per_token_layer =
      kv_elements_per_token_per_layer(m) * bytes_per_element(kv_precision) +
      m.index_head_dim * bytes_per_element(index_precision);
  const double c = static_cast<double>(context);
  const double windowed =
      m.sliding_window > 0 ? std::min(c, static_cast<double>(m.sliding_window + m.attention_sinks))
                           : c;
  const int sliding = m.num_sliding_layers();
  return per_token_layer * (c * (m.num_layers - sliding) + windowed * sliding);
}

/// Weight bytes of the whole model (main model, MTP excluded) at one precision.
[[nodiscard]] inline double weight_bytes(const model_config& m, precision weights) {
  return count_params(m).total() * bytes_per_element(weights);
}

} // namespace infercost::model
