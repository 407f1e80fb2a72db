// The components compose through policy classes: policies defined here, outside the library,
// run through a cluster; a prefill pool and a decode pool of different parts share one run.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>

#include <list>

#include "infercost/attention/cost.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/kvcache/eviction_policy.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/serving/cluster.hpp"

using namespace infercost;

namespace {
/// A workload of `n` requests arriving at once.
io::workload at_once(std::int64_t n, std::int64_t input, std::int64_t output) {
  io::workload w;
  w.name = "at once";
  for (std::int64_t i = 0; i < n; ++i)
    w.requests.push_back({.id = i,
                          .arrival_s = 0.0,
                          .input_tokens = input,
                          .output_tokens = output,
                          .block_hashes = {}});
  return w;
}
} // namespace

namespace user {

/// A balancer that sends every request to the least-loaded instance, ties to the last one (the
/// opposite of least_loaded's tie rule, so it is observable).
struct least_loaded_last {
  static constexpr std::string_view name = "least_loaded_last";
  [[nodiscard]] bool needs_cache_match() const noexcept { return false; }
  void seed(std::uint64_t) noexcept {}
  std::size_t pick(std::span<const serving::candidate> c, const serving::request_view&) {
    std::size_t best = c.size() - 1;
    for (std::size_t i = c.size(); i-- > 0;)
      if (c[i].load < c[best].load)
        best = i;
    return best;
  }
};

/// Full attention over a KV cache stored at a fraction of its precision's bytes (a quantised
/// cache): the same FLOPs, `kv_fraction` of the KV bytes read, written and kept.
struct quantized_kv {
  struct config {
    double kv_fraction = 0.5;
    void validate(const attention::attention_shape&) const {
      check_in_range("user::quantized_kv", "kv_fraction", kv_fraction, 0.01, 1.0);
    }
  };
  static constexpr std::string_view name = "quantized_kv";
  static attention::attention_work step_work(const attention::attention_shape& s, const config& c,
                                             const attention::batch_totals& t) {
    attention::attention_work w = attention::full::step_work(s, {}, t);
    w.kv_bytes_read *= c.kv_fraction;
    w.kv_bytes_written *= c.kv_fraction;
    return w;
  }
  static double kv_bytes_per_token(const attention::attention_shape& s, const config& c) {
    return c.kv_fraction * attention::full::kv_bytes_per_token(s, {});
  }
  static double kept_tokens(const config&, double context) { return context; }
};

/// First in, first out: a block keeps the place where it entered the tier; hits do not move it.
class fifo {
public:
  static constexpr std::string_view name = "fifo";
  struct node {
    std::list<kvcache::block_handle>::iterator place;
  };
  using table = kvcache::block_table<node>;
  explicit fifo(std::size_t) {}
  void insert(table blocks, kvcache::block_handle h) {
    blocks.node(h).place = queue_.insert(queue_.end(), h);
  }
  void touch(table, kvcache::block_handle) {}
  void erase(table blocks, kvcache::block_handle h) { queue_.erase(blocks.node(h).place); }
  kvcache::block_handle evict(table) {
    const kvcache::block_handle h = queue_.front();
    queue_.pop_front();
    return h;
  }
  [[nodiscard]] std::size_t size() const { return queue_.size(); }

private:
  std::list<kvcache::block_handle> queue_; ///< oldest first
};

} // namespace user

static_assert(serving::balancer_policy<user::least_loaded_last>);
static_assert(kvcache::eviction_policy<user::fifo>);
static_assert(attention::attention_policy<user::quantized_kv>);

TEST_CASE("a balancer defined outside the library routes a cluster's requests",
          "[serving][composition]") {
  struct policies : serving::default_policies {
    using balancer = user::least_loaded_last;
  };
  const auto m = model::presets::llama3_8b();
  serving::basic_cluster<h800_sxm, policies> c(
      m, {.colocated = {.instances = 3, .layout = {.devices = 1, .tp = 1}}});
  // Three requests at once: the first goes to the last instance (all idle, ties to the last),
  // the second to the middle one, the third to the first.
  const serving::report r = c.run(at_once(3, 1000, 5), 1);
  REQUIRE(r.completed == 3);
  CHECK(r.balancer == "least_loaded_last");
  CHECK(r.requests[0].prefill_instance == 2);
  CHECK(r.requests[1].prefill_instance == 1);
  CHECK(r.requests[2].prefill_instance == 0);
}

TEST_CASE("an attention policy defined outside the library changes step time and KV capacity",
          "[serving][composition]") {
  const auto m = model::presets::llama3_8b();
  const engine::parallel_layout l{.devices = 1, .tp = 1};
  const engine::basic_step_cost<h800_sxm> full(m, l);
  const engine::basic_step_cost<h800_sxm, user::quantized_kv> half(m, l, {.kv_fraction = 0.5});
  // Llama-3.1-8B keeps 2·8·128·2 = 4,096 bytes per token per layer, 131,072 over 32 layers.
  CHECK(full.kv_bytes_per_sequence(1000) == 1000 * 131072.0);
  CHECK(half.kv_bytes_per_sequence(1000) == 1000 * 65536.0);
  // Decode at a long context is bound by the KV read: halving it shortens the step.
  engine::step_batch b;
  b.totals.decode_sequences = 64;
  b.totals.decode_context_sum = 64 * 30000.0;
  CHECK(half(b).attention_s < 0.6 * full(b).attention_s);
  // The same HBM holds twice the tokens.
  struct policies : serving::default_policies {
    using attention = user::quantized_kv;
  };
  serving::basic_cluster<h800_sxm, policies> c(m, {.colocated = {.layout = l}},
                                               {.kv_fraction = 0.5});
  serving::basic_cluster<h800_sxm> plain(m, {.colocated = {.layout = l}});
  const io::workload w = at_once(1, 4000, 20);
  const serving::report a = c.run(w, 1), p = plain.run(w, 1);
  REQUIRE(a.completed == 1);
  CHECK(a.instances[0].capacity_tokens == Approx(2.0 * p.instances[0].capacity_tokens).margin(1.0));
}

TEST_CASE("a prefill pool and a decode pool of different parts share one run",
          "[serving][composition]") {
  // Llama-3.1-8B prefilled on an H800 and decoded on an H20 (Splitwise's premise: compute-rich
  // prefill, bandwidth-rich decode).
  const auto m = model::presets::llama3_8b();
  const engine::parallel_layout l{.devices = 1, .tp = 1};
  serving::basic_cluster<h800_sxm, serving::default_policies, h20> c(
      m,
      {.mode = serving::serving_mode::pd,
       .prefill = {.instances = 1, .layout = l, .scheduler = {.max_batched_tokens = 16384}},
       .decode = {.instances = 1, .layout = l}},
      {}, h800_sxm{}, h20{});
  const serving::report r = c.run(at_once(1, 3000, 10), 1);
  REQUIRE(r.completed == 1);
  CHECK(r.device == "h800_sxm/h20");
  const serving::request_record& q = r.requests[0];
  // TTFT: the prefill on the H800, then the KV (3,000 × 131,072 bytes) over the link; both parts
  // reach a peer in their node at 450 vs 200 GB/s of NVLink: the H800 end is the slower.
  const double prefill = c.prefill_engine()(engine::step_batch{}.add_prefill(3000)).total_s;
  const comm_work kv{.kind = collective::point_to_point,
                     .bytes = 3000 * 131072.0,
                     .ranks = 2,
                     .scope = link_scope::intra_node};
  const double transfer = std::max(h800_sxm{}.comm_time_s(kv), h20{}.comm_time_s(kv));
  CHECK(transfer == h800_sxm{}.comm_time_s(kv));
  CHECK(c.kv_transfer().time_s(3000) == transfer);
  CHECK(q.ttft_s() == Approx(prefill + transfer).epsilon(1e-12));
  // Decode: nine steps on the H20's engine at contexts 3000 .. 3008.
  double t = q.first_token_s;
  for (std::int64_t k = 0; k < 9; ++k)
    t += (*c.decode_engine())(engine::step_batch{}.add_decode(3000 + k)).total_s;
  CHECK(q.completion_s == Approx(t).epsilon(1e-12));
  CHECK(c.decode_engine()->device().name() == "h20");
}

TEST_CASE("an eviction policy defined outside the library runs a cluster's prefix cache",
          "[serving][composition]") {
  struct policies : serving::default_policies {
    using eviction = user::fifo;
  };
  // 300 requests of 8 shared-prefix groups on a small HBM share: FIFO and LRU both hit, and
  // nothing is lost either way.
  const io::workload w = io::synthetic_workload({.requests = 300,
                                                 .arrivals = {.rate_per_s = 10.0},
                                                 .input_tokens = 6000,
                                                 .input_spread = 0.3,
                                                 .output_tokens = 20,
                                                 .prefix_groups = 8,
                                                 .prefix_tokens = 4096},
                                                5);
  const auto m = model::presets::llama3_8b();
  const serving::cluster_config cfg{
      .colocated = {.instances = 2, .layout = {.devices = 1, .tp = 1}},
      .cache = {.enabled = true, .hbm_fraction = 0.05, .use_dram = false, .use_ssd = false}};
  serving::basic_cluster<h800_sxm, policies> fifo_cluster(m, cfg);
  serving::basic_cluster<h800_sxm> lru_cluster(m, cfg);
  const serving::report f = fifo_cluster.run(w, 1), l = lru_cluster.run(w, 1);
  for (const serving::report* r : {&f, &l}) {
    CHECK(r->completed == 300);
    CHECK(r->cache.hit_blocks[0] > 0);
    CHECK(r->use.input_hit_tokens + r->use.input_miss_tokens == w.input_tokens());
  }
  INFO("FIFO hits " << f.cache.hit_blocks[0] << ", LRU hits " << l.cache.hit_blocks[0]);
  // The policy is the cache's: hits a recent block keeps LRU's get lost under FIFO.
  CHECK(f.cache.hit_blocks[0] < l.cache.hit_blocks[0]);
}
