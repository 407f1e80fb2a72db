// Verification throughput (sequences·steps per second) at V = 32k: infercost's vectorised
// rejection-sampling verification (Eigen residual and blocked inverse-CDF scan) against a scalar
// reference loop, on the same draft/target rows, the same draft tokens and the same random
// streams. Prints the ratio vectorised / scalar.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "infercost/speculative/language_model.hpp"
#include "infercost/speculative/verify.hpp"

using namespace infercost;
using namespace infercost::speculative;

namespace {

constexpr std::size_t vocab = 32000;
constexpr int gamma_tokens = 4;

/// One sequence's verification problem: γ+1 target rows, γ draft rows, γ draft tokens.
struct problem {
  std::vector<Eigen::VectorXd> p, q;
  std::vector<token> draft;
};

const std::vector<problem>& problems() {
  static const std::vector<problem> all = [] {
    // α = 0.7 per state: most steps end in a rejection (residual over V), the rest in a bonus
    // token (a sample over V). Seeds 71, 72, 73.
    const ngram_model target(ngram_config{.vocab = vocab, .order = 1, .states = 16, .seed = 71});
    const ngram_model draft = make_draft(target, draft_config{.alpha = 0.7, .seed = 72});
    rng g(73);
    std::vector<problem> out(64);
    for (problem& pr : out) {
      std::vector<token> seq{static_cast<token>(g.uniform_int(vocab))};
      for (int i = 0; i < gamma_tokens; ++i) {
        pr.q.push_back(draft.next_distribution(seq));
        pr.draft.push_back(rejection_sampling::propose(pr.q.back(), g));
        pr.p.push_back(target.next_distribution(seq));
        seq.push_back(pr.draft.back());
      }
      pr.p.push_back(target.next_distribution(seq));
    }
    return out;
  }();
  return all;
}

void bm_verify_vectorised(benchmark::State& state) {
  const auto& ps = problems();
  rng g(1);
  Eigen::VectorXd scratch(static_cast<Eigen::Index>(vocab));
  std::size_t i = 0;
  for (auto _ : state) {
    const problem& pr = ps[i++ % ps.size()];
    benchmark::DoNotOptimize(rejection_sampling::verify(pr.p, pr.q, pr.draft, g, scratch));
  }
  state.SetItemsProcessed(state.iterations());
}

void bm_verify_scalar(benchmark::State& state) {
  const auto& ps = problems();
  rng g(1);
  std::vector<double> scratch(vocab);
  std::size_t i = 0;
  for (auto _ : state) {
    const problem& pr = ps[i++ % ps.size()];
    benchmark::DoNotOptimize(verify_rejection_scalar(pr.p, pr.q, pr.draft, g, scratch));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_verify_vectorised);
BENCHMARK(bm_verify_scalar);

/// Console output plus the per-iteration time of each run, for the ratio.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.iterations > 0 && r.run_type == Run::RT_Iteration)
        seconds_[r.benchmark_name()] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  double time(const std::string& name) const {
    const auto it = seconds_.find(name);
    return it == seconds_.end() ? 0.0 : it->second;
  }

private:
  std::map<std::string, double> seconds_;
};

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double vec = reporter.time("bm_verify_vectorised");
  const double sca = reporter.time("bm_verify_scalar");
  if (vec > 0.0 && sca > 0.0)
    std::printf("verification at V = %zu, gamma = %d: vectorised %.0f seq-steps/s, scalar %.0f "
                "seq-steps/s, ratio %.2fx\n",
                vocab, gamma_tokens, 1e9 / vec, 1e9 / sca, sca / vec);
  benchmark::Shutdown();
  return 0;
}
