/// @file
/// The article's economic tables (../shared/ARTICLE.md §1.1, §2.3, §4.1, §4.2, §5.1) recomputed:
/// each function returns the article's printed figure beside what its own code computes and what
/// the right figure is. Every article figure is a named constant citing its section.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/econ/api_prices.hpp"
#include "infercost/econ/tco.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::econ {

// ---- §5.1: four API cost scenarios -------------------------------------------------------------

/// §5.1 `scenarios`: prompt / output tokens per call, cache-hit share and calls.
inline constexpr std::array<usage_scenario, 4> article_scenarios{{
    {"Short Chat (1K in/500 out)", 1000.0, 500.0, 0.2, 1.0},
    {"Doc Analysis (100K in/5K out)", 100000.0, 5000.0, 0.6, 1.0},
    {"Agent Multi-Round (32K in/8K x10)", 32768.0, 8192.0, 0.5, 10.0},
    {"Batch Processing (8K in/2K x1000)", 8192.0, 2048.0, 0.7, 1000.0},
}};

/// §5.1: "Results reveal cost ratios ranging from 12x to 87x in DeepSeek's favor."
inline constexpr double article_claimed_ratio_low = 12.0;
/// §5.1, upper end of the claimed range.
inline constexpr double article_claimed_ratio_high = 87.0;

/// One scenario priced with the article's table.
struct scenario_row {
  usage_scenario scenario;   ///< the article's scenario
  double deepseek_cny = 0.0; ///< DeepSeek V4-Pro
  double gpt_cny = 0.0;      ///< GPT-5.5
  double claude_cny = 0.0;   ///< Claude Opus 4
  double gpt_usd = 0.0;      ///< GPT-5.5 in dollars, as §5.1 prints it (gpt / 7.25)
  /// GPT-5.5 / DeepSeek: the "Ratio" §5.1's loop prints.
  [[nodiscard]] double gpt_ratio() const noexcept { return gpt_cny / deepseek_cny; }
  /// Claude Opus 4 / DeepSeek.
  [[nodiscard]] double claude_ratio() const noexcept { return claude_cny / deepseek_cny; }
};

/// §5.1's four scenarios priced with its PRICING_DATA (api_price_table), as its code does.
[[nodiscard]] inline std::array<scenario_row, 4> article_scenario_table() {
  const token_prices ds = find_api_price("deepseek_v4_pro").cny_per_mtok();
  const token_prices gpt = find_api_price("gpt_5_5").cny_per_mtok();
  const token_prices claude = find_api_price("claude_opus_4").cny_per_mtok();
  std::array<scenario_row, 4> rows{};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const usage_scenario& s = article_scenarios[i];
    rows[i].scenario = s;
    rows[i].deepseek_cny = scenario_cost(ds, s);
    rows[i].gpt_cny = scenario_cost(gpt, s);
    rows[i].claude_cny = scenario_cost(claude, s);
    rows[i].gpt_usd = cny_to_usd(rows[i].gpt_cny, article_cny_per_usd);
  }
  return rows;
}

// ---- §1.1: "725x cheaper" ----------------------------------------------------------------------

/// §1.1: "DeepSeek's cache-hit price of ¥0.025/million tokens is 725x cheaper than GPT-5.5's
/// cache-miss input price."
inline constexpr double article_claimed_cheaper_factor = 725.0;
/// §1.1's table rounds GPT-5.5's input price to "$5 (≈¥36)".
inline constexpr double article_table_gpt_input_cny = 36.0;

/// The "725x" claim checked against the price table.
struct cheaper_check {
  double deepseek_hit_cny = 0.0; ///< ¥0.025
  double gpt_miss_cny = 0.0;     ///< ¥36.25
  double gpt_hit_cny = 0.0;      ///< ¥18.13
  double vs_gpt_miss = 0.0;      ///< what the sentence claims to compare: 1450x
  double vs_gpt_hit = 0.0;       ///< what gives 725x: GPT-5.5's cache-hit price
  double vs_table_rounded = 0.0; ///< against §1.1's rounded ¥36: 1440x
};

/// Recomputes §1.1's cheaper factor from the price table.
[[nodiscard]] inline cheaper_check article_cheaper_check() {
  const api_price& ds = find_api_price("deepseek_v4_pro");
  const api_price& gpt = find_api_price("gpt_5_5");
  cheaper_check c;
  c.deepseek_hit_cny = ds.input_cache_hit_cny;
  c.gpt_miss_cny = gpt.input_cache_miss_cny;
  c.gpt_hit_cny = gpt.input_cache_hit_cny;
  c.vs_gpt_miss = c.gpt_miss_cny / c.deepseek_hit_cny;
  c.vs_gpt_hit = c.gpt_hit_cny / c.deepseek_hit_cny;
  c.vs_table_rounded = article_table_gpt_input_cny / c.deepseek_hit_cny;
  return c;
}

// ---- §4.1: cost per TFLOPS-hour ----------------------------------------------------------------

/// §4.1's printed "¥ per TFLOPS-hour" for the A100, H100 and Ascend 910B servers (in the order of
/// article_servers).
inline constexpr std::array<double, 3> article_printed_cny_per_tflops_hour{0.0023, 0.0018, 0.0014};
/// §4.1's code: `total_tflops = tflops_fp16 * 3 * 365 * 24 * 0.7` (70% utilisation).
inline constexpr double article_tflops_utilisation = 0.7;

/// One server of §4.1: the printed figure, what the code computes, and the right one.
struct tflops_cost_row {
  article_server server; ///< the article's server
  double printed = 0.0;  ///< the article's printed output
  /// What §4.1's code computes: (server + 3 years of maintenance) / (one device's TFLOPS × hours ×
  /// 0.7 × 3600), i.e. ¥ per TFLOPS-second of one device while paying for eight. Printed with
  /// "{:.4f}" this is 0.0001 for all three servers.
  double code_value = 0.0;
  /// The code without the extra 3600: ¥ per TFLOPS-hour, still one device's TFLOPS.
  double per_device_tflops_hour = 0.0;
  /// The right figure: ¥ per TFLOPS-hour of the whole server (8 devices), at 70% utilisation.
  double per_server_tflops_hour = 0.0;
  /// Dense FP16 peak of the catalog device (device/catalog.hpp), TFLOPS.
  double catalog_tflops = 0.0;
  /// per_server_tflops_hour with the catalog's TFLOPS instead of the article's.
  double per_server_catalog_tflops_hour = 0.0;
  /// per_server_tflops_hour plus electricity as §4.2 charges it (full draw, ¥1/kWh, 3 years).
  double per_server_with_power = 0.0;
};

/// §4.1's table recomputed, at the article's 3 years and 70% utilisation.
[[nodiscard]] inline std::array<tflops_cost_row, 3> article_tflops_table() {
  std::array<tflops_cost_row, 3> rows{};
  const double hours = article_years * units::year_h;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const article_server& s = article_servers[i];
    tflops_cost_row& r = rows[i];
    r.server = s;
    r.printed = article_printed_cny_per_tflops_hour[i];
    const double total_cny = s.server_price_cny + s.maintenance_yearly_cny * article_years;
    const double device_tflops_h = s.tflops_fp16 * hours * article_tflops_utilisation;
    r.code_value = total_cny / (device_tflops_h * units::hour_s);
    r.per_device_tflops_hour = total_cny / device_tflops_h;
    r.per_server_tflops_hour = total_cny / (device_tflops_h * article_devices_per_server);
    r.catalog_tflops =
        visit_device(s.device, [](const auto& d) { return d.peak_flops(precision::fp16); }) /
        units::tera;
    r.per_server_catalog_tflops_hour =
        total_cny /
        (r.catalog_tflops * hours * article_tflops_utilisation * article_devices_per_server);
    const double electricity_cny = s.power_w / units::kilo * hours * article_cny_per_kwh;
    r.per_server_with_power =
        (total_cny + electricity_cny) / (device_tflops_h * article_devices_per_server);
  }
  return rows;
}

// ---- §4.2: 3-year savings ----------------------------------------------------------------------

/// A 3-year server cost as §4.2's estimate_cost_saving lists it, yuan.
struct three_year_cost {
  double hardware = 0.0;        ///< the server
  double maintenance_3yr = 0.0; ///< 3 years of maintenance
  double electricity_3yr = 0.0; ///< 3 years of electricity
  double total_3yr = 0.0;       ///< as printed by the article
  /// Sum of the parts.
  [[nodiscard]] constexpr double sum() const noexcept {
    return hardware + maintenance_3yr + electricity_3yr;
  }
};

/// §4.2 `overseas_cost` (an A100 server).
inline constexpr three_year_cost article_overseas_3yr{1300000.0, 390000.0, 170000.0, 1860000.0};
/// §4.2 `domestic_cost` (an Ascend 910B server).
inline constexpr three_year_cost article_domestic_3yr{720000.0, 216000.0, 136000.0, 1072000.0};
/// §4.2: "3-year savings for 1000 servers".
inline constexpr double article_savings_servers = 1000.0;
/// §4.2's printed output: "¥7.88亿" (亿 = 10^8).
inline constexpr double article_printed_savings_yi = 7.88;
/// §1.2: "Domestic AI Chip Adaptation → Hardware costs reduced by 60%+".
inline constexpr double article_claimed_hardware_reduction = 0.60;
/// One 亿 (yi) in yuan.
inline constexpr double cny_per_yi = 1e8;
/// §6.3 and §4.1: "the Ascend 910B offers 40-60% lower total cost than the A100".
inline constexpr double article_claimed_saving_low = 0.40;
/// Upper end of that claim.
inline constexpr double article_claimed_saving_high = 0.60;

/// §4.2's savings recomputed.
struct savings_check {
  double overseas_total = 0.0;     ///< sum of §4.2's overseas parts
  double domestic_total = 0.0;     ///< sum of §4.2's domestic parts
  double saving_per_server = 0.0;  ///< overseas − domestic, yuan
  double saving_ratio = 0.0;       ///< saving / overseas
  double hardware_reduction = 0.0; ///< 1 − domestic / overseas hardware (§1.2 claims 60%+)
  double fleet_saving_cny = 0.0;   ///< for 1000 servers, yuan
  double fleet_saving_yi = 0.0;    ///< the same in 亿 (what "¥7.88亿" states)
  /// What §4.2's print statement shows: `absolute_saving*1000/1e8` formatted "{:.1f} billion",
  /// i.e. "7.9 billion" — the number is in 亿 (10^8), so the label is ten times too large.
  double print_statement_value = 0.0;
  double fleet_saving_billion_cny = 0.0; ///< the right figure in billions of yuan (0.788)
  double fleet_saving_usd = 0.0;         ///< at article_cny_per_usd
  /// ¥/kWh implied by §4.2's electricity over §4.1's server power at full draw for 3 years.
  double implied_cny_per_kwh_overseas = 0.0;
  double implied_cny_per_kwh_domestic = 0.0;
  /// Saving per TFLOPS of server capacity (A100 server 8 × 312, 910B server 8 × 256 TFLOPS).
  double saving_ratio_per_tflops = 0.0;
};

/// Recomputes §4.2's 3-year savings and its consistency with §4.1.
[[nodiscard]] inline savings_check article_savings_check() {
  savings_check c;
  c.overseas_total = article_overseas_3yr.sum();
  c.domestic_total = article_domestic_3yr.sum();
  c.saving_per_server = c.overseas_total - c.domestic_total;
  c.saving_ratio = c.saving_per_server / c.overseas_total;
  c.hardware_reduction = 1.0 - article_domestic_3yr.hardware / article_overseas_3yr.hardware;
  c.fleet_saving_cny = c.saving_per_server * article_savings_servers;
  c.fleet_saving_yi = c.fleet_saving_cny / cny_per_yi;
  c.print_statement_value = c.saving_per_server * 1000.0 / 1e8;
  c.fleet_saving_billion_cny = c.fleet_saving_cny / units::giga;
  c.fleet_saving_usd = cny_to_usd(c.fleet_saving_cny, article_cny_per_usd);
  const double hours = article_years * units::year_h;
  const article_server& a100 = article_servers[0];
  const article_server& b910 = article_servers[2];
  c.implied_cny_per_kwh_overseas =
      article_overseas_3yr.electricity_3yr / (a100.power_w / units::kilo * hours);
  c.implied_cny_per_kwh_domestic =
      article_domestic_3yr.electricity_3yr / (b910.power_w / units::kilo * hours);
  const double over_per_tflops = c.overseas_total / (a100.tflops_fp16 * article_devices_per_server);
  const double dom_per_tflops = c.domestic_total / (b910.tflops_fp16 * article_devices_per_server);
  c.saving_ratio_per_tflops = 1.0 - dom_per_tflops / over_per_tflops;
  return c;
}

// ---- §2.3: MoE efficiency ----------------------------------------------------------------------

/// §2.3 `compute_moe_efficiency`'s result.
struct moe_efficiency {
  double activation_ratio = 0.0;   ///< active / total parameters
  double compute_reduction = 0.0;  ///< 1 − activation_ratio
  double expert_utilization = 0.0; ///< top_k / num_experts
  double efficiency_score = 0.0;   ///< activation_ratio × expert_utilization (a product of two
                                 ///< shares with no physical meaning; the article never prints it)
};

/// §2.3's compute_moe_efficiency, as its code computes it. Parameters in any one unit.
/// @throws config_error unless 0 < active <= total and 0 < top_k <= num_experts.
[[nodiscard]] inline moe_efficiency
article_moe_efficiency(double total_params, double active_params, int num_experts, int top_k) {
  constexpr std::string_view c = "econ::moe_efficiency";
  check_positive(c, "total_params", total_params);
  check_positive(c, "active_params", active_params);
  check_at_most(c, "active_params", active_params, "total_params", total_params);
  check_positive(c, "num_experts", num_experts);
  check_positive(c, "top_k", top_k);
  check_at_most(c, "top_k", top_k, "num_experts", num_experts);
  moe_efficiency e;
  e.activation_ratio = active_params / total_params;
  e.compute_reduction = 1.0 - e.activation_ratio;
  e.expert_utilization = static_cast<double>(top_k) / num_experts;
  e.efficiency_score = e.activation_ratio * e.expert_utilization;
  return e;
}

/// The same function on a real model: total parameters from model::count_params and active ones
/// as reported (model::active_params_reported: embedding and LM head included).
/// @throws config_error for a dense model or an invalid config.
[[nodiscard]] inline moe_efficiency moe_efficiency_of(const model::model_config& m) {
  if (!m.is_moe())
    throw config_error("econ::moe_efficiency", "num_experts",
                       fmt::format("(0) must be > 0: '{}' is a dense model", m.name));
  return article_moe_efficiency(model::count_params(m).total(), model::active_params_reported(m),
                                m.num_experts, m.top_k);
}

/// One of §2.3's two calls with its printed output and the text's claims.
struct article_moe_case {
  std::string_view name;
  double total_b;             ///< total parameters, billions (argument)
  double active_b;            ///< active parameters, billions (argument)
  int num_experts;            ///< argument
  int top_k;                  ///< argument
  double printed_activation;  ///< printed activation ratio
  double printed_reduction;   ///< printed compute reduction
  double text_activation;     ///< the activation the text states
  double text_share_of_dense; ///< "computation ~x% of a dense model" in the text
};

/// §2.3's calls: DeepSeek V4-Pro (1600, 48, 256, 8) printed "activation=3.00%, reduction=97.0%";
/// the text says "only 3.125%" (§2.1) and "Effective Computation ~5% of a comparable dense model".
/// Qwen-Plus (720, 72, 16, 2) printed "activation=10.0%, reduction=90.0%"; the text says "10%
/// activation" and "computation is ~20% of a dense model".
inline constexpr std::array<article_moe_case, 2> article_moe_cases{{
    {"DeepSeek V4-Pro", 1600.0, 48.0, 256, 8, 0.0300, 0.970, 0.03125, 0.05},
    {"Qwen-Plus", 720.0, 72.0, 16, 2, 0.100, 0.900, 0.10, 0.20},
}};

} // namespace infercost::econ
