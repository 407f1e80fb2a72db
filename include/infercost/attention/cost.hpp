/// @file
/// The cost face of attention: FLOPs, bytes and KV footprint of one attention layer under each
/// policy, for a prefill chunk, one decode step, or a whole batch step given only its sums; the
/// policy tags (full, csa, sliding_window, topk_sparse) and the `attention_policy` concept.
///
/// Conventions (per layer):
/// - A "pair" is one (query, key) score. Full causal attention over a chunk of n new tokens after
///   c0 cached ones has Σ_{p=c0}^{c0+n−1} (p + 1) = n·c0 + n(n+1)/2 pairs; a decode step at
///   context c has c + 1 (the new token attends to itself).
/// - Matrix FLOPs per pair: 2·heads·(qk_dim + v_dim) (QK^T and PV, multiply-add = 2).
///   Prefill uses the per-head dims (MLA up-projected: qk = nope + rope, v = v_head_dim); decode
///   uses the absorbed MLA form (qk = kv_lora_rank + rope, v = kv_lora_rank) and reads the latent.
/// - Query/key/value/output projections are linear work counted by model::active_params, and are
///   not repeated here — the absorbed MLA up-projections have exactly the FLOPs of the kv_b
///   projection they replace. Only context-dependent projections count here: CSA's compression
///   and the MLA prefix expansion in prefill.
/// - Decode reads the attended keys' cache; prefill reads the cached prefix once (the new chunk's
///   K/V stay on chip, FlashAttention-style).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string_view>

#include "infercost/attention/policies.hpp"
#include "infercost/core/error.hpp"
#include "infercost/device/work.hpp"

namespace infercost::attention {

/// Vector FLOPs of the softmax per score: scale-and-max, subtract, exp, sum (the final 1/l scale
/// is per output element and left out). An accounting convention of this library.
inline constexpr double softmax_flops_per_score = 4.0;
/// Vector FLOPs of the indexer per (query, key, index head): ReLU and the weighted accumulate.
inline constexpr double indexer_vector_flops_per_score = 2.0;
/// Vector operations of top-k selection per candidate key (a linear-time selection such as
/// introselect does about two comparisons per element on average).
inline constexpr double topk_select_flops_per_candidate = 2.0;

/// The work of attention in one layer, split by where it goes.
struct attention_work {
  double core_flops = 0.0;       ///< QK^T and PV, matrix unit
  double indexer_flops = 0.0;    ///< indexer scoring q·k, matrix unit
  double projection_flops = 0.0; ///< CSA compression and MLA prefix expansion, matrix unit
  double vector_flops = 0.0;     ///< softmax, indexer ReLU/weights, top-k selection, importance
  double kv_bytes_read = 0.0;    ///< cached K/V (or latent, or compressed copy) read
  double index_bytes_read = 0.0; ///< cached indexer keys read
  double activation_bytes_read = 0.0;    ///< queries (and a prefill chunk's own K/V) read
  double activation_bytes_written = 0.0; ///< attention outputs written
  double kv_bytes_written = 0.0;         ///< cache appended: K/V, compressed copy, indexer key
  precision prec = precision::bf16;      ///< precision of the matrix work

  /// All matrix-unit FLOPs.
  [[nodiscard]] constexpr double flops() const noexcept {
    return core_flops + indexer_flops + projection_flops;
  }
  /// All bytes read from device memory.
  [[nodiscard]] constexpr double bytes_read() const noexcept {
    return kv_bytes_read + index_bytes_read + activation_bytes_read;
  }
  /// All bytes written to device memory.
  [[nodiscard]] constexpr double bytes_written() const noexcept {
    return kv_bytes_written + activation_bytes_written;
  }
  /// The whole layer's attention as one fused op for a device.
  [[nodiscard]] constexpr op_work to_op_work() const noexcept {
    return op_work{.flops = flops(),
                   .vector_flops = vector_flops,
                   .bytes_read = bytes_read(),
                   .bytes_written = bytes_written(),
                   .prec = prec,
                   .kind = op_kind::attention};
  }
  /// Sums another work into this one (the precision stays this one's).
  constexpr attention_work& operator+=(const attention_work& o) noexcept {
    core_flops += o.core_flops;
    indexer_flops += o.indexer_flops;
    projection_flops += o.projection_flops;
    vector_flops += o.vector_flops;
    kv_bytes_read += o.kv_bytes_read;
    index_bytes_read += o.index_bytes_read;
    activation_bytes_read += o.activation_bytes_read;
    activation_bytes_written += o.activation_bytes_written;
    kv_bytes_written += o.kv_bytes_written;
    return *this;
  }
};

/// A batch step described by its sums only, so its cost does not depend on how many tokens or
/// sequences it has. Fill it with add_decode / add_prefill (O(1) each) or set the sums directly.
struct batch_totals {
  double decode_sequences = 0.0;   ///< sequences decoding this step
  double decode_context_sum = 0.0; ///< Σ cached tokens of the decoding sequences
  /// Query tokens of each decoding sequence: 1, or 1 + γ when a speculative verify pass scores
  /// γ draft tokens (they sit at positions c, c+1, …, c+γ and share one read of the sequence's KV).
  double decode_queries_per_sequence = 1.0;
  double prefill_chunks = 0.0;     ///< prefill chunks this step
  double prefill_tokens = 0.0;     ///< Σ new tokens of the chunks
  double prefill_cached_sum = 0.0; ///< Σ tokens cached before each chunk
  double prefill_pairs = 0.0;      ///< Σ causal pairs of the chunks: Σ n·c0 + n(n+1)/2

  /// Adds one sequence decoding a token after `context` cached tokens. @throws config_error.
  batch_totals& add_decode(std::int64_t context) {
    if (context < 0)
      throw config_error("attention::batch_totals", "context",
                         fmt::format("({}) must be >= 0", context));
    decode_sequences += 1.0;
    decode_context_sum += static_cast<double>(context);
    return *this;
  }
  /// Adds a prefill chunk of `tokens` new tokens after `cached` ones. @throws config_error.
  batch_totals& add_prefill(std::int64_t tokens, std::int64_t cached = 0) {
    if (tokens < 0 || cached < 0)
      throw config_error("attention::batch_totals", tokens < 0 ? "tokens" : "cached",
                         fmt::format("({}) must be >= 0", tokens < 0 ? tokens : cached));
    const double n = static_cast<double>(tokens), c0 = static_cast<double>(cached);
    prefill_chunks += 1.0;
    prefill_tokens += n;
    prefill_cached_sum += c0;
    prefill_pairs += n * c0 + n * (n + 1.0) / 2.0;
    return *this;
  }
  /// @throws config_error naming the first negative or non-finite sum.
  void validate() const {
    constexpr std::string_view c = "attention::batch_totals";
    check_non_negative(c, "decode_sequences", decode_sequences);
    check_non_negative(c, "decode_context_sum", decode_context_sum);
    if (!(decode_queries_per_sequence >= 1.0))
      throw config_error(c, "decode_queries_per_sequence",
                         fmt::format("({}) must be >= 1", decode_queries_per_sequence));
    check_non_negative(c, "prefill_chunks", prefill_chunks);
    check_non_negative(c, "prefill_tokens", prefill_tokens);
    check_non_negative(c, "prefill_cached_sum", prefill_cached_sum);
    check_non_negative(c, "prefill_pairs", prefill_pairs);
  }
};

namespace detail {

/// What the cost formulas need from a policy.
struct policy_numbers {
  double cap = std::numeric_limits<double>::infinity();    ///< most keys a query attends to
  double kv_cap = std::numeric_limits<double>::infinity(); ///< most tokens a layer's KV keeps
  double exact_fraction = 1.0;   ///< CSA: share of queries attending exactly
  double compression = 1.0;      ///< CSA: width factor of the compressed path (1 = none)
  bool compressed_cache = false; ///< CSA: a compressed copy of K/V is cached too
  double index_heads = 0.0;      ///< indexer heads (0 = no indexer)
  double index_dim = 0.0;        ///< indexer dim
};

[[nodiscard]] inline policy_numbers numbers_of(const full_config&) { return {}; }
[[nodiscard]] inline policy_numbers numbers_of(const sliding_window_config& c) {
  return {.cap = c.key_cap(), .kv_cap = c.key_cap()};
}
[[nodiscard]] inline policy_numbers numbers_of(const topk_config& c) {
  return {
      .cap = c.key_cap(), .index_heads = double(c.index_heads), .index_dim = double(c.index_dim)};
}
[[nodiscard]] inline policy_numbers numbers_of(const csa_config& c) {
  return {
      .exact_fraction = c.ratio, .compression = double(c.compression), .compressed_cache = true};
}

/// Σ_{t=1}^{n} min(c0 + t, cap): keys seen by n new tokens after c0 cached, capped.
[[nodiscard]] inline double capped_pairs(double n, double c0, double cap) noexcept {
  if (n <= 0.0)
    return 0.0;
  const double first = c0 + 1.0, last = c0 + n;
  if (cap >= last)
    return (first + last) * n / 2.0;
  if (cap <= first)
    return cap * n;
  const double below = cap - first; // tokens first .. cap−1 see fewer than cap keys
  return (first + cap - 1.0) * below / 2.0 + cap * (n - below);
}

/// KV-cache bytes one token adds to one layer under a policy.
[[nodiscard]] inline double kv_bytes_per_token(const attention_shape& s, const policy_numbers& p) {
  const double kvb = s.kv_elements_per_token() * bytes_per_element(s.kv_prec);
  double b = kvb * (p.compressed_cache ? 1.0 + 1.0 / p.compression : 1.0);
  b += p.index_dim * bytes_per_element(s.index_prec);
  return b;
}

/// Work of a batch step in one layer. Exact for policies without a cap; with a cap (window,
/// top-k) the decode part is exact when the decoding contexts are equal or all on one side of the
/// cap, and otherwise evaluates the mean context, which over-counts (min(·, cap) is concave);
/// the prefill part is exact for one chunk, or chunks of one shape.
[[nodiscard]] inline attention_work step_work(const attention_shape& s, const policy_numbers& p,
                                              const batch_totals& t) {
  t.validate();
  attention_work w;
  w.prec = s.compute_prec;
  const double H = s.num_heads;
  const double b_kv = bytes_per_element(s.kv_prec);
  const double b_act = bytes_per_element(s.compute_prec);
  const double b_idx = bytes_per_element(s.index_prec);
  const double kvb = s.kv_elements_per_token() * b_kv;
  const double r = p.exact_fraction, f = p.compression;
  const bool csa = p.compressed_cache;
  const bool indexer = p.index_heads > 0.0;

  // Decode: absorbed form for MLA. Each of the S sequences runs q query tokens at positions
  // c, …, c+q−1 (q = 1, or 1 + γ when verifying drafts); they read the sequence's KV once.
  if (t.decode_sequences > 0.0) {
    const double S = t.decode_sequences, q = t.decode_queries_per_sequence;
    const double dq = s.decode_qk_dim(), dv = s.decode_v_dim(), hk = s.decode_kv_heads();
    const double mean_keys = t.decode_context_sum / S + 1.0; // keys of a sequence's first query
    // Σ over the q queries of min(keys, cap), with the mean context (see above for the cap).
    const double available = S * (q * mean_keys + q * (q - 1.0) / 2.0);
    const double attended =
        std::min(available, S * q * std::min(mean_keys + (q - 1.0) / 2.0, p.cap));
    // Keys whose KV is read: a sequence's context and window, at most the cap plus the window.
    const double read = S * std::min(mean_keys + q - 1.0, p.cap + q - 1.0);
    const double exact = r * attended, compressed = (1.0 - r) * attended;
    const double exact_read = r * read, compressed_read = (1.0 - r) * read;
    const double Q = S * q; // query tokens
    w.core_flops += 2.0 * H * (dq + dv) * (exact + compressed / f);
    w.vector_flops += softmax_flops_per_score * H * attended;
    w.kv_bytes_read += kvb * (exact_read + compressed_read / f);
    w.activation_bytes_read += Q * H * dq * b_act;
    w.activation_bytes_written += Q * H * dv * b_act;
    if (indexer) {
      w.indexer_flops += 2.0 * p.index_heads * p.index_dim * available;
      w.vector_flops += indexer_vector_flops_per_score * p.index_heads * available +
                        topk_select_flops_per_candidate * available;
      w.index_bytes_read += p.index_dim * b_idx * S * (mean_keys + q - 1.0);
      w.activation_bytes_read += Q * p.index_heads * (p.index_dim + 1.0) * b_act;
    }
    if (csa) {
      // Compress the new tokens' K and V; project the compressed queries and expand their
      // outputs; score the importance q·k of every head.
      w.projection_flops += Q * hk * 2.0 * (dq * dq + dv * dv) / f;
      w.projection_flops += (1.0 - r) * Q * H * 2.0 * (dq * dq + dv * dv) / f;
      w.vector_flops += Q * H * 2.0 * dq;
    }
    w.kv_bytes_written += Q * kv_bytes_per_token(s, p);
  }

  // Prefill: per-head form (MLA up-projected).
  if (t.prefill_tokens > 0.0) {
    const double T = t.prefill_tokens, N = std::max(t.prefill_chunks, 1.0);
    const double dq = s.head_dim, dv = s.v_head_dim;
    const bool mla = s.kind == model::attention_kind::mla;
    const double hk = mla ? H : static_cast<double>(s.num_kv_heads);
    const double pairs = t.prefill_pairs;
    const double attended =
        std::min(pairs, N * capped_pairs(T / N, t.prefill_cached_sum / N, p.cap));
    const double prefix =
        std::min(t.prefill_cached_sum, N * std::min(t.prefill_cached_sum / N, p.cap));
    const double exact = r * attended, compressed = (1.0 - r) * attended;
    w.core_flops += 2.0 * H * (dq + dv) * (exact + compressed / f);
    w.vector_flops += softmax_flops_per_score * H * attended;
    w.kv_bytes_read += kvb * (csa ? 1.0 + 1.0 / f : 1.0) * prefix;
    if (mla) // the cached latents are expanded to per-head keys (nope part) and values
      w.projection_flops += 2.0 * prefix * s.kv_lora_rank * H * (s.qk_nope_head_dim + dv);
    w.activation_bytes_read += T * (H * dq + hk * (dq + dv)) * b_act;
    w.activation_bytes_written += T * H * dv * b_act;
    if (indexer) {
      w.indexer_flops += 2.0 * p.index_heads * p.index_dim * pairs;
      w.vector_flops += indexer_vector_flops_per_score * p.index_heads * pairs +
                        topk_select_flops_per_candidate * pairs;
      w.index_bytes_read += p.index_dim * b_idx * t.prefill_cached_sum;
      w.activation_bytes_read += T * (p.index_heads * (p.index_dim + 1.0) + p.index_dim) * b_act;
    }
    if (csa) {
      w.projection_flops += T * hk * 2.0 * (dq * dq + dv * dv) / f;
      w.projection_flops += (1.0 - r) * T * H * 2.0 * (dq * dq + dv * dv) / f;
      w.vector_flops += T * H * 2.0 * dq;
    }
    w.kv_bytes_written += T * kv_bytes_per_token(s, p);
  }
  return w;
}

/// The cost face of a policy whose numbers are a detail::policy_numbers (the built-in ones):
/// step work and KV footprint from its config, through the formulas above.
template <class Config> struct numbers_policy {
  using config = Config;
  /// Work of one layer for a batch step given by its sums.
  [[nodiscard]] static attention_work step_work(const attention_shape& s, const Config& c,
                                                const batch_totals& t) {
    return detail::step_work(s, numbers_of(c), t);
  }
  /// KV-cache bytes one token adds to one layer.
  [[nodiscard]] static double kv_bytes_per_token(const attention_shape& s, const Config& c) {
    return detail::kv_bytes_per_token(s, numbers_of(c));
  }
  /// Tokens of a `context`-token sequence whose KV one layer keeps (a window keeps its last
  /// window + sinks tokens).
  [[nodiscard]] static double kept_tokens(const Config& c, double context) {
    return std::min(context, numbers_of(c).kv_cap);
  }
};

} // namespace detail

/// Policy tag: full causal attention.
struct full : detail::numbers_policy<full_config> {
  static constexpr std::string_view name = "full";
};
/// Policy tag: compressed sparse attention (the article's CSA).
struct csa : detail::numbers_policy<csa_config> {
  static constexpr std::string_view name = "csa";
};
/// Policy tag: sliding-window attention with optional sinks.
struct sliding_window : detail::numbers_policy<sliding_window_config> {
  static constexpr std::string_view name = "sliding_window";
};
/// Policy tag: top-k sparse attention chosen by an indexer (DSA).
struct topk_sparse : detail::numbers_policy<topk_config> {
  static constexpr std::string_view name = "topk_sparse";
};

/// Work of one attention layer for a batch step given by its sums (see detail::step_work for
/// which parts are exact). @throws config_error for an invalid shape, config or sums.
template <class Config>
[[nodiscard]] attention_work step_work(const attention_shape& s, const Config& c,
                                       const batch_totals& t) {
  s.validate();
  c.validate(s);
  return detail::step_work(s, detail::numbers_of(c), t);
}

/// Work of one decode step of one sequence at `context` cached tokens, in one layer.
template <class Config>
[[nodiscard]] attention_work decode_work(const attention_shape& s, const Config& c,
                                         std::int64_t context) {
  return step_work(s, c, batch_totals{}.add_decode(context));
}

/// Work of prefilling `tokens` new tokens after `cached` ones, in one layer.
template <class Config>
[[nodiscard]] attention_work prefill_work(const attention_shape& s, const Config& c,
                                          std::int64_t tokens, std::int64_t cached = 0) {
  return step_work(s, c, batch_totals{}.add_prefill(tokens, cached));
}

/// KV-cache bytes one token adds to one layer (K/V or latent, CSA's compressed copy, the
/// indexer key).
template <class Config>
[[nodiscard]] double kv_bytes_per_token(const attention_shape& s, const Config& c) {
  s.validate();
  c.validate(s);
  return detail::kv_bytes_per_token(s, detail::numbers_of(c));
}

/// KV-cache bytes one sequence of `context` tokens holds in one layer: a sliding window keeps
/// only min(context, window + sinks) tokens. @throws config_error for a negative context.
template <class Config>
[[nodiscard]] double kv_bytes_per_sequence(const attention_shape& s, const Config& c,
                                           std::int64_t context) {
  if (context < 0)
    throw config_error("attention::kv_bytes_per_sequence", "context",
                       fmt::format("({}) must be >= 0", context));
  return detail::numbers_policy<Config>::kept_tokens(c, static_cast<double>(context)) *
         kv_bytes_per_token(s, c);
}

} // namespace infercost::attention
