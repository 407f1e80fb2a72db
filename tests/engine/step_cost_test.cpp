#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "infercost/engine/step_cost.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using engine::parallel_layout;
using engine::step_batch;

namespace {
template <class D> using full_engine = engine::basic_step_cost<D, attention::full>;

parallel_layout deepseek_decode_layout(int devices) {
  return {.devices = devices,
          .devices_per_node = 8,
          .tp = 1,
          .dp_attention = true,
          .ep = devices,
          .micro_batches = 2,
          .weight_prec = precision::fp8,
          .dispatch_prec = precision::fp8};
}
} // namespace

TEMPLATE_TEST_CASE("a batch-1 decode step of a dense model streams its weights", "[engine]",
                   h800_sxm, ascend_910b) {
  const TestType d;
  const full_engine<TestType> sc(model::presets::llama3_8b(), {.devices = 1, .tp = 1});
  const auto r = sc(step_batch{}.add_decode(0));
  // 8.03B BF16 parameters = 16.06 GB read once; the step cannot beat HBM bandwidth at the GEMM
  // memory efficiency, and the weights dominate everything else at context 0.
  const double weights = sc.weight_bytes_per_device();
  CHECK(weights == Approx(2 * model::count_params(model::presets::llama3_8b()).total()));
  const double floor_s = weights / (d.memory_bytes_per_s() * d.efficiencies().gemm_memory);
  CHECK(std::isfinite(r.total_s));
  CHECK(r.total_s > floor_s);
  CHECK(r.total_s < 1.10 * floor_s + 32 * 6 * 12e-6);
  CHECK(r.decode_tokens == 1.0);
  CHECK(r.comm_s == 0.0);
}

TEMPLATE_TEST_CASE("a long dense prefill is compute-bound at the GEMM efficiency", "[engine]",
                   h800_sxm, ascend_910b) {
  const TestType d;
  const auto m = model::presets::llama3_8b();
  const full_engine<TestType> sc(m, {.devices = 1, .tp = 1});
  const auto r = sc(step_batch{}.add_prefill(8192));
  // Every token runs the layers' linear work; only the chunk's last token runs the LM head.
  const double head_params = static_cast<double>(m.vocab) * m.hidden;
  const double linear_s = 2.0 * (model::active_params(m) - head_params) * 8192 /
                          (d.peak_flops(precision::bf16) * d.efficiencies().gemm_compute);
  CHECK(r.projection_s + r.dense_ffn_s == Approx(linear_s).epsilon(0.02));
  CHECK(r.lm_head_s < 0.01 * linear_s);
  CHECK(r.attention_s > 0.0);
  CHECK(r.total_s > linear_s);
  CHECK(r.prefill_tokens == 8192.0);
}

TEMPLATE_TEST_CASE("step cost depends only on the batch's sums", "[engine]", h800_sxm,
                   ascend_910b) {
  const full_engine<TestType> sc(model::presets::qwen3_30b_a3b(), {.devices = 2, .tp = 2});
  // Contexts {1000, 3000} and {2000, 2000} have the same Σcontext.
  const auto a = sc(step_batch{}.add_decode(1000).add_decode(3000));
  const auto b = sc(step_batch{}.add_decode(2000).add_decode(2000));
  CHECK(a.total_s == b.total_s);
  CHECK(a.attention_s == b.attention_s);
  // And the same chunks in another order give the same result, bit for bit.
  const auto c = sc(step_batch{}.add_prefill(512, 100).add_prefill(256, 0));
  const auto e = sc(step_batch{}.add_prefill(256, 0).add_prefill(512, 100));
  CHECK(c.total_s == e.total_s);
}

TEMPLATE_TEST_CASE("micro-batch overlap hides communication and the books balance", "[engine]",
                   h800_sxm, ascend_910b) {
  const auto m = model::presets::deepseek_v3();
  for (int mb : {1, 2}) {
    parallel_layout l = deepseek_decode_layout(64);
    l.micro_batches = mb;
    const full_engine<TestType> sc(m, l);
    step_batch b;
    b.totals.decode_sequences = 64 * 64;
    b.totals.decode_context_sum = 64 * 64 * 4096.0;
    const auto r = sc(b);
    CHECK(std::isfinite(r.total_s));
    // total = compute + comm − hidden, exactly.
    CHECK(r.total_s == Approx(r.compute_s + r.comm_s - r.overlap_saved_s).epsilon(1e-12));
    if (mb == 1)
      CHECK(r.overlap_saved_s == 0.0);
    else
      CHECK(r.overlap_saved_s > 0.0);
    CHECK(r.dispatch_s > 0.0);
    CHECK(r.combine_s > 0.0);
    CHECK(r.tp_comm_s == 0.0);
  }
}

TEST_CASE("expert skew makes the busiest device slower and replication relieves it", "[engine]") {
  const auto m = model::presets::deepseek_v3();
  step_batch b;
  b.totals.decode_sequences = 32 * 128;
  b.totals.decode_context_sum = 32 * 128 * 2048.0;
  parallel_layout l = deepseek_decode_layout(32);
  const auto uniform = full_engine<h800_sxm>(m, l)(b);
  l.expert_skew = 1.0;
  const auto skewed = full_engine<h800_sxm>(m, l)(b);
  l.redundant_experts = 32;
  const auto replicated = full_engine<h800_sxm>(m, l)(b);
  CHECK(uniform.expert_imbalance == Approx(1.0).margin(1e-9));
  CHECK(skewed.expert_imbalance > 1.5);
  CHECK(replicated.expert_imbalance < skewed.expert_imbalance);
  CHECK(skewed.experts_s > uniform.experts_s);
  CHECK(replicated.experts_s < skewed.experts_s);
}

TEST_CASE("verifying speculative tokens and drafting them with MTP both cost time", "[engine]") {
  const auto m = model::presets::deepseek_v3();
  parallel_layout l = deepseek_decode_layout(32);
  l.mtp_draft = true;
  const full_engine<h800_sxm> sc(m, l);
  step_batch plain;
  plain.totals.decode_sequences = 32 * 64;
  plain.totals.decode_context_sum = 32 * 64 * 4096.0;
  step_batch spec = plain;
  spec.speculative_tokens = 1;
  const auto p = sc(plain), s = sc(spec);
  CHECK(s.decode_tokens == 2 * p.decode_tokens);
  CHECK(p.draft_s == 0.0);
  CHECK(s.draft_s > 0.0);
  CHECK(s.draft_s < 0.2 * s.total_s); // one layer of 61 plus the head
  CHECK(s.total_s > p.total_s);
  // Memory-bound decode: verifying two tokens per sequence costs far less than two steps.
  CHECK(s.total_s < 1.6 * p.total_s);
}

TEST_CASE("CSA cuts long-context prefill attention against full attention", "[engine]") {
  const auto m = model::presets::deepseek_v3();
  const parallel_layout l{.devices = 8, .tp = 8, .weight_prec = precision::fp8};
  const engine::basic_step_cost<h800_sxm, attention::full> full(m, l);
  const engine::basic_step_cost<h800_sxm, attention::csa> csa(m, l);
  const auto step = step_batch{}.add_prefill(4096, 60000);
  const double ratio = csa(step).attention_s / full(step).attention_s;
  CHECK(ratio < 0.5);
  CHECK(ratio > 0.1);
}

TEST_CASE("weights per device and KV capacity follow the layout", "[engine]") {
  const auto m = model::presets::llama3_70b();
  const full_engine<h100_sxm> tp4(m, {.devices = 4, .tp = 4});
  const full_engine<h100_sxm> tp8(m, {.devices = 8, .tp = 8});
  CHECK(tp8.weight_bytes_per_device() == Approx(tp4.weight_bytes_per_device() / 2));
  // GQA KV (8 heads) splits over tp: 327,680 bytes per token / 4.
  CHECK(tp4.kv_bytes_per_device(1) == Approx(327680.0 / 4));
  CHECK(tp4.kv_capacity_bytes() > 0.0);
  // DeepSeek-V3 in FP8 on 8 H800s with EP 8: 671 GB / 8 = 84 GB per device does not fit in 80.
  const full_engine<h800_sxm> tight(model::presets::deepseek_v3(), deepseek_decode_layout(8));
  try {
    (void)tight.kv_capacity_bytes();
    FAIL("no exception");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("engine::step_cost: devices (8) too few") == 0);
    CHECK(msg.find("deepseek_v3 needs") != std::string::npos);
    CHECK(msg.find("h800_sxm") != std::string::npos);
  }
  // MLA's latent is not split by TP.
  const full_engine<h800_sxm> mla(model::presets::deepseek_v3(),
                                  {.devices = 16, .tp = 16, .weight_prec = precision::fp8});
  CHECK(mla.kv_bytes_per_device(1) == 70272.0);
}

TEST_CASE("bad layouts and batches are rejected, naming the field", "[engine]") {
  const auto dense = model::presets::llama3_8b();
  const auto moe = model::presets::deepseek_v3();
  using E = full_engine<h800_sxm>;
  CHECK_THROWS_WITH(E(dense, {.devices = 2, .tp = 1}),
                    "engine::layout: tp (1) must equal devices (2) without dp_attention");
  CHECK_THROWS_WITH(E(dense, {.devices = 3, .tp = 3}),
                    "engine::layout: tp (3) must divide num_heads (32)");
  CHECK_THROWS_WITH(E(dense, {.devices = 2, .tp = 1, .dp_attention = true, .ep = 2}),
                    "engine::layout: ep (2) needs an MoE model; 'llama3_8b' is dense");
  CHECK_THROWS_WITH(E(moe, {.devices = 16, .tp = 1, .dp_attention = true, .ep = 8}),
                    "engine::layout: ep (8) must be 1 or equal devices (16)");
  CHECK_THROWS_WITH(E(dense, {.devices = 1, .tp = 1, .redundant_experts = 4}),
                    "engine::layout: redundant_experts (4) needs expert parallelism (ep > 1)");
  CHECK_THROWS_AS(E(dense, {.devices = 1, .tp = 1, .micro_batches = 0}), config_error);
  CHECK_THROWS_AS(E(dense, {.devices = 1, .tp = 1, .mtp_draft = true}), config_error);
  CHECK_THROWS_AS(E(dense, {.devices = 0, .tp = 1}), config_error);
  const E ok(dense, {.devices = 1, .tp = 1});
  step_batch bad;
  bad.speculative_tokens = -1;
  CHECK_THROWS_AS(ok(bad), config_error);
  CHECK_THROWS_AS(step_batch{}.add_decode(-1), config_error);
  CHECK(ok(step_batch{}).total_s == 0.0);
}
