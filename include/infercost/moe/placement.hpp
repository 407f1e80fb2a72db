/// @file
/// Expert-parallel placement: replicate hot experts into redundant slots and pack the replicas
/// onto devices so that the most loaded device carries as little as possible.
///
/// The algorithms are DeepSeek's Expert Parallelism Load Balancer (deepseek-ai/EPLB, eplb.py,
/// MIT): `replicate_experts` gives each new slot to the expert with the largest load per
/// replica; `balanced_packing` places items heaviest first into the least-loaded pack that still
/// has room (every pack gets the same number of items); `rebalance_hierarchical` packs expert
/// groups onto nodes, replicates inside each node, then packs replicas onto the node's devices
/// (for group-limited routing: a token's groups stay on few nodes); `rebalance_global` is the
/// same with one group and one node. Ties are broken as EPLB's reference run breaks them:
/// stable order (lower index first) among equal weights, the lower pack index among equally
/// loaded packs, the lower expert index among equal loads per replica. With that, the plans
/// reproduce EPLB's published example exactly.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "infercost/core/error.hpp"

namespace infercost::moe {

/// Where each item of a packing went.
struct packing {
  std::vector<int> pack;         ///< pack of each item
  std::vector<int> rank_in_pack; ///< position of each item inside its pack
};

/// Replicas of logical experts.
struct replication {
  std::vector<int> phy2log; ///< logical expert of each physical slot (first the E originals)
  std::vector<int> rank;    ///< replica index of each slot (0 for the original)
  std::vector<int> logcnt;  ///< number of replicas of each logical expert
};

/// An expert-parallel plan: physical slot s lives on device s / slots_per_device.
struct ep_plan {
  int num_devices = 1;
  int slots_per_device = 1;
  std::vector<int> phy2log; ///< logical expert of each physical slot
  std::vector<int> logcnt;  ///< replicas of each logical expert

  /// Load of each device when expert i carries load[i], split evenly over its replicas.
  [[nodiscard]] std::vector<double> device_loads(std::span<const double> load) const {
    if (load.size() != logcnt.size())
      throw config_error("moe::ep_plan", "load.size",
                         fmt::format("({}) must equal the number of logical experts ({})",
                                     load.size(), logcnt.size()));
    std::vector<double> d(static_cast<std::size_t>(num_devices), 0.0);
    for (std::size_t s = 0; s < phy2log.size(); ++s) {
      const auto e = static_cast<std::size_t>(phy2log[s]);
      d[s / static_cast<std::size_t>(slots_per_device)] += load[e] / logcnt[e];
    }
    return d;
  }
  /// Max over mean device load (1 = perfectly balanced).
  [[nodiscard]] double max_over_mean(std::span<const double> load) const {
    const std::vector<double> d = device_loads(load);
    const double total = std::accumulate(d.begin(), d.end(), 0.0);
    if (total <= 0.0)
      return 1.0;
    return *std::max_element(d.begin(), d.end()) / (total / static_cast<double>(d.size()));
  }
};

namespace detail {
inline void check_weights(std::string_view c, std::span<const double> w) {
  if (w.empty())
    throw config_error(c, "weights", "(empty) must be non-empty");
  for (double x : w)
    check_non_negative(c, "weights[i]", x);
}
} // namespace detail

/// Packs items of weight `w` into `num_packs` packs of w.size()/num_packs items each, heaviest
/// first into the least-loaded pack with room. @throws config_error if num_packs does not divide
/// the number of items, or a weight is negative or not finite.
[[nodiscard]] inline packing balanced_packing(std::span<const double> w, int num_packs) {
  constexpr std::string_view c = "moe::balanced_packing";
  detail::check_weights(c, w);
  const int n = static_cast<int>(w.size());
  check_divides(c, "num_packs", num_packs, "items", n);
  const int per_pack = n / num_packs;
  packing p;
  p.pack.assign(w.size(), -1);
  p.rank_in_pack.assign(w.size(), -1);
  std::vector<int> order(w.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return w[static_cast<std::size_t>(a)] > w[static_cast<std::size_t>(b)];
  });
  std::vector<double> pack_w(static_cast<std::size_t>(num_packs), 0.0);
  std::vector<int> pack_n(static_cast<std::size_t>(num_packs), 0);
  for (int item : order) {
    int best = -1;
    for (int q = 0; q < num_packs; ++q)
      if (pack_n[static_cast<std::size_t>(q)] < per_pack &&
          (best < 0 ||
           pack_w[static_cast<std::size_t>(q)] < pack_w[static_cast<std::size_t>(best)]))
        best = q;
    const auto i = static_cast<std::size_t>(item), b = static_cast<std::size_t>(best);
    p.pack[i] = best;
    p.rank_in_pack[i] = pack_n[b]++;
    pack_w[b] += w[i];
  }
  return p;
}

/// Replicates `w.size()` logical experts into `num_physical` slots: each redundant slot goes to
/// the expert with the largest load per replica (EPLB replicate_experts, which minimises the
/// maximum load per replica). @throws config_error if num_physical < number of experts.
[[nodiscard]] inline replication replicate_experts(std::span<const double> w, int num_physical) {
  constexpr std::string_view c = "moe::replicate_experts";
  detail::check_weights(c, w);
  const int n = static_cast<int>(w.size());
  if (num_physical < n)
    throw config_error(c, "num_physical",
                       fmt::format("({}) must be >= number of experts ({})", num_physical, n));
  replication r;
  r.phy2log.resize(static_cast<std::size_t>(n));
  std::iota(r.phy2log.begin(), r.phy2log.end(), 0);
  r.rank.assign(static_cast<std::size_t>(n), 0);
  r.logcnt.assign(static_cast<std::size_t>(n), 1);
  for (int s = n; s < num_physical; ++s) {
    int best = 0;
    double best_v = w[0] / r.logcnt[0];
    for (int i = 1; i < n; ++i) {
      const double v = w[static_cast<std::size_t>(i)] / r.logcnt[static_cast<std::size_t>(i)];
      if (v > best_v) {
        best_v = v;
        best = i;
      }
    }
    r.phy2log.push_back(best);
    r.rank.push_back(r.logcnt[static_cast<std::size_t>(best)]++);
  }
  return r;
}

/// EPLB's hierarchical policy: `num_groups` expert groups packed onto `num_nodes` nodes, then
/// replication and device packing inside each node. `w` is the load of each logical expert.
/// @throws config_error if groups do not divide experts, nodes do not divide groups or devices,
/// devices do not divide the physical slots, or there are fewer slots than experts.
[[nodiscard]] inline ep_plan rebalance_hierarchical(std::span<const double> w, int num_physical,
                                                    int num_groups, int num_nodes,
                                                    int num_devices) {
  constexpr std::string_view c = "moe::rebalance_hierarchical";
  detail::check_weights(c, w);
  const int e = static_cast<int>(w.size());
  check_divides(c, "num_groups", num_groups, "num_experts", e);
  check_divides(c, "num_nodes", num_nodes, "num_groups", num_groups);
  check_divides(c, "num_nodes", num_nodes, "num_devices", num_devices);
  check_divides(c, "num_devices", num_devices, "num_physical", num_physical);
  if (num_physical < e)
    throw config_error(c, "num_physical",
                       fmt::format("({}) must be >= number of experts ({})", num_physical, e));
  const int group_size = e / num_groups, groups_per_node = num_groups / num_nodes;
  const int per_device = num_physical / num_devices;
  const int experts_per_node = e / num_nodes, slots_per_node = num_physical / num_nodes;
  const int devices_per_node = num_devices / num_nodes;

  // Step 1: groups onto nodes. mlog (node-major logical order) -> logical expert.
  std::vector<double> group_w(static_cast<std::size_t>(num_groups), 0.0);
  for (int i = 0; i < e; ++i)
    group_w[static_cast<std::size_t>(i / group_size)] += w[static_cast<std::size_t>(i)];
  const packing gp = balanced_packing(group_w, num_nodes);
  std::vector<int> mlog2log(static_cast<std::size_t>(e));
  for (int g = 0; g < num_groups; ++g) {
    const auto gi = static_cast<std::size_t>(g);
    const int base = (gp.pack[gi] * groups_per_node + gp.rank_in_pack[gi]) * group_size;
    for (int j = 0; j < group_size; ++j)
      mlog2log[static_cast<std::size_t>(base + j)] = g * group_size + j;
  }

  ep_plan plan;
  plan.num_devices = num_devices;
  plan.slots_per_device = per_device;
  plan.phy2log.assign(static_cast<std::size_t>(num_physical), -1);
  plan.logcnt.assign(static_cast<std::size_t>(e), 0);
  for (int node = 0; node < num_nodes; ++node) {
    // Step 2: replicate inside the node.
    std::vector<double> node_w(static_cast<std::size_t>(experts_per_node));
    for (int j = 0; j < experts_per_node; ++j)
      node_w[static_cast<std::size_t>(j)] = w[static_cast<std::size_t>(
          mlog2log[static_cast<std::size_t>(node * experts_per_node + j)])];
    const replication rep = replicate_experts(node_w, slots_per_node);
    // Step 3: pack the node's replicas onto its devices, each replica carrying load / count.
    std::vector<double> slot_w(static_cast<std::size_t>(slots_per_node));
    for (int s = 0; s < slots_per_node; ++s) {
      const auto m = static_cast<std::size_t>(rep.phy2log[static_cast<std::size_t>(s)]);
      slot_w[static_cast<std::size_t>(s)] = node_w[m] / rep.logcnt[m];
    }
    const packing dp = balanced_packing(slot_w, devices_per_node);
    for (int s = 0; s < slots_per_node; ++s) {
      const auto si = static_cast<std::size_t>(s);
      const int local = dp.pack[si] * per_device + dp.rank_in_pack[si];
      const int logical =
          mlog2log[static_cast<std::size_t>(node * experts_per_node + rep.phy2log[si])];
      plan.phy2log[static_cast<std::size_t>(node * slots_per_node + local)] = logical;
    }
    for (int j = 0; j < experts_per_node; ++j)
      plan.logcnt[static_cast<std::size_t>(
          mlog2log[static_cast<std::size_t>(node * experts_per_node + j)])] =
          rep.logcnt[static_cast<std::size_t>(j)];
  }
  return plan;
}

/// EPLB's global policy: replicate over all devices ignoring groups and nodes.
[[nodiscard]] inline ep_plan rebalance_global(std::span<const double> w, int num_physical,
                                              int num_devices) {
  return rebalance_hierarchical(w, num_physical, 1, 1, num_devices);
}

/// EPLB's entry point: the hierarchical policy when nodes divide groups, else the global one.
[[nodiscard]] inline ep_plan rebalance(std::span<const double> w, int num_physical, int num_groups,
                                       int num_nodes, int num_devices) {
  check_positive("moe::rebalance", "num_nodes", num_nodes);
  check_positive("moe::rebalance", "num_groups", num_groups);
  if (num_groups % num_nodes == 0)
    return rebalance_hierarchical(w, num_physical, num_groups, num_nodes, num_devices);
  return rebalance_global(w, num_physical, num_devices);
}

/// The plan without replication or balancing: expert i on device i / (E / D).
/// @throws config_error if num_devices does not divide num_experts.
[[nodiscard]] inline ep_plan contiguous_plan(int num_experts, int num_devices) {
  constexpr std::string_view c = "moe::contiguous_plan";
  check_positive(c, "num_experts", num_experts);
  check_divides(c, "num_devices", num_devices, "num_experts", num_experts);
  ep_plan plan;
  plan.num_devices = num_devices;
  plan.slots_per_device = num_experts / num_devices;
  plan.phy2log.resize(static_cast<std::size_t>(num_experts));
  std::iota(plan.phy2log.begin(), plan.phy2log.end(), 0);
  plan.logcnt.assign(static_cast<std::size_t>(num_experts), 1);
  return plan;
}

} // namespace infercost::moe
