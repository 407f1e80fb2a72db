#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/moe/cost.hpp"
#include "infercost/moe/router.hpp"

using namespace infercost;
using moe::row_matrix;

TEMPLATE_TEST_CASE("MoE cost on one device is the routed FLOPs with no communication", "[moe]",
                   infercost::h800_sxm, infercost::ascend_910b) {
  const TestType dev;
  const model::model_config m = model::presets::qwen3_30b_a3b();
  const moe::moe_cost c = moe::moe_layer_cost(dev, m, 1024, {.ep_size = 1}, precision::bf16);
  // 1024 tokens · 8 experts · 2 · 3 matrices · 2048 · 768 (Qwen3-30B-A3B config.json).
  REQUIRE(c.experts.flops == Approx(1024.0 * 8 * 2 * 3 * 2048 * 768));
  REQUIRE(c.router.flops == Approx(2.0 * 1024 * 2048 * 128));
  REQUIRE(c.dispatch_s == 0.0);
  REQUIRE(c.combine_s == 0.0);
  REQUIRE(c.imbalance() == Approx(1.0));
  // 1024 uniform tokens touch all 128 experts: 128·(1 − (1 − 8/128)^1024) ≈ 128.
  REQUIRE(c.touched_slots == Approx(128.0));
  REQUIRE(c.experts.bytes_read >= 128.0 * 3 * 2048 * 768 * 2);
  REQUIRE(std::isfinite(c.total_s()));
  REQUIRE(c.total_s() > 0.0);
  // One decode token reads 8 experts' weights.
  const moe::moe_cost one = moe::moe_layer_cost(dev, m, 1, {.ep_size = 1}, precision::bf16);
  REQUIRE(one.touched_slots == Approx(8.0));
  const moe::layer_cost_model model(moe::router_config::from_model(m), {.ep_size = 1},
                                    precision::bf16);
  REQUIRE(model.distinct_experts(1) == Approx(8.0));
  REQUIRE(model.distinct_experts(1024) == Approx(c.touched_slots));
}

TEMPLATE_TEST_CASE("skew slows the busiest device and replication recovers it", "[moe]",
                   infercost::h800_sxm, infercost::ascend_910b) {
  const TestType dev;
  const precision p = dev.native_weight_precision(); // FP8, or INT8 where there is no FP8
  const model::model_config m = model::presets::deepseek_v3();
  const std::vector<double> pop = moe::zipf_popularity(256, 1.0, 1);
  const double tokens = 32 * 4096.0;
  const moe::moe_cost uniform = moe::moe_layer_cost(dev, m, tokens, {.ep_size = 32}, p);
  const moe::moe_cost skewed = moe::moe_layer_cost(dev, m, tokens, {.ep_size = 32}, p, pop);
  const moe::moe_cost replicated =
      moe::moe_layer_cost(dev, m, tokens, {.ep_size = 32, .redundant_experts = 32}, p, pop);
  INFO("imbalance uniform " << uniform.imbalance() << " skewed " << skewed.imbalance()
                            << " replicated " << replicated.imbalance());
  REQUIRE(uniform.imbalance() == Approx(1.0));
  REQUIRE(skewed.imbalance() > 2.0);
  REQUIRE(replicated.imbalance() < 1.2);
  REQUIRE(skewed.experts_s > uniform.experts_s);
  REQUIRE(replicated.experts_s < skewed.experts_s);
  REQUIRE(replicated.total_s() < skewed.total_s());
  // 32 devices in 4 nodes: both links carry traffic.
  REQUIRE(uniform.dispatch_intra.bytes > 0.0);
  REQUIRE(uniform.dispatch_inter.bytes > 0.0);
  REQUIRE(std::isfinite(skewed.total_s()));
}

TEST_CASE("dispatch traffic splits by where the experts live", "[moe]") {
  const h800_sxm dev;
  const moe::router_config cfg{.num_experts = 64, .top_k = 4, .hidden = 1024, .expert_hidden = 512};
  // 8 devices in one node, uniform: each device sends T/8·k copies, 7/8 of them leave it, all
  // over NVLink: leaving bytes = 1024/8·4·7/8·1024·2 = 917,504.
  const moe::moe_cost one_node =
      moe::moe_layer_cost(dev, cfg, 1024, {.ep_size = 8}, precision::bf16);
  REQUIRE(one_node.dispatch_inter.bytes == 0.0);
  REQUIRE(one_node.dispatch_intra.bytes * 7.0 / 8.0 == Approx(1024.0 / 8 * 4 * 7 / 8 * 1024 * 2));
  // 16 devices on 2 nodes: 7/16 of the copies stay in the node (but leave the device), 8/16 go
  // over the NIC.
  const moe::moe_cost two_nodes =
      moe::moe_layer_cost(dev, cfg, 1024, {.ep_size = 16}, precision::bf16);
  const double sent = 1024.0 / 16 * 4 * 1024 * 2;
  REQUIRE(two_nodes.dispatch_intra.bytes * 7.0 / 8.0 == Approx(sent * 7 / 16));
  REQUIRE(two_nodes.dispatch_inter.bytes * 15.0 / 16.0 == Approx(sent * 8 / 16));
  // FP8 dispatch halves the dispatch bytes, not the combine bytes.
  const moe::moe_cost fp8 = moe::moe_layer_cost(
      dev, cfg, 1024, {.ep_size = 16, .dispatch_precision = precision::fp8}, precision::bf16);
  REQUIRE(fp8.dispatch_inter.bytes == Approx(two_nodes.dispatch_inter.bytes / 2));
  REQUIRE(fp8.combine_inter.bytes == Approx(two_nodes.combine_inter.bytes));
}

TEST_CASE("MoE cost rejects bad layouts", "[moe]") {
  const h800_sxm dev;
  const moe::router_config cfg{.num_experts = 64, .top_k = 4, .hidden = 64, .expert_hidden = 32};
  REQUIRE_THROWS_WITH(moe::moe_layer_cost(dev, cfg, 16, {.ep_size = 0}, precision::bf16),
                      "moe::ep_layout: ep_size (0) must be > 0");
  REQUIRE_THROWS_WITH(moe::moe_layer_cost(dev, cfg, 16, {.ep_size = 6}, precision::bf16),
                      "moe::ep_layout: ep_size (6) must divide num_experts + redundant_experts "
                      "(64)");
  REQUIRE_THROWS_WITH(
      moe::moe_layer_cost(dev, cfg, 16, {.ep_size = 4, .redundant_experts = -1}, precision::bf16),
      "moe::ep_layout: redundant_experts (-1) must be >= 0");
  REQUIRE_THROWS_WITH(
      moe::moe_layer_cost(dev, cfg, 16,
                          {.ep_size = 12, .devices_per_node = 8, .redundant_experts = 8},
                          precision::bf16),
      "moe::ep_layout: devices_per_node (8) must divide ep_size (12)");
  const std::vector<double> short_pop(10, 1.0);
  REQUIRE_THROWS_WITH(moe::moe_layer_cost(dev, cfg, 16, {.ep_size = 4}, precision::bf16, short_pop),
                      "moe::moe_layer_cost: popularity.size (10) must equal num_experts (64)");
  REQUIRE_THROWS_WITH(moe::moe_layer_cost(dev, cfg, -1, {.ep_size = 4}, precision::bf16),
                      "moe::moe_layer_cost: tokens (-1) must be >= 0");
  REQUIRE_THROWS_AS(
      moe::moe_layer_cost(dev, model::presets::llama3_8b(), 16, {.ep_size = 4}, precision::bf16),
      config_error);
}

TEST_CASE("the EPLB plan of a layer cost model does not depend on the token count", "[moe]") {
  // Replication and packing compare load ratios, so the plan computed from per-token inclusion
  // probabilities equals the plan computed from the loads of any batch size.
  const model::model_config m = model::presets::deepseek_v3();
  const std::vector<double> pop = moe::zipf_popularity(256, 1.2, 7);
  const moe::ep_layout layout{.ep_size = 32, .redundant_experts = 32};
  const moe::layer_cost_model model(moe::router_config::from_model(m), layout, precision::fp8, pop);
  for (double tokens : {1.0, 77.0, 4096.0, 131072.0}) {
    std::vector<double> assign = model.inclusion();
    for (double& a : assign)
      a *= tokens;
    const moe::ep_plan direct = moe::rebalance(assign, 256 + 32, 8, 4, 32);
    CHECK(direct.phy2log == model.plan().phy2log);
    CHECK(direct.logcnt == model.plan().logcnt);
    const h800_sxm dev;
    const moe::moe_cost a = model.cost(dev, tokens);
    const moe::moe_cost b = moe::moe_layer_cost(dev, m, tokens, layout, precision::fp8, pop);
    CHECK(a.total_s() == b.total_s());
    const std::vector<double> loads = direct.device_loads(assign);
    CHECK(a.max_device_assignments == Approx(*std::max_element(loads.begin(), loads.end())));
  }
  CHECK_THROWS_AS(model.work(-1.0), config_error);
  CHECK_THROWS_AS(model.distinct_experts(-1.0), config_error);
}

namespace {
/// The direct formula of the expected touched slots of one device and of the distinct experts:
/// Σ 1 − (1 − q)^T, one expm1 and one log1p per slot or expert.
double direct_touch(const std::vector<double>& q, double tokens) {
  double s = 0.0;
  for (double x : q)
    s += x >= 1.0 ? (tokens > 0.0 ? 1.0 : 0.0) : -std::expm1(tokens * std::log1p(-x));
  return s;
}

/// The busiest device's slots' touch probabilities π_i / replicas_i, from the model's plan.
std::vector<double> busiest_slot_q(const moe::layer_cost_model& model, double tokens) {
  const moe::ep_plan& plan = model.plan();
  std::vector<double> loads = plan.device_loads(model.inclusion());
  for (double& l : loads)
    l *= tokens;
  const auto dev =
      static_cast<std::size_t>(std::max_element(loads.begin(), loads.end()) - loads.begin());
  const auto spd = static_cast<std::size_t>(plan.slots_per_device);
  std::vector<double> q;
  for (std::size_t s = dev * spd; s < (dev + 1) * spd; ++s) {
    const auto i = static_cast<std::size_t>(plan.phy2log[s]);
    q.push_back(model.inclusion()[i] / plan.logcnt[i]);
  }
  return q;
}

/// A selection policy of the user's that claims three groups (64 experts do not split in three).
struct three_groups {
  static constexpr std::string_view name = "three_groups";
  static void select(std::span<const double> choice, const moe::router_config& cfg,
                     std::span<int> out, moe::selection_scratch& scratch) {
    moe::topk_selection::select(choice, cfg, out, scratch);
  }
  static moe::expert_groups group_limit(const moe::router_config& /*cfg*/) {
    return {.count = 3, .per_token = 1};
  }
};

/// A capacity policy that returns an impossible capacity.
struct negative_capacity {
  static constexpr std::string_view name = "negative";
  static std::int64_t capacity(std::int64_t /*tokens*/, const moe::router_config& /*cfg*/) {
    return -5;
  }
};

/// A capacity policy of the user's: every expert takes at most two assignments per batch.
struct two_per_expert {
  static constexpr std::string_view name = "two_per_expert";
  static std::int64_t capacity(std::int64_t /*tokens*/, const moe::router_config& /*cfg*/) {
    return 2;
  }
};
} // namespace

TEST_CASE("work() equals the direct touched-slot formula on many token counts", "[moe]") {
  // Grouping equal probabilities, precomputed logs and the saturation cut give the direct
  // formula's value to rounding: 1e-12 relative (the requirement is 1e-9).
  const model::model_config m = model::presets::deepseek_v3();
  const moe::router_config cfg = moe::router_config::from_model(m);
  const std::vector<double> uniform;
  const std::vector<double> zipf = moe::zipf_popularity(256, 1.0, 11);
  const std::vector<double> steep = moe::zipf_popularity(256, 1.6, 12);
  std::vector<double> counts{0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 7.25, 1e5, 131072.0, 1e7, 1e9};
  for (double t = 4.0; t <= 5000.0; t = std::floor(t * 1.37) + 1.0)
    counts.push_back(t);
  for (const moe::ep_layout layout : {moe::ep_layout{.ep_size = 1}, moe::ep_layout{.ep_size = 32},
                                      moe::ep_layout{.ep_size = 32, .redundant_experts = 32},
                                      moe::ep_layout{.ep_size = 64, .redundant_experts = 64}})
    for (const std::vector<double>* pop : {&uniform, &zipf, &steep}) {
      const moe::layer_cost_model model(cfg, layout, precision::fp8, *pop);
      for (double t : counts) {
        INFO("ep " << layout.ep_size << " redundant " << layout.redundant_experts << " zipf "
                   << (pop == &zipf) << " steep " << (pop == &steep) << " tokens " << t);
        const moe::moe_cost c = model.work(t);
        const double slots = direct_touch(busiest_slot_q(model, t), t);
        const double distinct = direct_touch(model.inclusion(), t);
        REQUIRE(std::isfinite(c.touched_slots));
        REQUIRE(std::isfinite(model.distinct_experts(t)));
        CHECK(c.touched_slots == Approx(slots).epsilon(1e-12).margin(1e-300));
        CHECK(model.distinct_experts(t) == Approx(distinct).epsilon(1e-12).margin(1e-300));
      }
    }
}

TEST_CASE("the default router policy changes no number of the cost", "[moe]") {
  // The default any_router_policy (softmax, top-k, unlimited) equals the explicit tag, drops
  // nothing and dispatches every copy (no node limit, although DeepSeek's config has 8 groups).
  const h800_sxm dev;
  const model::model_config m = model::presets::deepseek_v3();
  const moe::router_config cfg = moe::router_config::from_model(m);
  const std::vector<double> pop = moe::zipf_popularity(256, 1.0, 3);
  const moe::layer_cost_model plain(cfg, {.ep_size = 32}, precision::fp8, pop);
  const moe::layer_cost_model tagged(cfg, {.ep_size = 32}, precision::fp8, pop,
                                     moe::router_policy<>{});
  REQUIRE_FALSE(plain.node_limited());
  REQUIRE(plain.nodes_per_token() == 0.0);
  REQUIRE(plain.policy().selection_name() == "topk");
  REQUIRE(plain.policy().capacity_name() == "unlimited");
  for (double t : {0.0, 1.0, 100.0, 4096.0}) {
    const moe::moe_cost a = plain.cost(dev, t), b = tagged.cost(dev, t);
    CHECK(a.total_s() == b.total_s());
    CHECK(a.dropped_assignments == 0.0);
    CHECK(a.mean_device_assignments == t * 8 / 32);
    CHECK(a.experts.flops == b.experts.flops);
    CHECK(a.dispatch_inter.bytes == b.dispatch_inter.bytes);
  }
}

TEMPLATE_TEST_CASE("a capacity policy caps each expert's Binomial demand", "[moe]",
                   infercost::h800_sxm, infercost::ascend_910b) {
  const TestType dev;
  // E = 4 uniform experts, k = 1: π = 1/4. T = 4 tokens, Switch capacity ceil(4·1/4·1.0) = 1.
  // Demand X ~ Binomial(4, 1/4): P(X = 0) = (3/4)^4 = 81/256, so an expert processes
  // E[min(X, 1)] = 1 − 81/256 = 175/256 and drops 1 − 175/256 = 81/256.
  const moe::router_config cfg{
      .num_experts = 4, .top_k = 1, .hidden = 64, .expert_hidden = 32, .capacity_factor = 1.0};
  const moe::router_policy<moe::softmax_scoring, moe::topk_selection, moe::limited_capacity> sw;
  const moe::moe_cost one =
      moe::moe_layer_cost(dev, cfg, 4.0, {.ep_size = 1}, precision::bf16, {}, sw);
  CHECK(one.dropped_assignments == Approx(4.0 * 81 / 256));
  CHECK(one.max_device_assignments == Approx(4.0 * 175 / 256));
  CHECK(one.mean_device_assignments == Approx(4.0 * 175 / 256));
  // Expert FLOPs: 2·3 matrices·64·32 per processed assignment.
  CHECK(one.experts.flops == Approx(2.0 * 3 * 64 * 32 * 4 * 175 / 256));
  // Two devices, two experts each: 2·175/256 on each, imbalance 1.
  const moe::moe_cost two =
      moe::moe_layer_cost(dev, cfg, 4.0, {.ep_size = 2}, precision::bf16, {}, sw);
  CHECK(two.max_device_assignments == Approx(2.0 * 175 / 256));
  CHECK(two.imbalance() == Approx(1.0));
  // A fractional batch is linear between its integers: T = 4.5 → halfway between T = 4 and
  // T = 5 (capacity ceil(5/4) = 2: X ~ Bin(5, 1/4), E[(X − 2)⁺] = Σ_{x≥3} (x − 2)·P(x)
  // = 1·90/1024 + 2·15/1024 + 3·1/1024 = 123/1024 per expert).
  const moe::moe_cost half =
      moe::moe_layer_cost(dev, cfg, 4.5, {.ep_size = 1}, precision::bf16, {}, sw);
  CHECK(half.dropped_assignments == Approx(0.5 * 4 * 81 / 256 + 0.5 * 4 * 123 / 1024));
  // A user's capacity policy works unchanged: two per expert of T = 16 tokens, X ~ Bin(16, 1/4),
  // E[min(X, 2)] = P(X ≥ 1) + P(X ≥ 2) = 2 − 2·P(0) − P(1) = 2 − 2·(3/4)^16 − 16·(1/4)(3/4)^15.
  const double p0 = std::pow(0.75, 16), p1 = 16 * 0.25 * std::pow(0.75, 15);
  const moe::moe_cost user = moe::moe_layer_cost(
      dev, cfg, 16.0, {.ep_size = 1}, precision::bf16, {},
      moe::router_policy<moe::softmax_scoring, moe::topk_selection, two_per_expert>{});
  CHECK(user.max_device_assignments == Approx(4.0 * (2.0 - 2.0 * p0 - p1)));
  CHECK(user.dropped_assignments == Approx(16.0 - 4.0 * (2.0 - 2.0 * p0 - p1)));
  CHECK(std::isfinite(user.total_s()));
  // Capacity only removes work: the capped step is no slower than the unlimited one.
  const moe::moe_cost unlimited =
      moe::moe_layer_cost(dev, cfg, 16.0, {.ep_size = 1}, precision::bf16);
  CHECK(user.experts_s <= unlimited.experts_s);
}

TEST_CASE("expected drops match the numeric Switch router on a skewed stream", "[moe]") {
  // Monte-Carlo of the numeric router: 300 batches of 256 tokens from skewed_logits (seeded), E
  // = 16, k = 2, capacity ceil(256·2/16·cf). (a) The Binomial sums with the stream's measured
  // inclusion probabilities (each expert's mean demand / T) against the router's mean dropped
  // assignments per batch: within 3% (the Monte-Carlo's standard error is about 1%): given the
  // inclusion probabilities, per-expert demand is exactly Binomial and the router keeps
  // min(demand, capacity). (b) The cost face, whose inclusion probabilities are the fixed-clock
  // approximation of moe::inclusion_probabilities: within 3% uniform, 8% under Zipf(0.8) skew
  // (the approximation puts slightly too little demand on the hottest experts).
  const std::uint64_t seed = 31337;
  INFO("seed " << seed);
  const int e = 16, k = 2, batches = 300;
  const std::int64_t tokens = 256;
  for (const double skew : {0.0, 0.8})
    for (const double cf : {1.0, 1.25}) {
      const std::vector<double> pop = moe::zipf_popularity(e, skew, seed);
      const moe::router_config cfg{
          .num_experts = e, .top_k = k, .hidden = 8, .expert_hidden = 8, .capacity_factor = cf};
      const moe::switch_router r(cfg, row_matrix<double>::Zero(e, 8));
      rng g(seed + static_cast<std::uint64_t>(skew * 10 + cf * 100));
      double dropped = 0.0;
      std::vector<double> demand(static_cast<std::size_t>(e), 0.0);
      for (int b = 0; b < batches; ++b) {
        const moe::routing routed = r.route_logits(moe::skewed_logits(tokens, pop, g));
        dropped += static_cast<double>(routed.total_dropped());
        for (int i = 0; i < e; ++i)
          demand[static_cast<std::size_t>(i)] +=
              static_cast<double>(routed.demand[static_cast<std::size_t>(i)]);
      }
      dropped /= batches;
      const std::int64_t cap = moe::limited_capacity::capacity(tokens, cfg);
      double measured = 0.0;
      for (double d : demand)
        measured += moe::expected_dropped(tokens, d / batches / static_cast<double>(tokens), cap);
      const moe::layer_cost_model model(cfg, {.ep_size = 1}, precision::bf16, pop,
                                        moe::switch_router::policy_type{});
      const double expected = model.work(static_cast<double>(tokens)).dropped_assignments;
      INFO("skew " << skew << " cf " << cf << ": router " << dropped << ", Binomial on measured "
                   << "inclusion " << measured << ", model " << expected);
      REQUIRE(std::isfinite(expected));
      CHECK(measured == Approx(dropped).epsilon(0.03));
      CHECK(expected == Approx(dropped).epsilon(skew > 0.0 ? 0.08 : 0.03));
    }
}

TEST_CASE("group-limited routing on groups that map onto nodes reaches at most topk_group nodes",
          "[moe]") {
  // DeepSeek-V3: 256 experts in 8 groups, a token's 8 experts from 4 groups. Uniform: π = 1/32,
  // each group carries 1 expected expert per token, so its inclusion among 4 of 8 groups is
  // ρ = 1/2 (below 1 − (31/32)^32 = 0.638, the reach of its experts without the limit).
  const h800_sxm dev;
  const model::model_config m = model::presets::deepseek_v3();
  const moe::router_config cfg = moe::router_config::from_model(m);
  const moe::router_policy<moe::sigmoid_bias_scoring, moe::group_limited_topk> ds;
  // EP 32 = 4 nodes of 8, two groups per node: a node is reached with 1 − (1 − 1/2)^2 = 3/4,
  // 3 nodes per token.
  // FP8 dispatch (1 byte), BF16 combine, as DeepSeek-V3 §3.3.
  const moe::ep_layout ep32{.ep_size = 32, .dispatch_precision = precision::fp8};
  const moe::layer_cost_model limited(cfg, ep32, precision::fp8, {}, ds);
  const moe::layer_cost_model flat(cfg, ep32, precision::fp8);
  REQUIRE(limited.node_limited());
  REQUIRE(limited.node_reach().size() == 4);
  CHECK(limited.node_reach()[0] == Approx(0.75));
  CHECK(limited.nodes_per_token() == Approx(3.0));
  const double tokens = 32 * 128.0, local = 128.0, h = 7168.0;
  const moe::moe_cost a = limited.work(tokens), b = flat.work(tokens);
  // Flat: each device sends 8 copies per token, 3/4 of them to other nodes (6 per token) and
  // receives as many; 1/4 stay in its node, 7/8 of those leave the device (1.75 per token).
  CHECK(b.dispatch_inter.bytes * 31 / 32 == Approx(6.0 * local * h));
  CHECK(b.dispatch_intra.bytes * 7 / 8 == Approx(1.75 * local * h));
  // Node-limited: the NIC carries a token once per other node it reaches, 3 − 3/4 = 2.25, and
  // receives 3 remote nodes · 3/4 = 2.25; NVLink forwards: (node load − own load) / 8 =
  // (2 − 1/4)·T/8 = 7 per local token, and receives 1/4·T·7/8 = 7 per local token.
  CHECK(a.dispatch_inter.bytes * 31 / 32 == Approx(2.25 * local * h));
  CHECK(a.dispatch_intra.bytes * 7 / 8 == Approx(7.0 * local * h));
  CHECK(a.combine_inter.bytes == Approx(2.0 * a.dispatch_inter.bytes)); // BF16 combine
  // Compute is unchanged: the limit moves copies, not expert load.
  CHECK(a.experts.flops == b.experts.flops);
  CHECK(a.touched_slots == b.touched_slots);
  // On H800 (NVLink 200 GB/s, NIC 50 GB/s) the dispatch is NIC-bound either way: 6 → 2.25
  // vectors per token over the NIC.
  CHECK(dev.comm_time_s(a.dispatch_inter) < dev.comm_time_s(b.dispatch_inter));
  CHECK(limited.cost(dev, tokens).dispatch_s < flat.cost(dev, tokens).dispatch_s);

  // EP 64 = 8 nodes, one group each: a node is reached with ρ = 1/2, 4 nodes per token.
  const moe::layer_cost_model eight(cfg, {.ep_size = 64}, precision::fp8, {}, ds);
  REQUIRE(eight.node_limited());
  CHECK(eight.nodes_per_token() == Approx(4.0));
  // EPLB with redundant experts places groups on nodes (hierarchical): still node-limited.
  const std::vector<double> pop = moe::zipf_popularity(256, 1.0, 5);
  const moe::layer_cost_model eplb(cfg, {.ep_size = 32, .redundant_experts = 32}, precision::fp8,
                                   pop, ds);
  REQUIRE(eplb.node_limited());
  CHECK(eplb.nodes_per_token() <= 4.0 + 1e-12);
  CHECK(eplb.nodes_per_token() > 1.0);
  // EP 256 = 32 nodes: a group spans 4 nodes, so the dispatch stays a flat all-to-all; one node
  // (EP 8) has no inter-node traffic either way.
  CHECK_FALSE(moe::layer_cost_model(cfg, {.ep_size = 256}, precision::fp8, {}, ds).node_limited());
  CHECK_FALSE(moe::layer_cost_model(cfg, {.ep_size = 8}, precision::fp8, {}, ds).node_limited());
  // topk_group = n_group lifts the limit: a node is reached as often as its 64 experts are,
  // 1 − (31/32)^64.
  moe::router_config open = cfg;
  open.topk_group = 8;
  const moe::layer_cost_model unlimited(open, {.ep_size = 32}, precision::fp8, {}, ds);
  CHECK(unlimited.node_reach()[0] == Approx(1.0 - std::pow(31.0 / 32.0, 64)));
}

TEST_CASE("expected nodes per token follow the numeric group-limited router", "[moe]") {
  // Monte-Carlo of group_limited_topk on skewed_logits (seeded): 4000 tokens, DeepSeek's shape
  // (256 experts, 8 groups, top-8 from 4 groups), 4 nodes of 2 groups. The model's nodes per
  // token against the router's mean distinct nodes: within 6%. (Uniform: the router gives 3.13;
  // the model takes a node's two groups as independent, 4·(1 − (1/2)²) = 3, where drawing 4 of
  // the 8 groups gives 4·(1 − C(6,4)/C(8,4)) = 3.14.)
  const std::uint64_t seed = 4242;
  INFO("seed " << seed);
  const moe::router_config cfg{.num_experts = 256,
                               .top_k = 8,
                               .hidden = 8,
                               .expert_hidden = 8,
                               .n_group = 8,
                               .topk_group = 4};
  using grouped = moe::basic_router<h800_sxm, moe::softmax_scoring, moe::group_limited_topk,
                                    moe::unlimited_capacity>;
  const grouped r(cfg, row_matrix<double>::Zero(256, 8));
  for (const double skew : {0.0, 0.6}) {
    const std::vector<double> pop = moe::zipf_popularity(256, skew, seed);
    rng g(seed + 1);
    const moe::routing routed = r.route_logits(moe::skewed_logits(4000, pop, g));
    double nodes = 0.0;
    for (std::int64_t t = 0; t < routed.tokens; ++t) {
      bool hit[4] = {false, false, false, false};
      for (int j = 0; j < 8; ++j)
        hit[routed.expert_at(t, j) / 64] = true;
      nodes += hit[0] + hit[1] + hit[2] + hit[3];
    }
    nodes /= static_cast<double>(routed.tokens);
    const moe::layer_cost_model model(cfg, {.ep_size = 32}, precision::bf16, pop,
                                      grouped::policy_type{});
    INFO("skew " << skew << ": router " << nodes << " nodes per token, model "
                 << model.nodes_per_token());
    CHECK(model.nodes_per_token() == Approx(nodes).epsilon(0.06));
  }
}

TEST_CASE("layer cost model rejects a group limit that does not fit the experts", "[moe]") {
  const moe::router_config cfg{.num_experts = 64, .top_k = 4, .hidden = 64, .expert_hidden = 32};
  REQUIRE_THROWS_WITH(
      moe::layer_cost_model(cfg, {.ep_size = 16}, precision::bf16, {},
                            moe::router_policy<moe::softmax_scoring, three_groups>{}),
      "moe::moe_layer_cost: group_limit.count (3) must divide num_experts (64)");
  REQUIRE_THROWS_WITH(
      moe::layer_cost_model(
          cfg, {.ep_size = 16}, precision::bf16, {},
          moe::router_policy<moe::softmax_scoring, moe::topk_selection, negative_capacity>{})
          .work(8.0),
      "moe::moe_layer_cost: capacity (-5) of capacity policy 'negative' must be >= -1");
}
