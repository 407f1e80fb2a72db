/// @file
/// The cost face of speculative decoding: the device time of a step, γ·t_draft +
/// t_verify(batch, γ+1 tokens per sequence), against plain decoding (one target forward per
/// token), from the two models' `model_config`s and a `Device`; the speedup that follows as a
/// function of batch size; the best γ; and the KV memory that speculation adds (the verify window
/// and the draft's own cache). Everything is aggregate — batch size and Σ context, no per-token
/// loops — so a serving loop can call it every step.
///
/// Forward-pass model: per layer one GEMM op (all projections, FFN or active experts, the LM head
/// spread over layers) reading the weights once, and one attention op reading each sequence's KV
/// once (flash attention shares the read across the sequence's γ+1 query tokens) and writing the
/// new tokens' KV; with `devices` > 1 work and weights split evenly and two all-reduces of the
/// activations per layer (Megatron tensor parallelism, Shoeybi et al. 2019). An MoE layer reads
/// only the experts the step's tokens touch: E·(1 − (1 − k/E)^T) of E experts for T tokens with
/// top-k under uniform routing.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/work.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/moe/balance.hpp"
#include "infercost/speculative/analytic.hpp"

namespace infercost::speculative {

/// How a model's forward pass is laid out on devices: numbers, not code paths.
struct forward_config {
  precision weights = precision::bf16;   ///< weight storage and GEMM precision
  precision kv = precision::bf16;        ///< KV-cache element precision
  precision attention = precision::bf16; ///< attention matmul precision
  int devices = 1;                       ///< devices sharing weights and work evenly
  double extra_params = 0.0; ///< parameters outside the model_config read once per forward and
                             ///< multiplied by every token (the MTP projection: 2·hidden²)

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "speculative::forward_config";
    check_positive(c, "devices", devices);
    check_non_negative(c, "extra_params", extra_params);
  }
};

/// Device time of one forward pass and the work behind it (whole pass, all devices' share of
/// work summed; times are per device, which all run in parallel).
struct forward_time {
  double linear_s = 0.0;      ///< GEMM ops, all layers
  double attention_s = 0.0;   ///< attention ops, all layers
  double comm_s = 0.0;        ///< all-reduces, all layers
  double flops = 0.0;         ///< matrix FLOPs, all devices
  double weight_bytes = 0.0;  ///< weight bytes read, all devices
  double kv_bytes_read = 0.0; ///< KV bytes read, all devices
  /// Step time: the three parts run one after another.
  [[nodiscard]] double total_s() const noexcept { return linear_s + attention_s + comm_s; }
};

namespace detail {
/// decode_token_work at a fractional context, interpolated linearly between the neighbouring
/// integers: exact when attention is uncapped (keys grow linearly with position).
inline model::token_work token_work_at(const model::model_config& m, double context, precision kv) {
  const double lo = std::floor(context);
  const double f = context - lo;
  const model::token_work a = model::decode_token_work(m, static_cast<std::int64_t>(lo), kv);
  if (f == 0.0)
    return a;
  const model::token_work b = model::decode_token_work(m, static_cast<std::int64_t>(lo) + 1, kv);
  model::token_work w;
  w.linear_flops = a.linear_flops;
  w.attention_flops = a.attention_flops + f * (b.attention_flops - a.attention_flops);
  w.kv_bytes_read = a.kv_bytes_read + f * (b.kv_bytes_read - a.kv_bytes_read);
  w.kv_bytes_written = a.kv_bytes_written;
  return w;
}

/// The per-layer, per-device work of one forward pass: `batch` sequences with `tokens` new
/// tokens each after Σ context `sum_context` (mean context sum_context / batch).
struct layer_work {
  op_work linear;
  op_work attention;
  comm_work all_reduce;
  int layers = 0;
  double flops = 0.0, weight_bytes = 0.0, kv_bytes_read = 0.0;
};

inline layer_work forward_layer_work(const model::model_config& m, const forward_config& f,
                                     std::int64_t batch, std::int64_t tokens, double sum_context) {
  constexpr std::string_view c = "speculative::forward_time";
  f.validate();
  check_positive(c, "batch", batch);
  check_positive(c, "tokens_per_sequence", tokens);
  check_non_negative(c, "sum_context", sum_context);
  const double b = static_cast<double>(batch), n = static_cast<double>(tokens);
  const double t = b * n;
  const double mean_ctx = sum_context / b;
  const double active = model::active_params(m) + f.extra_params; // validates m
  double weight_params = active;
  if (m.is_moe()) {
    const double e = model::expert_params(m);
    weight_params += static_cast<double>(m.num_moe_layers()) * e *
                     (moe::expected_distinct_experts_uniform(m.num_experts, m.top_k, t) - m.top_k);
  }
  // Queries of one sequence sit at positions c .. c+n−1: the mean position is c̄ + (n−1)/2.
  const model::token_work mid = token_work_at(m, mean_ctx + (n - 1.0) / 2.0, f.kv);
  // The attention of one sequence reads its c + n keys once.
  const model::token_work last = token_work_at(m, mean_ctx + n - 1.0, f.kv);
  layer_work w;
  w.layers = m.num_layers;
  w.flops = 2.0 * active * t + mid.attention_flops * t;
  w.weight_bytes = weight_params * bytes_per_element(f.weights);
  w.kv_bytes_read = last.kv_bytes_read * b;
  const double per = 1.0 / (static_cast<double>(m.num_layers) * f.devices);
  w.linear = op_work{.flops = 2.0 * active * t * per,
                     .bytes_read = w.weight_bytes * per,
                     .prec = f.weights,
                     .kind = op_kind::gemm};
  w.attention = op_work{.flops = mid.attention_flops * t * per,
                        .bytes_read = w.kv_bytes_read * per,
                        .bytes_written = mid.kv_bytes_written * t * per,
                        .prec = f.attention,
                        .kind = op_kind::attention};
  w.all_reduce = comm_work{.kind = collective::all_reduce,
                           .bytes = t * m.hidden * bytes_per_element(precision::bf16),
                           .ranks = f.devices};
  return w;
}
} // namespace detail

/// Device time of one forward pass of `m`: `batch` sequences, `tokens_per_sequence` new tokens
/// each, Σ context `sum_context` tokens already cached. @throws config_error on bad shapes.
template <device_cost_model Device>
[[nodiscard]] forward_time forward_time_s(const Device& d, const model::model_config& m,
                                          const forward_config& f, std::int64_t batch,
                                          std::int64_t tokens_per_sequence, double sum_context) {
  detail::layer_work w = detail::forward_layer_work(m, f, batch, tokens_per_sequence, sum_context);
  forward_time r;
  r.linear_s = w.layers * d.op_time_s(w.linear);
  r.attention_s = w.layers * d.op_time_s(w.attention);
  if (f.devices > 1) {
    w.all_reduce.scope =
        f.devices <= d.devices_per_node() ? link_scope::intra_node : link_scope::inter_node;
    r.comm_s = 2.0 * w.layers * d.comm_time_s(w.all_reduce);
  }
  r.flops = w.flops;
  r.weight_bytes = w.weight_bytes;
  r.kv_bytes_read = w.kv_bytes_read;
  return r;
}

/// The architecture of one multi-token-prediction module of `target` (DeepSeek-V3 §2.2): one
/// transformer layer of the target's kind (MoE if the target is) with the target's shared
/// embedding and output head. Its extra 2·hidden → hidden projection goes in
/// forward_config::extra_params (see mtp_forward).
[[nodiscard]] inline model::model_config mtp_module_config(const model::model_config& target) {
  target.validate();
  model::model_config m = target;
  m.name = target.name + "_mtp";
  m.num_layers = 1;
  m.first_k_dense = 0;
  m.full_attention_layers = std::min(m.full_attention_layers, 1);
  m.mtp_layers = 0;
  return m;
}

/// The target's forward layout, plus the MTP projection's 2·hidden² parameters.
[[nodiscard]] inline forward_config mtp_forward(const model::model_config& target,
                                                forward_config target_forward) {
  target_forward.extra_params += 2.0 * static_cast<double>(target.hidden) * target.hidden;
  return target_forward;
}

/// What a speculative step runs: the target and how it is laid out, the draft and how it is
/// laid out. A separate draft model (e.g. Llama-3.2-1B for Llama-3.1-70B) or the target's MTP
/// module (make_mtp_step_config).
struct step_config {
  model::model_config target;
  forward_config target_forward{};
  model::model_config draft;
  forward_config draft_forward{};
};

/// DeepSeek-V3-style MTP drafting: the draft is the target's MTP module on the target's devices.
[[nodiscard]] inline step_config make_mtp_step_config(const model::model_config& target,
                                                      const forward_config& target_forward) {
  return step_config{.target = target,
                     .target_forward = target_forward,
                     .draft = mtp_module_config(target),
                     .draft_forward = mtp_forward(target, target_forward)};
}

/// Cost of one speculative decode step of a batch, against plain decoding.
struct step_cost {
  int gamma = 0;                      ///< draft tokens per sequence per step
  double alpha = 0.0;                 ///< acceptance rate assumed
  double draft_s = 0.0;               ///< γ sequential draft forwards
  double verify_s = 0.0;              ///< one target forward of γ+1 tokens per sequence
  double baseline_step_s = 0.0;       ///< one target forward of 1 token per sequence
  double tokens_per_step = 0.0;       ///< E[N] per sequence, (1 − α^(γ+1)) / (1 − α)
  double tokens_per_s = 0.0;          ///< batch · E[N] / step_s
  double baseline_tokens_per_s = 0.0; ///< batch / baseline_step_s
  double speedup = 0.0;               ///< tokens_per_s / baseline_tokens_per_s
  double article_speedup = 0.0;       ///< 1 / (1 − ᾱ + ᾱ/γ), ᾱ = E[K]/γ (article §3.2)
  double draft_to_target_ratio = 0.0; ///< c = one draft forward / one plain target forward
  /// γ·t_draft + t_verify.
  [[nodiscard]] double step_s() const noexcept { return draft_s + verify_s; }
};

/// KV memory of a batch under speculation, in bytes. Simulators usually count only the first.
struct speculative_kv {
  double target_context_bytes = 0.0; ///< target KV of the accepted context
  double target_window_bytes = 0.0;  ///< target KV of the γ+1 verify-window tokens per sequence,
                                     ///< written before acceptance is known
  double draft_context_bytes = 0.0;  ///< the draft's own KV of the context
  double draft_window_bytes = 0.0;   ///< draft KV of its γ speculative tokens per sequence
  /// Everything resident at the peak of a step.
  [[nodiscard]] double total_bytes() const noexcept {
    return target_context_bytes + target_window_bytes + draft_context_bytes + draft_window_bytes;
  }
  /// What speculation adds over plain decoding.
  [[nodiscard]] double speculative_bytes() const noexcept {
    return total_bytes() - target_context_bytes;
  }
};

/// Aggregate cost of speculative steps on a Device: the function a step-cost engine or serving
/// loop calls with (batch, Σ context, γ, α). Device-generic; heavy work is in non-template code.
template <class Device> class basic_step_cost_model {
  static_assert(device_cost_model<Device>,
                "basic_step_cost_model needs a Device that satisfies device_cost_model.");

public:
  /// @throws config_error if a model config or layout is invalid, or the draft's vocabulary
  /// differs from the target's.
  explicit basic_step_cost_model(step_config cfg, Device device = {})
      : cfg_(std::move(cfg)), device_(std::move(device)) {
    cfg_.target.validate();
    cfg_.draft.validate();
    cfg_.target_forward.validate();
    cfg_.draft_forward.validate();
    if (cfg_.draft.vocab != cfg_.target.vocab)
      throw config_error(
          "speculative::step_cost_model", "draft.vocab",
          fmt::format("({}) must equal target.vocab ({})", cfg_.draft.vocab, cfg_.target.vocab));
  }

  [[nodiscard]] const step_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }

  /// One target forward: `tokens` new tokens per sequence.
  [[nodiscard]] forward_time target_forward(std::int64_t batch, std::int64_t tokens,
                                            double sum_context) const {
    return forward_time_s(device_, cfg_.target, cfg_.target_forward, batch, tokens, sum_context);
  }
  /// One draft forward: one new token per sequence.
  [[nodiscard]] forward_time draft_forward(std::int64_t batch, double sum_context) const {
    return forward_time_s(device_, cfg_.draft, cfg_.draft_forward, batch, 1, sum_context);
  }

  /// Cost of one step of `batch` sequences with Σ context `sum_context`, γ draft tokens and
  /// acceptance rate α. @throws config_error on γ < 1, α outside [0, 1] or a bad shape.
  [[nodiscard]] step_cost cost(std::int64_t batch, double sum_context, int gamma,
                               double alpha) const {
    step_cost s;
    s.gamma = gamma;
    s.alpha = alpha;
    s.tokens_per_step = expected_tokens_per_step(alpha, gamma);
    const double b = static_cast<double>(batch);
    // Draft forward i sees the context plus the i draft tokens already proposed.
    for (int i = 0; i < gamma; ++i)
      s.draft_s += draft_forward(batch, sum_context + i * b).total_s();
    s.verify_s = target_forward(batch, gamma + 1, sum_context).total_s();
    s.baseline_step_s = target_forward(batch, 1, sum_context).total_s();
    s.tokens_per_s = b * s.tokens_per_step / s.step_s();
    s.baseline_tokens_per_s = b / s.baseline_step_s;
    s.speedup = s.tokens_per_s / s.baseline_tokens_per_s;
    s.article_speedup = article_speedup(article_acceptance_rate(alpha, gamma), gamma);
    s.draft_to_target_ratio = draft_forward(batch, sum_context).total_s() / s.baseline_step_s;
    return s;
  }

  /// The γ in [1, max_gamma] with the highest speedup at this batch and α (ties: smaller γ).
  /// When its speedup is below 1, plain decoding is faster.
  [[nodiscard]] step_cost best_gamma(std::int64_t batch, double sum_context, double alpha,
                                     int max_gamma = 8) const {
    if (max_gamma < 1)
      throw config_error("speculative::step_cost_model", "max_gamma",
                         fmt::format("({}) must be >= 1", max_gamma));
    step_cost best = cost(batch, sum_context, 1, alpha);
    for (int g = 2; g <= max_gamma; ++g) {
      step_cost s = cost(batch, sum_context, g, alpha);
      if (s.speedup > best.speedup)
        best = s;
    }
    return best;
  }

  /// KV bytes resident at the peak of a step (see speculative_kv).
  [[nodiscard]] speculative_kv kv_bytes(std::int64_t batch, double sum_context, int gamma) const {
    constexpr std::string_view c = "speculative::step_cost_model";
    check_positive(c, "batch", batch);
    check_non_negative(c, "sum_context", sum_context);
    if (gamma < 1)
      throw config_error(c, "gamma", fmt::format("({}) must be >= 1", gamma));
    const double b = static_cast<double>(batch);
    const auto mean_ctx = static_cast<std::int64_t>(std::llround(sum_context / b));
    speculative_kv kv;
    kv.target_context_bytes =
        b * model::kv_bytes_per_sequence(cfg_.target, mean_ctx, cfg_.target_forward.kv);
    kv.target_window_bytes =
        b * (gamma + 1.0) * model::kv_bytes_per_token(cfg_.target, cfg_.target_forward.kv);
    kv.draft_context_bytes =
        b * model::kv_bytes_per_sequence(cfg_.draft, mean_ctx, cfg_.draft_forward.kv);
    kv.draft_window_bytes = b * static_cast<double>(gamma) *
                            model::kv_bytes_per_token(cfg_.draft, cfg_.draft_forward.kv);
    return kv;
  }

private:
  step_config cfg_;
  Device device_;
};

/// Step-cost model on the default device.
using step_cost_model = basic_step_cost_model<default_device>;

} // namespace infercost::speculative
