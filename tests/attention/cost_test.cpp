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

TEST_CASE("attention accounting agrees with model where they overlap", "[attention]") {
  const precision kv = precision::bf16;
  SECTION("GQA full attention, Llama-3.1-70B") {
    const model::model_config m = model::presets::llama3_70b();
    const attention_shape s = attention_shape::from_model(m, kv);
    const double L = m.num_layers;
    for (std::int64_t c : {0, 1, 4095, 131071}) {
      const model::token_work mw = model::decode_token_work(m, c, kv);
      const attention_work w = decode_work(s, full_config{}, c);
      CHECK(L * w.core_flops == Approx(mw.attention_flops).epsilon(rel));
      CHECK(L * w.kv_bytes_read == Approx(mw.kv_bytes_read).epsilon(rel));
      CHECK(L * w.kv_bytes_written == Approx(mw.kv_bytes_written).epsilon(rel));
      CHECK(L * kv_bytes_per_sequence(s, full_config{}, c) ==
            Approx(model::kv_bytes_per_sequence(m, c, kv)).epsilon(rel));
    }
    for (auto [n, c0] :
         std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 0}, {8192, 0}, {512, 30000}}) {
      const model::token_work mw = model::prefill_work(m, n, c0, kv);
      const attention_work w = prefill_work(s, full_config{}, n, c0);
      CHECK(L * w.core_flops == Approx(mw.attention_flops).epsilon(rel));
      CHECK(L * w.kv_bytes_read == Approx(mw.kv_bytes_read).epsilon(rel));
      CHECK(L * w.kv_bytes_written == Approx(mw.kv_bytes_written).epsilon(rel));
    }
  }
  SECTION("sliding windows, Mistral-7B (all layers) and Gemma-3-12B (8 global of 48)") {
    for (const model::model_config& m :
         {model::presets::mistral_7b(), model::presets::gemma3_12b()}) {
      const attention_shape s = attention_shape::from_model(m, kv);
      const sliding_window_config w = sliding_window_config::from_model(m);
      const double local = m.num_sliding_layers(), global = m.num_layers - local;
      for (std::int64_t c : {10, 1023, 1024, 5000, 65536}) {
        const model::token_work mw = model::decode_token_work(m, c, kv);
        const double flops = global * decode_work(s, full_config{}, c).core_flops +
                             local * decode_work(s, w, c).core_flops;
        const double bytes = global * decode_work(s, full_config{}, c).kv_bytes_read +
                             local * decode_work(s, w, c).kv_bytes_read;
        CHECK(flops == Approx(mw.attention_flops).epsilon(rel));
        CHECK(bytes == Approx(mw.kv_bytes_read).epsilon(rel));
        const double kv_seq = global * kv_bytes_per_sequence(s, full_config{}, c) +
                              local * kv_bytes_per_sequence(s, w, c);
        CHECK(kv_seq == Approx(model::kv_bytes_per_sequence(m, c, kv)).epsilon(rel));
      }
      const model::token_work mp = model::prefill_work(m, 3000, 2000, kv);
      const double pf = global * prefill_work(s, full_config{}, 3000, 2000).core_flops +
                        local * prefill_work(s, w, 3000, 2000).core_flops;
      CHECK(pf == Approx(mp.attention_flops).epsilon(rel));
    }
  }
  SECTION("top-k with the DSA indexer, DeepSeek-V3.2-Exp") {
    const model::model_config m = model::presets::deepseek_v32_exp();
    const attention_shape s = attention_shape::from_model(m, kv);
    const topk_config t = topk_config::from_model(m);
    const double L = m.num_layers;
    for (std::int64_t c : {100, 2047, 2048, 131071}) {
      const model::token_work mw = model::decode_token_work(m, c, kv);
      const attention_work w = decode_work(s, t, c);
      // Bytes agree (latent + FP8 index keys); FLOPs differ by design: model counts MLA decode
      // unabsorbed (2*128*(192+128) per key), this library absorbed (2*128*(576+512)).
      CHECK(L * (w.kv_bytes_read + w.index_bytes_read) == Approx(mw.kv_bytes_read).epsilon(rel));
      CHECK(L * w.indexer_flops ==
            Approx(mw.attention_flops - L * std::min<double>(c + 1, 2048) * 2 * 128 * 320)
                .epsilon(1e-9));
      CHECK(L * w.kv_bytes_written == Approx(mw.kv_bytes_written).epsilon(rel));
      CHECK(L * kv_bytes_per_sequence(s, t, c) ==
            Approx(model::kv_bytes_per_sequence(m, c, kv)).epsilon(rel));
    }
    const model::token_work mp = model::prefill_work(m, 4096, 1000, kv);
    const attention_work p = prefill_work(s, t, 4096, 1000);
    CHECK(L * (p.core_flops + p.indexer_flops) == Approx(mp.attention_flops).epsilon(rel));
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
