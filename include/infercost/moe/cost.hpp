/// @file
/// Cost face of an MoE layer on an expert-parallel layout: the router GEMM, the expert GEMMs of
/// the most loaded device, the shared experts, and the dispatch / combine all-to-alls split into
/// intra-node and inter-node traffic. Aggregate: the work depends on expert popularity, the
/// router's policies and token counts only (O(experts) per call at most, no per-token loop), so
/// a serving simulation can call it every step.
///
/// Model of a step with T tokens on an EP group of D devices in N nodes (data-parallel
/// attention: each device holds T/D tokens):
/// - expert i's demand is Binomial(T, π_i), π_i the per-token inclusion probability of its
///   popularity (moe::inclusion_probabilities; π_i = k/E when uniform);
/// - the router's **capacity policy** caps it: with capacity c = Capacity::capacity(T, cfg) the
///   expert processes E[min(demand, c)] assignments (moe::expected_processed, an exact Binomial
///   sum; linear between the neighbouring integers for a fractional T) and the rest is dropped
///   to the residual path; with no limit (c = −1) it processes T·π_i;
/// - experts sit in E + R physical slots: with R = 0 expert i is on device i/(E/D) (static
///   placement); with R > 0 the EPLB plan (moe::rebalance, hierarchical when nodes divide the
///   groups) replicates the hottest ones, a replica taking an equal share of its expert's tokens;
/// - the step waits for the most loaded device: its expert FLOPs are 2·h·w·m per processed
///   assignment (m = 3 for SwiGLU, 2 for ReLU) and it reads the weights of the slots a batch
///   touches, 1 − (1 − π_i/replicas_i)^T each;
/// - dispatch sends each token's processed copies (h elements) to the devices that hold its
///   experts, combine sends them back; the busiest device's traffic is the larger of what it
///   sends and what it receives, on NVLink/HCCS for peers in its node and on the NIC for other
///   nodes; the two links run concurrently, so a phase takes the longer of the two. With plain
///   top-k every copy for another node crosses the NIC (a flat all-to-all);
/// - with the **selection policy**'s group limit (group-limited top-k: a token's experts come
///   from topk_group of n_group groups) on a layout where every group lives on one node, the
///   dispatch is node-limited as DeepSeek-V3 routes it (§2.1.2, §3.2.2) and DeepEP's normal
///   kernels run it: a token's hidden vector crosses the NIC once per destination node, to the
///   device of the same local rank there, which forwards it over NVLink/HCCS to the experts'
///   devices (combine: the reverse). A token reaches node n with probability
///   r_n = 1 − Π_{groups g on n} (1 − ρ'_g), where ρ'_g = min(ρ_g, 1 − Π_{i in g} (1 − π_i)): ρ_g
///   is the inclusion probability of group g when topk_group groups are drawn as experts are
///   (moe::inclusion_probabilities over the groups' expected experts per token Σ_{i in g} π_i),
///   and a group is reached no more often than its experts are. Σ_n r_n <= topk_group. For the
///   busiest device b on node ν with L tokens (T/D): NIC sends L·Σ_{n≠ν} r_n vectors and
///   receives (N − 1)·L·r_ν; NVLink sends (its node's load − b's load)/devices_per_node (its own
///   tokens' copies for its peers and the remote tokens it forwards) and receives
///   b's load·(1 − 1/devices_per_node) (all its copies but those it received itself).
///   Popularity stays the per-expert demand: the group limit changes where a token's copies go,
///   not how many each expert gets.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/work.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/moe/balance.hpp"
#include "infercost/moe/placement.hpp"
#include "infercost/moe/policies.hpp"

namespace infercost::moe {

/// An expert-parallel layout.
struct ep_layout {
  int ep_size = 1;           ///< devices sharing the experts (EP degree)
  int devices_per_node = 8;  ///< devices per scale-up domain
  int redundant_experts = 0; ///< extra physical expert slots R (EPLB replicas)
  /// Element type of dispatched tokens (DeepSeek-V3 §3.3 dispatches FP8 and combines BF16).
  precision dispatch_precision = precision::bf16;
  precision combine_precision = precision::bf16; ///< element type of combined outputs
  /// Matrix math of the expert and router GEMMs when it differs from the weights' storage
  /// precision (weight-only quantisation: 4-bit weights dequantised inside a BF16 GEMM); none:
  /// the weights' own precision.
  std::optional<precision> gemm_precision{};

  /// @throws config_error naming the first field out of its domain.
  void validate(int num_experts) const {
    constexpr std::string_view c = "moe::ep_layout";
    check_positive(c, "ep_size", ep_size);
    check_positive(c, "devices_per_node", devices_per_node);
    check_non_negative(c, "redundant_experts", redundant_experts);
    if (ep_size > devices_per_node)
      check_divides(c, "devices_per_node", devices_per_node, "ep_size", ep_size);
    check_divides(c, "ep_size", ep_size, "num_experts + redundant_experts",
                  num_experts + redundant_experts);
  }
  /// Nodes the EP group spans.
  [[nodiscard]] int num_nodes() const noexcept {
    return ep_size > devices_per_node ? ep_size / devices_per_node : 1;
  }
  /// Devices of the EP group inside one node.
  [[nodiscard]] int devices_in_node() const noexcept { return std::min(ep_size, devices_per_node); }
};

/// The cost of one MoE layer step, as work and as seconds on a device.
struct moe_cost {
  op_work router;           ///< router GEMM + top-k on one device (its T/D tokens)
  op_work experts;          ///< routed expert GEMMs of the most loaded device
  op_work shared;           ///< shared experts on one device (its T/D tokens)
  comm_work dispatch_intra; ///< dispatch all-to-all over the scale-up links
  comm_work dispatch_inter; ///< dispatch all-to-all over the scale-out NICs
  comm_work combine_intra;  ///< combine all-to-all over the scale-up links
  comm_work combine_inter;  ///< combine all-to-all over the scale-out NICs
  double router_s = 0.0;
  double experts_s = 0.0;
  double shared_s = 0.0;
  double dispatch_s = 0.0;
  double combine_s = 0.0;
  double max_device_assignments = 0.0;  ///< expected processed assignments, most loaded device
  double mean_device_assignments = 0.0; ///< processed assignments / D: T·k / D with no drops
  double touched_slots = 0.0;           ///< expected expert slots the busiest device reads
  double dropped_assignments = 0.0;     ///< expected assignments over capacity, whole batch

  /// Device max/mean load.
  [[nodiscard]] double imbalance() const noexcept {
    return mean_device_assignments > 0.0 ? max_device_assignments / mean_device_assignments : 1.0;
  }
  /// Sum of the phases (no overlap; overlapping them is the step engine's choice).
  [[nodiscard]] double total_s() const noexcept {
    return router_s + dispatch_s + experts_s + shared_s + combine_s;
  }
};

/// The cost face of one MoE layer on a fixed layout under a router's policies, with everything
/// that does not depend on the batch computed once: the inclusion probabilities of the
/// popularity, the placement plan, the logs of the touch probabilities (detail::touch_sum) and,
/// for node-limited dispatch, the probability that a token reaches each node. The EPLB plan
/// depends only on the popularity, not on the token count: its greedy steps compare load ratios
/// (replicate the expert with the largest load per replica; pack the heaviest replica into the
/// lightest device), which scaling every load by T leaves unchanged. `work(tokens)` costs O(D)
/// plus one exp or expm1 per distinct touch probability of the busiest device's slots that T does
/// not saturate (at most two with uniform popularity), plus, under a capacity limit, one Binomial
/// sum per distinct inclusion probability. The whole batch's distinct experts, which no cost
/// depends on (a device reads its own slots) and which take one exp per expert under skewed
/// popularity, are a separate query: distinct_experts(tokens).
class layer_cost_model {
public:
  /// @param policy the router's policies (any `router_policy<Scoring, Selection, Capacity>`
  ///   converts): its capacity function and its selection's group limit enter the cost; the
  ///   default (softmax, top-k, unlimited) gives the cost of an unlimited plain top-k router.
  /// @throws config_error on an invalid config or layout, a popularity of the wrong size,
  /// negative or all zero, or a group limit that does not fit the experts.
  layer_cost_model(const router_config& cfg, const ep_layout& layout, precision prec,
                   std::span<const double> popularity = {}, const any_router_policy& policy = {})
      : cfg_(cfg), layout_(layout), prec_(prec), policy_(policy) {
    constexpr std::string_view c = "moe::moe_layer_cost";
    cfg_.validate();
    check_positive(c, "hidden", cfg_.hidden);
    check_positive(c, "expert_hidden", cfg_.expert_hidden);
    layout_.validate(cfg_.num_experts);
    const int e = cfg_.num_experts, d = layout_.ep_size;
    std::vector<double> pop(static_cast<std::size_t>(e), 1.0 / e);
    if (!popularity.empty()) {
      if (popularity.size() != static_cast<std::size_t>(e))
        throw config_error(c, "popularity.size",
                           fmt::format("({}) must equal num_experts ({})", popularity.size(), e));
      pop.assign(popularity.begin(), popularity.end());
    }
    pi_ = inclusion_probabilities(pop, cfg_.top_k);
    const int slots = e + layout_.redundant_experts;
    plan_ = layout_.redundant_experts == 0
                ? contiguous_plan(e, d)
                : rebalance(pi_, slots, cfg_.n_group, layout_.num_nodes(), d);
    unit_load_ = plan_.device_loads(pi_);
    distinct_ = detail::touch_sum(pi_);
    const auto spd = static_cast<std::size_t>(plan_.slots_per_device);
    std::vector<double> q(spd);
    for (std::size_t dev = 0; dev < static_cast<std::size_t>(d); ++dev) {
      for (std::size_t s = 0; s < spd; ++s) {
        const auto i = static_cast<std::size_t>(plan_.phy2log[dev * spd + s]);
        q[s] = pi_[i] / plan_.logcnt[i];
      }
      slot_touch_.emplace_back(q);
    }
    // Experts with equal inclusion probability process equal expected loads under a capacity.
    std::vector<double> sorted(pi_);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    pi_class_.resize(pi_.size());
    for (std::size_t i = 0; i < pi_.size(); ++i)
      pi_class_[i] = static_cast<std::size_t>(
          std::lower_bound(sorted.begin(), sorted.end(), pi_[i]) - sorted.begin());
    pi_values_ = std::move(sorted);
    class_size_.assign(pi_values_.size(), 0);
    for (std::size_t g : pi_class_)
      ++class_size_[g];
    init_node_reach(policy_.group_limit(cfg_));
  }

  [[nodiscard]] const router_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const ep_layout& layout() const noexcept { return layout_; }
  /// The router's policies the cost follows.
  [[nodiscard]] const any_router_policy& policy() const noexcept { return policy_; }
  /// Per-token inclusion probability of each expert.
  [[nodiscard]] const std::vector<double>& inclusion() const noexcept { return pi_; }
  /// The placement plan.
  [[nodiscard]] const ep_plan& plan() const noexcept { return plan_; }
  /// Whether dispatch and combine are node-limited: the selection limits a token to some of
  /// several expert groups, the EP group spans several nodes, and every group lives on one node.
  [[nodiscard]] bool node_limited() const noexcept { return !node_reach_.empty(); }
  /// Per node, the probability that one token's dispatch reaches it (empty unless
  /// node_limited()).
  [[nodiscard]] const std::vector<double>& node_reach() const noexcept { return node_reach_; }
  /// Expected distinct nodes one token's dispatch reaches, its own included: Σ_n r_n (0 unless
  /// node_limited()).
  [[nodiscard]] double nodes_per_token() const noexcept {
    return std::accumulate(node_reach_.begin(), node_reach_.end(), 0.0);
  }

  /// Expected distinct experts a step of `tokens` tokens (the whole EP group's batch) touches:
  /// Σ_i 1 − (1 − π_i)^T (moe::expected_distinct_experts). The weights a step reads are
  /// work(tokens).touched_slots, the busiest device's own slots.
  /// @throws config_error for a negative or non-finite token count.
  [[nodiscard]] double distinct_experts(double tokens) const {
    check_non_negative("moe::moe_layer_cost", "tokens", tokens);
    return distinct_(tokens);
  }

  /// The work of one step of `tokens` tokens (the whole EP group's batch).
  /// @throws config_error for a negative or non-finite token count, or a capacity policy that
  /// returns a capacity below −1.
  [[nodiscard]] moe_cost work(double tokens) const {
    check_non_negative("moe::moe_layer_cost", "tokens", tokens);
    const int d = layout_.ep_size;
    const double total = tokens * cfg_.top_k;
    moe_cost m;
    // Per-device processed assignments: T times the unit loads with no capacity limit, else
    // each expert's expected capped load split over its replicas.
    const double lo = std::floor(tokens), frac = tokens - lo;
    const std::int64_t cap_lo = capacity_at(lo),
                       cap_hi = frac > 0.0 ? capacity_at(lo + 1.0) : cap_lo;
    std::vector<double> capped;
    if (cap_lo >= 0 || cap_hi >= 0)
      capped = capped_device_loads(lo, frac, cap_lo, cap_hi, m.dropped_assignments);
    auto load = [&](std::size_t j) { return capped.empty() ? unit_load_[j] * tokens : capped[j]; };
    std::size_t busiest = 0;
    double load_sum = 0.0;
    for (std::size_t j = 0; j < static_cast<std::size_t>(d); ++j) {
      if (load(j) > load(busiest))
        busiest = j;
      load_sum += load(j);
    }
    const double load_total = std::max(load_sum, 1e-300);

    m.max_device_assignments = load(busiest);
    m.mean_device_assignments = (capped.empty() ? total : load_sum) / d;
    m.touched_slots = cap_lo == 0 && cap_hi == 0 ? 0.0 : slot_touch_[busiest](tokens);

    const double h = cfg_.hidden, w = cfg_.expert_hidden, b = bytes_per_element(prec_);
    const double mats = cfg_.ffn == model::ffn_kind::swiglu ? 3.0 : 2.0;
    const double expert_bytes = mats * h * w * b;
    const double local_tokens = tokens / d;
    const precision math = layout_.gemm_precision.value_or(prec_);
    m.router = router_work(cfg_, local_tokens, prec_);
    m.router.prec = math;
    const double a = m.max_device_assignments;
    m.experts = op_work{.flops = 2.0 * mats * h * w * a,
                        .vector_flops = 4.0 * w * a, // activation and the weighted combine
                        .bytes_read = m.touched_slots * expert_bytes + a * h * b,
                        .bytes_written = a * h * b,
                        .prec = math,
                        .kind = op_kind::gemm};
    const double ns = cfg_.num_shared_experts;
    m.shared =
        op_work{.flops = 2.0 * mats * h * w * ns * local_tokens,
                .vector_flops = 4.0 * w * ns * local_tokens,
                .bytes_read = (local_tokens > 0.0 ? ns * expert_bytes : 0.0) + local_tokens * h * b,
                .bytes_written = local_tokens * h * b,
                .prec = math,
                .kind = op_kind::gemm};

    // Traffic of the busiest device, in elements·h: what it sends and what it receives.
    const int dn = layout_.devices_in_node();
    const std::size_t node = busiest / static_cast<std::size_t>(dn);
    double node_load = 0.0;
    for (std::size_t j = node * static_cast<std::size_t>(dn);
         j < (node + 1) * static_cast<std::size_t>(dn); ++j)
      node_load += load(j);
    double send_intra, send_inter, recv_intra, recv_inter;
    if (node_limited()) {
      // Once per destination node over the NIC, then forwarded inside the node (file comment).
      const double nodes = layout_.num_nodes();
      send_inter = local_tokens * (nodes_per_token() - node_reach_[node]);
      recv_inter = (nodes - 1.0) * local_tokens * node_reach_[node];
      send_intra = (node_load - a) / dn;
      recv_intra = a * (dn - 1.0) / dn;
    } else {
      // Each copy to its expert's device: its tokens' copies by where their experts live, and
      // its assignments from every device.
      const double sent =
          capped.empty() ? local_tokens * cfg_.top_k : load_total / static_cast<double>(d);
      send_intra = sent * (node_load - a) / load_total;
      send_inter = sent * (load_total - node_load) / load_total;
      recv_intra = a * (dn - 1.0) / d;
      recv_inter = a * (d - static_cast<double>(dn)) / d;
    }
    const double intra = std::max(send_intra, recv_intra) * h;
    const double inter = std::max(send_inter, recv_inter) * h;
    // comm_work's all-to-all bytes are what each rank holds; (n−1)/n of it leaves the rank.
    auto a2a = [](double leaving, int ranks, link_scope scope) {
      return comm_work{.kind = collective::all_to_all,
                       .bytes = ranks > 1 ? leaving * ranks / (ranks - 1.0) : 0.0,
                       .ranks = ranks,
                       .scope = scope};
    };
    const double bd = bytes_per_element(layout_.dispatch_precision);
    const double bc = bytes_per_element(layout_.combine_precision);
    m.dispatch_intra = a2a(intra * bd, dn, link_scope::intra_node);
    m.dispatch_inter = a2a(inter * bd, d, link_scope::inter_node);
    m.combine_intra = a2a(intra * bc, dn, link_scope::intra_node);
    m.combine_inter = a2a(inter * bc, d, link_scope::inter_node);
    return m;
  }

  /// The work of `tokens` timed on `device`.
  template <device_cost_model Device>
  [[nodiscard]] moe_cost cost(const Device& device, double tokens) const {
    moe_cost m = work(tokens);
    m.router_s = device.op_time_s(m.router);
    m.experts_s = device.op_time_s(m.experts);
    m.shared_s = m.shared.flops > 0.0 ? device.op_time_s(m.shared) : 0.0;
    m.dispatch_s =
        std::max(device.comm_time_s(m.dispatch_intra), device.comm_time_s(m.dispatch_inter));
    m.combine_s =
        std::max(device.comm_time_s(m.combine_intra), device.comm_time_s(m.combine_inter));
    return m;
  }

private:
  /// The capacity policy's capacity for `tokens` (an integer). @throws config_error below −1.
  [[nodiscard]] std::int64_t capacity_at(double tokens) const {
    const std::int64_t cap = policy_.capacity(static_cast<std::int64_t>(tokens), cfg_);
    if (cap < -1)
      throw config_error(
          "moe::moe_layer_cost", "capacity",
          fmt::format("({}) of capacity policy '{}' must be >= -1", cap, policy_.capacity_name()));
    return cap;
  }

  /// Per-device expected processed assignments for lo + frac tokens (lo an integer, frac in
  /// [0, 1): linear between lo and lo + 1 tokens, whose capacities are cap_lo and cap_hi), and
  /// the expected dropped ones.
  [[nodiscard]] std::vector<double> capped_device_loads(double lo, double frac, std::int64_t cap_lo,
                                                        std::int64_t cap_hi,
                                                        double& dropped) const {
    std::vector<double> processed(pi_values_.size(), 0.0);
    dropped = 0.0;
    auto add = [&](double n, std::int64_t cap, double weight) {
      for (std::size_t g = 0; g < pi_values_.size(); ++g) {
        const detail::capped_load l =
            detail::binomial_capped(static_cast<std::int64_t>(n), pi_values_[g], cap);
        processed[g] += weight * l.processed;
        dropped += weight * l.dropped * static_cast<double>(class_size_[g]);
      }
    };
    add(lo, cap_lo, 1.0 - frac);
    if (frac > 0.0)
      add(lo + 1.0, cap_hi, frac);
    std::vector<double> loads(static_cast<std::size_t>(plan_.num_devices), 0.0);
    const auto spd = static_cast<std::size_t>(plan_.slots_per_device);
    for (std::size_t s = 0; s < plan_.phy2log.size(); ++s) {
      const auto i = static_cast<std::size_t>(plan_.phy2log[s]);
      loads[s / spd] += processed[pi_class_[i]] / plan_.logcnt[i];
    }
    return loads;
  }

  /// Node reach probabilities (file comment) when the group limit makes dispatch node-limited.
  void init_node_reach(const expert_groups& groups) {
    constexpr std::string_view c = "moe::moe_layer_cost";
    const int e = cfg_.num_experts;
    check_positive(c, "group_limit.count", groups.count);
    check_divides(c, "group_limit.count", groups.count, "num_experts", e);
    check_positive(c, "group_limit.per_token", groups.per_token);
    check_at_most(c, "group_limit.per_token", groups.per_token, "group_limit.count", groups.count);
    const int nodes = layout_.num_nodes();
    if (groups.count == 1 || nodes == 1)
      return;
    // The node of every expert (all its replicas) and of every group, if each has one.
    const int dn = layout_.devices_in_node();
    const auto per_group = static_cast<std::size_t>(e / groups.count);
    std::vector<int> node_of_group(static_cast<std::size_t>(groups.count), -1);
    for (std::size_t s = 0; s < plan_.phy2log.size(); ++s) {
      const auto i = static_cast<std::size_t>(plan_.phy2log[s]);
      const int n = static_cast<int>(s) / plan_.slots_per_device / dn;
      int& g = node_of_group[i / per_group];
      if (g >= 0 && g != n)
        return; // a group spans nodes: a flat all-to-all
      g = n;
    }
    // ρ_g: groups drawn as experts are, by their expected experts per token.
    std::vector<double> mass(static_cast<std::size_t>(groups.count), 0.0), unlimited(mass.size());
    for (std::size_t g = 0; g < mass.size(); ++g) {
      double log_miss = 0.0;
      for (std::size_t i = g * per_group; i < (g + 1) * per_group; ++i) {
        mass[g] += pi_[i];
        log_miss += pi_[i] >= 1.0 ? -std::numeric_limits<double>::infinity() : std::log1p(-pi_[i]);
      }
      unlimited[g] = -std::expm1(log_miss);
    }
    const auto reachable =
        std::count_if(mass.begin(), mass.end(), [](double x) { return x > 0.0; });
    std::vector<double> rho(mass.size());
    if (groups.per_token >= reachable)
      for (std::size_t g = 0; g < mass.size(); ++g)
        rho[g] = mass[g] > 0.0 ? 1.0 : 0.0;
    else
      rho = inclusion_probabilities(mass, groups.per_token);
    std::vector<double> log_miss(static_cast<std::size_t>(nodes), 0.0);
    for (std::size_t g = 0; g < mass.size(); ++g) {
      const double reach = std::min(rho[g], unlimited[g]);
      log_miss[static_cast<std::size_t>(node_of_group[g])] +=
          reach >= 1.0 ? -std::numeric_limits<double>::infinity() : std::log1p(-reach);
    }
    node_reach_.resize(log_miss.size());
    for (std::size_t n = 0; n < log_miss.size(); ++n)
      node_reach_[n] = -std::expm1(log_miss[n]);
  }

  router_config cfg_;
  ep_layout layout_;
  precision prec_;
  any_router_policy policy_;
  std::vector<double> pi_;
  ep_plan plan_;
  std::vector<double> unit_load_;             ///< per-device expected assignments per token
  detail::touch_sum distinct_;                ///< over every expert's π_i
  std::vector<detail::touch_sum> slot_touch_; ///< per device, over its slots' π_i / replicas
  std::vector<double> pi_values_;             ///< distinct inclusion probabilities, ascending
  std::vector<std::size_t> pi_class_;         ///< per expert, its index in pi_values_
  std::vector<int> class_size_;               ///< experts with each of pi_values_
  std::vector<double> node_reach_;            ///< per node, P(a token reaches it); node-limited
};

/// Cost of one MoE layer step of `tokens` tokens (the whole EP group's batch) on `layout`, with
/// weights and GEMMs at `prec` and expert popularity `popularity` (per expert, any scale; empty
/// = uniform) under the router policy `policy`. @throws config_error on an invalid config or
/// layout, or a popularity of the wrong size, negative or all zero.
template <device_cost_model Device>
[[nodiscard]] moe_cost moe_layer_cost(const Device& device, const router_config& cfg, double tokens,
                                      const ep_layout& layout, precision prec,
                                      std::span<const double> popularity = {},
                                      const any_router_policy& policy = {}) {
  return layer_cost_model(cfg, layout, prec, popularity, policy).cost(device, tokens);
}

/// The same for one MoE layer of model `m`.
template <device_cost_model Device>
[[nodiscard]] moe_cost moe_layer_cost(const Device& device, const model::model_config& m,
                                      double tokens, const ep_layout& layout, precision prec,
                                      std::span<const double> popularity = {},
                                      const any_router_policy& policy = {}) {
  return moe_layer_cost(device, router_config::from_model(m), tokens, layout, prec, popularity,
                        policy);
}

} // namespace infercost::moe
