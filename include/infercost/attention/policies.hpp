/// @file
/// The numbers of attention: the shape of one attention layer (MHA, GQA or MLA), the head layout a
/// numeric forward pass runs with, and the config structs of the built-in policies (full, CSA,
/// sliding window, top-k sparse). The policy tags themselves, with their cost faces and the
/// `attention_policy` concept a user's own policy satisfies, are in attention/cost.hpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/device/work.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::attention {

/// The shape of one attention layer.
///
/// GQA (and MHA, where `num_kv_heads == num_heads`) stores K and V per KV head:
/// `2 * num_kv_heads * head_dim` elements per token. MLA (DeepSeek-V2/V3) stores one latent of
/// `kv_lora_rank` plus a shared RoPE key of `qk_rope_head_dim`; prefill up-projects it to per-head
/// keys of `qk_nope_head_dim + qk_rope_head_dim` and values of `v_head_dim`, while decode absorbs
/// the up-projections into the query and output (DeepSeek-V2 §2.1.2), so it attends as multi-query
/// attention over the latent: key dim `kv_lora_rank + qk_rope_head_dim`, value dim `kv_lora_rank`.
struct attention_shape {
  model::attention_kind kind = model::attention_kind::gqa;
  int num_heads = 0;        ///< query heads
  int num_kv_heads = 0;     ///< KV heads (gqa); MLA decode behaves as one shared KV head
  int head_dim = 0;         ///< per-head query/key dim (gqa)
  int v_head_dim = 0;       ///< per-head value dim (gqa: usually head_dim; mla: v_head_dim)
  int kv_lora_rank = 0;     ///< MLA latent rank
  int qk_nope_head_dim = 0; ///< MLA per-head non-positional query/key dim
  int qk_rope_head_dim = 0; ///< MLA RoPE dim (per head and for the shared key)
  precision kv_prec = precision::bf16;      ///< KV-cache storage precision
  precision compute_prec = precision::bf16; ///< precision of QK^T and PV and of activations
  precision index_prec = precision::fp8;    ///< indexer keys' storage (FP8 in DeepSeek-V3.2)

  /// The attention shape of a model's layers. @throws config_error if the model is invalid.
  [[nodiscard]] static attention_shape from_model(const model::model_config& m,
                                                  precision kv = precision::bf16) {
    m.validate();
    attention_shape s;
    s.kind = m.attention;
    s.num_heads = m.num_heads;
    s.kv_prec = kv;
    if (m.attention == model::attention_kind::mla) {
      s.num_kv_heads = 1;
      s.kv_lora_rank = m.kv_lora_rank;
      s.qk_nope_head_dim = m.qk_nope_head_dim;
      s.qk_rope_head_dim = m.qk_rope_head_dim;
      s.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;
      s.v_head_dim = m.v_head_dim;
    } else {
      s.num_kv_heads = m.num_kv_heads;
      s.head_dim = m.head_dim;
      s.v_head_dim = m.head_dim;
    }
    return s;
  }

  /// True for multi-head attention (GQA with one KV head per query head).
  [[nodiscard]] bool is_mha() const noexcept {
    return kind == model::attention_kind::gqa && num_kv_heads == num_heads;
  }
  /// KV-cache elements per token (per layer): 2·kv_heads·head_dim, or kv_lora_rank + rope dim.
  [[nodiscard]] double kv_elements_per_token() const noexcept {
    if (kind == model::attention_kind::mla)
      return static_cast<double>(kv_lora_rank + qk_rope_head_dim);
    return 2.0 * num_kv_heads * head_dim;
  }
  /// Query/key dim of one head as attention runs in decode (MLA: latent + RoPE).
  [[nodiscard]] int decode_qk_dim() const noexcept {
    return kind == model::attention_kind::mla ? kv_lora_rank + qk_rope_head_dim : head_dim;
  }
  /// Value dim of one head as attention runs in decode (MLA: the latent).
  [[nodiscard]] int decode_v_dim() const noexcept {
    return kind == model::attention_kind::mla ? kv_lora_rank : v_head_dim;
  }
  /// Distinct KV heads that decode reads (MLA: one shared latent).
  [[nodiscard]] int decode_kv_heads() const noexcept {
    return kind == model::attention_kind::mla ? 1 : num_kv_heads;
  }

  /// @throws config_error naming the first inconsistent field.
  void validate() const {
    constexpr std::string_view c = "attention::attention_shape";
    check_positive(c, "num_heads", num_heads);
    check_positive(c, "head_dim", head_dim);
    check_positive(c, "v_head_dim", v_head_dim);
    if (kind == model::attention_kind::gqa) {
      check_positive(c, "num_kv_heads", num_kv_heads);
      check_at_most(c, "num_kv_heads", num_kv_heads, "num_heads", num_heads);
      check_divides(c, "num_kv_heads", num_kv_heads, "num_heads", num_heads);
    } else {
      check_positive(c, "kv_lora_rank", kv_lora_rank);
      check_positive(c, "qk_nope_head_dim", qk_nope_head_dim);
      check_positive(c, "qk_rope_head_dim", qk_rope_head_dim);
      if (head_dim != qk_nope_head_dim + qk_rope_head_dim)
        throw config_error(c, "head_dim",
                           fmt::format("({}) must equal qk_nope_head_dim + qk_rope_head_dim ({})",
                                       head_dim, qk_nope_head_dim + qk_rope_head_dim));
    }
  }
};

/// The head arrangement a numeric forward pass runs with.
struct head_layout {
  int num_heads = 1;    ///< query heads
  int num_kv_heads = 1; ///< KV heads; must divide num_heads
  int head_dim = 64;    ///< query/key dim per head
  int v_head_dim = 64;  ///< value dim per head
  double scale = 0.0;   ///< softmax scale; 0 means 1/√head_dim

  /// The layout attention runs with for a shape: GQA/MHA as is; MLA in the absorbed form (one
  /// latent KV head, key dim kv_lora_rank + rope, value dim kv_lora_rank, scale 1/√(nope+rope)).
  [[nodiscard]] static head_layout of(const attention_shape& s) {
    if (s.kind == model::attention_kind::mla)
      return {.num_heads = s.num_heads,
              .num_kv_heads = 1,
              .head_dim = s.decode_qk_dim(),
              .v_head_dim = s.decode_v_dim(),
              .scale = 1.0 / std::sqrt(static_cast<double>(s.head_dim))};
    return {.num_heads = s.num_heads,
            .num_kv_heads = s.num_kv_heads,
            .head_dim = s.head_dim,
            .v_head_dim = s.v_head_dim};
  }
  /// The softmax scale in use.
  [[nodiscard]] float softmax_scale() const noexcept {
    return static_cast<float>(scale > 0.0 ? scale : 1.0 / std::sqrt(static_cast<double>(head_dim)));
  }
  /// Query heads sharing one KV head.
  [[nodiscard]] int group() const noexcept { return num_heads / num_kv_heads; }
  /// This layout as a GQA attention shape (for validating policy configs against it).
  [[nodiscard]] attention_shape as_shape() const noexcept {
    return {.num_heads = num_heads,
            .num_kv_heads = num_kv_heads,
            .head_dim = head_dim,
            .v_head_dim = v_head_dim};
  }
  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "attention::head_layout";
    check_positive(c, "num_heads", num_heads);
    check_positive(c, "num_kv_heads", num_kv_heads);
    check_divides(c, "num_kv_heads", num_kv_heads, "num_heads", num_heads);
    check_positive(c, "head_dim", head_dim);
    check_positive(c, "v_head_dim", v_head_dim);
    check_non_negative(c, "scale", scale);
  }
};

/// Numbers of full causal attention (none: every query attends to every earlier key).
struct full_config {
  void validate(const attention_shape&) const {}
};

/// How CSA picks the queries that attend exactly.
enum class importance_rule {
  abs_self_score, ///< |q_i · k_i| summed over heads (the article's `abs(sum(query * key))`)
  query_norm,     ///< ‖q_i‖ summed over heads: peaked queries lose most under compression
  random,         ///< a seeded random choice (a baseline for the other two)
};

/// Where CSA's compression projection comes from.
enum class compression_basis {
  random_orthonormal, ///< the article's random matrix, orthonormalised; logits rescaled by the
                      ///< factor so that E[q̃·k̃] = q·k
  pca,                ///< the leading principal directions of this layer's K and V (what a
                      ///< trained compressor approaches); logits not rescaled
};

/// Numbers of compressed sparse attention (the article's CSA, section 3.1.2): the `ratio` of
/// queries ranked most important attend exactly over the full K/V; the others attend over K/V
/// projected to 1/`compression` of their width. Its core FLOP ratio against full attention is
/// ratio + (1 − ratio) / compression (0.1 + 0.9/8 = 21.25% with the defaults).
struct csa_config {
  double ratio = 0.1;  ///< fraction of queries attending exactly, in (0, 1] (article: 10%)
  int compression = 8; ///< projection factor; must divide the key and value dims (article: 8)
  importance_rule rule = importance_rule::abs_self_score;
  compression_basis basis = compression_basis::pca;
  std::uint64_t seed = 0x5eed'c5a0ULL; ///< seeds the random basis and the random rule

  /// @throws config_error for a ratio outside (0, 1] or a factor that does not divide the dims.
  void validate(const attention_shape& s) const {
    constexpr std::string_view c = "attention::csa";
    check_finite(c, "ratio", ratio);
    if (!(ratio > 0.0 && ratio <= 1.0))
      throw config_error(c, "ratio", fmt::format("({}) must be in (0, 1]", ratio));
    check_positive(c, "compression", compression);
    check_divides(c, "compression", compression, "head_dim", s.head_dim);
    check_divides(c, "compression", compression, "v_head_dim", s.v_head_dim);
    if (s.kind == model::attention_kind::mla) {
      check_divides(c, "compression", compression, "decode_qk_dim", s.decode_qk_dim());
      check_divides(c, "compression", compression, "decode_v_dim", s.decode_v_dim());
    }
  }
};

/// Numbers of sliding-window attention: a query at position i attends to keys i−window+1 … i and
/// to the first `sinks` tokens (attention sinks, Xiao et al. 2023, "Efficient Streaming Language
/// Models with Attention Sinks"), so it sees min(i + 1, window + sinks) keys.
struct sliding_window_config {
  int window = 4096; ///< keys in the window, including the query's own (Mistral-7B: 4096)
  int sinks = 0;     ///< leading tokens every query also attends to

  /// The window of a model's sliding layers. @throws config_error if the model has none.
  [[nodiscard]] static sliding_window_config from_model(const model::model_config& m) {
    if (m.sliding_window <= 0)
      throw config_error("attention::sliding_window", "window",
                         fmt::format("({}) must be > 0 (model '{}' has no sliding window)",
                                     m.sliding_window, m.name));
    return {.window = m.sliding_window, .sinks = m.attention_sinks};
  }
  /// @throws config_error for window <= 0 or sinks < 0.
  void validate(const attention_shape&) const {
    constexpr std::string_view c = "attention::sliding_window";
    check_positive(c, "window", window);
    check_non_negative(c, "sinks", sinks);
  }
  /// Most keys a query attends to.
  [[nodiscard]] double key_cap() const noexcept { return static_cast<double>(window) + sinks; }
};

/// Numbers of top-k sparse attention with a lightning indexer (DeepSeek-V3.2-Exp DSA): every
/// query scores every earlier key with `index_heads` small heads of `index_dim`,
/// I(i, j) = Σ_h w_{i,h} · ReLU(q_{i,h} · k_j), and attends to its `top_k` best keys.
/// Defaults are DeepSeek-V3.2-Exp's (inference/model.py ModelArgs: index_n_heads 64,
/// index_head_dim 128, index_topk 2048).
struct topk_config {
  int index_heads = 64; ///< indexer query heads
  int index_dim = 128;  ///< indexer key / query dim
  int top_k = 2048;     ///< keys each query attends to

  /// The indexer of a model. @throws config_error if the model has none.
  [[nodiscard]] static topk_config from_model(const model::model_config& m) {
    if (m.index_topk <= 0)
      throw config_error(
          "attention::topk_sparse", "top_k",
          fmt::format("({}) must be > 0 (model '{}' has no indexer)", m.index_topk, m.name));
    return {.index_heads = m.index_heads, .index_dim = m.index_head_dim, .top_k = m.index_topk};
  }
  /// @throws config_error for a non-positive field.
  void validate(const attention_shape&) const {
    constexpr std::string_view c = "attention::topk_sparse";
    check_positive(c, "top_k", top_k);
    check_positive(c, "index_heads", index_heads);
    check_positive(c, "index_dim", index_dim);
  }
  /// Most keys a query attends to.
  [[nodiscard]] double key_cap() const noexcept { return static_cast<double>(top_k); }
};

/// The article's figure for CSA's cost against full attention at 128K ("~27%", section 3.1.2).
inline constexpr double article_csa_cost_ratio = 0.27;
/// The article's figure for CSA's KV cache against full attention ("~10%", section 3.1.2).
inline constexpr double article_csa_kv_ratio = 0.10;

/// CSA's core FLOP ratio against full attention: ratio + (1 − ratio) / compression.
[[nodiscard]] constexpr double csa_core_flop_ratio(const csa_config& c) noexcept {
  return c.ratio + (1.0 - c.ratio) / c.compression;
}

} // namespace infercost::attention
