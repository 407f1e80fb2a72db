/// @file
/// The MoE router: which experts each token uses and with what weight.
///
/// `basic_router<Device, Scoring, Selection, Capacity>` turns a tokens × hidden matrix into
/// per-token experts and combine weights, per-expert loads and capacity drops:
/// 1. logits = X · Gᵀ (G is the num_experts × hidden gate matrix, as `gate.weight` in HF models);
/// 2. **Scoring** maps a row of logits to affinities (the combine-weight source) and choice scores
///    (the selection key): `softmax_scoring` (Mixtral, Qwen: both are softmax(logits)) or
///    `sigmoid_bias_scoring` (DeepSeek-V3 §2.1.2: affinity σ(logit), choice σ(logit) + b_i with
///    a per-expert bias used only for selection, moved by the auxiliary-loss-free update);
/// 3. **Selection** picks top_k experts by choice score: `topk_selection`, or
///    `group_limited_topk` (DeepSeek-V3: experts in n_group groups, a group scores the sum of
///    its top-2 choice scores, the topk_group best groups are kept, top_k experts chosen inside
///    them). Ties go to the lower expert (and group) index, so routing is deterministic;
/// 4. combine weights are the selected affinities, renormalised to sum to 1 when
///    norm_topk_prob, then multiplied by routed_scaling_factor;
/// 5. **Capacity**: `unlimited_capacity`, or `limited_capacity` with capacity =
///    ceil(tokens · top_k / num_experts · capacity_factor) (Switch Transformer, Fedus et al. 2022,
///    eq. 3). Assignments are admitted in GShard order (Lepikhin et al. 2021, Alg. 1): every
///    token's first choice before any second choice, tokens in order within a choice rank; an
///    assignment over capacity is dropped and the token's share goes through the residual path.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/work.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/moe/balance.hpp"
#include "infercost/moe/policies.hpp"

namespace infercost::moe {

/// Row-major dynamic matrix: rows are tokens, columns are features.
template <class Scalar>
using row_matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace detail {
using score_fn = void (*)(std::span<const double>, std::span<const double>, std::span<double>,
                          std::span<double>);
using select_fn = void (*)(std::span<const double>, const router_config&, std::span<int>,
                           selection_scratch&);

/// Routes a tokens × num_experts matrix of logits (shape-independent core of every router: one
/// instantiation, whatever the policies; a template only so that it is compiled where a program
/// routes, not wherever this header is included).
template <class = void>
routing route_logits(const row_matrix<double>& logits, const router_config& cfg,
                     std::span<const double> bias, std::int64_t capacity, score_fn score,
                     select_fn select) {
  const int e = cfg.num_experts, k = cfg.top_k;
  const std::int64_t t_count = logits.rows();
  routing r;
  r.tokens = t_count;
  r.top_k = k;
  r.num_experts = e;
  r.num_shared_experts = cfg.num_shared_experts;
  r.capacity = capacity;
  const auto slots = static_cast<std::size_t>(t_count * k);
  r.expert.resize(slots);
  r.weight.resize(slots);
  r.kept.assign(slots, 1);
  r.demand.assign(static_cast<std::size_t>(e), 0);
  r.load.assign(static_cast<std::size_t>(e), 0);
  r.dropped.assign(static_cast<std::size_t>(e), 0);
  r.mean_affinity.assign(static_cast<std::size_t>(e), 0.0);
  std::vector<double> affinity(static_cast<std::size_t>(e)), choice(static_cast<std::size_t>(e));
  selection_scratch scratch;
  for (std::int64_t t = 0; t < t_count; ++t) {
    const std::span<const double> row(logits.data() + t * e, static_cast<std::size_t>(e));
    score(row, bias, affinity, choice);
    const std::span<int> out(r.expert.data() + t * k, static_cast<std::size_t>(k));
    select(choice, cfg, out, scratch);
    double denom = 0.0, total = 0.0;
    for (int j = 0; j < k; ++j)
      denom += affinity[static_cast<std::size_t>(out[static_cast<std::size_t>(j)])];
    for (int i = 0; i < e; ++i)
      total += affinity[static_cast<std::size_t>(i)];
    // DeepSeek-V3 adds 1e-20 to the denominator; affinities here are > 0 unless they underflow.
    const double norm = cfg.norm_topk_prob ? 1.0 / (denom + 1e-20) : 1.0;
    for (int j = 0; j < k; ++j) {
      const auto x = static_cast<std::size_t>(out[static_cast<std::size_t>(j)]);
      r.weight[static_cast<std::size_t>(t * k + j)] =
          affinity[x] * norm * cfg.routed_scaling_factor;
      ++r.demand[x];
    }
    for (int i = 0; i < e; ++i)
      r.mean_affinity[static_cast<std::size_t>(i)] += affinity[static_cast<std::size_t>(i)] / total;
  }
  if (t_count > 0)
    for (double& p : r.mean_affinity)
      p /= static_cast<double>(t_count);
  if (capacity < 0) {
    r.load = r.demand;
    return r;
  }
  for (int j = 0; j < k; ++j)
    for (std::int64_t t = 0; t < t_count; ++t) {
      const auto s = static_cast<std::size_t>(t * k + j);
      const auto x = static_cast<std::size_t>(r.expert[s]);
      if (r.load[x] < capacity) {
        ++r.load[x];
      } else {
        r.kept[s] = 0;
        ++r.dropped[x];
      }
    }
  return r;
}

/// Throws unless every entry of `m` is finite; `what` names the matrix.
template <class Scalar>
void check_all_finite(std::string_view component, std::string_view what,
                      const row_matrix<Scalar>& m) {
  if (m.allFinite())
    return;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      if (!std::isfinite(m(i, j)))
        throw config_error(component, fmt::format("{}({}, {})", what, i, j),
                           fmt::format("({}) must be finite", static_cast<double>(m(i, j))));
}
} // namespace detail

/// Logits of a synthetic skewed stream: logit_i = log p_i + Gumbel noise, drawn from `g`. The
/// top-k of each row is then a sample of k distinct experts without replacement with
/// probabilities ∝ p (the Gumbel-top-k trick; Kool, van Hoof & Welling, ICML 2019), so any
/// top-k router fed these logits routes a stream whose expert popularity is p.
/// @throws config_error if p is empty, has a negative entry or sums to 0.
[[nodiscard]] inline row_matrix<double> skewed_logits(std::int64_t tokens,
                                                      std::span<const double> popularity, rng& g) {
  constexpr std::string_view c = "moe::skewed_logits";
  check_non_negative(c, "tokens", tokens);
  detail::check_loads(c, popularity);
  check_positive(c, "sum(popularity)", detail::sum_of(popularity));
  const auto e = static_cast<Eigen::Index>(popularity.size());
  row_matrix<double> l(tokens, e);
  for (std::int64_t t = 0; t < tokens; ++t)
    for (Eigen::Index i = 0; i < e; ++i) {
      double u = g.uniform01();
      while (u <= 0.0)
        u = g.uniform01();
      const double p = popularity[static_cast<std::size_t>(i)];
      // An expert of popularity 0 is never chosen before a positive one: a very low logit.
      l(t, i) = (p > 0.0 ? std::log(p) : -1e30) - std::log(-std::log(u));
    }
  return l;
}

/// A router with scoring, selection and capacity policies (infercost/concepts.hpp), on `Device`
/// (for its cost face). Holds the gate matrix (num_experts × hidden) and the selection bias.
template <device_cost_model Device, scoring_policy Scoring, selection_policy Selection,
          capacity_policy Capacity>
class basic_router {
public:
  using device_type = Device;
  using scoring_type = Scoring;
  using selection_type = Selection;
  using capacity_type = Capacity;
  /// The tag of this router's policies, for the cost face: `layer_cost_model(..., policy_type{})`.
  using policy_type = router_policy<Scoring, Selection, Capacity>;

  /// A router with gate matrix `gate` (num_experts × hidden). @throws config_error if the config
  /// is invalid, the gate's shape does not match or it holds a non-finite value.
  basic_router(const router_config& cfg, const row_matrix<double>& gate, Device device = {})
      : cfg_(cfg), device_(std::move(device)) {
    cfg_.validate();
    if (cfg_.hidden == 0)
      cfg_.hidden = static_cast<int>(gate.cols());
    set_gate(gate);
    bias_.assign(static_cast<std::size_t>(cfg_.num_experts), 0.0);
  }

  /// A router whose gate entries are N(0, 1/hidden), drawn from `seed` (the article's
  /// initialisation). @throws config_error if cfg.hidden is not positive.
  static basic_router with_random_gate(const router_config& cfg, std::uint64_t seed,
                                       Device device = {}) {
    check_positive("moe::router", "hidden", cfg.hidden);
    check_positive("moe::router", "num_experts", cfg.num_experts);
    rng g(seed);
    row_matrix<double> gate(cfg.num_experts, cfg.hidden);
    const double sd = 1.0 / std::sqrt(static_cast<double>(cfg.hidden));
    for (Eigen::Index i = 0; i < gate.size(); ++i)
      gate.data()[i] = g.normal(0.0, sd);
    return basic_router(cfg, gate, std::move(device));
  }

  [[nodiscard]] const router_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }
  [[nodiscard]] const row_matrix<double>& gate() const noexcept { return gate_; }
  /// Per-expert selection bias (used by sigmoid_bias_scoring only).
  [[nodiscard]] const std::vector<double>& bias() const noexcept { return bias_; }

  /// Replaces the gate. @throws config_error on a shape mismatch or a non-finite entry.
  void set_gate(const row_matrix<double>& gate) {
    if (gate.rows() != cfg_.num_experts || gate.cols() != cfg_.hidden)
      throw config_error("moe::router", "gate",
                         fmt::format("({} x {}) must be num_experts x hidden ({} x {})",
                                     gate.rows(), gate.cols(), cfg_.num_experts, cfg_.hidden));
    detail::check_all_finite<double>("moe::router", "gate", gate);
    gate_ = gate;
    gate_f_ = gate.cast<float>();
  }

  /// Replaces the selection bias. @throws config_error on a size mismatch or non-finite value.
  void set_bias(std::span<const double> bias) {
    if (bias.size() != static_cast<std::size_t>(cfg_.num_experts))
      throw config_error("moe::router", "bias",
                         fmt::format("(size {}) must have num_experts ({}) entries", bias.size(),
                                     cfg_.num_experts));
    for (double b : bias)
      check_finite("moe::router", "bias", b);
    bias_.assign(bias.begin(), bias.end());
  }

  /// Auxiliary-loss-free balancing step (DeepSeek-V3 §2.1.2): b_i += γ·sign(mean load − load_i),
  /// with γ = bias_update_rate, from the per-expert demand of one routed batch.
  void update_bias(const routing& r) {
    if (r.demand.size() != bias_.size())
      throw config_error(
          "moe::router", "routing.num_experts",
          fmt::format("({}) must be num_experts ({})", r.demand.size(), bias_.size()));
    const double mean = static_cast<double>(r.tokens) * r.top_k / cfg_.num_experts;
    for (std::size_t i = 0; i < bias_.size(); ++i) {
      const double d = mean - static_cast<double>(r.demand[i]);
      bias_[i] += cfg_.bias_update_rate * static_cast<double>((d > 0.0) - (d < 0.0));
    }
  }

  /// Routes a tokens × hidden matrix (float or double). Logits are computed at the input's
  /// precision, routing decisions in double. @throws config_error on a shape mismatch or a
  /// non-finite token or logit.
  template <class Scalar> [[nodiscard]] routing route(const row_matrix<Scalar>& x) const {
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "moe::basic_router::route takes float or double tokens");
    if (x.cols() != cfg_.hidden)
      throw config_error("moe::router", "tokens.cols",
                         fmt::format("({}) must equal hidden ({})", x.cols(), cfg_.hidden));
    detail::check_all_finite<Scalar>("moe::router", "tokens", x);
    row_matrix<double> logits;
    if constexpr (std::is_same_v<Scalar, float>) {
      row_matrix<float> lf(x.rows(), cfg_.num_experts);
      lf.noalias() = x * gate_f_.transpose();
      logits = lf.template cast<double>();
    } else {
      logits.resize(x.rows(), cfg_.num_experts);
      logits.noalias() = x * gate_.transpose();
    }
    return route_logits(logits);
  }

  /// Routes precomputed logits (tokens × num_experts). @throws config_error on a shape mismatch
  /// or a non-finite logit.
  [[nodiscard]] routing route_logits(const row_matrix<double>& logits) const {
    if (logits.cols() != cfg_.num_experts)
      throw config_error(
          "moe::router", "logits.cols",
          fmt::format("({}) must equal num_experts ({})", logits.cols(), cfg_.num_experts));
    detail::check_all_finite<double>("moe::router", "logits", logits);
    const detail::score_fn score = [](std::span<const double> l, std::span<const double> b,
                                      std::span<double> a,
                                      std::span<double> c) { Scoring::score(l, b, a, c); };
    const detail::select_fn select = [](std::span<const double> choice, const router_config& cfg,
                                        std::span<int> out, selection_scratch& scratch) {
      Selection::select(choice, cfg, out, scratch);
    };
    return detail::route_logits(logits, cfg_, bias_,
                                static_cast<std::int64_t>(Capacity::capacity(logits.rows(), cfg_)),
                                score, select);
  }

  /// Work of routing `tokens` tokens with weights and activations at `prec`.
  [[nodiscard]] op_work work(double tokens, precision prec = precision::bf16) const {
    return router_work(cfg_, tokens, prec);
  }
  /// Time of routing `tokens` tokens on the device.
  [[nodiscard]] double time_s(double tokens, precision prec = precision::bf16) const {
    return device_.op_time_s(work(tokens, prec));
  }

private:
  router_config cfg_;
  Device device_;
  row_matrix<double> gate_;
  row_matrix<float> gate_f_;
  std::vector<double> bias_;
};

/// Softmax top-k without capacity (Mixtral-8x7B, Qwen3-MoE).
using router = basic_router<default_device>;
/// Mixtral-style router on the default device: softmax, top-k, renormalised top-k weights.
using mixtral_router =
    basic_router<default_device, softmax_scoring, topk_selection, unlimited_capacity>;
/// DeepSeek-V3-style router: sigmoid with selection bias, group-limited top-k, no drops.
using deepseek_router =
    basic_router<default_device, sigmoid_bias_scoring, group_limited_topk, unlimited_capacity>;
/// Switch-style router: softmax top-k with a capacity factor and drops.
using switch_router =
    basic_router<default_device, softmax_scoring, topk_selection, limited_capacity>;

} // namespace infercost::moe
