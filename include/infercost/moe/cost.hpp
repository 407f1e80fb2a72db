/// @file
/// Cost face of an MoE layer on an expert-parallel layout: the router GEMM, the expert GEMMs of
/// the most loaded device, the shared experts, and the dispatch / combine all-to-alls split into
/// intra-node and inter-node traffic. Aggregate: the work depends on expert popularity and token
/// counts only (O(experts) per call, no per-token loop), so a serving simulation can call it
/// every step.
///
/// Model of a step with T tokens on an EP group of D devices (data-parallel attention: each
/// device holds T/D tokens):
/// - expert i receives T·π_i assignments in expectation, π_i the per-token inclusion probability
///   of its popularity (moe::inclusion_probabilities; π_i = k/E when uniform);
/// - experts sit in E + R physical slots: with R = 0 expert i is on device i/(E/D) (static
///   placement); with R > 0 the EPLB plan (moe::rebalance, hierarchical when nodes divide the
///   groups) replicates the hottest ones, a replica taking an equal share of its expert's tokens;
/// - the step waits for the most loaded device: its expert FLOPs are 2·h·w·m per assignment
///   (m = 3 for SwiGLU, 2 for ReLU) and it reads the weights of the slots a batch touches,
///   1 − (1 − π_i/replicas_i)^T each;
/// - dispatch sends each token's k copies (h elements) to the devices that hold its experts,
///   combine sends them back; the busiest device's traffic is the larger of what it sends and
///   what it receives, on NVLink/HCCS for peers in its node and on the NIC for other nodes; the
///   two links run concurrently, so a phase takes the longer of the two.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
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
  double max_device_assignments = 0.0;  ///< expected assignments on the most loaded device
  double mean_device_assignments = 0.0; ///< T·k / D
  double touched_slots = 0.0;           ///< expected expert slots the busiest device reads
  double distinct_experts = 0.0;        ///< expected distinct experts the whole batch touches

  /// Device max/mean load.
  [[nodiscard]] double imbalance() const noexcept {
    return mean_device_assignments > 0.0 ? max_device_assignments / mean_device_assignments : 1.0;
  }
  /// Sum of the phases (no overlap; overlapping them is the step engine's choice).
  [[nodiscard]] double total_s() const noexcept {
    return router_s + dispatch_s + experts_s + shared_s + combine_s;
  }
};

/// The cost face of one MoE layer on a fixed layout, with everything that does not depend on the
/// batch computed once: the inclusion probabilities of the popularity, and the placement plan.
/// The EPLB plan depends only on the popularity, not on the token count: its greedy steps compare
/// load ratios (replicate the expert with the largest load per replica; pack the heaviest replica
/// into the lightest device), which scaling every load by T leaves unchanged. `work(tokens)` is
/// then O(experts), for a serving loop that calls it every step.
class layer_cost_model {
public:
  /// @throws config_error on an invalid config or layout, or a popularity of the wrong size,
  /// negative or all zero.
  layer_cost_model(const router_config& cfg, const ep_layout& layout, precision prec,
                   std::span<const double> popularity = {})
      : cfg_(cfg), layout_(layout), prec_(prec) {
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
  }

  [[nodiscard]] const router_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const ep_layout& layout() const noexcept { return layout_; }
  /// Per-token inclusion probability of each expert.
  [[nodiscard]] const std::vector<double>& inclusion() const noexcept { return pi_; }
  /// The placement plan.
  [[nodiscard]] const ep_plan& plan() const noexcept { return plan_; }

  /// The work of one step of `tokens` tokens (the whole EP group's batch).
  /// @throws config_error for a negative or non-finite token count.
  [[nodiscard]] moe_cost work(double tokens) const {
    check_non_negative("moe::moe_layer_cost", "tokens", tokens);
    const int d = layout_.ep_size;
    std::vector<double> load(unit_load_);
    for (double& x : load)
      x *= tokens;
    const auto busiest =
        static_cast<std::size_t>(std::max_element(load.begin(), load.end()) - load.begin());
    const double total = tokens * cfg_.top_k;

    moe_cost m;
    m.max_device_assignments = load[busiest];
    m.mean_device_assignments = total / d;
    m.distinct_experts = expected_distinct_experts(pi_, tokens);
    for (int s = 0; s < plan_.slots_per_device; ++s) {
      const auto i = static_cast<std::size_t>(
          plan_.phy2log[busiest * static_cast<std::size_t>(plan_.slots_per_device) +
                        static_cast<std::size_t>(s)]);
      const double q = pi_[i] / plan_.logcnt[i];
      m.touched_slots +=
          q >= 1.0 ? (tokens > 0.0 ? 1.0 : 0.0) : -std::expm1(tokens * std::log1p(-q));
    }

    const double h = cfg_.hidden, w = cfg_.expert_hidden, b = bytes_per_element(prec_);
    const double mats = cfg_.ffn == model::ffn_kind::swiglu ? 3.0 : 2.0;
    const double expert_bytes = mats * h * w * b;
    const double local_tokens = tokens / d;
    m.router = router_work(cfg_, local_tokens, prec_);
    const double a = m.max_device_assignments;
    m.experts = op_work{.flops = 2.0 * mats * h * w * a,
                        .vector_flops = 4.0 * w * a, // activation and the weighted combine
                        .bytes_read = m.touched_slots * expert_bytes + a * h * b,
                        .bytes_written = a * h * b,
                        .prec = prec_,
                        .kind = op_kind::gemm};
    const double ns = cfg_.num_shared_experts;
    m.shared =
        op_work{.flops = 2.0 * mats * h * w * ns * local_tokens,
                .vector_flops = 4.0 * w * ns * local_tokens,
                .bytes_read = (local_tokens > 0.0 ? ns * expert_bytes : 0.0) + local_tokens * h * b,
                .bytes_written = local_tokens * h * b,
                .prec = prec_,
                .kind = op_kind::gemm};

    // Traffic of the busiest device, in elements·h: what it sends (its tokens' copies to other
    // devices, by where their experts live) and what it receives (its assignments from others).
    const int dn = layout_.devices_in_node();
    const std::size_t node_first =
        busiest / static_cast<std::size_t>(dn) * static_cast<std::size_t>(dn);
    double node_load = 0.0;
    for (std::size_t j = node_first; j < node_first + static_cast<std::size_t>(dn); ++j)
      node_load += load[j];
    const double load_total = std::max(std::accumulate(load.begin(), load.end(), 0.0), 1e-300);
    const double sent = local_tokens * cfg_.top_k;
    const double send_intra = sent * (node_load - load[busiest]) / load_total;
    const double send_inter = sent * (load_total - node_load) / load_total;
    const double recv_intra = a * (dn - 1.0) / d;
    const double recv_inter = a * (d - static_cast<double>(dn)) / d;
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
  template <class Device> [[nodiscard]] moe_cost cost(const Device& device, double tokens) const {
    static_assert(device_cost_model<Device>,
                  "moe::layer_cost_model: Device must satisfy infercost::device_cost_model");
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
  router_config cfg_;
  ep_layout layout_;
  precision prec_;
  std::vector<double> pi_;
  ep_plan plan_;
  std::vector<double> unit_load_; ///< per-device expected assignments per token
};

/// Cost of one MoE layer step of `tokens` tokens (the whole EP group's batch) on `layout`, with
/// weights and GEMMs at `prec` and expert popularity `popularity` (per expert, any scale; empty
/// = uniform). @throws config_error on an invalid config or layout, or a popularity of the wrong
/// size, negative or all zero.
template <class Device>
[[nodiscard]] moe_cost moe_layer_cost(const Device& device, const router_config& cfg, double tokens,
                                      const ep_layout& layout, precision prec,
                                      std::span<const double> popularity = {}) {
  static_assert(device_cost_model<Device>,
                "moe::moe_layer_cost: Device must satisfy infercost::device_cost_model");
  return layer_cost_model(cfg, layout, prec, popularity).cost(device, tokens);
}

/// The same for one MoE layer of model `m`.
template <class Device>
[[nodiscard]] moe_cost moe_layer_cost(const Device& device, const model::model_config& m,
                                      double tokens, const ep_layout& layout, precision prec,
                                      std::span<const double> popularity = {}) {
  return moe_layer_cost(device, router_config::from_model(m), tokens, layout, prec, popularity);
}

} // namespace infercost::moe
