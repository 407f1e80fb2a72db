/// @file
/// The cost face of speculative decoding: the device time of a step, γ·t_draft +
/// t_verify(batch, γ+1 tokens per sequence), against plain decoding (one target forward per
/// token); the speedup that follows as a function of batch size; the best γ; and the KV memory
/// that speculation adds (the verify window and the draft's own cache). Everything is aggregate —
/// batch size and Σ context, no per-token loops — so a serving loop can call it every step.
///
/// Every forward pass is timed by the step-cost engine (engine/step_cost.hpp), the library's one
/// forward-pass model: the verify pass is a decode step with γ speculative tokens per sequence;
/// a separate draft model (e.g. Llama-3.2-1B for Llama-3.1-70B) is a second engine on its own
/// layout, one decode step per draft token at a context one token longer each time; without a
/// draft model the target's MTP module drafts (engine layout `mtp_draft`, DeepSeek-V3 §2.2).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "infercost/core/error.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/speculative/analytic.hpp"

namespace infercost::speculative {

/// What a speculative step runs: the target and its layout, and the drafter — a separate draft
/// model on its own layout, or (no draft model) the target's MTP module on the target's devices.
struct step_config {
  model::model_config target;
  engine::parallel_layout target_layout{};
  std::optional<model::model_config> draft{}; ///< none: the target's MTP module drafts
  engine::parallel_layout draft_layout{};     ///< the draft model's layout (when there is one)
};

/// DeepSeek-V3-style MTP drafting: the target's MTP module drafts on the target's devices.
[[nodiscard]] inline step_config make_mtp_step_config(const model::model_config& target,
                                                      const engine::parallel_layout& layout) {
  return step_config{.target = target, .target_layout = layout, .draft = {}, .draft_layout = {}};
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
/// loop calls with (batch, Σ context, γ, α), built on engine::basic_step_cost.
template <device_cost_model Device> class basic_step_cost_model {
public:
  using engine_type = engine::basic_step_cost<Device, attention::full>;

  /// @throws config_error if a model config or layout is invalid, the draft's vocabulary differs
  /// from the target's, or there is no draft model and the target has no MTP module.
  explicit basic_step_cost_model(step_config cfg, Device device = {})
      : cfg_(std::move(cfg)), target_(cfg_.target, with_mtp(cfg_), {}, device) {
    if (cfg_.draft) {
      if (cfg_.draft->vocab != cfg_.target.vocab)
        throw config_error(
            "speculative::step_cost_model", "draft.vocab",
            fmt::format("({}) must equal target.vocab ({})", cfg_.draft->vocab, cfg_.target.vocab));
      draft_.emplace(*cfg_.draft, cfg_.draft_layout, attention::full_config{}, device);
    }
  }

  [[nodiscard]] const step_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const Device& device() const noexcept { return target_.device(); }
  /// The target's engine (with its MTP draft when there is no draft model).
  [[nodiscard]] const engine_type& target_engine() const noexcept { return target_; }

  /// One target forward of `batch` sequences with `tokens` new tokens each after Σ context
  /// `sum_context` (tokens − 1 of them draft tokens being verified); the MTP draft is left out.
  /// @throws config_error on batch < 1, tokens < 1 or a negative context.
  [[nodiscard]] engine::step_breakdown target_forward(std::int64_t batch, std::int64_t tokens,
                                                      double sum_context) const {
    constexpr std::string_view c = "speculative::step_cost_model";
    check_positive(c, "batch", batch);
    check_positive(c, "tokens", tokens);
    check_non_negative(c, "sum_context", sum_context);
    engine::step_batch b;
    b.totals.decode_sequences = static_cast<double>(batch);
    b.totals.decode_context_sum = sum_context;
    b.speculative_tokens = static_cast<int>(tokens - 1);
    engine::step_breakdown r = target_(b);
    r.total_s -= r.draft_s;
    r.draft_s = 0.0;
    return r;
  }

  /// Time of drafting one token for `batch` sequences at Σ context `sum_context`: one decode
  /// step of the draft model, or one pass of the target's MTP module.
  /// @throws config_error on batch < 1 or a negative context.
  [[nodiscard]] double draft_forward_s(std::int64_t batch, double sum_context) const {
    constexpr std::string_view c = "speculative::step_cost_model";
    check_positive(c, "batch", batch);
    check_non_negative(c, "sum_context", sum_context);
    engine::step_batch b;
    b.totals.decode_sequences = static_cast<double>(batch);
    b.totals.decode_context_sum = sum_context;
    if (draft_)
      return (*draft_)(b).total_s;
    b.speculative_tokens = 1;
    return target_(b).draft_s;
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
    // Draft token i sees the context plus the i draft tokens already proposed.
    for (int i = 0; i < gamma; ++i)
      s.draft_s += draft_forward_s(batch, sum_context + i * b);
    s.verify_s = target_forward(batch, gamma + 1, sum_context).total_s;
    s.baseline_step_s = target_forward(batch, 1, sum_context).total_s;
    s.tokens_per_s = b * s.tokens_per_step / s.step_s();
    s.baseline_tokens_per_s = b / s.baseline_step_s;
    s.speedup = s.tokens_per_s / s.baseline_tokens_per_s;
    s.article_speedup = article_speedup(article_acceptance_rate(alpha, gamma), gamma);
    s.draft_to_target_ratio = draft_forward_s(batch, sum_context) / s.baseline_step_s;
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

  /// KV bytes resident at the peak of a step (see speculative_kv). An MTP module caches one
  /// layer of KV.
  [[nodiscard]] speculative_kv kv_bytes(std::int64_t batch, double sum_context, int gamma) const {
    constexpr std::string_view c = "speculative::step_cost_model";
    check_positive(c, "batch", batch);
    check_non_negative(c, "sum_context", sum_context);
    if (gamma < 1)
      throw config_error(c, "gamma", fmt::format("({}) must be >= 1", gamma));
    const double b = static_cast<double>(batch);
    const auto mean_ctx = static_cast<std::int64_t>(std::llround(sum_context / b));
    const model::model_config drafter = cfg_.draft ? *cfg_.draft : model::mtp_module(cfg_.target);
    const precision target_kv = cfg_.target_layout.kv_prec;
    const precision draft_kv = cfg_.draft ? cfg_.draft_layout.kv_prec : target_kv;
    speculative_kv kv;
    kv.target_context_bytes = b * model::kv_bytes_per_sequence(cfg_.target, mean_ctx, target_kv);
    kv.target_window_bytes = b * (gamma + 1.0) * model::kv_bytes_per_token(cfg_.target, target_kv);
    kv.draft_context_bytes = b * model::kv_bytes_per_sequence(drafter, mean_ctx, draft_kv);
    kv.draft_window_bytes =
        b * static_cast<double>(gamma) * model::kv_bytes_per_token(drafter, draft_kv);
    return kv;
  }

private:
  /// The target's layout, drafting with its MTP module when there is no draft model.
  static engine::parallel_layout with_mtp(const step_config& c) {
    engine::parallel_layout l = c.target_layout;
    l.mtp_draft = !c.draft.has_value();
    return l;
  }

  step_config cfg_;
  engine_type target_;
  std::optional<engine_type> draft_;
};

/// Step-cost model on the default device.
using step_cost_model = basic_step_cost_model<default_device>;

} // namespace infercost::speculative
