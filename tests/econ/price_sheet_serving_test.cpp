// A price sheet from a small deterministic serving run (serving::basic_cluster's report.use),
// checked against device-seconds, tokens and prices worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/tiny_models.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/econ/tco.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/serving/cluster.hpp"

using namespace infercost;

namespace {

/// DeepSeek-V3 report §1: H800 at $2 per GPU-hour (econ::find_deployment).
const double usd_per_hour = econ::find_deployment("deepseek_h800_rental").usd_per_device_hour();

const engine::parallel_layout one_device{.devices = 1, .tp = 1};

/// Six requests, 0.5 s apart (Mooncake 512-token blocks): all start with block 1; requests 1, 3,
/// 5 share the 4-block prefix 1, 2, 3, 4, while requests 0, 2, 4 each have their own second
/// block; so a prefix cache serves part of their prompts.
io::workload small_workload() {
  io::workload w;
  w.name = "price_sheet_serving_test";
  const std::vector<std::uint64_t> shared{1, 2, 3, 4};
  for (std::int64_t i = 0; i < 6; ++i) {
    io::workload_request q{.id = i,
                           .arrival_s = 0.5 * static_cast<double>(i),
                           .input_tokens = 2048 + 100 * i,
                           .output_tokens = 16 + 8 * i,
                           .block_hashes = {}};
    q.block_hashes = shared;
    if (i % 2 == 0)
      q.block_hashes[1] = 100 + static_cast<std::uint64_t>(i); // a different prefix after block 0
    q.block_hashes.push_back(1000 + static_cast<std::uint64_t>(i));
    w.requests.push_back(q);
  }
  return w;
}

/// A two-layer dense model small enough to derive its step times by hand.
using test::tiny_dense;

serving::report run_small(bool cache) {
  serving::basic_cluster<h800_sxm> c(model::presets::llama3_8b(),
                                     {.colocated = {.instances = 1, .layout = one_device},
                                      .cache = {.enabled = cache, .hbm_fraction = 0.2}});
  return c.run(small_workload(), 7);
}

} // namespace

TEST_CASE("a price sheet from a one-request run is the step times priced at $2 per hour",
          "[econ][price_sheet][serving]") {
  serving::basic_cluster<h800_sxm> c(model::presets::llama3_8b(),
                                     {.colocated = {.instances = 1, .layout = one_device}});
  io::workload w;
  w.name = "one request";
  w.requests.push_back(
      {.id = 0, .arrival_s = 0.0, .input_tokens = 1500, .output_tokens = 40, .block_hashes = {}});
  const serving::report r = c.run(w, 1);
  REQUIRE(usd_per_hour == 2.0);
  REQUIRE(r.completed == 1);
  const auto& e = c.prefill_engine();
  // One device: the prefill is one 1,500-token step (under the 2,048-token budget), then 39
  // decode steps at contexts 1500 .. 1538 (the first token comes out of the prefill step).
  const double prefill_s = e(engine::step_batch{}.add_prefill(1500)).total_s;
  double decode_s = 0.0;
  for (std::int64_t k = 0; k < 39; ++k)
    decode_s += e(engine::step_batch{}.add_decode(1500 + k)).total_s;
  CHECK(r.use.prefill_device_s == Approx(prefill_s).epsilon(1e-12));
  CHECK(r.use.decode_device_s == Approx(decode_s).epsilon(1e-12));
  CHECK(r.use.input_miss_tokens == 1500);
  CHECK(r.use.output_tokens == 40);

  const econ::price_sheet s = econ::make_price_sheet(r.use, {.usd_per_device_hour = usd_per_hour});
  // $ per million tokens = device-seconds / 3600 × $/h / tokens × 10^6.
  const double miss = prefill_s / 3600.0 * 2.0 / 1500.0 * 1e6;
  const double out = decode_s / 3600.0 * 2.0 / 40.0 * 1e6;
  REQUIRE(s.input_miss.cost_usd_per_mtok.has_value());
  REQUIRE(s.output.cost_usd_per_mtok.has_value());
  CHECK(std::isfinite(*s.output.cost_usd_per_mtok));
  CHECK(*s.input_miss.cost_usd_per_mtok == Approx(miss).epsilon(1e-12));
  CHECK(*s.output.cost_usd_per_mtok == Approx(out).epsilon(1e-12));
  CHECK_FALSE(s.input_hit.applicable()); // no cache: no hit price
  CHECK(s.total_cost_usd() == Approx((prefill_s + decode_s) / 3600.0 * 2.0).epsilon(1e-12));
  CHECK(*s.output.cost_usd_per_mtok > 0.0);
}

TEST_CASE("a price sheet from a small cached run matches its hand-derived usage and price",
          "[econ][price_sheet][serving]") {
  // A two-layer model (hidden 1024, vocab 32000, 8 heads, 2 KV heads of 128, SwiGLU FFN 4096:
  // 2,621,440 attention and 12,582,912 FFN parameters per layer, a 32,768,000-parameter LM
  // head, 1,024 KV bytes per token per layer) on one H800. Request 0 (blocks 1, 2) arrives at 0
  // s, request 1 (blocks 1, 3) at 1 s, long after request 0 has finished; each has a 1024-token
  // prompt and 2 output tokens, so the run has four steps, never mixed:
  //   (a) request 0's prefill, 1024 tokens, nothing cached; its first token;
  //   (b) request 0's decode at context 1024; its second token;
  //   (c) request 1's prefill: the cache holds block 1 (512 tokens) in DRAM — hbm_fraction 0
  //       leaves the prefix cache no HBM, so request 0's blocks went to DRAM — so 512 tokens
  //       are computed after 512 cached, and block 1 is loaded over PCIe first;
  //   (d) request 1's decode at context 1024, as (b).
  //
  // Each step time is derived op by op as in tests/engine/step_cost_test.cpp (rates and op
  // accounting there): H800 GEMM 692.58e12 FLOP/s, attention 494.7e12 FLOP/s, CUDA cores
  // 33.5e12 FLOP/s, HBM 2680e9 B/s (1675e9 element-wise), 4 µs per kernel; tp = 1, so no
  // all-reduce. Every step ends with the LM head and embedding gather of L = 1 logits token;
  // work:
  //   LM head: FLOPs 2·32000·1024·1 = 65,536,000; bytes W 32768000·2 + x 1·1024·2 + logits
  //     1·32000·4 = 65,666,048
  //   gather: bytes 1·1024·2 + 1·1024·2 = 4,096
  // times:
  //   LM head: matrix 65,536,000/692.58e12 = 9.463e-8, memory 65,666,048/2680e9 =
  //     2.4502256716e-5; memory binds; + 4 µs = 2.8502256716e-5
  //   gather: memory 4,096/1675e9 = 2.4453731343e-9; memory binds; + 4 µs = 4.0024453731e-6
  // (a) 1024·1025/2 = 524,800 (query, key) pairs; work per layer:
  //   attention: FLOPs 2·8·(128+128)·524800 = 2,149,580,800; vector 4·8·524800 = 16,793,600;
  //     bytes q, k, v 1024·(8·128+2·256)·2 + out 1024·8·128·2 + new KV 1024·1024 = 6,291,456
  //   projections: FLOPs 2·2621440·1024 = 5,368,709,120; bytes W 2621440·2 + x 1024·1024·2 + y
  //     1024·1024·2 = 9,437,184
  //   element-wise: vector 12·1024·1024 = 12,582,912; bytes 5·1024·1024·2 + 3·1024·1024·2 =
  //     16,777,216
  //   FFN: FLOPs 2·12582912·1024 = 25,769,803,776; vector 4·4096·1024 = 16,777,216; bytes W
  //     12582912·2 + x 1024·1024·2 + y 1024·1024·2 = 29,360,128
  // times:
  //   attention: matrix 2,149,580,800/494.7e12 = 4.3452209420e-6, vector 16,793,600/33.5e12 =
  //     5.013e-7, memory 6,291,456/2680e9 = 2.348e-6; matrix binds; + 4 µs = 8.3452209420e-6
  //   projections: matrix 5,368,709,120/692.58e12 = 7.7517530394e-6, memory 9,437,184/2680e9
  //     = 3.521e-6; matrix binds; + 4 µs = 1.1751753039e-5
  //   element-wise: vector 12,582,912/33.5e12 = 3.756e-7, memory 16,777,216/1675e9 =
  //     1.0016248358e-5; memory binds; + 4 µs = 1.4016248358e-5
  //   FFN: matrix 25,769,803,776/692.58e12 = 3.7208414589e-5, vector 16,777,216/33.5e12 =
  //     5.008e-7, memory 29,360,128/2680e9 = 1.096e-5; matrix binds; + 4 µs = 4.1208414589e-5
  // layer = attention + projections + element-wise + FFN = 7.5321636928e-5
  // step = 2·7.5321636928e-5 + 2.8502256716e-5 (LM head) + 4.0024453731e-6 (gather) =
  //     1.831479759465e-4 s
  // (b) and (d): 1 sequence, 1024 + 1 = 1025 keys; work per layer:
  //   attention: FLOPs 2·8·(128+128)·1025 = 4,198,400; vector 4·8·1025 = 32,800; bytes KV
  //     1024·1025 + q 8·128·2 + out 8·128·2 + new KV 1024 = 1,054,720
  //   projections: FLOPs 2·2621440 = 5,242,880; bytes W 2621440·2 + x 1024·2 + y 1024·2 =
  //     5,246,976
  //   element-wise: vector 12·1024 = 12,288; bytes 5·1024·2 + 3·1024·2 = 16,384
  //   FFN: FLOPs 2·12582912 = 25,165,824; vector 4·4096 = 16,384; bytes W 12582912·2 + x 1024·2
  //     + y 1024·2 = 25,169,920
  // times:
  //   attention: matrix 4,198,400/494.7e12 = 8.487e-9, vector 32,800/33.5e12 = 9.791e-10,
  //     memory 1,054,720/2680e9 = 3.9355223881e-7; memory binds; + 4 µs = 4.3935522388e-6
  //   projections: matrix 5,242,880/692.58e12 = 7.57e-9, memory 5,246,976/2680e9 =
  //     1.9578268657e-6; memory binds; + 4 µs = 5.9578268657e-6
  //   element-wise: vector 12,288/33.5e12 = 3.668e-10, memory 16,384/1675e9 =
  //     9.7814925373e-9; memory binds; + 4 µs = 4.0097814925e-6
  //   FFN: matrix 25,165,824/692.58e12 = 3.634e-8, vector 16,384/33.5e12 = 4.891e-10, memory
  //     25,169,920/2680e9 = 9.3917611940e-6; memory binds; + 4 µs = 1.3391761194e-5
  // layer = attention + projections + element-wise + FFN = 2.7752921791e-5
  // step = 2·2.7752921791e-5 + 2.8502256716e-5 (LM head) + 4.0024453731e-6 (gather) =
  //     8.801054567164e-5 s
  // (c) 512·512 + 512·513/2 = 393,472 pairs, the cached 512 tokens' KV read; work per layer:
  //   attention: FLOPs 2·8·(128+128)·393472 = 1,611,661,312; vector 4·8·393472 = 12,591,104;
  //     bytes KV prefix 1024·512 + q, k, v 512·(8·128+2·256)·2 + out 512·8·128·2 + new KV
  //     512·1024 = 3,670,016
  //   projections: FLOPs 2·2621440·512 = 2,684,354,560; bytes W 2621440·2 + x 512·1024·2 + y
  //     512·1024·2 = 7,340,032
  //   element-wise: vector 12·1024·512 = 6,291,456; bytes 5·1024·512·2 + 3·1024·512·2 =
  //     8,388,608
  //   FFN: FLOPs 2·12582912·512 = 12,884,901,888; vector 4·4096·512 = 8,388,608; bytes W
  //     12582912·2 + x 512·1024·2 + y 512·1024·2 = 27,262,976
  // times:
  //   attention: matrix 1,611,661,312/494.7e12 = 3.2578558965e-6, vector 12,591,104/33.5e12 =
  //     3.759e-7, memory 3,670,016/2680e9 = 1.369e-6; matrix binds; + 4 µs = 7.2578558965e-6
  //   projections: matrix 2,684,354,560/692.58e12 = 3.8758765197e-6, memory 7,340,032/2680e9
  //     = 2.739e-6; matrix binds; + 4 µs = 7.8758765197e-6
  //   element-wise: vector 6,291,456/33.5e12 = 1.878e-7, memory 8,388,608/1675e9 =
  //     5.0081241791e-6; memory binds; + 4 µs = 9.0081241791e-6
  //   FFN: matrix 12,884,901,888/692.58e12 = 1.8604207294e-5, vector 8,388,608/33.5e12 =
  //     2.504e-7, memory 27,262,976/2680e9 = 1.017e-5; matrix binds; + 4 µs = 2.2604207294e-5
  // layer = attention + projections + element-wise + FFN = 4.6746063890e-5
  // step = 2·4.6746063890e-5 + 2.8502256716e-5 (LM head) + 4.0024453731e-6 (gather) =
  //     1.259968298691e-4 s
  // Cache load before (c): one block, 512 tokens · 2 layers · 1,024 B = 1,048,576 B, from DRAM
  // over PCIe (64e9 B/s × 0.8 = 51.2e9, 10 µs setup): 10 µs + 1,048,576/51.2e9 = 3.048e-5 s.
  //
  // Usage (one device, device-seconds = step seconds): prefill (a) + (c) = 1.831479759465e-4 +
  // 1.259968298691e-4 = 3.091448058156e-4 s over 1024 + 512 = 1536 prompt tokens computed;
  // cache load 3.048e-5 s over 512 prompt tokens hit; decode (b) + (d) = 2·8.801054567164e-5 =
  // 1.760210913433e-4 s over 2·2 = 4 output tokens (the prefill's first token included).
  serving::basic_cluster<h800_sxm> c(tiny_dense(),
                                     {.colocated = {.instances = 1, .layout = one_device},
                                      .cache = {.enabled = true, .hbm_fraction = 0.0}});
  io::workload w;
  w.name = "two requests sharing a block";
  w.requests.push_back({.id = 0,
                        .arrival_s = 0.0,
                        .input_tokens = 1024,
                        .output_tokens = 2,
                        .block_hashes = {1, 2}});
  w.requests.push_back({.id = 1,
                        .arrival_s = 1.0,
                        .input_tokens = 1024,
                        .output_tokens = 2,
                        .block_hashes = {1, 3}});
  const serving::report r = c.run(w, 7);
  REQUIRE(r.completed == 2);
  CHECK(r.steps == 4);
  const serving::usage& u = r.use;
  CHECK(u.prefill_device_s == Approx(3.091448058156e-4).epsilon(1e-9));
  CHECK(u.cache_load_device_s == Approx(3.048e-5).epsilon(1e-9));
  CHECK(u.decode_device_s == Approx(1.760210913433e-4).epsilon(1e-9));
  CHECK(u.input_miss_tokens == 1536);
  CHECK(u.input_hit_tokens == 512);
  CHECK(u.output_tokens == 4);

  // Prices at $2 per device-hour with a 25% gross margin, $/Mtok = s / 3600 · 2 / tokens · 1e6
  // / (1 − 0.25):
  //   input miss: 3.091448058156e-4 / 3600 · 2 = 1.717471143420e-7 $, / 1536 · 1e6 =
  //     1.118145275664e-4 $/Mtok at cost, / 0.75 = 1.490860367552e-4;
  //   input hit: 3.048e-5 / 3600 · 2 = 1.693333333333e-8 $, / 512 · 1e6 = 3.307291666667e-5,
  //     / 0.75 = 4.409722222222e-5;
  //   output: 1.760210913433e-4 / 3600 · 2 = 9.778949519071e-8 $, / 4 · 1e6 =
  //     2.444737379768e-2, / 0.75 = 3.259649839690e-2;
  //   all device time: (3.091448058156e-4 + 3.048e-5 + 1.760210913433e-4) / 3600 · 2 =
  //     2.864699428660e-7 $.
  const econ::price_sheet s =
      econ::make_price_sheet(u, {.usd_per_device_hour = usd_per_hour, .gross_margin = 0.25});
  const econ::token_prices p = s.usd_per_mtok();
  REQUIRE(p.input_miss.has_value());
  REQUIRE(p.input_hit.has_value());
  REQUIRE(p.output.has_value());
  CHECK(*p.input_miss == Approx(1.490860367552e-4).epsilon(1e-9));
  CHECK(*p.input_hit == Approx(4.409722222222e-5).epsilon(1e-9));
  CHECK(*p.output == Approx(3.259649839690e-2).epsilon(1e-9));
  REQUIRE(s.output.cost_usd_per_mtok.has_value());
  CHECK(*s.output.cost_usd_per_mtok == Approx(2.444737379768e-2).epsilon(1e-9));
  CHECK(s.total_cost_usd() == Approx(2.864699428660e-7).epsilon(1e-9));
  CHECK(s.unattributed_cost_usd == 0.0);
}

TEST_CASE("a prefix cache lowers a small run's prefill device time and its sheet loses nothing",
          "[econ][price_sheet][serving]") {
  const serving::report r = run_small(true);
  REQUIRE(r.completed == 6);
  const serving::usage& u = r.use;
  // Every prompt token is either computed or served from the cache.
  CHECK(u.input_miss_tokens + u.input_hit_tokens == r.input_tokens);
  CHECK(u.input_hit_tokens > 0);
  CHECK(u.output_tokens == 6 * 16 + 8 * 15);

  // Nothing is lost: the sheet's cost is all busy device time priced at $2/h.
  const econ::price_sheet s =
      econ::make_price_sheet(u, {.usd_per_device_hour = usd_per_hour, .gross_margin = 0.25});
  CHECK(s.total_cost_usd() == Approx(u.busy_device_s() / 3600.0 * 2.0).epsilon(1e-12));
  CHECK(std::isfinite(s.total_cost_usd()));

  // The cache lowers the prompt tokens computed and so the prefill device time.
  const serving::report plain = run_small(false);
  CHECK(plain.use.input_hit_tokens == 0);
  CHECK(plain.use.input_miss_tokens == r.input_tokens);
  CHECK(u.prefill_device_s < plain.use.prefill_device_s);
}

TEST_CASE("two serving runs with the same seed give the same price sheet, bit for bit",
          "[econ][price_sheet][serving]") {
  const econ::price_options o{.usd_per_device_hour = usd_per_hour};
  const econ::price_sheet a = econ::make_price_sheet(run_small(true).use, o);
  const econ::price_sheet b = econ::make_price_sheet(run_small(true).use, o);
  CHECK(a.input_miss.device_s == b.input_miss.device_s);
  CHECK(a.input_hit.device_s == b.input_hit.device_s);
  CHECK(a.output.device_s == b.output.device_s);
  CHECK(a.input_miss.tokens == b.input_miss.tokens);
  CHECK(a.input_hit.tokens == b.input_hit.tokens);
  CHECK(a.output.tokens == b.output.tokens);
  CHECK(a.output.cost_usd_per_mtok == b.output.cost_usd_per_mtok);
  CHECK(a.total_cost_usd() == b.total_cost_usd());
}
