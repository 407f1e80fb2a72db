#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "infercost/attention/attention.hpp"
#include "infercost/attention/forward.hpp"
#include "infercost/attention/synthetic.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::attention;

TEST_CASE("attention::forward runs a basic_attention layer's policy", "[attention]") {
  const attention_shape s{.num_heads = 4, .num_kv_heads = 2, .head_dim = 16, .v_head_dim = 16};
  const qkv x = make_qkv({.tokens = 100, .layout = head_layout::of(s), .seed = 9});
  const matrix ref = full_forward(head_layout::of(s), x);
  CHECK(forward(full_attention(s), x) == ref);
  CHECK(forward(sliding_window_attention(s, {.window = 10}), x) ==
        sliding_window_forward(head_layout::of(s), x, {.window = 10}));
  CHECK(forward(csa_attention(s, {.ratio = 1.0}), x).isApprox(ref, 1e-5f));
  const topk_attention t(s, {.index_heads = 2, .index_dim = 8, .top_k = 100});
  const indexer_inputs ix = make_indexer(head_layout::of(s), x, t.config(), 1);
  CHECK(forward(t, x, ix).isApprox(ref, 1e-5f));
  CHECK_THROWS_WITH(sliding_window_attention(s, {.window = 0}),
                    "attention::sliding_window: window (0) must be > 0");
}

TEST_CASE("MLA attention over the latent equals per-head attention with absorbed projections",
          "[attention]") {
  // Small MLA: 3 heads, latent 16, rope 8, nope 8, v 8. Per head h:
  //   k_h(j) = [W_UK_h c(j); kr(j)], v_h(j) = W_UV_h c(j), logit = q_h·k_h(j) / √(nope+rope).
  // Absorbed: q̂_h = [W_UK_hᵀ q_nope_h; q_rope_h] against [c(j); kr(j)], output W_UV_h Σ p c(j).
  const int H = 3, r = 16, rope = 8, nope = 8, dv = 8, n = 60;
  const attention_shape s{.kind = model::attention_kind::mla,
                          .num_heads = H,
                          .num_kv_heads = 1,
                          .head_dim = nope + rope,
                          .v_head_dim = dv,
                          .kv_lora_rank = r,
                          .qk_nope_head_dim = nope,
                          .qk_rope_head_dim = rope};
  rng g(77);
  auto gauss = [&](int rows, int cols, double sd) {
    Eigen::MatrixXf m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
      m.data()[i] = static_cast<float>(sd * g.normal());
    return m;
  };
  const Eigen::MatrixXf c = gauss(n, r, 1.0), kr = gauss(n, rope, 1.0);
  const Eigen::MatrixXf qn = gauss(n, H * nope, 1.0), qr = gauss(n, H * rope, 1.0);
  std::vector<Eigen::MatrixXf> wuk, wuv;
  for (int h = 0; h < H; ++h) {
    wuk.push_back(gauss(nope, r, 0.5));
    wuv.push_back(gauss(dv, r, 0.5));
  }
  // Per-head (unabsorbed) MHA inputs.
  const head_layout per_head{
      .num_heads = H, .num_kv_heads = H, .head_dim = nope + rope, .v_head_dim = dv};
  qkv mha{matrix(n, H * (nope + rope)), matrix(n, H * (nope + rope)), matrix(n, H * dv)};
  // Absorbed MQA inputs over the latent.
  qkv lat{matrix(n, H * (r + rope)), matrix(n, r + rope), matrix(n, r)};
  lat.k << c, kr;
  lat.v = c;
  for (int h = 0; h < H; ++h) {
    mha.q.block(0, h * 16, n, nope) = qn.block(0, h * nope, n, nope);
    mha.q.block(0, h * 16 + nope, n, rope) = qr.block(0, h * rope, n, rope);
    mha.k.block(0, h * 16, n, nope) = c * wuk[std::size_t(h)].transpose();
    mha.k.block(0, h * 16 + nope, n, rope) = kr;
    mha.v.block(0, h * dv, n, dv) = c * wuv[std::size_t(h)].transpose();
    lat.q.block(0, h * (r + rope), n, r) = qn.block(0, h * nope, n, nope) * wuk[std::size_t(h)];
    lat.q.block(0, h * (r + rope) + r, n, rope) = qr.block(0, h * rope, n, rope);
  }
  const matrix want = full_forward(per_head, mha);
  const full_attention a(s);
  CHECK(a.layout().head_dim == r + rope);
  CHECK(a.layout().softmax_scale() == Approx(1.0 / 4.0));
  const matrix latent_out = forward(a, lat);
  REQUIRE(latent_out.cols() == H * r);
  for (int h = 0; h < H; ++h) {
    const Eigen::MatrixXf got = latent_out.block(0, h * r, n, r) * wuv[std::size_t(h)].transpose();
    CHECK((got - Eigen::MatrixXf(want.block(0, h * dv, n, dv))).cwiseAbs().maxCoeff() < 1e-4f);
  }
}

TEMPLATE_TEST_CASE("decode is memory-bound and long prefill compute-bound on every family",
                   "[attention]", infercost::h800_sxm, infercost::ascend_910b) {
  const model::model_config m = model::presets::llama3_70b();
  const auto a = basic_attention<TestType, full>::from_model(m);
  const TestType dev;
  const efficiency& e = dev.efficiencies();
  // Decode at 32K: time = KV bytes / (HBM · attention_memory) + overhead (roofline memory side).
  const attention_work w = a.decode_work(32767);
  const double mem_s = w.bytes_read() + w.bytes_written();
  const double t = a.decode_time_s(32767);
  REQUIRE(std::isfinite(t));
  CHECK(t >= mem_s / (dev.memory_bytes_per_s() * e.attention_memory));
  CHECK(t == Approx(dev.op_time_s(w.to_op_work())));
  // Prefill of 32K: FLOPs dominate.
  const attention_work p = a.prefill_work(32768);
  const double compute_s = p.flops() / (dev.peak_flops(precision::bf16) * e.attention_compute);
  CHECK(a.prefill_time_s(32768) >= compute_s);
  CHECK(p.to_op_work().intensity() > dev.peak_flops(precision::bf16) / dev.memory_bytes_per_s());
  CHECK(w.to_op_work().intensity() < dev.peak_flops(precision::bf16) / dev.memory_bytes_per_s());
  // A batch step costs the same whichever way it is assembled.
  batch_totals bt;
  bt.add_decode(1000).add_decode(3000).add_prefill(512, 100);
  CHECK(a.step_time_s(bt) == Approx(dev.op_time_s(a.step_work(bt).to_op_work())));
}

TEMPLATE_TEST_CASE("top-k attention overtakes full attention just past top_k", "[attention]",
                   infercost::h800_sxm, infercost::ascend_910b) {
  const model::model_config m = model::presets::deepseek_v32_exp();
  const auto full_a = basic_attention<TestType, full>::from_model(m);
  const auto topk_a =
      basic_attention<TestType, topk_sparse>::from_model(m, topk_config::from_model(m));
  const auto x = decode_crossover_context(topk_a, full_a, 1 << 20);
  REQUIRE(x.has_value());
  // Memory-bound decode: full reads 1152 B per key; top-k reads 2048 latents plus 128 B of FP8
  // index key per key, so it is cheaper once 1152·(c+1) > 1152·2048 + 128·(c+1): c+1 > 2304.
  CHECK(*x > 2048);
  CHECK(*x < 2600);
  CHECK(topk_a.decode_time_s(*x) < full_a.decode_time_s(*x));
  CHECK(topk_a.decode_time_s(*x - 1) >= full_a.decode_time_s(*x - 1));
  // Full attention never overtakes itself.
  CHECK_FALSE(decode_crossover_context(full_a, full_a, 100000).has_value());
  // Sliding window: cheaper as soon as the window is full, never before.
  const auto win = basic_attention<TestType, sliding_window>::from_model(
      model::presets::llama3_70b(), {.window = 4096});
  const auto full70 = basic_attention<TestType, full>::from_model(model::presets::llama3_70b());
  const auto xw = decode_crossover_context(win, full70, 1 << 20);
  REQUIRE(xw.has_value());
  CHECK(*xw >= 4096);
  CHECK(*xw < 4200);
  CHECK_THROWS_WITH(decode_crossover_context(win, full70, -1),
                    "attention::decode_crossover_context: max_context (-1) must be >= 0");
  const auto px = prefill_crossover_tokens(topk_a, full_a, 1 << 20);
  REQUIRE(px.has_value());
  CHECK(*px > 2048);
}
