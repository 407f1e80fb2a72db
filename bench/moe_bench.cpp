// MoE layer forward against its baselines, measured in the same run:
//  (a) the per-token loop (the article's approach): speedup per token, target >= 20x;
//  (b) one dense SwiGLU FFN (two GEMMs) with the same active FLOPs, width k·w: the layer's FLOP
//      rate over the dense rate, target >= 0.7;
//  (c) the router against its score GEMM alone;
//  (d) the cost face: layer_cost_model::work (the busiest device's expected touched slots) and
//      distinct_experts over a serving-like run of token counts against the direct formula of the
//      two sums (one expm1 and one log1p per slot and per expert), DeepSeek-V3's layer.
// Shape from the issue: hidden 2048, 64 experts, top-6, expert width 1408. Tokens default to
// 4096 for the ratios (512 too, and for the single timings); the per-token loop runs on a
// 64-token slice (it is memory-bound and costs the same per token at any batch), and both are
// compared per token. Timings in the ratios are the fastest of 2 runs. The allocator keeps the
// memory it is given (glibc: no trimming, no mmap for large blocks), as in a long-running
// process, so the second run of the layer and of the dense FFN does not page-fault its outputs
// in again.
//
// Every matrix product here (the layer, the dense FFN and the per-token loop alike) is Eigen's.
// Built with OpenBLAS (bench/CMakeLists.txt finds it and defines EIGEN_USE_BLAS for this
// program), they run on OpenBLAS's kernels, each call on one OpenBLAS thread (the threads above
// are the benchmark's own); otherwise on Eigen's own kernels. The program prints the backend and
// the kernel set. OpenBLAS picks its kernels from the CPU it recognises; on processors newer
// than the installed OpenBLAS (Debian 12's 0.3.21 runs AMD Zen 5 with its AVX2 Haswell kernels)
// set OPENBLAS_CORETYPE, e.g. OPENBLAS_CORETYPE=SkylakeX for AVX-512. The ratios run at 1
// thread and at std::thread::hardware_concurrency() threads: the layer with
// forward_options::threads, the dense FFN with its token rows split across the same number of
// threads; each also checks that the layer's output at that thread count equals the 1-thread
// output bit for bit (counter `bit_identical`). The per-token loop always runs on one thread (it
// is the article's approach). Next to each speedup the machine-balance bound is printed (and
// reported as a counter): the dense FFN's FLOP rate at the same thread count over the per-token
// loop's FLOP rate, i.e. the speedup of a grouped layer running exactly at dense-GEMM speed.
//
// The layer's products used to run on a hand-written AVX2/AVX-512 SGEMM (moe/kernel.hpp, removed);
// the README's MoE section gives the measurements that retired it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "infercost/model/presets.hpp"
#include "infercost/moe/cost.hpp"
#include "infercost/moe/layer.hpp"
#include "infercost/moe/router.hpp"

#include "keep_memory.hpp"

using namespace infercost;
using moe::row_matrix;

namespace {
constexpr int hidden = 2048, num_experts = 64, top_k = 6, expert_hidden = 1408;
constexpr std::int64_t loop_tokens = 64;

using layer_type = moe::basic_layer<default_device, moe::swiglu_expert, float>;

/// The layer, built once (553 M weights drawn): fixtures for other token counts share it.
const layer_type& shared_layer() {
  static const layer_type l(
      {.hidden = hidden, .expert_hidden = expert_hidden, .num_experts = num_experts}, 1);
  return l;
}

struct fixture {
  std::int64_t tokens;
  const layer_type& layer;
  moe::router router;
  row_matrix<float> x;
  moe::routing routed;
  fixture(std::int64_t t)
      : tokens(t), layer(shared_layer()),
        router(moe::router::with_random_gate(
            {.num_experts = num_experts, .top_k = top_k, .hidden = hidden}, 2)),
        x(t, hidden) {
    rng g(3);
    for (Eigen::Index i = 0; i < x.size(); ++i)
      x.data()[i] = static_cast<float>(g.normal());
    routed = router.route(x);
  }
};

/// Threads for a benchmark argument: 0 = hardware concurrency.
int thread_count(std::int64_t arg) {
  return arg > 0 ? static_cast<int>(arg)
                 : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

/// fn(first_row, rows) over `threads` contiguous slices of `rows` rows, one thread each.
template <class Fn> void split_rows(std::int64_t rows, int threads, Fn&& fn) {
  std::vector<std::jthread> pool;
  for (int i = 1; i < threads; ++i) {
    const std::int64_t r0 = rows * i / threads, r1 = rows * (i + 1) / threads;
    pool.emplace_back([&fn, r0, r1] { fn(r0, r1 - r0); });
  }
  fn(0, rows / threads);
}

/// One SwiGLU FFN over all of x's rows, the rows split across `threads` threads.
void dense_ffn(const row_matrix<float>& x, const row_matrix<float>& w_in,
               const row_matrix<float>& w_out, row_matrix<float>& y, int threads) {
  split_rows(x.rows(), threads, [&](std::int64_t r0, std::int64_t n) {
    row_matrix<float> h(n, w_in.cols()), a;
    h.noalias() = x.middleRows(r0, n) * w_in;
    moe::swiglu_expert::activate(h, a);
    y.middleRows(r0, n).noalias() = a * w_out;
  });
}

fixture& shared_fixture(std::int64_t tokens) {
  static std::unique_ptr<fixture> f;
  if (!f || f->tokens != tokens)
    f = std::make_unique<fixture>(tokens);
  return *f;
}

void bm_per_token_loop(benchmark::State& state) {
  fixture& f = shared_fixture(state.range(0));
  const row_matrix<float> xs = f.x.topRows(loop_tokens);
  const moe::routing rs = f.router.route(xs);
  for (auto _ : state) {
    row_matrix<float> y = f.layer.forward_per_token(xs, rs);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["s_per_token"] =
      benchmark::Counter(static_cast<double>(loop_tokens) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void bm_dense_ffn(benchmark::State& state) {
  const std::int64_t t = state.range(0);
  fixture& f = shared_fixture(t);
  const int width = top_k * expert_hidden; // same active FLOPs as the routed experts
  rng g(5);
  row_matrix<float> w_in(hidden, 2 * width), w_out(width, hidden);
  for (Eigen::Index i = 0; i < w_in.size(); ++i)
    w_in.data()[i] = static_cast<float>(g.normal(0.0, 0.02));
  for (Eigen::Index i = 0; i < w_out.size(); ++i)
    w_out.data()[i] = static_cast<float>(g.normal(0.0, 0.02));
  row_matrix<float> h(t, 2 * width), a, y(t, hidden);
  for (auto _ : state) {
    h.noalias() = f.x * w_in;
    moe::swiglu_expert::activate(h, a);
    y.noalias() = a * w_out;
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 2.0 * 3.0 * hidden * static_cast<double>(width) * static_cast<double>(t);
  state.counters["flops"] = benchmark::Counter(flops * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

void bm_layer_forward(benchmark::State& state) {
  fixture& f = shared_fixture(state.range(0));
  const int threads = thread_count(state.range(1));
  for (auto _ : state) {
    row_matrix<float> y = f.layer.forward(f.x, f.routed, {.threads = threads});
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = f.layer.forward_flops(f.routed);
  state.counters["flops"] = benchmark::Counter(flops * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
  state.counters["s_per_token"] =
      benchmark::Counter(static_cast<double>(f.tokens) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void bm_router_score_gemm(benchmark::State& state) {
  fixture& f = shared_fixture(state.range(0));
  const row_matrix<float> gate = f.router.gate().cast<float>();
  row_matrix<float> logits(f.tokens, num_experts);
  for (auto _ : state) {
    logits.noalias() = f.x * gate.transpose();
    benchmark::DoNotOptimize(logits.data());
  }
}

void bm_router_route(benchmark::State& state) {
  fixture& f = shared_fixture(state.range(0));
  for (auto _ : state) {
    moe::routing r = f.router.route(f.x);
    benchmark::DoNotOptimize(r.expert.data());
  }
}

/// Times `fn` as the fastest of `reps` runs, seconds.
template <class Fn> double time_s(Fn&& fn, int reps) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  return *std::min_element(t.begin(), t.end());
}

/// The ratios the issue asks for, measured back to back on one fixture and printed.
/// Arguments: tokens, threads (0 = hardware concurrency).
void bm_ratios(benchmark::State& state) {
  const std::int64_t t = state.range(0);
  const int threads = thread_count(state.range(1));
  fixture& f = shared_fixture(t);
  const int width = top_k * expert_hidden;
  rng g(5);
  row_matrix<float> w_in(hidden, 2 * width), w_out(width, hidden);
  for (Eigen::Index i = 0; i < w_in.size(); ++i)
    w_in.data()[i] = static_cast<float>(g.normal(0.0, 0.02));
  for (Eigen::Index i = 0; i < w_out.size(); ++i)
    w_out.data()[i] = static_cast<float>(g.normal(0.0, 0.02));
  const row_matrix<float> xs = f.x.topRows(loop_tokens);
  const moe::routing rs = f.router.route(xs);
  const row_matrix<float> gate = f.router.gate().cast<float>();
  const int reps = 2;
  for (auto _ : state) {
    const double layer_s = time_s(
        [&] {
          row_matrix<float> y = f.layer.forward(f.x, f.routed, {.threads = threads});
          benchmark::DoNotOptimize(y.data());
        },
        reps);
    const double dense_s = time_s(
        [&] {
          row_matrix<float> y(t, hidden);
          dense_ffn(f.x, w_in, w_out, y, threads);
          benchmark::DoNotOptimize(y.data());
        },
        reps);
    const double loop_s = time_s(
        [&] {
          row_matrix<float> y = f.layer.forward_per_token(xs, rs);
          benchmark::DoNotOptimize(y.data());
        },
        2);
    const double gemm_s = time_s(
        [&] {
          row_matrix<float> logits(t, num_experts);
          logits.noalias() = f.x * gate.transpose();
          benchmark::DoNotOptimize(logits.data());
        },
        5);
    const double route_s = time_s(
        [&] {
          moe::routing r = f.router.route(f.x);
          benchmark::DoNotOptimize(r.expert.data());
        },
        5);
    const double layer_flops = f.layer.forward_flops(f.routed);
    const double dense_flops =
        2.0 * 3.0 * hidden * static_cast<double>(width) * static_cast<double>(t);
    const double loop_flops = f.layer.forward_flops(rs);
    const double layer_rate = layer_flops / layer_s, dense_rate = dense_flops / dense_s,
                 loop_rate = loop_flops / loop_s;
    const double speedup = (loop_s / loop_tokens) / (layer_s / static_cast<double>(t));
    const double bound = dense_rate / loop_rate;
    const double rate = layer_rate / dense_rate;
    const row_matrix<float> one = f.layer.forward(f.x, f.routed);
    const row_matrix<float> many = f.layer.forward(f.x, f.routed, {.threads = threads});
    const bool identical = (one.array() == many.array()).all();
    state.counters["threads"] = threads;
    state.counters["speedup_vs_per_token_loop"] = speedup;
    state.counters["machine_balance_bound"] = bound;
    state.counters["flop_rate_vs_dense_gemm"] = rate;
    state.counters["route_over_score_gemm"] = route_s / gemm_s;
    state.counters["bit_identical"] = identical ? 1.0 : 0.0;
    std::printf("tokens %lld, threads %d: layer %.3f s (%.1f GFLOP/s), dense FFN %.3f s "
                "(%.1f GFLOP/s), per-token loop (1 thread) %.2f ms/token (%.1f GFLOP/s)\n"
                "  speedup vs per-token loop %.1fx (target >= 20; machine-balance bound %.1fx), "
                "FLOP rate vs dense GEMM %.2f (target >= 0.70), router %.2f ms vs score GEMM "
                "%.2f ms (x%.2f); output bit-identical to 1 thread: %s\n",
                static_cast<long long>(t), threads, layer_s, layer_rate * 1e-9, dense_s,
                dense_rate * 1e-9, loop_s / loop_tokens * 1e3, loop_rate * 1e-9, speedup, bound,
                rate, route_s * 1e3, gemm_s * 1e3, route_s / gemm_s, identical ? "yes" : "NO");
  }
}
/// Σ 1 − (1 − q)^T directly: one log1p and one expm1 per probability.
double direct_touch(const std::vector<double>& q, double tokens) {
  double s = 0.0;
  for (double x : q)
    s += x >= 1.0 ? (tokens > 0.0 ? 1.0 : 0.0) : -std::expm1(tokens * std::log1p(-x));
  return s;
}

/// layer_cost_model::work and distinct_experts against the direct formula of their two sums, over
/// 4000 serving-like token counts (decode batches of 1..512, every fifth a prefill chunk of about
/// 8K), DeepSeek-V3's layer on EP 32. Argument: Zipf exponent ×10 of the popularity (0 =
/// uniform, the engine's default).
void bm_cost_work(benchmark::State& state) {
  const double skew = static_cast<double>(state.range(0)) / 10.0;
  const moe::router_config cfg = moe::router_config::from_model(model::presets::deepseek_v3());
  const std::vector<double> pop = skew > 0.0 ? zipf_weights(256, skew) : std::vector<double>{};
  const moe::layer_cost_model model(cfg, {.ep_size = 32}, precision::fp8, pop);
  std::vector<double> tokens;
  for (int i = 0; i < 4000; ++i)
    tokens.push_back(i % 5 == 0 ? 8192.0 + (i % 97) : 1.0 + (i * 37) % 512);
  const moe::ep_plan& plan = model.plan();
  std::vector<double> busiest_q; // the busiest device's slots
  const std::vector<double> loads = plan.device_loads(model.inclusion());
  const auto dev =
      static_cast<std::size_t>(std::max_element(loads.begin(), loads.end()) - loads.begin());
  for (std::size_t s = 0; s < static_cast<std::size_t>(plan.slots_per_device); ++s) {
    const auto i = static_cast<std::size_t>(
        plan.phy2log[dev * static_cast<std::size_t>(plan.slots_per_device) + s]);
    busiest_q.push_back(model.inclusion()[i] / plan.logcnt[i]);
  }
  double work_s = 0.0, direct_s = 0.0, err = 0.0;
  for (auto _ : state) {
    double sink = 0.0;
    const auto a = std::chrono::steady_clock::now();
    for (double t : tokens)
      sink += model.work(t).touched_slots + model.distinct_experts(t);
    const auto b = std::chrono::steady_clock::now();
    double direct = 0.0;
    for (double t : tokens)
      direct += direct_touch(busiest_q, t) + direct_touch(model.inclusion(), t);
    const auto c = std::chrono::steady_clock::now();
    work_s += std::chrono::duration<double>(b - a).count();
    direct_s += std::chrono::duration<double>(c - b).count();
    err = std::max(err, std::abs(sink - direct) / direct);
    benchmark::DoNotOptimize(sink);
  }
  const double calls = static_cast<double>(tokens.size() * state.iterations());
  state.counters["work_ns"] = work_s / calls * 1e9;
  state.counters["direct_formula_ns"] = direct_s / calls * 1e9;
  state.counters["direct_over_work"] = direct_s / work_s;
  state.counters["relative_difference"] = err;
}
} // namespace

BENCHMARK(bm_cost_work)->Arg(0)->Arg(10)->Iterations(20)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_per_token_loop)->Arg(512)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_dense_ffn)->Arg(512)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_layer_forward)
    ->Args({512, 1})
    ->Args({512, 0})
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_router_score_gemm)->Arg(4096)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_router_route)->Arg(4096)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_ratios)
    ->Args({512, 1})
    ->Args({512, 0})
    ->Args({4096, 1})
    ->Args({4096, 0})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

#if defined(INFERCOST_BENCH_OPENBLAS)
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
#endif

int main(int argc, char** argv) {
  infercost_bench::keep_allocator_memory();
#if defined(INFERCOST_BENCH_OPENBLAS)
  openblas_set_num_threads(1);
  std::printf("matrix products: Eigen on OpenBLAS (EIGEN_USE_BLAS), %s kernels, 1 OpenBLAS "
              "thread per call\n",
              openblas_get_corename());
#else
  std::printf("matrix products: Eigen's own kernels (%s)\n", Eigen::SimdInstructionSetsInUse());
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
