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

namespace infercost::moe {

/// Row-major dynamic matrix: rows are tokens, columns are features.
template <class Scalar>
using row_matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The numbers of a router. Defaults are a small softmax top-2 router; `from_model` copies a
/// model's MoE fields.
struct router_config {
  int num_experts = 8;   ///< routed experts E
  int top_k = 2;         ///< routed experts per token k
  int hidden = 0;        ///< token width (gate matrix columns); 0 = not checked
  int expert_hidden = 0; ///< expert FFN width (moe_intermediate), for the cost face
  model::ffn_kind ffn = model::ffn_kind::swiglu; ///< expert form, for the cost face
  int n_group = 1;                               ///< expert groups (group_limited_topk)
  int topk_group = 1;                            ///< groups kept per token (group_limited_topk)
  double capacity_factor = 1.25;                 ///< used by limited_capacity only
  double routed_scaling_factor = 1.0;            ///< multiplies the combine weights
  bool norm_topk_prob = true;                    ///< renormalise the top-k affinities to sum to 1
  int num_shared_experts = 0;                    ///< always-active experts (not routed)
  /// γ of the auxiliary-loss-free bias update, per step (DeepSeek-V3 §4.2: 0.001 for the
  /// first 14.3T training tokens).
  double bias_update_rate = 0.001;

  /// The router of one of `m`'s MoE layers. @throws config_error if `m` is not an MoE model.
  [[nodiscard]] static router_config from_model(const model::model_config& m) {
    m.validate();
    if (!m.is_moe())
      throw config_error("moe::router_config", "num_experts",
                         fmt::format("(0) of model '{}' must be > 0", m.name));
    return router_config{.num_experts = m.num_experts,
                         .top_k = m.top_k,
                         .hidden = m.hidden,
                         .expert_hidden = m.moe_intermediate,
                         .ffn = m.ffn,
                         .n_group = m.n_group,
                         .topk_group = m.topk_group,
                         .capacity_factor = 1.25,
                         .routed_scaling_factor = m.routed_scaling_factor,
                         .norm_topk_prob = m.norm_topk_prob,
                         .num_shared_experts = m.num_shared_experts,
                         .bias_update_rate = 0.001};
  }

  /// @throws config_error naming the first field out of its domain.
  void validate() const {
    constexpr std::string_view c = "moe::router";
    check_positive(c, "num_experts", num_experts);
    check_positive(c, "top_k", top_k);
    check_at_most(c, "top_k", top_k, "num_experts", num_experts);
    check_non_negative(c, "hidden", hidden);
    check_non_negative(c, "expert_hidden", expert_hidden);
    check_positive(c, "n_group", n_group);
    check_divides(c, "n_group", n_group, "num_experts", num_experts);
    check_positive(c, "topk_group", topk_group);
    check_at_most(c, "topk_group", topk_group, "n_group", n_group);
    if (n_group > 1 && top_k > topk_group * (num_experts / n_group))
      throw config_error(c, "top_k",
                         fmt::format("({}) must be <= topk_group * experts per group ({})", top_k,
                                     topk_group * (num_experts / n_group)));
    check_positive(c, "capacity_factor", capacity_factor);
    check_positive(c, "routed_scaling_factor", routed_scaling_factor);
    check_non_negative(c, "num_shared_experts", num_shared_experts);
    check_non_negative(c, "bias_update_rate", bias_update_rate);
  }
};

/// Routing of one batch. Assignments are stored token-major: slot (t, j), j < top_k, is token
/// t's j-th choice (choices in decreasing choice score). Invariants: for every expert,
/// demand = load + dropped; Σ demand = tokens · top_k; a dropped slot keeps its expert and
/// weight but `kept` is 0.
struct routing {
  std::int64_t tokens = 0;
  int top_k = 0;
  int num_experts = 0;
  int num_shared_experts = 0;        ///< always-active experts every token also uses
  std::int64_t capacity = -1;        ///< per-expert capacity in assignments; -1 = unlimited
  std::vector<int> expert;           ///< tokens·top_k expert indices
  std::vector<double> weight;        ///< tokens·top_k combine weights (scaling included)
  std::vector<std::uint8_t> kept;    ///< tokens·top_k: 1 = processed, 0 = dropped
  std::vector<std::int64_t> demand;  ///< per expert: assignments before capacity
  std::vector<std::int64_t> load;    ///< per expert: assignments processed
  std::vector<std::int64_t> dropped; ///< per expert: assignments over capacity
  std::vector<double> mean_affinity; ///< per expert: mean over tokens of the normalised
                                     ///< affinity (P_i of the Switch loss; sums to 1)

  [[nodiscard]] int expert_at(std::int64_t t, int j) const {
    return expert[static_cast<std::size_t>(t * top_k + j)];
  }
  [[nodiscard]] double weight_at(std::int64_t t, int j) const {
    return weight[static_cast<std::size_t>(t * top_k + j)];
  }
  [[nodiscard]] bool kept_at(std::int64_t t, int j) const {
    return kept[static_cast<std::size_t>(t * top_k + j)] != 0;
  }
  /// Assignments dropped over capacity, all experts.
  [[nodiscard]] std::int64_t total_dropped() const noexcept {
    return std::accumulate(dropped.begin(), dropped.end(), std::int64_t{0});
  }
  /// Fraction of the tokens·top_k assignments that were dropped.
  [[nodiscard]] double drop_rate() const noexcept {
    const double n = static_cast<double>(tokens) * top_k;
    return n > 0 ? static_cast<double>(total_dropped()) / n : 0.0;
  }
  /// Per-expert processed loads as doubles (for balance metrics).
  [[nodiscard]] std::vector<double> load_as_double() const {
    return std::vector<double>(load.begin(), load.end());
  }
  /// Per-expert demand as doubles.
  [[nodiscard]] std::vector<double> demand_as_double() const {
    return std::vector<double>(demand.begin(), demand.end());
  }
};

/// Work space a selection policy reuses across tokens.
struct selection_scratch {
  std::vector<int> index;
  std::vector<double> value;
};

namespace detail {
/// Orders experts by decreasing score, the lower index first on equal scores.
struct score_order {
  const double* score;
  bool operator()(int a, int b) const noexcept {
    return score[a] > score[b] || (score[a] == score[b] && a < b);
  }
};
} // namespace detail

/// Softmax over all experts (Mixtral, Qwen): affinity = choice = softmax(logits).
struct softmax_scoring {
  static constexpr std::string_view name = "softmax";
  /// `bias` is ignored. Writes affinity and choice (each num_experts long).
  static void score(std::span<const double> logits, std::span<const double> /*bias*/,
                    std::span<double> affinity, std::span<double> choice) noexcept {
    const double m = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
      affinity[i] = std::exp(logits[i] - m);
      sum += affinity[i];
    }
    for (std::size_t i = 0; i < logits.size(); ++i) {
      affinity[i] /= sum;
      choice[i] = affinity[i];
    }
  }
};

/// Sigmoid with a selection-only bias (DeepSeek-V3 §2.1.2): affinity s_i = σ(logit_i), choice
/// s_i + b_i.
struct sigmoid_bias_scoring {
  static constexpr std::string_view name = "sigmoid_bias";
  static void score(std::span<const double> logits, std::span<const double> bias,
                    std::span<double> affinity, std::span<double> choice) noexcept {
    for (std::size_t i = 0; i < logits.size(); ++i) {
      affinity[i] = 1.0 / (1.0 + std::exp(-logits[i]));
      choice[i] = affinity[i] + bias[i];
    }
  }
};

/// Plain top-k over all experts by choice score, ties to the lower index.
struct topk_selection {
  static constexpr std::string_view name = "topk";
  /// Writes the top_k chosen experts, best first, to `out`. `scratch` is work space.
  static void select(std::span<const double> choice, const router_config& cfg, std::span<int> out,
                     selection_scratch& scratch) {
    std::vector<int>& idx = scratch.index;
    idx.resize(choice.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + cfg.top_k, idx.end(),
                      detail::score_order{choice.data()});
    std::copy_n(idx.begin(), cfg.top_k, out.begin());
  }
};

/// Group-limited top-k (DeepSeek-V3, HF modeling_deepseek.py MoEGate "noaux_tc"): a group's
/// score is the sum of its top-2 choice scores (its single score when groups have one expert);
/// the topk_group best groups are kept (ties to the lower group index); top_k experts are then
/// chosen among the kept groups' experts.
struct group_limited_topk {
  static constexpr std::string_view name = "group_limited_topk";
  static void select(std::span<const double> choice, const router_config& cfg, std::span<int> out,
                     selection_scratch& scratch) {
    const int e = static_cast<int>(choice.size());
    const int g = cfg.n_group, size = e / g;
    scratch.value.resize(static_cast<std::size_t>(g));
    double* gs = scratch.value.data();
    for (int q = 0; q < g; ++q) {
      double best = -std::numeric_limits<double>::infinity(), second = best;
      for (int i = q * size; i < (q + 1) * size; ++i) {
        const double s = choice[static_cast<std::size_t>(i)];
        if (s > best) {
          second = best;
          best = s;
        } else if (s > second) {
          second = s;
        }
      }
      gs[q] = size >= 2 ? best + second : best;
    }
    scratch.index.resize(static_cast<std::size_t>(g + e));
    int* groups = scratch.index.data();
    std::iota(groups, groups + g, 0);
    std::partial_sort(groups, groups + cfg.topk_group, groups + g, detail::score_order{gs});
    std::sort(groups, groups + cfg.topk_group);
    int* cand = groups + g;
    int n = 0;
    for (int a = 0; a < cfg.topk_group; ++a)
      for (int i = groups[a] * size; i < (groups[a] + 1) * size; ++i)
        cand[n++] = i;
    std::partial_sort(cand, cand + cfg.top_k, cand + n, detail::score_order{choice.data()});
    std::copy_n(cand, cfg.top_k, out.begin());
  }
};

/// No capacity limit: nothing is dropped.
struct unlimited_capacity {
  static constexpr std::string_view name = "unlimited";
  /// Capacity in assignments per expert; -1 = unlimited.
  static std::int64_t capacity(std::int64_t /*tokens*/, const router_config& /*cfg*/) noexcept {
    return -1;
  }
};

/// Capacity = ceil(tokens · top_k / num_experts · capacity_factor) assignments per expert
/// (Switch Transformer eq. 3, with top_k assignments per token).
struct limited_capacity {
  static constexpr std::string_view name = "capacity_factor";
  static std::int64_t capacity(std::int64_t tokens, const router_config& cfg) noexcept {
    const double c = static_cast<double>(tokens) * cfg.top_k * cfg.capacity_factor /
                     static_cast<double>(cfg.num_experts);
    return static_cast<std::int64_t>(std::ceil(c));
  }
};

namespace detail {
using score_fn = void (*)(std::span<const double>, std::span<const double>, std::span<double>,
                          std::span<double>) noexcept;
using select_fn = void (*)(std::span<const double>, const router_config&, std::span<int>,
                           selection_scratch&);

/// Routes a tokens × num_experts matrix of logits (shape-independent core of every router).
inline routing route_logits(const row_matrix<double>& logits, const router_config& cfg,
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

/// The router GEMM's work for `tokens` tokens: logits = X · Gᵀ (2·T·h·E FLOPs), reading X and G
/// at `prec` and writing FP32 logits, plus the element-wise scoring and top-k (about 4·E per
/// token on the vector unit: exp or sigmoid, normalisation, comparisons).
[[nodiscard]] inline op_work router_work(const router_config& cfg, double tokens, precision prec) {
  const double h = cfg.hidden, e = cfg.num_experts, b = bytes_per_element(prec);
  return op_work{.flops = 2.0 * tokens * h * e,
                 .vector_flops = 4.0 * tokens * e,
                 .bytes_read = (tokens * h + h * e) * b,
                 .bytes_written = tokens * e * 4.0,
                 .prec = prec,
                 .kind = op_kind::gemm};
}

/// A router with scoring, selection and capacity policies, on `Device` (for its cost face).
/// Holds the gate matrix (num_experts × hidden) and the selection bias.
template <class Device, class Scoring, class Selection, class Capacity> class basic_router {
  static_assert(device_cost_model<Device>,
                "moe::basic_router: Device must satisfy infercost::device_cost_model");

public:
  using device_type = Device;
  using scoring_type = Scoring;
  using selection_type = Selection;
  using capacity_type = Capacity;

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
    return detail::route_logits(logits, cfg_, bias_, Capacity::capacity(logits.rows(), cfg_),
                                &Scoring::score, &Selection::select);
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
