#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "infercost/attention/cost.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::attention;

namespace {
constexpr double rel = 1e-12;

attention_shape article_shape() {
  // The article's CSA class: 64 heads of 112 dims (hidden 7168), multi-head.
  return {.num_heads = 64, .num_kv_heads = 64, .head_dim = 112, .v_head_dim = 112};
}
} // namespace

TEST_CASE("full attention decode work matches the hand count", "[attention]") {
  // Llama-3.1-70B layer: 64 heads of 128, 8 KV heads. Decode at context 1000 attends 1001 keys:
  // core = 2*64*(128+128)*1001; KV read = 1001 * 2*8*128 * 2 bytes; softmax = 4*64*1001.
  const attention_shape s = attention_shape::from_model(model::presets::llama3_70b());
  const attention_work w = decode_work(s, full_config{}, 1000);
  CHECK(w.core_flops == 2.0 * 64 * 256 * 1001);
  CHECK(w.kv_bytes_read == 1001.0 * 2048 * 2);
  CHECK(w.vector_flops == 4.0 * 64 * 1001);
  CHECK(w.kv_bytes_written == 2048.0 * 2);
  CHECK(w.indexer_flops == 0.0);
  CHECK(w.projection_flops == 0.0);
  CHECK(w.activation_bytes_read == 64.0 * 128 * 2);
  const op_work op = w.to_op_work();
  CHECK(op.kind == op_kind::attention);
  CHECK(op.flops == w.core_flops);
  CHECK(op.bytes_read == w.kv_bytes_read + w.activation_bytes_read);
}

TEST_CASE("MLA decode attends over the latent with absorbed projections", "[attention]") {
  // DeepSeek-V3: per key, 128 heads x 2 x (576 + 512) FLOPs (absorbed), and 576 latent elements
  // read once for all heads, not 128 heads' K and V.
  const attention_shape s = attention_shape::from_model(model::presets::deepseek_v3());
  const attention_work w = decode_work(s, full_config{}, 4095);
  CHECK(w.core_flops == 4096.0 * 128 * 2 * (576 + 512));
  CHECK(w.kv_bytes_read == 4096.0 * 576 * 2);
  // Prefill uses the per-head form: 2 x 128 x (192 + 128) per pair.
  const attention_work p = prefill_work(s, full_config{}, 100);
  CHECK(p.core_flops == Approx(100.0 * 101 / 2 * 128 * 2 * (192 + 128)).epsilon(rel));
  // With a cached prefix, its latents are expanded: 2 * prefix * 512 * 128 * (128 + 128).
  const attention_work pc = prefill_work(s, full_config{}, 10, 50);
  CHECK(pc.projection_flops == 2.0 * 50 * 512 * 128 * 256);
  CHECK(pc.kv_bytes_read == 50.0 * 576 * 2);
}

TEST_CASE("CSA prefill costs 21.25 percent of full attention plus a small compression cost",
          "[attention]") {
  // 128K tokens, the article's shape. Core ratio: exactly 0.1 + 0.9/8.
  const attention_shape s = article_shape();
  const std::int64_t n = 131072;
  const attention_work f = prefill_work(s, full_config{}, n);
  const attention_work c = prefill_work(s, csa_config{}, n);
  CHECK(c.core_flops / f.core_flops == Approx(0.2125).epsilon(1e-12));
  // Compression: n tokens x 64 heads x 2 x (112^2 + 112^2)/8, plus the compressed 90% of
  // queries projected and their outputs expanded: same again x 0.9.
  const double per_token = 64.0 * 2 * (112.0 * 112 * 2) / 8;
  CHECK(c.projection_flops == Approx(n * per_token * 1.9).epsilon(rel));
  const double total = c.flops() / f.flops();
  CHECK(std::isfinite(total));
  CHECK(total > 0.2125);
  CHECK(total < 0.2135); // the article's "~27%" is not reached by compression either
  // The article's non-causal count gives the same core ratio.
  const double article = (12.8e3 * 128e3 * 112 + 115.2e3 * 128e3 * 14) / (128e3 * 128e3 * 112);
  CHECK(article == Approx(0.2125).epsilon(1e-12));
}

TEST_CASE("CSA keeps the full cache plus a compressed copy", "[attention]") {
  // Exact queries need every key at full width, so CSA's cache is 1 + 1/8 of full attention's —
  // not the article's "~10%".
  const attention_shape s = article_shape();
  const double full_b = kv_bytes_per_token(s, full_config{});
  CHECK(full_b == 2.0 * 64 * 112 * 2);
  CHECK(kv_bytes_per_token(s, csa_config{}) / full_b == Approx(1.125));
  // Decode reads the full cache only when the new query is exact: expected 21.25%.
  const attention_work f = decode_work(s, full_config{}, 100000);
  const attention_work c = decode_work(s, csa_config{}, 100000);
  CHECK(c.kv_bytes_read / f.kv_bytes_read == Approx(0.2125).epsilon(rel));
}

TEST_CASE("sliding windows cap keys, prefix reads and KV footprint", "[attention]") {
  const attention_shape s = attention_shape::from_model(model::presets::mistral_7b());
  const sliding_window_config w{.window = 4096, .sinks = 4};
  const double kvb = 2.0 * 8 * 128 * 2;
  CHECK(decode_work(s, w, 100).core_flops == decode_work(s, full_config{}, 100).core_flops);
  CHECK(decode_work(s, w, 100000).kv_bytes_read == 4100.0 * kvb);
  CHECK(kv_bytes_per_sequence(s, w, 100000) == 4100.0 * kvb);
  CHECK(kv_bytes_per_sequence(s, w, 1000) == 1000.0 * kvb);
  CHECK(kv_bytes_per_sequence(s, full_config{}, 100000) == 100000.0 * kvb);
  // Prefill of 5000 from empty: Σ_{t=1}^{5000} min(t, 4100) = 4100*4101/2 + 900*4100.
  const double pairs = 4100.0 * 4101 / 2 + 900.0 * 4100;
  CHECK(prefill_work(s, w, 5000).core_flops == Approx(pairs * 2 * 32 * 256).epsilon(rel));
  CHECK(prefill_work(s, w, 10, 10000).kv_bytes_read == 4100.0 * kvb);
}

TEST_CASE("top-k attention pays for its indexer over every key", "[attention]") {
  const attention_shape s = attention_shape::from_model(model::presets::deepseek_v32_exp());
  const topk_config t{};
  const attention_work w = decode_work(s, t, 99999);
  CHECK(w.core_flops == 2048.0 * 128 * 2 * (576 + 512));
  CHECK(w.indexer_flops == 100000.0 * 2 * 64 * 128);
  CHECK(w.index_bytes_read == 100000.0 * 128 * 1);
  CHECK(w.kv_bytes_read == 2048.0 * 576 * 2);
  CHECK(w.kv_bytes_written == 576.0 * 2 + 128);
  // Below top_k every key is attended, and the indexer is pure overhead.
  const attention_work small = decode_work(s, t, 999);
  CHECK(small.core_flops == decode_work(s, full_config{}, 999).core_flops);
  CHECK(small.flops() > decode_work(s, full_config{}, 999).flops());
}

namespace {
/// Reference for the closed forms: Σ over the new tokens p = c0 .. c0+n−1 of min(p + 1, cap),
/// one token at a time.
double brute_keys(std::int64_t n, std::int64_t c0, double cap) {
  double s = 0.0;
  for (std::int64_t p = c0; p < c0 + n; ++p)
    s += std::min(static_cast<double>(p) + 1.0, cap);
  return s;
}
} // namespace

TEST_CASE("prefill work sums causal attention exactly, window and top-k caps included",
          "[attention]") {
  const precision kv = precision::bf16;
  for (auto [n, c0] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 0}, {1000, 0}, {3000, 500}, {1, 9000}, {8192, 0}, {512, 30000}}) {
    // GQA, Llama-3.1-70B: 2·64·(128 + 128) FLOPs per (query, key) pair.
    const attention_shape g = attention_shape::from_model(model::presets::llama3_70b(), kv);
    CHECK(prefill_work(g, full_config{}, n, c0).core_flops ==
          Approx(2.0 * 64 * 256 * brute_keys(n, c0, 1e300)).epsilon(rel));
    // A window of 1024 (+ 0 sinks) caps every query at 1024 keys.
    CHECK(prefill_work(g, sliding_window_config{.window = 1024}, n, c0).core_flops ==
          Approx(2.0 * 64 * 256 * brute_keys(n, c0, 1024)).epsilon(rel));
    // Prefill reads the cached prefix's KV once: c0 tokens of 2·8·128·2 = 4096 bytes.
    CHECK(prefill_work(g, full_config{}, n, c0).kv_bytes_read == c0 * 4096.0);
    CHECK(prefill_work(g, full_config{}, n, c0).kv_bytes_written == n * 4096.0);
    // DSA over MLA, DeepSeek-V3.2-Exp: prefill attends per head over the up-projected dims,
    // 2·128·(192 + 128) per pair, each query over its top 2048 keys; the indexer scores every
    // earlier key with 64 heads of 128: 2·64·128 per pair.
    const model::model_config ds = model::presets::deepseek_v32_exp();
    const attention_shape m = attention_shape::from_model(ds, kv);
    const attention_work w = prefill_work(m, topk_config::from_model(ds), n, c0);
    CHECK(w.core_flops == Approx(2.0 * 128 * 320 * brute_keys(n, c0, 2048)).epsilon(rel));
    CHECK(w.indexer_flops == Approx(2.0 * 64 * 128 * brute_keys(n, c0, 1e300)).epsilon(rel));
  }
}

TEST_CASE("a decode token reads the KV of every key it attends to", "[attention]") {
  const precision kv = precision::bf16;
  // Llama-3.1-70B at context 4095: 4096 keys of 2·8·128·2 = 4096 bytes in each of 80 layers,
  // 4096 · 327,680 bytes in all; QK and PV: 2·64·(128 + 128)·4096 FLOPs per layer.
  const model::model_config m = model::presets::llama3_70b();
  const attention_work w = decode_work(attention_shape::from_model(m, kv), full_config{}, 4095);
  CHECK(80 * w.kv_bytes_read == 4096.0 * 327680.0);
  CHECK(80 * w.core_flops == 2.0 * 64 * 256 * 4096 * 80);
  CHECK(80 * w.kv_bytes_written == 327680.0);
  // MLA decode is absorbed (DeepSeek-V2 §2.1.2): multi-query attention over the 512 + 64 latent,
  // 2·128·(576 + 512) FLOPs per key, reading 576·2 bytes per key.
  const attention_work d = decode_work(
      attention_shape::from_model(model::presets::deepseek_v3(), kv), full_config{}, 4095);
  CHECK(d.core_flops == 2.0 * 128 * 1088 * 4096);
  CHECK(d.kv_bytes_read == 4096.0 * 576 * 2);
}

TEST_CASE("a layer's KV footprint agrees with the model's", "[attention]") {
  const precision kv = precision::bf16;
  for (const model::model_config& m :
       {model::presets::llama3_70b(), model::presets::mistral_7b(), model::presets::gemma3_12b(),
        model::presets::deepseek_v32_exp()}) {
    const attention_shape s = attention_shape::from_model(m, kv);
    const double local = m.num_sliding_layers(), global = m.num_layers - local;
    for (std::int64_t c : {0, 10, 1023, 1024, 5000, 131071}) {
      double layers = 0.0;
      if (m.index_topk > 0)
        layers = m.num_layers * kv_bytes_per_sequence(s, topk_config::from_model(m), c);
      else
        layers =
            global * kv_bytes_per_sequence(s, full_config{}, c) +
            (local > 0 ? local * kv_bytes_per_sequence(s, sliding_window_config::from_model(m), c)
                       : 0.0);
      CHECK(layers == Approx(model::kv_bytes_per_sequence(m, c, kv)).epsilon(rel));
    }
  }
}

TEST_CASE("a batch step costs the sum of its sequences without looping over them", "[attention]") {
  const attention_shape s = attention_shape::from_model(model::presets::llama3_70b());
  const std::vector<std::int64_t> contexts{0, 17, 900, 5000, 120000};
  batch_totals t;
  attention_work sum_full, sum_csa;
  for (std::int64_t c : contexts) {
    t.add_decode(c);
    sum_full += decode_work(s, full_config{}, c);
    sum_csa += decode_work(s, csa_config{}, c);
  }
  t.add_prefill(2048, 0).add_prefill(100, 7000);
  sum_full += prefill_work(s, full_config{}, 2048, 0);
  sum_full += prefill_work(s, full_config{}, 100, 7000);
  sum_csa += prefill_work(s, csa_config{}, 2048, 0);
  sum_csa += prefill_work(s, csa_config{}, 100, 7000);
  for (const auto& [agg, sum] : {std::pair{step_work(s, full_config{}, t), sum_full},
                                 std::pair{step_work(s, csa_config{}, t), sum_csa}}) {
    CHECK(agg.flops() == Approx(sum.flops()).epsilon(1e-12));
    CHECK(agg.vector_flops == Approx(sum.vector_flops).epsilon(1e-12));
    CHECK(agg.bytes_read() == Approx(sum.bytes_read()).epsilon(1e-12));
    CHECK(agg.bytes_written() == Approx(sum.bytes_written()).epsilon(1e-12));
  }
  // With a cap, equal contexts are exact and mixed ones are over-counted (min is concave).
  const sliding_window_config w{.window = 1024};
  batch_totals eq, mixed;
  attention_work eq_sum, mixed_sum;
  for (int i = 0; i < 4; ++i) {
    eq.add_decode(3000);
    eq_sum += decode_work(s, w, 3000);
  }
  for (std::int64_t c : contexts) {
    mixed.add_decode(c);
    mixed_sum += decode_work(s, w, c);
  }
  CHECK(step_work(s, w, eq).core_flops == Approx(eq_sum.core_flops).epsilon(1e-12));
  CHECK(step_work(s, w, mixed).core_flops >= mixed_sum.core_flops);
  CHECK(step_work(s, w, mixed).kv_bytes_read >= mixed_sum.kv_bytes_read);
}

TEST_CASE("cost inputs out of domain are rejected", "[attention]") {
  const attention_shape s = article_shape();
  CHECK_THROWS_WITH(decode_work(s, full_config{}, -1),
                    "attention::batch_totals: context (-1) must be >= 0");
  CHECK_THROWS_WITH(prefill_work(s, full_config{}, -3),
                    "attention::batch_totals: tokens (-3) must be >= 0");
  CHECK_THROWS_WITH(prefill_work(s, full_config{}, 3, -2),
                    "attention::batch_totals: cached (-2) must be >= 0");
  CHECK_THROWS_WITH(kv_bytes_per_sequence(s, full_config{}, -1),
                    "attention::kv_bytes_per_sequence: context (-1) must be >= 0");
  batch_totals bad;
  bad.decode_context_sum = std::nan("");
  CHECK_THROWS_WITH(step_work(s, full_config{}, bad),
                    "attention::batch_totals: decode_context_sum (nan) must be finite");
  CHECK_THROWS_WITH(decode_work(s, sliding_window_config{.window = 0}, 10),
                    "attention::sliding_window: window (0) must be > 0");
  CHECK_THROWS_WITH(decode_work(s, csa_config{.compression = 5}, 10),
                    "attention::csa: compression (5) must divide head_dim (112)");
}
