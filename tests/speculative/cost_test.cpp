#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>

#include "infercost/device/catalog.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/speculative/cost.hpp"
#include "infercost/speculative/language_model.hpp"

using namespace infercost;
using namespace infercost::speculative;

namespace {
step_config llama_70b_1b() {
  // 70B in FP8 (70 GB) on 2 devices; the 1B draft in BF16 on one device.
  return step_config{.target = model::presets::llama3_70b(),
                     .target_forward = {.weights = precision::fp8, .devices = 2},
                     .draft = llama32_1b(),
                     .draft_forward = {}};
}
} // namespace

TEMPLATE_TEST_CASE("a plain forward at batch 1 reads every active weight once", "[speculative]",
                   infercost::h800_sxm, infercost::ascend_910b) {
  const TestType dev;
  const model::model_config m = model::presets::llama3_8b();
  const forward_time f = forward_time_s(dev, m, forward_config{}, 1, 1, 1000.0);
  // Llama-3.1-8B (presets.hpp: hidden 4096, 32 layers, 32 heads, 8 KV heads of 128, FFN 14336,
  // vocab 128256, untied). Per layer: attention 4096·32·128 (q) + 2·4096·8·128 (k, v) +
  // 32·128·4096 (o) = 41,943,040 and FFN 3·4096·14336 = 176,160,768 parameters. Active per
  // token: the LM head 128256·4096 = 525,336,576 plus the layers 32·(41,943,040 + 176,160,768)
  // = 6,979,321,856, together 7,504,658,432 (the input embedding is a lookup, not matrix work).
  // Weights: 7,504,658,432 · 2 bytes (BF16) = 15,009,316,864.
  CHECK(f.weight_bytes == 15'009'316'864.0);
  // Attention at context 1000: the new token sees 1001 keys in each of 32 layers, at
  // 2·32·(128 + 128) = 16,384 FLOPs per key: 32·1001·16384 = 524,812,288. FLOPs =
  // 2·7,504,658,432 + 524,812,288 = 15,534,129,152.
  CHECK(f.flops == 15'534'129'152.0);
  // KV read: 32 layers · 1001 keys · 2·8·128·2 = 4,096 bytes = 131,203,072.
  CHECK(f.kv_bytes_read == 131'203'072.0);
  // Time (speculative/cost.hpp: per layer one GEMM op and one attention op, × 32 layers):
  //   GEMM op: 2·7,504,658,432 / 32 = 469,041,152 FLOPs and 15,009,316,864 / 32 = 469,041,152
  //     weight bytes;
  //   attention op: 524,812,288 / 32 = 16,400,384 FLOPs; 131,203,072 / 32 = 4,100,096 bytes
  //     read and one token's KV, 32·4096 / 32 = 4,096 bytes, written: 4,104,192 bytes.
  //   h800_sxm (rates as in tests/engine/step_cost_test.cpp): GEMM max(469,041,152/692.58e12 =
  //     6.77e-7, 469,041,152/2680e9 = 1.7501535522e-4) + 4 µs = 1.7901535522e-4, × 32 =
  //     5.7284913672e-3; attention max(16,400,384/494.7e12 = 3.32e-8, 4,104,192/2680e9 =
  //     1.5314149254e-6) + 4 µs = 5.5314149254e-6, × 32 = 1.7700527761e-4; total
  //     5.905496644776e-3 s.
  //   ascend_910b: GEMM max(469,041,152/263.2e12 = 1.78e-6, 469,041,152/1280e9 = 3.664384e-4)
  //     + 10 µs = 3.764384e-4, × 32 = 1.20460288e-2; attention max(16,400,384/188e12 = 8.72e-8,
  //     4,104,192/1280e9 = 3.2064e-6) + 10 µs = 1.32064e-5, × 32 = 4.226048e-4; total
  //     1.24686336e-2 s.
  const bool h800 = std::is_same_v<TestType, infercost::h800_sxm>;
  REQUIRE(std::isfinite(f.total_s()));
  CHECK(f.linear_s == Approx(h800 ? 5.728491367164e-3 : 1.20460288e-2).epsilon(1e-9));
  CHECK(f.attention_s == Approx(h800 ? 1.770052776119e-4 : 4.226048e-4).epsilon(1e-9));
  CHECK(f.total_s() == Approx(h800 ? 5.905496644776e-3 : 1.24686336e-2).epsilon(1e-9));
  CHECK(f.comm_s == 0.0);
  // Verifying 5 tokens per sequence at batch 1 costs barely more than one (memory-bound).
  const forward_time v = forward_time_s(dev, m, forward_config{}, 1, 5, 1000.0);
  CHECK(v.total_s() < 1.1 * f.total_s());
  CHECK(v.weight_bytes == f.weight_bytes);
}

TEST_CASE("an MoE forward reads only the experts its tokens touch", "[speculative]") {
  // E = 256, k = 8: one token touches 8; 1000 tokens touch 256·(1 − (31/32)^1000) ≈ 256.
  CHECK(moe::expected_distinct_experts_uniform(256, 8, 1.0) == Approx(8.0));
  CHECK(moe::expected_distinct_experts_uniform(256, 8, 2.0) ==
        Approx(256.0 * (1.0 - std::pow(31.0 / 32, 2))));
  CHECK(moe::expected_distinct_experts_uniform(256, 8, 1000.0) == Approx(256.0).epsilon(1e-9));
  const model::model_config m = model::presets::deepseek_v3();
  const h800_sxm dev;
  const forward_config fc{.weights = precision::fp8, .devices = 8};
  const forward_time one = forward_time_s(dev, m, fc, 1, 1, 0.0);
  // One token activates, in FP8 (1 byte each), DeepSeek-V3's (presets.hpp) LM head
  // 129280·7168 = 926,679,040; 61 layers of MLA attention, each 7168·1536 + 1536·128·(128 + 64)
  // (q) + 7168·(512 + 64) (kv_a) + 512·128·(128 + 128) (kv_b) + 128·128·7168 (o) = 187,105,280,
  // = 11,413,422,080; 3 dense FFNs 3·(3·7168·18432) = 1,189,085,184; and in 58 MoE layers the
  // router 58·7168·256 = 106,430,464 and 1 shared + 8 routed experts of 3·7168·2048 =
  // 44,040,192: 58·9·44,040,192 = 22,988,980,224. Sum 36,624,596,992 (with the input
  // embedding, 37,551,276,032: the report's "37B activated").
  CHECK(one.weight_bytes == Approx(36'624'596'992.0).epsilon(1e-12));
  const forward_time two = forward_time_s(dev, m, fc, 1, 2, 0.0);
  // Verifying a second token touches ≈ 7.75 more experts per layer: more bytes, not double.
  CHECK(two.weight_bytes > one.weight_bytes);
  CHECK(two.weight_bytes < 2.0 * one.weight_bytes);
}

TEMPLATE_TEST_CASE("speculation speeds up batch 1 and slows down compute-bound batches",
                   "[speculative]", infercost::h800_sxm, infercost::ascend_910b,
                   infercost::h200_sxm) {
  const basic_step_cost_model<TestType> cm(llama_70b_1b());
  const double ctx = 256.0;
  const step_cost b1 = cm.cost(1, ctx, 4, 0.8);
  INFO("batch 1 speedup " << b1.speedup << ", draft/target " << b1.draft_to_target_ratio);
  REQUIRE(std::isfinite(b1.speedup));
  CHECK(b1.speedup > 1.5);
  CHECK(b1.speedup < b1.tokens_per_step);
  CHECK(b1.step_s() == Approx(b1.draft_s + b1.verify_s));
  // The speedup falls as the batch grows and decode turns compute-bound.
  double prev = b1.speedup;
  for (std::int64_t b : {8, 64, 256, 1024}) {
    const step_cost s = cm.cost(b, ctx * static_cast<double>(b), 4, 0.8);
    CHECK(s.speedup < prev);
    prev = s.speedup;
  }
  const step_cost big = cm.cost(1024, ctx * 1024, 4, 0.8);
  INFO("batch 1024 speedup " << big.speedup);
  // Compute-bound limit: a 5-token verify costs ≈ 5 plain steps, E[N] = 3.36 < 5.
  CHECK(big.speedup < 1.0);
  // Long contexts keep decode memory-bound through the KV reads, which the γ+1 verify tokens
  // of a sequence share: the same batch gains more at 8k context.
  CHECK(cm.cost(1024, 8192.0 * 1024, 4, 0.8).speedup > big.speedup);
  // The best γ shrinks with batch size.
  const int g1 = cm.best_gamma(1, ctx, 0.8).gamma;
  const int g256 = cm.best_gamma(256, ctx * 256, 0.8).gamma;
  CHECK(g1 >= g256);
  CHECK(g1 > 1);
}

TEMPLATE_TEST_CASE("DeepSeek-V3 MTP with one token at 85-90% acceptance emits 1.85-1.90 tokens "
                   "per step",
                   "[speculative]", infercost::h800_sxm, infercost::ascend_910b) {
  const model::model_config m = model::presets::deepseek_v3();
  const basic_step_cost_model<TestType> cm(
      make_mtp_step_config(m, {.weights = precision::fp8, .devices = 16}));
  for (double a : {0.85, 0.90}) {
    const step_cost s = cm.cost(32, 32 * 4000.0, 1, a);
    CHECK(s.tokens_per_step == Approx(1.0 + a));
    REQUIRE(std::isfinite(s.speedup));
    // The MTP module is one layer plus the shared head: cheap, but not free.
    CHECK(s.draft_to_target_ratio > 0.0);
    CHECK(s.draft_to_target_ratio < 0.2);
    CHECK(s.speedup > 1.3);
    CHECK(s.speedup < s.tokens_per_step);
  }
  const model::model_config mtp = mtp_module_config(m);
  CHECK(mtp.num_layers == 1);
  CHECK(mtp.is_moe());
}

TEST_CASE("speculative KV memory counts the verify window and the draft's cache", "[speculative]") {
  const basic_step_cost_model<h800_sxm> cm(llama_70b_1b());
  const speculative_kv kv = cm.kv_bytes(8, 8 * 1000.0, 4);
  // Llama-3.1-70B: 80 layers · 2 · 8 KV heads · 128 · 2 bytes = 327,680 bytes per token.
  CHECK(kv.target_context_bytes == Approx(8 * 1000 * 327680.0));
  CHECK(kv.target_window_bytes == Approx(8 * 5 * 327680.0));
  // Llama-3.2-1B: 16 · 2 · 8 · 64 · 2 = 32,768 bytes per token.
  CHECK(kv.draft_context_bytes == Approx(8 * 1000 * 32768.0));
  CHECK(kv.draft_window_bytes == Approx(8 * 4 * 32768.0));
  CHECK(kv.speculative_bytes() == Approx(kv.total_bytes() - kv.target_context_bytes));
  CHECK(kv.speculative_bytes() / kv.target_context_bytes > 0.1);
}

TEST_CASE("the cost face rejects bad shapes, gamma, alpha and vocabularies", "[speculative]") {
  const basic_step_cost_model<h800_sxm> cm(llama_70b_1b());
  CHECK_THROWS_WITH(cm.cost(1, 100.0, 0, 0.8),
                    "speculative::expected_tokens_per_step: gamma (0) must be >= 1");
  CHECK_THROWS_WITH(cm.cost(1, 100.0, 2, 1.1),
                    "speculative::expected_tokens_per_step: alpha (1.1) must be in [0, 1]");
  CHECK_THROWS_WITH(cm.cost(0, 100.0, 2, 0.8), "speculative::forward_time: batch (0) must be > 0");
  CHECK_THROWS_AS(cm.cost(1, -1.0, 2, 0.8), config_error);
  CHECK_THROWS_AS(cm.kv_bytes(1, 100.0, 0), config_error);
  CHECK_THROWS_AS(cm.best_gamma(1, 100.0, 0.8, 0), config_error);
  step_config bad = llama_70b_1b();
  bad.draft = model::presets::mistral_7b();
  CHECK_THROWS_WITH(basic_step_cost_model<h800_sxm>(bad),
                    "speculative::step_cost_model: draft.vocab (32000) must equal target.vocab "
                    "(128256)");
  bad = llama_70b_1b();
  bad.target_forward.devices = 0;
  CHECK_THROWS_WITH(basic_step_cost_model<h800_sxm>(bad),
                    "speculative::forward_config: devices (0) must be > 0");
}
