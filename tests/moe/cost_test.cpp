#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/moe/cost.hpp"

using namespace infercost;

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
  REQUIRE(one.distinct_experts == Approx(8.0));
}

TEMPLATE_TEST_CASE("skew slows the busiest device and replication recovers it", "[moe]",
                   infercost::h800_sxm, infercost::ascend_910b) {
  const TestType dev;
  const model::model_config m = model::presets::deepseek_v3();
  const std::vector<double> pop = moe::zipf_popularity(256, 1.0, 1);
  const double tokens = 32 * 4096.0;
  const moe::moe_cost uniform =
      moe::moe_layer_cost(dev, m, tokens, {.ep_size = 32}, precision::fp8);
  const moe::moe_cost skewed =
      moe::moe_layer_cost(dev, m, tokens, {.ep_size = 32}, precision::fp8, pop);
  const moe::moe_cost replicated = moe::moe_layer_cost(
      dev, m, tokens, {.ep_size = 32, .redundant_experts = 32}, precision::fp8, pop);
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
}
