// What attention costs under each policy: the article's CSA figures beside the computed ones,
// then FLOPs, KV footprint and decode step time from 4K to 1M tokens of context for DeepSeek-V3,
// Llama-3.1-70B and Mistral-7B (sliding window), where each sparse policy overtakes full
// attention, and the output error of each policy against full attention on synthetic Q/K/V.
// GCC 12 reports a false "potential null pointer dereference" inside CLI11 2.1.2's
// CLI::detail::split (std::vector<std::string>::emplace_back) once it is inlined into this file.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "infercost/attention/attention.hpp"
#include "infercost/attention/synthetic.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::attention;

namespace {

/// One model's layer under every policy it is shown with (all layers alike).
struct model_row {
  model::model_config m;
  attention_shape shape;
  sliding_window_config window;
  topk_config topk;
  bool show_csa_topk = true;
};

template <class Device> double decode_s(const model_row& r, const std::string& p, std::int64_t c) {
  const Device dev;
  const double L = r.m.num_layers;
  if (p == "full")
    return L * basic_attention<Device, full>(r.shape, {}, dev).decode_time_s(c);
  if (p == "csa")
    return L * basic_attention<Device, csa>(r.shape, {}, dev).decode_time_s(c);
  if (p == "sliding_window")
    return L * basic_attention<Device, sliding_window>(r.shape, r.window, dev).decode_time_s(c);
  return L * basic_attention<Device, topk_sparse>(r.shape, r.topk, dev).decode_time_s(c);
}

attention_work decode_w(const model_row& r, const std::string& p, std::int64_t c) {
  if (p == "full")
    return decode_work(r.shape, full_config{}, c);
  if (p == "csa")
    return decode_work(r.shape, csa_config{}, c);
  if (p == "sliding_window")
    return decode_work(r.shape, r.window, c);
  return decode_work(r.shape, r.topk, c);
}

double kv_seq(const model_row& r, const std::string& p, std::int64_t c) {
  if (p == "full")
    return kv_bytes_per_sequence(r.shape, full_config{}, c);
  if (p == "csa")
    return kv_bytes_per_sequence(r.shape, csa_config{}, c);
  if (p == "sliding_window")
    return kv_bytes_per_sequence(r.shape, r.window, c);
  return kv_bytes_per_sequence(r.shape, r.topk, c);
}

template <class Device, class P>
std::string crossover(const model_row& r, const typename P::config& cfg) {
  const Device dev;
  const basic_attention<Device, P> a(r.shape, cfg, dev);
  const basic_attention<Device, full> f(r.shape, {}, dev);
  const std::optional<std::int64_t> x = decode_crossover_context(a, f, std::int64_t{1} << 22);
  return x ? fmt::format("{}", *x) : std::string("never");
}

void print_article_check() {
  // The article's CSA class: hidden 7168 = 64 heads x 112, 10% exact, 8x compression, 128K.
  const attention_shape s{.num_heads = 64, .num_kv_heads = 64, .head_dim = 112, .v_head_dim = 112};
  const std::int64_t n = 131072;
  const attention_work f = prefill_work(s, full_config{}, n);
  const attention_work c = prefill_work(s, csa_config{}, n);
  fmt::print("CSA against full attention at 128K tokens (the article's shape: 64 heads x 112)\n");
  fmt::print("  {:<44} {:>10} {:>10}\n", "", "article", "computed");
  fmt::print("  {:<44} {:>10} {:>9.2f}%\n", "core FLOPs (10% exact + 90% at 1/8 width)", "~27%",
             100.0 * c.core_flops / f.core_flops);
  fmt::print("  {:<44} {:>10} {:>9.2f}%\n", "all matrix FLOPs incl. compression", "~27%",
             100.0 * c.flops() / f.flops());
  fmt::print("  {:<44} {:>10} {:>9.2f}%\n", "  of which compression / projections", "-",
             100.0 * c.projection_flops / f.flops());
  fmt::print("  {:<44} {:>10} {:>9.2f}%\n", "softmax vector work (scores are not fewer)", "-",
             100.0 * c.vector_flops / f.vector_flops);
  fmt::print("  {:<44} {:>10} {:>9.2f}%\n", "KV cache (exact queries need the full cache)", "~10%",
             100.0 * kv_bytes_per_token(s, csa_config{}) / kv_bytes_per_token(s, full_config{}));
  fmt::print("  The article's own arithmetic gives {:.2f}%; its \"~27%\" is not reached even with\n"
             "  the compression cost, and its \"~10%\" KV saving would drop the keys that the\n"
             "  exact queries attend to.\n\n",
             100.0 * csa_core_flop_ratio(csa_config{}));
}

void print_numerics() {
  const head_layout l{.num_heads = 4, .num_kv_heads = 1, .head_dim = 64, .v_head_dim = 64};
  fmt::print("Output error against full attention on synthetic Q/K/V (relative L2; 4 heads, 1 KV "
             "head, dim 64;\nwindow and top-k = n/8, sinks 4, CSA 10% exact at 8x, seed 2024)\n");
  fmt::print("  {:<9} {:>6} {:>10} {:>13} {:>10} {:>10} {:>14}\n", "pattern", "n", "window",
             "window+sinks", "top-k", "csa", "csa (V rank 8)");
  for (synthetic_pattern p :
       {synthetic_pattern::locality, synthetic_pattern::sinks, synthetic_pattern::random})
    for (int n : {1024, 2048}) {
      synthetic_config sc{.tokens = n, .layout = l, .pattern = p, .seed = 2024};
      const qkv x = make_qkv(sc);
      const matrix ref = full_forward(l, x);
      const topk_config tk{.index_heads = 4, .index_dim = 32, .top_k = n / 8};
      const double ew = relative_l2_error(sliding_window_forward(l, x, {.window = n / 8}), ref);
      const double es =
          relative_l2_error(sliding_window_forward(l, x, {.window = n / 8, .sinks = 4}), ref);
      const double et = relative_l2_error(topk_forward(l, x, make_indexer(l, x, tk, 7), tk), ref);
      const double ec = relative_l2_error(csa_forward(l, x, {}), ref);
      sc.value_rank = 8;
      const qkv xl = make_qkv(sc);
      const double ecl = relative_l2_error(csa_forward(l, xl, {}), full_forward(l, xl));
      fmt::print("  {:<9} {:>6} {:>10.3f} {:>13.3f} {:>10.3f} {:>10.3f} {:>14.3f}\n", to_string(p),
                 n, ew, es, et, ec, ecl);
    }
  fmt::print("\n");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Attention cost per policy: FLOPs, KV footprint, decode time, crossovers, error"};
  bool numerics = true;
  app.add_flag("!--no-numerics", numerics, "skip the synthetic-data error table");
  CLI11_PARSE(app, argc, argv);

  print_article_check();

  const std::vector<model_row> rows{
      {model::presets::deepseek_v3(),
       attention_shape::from_model(model::presets::deepseek_v3()),
       {.window = 4096, .sinks = 4},
       topk_config::from_model(model::presets::deepseek_v32_exp())},
      {model::presets::llama3_70b(),
       attention_shape::from_model(model::presets::llama3_70b()),
       {.window = 4096, .sinks = 4},
       topk_config{}},
      {model::presets::mistral_7b(), attention_shape::from_model(model::presets::mistral_7b()),
       sliding_window_config::from_model(model::presets::mistral_7b()), topk_config{}, false}};
  const std::vector<std::int64_t> contexts{4096, 32768, 131072, 1048576};

  fmt::print(
      "One decode step of one sequence, all layers, BF16 KV (DeepSeek: MLA absorbed; top-k = "
      "DSA indexer 64x128, top-2048;\nLlama/DeepSeek windows are hypothetical 4096 + 4 "
      "sinks; Mistral-7B's 4096 window is its own)\n");
  fmt::print("{:<12} {:<15} {:>8} {:>11} {:>10} {:>13} {:>12} {:>12}\n", "model", "policy",
             "context", "GFLOP", "KV GB/seq", "ascend_910b ms", "h800_sxm ms", "h200_sxm ms");
  for (const model_row& r : rows) {
    std::vector<std::string> policies{"full", "sliding_window"};
    if (r.show_csa_topk)
      policies = {"full", "csa", "sliding_window", "topk_sparse"};
    for (const std::string& p : policies)
      for (std::int64_t c : contexts) {
        const double L = r.m.num_layers;
        fmt::print("{:<12} {:<15} {:>8} {:>11.2f} {:>10.3f} {:>13.3f} {:>12.3f} {:>12.3f}\n",
                   r.m.name, p, c, L * decode_w(r, p, c).flops() / 1e9, L * kv_seq(r, p, c) / 1e9,
                   1e3 * decode_s<ascend_910b>(r, p, c), 1e3 * decode_s<h800_sxm>(r, p, c),
                   1e3 * decode_s<h200_sxm>(r, p, c));
      }
  }

  fmt::print("\nDecode crossover: the context from which each policy's step is faster than full "
             "attention's\n");
  fmt::print("{:<12} {:<15} {:>13} {:>12} {:>12}\n", "model", "policy", "ascend_910b", "h800_sxm",
             "h200_sxm");
  for (const model_row& r : rows) {
    fmt::print("{:<12} {:<15} {:>13} {:>12} {:>12}\n", r.m.name, "sliding_window",
               crossover<ascend_910b, sliding_window>(r, r.window),
               crossover<h800_sxm, sliding_window>(r, r.window),
               crossover<h200_sxm, sliding_window>(r, r.window));
    if (!r.show_csa_topk)
      continue;
    fmt::print("{:<12} {:<15} {:>13} {:>12} {:>12}\n", r.m.name, "csa",
               crossover<ascend_910b, csa>(r, {}), crossover<h800_sxm, csa>(r, {}),
               crossover<h200_sxm, csa>(r, {}));
    fmt::print("{:<12} {:<15} {:>13} {:>12} {:>12}\n", r.m.name, "topk_sparse",
               crossover<ascend_910b, topk_sparse>(r, r.topk),
               crossover<h800_sxm, topk_sparse>(r, r.topk),
               crossover<h200_sxm, topk_sparse>(r, r.topk));
  }
  fmt::print("\n");
  if (numerics)
    print_numerics();
  return 0;
}
