/// @file
/// The `language_model` concept a speculative decoder drafts and verifies with, and seeded toy
/// models over real probability vectors: a hashed n-gram (Markov) target and drafts derived from
/// it whose agreement with the target — the acceptance rate α = Σ_x min(p(x), q(x)) — is set
/// exactly per state or by a fixed noise mixture and temperature.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/model/presets.hpp"

namespace infercost::speculative {

/// A token id in [0, vocabulary size).
using token = std::int32_t;

/// A model a speculative decoder can draft or verify with: the next-token distribution for a
/// context (a probability vector of `vocab_size()` entries, summing to 1), and the architecture
/// whose device cost the cost face charges for one forward pass.
template <class M>
concept language_model = requires(const M& m, std::span<const token> context) {
  { m.vocab_size() } -> std::convertible_to<std::size_t>;
  { m.next_distribution(context) } -> std::convertible_to<const Eigen::VectorXd&>;
  { m.cost_config() } -> std::convertible_to<const model::model_config&>;
};

/// Largest |Σp − 1| a distribution may have before it is rejected as not normalised.
inline constexpr double distribution_tolerance = 1e-9;

/// Throws config_error unless `p` is non-empty, every entry is finite and >= 0, and its sum is 1
/// within `tolerance`. Messages: `<component>: <field>[i] (-0.1) must be >= 0`,
/// `<component>: sum(<field>) (1.2) must be 1 within 1e-09`.
///
/// The Eigen code of this header sits in templates, instantiated only where a program uses it:
/// a non-template inline function would compile it in every translation unit that includes the
/// header.
template <class Derived>
void check_distribution(std::string_view component, std::string_view field,
                        const Eigen::MatrixBase<Derived>& p,
                        double tolerance = distribution_tolerance) {
  if (p.size() == 0)
    throw config_error(component, field, "(empty) must be non-empty");
  for (Eigen::Index i = 0; i < p.size(); ++i) {
    if (!std::isfinite(p[i]) || p[i] < 0.0)
      throw config_error(component, fmt::format("{}[{}]", field, i),
                         fmt::format("({}) must be finite and >= 0", p[i]));
  }
  const double s = p.sum();
  if (!(std::abs(s - 1.0) <= tolerance))
    throw config_error(component, fmt::format("sum({})", field),
                       fmt::format("({}) must be 1 within {}", s, tolerance));
}

/// Acceptance rate of drafting from q and verifying against p by rejection sampling:
/// α = Σ_x min(p(x), q(x)) = 1 − TV(p, q) (Leviathan, Kalman & Matias 2023, Definition 3.1).
/// @throws config_error if the sizes differ.
template <class P, class Q>
[[nodiscard]] double acceptance_rate(const Eigen::MatrixBase<P>& p, const Eigen::MatrixBase<Q>& q) {
  if (p.size() != q.size())
    throw config_error("speculative::acceptance_rate", "q.size",
                       fmt::format("({}) must equal p.size ({})", q.size(), p.size()));
  return p.cwiseMin(q).sum();
}

/// Cost description of Llama-3.2-1B, the usual draft for Llama-3 targets (same tokenizer,
/// vocabulary 128256). meta-llama/Llama-3.2-1B config.json: hidden_size 2048, 16 layers, 32
/// heads, 8 KV heads, head_dim 64, intermediate_size 8192, vocab_size 128256,
/// tie_word_embeddings true. ≈1.24B parameters.
[[nodiscard]] inline model::model_config llama32_1b() {
  return model::model_config{.name = "llama32_1b",
                             .hidden = 2048,
                             .num_layers = 16,
                             .vocab = 128256,
                             .tie_embeddings = true,
                             .num_heads = 32,
                             .num_kv_heads = 8,
                             .head_dim = 64,
                             .intermediate = 8192};
}

/// Shape of a hashed n-gram model: the last `order` tokens of the context, hashed into one of
/// `states` buckets, select a next-token distribution. `states` rows of `vocab` probabilities,
/// each a softmax of `sharpness` × standard normal logits drawn from `seed`.
struct ngram_config {
  std::size_t vocab = 1000; ///< V, tokens in the vocabulary
  int order = 2;            ///< context tokens that select the state (Markov order)
  std::size_t states = 64;  ///< distinct next-token distributions (hash buckets)
  double sharpness = 2.0;   ///< logit scale: larger is peakier (lower entropy)
  std::uint64_t seed = 1;   ///< seed of the logits
  model::model_config cost = model::presets::llama3_70b(); ///< architecture charged per forward

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "speculative::ngram_model";
    check_positive(c, "vocab", vocab);
    check_positive(c, "order", order);
    check_positive(c, "states", states);
    check_positive(c, "sharpness", sharpness);
  }
};

/// A hashed n-gram language model over V tokens with an explicit table of next-token
/// distributions (one Eigen vector per state). Deterministic: the same config gives the same
/// table, bit for bit.
class ngram_model {
public:
  /// Random rows: softmax(sharpness · z), z ~ N(0, 1) per token, from `cfg.seed`.
  /// @throws config_error on a bad config.
  /// (`Vector`, always Eigen::VectorXd, makes this a template: see check_distribution.)
  template <class Vector = Eigen::VectorXd>
  explicit ngram_model(const ngram_config& cfg) : cfg_(cfg) {
    cfg_.validate();
    rng g(cfg_.seed);
    rows_.reserve(cfg_.states);
    for (std::size_t s = 0; s < cfg_.states; ++s)
      rows_.push_back(random_row<Vector>(cfg_.vocab, cfg_.sharpness, g));
  }

  /// Explicit rows (one per state; `cfg.states` and `cfg.vocab` are taken from them).
  /// @throws config_error if rows are empty, of different sizes, or not distributions.
  template <class Vector = Eigen::VectorXd>
  ngram_model(ngram_config cfg, std::vector<Vector> rows)
      : cfg_(std::move(cfg)), rows_(std::move(rows)) {
    constexpr std::string_view c = "speculative::ngram_model";
    if (rows_.empty())
      throw config_error(c, "rows", "(empty) must be non-empty");
    cfg_.states = rows_.size();
    cfg_.vocab = static_cast<std::size_t>(rows_.front().size());
    cfg_.validate();
    for (std::size_t s = 0; s < rows_.size(); ++s) {
      if (static_cast<std::size_t>(rows_[s].size()) != cfg_.vocab)
        throw config_error(
            c, fmt::format("rows[{}].size", s),
            fmt::format("({}) must equal rows[0].size ({})", rows_[s].size(), cfg_.vocab));
      check_distribution(c, fmt::format("rows[{}]", s), rows_[s]);
    }
  }

  /// A softmax(sharpness · z) row of `vocab` entries, z ~ N(0, 1) drawn from `g`.
  template <class Vector = Eigen::VectorXd>
  [[nodiscard]] static Vector random_row(std::size_t vocab, double sharpness, rng& g) {
    Vector logits(static_cast<Eigen::Index>(vocab));
    for (Eigen::Index i = 0; i < logits.size(); ++i)
      logits[i] = sharpness * g.normal();
    const double mx = logits.maxCoeff();
    Vector p = (logits.array() - mx).exp().matrix();
    p /= p.sum();
    return p;
  }

  /// V.
  [[nodiscard]] std::size_t vocab_size() const noexcept { return cfg_.vocab; }
  /// Number of distinct next-token distributions.
  [[nodiscard]] std::size_t num_states() const noexcept { return rows_.size(); }
  /// Markov order: how many trailing context tokens select the state.
  [[nodiscard]] int order() const noexcept { return cfg_.order; }
  /// The configuration (with `states` and `vocab` as built).
  [[nodiscard]] const ngram_config& config() const noexcept { return cfg_; }
  /// Architecture charged by the cost face for one forward pass of this model.
  [[nodiscard]] const model::model_config& cost_config() const noexcept { return cfg_.cost; }

  /// State selected by the last `order` tokens of `context` (missing tokens hash as −1).
  [[nodiscard]] std::size_t state_of(std::span<const token> context) const noexcept {
    std::uint64_t h = 0x243f6a8885a308d3ULL;
    const auto n = static_cast<std::ptrdiff_t>(context.size());
    for (std::ptrdiff_t k = n - cfg_.order; k < n; ++k) {
      const std::int64_t t = k >= 0 ? context[static_cast<std::size_t>(k)] : -1;
      h ^= static_cast<std::uint64_t>(t) + 0x9e3779b97f4a7c15ULL;
      h = splitmix64(h);
    }
    return static_cast<std::size_t>(h % rows_.size());
  }

  /// The next-token distribution of state s.
  [[nodiscard]] const Eigen::VectorXd& row(std::size_t s) const {
    INFERCOST_ASSERT(s < rows_.size(), "state out of range");
    return rows_[s];
  }

  /// p(· | context): a vector of V probabilities summing to 1, valid while the model lives.
  [[nodiscard]] const Eigen::VectorXd& next_distribution(std::span<const token> context) const {
    return rows_[state_of(context)];
  }

private:
  ngram_config cfg_;
  std::vector<Eigen::VectorXd> rows_;
};

/// How a draft is derived from a target, state by state: the target row p is sharpened or
/// flattened by `temperature` (p^(1/τ), renormalised) and mixed with a seeded noise row n:
/// q = (1 − ε)·T_τ(p) + ε·n. With `per_state_alpha` the weight ε is solved in every state so
/// that Σ min(p, q) equals `alpha` exactly (to 1e-12), which makes acceptances i.i.d. Bernoulli(α)
/// — the assumption under which (1 − α^(γ+1)) / (1 − α) holds. Otherwise ε = `mixture`
/// everywhere and α varies from state to state.
struct draft_config {
  double alpha = 0.8;           ///< per-state acceptance rate, in [0, 1] (per_state_alpha)
  bool per_state_alpha = true;  ///< solve ε per state for `alpha`; else use `mixture`
  double mixture = 0.2;         ///< ε in [0, 1] when !per_state_alpha
  double temperature = 1.0;     ///< τ > 0 applied to p before mixing
  double noise_sharpness = 3.0; ///< logit scale of the noise rows
  std::uint64_t seed = 2;       ///< seed of the noise rows
  model::model_config cost = llama32_1b(); ///< architecture charged per draft forward

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "speculative::make_draft";
    check_in_range(c, "alpha", alpha, 0.0, 1.0);
    check_in_range(c, "mixture", mixture, 0.0, 1.0);
    check_positive(c, "temperature", temperature);
    check_positive(c, "noise_sharpness", noise_sharpness);
  }
};

namespace detail {
/// p^(1/τ), renormalised (computed in log space).
template <class Vector> Vector tempered(const Vector& p, double temperature) {
  if (temperature == 1.0)
    return p;
  Vector l = (p.array().max(1e-300).log() / temperature).matrix();
  const double mx = l.maxCoeff();
  Vector q = (l.array() - mx).exp().matrix();
  q /= q.sum();
  return q;
}
} // namespace detail

/// A draft over the target's vocabulary and states, derived by `cfg` (see draft_config).
/// @throws config_error on a bad config, or naming `alpha` and the reachable range when a
/// state cannot reach the requested acceptance rate.
/// (`Vector`, always Eigen::VectorXd, makes this a template: see check_distribution.)
template <class Vector = Eigen::VectorXd>
[[nodiscard]] ngram_model make_draft(const ngram_model& target, const draft_config& cfg) {
  cfg.validate();
  constexpr std::string_view c = "speculative::make_draft";
  rng g(cfg.seed);
  std::vector<Vector> rows;
  rows.reserve(target.num_states());
  for (std::size_t s = 0; s < target.num_states(); ++s) {
    const Vector& p = target.row(s);
    const Vector base = detail::tempered(p, cfg.temperature);
    const Vector noise =
        ngram_model::random_row<Vector>(target.vocab_size(), cfg.noise_sharpness, g);
    auto mix = [&](double eps) -> Vector {
      Vector q = ((1.0 - eps) * base + eps * noise).eval();
      q /= q.sum();
      return q;
    };
    double eps = cfg.mixture;
    if (cfg.per_state_alpha) {
      // α(ε) = Σ min(p, (1−ε)·T(p) + ε·n) is continuous and, for τ = 1, non-increasing in ε;
      // bisection on [0, 1] finds the ε with α(ε) = alpha.
      const double hi_alpha = acceptance_rate(p, mix(0.0));
      const double lo_alpha = acceptance_rate(p, mix(1.0));
      if (cfg.alpha > hi_alpha + 1e-12 || cfg.alpha < lo_alpha - 1e-12)
        throw config_error(c, "alpha",
                           fmt::format("({}) must be reachable in state {}: in [{}, {}]", cfg.alpha,
                                       s, lo_alpha, hi_alpha));
      double lo = 0.0, hi = 1.0;
      for (int it = 0; it < 100 && hi - lo > 1e-15; ++it) {
        const double mid = 0.5 * (lo + hi);
        (acceptance_rate(p, mix(mid)) > cfg.alpha ? lo : hi) = mid;
      }
      eps = 0.5 * (lo + hi);
    }
    rows.push_back(mix(eps));
  }
  ngram_config dc = target.config();
  dc.cost = cfg.cost;
  dc.seed = cfg.seed;
  return ngram_model(std::move(dc), std::move(rows));
}

} // namespace infercost::speculative
