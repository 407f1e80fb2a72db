#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>

#include "infercost/device/catalog.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/moe/balance.hpp"
#include "infercost/speculative/cost.hpp"
#include "infercost/speculative/language_model.hpp"

using namespace infercost;
using namespace infercost::speculative;

namespace {
// 70B in FP8 (70 GB) on 2 devices; the 1B draft in BF16 on one device.
// FP8 where the device has it, INT8 W8A8 where it does not (Ascend).
engine::parallel_layout target_tp2(precision p = precision::fp8) {
  return {.devices = 2, .tp = 2, .weight_prec = p};
}
step_config llama_70b_1b(precision p = precision::fp8) {
  return step_config{.target = model::presets::llama3_70b(),
                     .target_layout = target_tp2(p),
                     .draft = llama32_1b(),
                     .draft_layout = {}};
}
} // namespace

TEMPLATE_TEST_CASE("a speculative step is the engine's verify pass plus the draft's decode steps",
                   "[speculative]", infercost::h800_sxm, infercost::ascend_910b) {
  // The forward passes are the step-cost engine's (pinned by hand in tests/engine); this checks
  // how the speculative cost face composes them.
  const basic_step_cost_model<TestType> cm(llama_70b_1b(TestType{}.native_weight_precision()));
  const engine::basic_step_cost<TestType> target(model::presets::llama3_70b(),
                                                 target_tp2(TestType{}.native_weight_precision()));
  const engine::basic_step_cost<TestType> draft(llama32_1b(), {});
  const std::int64_t batch = 8;
  const double ctx = 8 * 1000.0;
  auto decode = [&](double context_sum, int gamma) {
    engine::step_batch b;
    b.totals.decode_sequences = static_cast<double>(batch);
    b.totals.decode_context_sum = context_sum;
    b.speculative_tokens = gamma;
    return b;
  };
  const step_cost s = cm.cost(batch, ctx, 4, 0.8);
  // Verify: one target pass of 1 + γ = 5 tokens per sequence.
  CHECK(s.verify_s == target(decode(ctx, 4)).total_s);
  CHECK(s.baseline_step_s == target(decode(ctx, 0)).total_s);
  // Draft: γ = 4 decode steps of the 1B model, the i-th at Σ context ctx + i·batch.
  CHECK(s.draft_s == Approx(draft(decode(ctx, 0)).total_s + draft(decode(ctx + 8, 0)).total_s +
                            draft(decode(ctx + 16, 0)).total_s + draft(decode(ctx + 24, 0)).total_s)
                         .epsilon(1e-12));
  // E[N] = (1 − 0.8^5) / (1 − 0.8) = (1 − 0.32768) / 0.2 = 3.3616 tokens per step.
  CHECK(s.tokens_per_step == Approx(3.3616).epsilon(1e-12));
  CHECK(s.tokens_per_s == Approx(8 * 3.3616 / (s.draft_s + s.verify_s)).epsilon(1e-12));
  CHECK(s.speedup == Approx(3.3616 * s.baseline_step_s / (s.draft_s + s.verify_s)).epsilon(1e-12));
  // The article's formula with ᾱ = E[K]/γ = 2.3616/4 = 0.5904: 1 / (1 − 0.5904 + 0.5904/4).
  CHECK(s.article_speedup == Approx(1.0 / (1.0 - 0.5904 + 0.1476)).epsilon(1e-12));
}

TEST_CASE("an MoE verify pass reads only the experts its tokens touch", "[speculative]") {
  // E = 256, k = 8: one token touches 8; 1000 tokens touch 256·(1 − (31/32)^1000) ≈ 256.
  CHECK(moe::expected_distinct_experts_uniform(256, 8, 1.0) == Approx(8.0));
  CHECK(moe::expected_distinct_experts_uniform(256, 8, 1000.0) == Approx(256.0).epsilon(1e-9));
  const basic_step_cost_model<h800_sxm> cm(make_mtp_step_config(
      model::presets::deepseek_v3(), {.devices = 8, .tp = 8, .weight_prec = precision::fp8}));
  const engine::step_breakdown one = cm.target_forward(1, 1, 0.0);
  const engine::step_breakdown two = cm.target_forward(1, 2, 0.0);
  // Verifying a second token touches ≈ 7.75 more experts per layer: more bytes, not double.
  CHECK(two.bytes > one.bytes);
  CHECK(two.bytes < 2.0 * one.bytes);
  CHECK(two.draft_s == 0.0);
}

TEMPLATE_TEST_CASE("speculation speeds up batch 1 and slows down compute-bound batches",
                   "[speculative]", infercost::h800_sxm, infercost::ascend_910b,
                   infercost::h200_sxm) {
  const basic_step_cost_model<TestType> cm(llama_70b_1b(TestType{}.native_weight_precision()));
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
  const basic_step_cost_model<TestType> cm(make_mtp_step_config(
      m, {.devices = 16, .tp = 16, .weight_prec = TestType{}.native_weight_precision()}));
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
  const model::model_config mtp = model::mtp_module(m);
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
  CHECK_THROWS_WITH(cm.cost(0, 100.0, 2, 0.8),
                    "speculative::step_cost_model: batch (0) must be > 0");
  CHECK_THROWS_AS(cm.cost(1, -1.0, 2, 0.8), config_error);
  CHECK_THROWS_AS(cm.kv_bytes(1, 100.0, 0), config_error);
  CHECK_THROWS_AS(cm.best_gamma(1, 100.0, 0.8, 0), config_error);
  step_config bad = llama_70b_1b();
  bad.draft = model::presets::mistral_7b();
  CHECK_THROWS_WITH(basic_step_cost_model<h800_sxm>(bad),
                    "speculative::step_cost_model: draft.vocab (32000) must equal target.vocab "
                    "(128256)");
  bad = llama_70b_1b();
  bad.target_layout.devices = 0;
  CHECK_THROWS_WITH(basic_step_cost_model<h800_sxm>(bad),
                    "engine::layout: devices (0) must be > 0");
  // Without a draft model the target's MTP module drafts; Llama has none.
  bad = llama_70b_1b();
  bad.draft.reset();
  CHECK_THROWS_AS(basic_step_cost_model<h800_sxm>(bad), config_error);
}
