/// @file
/// `basic_decoder<Device, Draft, Target, Verify>`: speculative decoding over real distributions.
/// Each step the draft proposes γ tokens autoregressively; the target's γ+1 next-token
/// distributions (what one parallel forward pass over the drafted window yields) verify them by
/// the Verify policy; the accepted prefix and one more token are appended. The decoder counts
/// what it did — steps, tokens, acceptances, speculative KV slots written and rolled back — and
/// its cost face prices a step of a batch on `Device` from the two models' configs.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/fwd.hpp"
#include "infercost/speculative/analytic.hpp"
#include "infercost/speculative/cost.hpp"
#include "infercost/speculative/language_model.hpp"
#include "infercost/speculative/verify.hpp"

namespace infercost::speculative {

/// Decoder numbers.
struct decoder_config {
  int gamma = 4; ///< draft tokens per step, >= 1

  /// @throws config_error if γ < 1.
  void validate() const {
    if (gamma < 1)
      throw config_error("speculative::decoder", "gamma", fmt::format("({}) must be >= 1", gamma));
  }
};

/// Counters of the steps a decoder ran. Conservation: emitted = accepted + steps;
/// window_kv_rolled_back = steps·γ − accepted (draft tokens whose KV slots were written by the
/// verify pass and discarded).
struct decode_stats {
  std::int64_t steps = 0;                 ///< verification steps
  std::int64_t emitted = 0;               ///< tokens appended to sequences
  std::int64_t accepted = 0;              ///< draft tokens kept
  std::int64_t examined = 0;              ///< draft tokens tested (accepted + rejections)
  double sum_emitted_sq = 0.0;            ///< Σ N² over steps, for the sample variance
  std::int64_t window_kv_written = 0;     ///< target KV slots written: (γ+1) per step
  std::int64_t window_kv_rolled_back = 0; ///< of those, rejected draft slots: γ − K per step
  std::vector<std::int64_t> reached;      ///< per draft position: steps that tested it
  std::vector<std::int64_t> accepted_at;  ///< per draft position: steps that accepted it

  /// Mean tokens per step, N̄.
  [[nodiscard]] double mean_emitted() const noexcept {
    return steps > 0 ? static_cast<double>(emitted) / static_cast<double>(steps)
                     : std::numeric_limits<double>::quiet_NaN();
  }
  /// Unbiased sample variance of N, s² = (Σ N² − n·N̄²) / (n − 1).
  [[nodiscard]] double sample_variance_emitted() const noexcept {
    if (steps < 2)
      return std::numeric_limits<double>::quiet_NaN();
    const double n = static_cast<double>(steps), m = mean_emitted();
    return (sum_emitted_sq - n * m * m) / (n - 1.0);
  }
  /// Standard error of N̄: s / √n.
  [[nodiscard]] double standard_error_emitted() const noexcept {
    return std::sqrt(sample_variance_emitted() / static_cast<double>(steps));
  }
  /// Measured per-position acceptance: accepted_at[i] / reached[i], the profile a serving
  /// simulation draws from (serving::speculative_config::acceptance). @throws config_error if a
  /// position was never tested (run more steps).
  [[nodiscard]] acceptance_profile measured_profile() const {
    std::vector<double> rates(reached.size());
    for (std::size_t i = 0; i < reached.size(); ++i) {
      if (reached[i] == 0)
        throw config_error("speculative::decode_stats", fmt::format("reached[{}]", i),
                           "(0) must be > 0: no step tested this draft position");
      rates[i] = static_cast<double>(accepted_at[i]) / static_cast<double>(reached[i]);
    }
    return acceptance_profile(std::move(rates));
  }
  /// Measured per-token acceptance rate: accepted / examined (the maximum-likelihood α of a
  /// truncated geometric).
  [[nodiscard]] double acceptance() const noexcept {
    return examined > 0 ? static_cast<double>(accepted) / static_cast<double>(examined)
                        : std::numeric_limits<double>::quiet_NaN();
  }
};

/// Speculative decoder over real distributions. `Draft` and `Target` satisfy language_model;
/// `Verify` is rejection_sampling (exact) or greedy. The decoder refers to the two models, which
/// must outlive it.
template <class Device, class Draft, class Target, class Verify> class basic_decoder {
  static_assert(device_cost_model<Device>,
                "basic_decoder needs a Device that satisfies device_cost_model.");
  static_assert(language_model<Draft>, "basic_decoder needs a Draft that is a language_model.");
  static_assert(language_model<Target>, "basic_decoder needs a Target that is a language_model.");
  static_assert(verify_policy<Verify>,
                "basic_decoder needs a Verify policy such as rejection_sampling or greedy.");

public:
  /// @throws config_error if γ < 1 or the vocabularies differ.
  basic_decoder(const Draft& draft, const Target& target, decoder_config cfg = {},
                Device device = {})
      : draft_(&draft), target_(&target), cfg_(cfg), device_(std::move(device)) {
    cfg_.validate();
    if (draft.vocab_size() != target.vocab_size())
      throw config_error("speculative::decoder", "draft.vocab_size",
                         fmt::format("({}) must equal target.vocab_size ({})", draft.vocab_size(),
                                     target.vocab_size()));
    const auto g = static_cast<std::size_t>(cfg_.gamma);
    q_.resize(g);
    p_.resize(g + 1);
    drafted_.resize(g);
  }

  [[nodiscard]] const decoder_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const decode_stats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

  /// One step on `sequence` (prompt plus everything generated so far): appends the accepted
  /// draft tokens and the correction or bonus token. @throws config_error if a model returns a
  /// distribution of the wrong size.
  verify_result step(std::vector<token>& sequence, rng& g) {
    const std::size_t start = sequence.size();
    const auto gamma = static_cast<std::size_t>(cfg_.gamma);
    for (std::size_t i = 0; i < gamma; ++i) {
      q_[i] = draft_->next_distribution(std::span<const token>(sequence));
      check_size("draft", q_[i]);
      drafted_[i] = Verify::propose(q_[i], g);
      sequence.push_back(drafted_[i]);
    }
    // The target's forward over the window: its distribution after each prefix of the draft.
    for (std::size_t i = 0; i <= gamma; ++i) {
      p_[i] = target_->next_distribution(std::span<const token>(sequence.data(), start + i));
      check_size("target", p_[i]);
    }
    const verify_result r = Verify::verify(p_, q_, drafted_, g, scratch_);
    sequence.resize(start + static_cast<std::size_t>(r.accepted));
    sequence.push_back(r.next);
    const auto n = static_cast<std::int64_t>(r.emitted());
    ++stats_.steps;
    stats_.emitted += n;
    stats_.accepted += r.accepted;
    stats_.examined += r.accepted < cfg_.gamma ? r.accepted + 1 : r.accepted;
    stats_.sum_emitted_sq += static_cast<double>(n * n);
    stats_.reached.resize(gamma, 0);
    stats_.accepted_at.resize(gamma, 0);
    for (std::size_t i = 0; i < gamma && static_cast<int>(i) <= r.accepted; ++i) {
      ++stats_.reached[i];
      stats_.accepted_at[i] += static_cast<int>(i) < r.accepted ? 1 : 0;
    }
    stats_.window_kv_written += cfg_.gamma + 1;
    stats_.window_kv_rolled_back += cfg_.gamma - r.accepted;
    return r;
  }

  /// Runs `steps` steps on `sequence`. @throws config_error if steps < 0.
  const decode_stats& run(std::vector<token>& sequence, std::int64_t steps, rng& g) {
    check_non_negative("speculative::decoder", "steps", steps);
    for (std::int64_t s = 0; s < steps; ++s)
      step(sequence, g);
    return stats_;
  }

  /// Cost face: the step-cost model of these two models' configs on this decoder's Device, each
  /// on its own layout.
  [[nodiscard]] basic_step_cost_model<Device>
  cost_model(const engine::parallel_layout& target_layout = {},
             const engine::parallel_layout& draft_layout = {}) const {
    return basic_step_cost_model<Device>(step_config{.target = target_->cost_config(),
                                                     .target_layout = target_layout,
                                                     .draft = draft_->cost_config(),
                                                     .draft_layout = draft_layout},
                                         device_);
  }

  /// Cost of one step of `batch` sequences at Σ context `sum_context`, with this decoder's γ and
  /// the acceptance rate it has measured so far (or `alpha` if given in [0, 1]).
  [[nodiscard]] step_cost step_cost_of(std::int64_t batch, double sum_context,
                                       double alpha = -1.0) const {
    const double a = alpha >= 0.0 ? alpha : stats_.acceptance();
    return cost_model().cost(batch, sum_context, cfg_.gamma, a);
  }

private:
  void check_size(std::string_view which, const Eigen::VectorXd& v) const {
    if (static_cast<std::size_t>(v.size()) != target_->vocab_size())
      throw config_error(
          "speculative::decoder", fmt::format("{}.next_distribution.size", which),
          fmt::format("({}) must equal vocab_size ({})", v.size(), target_->vocab_size()));
  }

  const Draft* draft_;
  const Target* target_;
  decoder_config cfg_;
  Device device_;
  std::vector<Eigen::VectorXd> q_, p_;
  std::vector<token> drafted_;
  Eigen::VectorXd scratch_;
  decode_stats stats_;
};

/// The common case: exact speculative sampling between two n-gram models, costed on the default
/// device.
using decoder = basic_decoder<default_device, ngram_model, ngram_model>;

} // namespace infercost::speculative
