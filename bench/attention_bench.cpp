// Attention kernels against their baselines, measured in the same run:
//  1. full attention as blocked Eigen GEMMs vs a naive triple loop (n = 1024);
//  2. csa, sliding_window and topk_sparse at 8K context vs full attention at 8K: the measured time
//     ratio beside the FLOP ratio from the cost face (target: time ratio <= 1.5 x FLOP ratio).
// Layout: 8 query heads sharing one KV head (MQA, as MLA decodes), head dim 64. Single-threaded;
// ratios use thread CPU time.
#include <benchmark/benchmark.h>

#include <cmath>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "infercost/attention/attention.hpp"
#include "infercost/attention/synthetic.hpp"

using namespace infercost;
using namespace infercost::attention;

namespace {

const head_layout layout{.num_heads = 8, .num_kv_heads = 1, .head_dim = 64, .v_head_dim = 64};
const attention_shape shape = layout.as_shape();
constexpr int long_n = 8192;
constexpr int naive_n = 1024;
const sliding_window_config window_cfg{.window = 1024, .sinks = 4};
const topk_config topk_cfg{.index_heads = 2, .index_dim = 32, .top_k = 1024};
const csa_config csa_cfg{}; // 10% exact, 8x compression, PCA basis

std::map<std::string, double>& seconds() {
  static std::map<std::string, double> s;
  return s;
}

const qkv& inputs(int n) {
  static std::map<int, qkv> cache;
  auto it = cache.find(n);
  if (it == cache.end())
    it = cache.emplace(n, make_qkv({.tokens = n, .layout = layout, .seed = 8192})).first;
  return it->second;
}

/// Naive baseline: per head, per query, a loop over keys for the scores, a stable softmax, and a
/// loop over keys for the output.
matrix naive_attention(const head_layout& l, const qkv& x) {
  const int n = static_cast<int>(x.q.rows()), d = l.head_dim, dv = l.v_head_dim;
  const int G = l.group();
  const float scale = l.softmax_scale();
  matrix out = matrix::Zero(n, l.num_heads * dv);
  std::vector<float> s(static_cast<std::size_t>(n));
  for (int h = 0; h < l.num_heads; ++h)
    for (int i = 0; i < n; ++i) {
      float mx = -INFINITY;
      for (int j = 0; j <= i; ++j) {
        float dot = 0.0f;
        for (int a = 0; a < d; ++a)
          dot += x.q(i, h * d + a) * x.k(j, (h / G) * d + a);
        s[std::size_t(j)] = dot * scale;
        mx = std::max(mx, s[std::size_t(j)]);
      }
      float sum = 0.0f;
      for (int j = 0; j <= i; ++j) {
        s[std::size_t(j)] = std::exp(s[std::size_t(j)] - mx);
        sum += s[std::size_t(j)];
      }
      for (int j = 0; j <= i; ++j)
        for (int a = 0; a < dv; ++a)
          out(i, h * dv + a) += s[std::size_t(j)] / sum * x.v(j, (h / G) * dv + a);
    }
  return out;
}

/// CPU time of this thread: the kernels are single-threaded, and CPU time is steadier than wall
/// time on a shared machine.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class F> void timed(benchmark::State& state, const std::string& name, F&& f) {
  double total = 0.0;
  for (auto _ : state) {
    const double t0 = thread_cpu_s();
    matrix out = f();
    benchmark::DoNotOptimize(out.data());
    total += thread_cpu_s() - t0;
  }
  seconds()[name] = total / static_cast<double>(state.iterations());
}

void BM_full_gemm_1k(benchmark::State& state) {
  const qkv& x = inputs(naive_n);
  timed(state, "full_gemm_1k", [&] { return full_forward(layout, x); });
}
void BM_full_naive_1k(benchmark::State& state) {
  const qkv& x = inputs(naive_n);
  timed(state, "full_naive_1k", [&] { return naive_attention(layout, x); });
}
void BM_full_8k(benchmark::State& state) {
  const qkv& x = inputs(long_n);
  timed(state, "full", [&] { return full_forward(layout, x); });
}
void BM_sliding_window_8k(benchmark::State& state) {
  const qkv& x = inputs(long_n);
  timed(state, "sliding_window", [&] { return sliding_window_forward(layout, x, window_cfg); });
}
void BM_topk_sparse_8k(benchmark::State& state) {
  const qkv& x = inputs(long_n);
  const indexer_inputs ix = make_indexer(layout, x, topk_cfg, 7);
  timed(state, "topk_sparse", [&] { return topk_forward(layout, x, ix, topk_cfg); });
}
void BM_csa_8k(benchmark::State& state) {
  const qkv& x = inputs(long_n);
  timed(state, "csa", [&] { return csa_forward(layout, x, csa_cfg); });
}

} // namespace

BENCHMARK(BM_full_gemm_1k)->Unit(benchmark::kMillisecond)->MinTime(0.3);
BENCHMARK(BM_full_naive_1k)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_full_8k)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_sliding_window_8k)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_topk_sparse_8k)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_csa_8k)->Unit(benchmark::kMillisecond)->Iterations(1);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  auto& s = seconds();
  if (s.count("full_gemm_1k") && s.count("full_naive_1k"))
    fmt::print("\nfull attention n={}: naive {:.1f} ms, blocked GEMM {:.2f} ms, speed-up {:.1f}x\n",
               naive_n, 1e3 * s["full_naive_1k"], 1e3 * s["full_gemm_1k"],
               s["full_naive_1k"] / s["full_gemm_1k"]);
  if (!s.count("full"))
    return 0;
  const attention_work full_w = prefill_work(shape, full_config{}, long_n);
  const double full_gflops = full_w.flops() / s["full"] / 1e9;
  fmt::print("\nat n={} (8 heads, 1 KV head, dim 64), full attention {:.0f} ms ({:.1f} GFLOP/s)\n",
             long_n, 1e3 * s["full"], full_gflops);
  fmt::print("{:<16} {:>10} {:>11} {:>11} {:>12} {:>8}\n", "policy", "time ms", "time ratio",
             "FLOP ratio", "time/FLOP", "target");
  auto row = [&](const char* name, const attention_work& w) {
    if (!s.count(name))
      return;
    const double tr = s[name] / s["full"], fr = w.flops() / full_w.flops();
    fmt::print("{:<16} {:>10.0f} {:>11.3f} {:>11.3f} {:>12.2f} {:>8}\n", name, 1e3 * s[name], tr,
               fr, tr / fr, tr <= 1.5 * fr ? "met" : "missed");
  };
  row("sliding_window", prefill_work(shape, window_cfg, long_n));
  row("topk_sparse", prefill_work(shape, topk_cfg, long_n));
  row("csa", prefill_work(shape, csa_cfg, long_n));
  fmt::print("(FLOP ratio: matrix FLOPs from the cost face, incl. indexer and compression; "
             "softmax and selection are vector work and not in it)\n");
  return 0;
}
