// The article's economic tables, recomputed: its API price table, the four API cost scenarios,
// the "725x cheaper" claim, cost per TFLOPS-hour, the 3-year savings of Ascend servers and its MoE
// efficiency function; each computed value beside the article's own figure. Then what a
// device-hour costs under named deployments, and the throughput each must sustain to break even
// at the article's API prices.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "infercost/econ/api_prices.hpp"
#include "infercost/econ/article.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/econ/tco.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::econ;

namespace {

void print_price_table(double rate) {
  fmt::print("API prices per million tokens (article §1.1 and §5.1 PRICING_DATA), ¥ and $ at "
             "¥{}/$\n",
             rate);
  fmt::print("  {:<16} {:<6} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9}\n", "model", "region", "¥ hit",
             "¥ miss", "¥ out", "$ hit", "$ miss", "$ out");
  for (const api_price& p : api_price_table) {
    const token_prices usd = p.usd_per_mtok(rate);
    fmt::print("  {:<16} {:<6} {:>10} {:>10.3f} {:>10.2f} {:>9} {:>9.3f} {:>9.2f}\n", p.name,
               p.region,
               p.lists_cache_hit_price ? fmt::format("{:.3f}", p.input_cache_hit_cny) : "n/a",
               p.input_cache_miss_cny, p.output_cny,
               p.lists_cache_hit_price ? fmt::format("{:.4f}", *usd.input_hit) : "n/a",
               *usd.input_miss, *usd.output);
  }
  fmt::print("  Note: Anthropic bills cache reads at 0.1x input, so Opus 4's would be $1.50 "
             "(¥10.88), not the article's ¥21.75 ($3).\n\n");
}

void print_scenarios() {
  fmt::print("API cost of four scenarios (article §5.1), DeepSeek V4-Pro vs GPT-5.5 and Claude "
             "Opus 4\n");
  fmt::print("  {:<36} {:>10} {:>11} {:>9} {:>11} {:>8} {:>8}\n", "scenario", "DeepSeek ¥",
             "GPT-5.5 ¥", "GPT $", "Claude ¥", "GPT/DS", "Cl./DS");
  double lo = 1e300, hi = 0.0;
  for (const scenario_row& r : article_scenario_table()) {
    fmt::print("  {:<36} {:>10.4f} {:>11.4f} {:>9.2f} {:>11.4f} {:>7.1f}x {:>7.1f}x\n",
               r.scenario.name, r.deepseek_cny, r.gpt_cny, r.gpt_usd, r.claude_cny, r.gpt_ratio(),
               r.claude_ratio());
    for (double x : {r.gpt_ratio(), r.claude_ratio()}) {
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
  }
  fmt::print("  article says: {:.0f}x to {:.0f}x;  its own inputs give {:.1f}x to {:.1f}x "
             "(GPT-5.5 24-32x, Claude 55-76x)\n\n",
             article_claimed_ratio_low, article_claimed_ratio_high, lo, hi);
}

void print_cheaper() {
  const cheaper_check c = article_cheaper_check();
  fmt::print("\"DeepSeek's cache hit is 725x cheaper than GPT-5.5's cache-miss input\" (§1.1)\n");
  fmt::print("  {:<44} {:>10} {:>10}\n", "", "article", "computed");
  fmt::print("  {:<44} {:>10} {:>9.1f}x\n", "¥36.25 (GPT-5.5 miss) / ¥0.025", "725x",
             c.vs_gpt_miss);
  fmt::print("  {:<44} {:>10} {:>9.1f}x\n", "¥36 (§1.1 rounded) / ¥0.025", "", c.vs_table_rounded);
  fmt::print("  {:<44} {:>10} {:>9.1f}x\n", "¥18.13 (GPT-5.5 cache hit) / ¥0.025", "",
             c.vs_gpt_hit);
  fmt::print(
      "  725x is the ratio to GPT-5.5's cache-hit price; to its miss price it is 1450x.\n\n");
}

void print_tflops() {
  fmt::print("Cost per TFLOPS-hour of an 8-GPU server, 3 years, 70% utilisation (§4.1), ¥\n");
  fmt::print("  {:<12} {:>9} {:>12} {:>9} {:>11} {:>11} {:>11} {:>8} {:>11}\n", "server", "printed",
             "code", "code .4f", "1 GPU/h", "server/h", "+power/h", "cat. TF", "cat. srv/h");
  for (const tflops_cost_row& r : article_tflops_table())
    fmt::print("  {:<12} {:>9.4f} {:>12.4e} {:>9.4f} {:>11.4f} {:>11.4f} {:>11.4f} {:>8.0f} "
               "{:>11.4f}\n",
               r.server.name, r.printed, r.code_value, r.code_value, r.per_device_tflops_hour,
               r.per_server_tflops_hour, r.per_server_with_power, r.catalog_tflops,
               r.per_server_catalog_tflops_hour);
  fmt::print(
      "  code: (server + 3 x maintenance) / (one GPU's TFLOPS x hours x 0.7 x 3600) = ¥ per\n"
      "  TFLOPS-second, paying for 8 GPUs with 1 GPU's TFLOPS. 1 GPU/h drops the 3600;\n"
      "  server/h is the right figure (8 GPUs); +power adds §4.2's electricity (¥1/kWh);\n"
      "  cat. uses the catalog's dense FP16 peak (910B2: 376 TFLOPS; the article's 256 is\n"
      "  the first Ascend 910's). The printed figures match none of these, and per server\n"
      "  the H100, not the 910B, is cheapest per TFLOPS-hour at the article's own prices.\n\n");
}

void print_savings(double rate) {
  const savings_check c = article_savings_check();
  fmt::print("3-year cost of an A100 server vs an Ascend 910B server (§4.2), ¥\n");
  fmt::print("  {:<44} {:>16} {:>16}\n", "", "article", "computed");
  fmt::print("  {:<44} {:>16.0f} {:>16.0f}\n", "overseas total (A100 server)",
             article_overseas_3yr.total_3yr, c.overseas_total);
  fmt::print("  {:<44} {:>16.0f} {:>16.0f}\n", "domestic total (910B server)",
             article_domestic_3yr.total_3yr, c.domestic_total);
  fmt::print("  {:<44} {:>16} {:>15.1f}%\n", "saving per server", "40-60%", 100.0 * c.saving_ratio);
  fmt::print("  {:<44} {:>16} {:>15.1f}%\n", "hardware alone (§1.2)", "60%+",
             100.0 * c.hardware_reduction);
  fmt::print("  {:<44} {:>16} {:>15.1f}%\n", "saving per TFLOPS of server capacity", "",
             100.0 * c.saving_ratio_per_tflops);
  fmt::print("  {:<44} {:>16} {:>15.2f}亿\n", "1000 servers, in 亿 (1e8 yuan)",
             fmt::format("{:.2f}亿", article_printed_savings_yi), c.fleet_saving_yi);
  fmt::print("  {:<44} {:>16} {:>16}\n", "what its print statement writes", "",
             fmt::format("¥{:.1f} billion", c.print_statement_value));
  fmt::print("  {:<44} {:>16} {:>16.3f}\n", "1000 servers, billion yuan", "",
             c.fleet_saving_billion_cny);
  fmt::print("  {:<44} {:>16} {:>16.1f}\n", fmt::format("1000 servers, million $ at ¥{}/$", rate),
             "", cny_to_usd(c.fleet_saving_cny, rate) / 1e6);
  fmt::print("  {:<44} {:>16} {:>16.4f}\n", "implied ¥/kWh (A100 server, full draw)", "",
             c.implied_cny_per_kwh_overseas);
  fmt::print("  {:<44} {:>16} {:>16.4f}\n", "implied ¥/kWh (910B server, full draw)", "",
             c.implied_cny_per_kwh_domestic);
  fmt::print(
      "  The arithmetic holds (¥788,000 per server, ¥7.88亿 for 1000); the print statement\n"
      "  labels 7.88亿 as \"billion\" (it is ¥0.79 billion) and ignores both arguments.\n\n");
}

void print_moe() {
  fmt::print("MoE efficiency (§2.3): the article's calls, what its code computes, real models\n");
  fmt::print("  {:<18} {:>8} {:>8} {:>4} {:>4} {:>10} {:>10} {:>10} {:>9} {:>10}\n", "model",
             "total B", "active B", "E", "k", "act. prnt", "act. code", "act. text", "k/E",
             "text dense");
  for (const article_moe_case& a : article_moe_cases) {
    const moe_efficiency e = article_moe_efficiency(a.total_b, a.active_b, a.num_experts, a.top_k);
    fmt::print("  {:<18} {:>8.0f} {:>8.0f} {:>4} {:>4} {:>9.2f}% {:>9.2f}% {:>9.3f}% {:>8.3f}% "
               "{:>9.0f}%\n",
               a.name, a.total_b, a.active_b, a.num_experts, a.top_k, 100.0 * a.printed_activation,
               100.0 * e.activation_ratio, 100.0 * a.text_activation, 100.0 * e.expert_utilization,
               100.0 * a.text_share_of_dense);
  }
  for (const model::model_config& m :
       {model::presets::deepseek_v3(), model::presets::article_v4_pro(),
        model::presets::qwen3_235b_a22b(), model::presets::qwen3_30b_a3b(),
        model::presets::mixtral_8x7b()}) {
    const moe_efficiency e = moe_efficiency_of(m);
    fmt::print("  {:<18} {:>8.1f} {:>8.1f} {:>4} {:>4} {:>10} {:>9.2f}% {:>10} {:>8.3f}% {:>10}\n",
               m.name, model::count_params(m).total() * 1e-9,
               model::active_params_reported(m) * 1e-9, m.num_experts, m.top_k, "",
               100.0 * e.activation_ratio, "", 100.0 * e.expert_utilization, "");
  }
  fmt::print("  The printed outputs are what the code computes. The text's 3.125% is k/E, not\n"
             "  48/1600; its \"~5% of dense\" and Qwen's \"~20% of dense\" follow from neither.\n"
             "  Real models activate more than k/E: attention, embeddings and shared experts\n"
             "  are always on. The article's V4-Pro shape has ~559B parameters, not 1600B.\n\n");
}

void print_deployments(double rate) {
  const api_price& ds = find_api_price("deepseek_v4_pro");
  const api_price& gpt = find_api_price("gpt_5_5");
  const double ds_out_usd = *ds.usd_per_mtok(rate).output;
  const double ds_miss_usd = *ds.usd_per_mtok(rate).input_miss;
  const double gpt_out_usd = *gpt.usd_per_mtok(rate).output;
  fmt::print("What a device-hour costs, and the tokens/s per device needed to break even at API "
             "prices (cost = price, no margin)\n");
  fmt::print("  {:<28} {:<12} {:>8} {:>8} {:>12} {:>12} {:>12}\n", "deployment", "device", "$/h",
             "¥/h", "DS out tok/s", "DS in tok/s", "GPT out t/s");
  for (const deployment& d : deployments()) {
    const double h = d.usd_per_device_hour();
    fmt::print("  {:<28} {:<12} {:>8.3f} {:>8.2f} {:>12.0f} {:>12.0f} {:>12.1f}\n", d.name,
               d.device, h, usd_to_cny(h, rate), breakeven_tokens_per_device_s(h, ds_out_usd),
               breakeven_tokens_per_device_s(h, ds_miss_usd),
               breakeven_tokens_per_device_s(h, gpt_out_usd));
  }
  fmt::print("  DS: DeepSeek V4-Pro at ¥{} out / ¥{} miss per million; GPT: GPT-5.5 at ¥{} out.\n"
             "  Sources:\n",
             ds.output_cny, ds.input_cache_miss_cny, gpt.output_cny);
  for (const deployment& d : deployments())
    fmt::print("    {:<28} {}\n", d.name, d.source);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"The article's economic tables, recomputed beside its own figures."};
  double rate = article_cny_per_usd;
  app.add_option("--cny-per-usd", rate, "CNY per USD for conversions (default: the article's 7.25)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    print_price_table(rate);
    print_scenarios();
    print_cheaper();
    print_tflops();
    print_savings(rate);
    print_moe();
    print_deployments(rate);
  } catch (const infercost::error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
