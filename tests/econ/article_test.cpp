#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "infercost/econ/article.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::econ;

TEST_CASE("the article's four scenarios give 24-32x (GPT-5.5) and 55-76x (Claude), not 12-87x",
          "[econ][article]") {
  const auto rows = article_scenario_table();
  // Hand-computed from §5.1's calculate_cost and PRICING_DATA, e.g. short chat DeepSeek
  // 0.001 × (0.2 × 0.025 + 0.8 × 3) + 0.0005 × 6 = ¥0.005405; GPT-5.5
  // 0.001 × (0.2 × 18.13 + 0.8 × 36.25) + 0.0005 × 217.5 = ¥0.141376.
  const double ds[] = {0.005405, 0.1515, 0.987136, 19.80416};
  const double gpt[] = {0.141376, 3.6253, 26.7272192, 638.492672};
  const double claude[] = {0.363225, 8.37375, 65.92512, 1505.5872};
  double gpt_lo = 1e9, gpt_hi = 0, cl_lo = 1e9, cl_hi = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO(rows[i].scenario.name);
    CHECK(rows[i].deepseek_cny == Approx(ds[i]).epsilon(1e-12));
    CHECK(rows[i].gpt_cny == Approx(gpt[i]).epsilon(1e-12));
    CHECK(rows[i].claude_cny == Approx(claude[i]).epsilon(1e-12));
    CHECK(rows[i].gpt_usd == Approx(gpt[i] / 7.25));
    REQUIRE(std::isfinite(rows[i].gpt_ratio()));
    gpt_lo = std::min(gpt_lo, rows[i].gpt_ratio());
    gpt_hi = std::max(gpt_hi, rows[i].gpt_ratio());
    cl_lo = std::min(cl_lo, rows[i].claude_ratio());
    cl_hi = std::max(cl_hi, rows[i].claude_ratio());
  }
  CHECK(rows[0].gpt_ratio() == Approx(0.141376 / 0.005405));   // 26.16
  CHECK(rows[1].gpt_ratio() == Approx(3.6253 / 0.1515));       // 23.93
  CHECK(rows[2].gpt_ratio() == Approx(26.7272192 / 0.987136)); // 27.08
  CHECK(rows[3].gpt_ratio() == Approx(638.492672 / 19.80416)); // 32.24
  CHECK(gpt_lo == Approx(23.929).margin(0.001));
  CHECK(gpt_hi == Approx(32.240).margin(0.001));
  CHECK(cl_lo == Approx(55.272).margin(0.001));
  CHECK(cl_hi == Approx(76.024).margin(0.001));
  // Neither end of the claimed 12x-87x range comes out of the article's own inputs.
  CHECK(std::min(gpt_lo, cl_lo) > article_claimed_ratio_low + 10.0);
  CHECK(std::max(gpt_hi, cl_hi) < article_claimed_ratio_high - 10.0);
}

TEST_CASE("725x is against GPT-5.5's cache-hit price; against its miss price it is 1450x",
          "[econ][article]") {
  const cheaper_check c = article_cheaper_check();
  CHECK(c.vs_gpt_miss == Approx(1450.0));
  CHECK(c.vs_gpt_hit == Approx(725.2));
  CHECK(std::round(c.vs_gpt_hit) == article_claimed_cheaper_factor);
  CHECK(c.vs_table_rounded == Approx(1440.0));
}

TEST_CASE("the article's cost per TFLOPS-hour: its code, its printout and the right figure",
          "[econ][article]") {
  const auto rows = article_tflops_table();
  // A100: (1,300,000 + 3 × 130,000) / (312 × 26,280 × 0.7) = ¥0.29445 per TFLOPS-hour of one
  // GPU; the code divides by another 3600 (¥8.179e-5 per TFLOPS-second); the server has 8 GPUs,
  // so the right figure is ¥0.036806 per TFLOPS-hour.
  const double a100_total = 1300000.0 + 390000.0;
  const double a100_tflops_h = 312.0 * 26280.0 * 0.7;
  CHECK(rows[0].per_device_tflops_hour == Approx(a100_total / a100_tflops_h));
  CHECK(rows[0].code_value == Approx(a100_total / a100_tflops_h / 3600.0));
  CHECK(rows[0].per_server_tflops_hour == Approx(a100_total / a100_tflops_h / 8.0));
  CHECK(rows[0].per_server_tflops_hour == Approx(0.036806).margin(1e-6));
  CHECK(rows[1].per_server_tflops_hour == Approx(0.024047).margin(1e-6));
  CHECK(rows[2].per_server_tflops_hour == Approx(0.024844).margin(1e-6));
  for (const tflops_cost_row& r : rows) {
    INFO(r.server.name);
    // The code prints "0.0001" for every server; the printed figures are none of the three.
    CHECK(std::round(r.code_value * 1e4) == 1.0);
    for (double v : {r.code_value, r.per_device_tflops_hour, r.per_server_tflops_hour})
      CHECK(std::abs(v / r.printed - 1.0) > 0.5);
    CHECK(r.per_server_with_power > r.per_server_tflops_hour);
    CHECK(std::isfinite(r.per_server_catalog_tflops_hour));
  }
  // Per server, the H100 is cheapest per TFLOPS-hour and the 910B 3% dearer: not the printed
  // ranking (910B cheapest).
  CHECK(rows[1].per_server_tflops_hour < rows[2].per_server_tflops_hour);
  CHECK(rows[2].per_server_tflops_hour < rows[0].per_server_tflops_hour);
  CHECK(rows[2].printed < rows[1].printed);
  // The article's 256 TFLOPS is the first Ascend 910's; the catalog's 910B (910B2) has 376.
  CHECK(rows[2].catalog_tflops == Approx(376.0));
  CHECK(rows[2].per_server_catalog_tflops_hour < rows[1].per_server_catalog_tflops_hour);
}

TEST_CASE("the article's 3-year savings add up to 7.88 yi, which is 0.788 billion yuan",
          "[econ][article]") {
  const savings_check c = article_savings_check();
  CHECK(c.overseas_total == article_overseas_3yr.total_3yr);
  CHECK(c.domestic_total == article_domestic_3yr.total_3yr);
  CHECK(c.saving_per_server == 788000.0);
  CHECK(c.saving_ratio == Approx(788000.0 / 1860000.0)); // 42.4%
  CHECK(c.saving_ratio > article_claimed_saving_low);
  CHECK(c.saving_ratio < article_claimed_saving_high);
  // Hardware alone: 1 − 720,000 / 1,300,000 = 44.6%, not §1.2's "60%+".
  CHECK(c.hardware_reduction == Approx(1.0 - 720000.0 / 1300000.0));
  CHECK(c.hardware_reduction < article_claimed_hardware_reduction);
  CHECK(c.fleet_saving_yi == Approx(article_printed_savings_yi));
  CHECK(c.print_statement_value == Approx(7.88)); // shown as "7.9 billion"
  CHECK(c.fleet_saving_billion_cny == Approx(0.788));
  CHECK(c.fleet_saving_usd == Approx(788e6 / 7.25));
  // ¥170,000 / (6.5 kW × 26,280 h) and ¥136,000 / (5.2 kW × 26,280 h): both ¥0.9952/kWh.
  CHECK(c.implied_cny_per_kwh_overseas == Approx(0.99520).margin(1e-5));
  CHECK(c.implied_cny_per_kwh_domestic == Approx(0.99520).margin(1e-5));
  // Per TFLOPS of server capacity: 1,860,000 / 2496 vs 1,072,000 / 2048 → 29.8% saving.
  CHECK(c.saving_ratio_per_tflops == Approx(1.0 - (1072000.0 / 2048.0) / (1860000.0 / 2496.0)));
  CHECK(c.saving_ratio_per_tflops < article_claimed_saving_low);
  // §4.2's maintenance is 3 years of §4.1's yearly figure.
  CHECK(article_overseas_3yr.maintenance_3yr == 3.0 * article_servers[0].maintenance_yearly_cny);
  CHECK(article_domestic_3yr.maintenance_3yr == 3.0 * article_servers[2].maintenance_yearly_cny);
}

TEST_CASE("the article's MoE efficiency prints what its code computes", "[econ][article]") {
  for (const article_moe_case& a : article_moe_cases) {
    INFO(a.name);
    const moe_efficiency e = article_moe_efficiency(a.total_b, a.active_b, a.num_experts, a.top_k);
    CHECK(e.activation_ratio == Approx(a.printed_activation));
    CHECK(e.compute_reduction == Approx(a.printed_reduction));
    CHECK(e.efficiency_score == Approx(e.activation_ratio * e.expert_utilization));
  }
  // DeepSeek's "3.125%" in the text is top_k / num_experts, not its 48B / 1600B = 3.00%.
  const moe_efficiency ds = article_moe_efficiency(1600, 48, 256, 8);
  CHECK(ds.expert_utilization == Approx(article_moe_cases[0].text_activation));
  CHECK(ds.activation_ratio != Approx(article_moe_cases[0].text_activation));
  // Qwen's "~20% of a dense model" is twice its own 10% activation.
  CHECK(article_moe_cases[1].text_share_of_dense ==
        Approx(2.0 * article_moe_cases[1].printed_activation));
}

TEST_CASE("MoE efficiency of real models uses their parameter counts", "[econ][article]") {
  // DeepSeek-V3: 671B total, 37B activated (DeepSeek-V3 report) → 5.5%; k/E = 8/256.
  const moe_efficiency ds = moe_efficiency_of(model::presets::deepseek_v3());
  CHECK(ds.activation_ratio == Approx(37.0 / 671.0).epsilon(0.02));
  CHECK(ds.expert_utilization == Approx(8.0 / 256.0));
  // Mixtral 8x7B: 12.9B of 46.7B active (Mistral) → 27.6%, while k/E is 25%.
  const moe_efficiency mx = moe_efficiency_of(model::presets::mixtral_8x7b());
  CHECK(mx.activation_ratio == Approx(12.9 / 46.7).epsilon(0.01));
  CHECK(mx.expert_utilization == 0.25);
  // Qwen3-235B-A22B: 22B of 235B → 9.4%.
  const moe_efficiency qw = moe_efficiency_of(model::presets::qwen3_235b_a22b());
  CHECK(qw.activation_ratio == Approx(22.0 / 235.0).epsilon(0.03));
  CHECK_THROWS_WITH(moe_efficiency_of(model::presets::llama3_8b()),
                    "econ::moe_efficiency: num_experts (0) must be > 0: 'llama3_8b' is a dense "
                    "model");
}

TEST_CASE("MoE efficiency rejects impossible arguments", "[econ][article]") {
  CHECK_THROWS_WITH(article_moe_efficiency(0, 1, 8, 2),
                    "econ::moe_efficiency: total_params (0) must be > 0");
  CHECK_THROWS_WITH(article_moe_efficiency(10, 20, 8, 2),
                    "econ::moe_efficiency: active_params (20) must be <= total_params (10)");
  CHECK_THROWS_WITH(article_moe_efficiency(10, 1, 8, 9),
                    "econ::moe_efficiency: top_k (9) must be <= num_experts (8)");
  CHECK_THROWS_AS(article_moe_efficiency(std::nan(""), 1, 8, 2), config_error);
  CHECK_THROWS_AS(article_moe_efficiency(10, 1, 0, 0), config_error);
}
