// MoE routing on a skewed token stream: Mixtral vs Qwen vs DeepSeek routers, capacity drops,
// distinct experts per batch, EP placement with replicated hot experts, the auxiliary-loss-free
// bias at work, step cost on Ascend 910B vs H800, and the article's activation table computed
// correctly.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "infercost/device/catalog.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/moe/balance.hpp"
#include "infercost/moe/cost.hpp"
#include "infercost/moe/placement.hpp"
#include "infercost/moe/router.hpp"

using namespace infercost;
using moe::row_matrix;

namespace {

template <class Scoring, class Selection, class Capacity>
moe::routing route_stream(const moe::router_config& cfg, const row_matrix<double>& logits) {
  const moe::basic_router<default_device, Scoring, Selection, Capacity> r(
      cfg, row_matrix<double>::Zero(cfg.num_experts, 1));
  return r.route_logits(logits);
}

struct model_row {
  std::string name;
  moe::router_config cfg;
  bool deepseek;
};

moe::routing route_model(const model_row& m, const row_matrix<double>& logits, bool capped) {
  if (m.deepseek)
    return capped ? route_stream<moe::sigmoid_bias_scoring, moe::group_limited_topk,
                                 moe::limited_capacity>(m.cfg, logits)
                  : route_stream<moe::sigmoid_bias_scoring, moe::group_limited_topk,
                                 moe::unlimited_capacity>(m.cfg, logits);
  return capped ? route_stream<moe::softmax_scoring, moe::topk_selection, moe::limited_capacity>(
                      m.cfg, logits)
                : route_stream<moe::softmax_scoring, moe::topk_selection, moe::unlimited_capacity>(
                      m.cfg, logits);
}

moe::router_config unit_hidden(moe::router_config c) {
  c.hidden = 1; // routing from logits: the gate is not used
  return c;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"MoE routing, balance, placement and cost on a skewed token stream"};
  double zipf_s = 1.0;
  std::int64_t tokens = 4096;
  std::uint64_t seed = 42;
  app.add_option("--zipf", zipf_s, "skew of expert popularity, Zipf exponent s")
      ->capture_default_str();
  app.add_option("--tokens", tokens, "tokens per routed batch")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::vector<model_row> models{
      {"Mixtral-8x7B", unit_hidden(moe::router_config::from_model(model::presets::mixtral_8x7b())),
       false},
      {"Qwen3-30B-A3B",
       unit_hidden(moe::router_config::from_model(model::presets::qwen3_30b_a3b())), false},
      {"DeepSeek-V3", unit_hidden(moe::router_config::from_model(model::presets::deepseek_v3())),
       true}};

  fmt::print("Routing {} tokens whose expert popularity is Zipf(s = {}), seed {}\n\n", tokens,
             zipf_s, seed);
  fmt::print("{:<15} {:>4} {:>3} {:>8} {:>9} {:>10} {:>10} {:>10} {:>10}\n", "model", "E", "k",
             "load CV", "max/mean", "Switch aux", "drop@1.0", "drop@1.25", "drop@2.0");
  for (const model_row& m : models) {
    const std::vector<double> pop = moe::zipf_popularity(m.cfg.num_experts, zipf_s, seed);
    rng g(seed);
    const row_matrix<double> logits = moe::skewed_logits(tokens, pop, g);
    const moe::routing r = route_model(m, logits, false);
    const std::vector<double> load = r.load_as_double();
    double drops[3];
    const double cfs[3] = {1.0, 1.25, 2.0};
    for (int i = 0; i < 3; ++i) {
      model_row capped = m;
      capped.cfg.capacity_factor = cfs[i];
      drops[i] = route_model(capped, logits, true).drop_rate();
    }
    fmt::print("{:<15} {:>4} {:>3} {:>8.3f} {:>9.2f} {:>10.3f} {:>9.1f}% {:>9.1f}% {:>9.1f}%\n",
               m.name, m.cfg.num_experts, m.cfg.top_k, moe::load_cv(load), moe::max_over_mean(load),
               moe::switch_aux_loss(r), 100 * drops[0], 100 * drops[1], 100 * drops[2]);
  }

  fmt::print("\nDistinct experts a batch touches (= expert weights a decode step reads)\n");
  fmt::print("{:<15} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "model", "", "B=1", "B=8", "B=32",
             "B=128", "B=512");
  for (const model_row& m : models) {
    const std::vector<double> pop = moe::zipf_popularity(m.cfg.num_experts, zipf_s, seed);
    const std::vector<double> pi = moe::inclusion_probabilities(pop, m.cfg.top_k);
    fmt::print("{:<15} {:>7}", m.name, "uniform");
    for (double b : {1.0, 8.0, 32.0, 128.0, 512.0})
      fmt::print(" {:>10.1f}",
                 moe::expected_distinct_experts_uniform(m.cfg.num_experts, m.cfg.top_k, b));
    fmt::print("\n{:<15} {:>7}", "", "skewed");
    for (double b : {1.0, 8.0, 32.0, 128.0, 512.0})
      fmt::print(" {:>10.1f}", moe::expected_distinct_experts(pi, b));
    fmt::print("\n");
  }

  // EP placement of DeepSeek-V3's routed experts on 32 devices (4 nodes of 8), from the loads
  // measured above.
  {
    const model_row& ds = models[2];
    const std::vector<double> pop = moe::zipf_popularity(256, zipf_s, seed);
    rng g(seed);
    const moe::routing r = route_model(ds, moe::skewed_logits(tokens, pop, g), false);
    const std::vector<double> load = r.load_as_double();
    fmt::print("\nDeepSeek-V3 experts on EP 32 (4 nodes x 8), per-device max/mean load\n");
    fmt::print("  static placement (expert i on device i/8):       {:.3f}\n",
               moe::contiguous_plan(256, 32).max_over_mean(load));
    for (int extra : {32, 64}) {
      fmt::print("  EPLB hierarchical, {:>2} redundant experts:         {:.3f}\n", extra,
                 moe::rebalance_hierarchical(load, 256 + extra, 8, 4, 32).max_over_mean(load));
      fmt::print("  EPLB global,       {:>2} redundant experts:         {:.3f}\n", extra,
                 moe::rebalance_global(load, 256 + extra, 32).max_over_mean(load));
    }
  }

  // Auxiliary-loss-free balancing: bias_i += γ·sign(mean − load_i) after each batch.
  {
    moe::router_config cfg = models[2].cfg;
    cfg.bias_update_rate = 0.001;
    moe::deepseek_router r(cfg, row_matrix<double>::Zero(256, 1));
    const std::vector<double> pop = moe::zipf_popularity(256, zipf_s, seed);
    rng g(seed + 1);
    fmt::print("\nAux-loss-free bias (gamma = {}), DeepSeek-V3 router, {} tokens per step\n",
               cfg.bias_update_rate, 1024);
    fmt::print("  step:     ");
    std::string values = "  max/mean: ";
    for (int step = 0; step <= 400; ++step) {
      const moe::routing got = r.route_logits(moe::skewed_logits(1024, pop, g));
      if (step % 50 == 0) {
        fmt::print("{:>7}", step);
        values += fmt::format("{:>7.2f}", moe::max_over_mean(got.demand_as_double()));
      }
      r.update_bias(got);
    }
    fmt::print("\n{}\n", values);
  }

  // Step cost of one DeepSeek-V3 MoE layer, decode: 32 devices x 128 tokens, FP8 weights on
  // H800 (the 910B has no FP8 and runs it at its INT8 or 16-bit rate), FP8 dispatch.
  {
    const model::model_config ds = model::presets::deepseek_v3();
    const double batch = 32 * 128.0;
    fmt::print("\nOne DeepSeek-V3 MoE layer, {} decode tokens on EP 32, microseconds\n", batch);
    fmt::print("{:<12} {:>5} {:>4} {:>9} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8}\n", "device", "skew",
               "R", "max/mean", "router", "dispatch", "experts", "shared", "combine", "total");
    const auto row = [&](const auto& dev, double s, int r) {
      const std::vector<double> pop = moe::zipf_popularity(256, s, seed);
      const moe::moe_cost c = moe::moe_layer_cost(
          dev, ds, batch,
          {.ep_size = 32, .redundant_experts = r, .dispatch_precision = precision::fp8},
          precision::fp8, pop);
      fmt::print("{:<12} {:>5.1f} {:>4} {:>9.2f} {:>8.1f} {:>8.1f} {:>9.1f} {:>8.1f} {:>8.1f} "
                 "{:>8.1f}\n",
                 dev.name(), s, r, c.imbalance(), c.router_s * 1e6, c.dispatch_s * 1e6,
                 c.experts_s * 1e6, c.shared_s * 1e6, c.combine_s * 1e6, c.total_s() * 1e6);
    };
    for (double s : {0.0, 0.8, 1.2})
      for (int r : {0, 32}) {
        row(h800_sxm{}, s, r);
        row(ascend_910b{}, s, r);
      }
  }

  // The article's MoE efficiency table (§2.3), computed, and the preset models beside it.
  fmt::print("\nActivation: the article's figures and the computed ones\n");
  fmt::print("{:<22} {:>9} {:>9} {:>11} {:>12} {:>14}\n", "model", "total B", "active B",
             "activation", "experts k/E", "article says");
  fmt::print("{:<22} {:>9.0f} {:>9.0f} {:>10.2f}% {:>11.3f}% {:>14}\n", "DeepSeek V4-Pro (art.)",
             1600.0, 48.0, 100.0 * 48 / 1600, 100.0 * 8 / 256, "3.00% / 3.125%");
  fmt::print("{:<22} {:>9.0f} {:>9.0f} {:>10.2f}% {:>11.3f}% {:>14}\n", "Qwen-Plus (art.)", 720.0,
             72.0, 100.0 * 72 / 720, 100.0 * 2 / 16, "10.0%");
  for (const model::model_config& m :
       {model::presets::mixtral_8x7b(), model::presets::qwen3_30b_a3b(),
        model::presets::qwen3_235b_a22b(), model::presets::deepseek_v3()}) {
    const double total = model::count_params(m).total() * 1e-9;
    const double active = model::active_params_reported(m) * 1e-9;
    fmt::print("{:<22} {:>9.1f} {:>9.1f} {:>10.2f}% {:>11.3f}% {:>14}\n", m.name, total, active,
               100.0 * active / total, 100.0 * m.top_k / m.num_experts, "");
  }
  fmt::print("Notes: the article's 256 experts x 6.25B = 1600B would make 8 active experts 50B,\n"
             "not 48B (3.125% of 1600B); its Qwen-Plus 'computation ~20% of dense' contradicts\n"
             "its own 10% activation; k/E (expert utilisation) is not the active-parameter\n"
             "share, because attention, embeddings and shared experts are always active.\n");
  return 0;
}
