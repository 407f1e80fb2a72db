/// @file
/// The numbers and policies of an MoE router, without the numeric router (moe/router.hpp): the
/// router config, the routing of one batch, the scoring, selection and capacity policies (they
/// work on spans of logits, so a cost study or a user's own router can use them without Eigen),
/// `router_policy` (the three as one tag) with `any_router_policy` (what the cost face keeps of
/// it at run time), and the router GEMM's work. The policies' concepts are in
/// infercost/concepts.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "infercost/concepts.hpp"
#include "infercost/core/error.hpp"
#include "infercost/device/work.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::moe {

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

/// How a selection policy limits one token's experts: the experts are `count` contiguous groups
/// of num_experts / count, and a token's experts come from at most `per_token` of them.
/// `{1, 1}` (one group) is no limit.
struct expert_groups {
  int count = 1;     ///< expert groups
  int per_token = 1; ///< groups one token's experts may come from

  friend bool operator==(const expert_groups&, const expert_groups&) = default;
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
  /// No limit: any expert may go with any other.
  static expert_groups group_limit(const router_config& /*cfg*/) noexcept { return {}; }
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
  /// A token's experts come from topk_group of the n_group groups.
  static expert_groups group_limit(const router_config& cfg) noexcept {
    return {.count = cfg.n_group, .per_token = cfg.topk_group};
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

static_assert(scoring_policy<softmax_scoring> && scoring_policy<sigmoid_bias_scoring>);
static_assert(selection_policy<topk_selection> && selection_policy<group_limited_topk>);
static_assert(capacity_policy<unlimited_capacity> && capacity_policy<limited_capacity>);

/// The policies of a router as one tag, for the cost face: `layer_cost_model` takes it (through
/// `any_router_policy`) to count what the router would drop and where its tokens go.
/// `basic_router<...>::policy_type` is the tag of a router's own policies.
template <scoring_policy Scoring, selection_policy Selection, capacity_policy Capacity>
struct router_policy {
  using scoring_type = Scoring;
  using selection_type = Selection;
  using capacity_type = Capacity;
};

/// What the cost face keeps of a `router_policy`, chosen at run time: the three policies' names,
/// the selection's group limit and the capacity function, each calling the policy's own static
/// function. Converts implicitly from any `router_policy` tag; default: softmax, top-k,
/// unlimited. Cheap to copy.
class any_router_policy {
public:
  /// Softmax scoring, plain top-k, no capacity limit.
  any_router_policy() noexcept : any_router_policy(router_policy<>{}) {}

  template <scoring_policy Scoring, selection_policy Selection, capacity_policy Capacity>
  /// Implicit, so a tag converts where a policy is expected.
  any_router_policy(router_policy<Scoring, Selection, Capacity> /*tag*/) noexcept
      : scoring_(Scoring::name), selection_(Selection::name), capacity_name_(Capacity::name),
        group_limit_(
            [](const router_config& cfg) -> expert_groups { return Selection::group_limit(cfg); }),
        capacity_([](std::int64_t tokens, const router_config& cfg) -> std::int64_t {
          return static_cast<std::int64_t>(Capacity::capacity(tokens, cfg));
        }) {}

  [[nodiscard]] std::string_view scoring_name() const noexcept { return scoring_; }
  [[nodiscard]] std::string_view selection_name() const noexcept { return selection_; }
  [[nodiscard]] std::string_view capacity_name() const noexcept { return capacity_name_; }
  /// The selection policy's group limit for `cfg`.
  [[nodiscard]] expert_groups group_limit(const router_config& cfg) const {
    return group_limit_(cfg);
  }
  /// The capacity policy's capacity per expert for a batch of `tokens` tokens (-1: unlimited).
  [[nodiscard]] std::int64_t capacity(std::int64_t tokens, const router_config& cfg) const {
    return capacity_(tokens, cfg);
  }

private:
  std::string_view scoring_, selection_, capacity_name_;
  expert_groups (*group_limit_)(const router_config&);
  std::int64_t (*capacity_)(std::int64_t, const router_config&);
};

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

/// The router policy a model publishes: sigmoid scoring with group-limited top-k for a model with
/// expert groups (DeepSeek-V3 §2.1.2: n_group 8, topk_group 4, "node-limited routing"), softmax
/// top-k otherwise (Mixtral, Qwen3-MoE); no capacity limit (inference serves every assignment).
/// @throws config_error if `m` is invalid.
[[nodiscard]] inline any_router_policy router_policy_of(const model::model_config& m) {
  m.validate();
  if (m.scoring == model::router_scoring::sigmoid && m.n_group > 1)
    return router_policy<sigmoid_bias_scoring, group_limited_topk, unlimited_capacity>{};
  if (m.scoring == model::router_scoring::sigmoid)
    return router_policy<sigmoid_bias_scoring, topk_selection, unlimited_capacity>{};
  if (m.n_group > 1)
    return router_policy<softmax_scoring, group_limited_topk, unlimited_capacity>{};
  return router_policy<>{};
}

} // namespace infercost::moe
