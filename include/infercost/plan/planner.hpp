/// @file
/// `plan::search`: the cheapest deployment of a model that meets a workload's latency objectives,
/// and the Pareto frontier of the deployments it considered.
///
/// A deployment is colocated (one pool of identical instances) or prefill/decode disaggregated (a
/// prefill pool and a decode pool, possibly on different devices). Each pool has a *shape* — the
/// device, devices per instance, the parallel style (tensor parallel; data-parallel attention
/// with expert parallelism; tensor-parallel attention with expert parallelism), the weight
/// precision and the step token budget — and an instance count. A deployment also chooses MTP
/// speculative decoding (its depth), a tiered prefix cache, and the routing policy.
///
/// The search runs in two stages:
///
/// 1. **Screen** (analytic, from engine::basic_step_cost): for each pool shape, the largest decode
///    batch per attention group whose step meets the TPOT objective (its KV fitting at the
///    workload's mean context), the decode tokens/s it gives, and the prefill tokens/s of a full
///    step budget. With the workload's load (requests/s, mean prompt and output, the prompt share
///    an unbounded prefix cache would hit), that gives the fewest instances each pool could
///    possibly do with, every device saturated — a *lower bound* on what the deployment costs.
///    Shapes that cannot hold the weights, or that prefill the median prompt (its miss tokens,
///    chunk by chunk on one attention group: a prompt is one data-parallel group's) alone slower
///    than the TTFT objective, are dropped with the reason. A candidate whose entry pool
///    prefills the prompt at the objectives' quantile alone slower than the TTFT objective is
///    kept but *unhopeful*: it cannot meet the TTFT quantile unless the prefix cache spares that
///    prompt more than its mean share.
/// 2. **Confirm** (discrete-event simulation, serving::basic_cluster): hopeful candidates in
///    order of their bound, then unhopeful ones only while nothing meets the objectives (to
///    report the nearest), are replayed on the workload itself; the instance counts grow (the pool
///    the failing objective points to) until the TTFT and TPOT quantiles meet the objectives with
///    no request rejected, then shrink while they still do. A candidate is abandoned once its cost
///    reaches the best confirmed cost, and the search stops at the first candidate whose bound
///    does: no unconfirmed candidate can be cheaper (up to the bound's optimism, which
///    plan::exhaustive checks on spaces small enough to simulate whole).
///
/// Candidates are confirmed in waves of a fixed size, on threads; the best so far is updated
/// between waves and ties go to the earlier candidate, so the result does not depend on the
/// number of threads or their timing.
///
/// The frontier is analytic (stage 1): for each shape, decode batches from 1 to the KV limit give
/// tokens/s per user (1 / TPOT) against output tokens/s per device and $ per million output
/// tokens, with the prefill capacity the load needs counted in the devices.
///
/// The load is the workload's arrivals (a trace, or lengths with arrival times), or closed-loop
/// clients on its lengths (serving/closed_loop.hpp: N users each sending their next request when
/// the previous one ends, optionally capped at a request rate). A closed loop's rate depends on
/// how fast the deployment serves it; the screen takes the least a deployment meeting the
/// objectives must serve, N / (TTFT objective + (mean output − 1) × TPOT objective), and the
/// confirmation runs the clients themselves.
///
/// Prices are at the operating point: all device time of the deployment over the replay, idle
/// included (devices × makespan), each pool's idle time attributed to its categories in
/// proportion to their busy time (econ/price_sheet.hpp).
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "infercost/attention/policies.hpp"
#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/io/workload_types.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/plan/frontier.hpp"
#include "infercost/serving/closed_loop.hpp"
#include "infercost/serving/cluster.hpp"
#include "infercost/speculative/analytic.hpp"

namespace infercost::plan {

/// Latency objectives every deployment must meet, at a quantile of the requests.
struct objectives {
  double ttft_s = 2.0;  ///< time to first token at the quantile
  double tpot_s = 0.05; ///< time per output token at the quantile
  /// Tokens/s each user must see (1 / TPOT); 0: none. The tighter of this and tpot_s applies.
  double user_tokens_per_s = 0.0;
  double quantile = 0.9; ///< 0.5, 0.9 or 0.99: the serving report's quantiles

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "plan::objectives";
    check_positive(c, "ttft_s", ttft_s);
    check_positive(c, "tpot_s", tpot_s);
    check_non_negative(c, "user_tokens_per_s", user_tokens_per_s);
    if (quantile != 0.5 && quantile != 0.9 && quantile != 0.99)
      throw config_error(c, "quantile", fmt::format("({}) must be 0.5, 0.9 or 0.99", quantile));
  }
  /// The TPOT a deployment must reach: the tighter of tpot_s and 1 / user_tokens_per_s.
  [[nodiscard]] double tpot_target_s() const noexcept {
    return user_tokens_per_s > 0.0 ? std::min(tpot_s, 1.0 / user_tokens_per_s) : tpot_s;
  }
  /// The latency of a request of `output_tokens` output tokens served at the objectives: its
  /// first token at the TTFT objective, each later one at the TPOT target.
  [[nodiscard]] double request_latency_s(double output_tokens) const noexcept {
    return ttft_s + std::max(0.0, output_tokens - 1.0) * tpot_target_s();
  }
  /// The value of `s` at the quantile.
  [[nodiscard]] double at(const stats::summary& s) const noexcept {
    return quantile == 0.5 ? s.p50 : quantile == 0.9 ? s.p90 : s.p99;
  }
};

/// A device a pool may use, what one device-hour of it costs, and the weight precision it serves.
struct device_offer {
  any_device device;
  double usd_per_device_hour = 0.0;
  std::string rate_source;            ///< where the rate comes from
  precision weights = precision::fp8; ///< weight (and GEMM) precision it serves
};

/// How an instance's devices share the model.
enum class parallel_style {
  tp,    ///< tensor parallel over all devices (experts split like a dense FFN)
  tp_ep, ///< tensor-parallel attention, expert parallelism over all devices
  dp_ep, ///< data-parallel attention groups of one device, expert parallelism over all devices
  /// Tensor-parallel attention inside each scale-up domain (node), a data-parallel attention
  /// group per domain, expert parallelism over all devices: DeepSeek-V3's own prefill runs
  /// attention TP inside DP groups (arXiv:2412.19437 §3.4.1); only for instances spanning domains.
  node_dp_ep,
};

[[nodiscard]] constexpr std::string_view to_string(parallel_style s) noexcept {
  switch (s) {
  case parallel_style::tp:
    return "tp";
  case parallel_style::tp_ep:
    return "tp_ep";
  case parallel_style::dp_ep:
    return "dp_ep";
  case parallel_style::node_dp_ep:
    return "node_dp_ep";
  }
  return "?";
}

/// The shape of a pool's instances.
struct pool_shape {
  std::size_t device = 0; ///< index in search_space::devices
  int devices = 8;        ///< devices per instance
  parallel_style style = parallel_style::tp;
  std::int64_t max_batched_tokens = 2048; ///< step token budget per attention group
  int max_sequences_per_group = 256;      ///< the decode batch cap the screen chose

  friend bool operator==(const pool_shape&, const pool_shape&) = default;
};

/// A deployment: its pools, their instance counts and what runs on them.
struct deployment {
  serving::serving_mode mode = serving::serving_mode::colocated;
  pool_shape entry;         ///< the colocated pool, or the prefill pool
  int entry_instances = 1;  ///< instances of `entry`
  pool_shape decode;        ///< pd: the decode pool
  int decode_instances = 0; ///< pd: instances of `decode`
  int mtp_tokens = 0;       ///< MTP draft tokens verified per step (0: none)
  bool prefix_cache = false;
  std::string balancer = "least_loaded";

  [[nodiscard]] bool pd() const noexcept { return mode == serving::serving_mode::pd; }
  [[nodiscard]] int devices() const noexcept {
    return entry_instances * entry.devices + (pd() ? decode_instances * decode.devices : 0);
  }
};

/// What the search may choose from.
struct search_space {
  std::vector<device_offer> devices;       ///< every pool's candidates
  bool colocated = true;                   ///< try colocated deployments
  bool pd = true;                          ///< try PD-disaggregated deployments
  bool heterogeneous = true;               ///< PD pools may use different devices
  std::optional<std::size_t> prefill_on{}; ///< PD: the prefill pool's device (index); none: any
  std::optional<std::size_t> decode_on{};  ///< PD: the decode pool's device (index); none: any
  std::vector<int> instance_devices{1, 2, 4, 8, 16, 32}; ///< devices per instance
  std::vector<parallel_style> styles{}; ///< empty: tp for dense; tp_ep, dp_ep, node_dp_ep for MoE
  std::vector<std::int64_t> max_batched_tokens{2048, 8192}; ///< colocated and decode step budgets
  std::int64_t prefill_max_batched_tokens = 16384;          ///< the prefill pool's step budget
  int max_sequences_per_group = 512; ///< the largest decode batch cap considered
  std::vector<int> mtp_tokens{0, 1}; ///< MTP depths (models with an MTP module)
  /// MTP per-token acceptance: DeepSeek-V3 technical report (arXiv 2412.19437) §5.4.3, 85–90%
  /// for the second token.
  double mtp_acceptance = 0.85;
  std::vector<bool> prefix_cache{false, true}; ///< with and without a tiered prefix cache
  double cache_hbm_fraction = 0.2;             ///< share of KV HBM for cached prefixes
  precision kv_precision = precision::bf16;
  /// Routing: least_loaded always; cache_aware too where a prefix cache is on.
  bool cache_aware_routing = true;
  int max_devices = 0;     ///< device budget of a deployment; 0: none
  int max_instances = 256; ///< instances per pool the confirmation may grow to
  /// Candidates confirmed by simulation at most, in order of their bound; 0: every candidate
  /// whose bound is below the best cost found. The screen's bound is loose where prefill queues
  /// (it assumes every device busy), so a PD space can leave hundreds of candidates under it;
  /// the cap bounds the search's time, and the result says when it stopped there.
  int max_finalists = 64;
  /// The engine profile of a device (engine/engine_profile.hpp); empty: the roofline alone.
  std::function<engine::engine_profile(const any_device&)> engine_profile{};
  int threads = 0;        ///< confirmation threads; 0: the machine's
  std::uint64_t seed = 1; ///< seed of every simulation

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "plan::search_space";
    if (devices.empty())
      throw config_error(c, "devices", "(none) needs at least one device");
    for (const device_offer& d : devices)
      check_positive(c, "usd_per_device_hour", d.usd_per_device_hour);
    if (!colocated && !pd)
      throw config_error(c, "colocated", "(false) with pd false leaves nothing to search");
    for (const auto& [field, on] : {std::pair{"prefill_on", prefill_on}, {"decode_on", decode_on}})
      if (on && *on >= devices.size())
        throw config_error(
            c, field, fmt::format("({}) must index one of the {} devices", *on, devices.size()));
    if (instance_devices.empty())
      throw config_error(c, "instance_devices", "(none) needs at least one size");
    for (const int k : instance_devices)
      check_in_range(c, "instance_devices", k, 1, 1 << 16);
    if (max_batched_tokens.empty())
      throw config_error(c, "max_batched_tokens", "(none) needs at least one budget");
    for (const std::int64_t b : max_batched_tokens)
      check_in_range<std::int64_t>(c, "max_batched_tokens", b, 1, 1 << 24);
    check_in_range<std::int64_t>(c, "prefill_max_batched_tokens", prefill_max_batched_tokens, 1,
                                 1 << 24);
    check_in_range(c, "max_sequences_per_group", max_sequences_per_group, 1, 1 << 20);
    if (mtp_tokens.empty())
      throw config_error(c, "mtp_tokens", "(none) needs at least one depth (0: no MTP)");
    for (const int g : mtp_tokens)
      check_in_range(c, "mtp_tokens", g, 0, 8);
    check_in_range(c, "mtp_acceptance", mtp_acceptance, 0.0, 1.0);
    if (prefix_cache.empty())
      throw config_error(c, "prefix_cache", "(none) needs true, false or both");
    check_in_range(c, "cache_hbm_fraction", cache_hbm_fraction, 0.0, 0.9);
    check_non_negative(c, "max_devices", max_devices);
    check_in_range(c, "max_instances", max_instances, 1, 1 << 20);
    check_non_negative(c, "max_finalists", max_finalists);
    check_non_negative(c, "threads", threads);
  }
};

/// The load a workload puts on a deployment, as the screen sees it.
struct load_summary {
  double requests_per_s = 0.0;
  double mean_input = 0.0;     ///< prompt tokens
  double median_input = 0.0;   ///< prompt tokens
  double p90_input = 0.0;      ///< prompt tokens at the 90th percentile
  double p99_input = 0.0;      ///< prompt tokens at the 99th percentile
  double mean_output = 0.0;    ///< output tokens
  std::int64_t max_tokens = 0; ///< the longest request's prompt + output tokens
  /// Share of prompt tokens an unbounded prefix cache would hit (chained block hashes; 0 without).
  double ideal_hit_rate = 0.0;

  /// The summary of `w`. @throws config_error for an invalid workload or one spanning no time.
  [[nodiscard]] static load_summary of(const io::workload& w) {
    w.validate();
    const double span = w.requests.back().arrival_s - w.requests.front().arrival_s;
    if (!(span > 0.0))
      throw config_error("plan::load_summary", "workload",
                         fmt::format("('{}') spans no time: plan needs arrivals spread over "
                                     "time (a trace or a rate), or closed-loop clients",
                                     w.name));
    load_summary s = lengths_of(w);
    s.requests_per_s = (static_cast<double>(w.size()) - 1.0) / span;
    return s;
  }

  /// The summary of closed-loop clients `c` on the lengths of `w`: the request rate is the least
  /// a deployment meeting `o` serves, c.clients / (TTFT + (mean output − 1) × TPOT at the
  /// objectives), or c.request_rate if that is lower (a latency within the objectives completes
  /// each client's request in at most that time, at the objectives' quantile).
  /// @throws config_error for an invalid workload or closed loop.
  [[nodiscard]] static load_summary of(const io::workload& w, const serving::closed_loop& c,
                                       const objectives& o) {
    w.validate();
    c.validate();
    load_summary s = lengths_of(w);
    s.requests_per_s = static_cast<double>(c.clients) / o.request_latency_s(s.mean_output);
    if (c.request_rate > 0.0)
      s.requests_per_s = std::min(s.requests_per_s, c.request_rate);
    return s;
  }

private:
  /// Lengths, quantiles and prefix hits of `w` (no rate).
  [[nodiscard]] static load_summary lengths_of(const io::workload& w) {
    load_summary s;
    const double n = static_cast<double>(w.size());
    std::vector<double> inputs;
    inputs.reserve(w.size());
    double in = 0.0, out = 0.0, hit = 0.0;
    std::unordered_set<std::uint64_t> seen;
    for (const io::workload_request& q : w.requests) {
      in += static_cast<double>(q.input_tokens);
      out += static_cast<double>(q.output_tokens);
      inputs.push_back(static_cast<double>(q.input_tokens));
      s.max_tokens = std::max(s.max_tokens, q.input_tokens + q.output_tokens);
      // Chained hashes: a block hits while every block before it did.
      std::int64_t hits = 0;
      bool prefix = true;
      for (const std::uint64_t h : q.block_hashes) {
        prefix = prefix && seen.contains(h);
        hits += prefix ? 1 : 0;
        seen.insert(h);
      }
      hit += static_cast<double>(std::min(hits * w.block_tokens, q.input_tokens - 1));
    }
    s.mean_input = in / n;
    s.mean_output = out / n;
    s.ideal_hit_rate = in > 0.0 ? hit / in : 0.0;
    // The element at index floor(q·n) of the sorted prompts (the serving report's convention).
    std::sort(inputs.begin(), inputs.end());
    const auto at = [&](double q) {
      return inputs[std::min(inputs.size() - 1, static_cast<std::size_t>(q * n))];
    };
    s.median_input = at(0.5);
    s.p90_input = at(0.9);
    s.p99_input = at(0.99);
    return s;
  }

public:
  /// Prompt tokens at quantile q (0.5, 0.9 or 0.99).
  [[nodiscard]] double input_at(double q) const noexcept {
    return q >= 0.99 ? p99_input : q >= 0.9 ? p90_input : median_input;
  }
};

/// What the screen found a pool shape can do.
struct pool_capacity {
  bool feasible = false;
  std::string why;                   ///< why not, when not feasible
  double kv_sequences_per_group = 0; ///< sequences of the mean context the KV holds per group
  int batch_per_group = 0;           ///< the largest decode batch meeting the TPOT objective
  double decode_step_s = 0.0;        ///< its decode step
  double tokens_per_step = 1.0;      ///< output tokens per sequence per step (MTP: > 1)
  double decode_tokens_per_s = 0.0;  ///< output tokens/s of an instance at that batch
  double prefill_tokens_per_s = 0.0; ///< prompt tokens/s of an instance at its step budget
  /// The prompt at the objectives' quantile (its mean miss share) prefilled alone, s: above the
  /// TTFT objective, the shape is unlikely to meet it (the search tries it last).
  double quantile_prefill_s = 0.0;
  /// Decode operating points for the frontier: batches 1, 2, 4, … per group up to the KV limit.
  struct decode_point {
    int batch_per_group = 0;
    double step_s = 0.0;       ///< the decode step
    double tokens_per_s = 0.0; ///< output tokens/s of an instance
  };
  std::vector<decode_point> ladder;
};

/// A deployment the confirmation simulated, and what it measured.
struct evaluation {
  deployment d;
  bool meets = false;  ///< every objective met, nothing rejected
  double ttft_s = 0.0; ///< TTFT at the objectives' quantile
  double tpot_s = 0.0; ///< TPOT at the quantile
  std::int64_t rejected = 0;
  /// Of those, requests that fit no instance's KV memory even alone: more instances cannot help.
  std::int64_t rejected_too_long = 0;
  double usd_per_hour = 0.0;             ///< the deployment's devices at their rates
  double lower_bound_usd_per_hour = 0.0; ///< the screen's bound for its candidate
  double utilisation_entry = 0.0;        ///< mean busy share of the entry pool's instances
  double utilisation_decode = 0.0;       ///< pd: of the decode pool's
  double output_tokens_per_s = 0.0;
  double output_tokens_per_s_per_device = 0.0;
  double makespan_s = 0.0;
  double cache_hit_rate = 0.0; ///< prefix-cache block hit rate (all tiers)
  serving::usage use{};
  econ::price_sheet sheet{}; ///< prices at the operating point, idle included
};

/// A candidate of the screen: a deployment at its screened instance counts and its bound.
struct candidate {
  deployment d;
  double bound_usd_per_hour = 0.0;
  pool_capacity entry, decode; ///< the screen's view of each pool
  /// Whether the entry pool prefills the prompt at the objectives' quantile alone within the TTFT
  /// objective (pool_capacity::quantile_prefill_s); candidates that do not are tried last.
  bool hopeful = true;
};

/// The search's answer.
struct result {
  std::optional<evaluation> best; ///< the cheapest deployment meeting every objective
  /// Without a best: the deployment nearest to the objectives: of those simulated with nothing
  /// rejected, the cheapest whose worst ratio of a latency to its objective is within 5% of the
  /// smallest reached.
  std::optional<evaluation> closest;
  std::vector<evaluation> confirmed;      ///< every deployment simulated, in order
  std::vector<frontier_point> points;     ///< every analytic operating point
  std::vector<frontier_point> throughput; ///< frontier: tokens/s/device vs tokens/s/user
  std::vector<frontier_point> cost;       ///< frontier: $/M output vs tokens/s/user
  load_summary load;
  std::size_t shapes = 0; ///< pool shapes screened
  std::size_t infeasible_shapes = 0;
  std::vector<std::string> infeasible_reasons; ///< one per infeasible shape
  std::size_t candidates = 0;                  ///< deployments with a bound
  std::size_t simulated_candidates = 0;
  std::size_t simulations = 0; ///< discrete-event runs in all
  /// Whether the confirmation stopped at search_space::max_finalists with candidates left whose
  /// bound was below the best cost (then a cheaper deployment may exist).
  bool capped = false;
};

namespace detail {

/// The layout of a pool shape for `m` on `offer`.
[[nodiscard]] inline engine::parallel_layout layout_of(const model::model_config& m,
                                                       const search_space& s, const pool_shape& p,
                                                       int mtp_tokens) {
  const device_offer& offer = s.devices[p.device];
  const precision w = offer.weights;
  const int tp = p.style == parallel_style::dp_ep ? 1
                 : p.style == parallel_style::node_dp_ep
                     ? std::min(p.devices, offer.device.devices_per_node())
                     : p.devices;
  engine::parallel_layout l{.devices = p.devices,
                            .tp = tp,
                            .dp_attention = tp < p.devices,
                            .ep = p.style == parallel_style::tp ? 1 : p.devices,
                            .weight_prec = w,
                            .attention_prec = engine::attention_precision_for(w),
                            .kv_prec = s.kv_precision,
                            .dispatch_prec = w,
                            .combine_prec = precision::bf16,
                            .mtp_draft = mtp_tokens > 0 && m.mtp_layers > 0};
  if (s.engine_profile)
    l.overheads = s.engine_profile(offer.device);
  return l;
}

/// A short description of a pool shape.
[[nodiscard]] inline std::string describe(const search_space& s, const pool_shape& p) {
  return fmt::format("{}:{} {} {} b{}", s.devices[p.device].device.name(), p.devices,
                     to_string(p.style), to_string(s.devices[p.device].weights),
                     p.max_sequences_per_group);
}

/// The label of an analytic operating point's shape: the pool shape without its batch cap.
[[nodiscard]] inline std::string point_label(const search_space& s, const pool_shape& p, int mtp,
                                             bool cache) {
  return fmt::format("{}:{} {} {} {} tok{}{}", s.devices[p.device].device.name(), p.devices,
                     to_string(p.style), to_string(s.devices[p.device].weights),
                     p.max_batched_tokens, mtp > 0 ? fmt::format(", MTP {}", mtp) : "",
                     cache ? ", cache" : "");
}

} // namespace detail

/// A one-line description of a deployment, e.g. "pd 2 x (h800_sxm x16 dp_ep fp8 b256) + 1 x
/// (...), MTP 1, cache".
[[nodiscard]] inline std::string describe(const search_space& s, const deployment& d) {
  std::string out = d.pd() ? fmt::format("pd {} x ({}, {} tok) + {} x ({}, {} tok)",
                                         d.entry_instances, detail::describe(s, d.entry),
                                         d.entry.max_batched_tokens, d.decode_instances,
                                         detail::describe(s, d.decode), d.decode.max_batched_tokens)
                           : fmt::format("colocated {} x ({}, {} tok)", d.entry_instances,
                                         detail::describe(s, d.entry), d.entry.max_batched_tokens);
  if (d.mtp_tokens > 0)
    out += fmt::format(", MTP {}", d.mtp_tokens);
  if (d.prefix_cache)
    out += ", cache";
  if (d.balancer != "least_loaded")
    out += ", " + d.balancer;
  return out;
}

/// $ per hour of a deployment's devices at their rates.
[[nodiscard]] inline double usd_per_hour(const search_space& s, const deployment& d) {
  double usd = d.entry_instances * d.entry.devices * s.devices[d.entry.device].usd_per_device_hour;
  if (d.pd())
    usd += d.decode_instances * d.decode.devices * s.devices[d.decode.device].usd_per_device_hour;
  return usd;
}

/// The serving configuration of a deployment.
[[nodiscard]] inline serving::cluster_config cluster_config_of(const model::model_config& m,
                                                               const search_space& s,
                                                               const objectives& o,
                                                               const deployment& d) {
  serving::cluster_config c;
  c.mode = d.mode;
  const auto pool = [&](const pool_shape& p, int instances) {
    return serving::pool_config{
        .instances = instances,
        .layout = detail::layout_of(m, s, p, d.mtp_tokens),
        .scheduler = {.max_batched_tokens = p.max_batched_tokens,
                      .max_sequences_per_group = p.max_sequences_per_group}};
  };
  if (d.pd()) {
    c.prefill = pool(d.entry, d.entry_instances);
    c.decode = pool(d.decode, d.decode_instances);
  } else {
    c.colocated = pool(d.entry, d.entry_instances);
  }
  c.cache = {.enabled = d.prefix_cache, .hbm_fraction = s.cache_hbm_fraction};
  c.speculative = {.gamma = d.mtp_tokens, .alpha = s.mtp_acceptance};
  c.objective = {.ttft_s = o.ttft_s, .tpot_s = o.tpot_target_s()};
  return c;
}

/// The price sheet of a simulated deployment at its operating point: every device's time over
/// the run (idle included) at its rate, each pool's idle time given to its categories in
/// proportion to their busy time (to decode when a pool was never busy). `margin` in [0, 1).
/// @throws config_error for bad rates or a margin out of range.
[[nodiscard]] inline econ::price_sheet operating_point_sheet(const search_space& s,
                                                             const deployment& d,
                                                             const serving::report& r,
                                                             double margin = 0.0) {
  std::vector<econ::pool_time> pools;
  econ::device_usage total{.input_miss_tokens = static_cast<double>(r.use.input_miss_tokens),
                           .input_hit_tokens = static_cast<double>(r.use.input_hit_tokens),
                           .output_tokens = static_cast<double>(r.use.output_tokens)};
  const auto add_pool = [&](serving::instance_role role, const pool_shape& shape, int instances) {
    econ::pool_time p{.usd_per_device_hour = s.devices[shape.device].usd_per_device_hour};
    for (const serving::instance_report& i : r.instances) {
      const bool decode_role = i.role == serving::instance_role::decode;
      if (decode_role != (role == serving::instance_role::decode))
        continue;
      p.prefill_device_s += i.stats.prefill_device_s;
      p.cache_load_device_s += i.stats.cache_load_device_s;
      p.decode_device_s += i.stats.decode_device_s;
    }
    const double all = r.use.makespan_s * instances * shape.devices;
    const double busy = p.prefill_device_s + p.cache_load_device_s + p.decode_device_s;
    if (busy > 0.0) {
      const double scale = std::max(1.0, all / busy);
      p.prefill_device_s *= scale;
      p.cache_load_device_s *= scale;
      p.decode_device_s *= scale;
    } else {
      p.decode_device_s = all;
    }
    total.prefill_device_s += p.prefill_device_s;
    total.cache_load_device_s += p.cache_load_device_s;
    total.decode_device_s += p.decode_device_s;
    pools.push_back(p);
  };
  if (d.pd()) {
    add_pool(serving::instance_role::prefill, d.entry, d.entry_instances);
    add_pool(serving::instance_role::decode, d.decode, d.decode_instances);
  } else {
    add_pool(serving::instance_role::colocated, d.entry, d.entry_instances);
  }
  return econ::make_price_sheet(total, std::span<const econ::pool_time>(pools), margin);
}

/// The planner of a model on a workload, with attention policy `Attention` (attention::full, or
/// attention::topk_sparse for DSA-style sparse attention).
template <attention::attention_policy Attention = attention::full> class basic_planner {
public:
  using engine_type = engine::basic_step_cost<any_device, Attention>;
  using policies = serving::with_attention<Attention, serving::runtime_policies>;
  using cluster_type = serving::basic_cluster<any_device, policies>;

  /// The planner keeps a reference to `w`, which must outlive it (a temporary is refused at
  /// compile time). @throws config_error for a bad model, space, objectives or workload.
  basic_planner(model::model_config m, search_space s, objectives o, const io::workload&& w,
                typename Attention::config attention = {}) = delete;
  basic_planner(model::model_config m, search_space s, objectives o, const io::workload& w,
                typename Attention::config attention = {})
      : basic_planner(std::move(m), std::move(s), o, w, std::nullopt, std::move(attention)) {}

  /// The planner of closed-loop clients `clients` on the lengths of `lengths` (file comment):
  /// every confirmation runs them (serving::basic_cluster::run with a closed loop). It keeps a
  /// reference to `lengths`, which must outlive it.
  /// @throws config_error for a bad model, space, objectives, workload or closed loop.
  basic_planner(model::model_config m, search_space s, objectives o, const io::workload&& lengths,
                const serving::closed_loop& clients,
                typename Attention::config attention = {}) = delete;
  basic_planner(model::model_config m, search_space s, objectives o, const io::workload& lengths,
                const serving::closed_loop& clients, typename Attention::config attention = {})
      : basic_planner(std::move(m), std::move(s), o, lengths,
                      std::optional<serving::closed_loop>(clients), std::move(attention)) {}

private:
  basic_planner(model::model_config m, search_space s, objectives o, const io::workload& w,
                std::optional<serving::closed_loop> clients, typename Attention::config attention)
      : model_(std::move(m)), space_(std::move(s)), obj_(o), workload_(&w),
        clients_(std::move(clients)), attention_(std::move(attention)) {
    model_.validate();
    space_.validate();
    obj_.validate();
    load_ = clients_ ? load_summary::of(w, *clients_, obj_) : load_summary::of(w);
    if (model_.mtp_layers <= 0) {
      // Without an MTP module there is nothing to draft with: depth 0 only.
      space_.mtp_tokens = {0};
    }
    if (space_.styles.empty())
      space_.styles = model_.is_moe() ? std::vector<parallel_style>{parallel_style::tp_ep,
                                                                    parallel_style::dp_ep,
                                                                    parallel_style::node_dp_ep}
                                      : std::vector<parallel_style>{parallel_style::tp};
  }

public:
  [[nodiscard]] const search_space& space() const noexcept { return space_; }
  /// The closed-loop clients the confirmations run, or none (the workload's arrivals).
  [[nodiscard]] const std::optional<serving::closed_loop>& clients() const noexcept {
    return clients_;
  }
  [[nodiscard]] const objectives& goals() const noexcept { return obj_; }
  [[nodiscard]] const load_summary& load() const noexcept { return load_; }
  [[nodiscard]] const model::model_config& model() const noexcept { return model_; }

  /// The screen's view of a pool shape running with `mtp_tokens` draft tokens, and with a prefix
  /// cache or not (it takes a share of the KV memory).
  [[nodiscard]] pool_capacity capacity(const pool_shape& p, int mtp_tokens, bool cache) const {
    pool_capacity c;
    try {
      const engine_type e(model_, detail::layout_of(model_, space_, p, mtp_tokens), attention_,
                          space_.devices[p.device].device);
      const double kv = e.kv_capacity_bytes(0.10) * (cache ? 1.0 - space_.cache_hbm_fraction : 1.0);
      const auto context = static_cast<std::int64_t>(load_.mean_input + load_.mean_output / 2.0);
      const double groups = e.layout().attention_groups();
      c.kv_sequences_per_group =
          kv / groups / e.kv_bytes_per_device(std::max<std::int64_t>(1, context));
      c.tokens_per_step =
          mtp_tokens > 0 ? speculative::expected_tokens_per_step(space_.mtp_acceptance, mtp_tokens)
                         : 1.0;
      const int kv_batch = static_cast<int>(
          std::min<double>(c.kv_sequences_per_group, space_.max_sequences_per_group));
      if (kv_batch < 1) {
        c.why = fmt::format("KV holds {:.2f} sequences of {} tokens per attention group",
                            c.kv_sequences_per_group, context);
        return c;
      }
      const auto decode_step = [&](int b) {
        engine::step_batch s;
        s.totals.decode_sequences = static_cast<double>(b) * groups;
        s.totals.decode_context_sum = s.totals.decode_sequences * static_cast<double>(context);
        s.speculative_tokens = mtp_tokens;
        return e(s).total_s;
      };
      const double target = obj_.tpot_target_s();
      // The step grows with the batch: the largest batch whose TPOT meets the target.
      if (const double one = decode_step(1) / c.tokens_per_step; one > target) {
        c.why = fmt::format("a decode step of one sequence per group takes {:.1f} ms per token",
                            1e3 * one);
        return c;
      }
      int lo = 1, hi = kv_batch;
      while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (decode_step(mid) / c.tokens_per_step <= target)
          lo = mid;
        else
          hi = mid - 1;
      }
      c.batch_per_group = lo;
      c.decode_step_s = decode_step(lo);
      c.decode_tokens_per_s = lo * groups * c.tokens_per_step / c.decode_step_s;
      // Prefill: a full step budget per group, chunks of the mean prompt's length.
      const double miss = cache ? 1.0 - load_.ideal_hit_rate : 1.0;
      const auto chunk = std::max<std::int64_t>(
          1, std::min<std::int64_t>(p.max_batched_tokens,
                                    static_cast<std::int64_t>(load_.mean_input * miss)));
      engine::step_batch pf;
      const auto chunks = std::max<std::int64_t>(1, p.max_batched_tokens / chunk);
      for (std::int64_t g = 0; g < static_cast<std::int64_t>(groups); ++g)
        for (std::int64_t k = 0; k < chunks; ++k)
          pf.add_prefill(chunk);
      c.prefill_tokens_per_s = pf.tokens() / e(pf).total_s;
      // A prompt's miss tokens alone, chunk by chunk on one attention group: no deployment of
      // this shape gives it a faster first token.
      const auto alone_s = [&](double input) {
        const auto prompt = static_cast<std::int64_t>(input * miss);
        double t = 0.0;
        for (std::int64_t done = 0; done < prompt;) {
          const std::int64_t n = std::min(p.max_batched_tokens, prompt - done);
          engine::step_batch one;
          one.add_prefill(n, done);
          t += e(one).total_s;
          done += n;
        }
        return t;
      };
      const double median_s = alone_s(load_.median_input);
      if (median_s > obj_.ttft_s) {
        c.why = fmt::format("prefills the median prompt ({:.0f} tokens) alone in {:.2f} s",
                            load_.median_input * miss, median_s);
        return c;
      }
      c.quantile_prefill_s =
          obj_.quantile == 0.5 ? median_s : alone_s(load_.input_at(obj_.quantile));
      for (int b = 1; b <= kv_batch; b *= 2) {
        const double step = decode_step(b);
        c.ladder.push_back({b, step, b * groups * c.tokens_per_step / step});
      }
      c.feasible = true;
    } catch (const config_error& e) {
      c.why = e.what();
    }
    return c;
  }

  /// The screen: every candidate deployment with its instance counts and cost bound, hopeful
  /// ones first, each tier cheapest first (ties in the order they were built). Fills the
  /// result's shape counts and frontier.
  [[nodiscard]] std::vector<candidate> screen(result& out) const {
    std::vector<candidate> cands;
    std::map<std::tuple<std::size_t, int, int, std::int64_t, int, bool>, pool_capacity> memo;
    const auto cap = [&](pool_shape p, int mtp, bool cache) {
      const auto key = std::make_tuple(p.device, p.devices, static_cast<int>(p.style),
                                       p.max_batched_tokens, mtp, cache);
      auto it = memo.find(key);
      if (it == memo.end()) {
        it = memo.emplace(key, capacity(p, mtp, cache)).first;
        ++out.shapes;
        if (!it->second.feasible) {
          ++out.infeasible_shapes;
          out.infeasible_reasons.push_back(
              fmt::format("{}, MTP {}, {}: {}", detail::describe(space_, p), mtp,
                          cache ? "cache" : "no cache", it->second.why));
        }
      }
      return it->second;
    };
    const double lambda = load_.requests_per_s;
    // The fewest instances that carry `load` instances' worth of work, all busy.
    const auto instances = [](double load) {
      return std::max(1, static_cast<int>(std::ceil(load - 1e-9)));
    };
    // Adds deployment `d` with each routing policy its cache allows, within the device budget.
    const auto add = [&](deployment d, const pool_capacity& entry, const pool_capacity& decode) {
      if (space_.max_devices > 0 && d.devices() > space_.max_devices)
        return;
      const bool cache_aware = d.prefix_cache && space_.cache_aware_routing;
      for (const std::string_view b : {"least_loaded", "cache_aware"}) {
        if (b == "cache_aware" && !cache_aware)
          break;
        d.balancer = std::string(b);
        cands.push_back({.d = d,
                         .bound_usd_per_hour = usd_per_hour(space_, d),
                         .entry = entry,
                         .decode = decode,
                         .hopeful = !(entry.quantile_prefill_s > obj_.ttft_s)});
      }
    };
    std::vector<pool_shape> shapes;
    for (std::size_t dev = 0; dev < space_.devices.size(); ++dev)
      for (const int k : space_.instance_devices)
        for (const parallel_style st : space_.styles)
          if (st != parallel_style::node_dp_ep || k > space_.devices[dev].device.devices_per_node())
            shapes.push_back({.device = dev, .devices = k, .style = st});
    for (const int mtp : space_.mtp_tokens) {
      for (const bool cache : space_.prefix_cache) {
        const double miss_input = load_.mean_input * (cache ? 1.0 - load_.ideal_hit_rate : 1.0);
        // Colocated: an instance spends I_miss / prefill rate + O / decode rate per request.
        if (space_.colocated)
          for (pool_shape p : shapes)
            for (const std::int64_t budget : space_.max_batched_tokens) {
              p.max_batched_tokens = budget;
              const pool_capacity c = cap(p, mtp, cache);
              if (!c.feasible)
                continue;
              p.max_sequences_per_group = c.batch_per_group;
              const double per_request =
                  miss_input / c.prefill_tokens_per_s + load_.mean_output / c.decode_tokens_per_s;
              add({.mode = serving::serving_mode::colocated,
                   .entry = p,
                   .entry_instances = instances(lambda * per_request),
                   .decode = {},
                   .decode_instances = 0,
                   .mtp_tokens = mtp,
                   .prefix_cache = cache,
                   .balancer = {}},
                  c, {});
            }
        if (!space_.pd)
          continue;
        for (pool_shape pre : shapes) {
          if (space_.prefill_on && pre.device != *space_.prefill_on)
            continue;
          pre.max_batched_tokens = space_.prefill_max_batched_tokens;
          // The prefill pool decodes nothing: its screen uses MTP 0 and its own budget, and its
          // instances take the largest batch cap.
          const pool_capacity pc = cap(pre, 0, cache);
          if (!pc.feasible)
            continue;
          const int np = instances(lambda * miss_input / pc.prefill_tokens_per_s);
          pre.max_sequences_per_group = space_.max_sequences_per_group;
          for (pool_shape dec : shapes) {
            if ((!space_.heterogeneous && dec.device != pre.device) ||
                (space_.decode_on && dec.device != *space_.decode_on))
              continue;
            for (const std::int64_t budget : space_.max_batched_tokens) {
              dec.max_batched_tokens = budget;
              const pool_capacity dc = cap(dec, mtp, false);
              if (!dc.feasible)
                continue;
              dec.max_sequences_per_group = dc.batch_per_group;
              add({.mode = serving::serving_mode::pd,
                   .entry = pre,
                   .entry_instances = np,
                   .decode = dec,
                   .decode_instances =
                       instances(lambda * load_.mean_output / dc.decode_tokens_per_s),
                   .mtp_tokens = mtp,
                   .prefix_cache = cache,
                   .balancer = {}},
                  pc, dc);
            }
          }
        }
      }
    }
    std::stable_sort(cands.begin(), cands.end(), [](const candidate& a, const candidate& b) {
      if (a.hopeful != b.hopeful)
        return a.hopeful;
      return a.bound_usd_per_hour < b.bound_usd_per_hour;
    });
    out.candidates = cands.size();
    frontier(out, memo);
    return cands;
  }

  /// The serving report of deployment `d` on the workload (its every request, or the closed
  /// loop's measured ones).
  /// @throws config_error when the deployment cannot be built.
  [[nodiscard]] serving::report simulate(const deployment& d) const {
    serving::policy_values<policies> pv;
    pv.balancer = serving::parse_balancer(d.balancer);
    pv.admission = serving::length_threshold{.threshold_tokens = 0};
    const any_device& entry = space_.devices[d.entry.device].device;
    const any_device& dec = space_.devices[d.pd() ? d.decode.device : d.entry.device].device;
    cluster_type cluster(model_, cluster_config_of(model_, space_, obj_, d), attention_, entry, dec,
                         pv);
    return clients_ ? cluster.run(*workload_, *clients_, space_.seed)
                    : cluster.run(*workload_, space_.seed);
  }

  /// Simulates deployment `d` on the workload and measures it against the objectives.
  /// @throws config_error when the deployment cannot be built.
  [[nodiscard]] evaluation evaluate(const deployment& d) const {
    const serving::report r = simulate(d);
    evaluation e{.d = d};
    e.ttft_s = obj_.at(r.latency.ttft_s);
    e.tpot_s = obj_.at(r.latency.tpot_s);
    e.rejected = r.rejected;
    e.rejected_too_long =
        r.rejected_by[static_cast<std::size_t>(serving::rejection_reason::exceeds_kv_capacity)];
    e.meets = r.rejected == 0 && r.completed > 0 && !(e.ttft_s > obj_.ttft_s) &&
              !(e.tpot_s > obj_.tpot_target_s());
    e.usd_per_hour = usd_per_hour(space_, d);
    double busy[2] = {0.0, 0.0};
    int count[2] = {0, 0};
    for (const serving::instance_report& i : r.instances) {
      const int k = i.role == serving::instance_role::decode ? 1 : 0;
      busy[k] += i.utilisation;
      ++count[k];
    }
    e.utilisation_entry = count[0] > 0 ? busy[0] / count[0] : 0.0;
    e.utilisation_decode = count[1] > 0 ? busy[1] / count[1] : 0.0;
    e.makespan_s = r.makespan_s;
    e.output_tokens_per_s = r.makespan_s > 0.0 ? r.output_tokens / r.makespan_s : 0.0;
    e.output_tokens_per_s_per_device = e.output_tokens_per_s / d.devices();
    if (r.cache.looked_up_blocks > 0)
      e.cache_hit_rate = static_cast<double>(r.cache.hit_blocks[0] + r.cache.hit_blocks[1] +
                                             r.cache.hit_blocks[2]) /
                         static_cast<double>(r.cache.looked_up_blocks);
    e.use = r.use;
    if (r.use.output_tokens > 0)
      e.sheet = operating_point_sheet(space_, d, r);
    return e;
  }

  /// The search (see the file comment).
  [[nodiscard]] result search() const {
    result out;
    out.load = load_;
    std::vector<candidate> cands = screen(out);
    std::optional<double> first_left; // the bound of the first candidate beyond the cap
    if (space_.max_finalists > 0 && cands.size() > static_cast<std::size_t>(space_.max_finalists)) {
      // An unhopeful candidate beyond the cap matters only while nothing meets the objectives.
      const candidate& left = cands[static_cast<std::size_t>(space_.max_finalists)];
      first_left = left.hopeful ? left.bound_usd_per_hour : std::numeric_limits<double>::infinity();
      cands.resize(static_cast<std::size_t>(space_.max_finalists));
    }
    constexpr std::size_t wave = 4;
    std::optional<std::pair<double, std::size_t>> best; // (cost, candidate index)
    for (std::size_t start = 0, end = 0; start < cands.size(); start = end) {
      // Hopeful candidates come first, each tier by its bound: stop at the first bound that
      // reaches the best cost, and at the unhopeful tier once a deployment meets the objectives
      // (the rest are simulated only to find the nearest).
      if (best && (!(cands[start].bound_usd_per_hour < best->first) || !cands[start].hopeful))
        break;
      end = std::min(cands.size(), start + wave);
      for (std::size_t k = start + 1; k < end; ++k)
        if (cands[k].hopeful != cands[start].hopeful)
          end = k;
      std::vector<std::vector<evaluation>> runs(end - start);
      const double limit = best ? best->first : std::numeric_limits<double>::infinity();
      parallel_for(end - start,
                   [&](std::size_t k) { runs[k] = confirm(cands[start + k].d, limit); });
      for (std::size_t k = 0; k < runs.size(); ++k) {
        ++out.simulated_candidates;
        out.simulations += runs[k].size();
        for (evaluation& e : runs[k]) {
          e.lower_bound_usd_per_hour = cands[start + k].bound_usd_per_hour;
          if (e.meets && (!best || e.usd_per_hour < best->first)) {
            best = std::make_pair(e.usd_per_hour, start + k);
            out.best = e;
          }
          out.confirmed.push_back(std::move(e));
        }
      }
    }
    out.capped = first_left && (!best || *first_left < best->first);
    if (out.best) {
      mark_chosen(out);
    } else {
      // The nearest: the cheapest deployment within 5% of the smallest worst ratio reached (past
      // that, more devices buy little).
      const auto worst = [&](const evaluation& e) {
        return e.rejected > 0 ? std::numeric_limits<double>::infinity()
                              : std::max(e.ttft_s / obj_.ttft_s, e.tpot_s / obj_.tpot_target_s());
      };
      double nearest = std::numeric_limits<double>::infinity();
      for (const evaluation& e : out.confirmed)
        nearest = std::min(nearest, worst(e));
      for (const evaluation& e : out.confirmed)
        if (std::isfinite(nearest) && worst(e) <= 1.05 * nearest &&
            (!out.closest || e.usd_per_hour < out.closest->usd_per_hour))
          out.closest = e;
    }
    return out;
  }

  /// Every candidate of the screen at every instance count up to `max_instances` per pool
  /// simulated: the cheapest deployment meeting the objectives in the whole space (for spaces
  /// small enough; the count of runs is candidates × max_instances (× max_instances for PD)).
  [[nodiscard]] result exhaustive(int max_instances) const {
    check_in_range("plan::exhaustive", "max_instances", max_instances, 1, 64);
    result out;
    out.load = load_;
    const std::vector<candidate> cands = screen(out);
    // Each distinct shape combination once, whatever its screened counts.
    std::vector<deployment> all;
    for (const candidate& c : cands)
      for (int a = 1; a <= max_instances; ++a)
        for (int b = 1; b <= (c.d.pd() ? max_instances : 1); ++b) {
          deployment d = c.d;
          d.entry_instances = a;
          d.decode_instances = c.d.pd() ? b : 0;
          if (space_.max_devices == 0 || d.devices() <= space_.max_devices)
            all.push_back(d);
        }
    std::vector<std::optional<evaluation>> runs(all.size());
    parallel_for(all.size(), [&](std::size_t k) { runs[k] = try_evaluate(all[k]); });
    for (std::optional<evaluation>& e : runs) {
      if (!e)
        continue;
      ++out.simulations;
      if (e->meets && (!out.best || e->usd_per_hour < out.best->usd_per_hour))
        out.best = *e;
      out.confirmed.push_back(std::move(*e));
    }
    out.simulated_candidates = all.size();
    return out;
  }

private:
  /// Runs `f(k)` for k in [0, n) on the space's threads.
  template <class F> void parallel_for(std::size_t n, F&& f) const {
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t threads = std::min<std::size_t>(
        n, space_.threads > 0 ? static_cast<std::size_t>(space_.threads) : hw);
    if (threads <= 1) {
      for (std::size_t k = 0; k < n; ++k)
        f(k);
      return;
    }
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (std::size_t k = next++; k < n; k = next++) {
          try {
            f(k);
          } catch (...) {
            const std::lock_guard lock(error_mutex);
            if (!error)
              error = std::current_exception();
          }
        }
      });
    for (std::thread& t : pool)
      t.join();
    if (error)
      std::rethrow_exception(error);
  }

  /// evaluate(d), or nothing when the deployment cannot be built (a layout the screen could not
  /// rule out, such as a cache that leaves no room for a sequence).
  [[nodiscard]] std::optional<evaluation> try_evaluate(const deployment& d) const {
    try {
      return evaluate(d);
    } catch (const config_error&) {
      return std::nullopt;
    }
  }

  /// A candidate's simulations: its counts grow until the objectives are met (or its cost reaches
  /// `limit`, or a pool reaches max_instances), then shrink while they are still met.
  [[nodiscard]] std::vector<evaluation> confirm(deployment d, double limit) const {
    std::vector<evaluation> runs;
    const auto affordable = [&](const deployment& x) {
      return usd_per_hour(space_, x) < limit &&
             (space_.max_devices == 0 || x.devices() <= space_.max_devices);
    };
    std::optional<evaluation> pass;
    double worst_before = std::numeric_limits<double>::infinity();
    while (affordable(d)) {
      std::optional<evaluation> tried = try_evaluate(d);
      if (!tried)
        break;
      evaluation e = std::move(*tried);
      runs.push_back(e);
      if (e.meets) {
        pass = e;
        break;
      }
      // A request that fits no instance even alone is rejected at any count: the shape cannot
      // serve the workload.
      if (e.rejected_too_long > 0)
        break;
      const bool ttft_bad = e.rejected > 0 || e.ttft_s > obj_.ttft_s;
      const bool tpot_bad = e.tpot_s > obj_.tpot_target_s();
      // More instances shorten queues, not steps: once a growth no longer cuts the worst
      // objective's excess by 5%, the latency is the shape's own and the candidate is dropped.
      const double worst = e.rejected > 0
                               ? std::numeric_limits<double>::infinity()
                               : std::max(e.ttft_s / obj_.ttft_s, e.tpot_s / obj_.tpot_target_s());
      if (std::isfinite(worst) && worst > 0.95 * worst_before)
        break;
      worst_before = worst;
      const auto grow = [](int n) { return n + std::max(1, n / 4); };
      if (!d.pd()) {
        d.entry_instances = grow(d.entry_instances);
      } else {
        // TTFT is the prefill pool's, unless the decode pool is the busier one (a full decode
        // pool delays the first token too).
        const bool decode_busier = e.utilisation_decode > e.utilisation_entry;
        if (tpot_bad || (ttft_bad && decode_busier))
          d.decode_instances = grow(d.decode_instances);
        if (ttft_bad && !decode_busier)
          d.entry_instances = grow(d.entry_instances);
      }
      if (d.entry_instances > space_.max_instances || d.decode_instances > space_.max_instances)
        break;
    }
    if (!pass)
      return runs;
    // Shrink each pool while the objectives still hold.
    for (int* n : {&d.entry_instances, &d.decode_instances}) {
      if (n == &d.decode_instances && !d.pd())
        continue;
      while (*n > 1) {
        --*n;
        const std::optional<evaluation> e = try_evaluate(d);
        if (e)
          runs.push_back(*e);
        if (!e || !e->meets) {
          ++*n;
          break;
        }
      }
    }
    return runs;
  }

  /// The analytic operating points of every feasible shape (the decode ladders of the memoised
  /// capacities), and their frontiers.
  template <class Memo> void frontier(result& out, const Memo& memo) const {
    for (const auto& [key, c] : memo) {
      if (!c.feasible)
        continue;
      const auto& [dev, k, style, budget, mtp, cache] = key;
      const pool_shape p{.device = dev,
                         .devices = k,
                         .style = static_cast<parallel_style>(style),
                         .max_batched_tokens = budget};
      const double miss = load_.mean_input * (cache ? 1.0 - load_.ideal_hit_rate : 1.0);
      const double rate = space_.devices[dev].usd_per_device_hour;
      for (const pool_capacity::decode_point& d : c.ladder) {
        // Device-seconds per output token: decode, plus the prefill of its share of prompt.
        const double device_s =
            k / d.tokens_per_s +
            (load_.mean_output > 0 ? miss / load_.mean_output : 0.0) * k / c.prefill_tokens_per_s;
        out.points.push_back(
            {.shape = detail::point_label(space_, p, mtp, cache),
             .user_tokens_per_s = c.tokens_per_step / d.step_s,
             .tokens_per_s_per_device = 1.0 / device_s,
             .usd_per_million_output = device_s * rate / units::hour_s * units::mega,
             .batch_per_group = d.batch_per_group,
             .tpot_s = d.step_s / c.tokens_per_step,
             .chosen = false});
      }
    }
    out.throughput = throughput_frontier(out.points);
    out.cost = cost_frontier(out.points);
  }

  /// Marks the frontier points of the chosen deployment's decode shape.
  void mark_chosen(result& out) const {
    const deployment& d = out.best->d;
    const pool_shape& p = d.pd() ? d.decode : d.entry;
    const std::string shape =
        detail::point_label(space_, p, d.mtp_tokens, d.prefix_cache && !d.pd());
    for (std::vector<frontier_point>* v : {&out.points, &out.throughput, &out.cost})
      for (frontier_point& f : *v)
        f.chosen = f.shape == shape;
  }

  model::model_config model_;
  search_space space_;
  objectives obj_;
  const io::workload* workload_;
  std::optional<serving::closed_loop> clients_; ///< closed-loop clients, or the arrivals
  typename Attention::config attention_;
  load_summary load_;
};

/// The planner with full attention.
using planner = basic_planner<attention::full>;

} // namespace infercost::plan
