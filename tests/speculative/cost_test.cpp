#include <catch2/catch.hpp>

#include <cmath>

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
  // Dense model: bytes = active params × 2 (BF16); flops = 2·active + attention.
  CHECK(f.weight_bytes == Approx(model::active_params(m) * 2.0));
  const model::token_work w = model::decode_token_work(m, 1000, precision::bf16);
  CHECK(f.flops == Approx(2.0 * model::active_params(m) + w.attention_flops));
  CHECK(f.kv_bytes_read == Approx(w.kv_bytes_read));
  // Memory-bound: time >= bytes / bandwidth.
  REQUIRE(std::isfinite(f.total_s()));
  CHECK(f.total_s() >= (f.weight_bytes + f.kv_bytes_read) / dev.memory_bytes_per_s());
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
  CHECK(one.weight_bytes == Approx(model::active_params(m)));
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
