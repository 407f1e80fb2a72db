// Block operations per second of the three-tier cache (each eviction policy) replaying the
// Mooncake conversation trace, against a plain std::list + std::unordered_map single-tier LRU
// of the same total capacity doing the same lookups and inserts, in the same run.
//
// A block operation is one block looked up or inserted. Rates are per CPU second (std::clock),
// so other load on the machine does not skew the ratio. Target: every policy >= 1.0x the
// baseline's rate while running three tiers (counter `vs_baseline`).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "infercost/device/catalog.hpp"
#include "infercost/io/mooncake_trace.hpp"
#include "infercost/kvcache/tiered_cache.hpp"

namespace {

using infercost::kvcache::block_id;

// Tier sizes in blocks; the trace has 182,790 distinct blocks, so every tier evicts.
constexpr std::int64_t hbm_blocks = 8000, dram_blocks = 16000, ssd_blocks = 32000;

const std::vector<infercost::io::mooncake_request>& trace() {
  static const std::vector<infercost::io::mooncake_request> t = [] {
    const std::string path = std::string(INFERCOST_DATA_DIR) + "/mooncake/conversation_trace.jsonl";
    try {
      return infercost::io::read_mooncake_trace(path);
    } catch (const infercost::trace_error& e) {
      std::fprintf(stderr, "kvcache_bench: %s\n", e.what());
      return std::vector<infercost::io::mooncake_request>{};
    }
  }();
  return t;
}

std::int64_t trace_block_ops() {
  std::int64_t n = 0;
  for (const auto& r : trace())
    n += 2 * static_cast<std::int64_t>(r.hash_ids.size());
  return n;
}

/// The baseline: one LRU list of block ids and a hash map to their list positions.
class list_lru {
public:
  explicit list_lru(std::size_t capacity) : capacity_(capacity) { map_.reserve(capacity * 2); }
  std::size_t lookup(const std::vector<block_id>& ids) {
    std::size_t k = 0;
    for (; k < ids.size(); ++k) {
      const auto it = map_.find(ids[k]);
      if (it == map_.end())
        break;
      list_.splice(list_.begin(), list_, it->second);
    }
    return k;
  }
  void insert(const std::vector<block_id>& ids) {
    for (const block_id b : ids) {
      const auto it = map_.find(b);
      if (it != map_.end()) {
        list_.splice(list_.begin(), list_, it->second);
        continue;
      }
      if (map_.size() >= capacity_) {
        map_.erase(list_.back());
        list_.pop_back();
      }
      list_.push_front(b);
      map_.emplace(b, list_.begin());
    }
  }

private:
  std::size_t capacity_;
  std::list<block_id> list_;
  std::unordered_map<block_id, std::list<block_id>::iterator> map_;
};

double baseline_rate = 0.0; // block ops per CPU second of the last baseline run

void bm_baseline_list_lru(benchmark::State& state) {
  if (trace().empty()) {
    state.SkipWithError("mooncake/conversation_trace.jsonl not found");
    return;
  }
  std::int64_t hits = 0;
  double seconds = 0.0;
  for (auto _ : state) {
    const std::clock_t t0 = std::clock();
    list_lru c(hbm_blocks + dram_blocks + ssd_blocks);
    for (const auto& r : trace()) {
      hits += static_cast<std::int64_t>(c.lookup(r.hash_ids));
      c.insert(r.hash_ids);
    }
    benchmark::DoNotOptimize(hits);
    seconds += static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
  }
  const double ops =
      static_cast<double>(trace_block_ops()) * static_cast<double>(state.iterations());
  baseline_rate = ops / seconds;
  state.SetItemsProcessed(static_cast<std::int64_t>(ops));
  state.counters["hit_rate"] = static_cast<double>(hits) /
                               (static_cast<double>(trace_block_ops()) / 2.0) /
                               static_cast<double>(state.iterations());
}

template <class Eviction> void bm_tiered(benchmark::State& state) {
  if (trace().empty()) {
    state.SkipWithError("mooncake/conversation_trace.jsonl not found");
    return;
  }
  const infercost::kvcache::cache_config cfg{.hbm_bytes = hbm_blocks,
                                             .dram_bytes = dram_blocks,
                                             .ssd_bytes = ssd_blocks,
                                             .block_bytes = 1.0};
  std::int64_t hits = 0;
  double seconds = 0.0;
  for (auto _ : state) {
    const std::clock_t t0 = std::clock();
    infercost::kvcache::basic_tiered_cache<infercost::h800_sxm, Eviction> c(cfg);
    for (const auto& r : trace()) {
      hits += c.lookup(r.hash_ids).hits();
      (void)c.insert(r.hash_ids);
    }
    benchmark::DoNotOptimize(hits);
    seconds += static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
  }
  const double ops =
      static_cast<double>(trace_block_ops()) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(ops));
  state.counters["hit_rate"] = static_cast<double>(hits) /
                               (static_cast<double>(trace_block_ops()) / 2.0) /
                               static_cast<double>(state.iterations());
  if (baseline_rate > 0.0)
    state.counters["vs_baseline"] = ops / seconds / baseline_rate;
}

} // namespace

BENCHMARK(bm_baseline_list_lru)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(bm_tiered, infercost::kvcache::lru)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(bm_tiered, infercost::kvcache::lfu)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(bm_tiered, infercost::kvcache::s3fifo)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
