#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "engine/tiny_models.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using engine::parallel_layout;
using engine::step_batch;

namespace {
template <class D> using full_engine = engine::basic_step_cost<D, attention::full>;

// DeepSeek's decode layout in `p` (FP8 on Hopper; a part without FP8 serves INT8 W8A8).
parallel_layout deepseek_decode_layout(int devices, precision p = precision::fp8) {
  return {.devices = devices,
          .tp = 1,
          .dp_attention = true,
          .ep = devices,
          .micro_batches = 2,
          .weight_prec = p,
          .dispatch_prec = p};
}
} // namespace

TEMPLATE_TEST_CASE("a batch-1 decode step of a dense model streams its weights", "[engine]",
                   h800_sxm, ascend_910b) {
  const TestType d;
  const full_engine<TestType> sc(model::presets::llama3_8b(), {.devices = 1, .tp = 1});
  const auto r = sc(step_batch{}.add_decode(0));
  // 8.03B BF16 parameters = 16.06 GB read once; the step cannot beat HBM bandwidth at the GEMM
  // memory efficiency, and the weights dominate everything else at context 0.
  // Llama-3.1-8B (presets.hpp): per layer 4096·(32 + 2·8 + 32)·128 = 41,943,040 attention and
  // 3·4096·14336 = 176,160,768 FFN parameters, 32 layers = 6,979,321,856; embedding and LM head
  // 2·128256·4096 = 1,050,673,152; total 8,029,995,008 parameters (the 8,030,261,248 of the
  // checkpoint less its 65 RMSNorm vectors of 4096, which model::param_counts leaves out), × 2
  // bytes.
  const double weights = sc.weight_bytes_per_device();
  CHECK(weights == 16'059'990'016.0);
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
  // Linear parameters of the layers: 32·(41,943,040 attention + 176,160,768 FFN) =
  // 6,979,321,856 (see the test above).
  const double linear_s = 2.0 * 6'979'321'856.0 * 8192 /
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
    parallel_layout l = deepseek_decode_layout(64, TestType{}.native_weight_precision());
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

TEMPLATE_TEST_CASE("a prefill chunk runs in one DP attention group and the step waits for it",
                   "[engine]", h800_sxm, ascend_910b) {
  const auto m = model::presets::deepseek_v3();
  const parallel_layout l{.devices = 32,
                          .tp = 8,
                          .dp_attention = true,
                          .ep = 32,
                          .weight_prec = TestType{}.native_weight_precision()};
  const full_engine<TestType> sc(m, l); // 4 attention groups of TP 8
  const auto with_decode = [](step_batch b) {
    b.totals.decode_sequences += 4 * 16;
    b.totals.decode_context_sum += 4 * 16 * 2048.0;
    return b;
  };
  // One 4,096-token prompt beside the decode batch: its group does the whole chunk, so every
  // per-group op takes what it takes when each of the four groups has such a chunk; the routed
  // experts still see the instance's tokens only.
  const auto one = sc(with_decode(step_batch{}.add_prefill(4096)));
  const auto four = sc(with_decode(
      step_batch{}.add_prefill(4096).add_prefill(4096).add_prefill(4096).add_prefill(4096)));
  CHECK(one.attention_s == four.attention_s);
  CHECK(one.projection_s == four.projection_s);
  CHECK(one.elementwise_s == four.elementwise_s);
  CHECK(one.tp_comm_s == four.tp_comm_s);
  CHECK(one.router_s == four.router_s);
  CHECK(one.shared_s == four.shared_s);
  CHECK(one.dispatch_s == four.dispatch_s);
  CHECK(one.combine_s == four.combine_s);
  CHECK(one.experts_s < four.experts_s);
  CHECK(one.tokens == 4096 + 64);
  // Spread as the same tokens in four chunks of 1,024 (one per group), the step is faster: the
  // single chunk cannot be shared out.
  const auto spread = sc(with_decode(
      step_batch{}.add_prefill(1024).add_prefill(1024).add_prefill(1024).add_prefill(1024)));
  CHECK(spread.total_s < one.total_s);
  CHECK(spread.experts_s == one.experts_s);
  // Five chunks over four groups: the busiest holds two.
  const auto five = sc(with_decode(step_batch{}
                                       .add_prefill(1024)
                                       .add_prefill(1024)
                                       .add_prefill(1024)
                                       .add_prefill(1024)
                                       .add_prefill(1024)));
  const auto eight = sc(with_decode(step_batch{}
                                        .add_prefill(1024)
                                        .add_prefill(1024)
                                        .add_prefill(1024)
                                        .add_prefill(1024)
                                        .add_prefill(1024)
                                        .add_prefill(1024)
                                        .add_prefill(1024)
                                        .add_prefill(1024)));
  CHECK(five.attention_s == eight.attention_s);
  CHECK(five.projection_s == eight.projection_s);
  // Without DP attention (one group) nothing changes: the chunk is the group's.
  const full_engine<TestType> tp(
      m, {.devices = 32, .tp = 32, .ep = 32, .weight_prec = TestType{}.native_weight_precision()});
  CHECK(tp(with_decode(step_batch{}.add_prefill(4096))).total_s <
        tp(with_decode(step_batch{}.add_prefill(4096).add_prefill(4096))).total_s);
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

// ---------------------------------------------------------------------------------------------
// Hand-derived oracles: step times of two small models worked out op by op from the datasheets,
// so that a wrong formula anywhere in the composition (op accounting, roofline, efficiencies,
// collectives, overlap, layer sums) moves the pinned value. Every number below is shown as
// arithmetic; nothing is computed by the library's own formulas.
//
// Rates (device/catalog.hpp datasheets × device/efficiency.hpp defaults), BF16 everywhere:
//   h800_sxm (cuda_gpu): tensor cores 989.4e12 FLOP/s × 0.7 (GEMM) = 692.58e12, × 0.5
//     (attention) = 494.7e12; CUDA cores 67e12 × 0.5 = 33.5e12; HBM 3350e9 B/s × 0.8 (GEMM,
//     attention) = 2680e9, × 0.5 (element-wise) = 1675e9; 4 µs launch per kernel. Matrix and
//     vector work overlap: op = max(matrix, vector, memory) + 4 µs. NVLink 200e9 B/s × 0.8 =
//     160e9 through NVSwitch, 3 µs per step: all-reduce of S bytes on 2 ranks 2·(2−1)·3 µs +
//     2·(1/2)·S/160e9; all-to-all 3 µs + (1/2)·S/160e9 (device/collectives.hpp, switched).
//   ascend_910b = ascend_910b2 (ascend_npu): Cube 376e12 × 0.7 = 263.2e12 (GEMM), × 0.5 =
//     188e12 (attention); Vector 48 AIV · 1.8e9 · 128 · 2 = 22.1184e12 × 0.5 = 11.0592e12; HBM
//     1600e9 × 0.8 = 1280e9, × 0.5 = 800e9 (element-wise); 10 µs dispatch per op. Cube and
//     Vector are serial: op = max(matrix + vector, memory) + 10 µs. HCCS full mesh, one link
//     392e9 / 2 / 7 = 28e9 × 0.8 = 22.4e9 B/s, 3 µs per step; on 2 ranks one link carries the
//     1/2 shard: all-reduce 2·3 µs + 2·(S/2)/22.4e9, all-to-all 3 µs + (S/2)/22.4e9.
//
// Op accounting (engine/step_cost.hpp layer() and lm_head_s(), attention/cost.hpp step_work),
// per device, for `n` tokens of its attention group and tensor-parallel degree tp:
//   attention (GQA): 2·heads·(128 + 128) FLOPs and 4·heads vector FLOPs (softmax) per (query,
//     key) pair, / tp; reads the attended KV (decode) or the cached prefix's KV (prefill) / KV
//     shards, the queries (and a chunk's own k, v) / tp; writes the outputs / tp and the new KV
//     / KV shards, with KV shards = min(tp, KV heads);
//   projections: 2·P·n/tp FLOPs (P = attention parameters); reads P·2/tp weight bytes and the
//     n·h·2 input, writes n·h·2;
//   element-wise (norms, residuals, rotary): 12·h·n/tp vector FLOPs, 5·h·n·2/tp bytes read and
//     3·h·n·2/tp written;
//   dense FFN (SwiGLU): 2·3·h·I·n/tp FLOPs, 4·I·n/tp vector FLOPs; reads 3·h·I·2/tp weight
//     bytes and n·h·2, writes n·h·2; with tp > 1 an all-reduce of n·h·2 bytes follows the
//     attention and another the FFN;
//   LM head for the L logits tokens of a group (decode tokens and the last token of each
//     chunk): 2·V·h·L/tp FLOPs; reads V·h·2/tp + L·h·2, writes L·V/tp·4 (FP32 logits); then an
//     embedding gather of L·h·2 bytes read and L·h·2 written (element-wise).
// A step with one micro-batch is Σ over layers (compute + communication) + LM head + gather.
//
// The models: oracle_dense has hidden h = 1024, 2 layers, vocab V = 32000 (untied), 8 heads, 2
// KV heads of 128, a SwiGLU FFN of I = 4096. Attention parameters per layer P = 1024·8·128 (q)
// + 2·1024·2·128 (k, v) + 8·128·1024 (o) = 2,621,440; FFN 3·1024·4096 = 12,582,912; LM head
// 32000·1024 = 32,768,000; KV 2·2·128·2 = 1,024 bytes per token per layer. oracle_moe is the
// same with layer 0 dense (first_k_dense 1) and layer 1 an MoE: 8 routed SwiGLU experts of
// width 1024 (3·1024·1024 = 3,145,728 parameters, 6,291,456 bytes each), top-2, one shared
// expert, a 1024 × 8 router.

namespace {
model::model_config oracle_dense() { return test::tiny_dense(); }
model::model_config oracle_moe() { return test::tiny_moe(); }
/// oracle_dense's layout: tensor parallelism over 2 devices.
const parallel_layout oracle_tp2{.devices = 2, .tp = 2};
/// oracle_moe's layout: two data-parallel attention groups of one device each, experts split
/// over both (DeepSeek-V3's decode deployment in miniature).
const parallel_layout oracle_dp2_ep2{.devices = 2, .tp = 1, .dp_attention = true, .ep = 2};
} // namespace

TEST_CASE("a small dense model's TP-2 decode step takes the hand-derived time",
          "[engine][oracle]") {
  // 4 sequences decode at context 1023: 4·(1023 + 1) = 4096 (query, key) pairs, n = 4 tokens,
  // L = 4 logits tokens; TP 2 splits the 8 heads and the 2 KV heads (KV shards 2).
  // Work per device and layer:
  //   attention: FLOPs 2·8·(128+128)·4096/2 = 8,388,608; vector 4·8·4096/2 = 65,536; bytes KV
  //     1024·4096/2 + q 4·8·128·2/2 + out 4·8·128·2/2 + new KV 4·1024/2 = 2,107,392
  //   projections: FLOPs 2·2621440·4/2 = 10,485,760; bytes W 2621440·2/2 + x 4·1024·2 + y
  //     4·1024·2 = 2,637,824
  //   element-wise: vector 12·1024·4/2 = 24,576; bytes 5·1024·4·2/2 + 3·1024·4·2/2 = 32,768
  //   FFN: FLOPs 2·12582912·4/2 = 50,331,648; vector 4·4096·4/2 = 32,768; bytes W 12582912·2/2
  //     + x 4·1024·2 + y 4·1024·2 = 12,599,296
  //   LM head: FLOPs 2·32000·1024·4/2 = 131,072,000; bytes W 32768000·2/2 + x 4·1024·2 + logits
  //     4·32000/2·4 = 33,032,192
  //   gather: bytes 4·1024·2 + 4·1024·2 = 16,384
  step_batch b;
  for (int i = 0; i < 4; ++i)
    b.add_decode(1023);
  SECTION("h800_sxm") {
    // Times (seconds):
    //   attention: matrix 8,388,608/494.7e12 = 1.696e-8, vector 65,536/33.5e12 = 1.956e-9,
    //     memory 2,107,392/2680e9 = 7.8634029851e-7; memory binds; + 4 µs = 4.7863402985e-6
    //   projections: matrix 10,485,760/692.58e12 = 1.514e-8, memory 2,637,824/2680e9 =
    //     9.8426268657e-7; memory binds; + 4 µs = 4.9842626866e-6
    //   element-wise: vector 24,576/33.5e12 = 7.336e-10, memory 32,768/1675e9 =
    //     1.9562985075e-8; memory binds; + 4 µs = 4.0195629851e-6
    //   FFN: matrix 50,331,648/692.58e12 = 7.267e-8, vector 32,768/33.5e12 = 9.781e-10, memory
    //     12,599,296/2680e9 = 4.7012298507e-6; memory binds; + 4 µs = 8.7012298507e-6
    //   all-reduce: 2·3 µs + 2·(1/2)·8,192/160e9 = 6.0512000000e-6
    //   LM head: matrix 131,072,000/692.58e12 = 1.893e-7, memory 33,032,192/2680e9 =
    //     1.2325444776e-5; memory binds; + 4 µs = 1.6325444776e-5
    //   gather: memory 16,384/1675e9 = 9.7814925373e-9; memory binds; + 4 µs = 4.0097814925e-6
    // layer = attention + projections + element-wise + FFN + 2·all-reduce = 3.4593795821e-5
    // step = 2·3.4593795821e-5 + 1.6325444776e-5 (LM head) + 4.0097814925e-6 (gather) =
    //     8.952281791045e-5 s
    const auto r = full_engine<h800_sxm>(oracle_dense(), oracle_tp2)(b);
    CHECK(r.total_s == Approx(8.952281791045e-5).epsilon(1e-9));
    CHECK(r.attention_s == Approx(9.572680597015e-6).epsilon(1e-9)); // 2·4.7863402985e-6
    CHECK(r.dense_ffn_s == Approx(1.740245970149e-5).epsilon(1e-9)); // 2·8.7012298507e-6
    CHECK(r.tp_comm_s == Approx(2.42048e-5).epsilon(1e-9));          // 4·6.0512e-6
    CHECK(r.lm_head_s == Approx(2.033522626866e-5).epsilon(1e-9));   // LM head + gather
  }
  SECTION("ascend_910b") {
    // Times (seconds):
    //   attention: matrix 8,388,608/188e12 = 4.462e-8, vector 65,536/11.0592e12 = 5.926e-9,
    //     memory 2,107,392/1280e9 = 1.6464000000e-6; memory binds; + 10 µs = 1.1646400000e-5
    //   projections: matrix 10,485,760/263.2e12 = 3.984e-8, memory 2,637,824/1280e9 =
    //     2.0608000000e-6; memory binds; + 10 µs = 1.2060800000e-5
    //   element-wise: vector 24,576/11.0592e12 = 2.222e-9, memory 32,768/800e9 =
    //     4.0960000000e-8; memory binds; + 10 µs = 1.0040960000e-5
    //   FFN: matrix 50,331,648/263.2e12 = 1.912e-7, vector 32,768/11.0592e12 = 2.963e-9, memory
    //     12,599,296/1280e9 = 9.8432000000e-6; memory binds; + 10 µs = 1.9843200000e-5
    //   all-reduce: 2·3 µs + 2·(8,192/2)/22.4e9 = 6.3657142857e-6
    //   LM head: matrix 131,072,000/263.2e12 = 4.98e-7, memory 33,032,192/1280e9 =
    //     2.5806400000e-5; memory binds; + 10 µs = 3.5806400000e-5
    //   gather: memory 16,384/800e9 = 2.0480000000e-8; memory binds; + 10 µs = 1.0020480000e-5
    // layer = attention + projections + element-wise + FFN + 2·all-reduce = 6.6322788571e-5
    // step = 2·6.6322788571e-5 + 3.5806400000e-5 (LM head) + 1.0020480000e-5 (gather) =
    //     1.784724571429e-4 s
    const auto r = full_engine<ascend_910b>(oracle_dense(), oracle_tp2)(b);
    CHECK(r.total_s == Approx(1.784724571429e-4).epsilon(1e-9));
    CHECK(r.attention_s == Approx(2.32928e-5).epsilon(1e-9));      // 2·1.16464e-5
    CHECK(r.dense_ffn_s == Approx(3.96864e-5).epsilon(1e-9));      // 2·1.98432e-5
    CHECK(r.tp_comm_s == Approx(2.546285714286e-5).epsilon(1e-9)); // 4·6.3657142857e-6
    CHECK(r.lm_head_s == Approx(4.582688e-5).epsilon(1e-9));       // LM head + gather
  }
}

TEST_CASE("a small dense model's TP-2 prefill step takes the hand-derived time",
          "[engine][oracle]") {
  // One chunk of 512 tokens after 512 cached: 512·512 + 512·513/2 = 393,472 pairs, n = 512
  // tokens, L = 1 logits token (the chunk's last); the cached prefix's KV (512 tokens) is read.
  // Work per device and layer:
  //   attention: FLOPs 2·8·(128+128)·393472/2 = 805,830,656; vector 4·8·393472/2 = 6,295,552;
  //     bytes KV prefix 1024·512/2 + q, k, v 512·(8·128+2·256)·2/2 + out 512·8·128·2/2 + new KV
  //     512·1024/2 = 1,835,008
  //   projections: FLOPs 2·2621440·512/2 = 1,342,177,280; bytes W 2621440·2/2 + x 512·1024·2 +
  //     y 512·1024·2 = 4,718,592
  //   element-wise: vector 12·1024·512/2 = 3,145,728; bytes 5·1024·512·2/2 + 3·1024·512·2/2 =
  //     4,194,304
  //   FFN: FLOPs 2·12582912·512/2 = 6,442,450,944; vector 4·4096·512/2 = 4,194,304; bytes W
  //     12582912·2/2 + x 512·1024·2 + y 512·1024·2 = 14,680,064
  //   LM head: FLOPs 2·32000·1024·1/2 = 32,768,000; bytes W 32768000·2/2 + x 1·1024·2 + logits
  //     1·32000/2·4 = 32,834,048
  //   gather: bytes 1·1024·2 + 1·1024·2 = 4,096
  const step_batch b = step_batch{}.add_prefill(512, 512);
  SECTION("h800_sxm") {
    // Times (seconds):
    //   attention: matrix 805,830,656/494.7e12 = 1.6289279483e-6, vector 6,295,552/33.5e12 =
    //     1.879e-7, memory 1,835,008/2680e9 = 6.847e-7; matrix binds; + 4 µs = 5.6289279483e-6
    //   projections: matrix 1,342,177,280/692.58e12 = 1.9379382598e-6, memory 4,718,592/2680e9
    //     = 1.761e-6; matrix binds; + 4 µs = 5.9379382598e-6
    //   element-wise: vector 3,145,728/33.5e12 = 9.39e-8, memory 4,194,304/1675e9 =
    //     2.5040620896e-6; memory binds; + 4 µs = 6.5040620896e-6
    //   FFN: matrix 6,442,450,944/692.58e12 = 9.3021036472e-6, vector 4,194,304/33.5e12 =
    //     1.252e-7, memory 14,680,064/2680e9 = 5.478e-6; matrix binds; + 4 µs = 1.3302103647e-5
    //   all-reduce: 2·3 µs + 2·(1/2)·1,048,576/160e9 = 1.2553600000e-5
    //   LM head: matrix 32,768,000/692.58e12 = 4.731e-8, memory 32,834,048/2680e9 =
    //     1.2251510448e-5; memory binds; + 4 µs = 1.6251510448e-5
    //   gather: memory 4,096/1675e9 = 2.4453731343e-9; memory binds; + 4 µs = 4.0024453731e-6
    // layer = attention + projections + element-wise + FFN + 2·all-reduce = 5.6480231945e-5
    // step = 2·5.6480231945e-5 + 1.6251510448e-5 (LM head) + 4.0024453731e-6 (gather) =
    //     1.332144197106e-4 s
    const auto r = full_engine<h800_sxm>(oracle_dense(), oracle_tp2)(b);
    CHECK(r.total_s == Approx(1.332144197106e-4).epsilon(1e-9));
    CHECK(r.attention_s == Approx(1.125785589650e-5).epsilon(1e-9)); // 2·5.6289279483e-6
    CHECK(r.dense_ffn_s == Approx(2.660420729446e-5).epsilon(1e-9)); // 2·1.3302103647e-5
    CHECK(r.tp_comm_s == Approx(5.02144e-5).epsilon(1e-9));          // 4·1.25536e-5
    CHECK(r.lm_head_s == Approx(2.025395582090e-5).epsilon(1e-9));   // LM head + gather
  }
  SECTION("ascend_910b") {
    // Times (seconds):
    //   attention: matrix 805,830,656/188e12 = 4.2863332766e-6, vector 6,295,552/11.0592e12 =
    //     5.6925925926e-7, memory 1,835,008/1280e9 = 1.434e-6; Cube + Vector 4.8555925359e-6
    //     binds; + 10 µs = 1.4855592536e-5
    //   projections: matrix 1,342,177,280/263.2e12 = 5.0994577508e-6, memory 4,718,592/1280e9 =
    //     3.686e-6; matrix binds; + 10 µs = 1.5099457751e-5
    //   element-wise: vector 3,145,728/11.0592e12 = 2.844e-7, memory 4,194,304/800e9 =
    //     5.2428800000e-6; memory binds; + 10 µs = 1.5242880000e-5
    //   FFN: matrix 6,442,450,944/263.2e12 = 2.4477397204e-5, vector 4,194,304/11.0592e12 =
    //     3.7925925926e-7, memory 14,680,064/1280e9 = 1.147e-5; Cube + Vector 2.4856656463e-5
    //     binds; + 10 µs = 3.4856656463e-5
    //   all-reduce: 2·3 µs + 2·(1,048,576/2)/22.4e9 = 5.2811428571e-5
    //   LM head: matrix 32,768,000/263.2e12 = 1.245e-7, memory 32,834,048/1280e9 =
    //     2.5651600000e-5; memory binds; + 10 µs = 3.5651600000e-5
    //   gather: memory 4,096/800e9 = 5.1200000000e-9; memory binds; + 10 µs = 1.0005120000e-5
    // layer = attention + projections + element-wise + FFN + 2·all-reduce = 1.8567744389e-4
    // step = 2·1.8567744389e-4 + 3.5651600000e-5 (LM head) + 1.0005120000e-5 (gather) =
    //     4.170116077848e-4 s
    const auto r = full_engine<ascend_910b>(oracle_dense(), oracle_tp2)(b);
    CHECK(r.total_s == Approx(4.170116077848e-4).epsilon(1e-9));
    CHECK(r.attention_s == Approx(2.971118507171e-5).epsilon(1e-9)); // 2·1.4855592536e-5
    CHECK(r.dense_ffn_s == Approx(6.971331292581e-5).epsilon(1e-9)); // 2·3.4856656463e-5
    CHECK(r.tp_comm_s == Approx(2.112457142857e-4).epsilon(1e-9));   // 4·5.2811428571e-5
    CHECK(r.lm_head_s == Approx(4.565672e-5).epsilon(1e-9));         // LM head + gather
  }
}

TEST_CASE("a small MoE model's DP-attention + EP-2 decode step takes the hand-derived time",
          "[engine][oracle]") {
  // 8 sequences decode at context 1023: each attention group (one device, tp 1, KV shards 1)
  // holds 4 of them, 4·1024 = 4096 pairs, n = 4 tokens, L = 8/2 = 4 logits tokens. With tp 1
  // there is no all-reduce. MoE layer (moe/cost.hpp) on T = 8 tokens: uniform routing puts each
  // expert in a token's top-2 with probability π = 2/8 = 1/4; without redundant experts device 0
  // holds experts 0–3 and device 1 experts 4–7, so each device gets T·4·π = 8 assignments (the
  // busiest is device 0, imbalance 1) and reads the weights of 4·(1 − (3/4)^8) = 4·58975/65536 =
  // 3.59954833984375 expert slots (= 96·235,900 = 22,646,400 bytes); the router and the shared
  // expert run on the device's own T/2 = 4 tokens. Dispatch: the busiest device sends its 4·2 =
  // 8 copies, half of them to the other device (which holds half of the load), and receives
  // 8·(2 − 1)/2 = 4: max(4, 4)·1024·2 = 8,192 bytes leave it, an all-to-all buffer of
  // 8192·2/(2 − 1) = 16,384 bytes inside the node (nothing leaves the node); combine the same
  // (BF16 both ways).
  // Work per device and layer:
  //   attention: FLOPs 2·8·(128+128)·4096 = 16,777,216; vector 4·8·4096 = 131,072; bytes KV
  //     1024·4096 + q 4·8·128·2 + out 4·8·128·2 + new KV 4·1024 = 4,214,784
  //   projections: FLOPs 2·2621440·4 = 20,971,520; bytes W 2621440·2 + x 4·1024·2 + y 4·1024·2
  //     = 5,259,264
  //   element-wise: vector 12·1024·4 = 49,152; bytes 5·1024·4·2 + 3·1024·4·2 = 65,536
  //   FFN: FLOPs 2·12582912·4 = 100,663,296; vector 4·4096·4 = 65,536; bytes W 12582912·2 + x
  //     4·1024·2 + y 4·1024·2 = 25,182,208
  //   router: FLOPs 2·4·1024·8 = 65,536; vector 4·4·8 = 128; bytes (4·1024 + 1024·8)·2 + scores
  //     4·8·4 = 24,704
  //   experts: FLOPs 2·3·1024·1024·8 = 50,331,648; vector 4·1024·8 = 32,768; bytes W
  //     3.59954833984375·6291456 + x 8·1024·2 + y 8·1024·2 = 22,679,168
  //   shared: FLOPs 2·3·1024·1024·4 = 25,165,824; vector 4·1024·4 = 16,384; bytes W 6291456 + x
  //     4·1024·2 + y 4·1024·2 = 6,307,840
  //   LM head: FLOPs 2·32000·1024·4 = 262,144,000; bytes W 32768000·2 + x 4·1024·2 + logits
  //     4·32000·4 = 66,056,192
  //   gather: bytes 4·1024·2 + 4·1024·2 = 16,384
  step_batch b;
  for (int i = 0; i < 8; ++i)
    b.add_decode(1023);
  SECTION("h800_sxm") {
    // Times (seconds):
    //   attention: matrix 16,777,216/494.7e12 = 3.391e-8, vector 131,072/33.5e12 = 3.913e-9,
    //     memory 4,214,784/2680e9 = 1.5726805970e-6; memory binds; + 4 µs = 5.5726805970e-6
    //   projections: matrix 20,971,520/692.58e12 = 3.028e-8, memory 5,259,264/2680e9 =
    //     1.9624119403e-6; memory binds; + 4 µs = 5.9624119403e-6
    //   element-wise: vector 49,152/33.5e12 = 1.467e-9, memory 65,536/1675e9 = 3.9125970149e-8;
    //     memory binds; + 4 µs = 4.0391259701e-6
    //   FFN: matrix 100,663,296/692.58e12 = 1.453e-7, vector 65,536/33.5e12 = 1.956e-9, memory
    //     25,182,208/2680e9 = 9.3963462687e-6; memory binds; + 4 µs = 1.3396346269e-5
    //   router: matrix 65,536/692.58e12 = 9.463e-11, vector 128/33.5e12 = 3.821e-12, memory
    //     24,704/2680e9 = 9.2179104478e-9; memory binds; + 4 µs = 4.0092179104e-6
    //   experts: matrix 50,331,648/692.58e12 = 7.267e-8, vector 32,768/33.5e12 = 9.781e-10,
    //     memory 22,679,168/2680e9 = 8.4623761194e-6; memory binds; + 4 µs = 1.2462376119e-5
    //   shared: matrix 25,165,824/692.58e12 = 3.634e-8, vector 16,384/33.5e12 = 4.891e-10,
    //     memory 6,307,840/2680e9 = 2.3536716418e-6; memory binds; + 4 µs = 6.3536716418e-6
    //   dispatch: 3 µs + (1/2)·16,384/160e9 = 3.0512000000e-6
    //   combine: 3 µs + (1/2)·16,384/160e9 = 3.0512000000e-6
    //   LM head: matrix 262,144,000/692.58e12 = 3.785e-7, memory 66,056,192/2680e9 =
    //     2.4647832836e-5; memory binds; + 4 µs = 2.8647832836e-5
    //   gather: memory 16,384/1675e9 = 9.7814925373e-9; memory binds; + 4 µs = 4.0097814925e-6
    // layer 0 = attention + projections + element-wise + FFN = 2.8970564776e-5
    // layer 1 = attention + projections + element-wise + router + experts + shared + dispatch +
    //     combine = 4.4501884179e-5
    // step = 2.8970564776e-5 + 4.4501884179e-5 + 2.8647832836e-5 (LM head) + 4.0097814925e-6
    //     (gather) = 1.061300632836e-4 s
    const auto r = full_engine<h800_sxm>(oracle_moe(), oracle_dp2_ep2)(b);
    CHECK(r.total_s == Approx(1.061300632836e-4).epsilon(1e-9));
    CHECK(r.experts_s == Approx(1.246237611940e-5).epsilon(1e-9));
    CHECK(r.dispatch_s == Approx(3.0512e-6).epsilon(1e-9));
    CHECK(r.combine_s == Approx(3.0512e-6).epsilon(1e-9));
    CHECK(r.dense_ffn_s == Approx(1.339634626866e-5).epsilon(1e-9));
    CHECK(r.attention_s == Approx(1.114536119403e-5).epsilon(1e-9)); // 2·5.5726805970e-6
    CHECK(r.tp_comm_s == 0.0);
    CHECK(r.expert_imbalance == Approx(1.0).epsilon(1e-9));
  }
  SECTION("ascend_910b") {
    // Times (seconds):
    //   attention: matrix 16,777,216/188e12 = 8.924e-8, vector 131,072/11.0592e12 = 1.185e-8,
    //     memory 4,214,784/1280e9 = 3.2928000000e-6; memory binds; + 10 µs = 1.3292800000e-5
    //   projections: matrix 20,971,520/263.2e12 = 7.968e-8, memory 5,259,264/1280e9 =
    //     4.1088000000e-6; memory binds; + 10 µs = 1.4108800000e-5
    //   element-wise: vector 49,152/11.0592e12 = 4.444e-9, memory 65,536/800e9 =
    //     8.1920000000e-8; memory binds; + 10 µs = 1.0081920000e-5
    //   FFN: matrix 100,663,296/263.2e12 = 3.825e-7, vector 65,536/11.0592e12 = 5.926e-9,
    //     memory 25,182,208/1280e9 = 1.9673600000e-5; memory binds; + 10 µs = 2.9673600000e-5
    //   router: matrix 65,536/263.2e12 = 2.49e-10, vector 128/11.0592e12 = 1.157e-11, memory
    //     24,704/1280e9 = 1.9300000000e-8; memory binds; + 10 µs = 1.0019300000e-5
    //   experts: matrix 50,331,648/263.2e12 = 1.912e-7, vector 32,768/11.0592e12 = 2.963e-9,
    //     memory 22,679,168/1280e9 = 1.7718100000e-5; memory binds; + 10 µs = 2.7718100000e-5
    //   shared: matrix 25,165,824/263.2e12 = 9.561e-8, vector 16,384/11.0592e12 = 1.481e-9,
    //     memory 6,307,840/1280e9 = 4.9280000000e-6; memory binds; + 10 µs = 1.4928000000e-5
    //   dispatch: 3 µs + (16,384/2)/22.4e9 = 3.3657142857e-6
    //   combine: 3 µs + (16,384/2)/22.4e9 = 3.3657142857e-6
    //   LM head: matrix 262,144,000/263.2e12 = 9.96e-7, memory 66,056,192/1280e9 =
    //     5.1606400000e-5; memory binds; + 10 µs = 6.1606400000e-5
    //   gather: memory 16,384/800e9 = 2.0480000000e-8; memory binds; + 10 µs = 1.0020480000e-5
    // layer 0 = attention + projections + element-wise + FFN = 6.7157120000e-5
    // layer 1 = attention + projections + element-wise + router + experts + shared + dispatch +
    //     combine = 9.6880348571e-5
    // step = 6.7157120000e-5 + 9.6880348571e-5 + 6.1606400000e-5 (LM head) + 1.0020480000e-5
    //     (gather) = 2.356643485714e-4 s
    const auto r = full_engine<ascend_910b>(oracle_moe(), oracle_dp2_ep2)(b);
    CHECK(r.total_s == Approx(2.356643485714e-4).epsilon(1e-9));
    CHECK(r.experts_s == Approx(2.77181e-5).epsilon(1e-9));
    CHECK(r.dispatch_s == Approx(3.365714285714e-6).epsilon(1e-9));
    CHECK(r.combine_s == Approx(3.365714285714e-6).epsilon(1e-9));
    CHECK(r.dense_ffn_s == Approx(2.96736e-5).epsilon(1e-9));
    CHECK(r.attention_s == Approx(2.65856e-5).epsilon(1e-9)); // 2·1.32928e-5
  }
}

TEST_CASE("a small MoE model's DP-attention + EP-2 prefill step takes the hand-derived time",
          "[engine][oracle]") {
  // Two 1024-token chunks, nothing cached: each attention group holds one, 1024·1025/2 =
  // 524,800 pairs, n = 1024 tokens, L = 2/2 = 1 logits token. MoE layer on T = 2048 tokens:
  // 2048·4·(1/4) = 2048 assignments per device, all 4 local experts touched (4·(1 − (3/4)^2048)
  // = 4 to double precision); router and shared expert on 1024 tokens. Dispatch: 1024·2 copies
  // sent, half leave; 2048/2 received: 1024·1024·2 = 2,097,152 bytes leave, a buffer of
  // 4,194,304 bytes; combine the same.
  // Work per device and layer:
  //   attention: FLOPs 2·8·(128+128)·524800 = 2,149,580,800; vector 4·8·524800 = 16,793,600;
  //     bytes q, k, v 1024·(8·128+2·256)·2 + out 1024·8·128·2 + new KV 1024·1024 = 6,291,456
  //   projections: FLOPs 2·2621440·1024 = 5,368,709,120; bytes W 2621440·2 + x 1024·1024·2 + y
  //     1024·1024·2 = 9,437,184
  //   element-wise: vector 12·1024·1024 = 12,582,912; bytes 5·1024·1024·2 + 3·1024·1024·2 =
  //     16,777,216
  //   FFN: FLOPs 2·12582912·1024 = 25,769,803,776; vector 4·4096·1024 = 16,777,216; bytes W
  //     12582912·2 + x 1024·1024·2 + y 1024·1024·2 = 29,360,128
  //   router: FLOPs 2·1024·1024·8 = 16,777,216; vector 4·1024·8 = 32,768; bytes (1024·1024 +
  //     1024·8)·2 + scores 1024·8·4 = 2,146,304
  //   experts: FLOPs 2·3·1024·1024·2048 = 12,884,901,888; vector 4·1024·2048 = 8,388,608; bytes
  //     W 4·6291456 + x 2048·1024·2 + y 2048·1024·2 = 33,554,432
  //   shared: FLOPs 2·3·1024·1024·1024 = 6,442,450,944; vector 4·1024·1024 = 4,194,304; bytes W
  //     6291456 + x 1024·1024·2 + y 1024·1024·2 = 10,485,760
  //   LM head: FLOPs 2·32000·1024·1 = 65,536,000; bytes W 32768000·2 + x 1·1024·2 + logits
  //     1·32000·4 = 65,666,048
  //   gather: bytes 1·1024·2 + 1·1024·2 = 4,096
  const step_batch b = step_batch{}.add_prefill(1024).add_prefill(1024);
  SECTION("h800_sxm") {
    // Times (seconds):
    //   attention: matrix 2,149,580,800/494.7e12 = 4.3452209420e-6, vector 16,793,600/33.5e12 =
    //     5.013e-7, memory 6,291,456/2680e9 = 2.348e-6; matrix binds; + 4 µs = 8.3452209420e-6
    //   projections: matrix 5,368,709,120/692.58e12 = 7.7517530394e-6, memory 9,437,184/2680e9
    //     = 3.521e-6; matrix binds; + 4 µs = 1.1751753039e-5
    //   element-wise: vector 12,582,912/33.5e12 = 3.756e-7, memory 16,777,216/1675e9 =
    //     1.0016248358e-5; memory binds; + 4 µs = 1.4016248358e-5
    //   FFN: matrix 25,769,803,776/692.58e12 = 3.7208414589e-5, vector 16,777,216/33.5e12 =
    //     5.008e-7, memory 29,360,128/2680e9 = 1.096e-5; matrix binds; + 4 µs = 4.1208414589e-5
    //   router: matrix 16,777,216/692.58e12 = 2.422e-8, vector 32,768/33.5e12 = 9.781e-10,
    //     memory 2,146,304/2680e9 = 8.0085970149e-7; memory binds; + 4 µs = 4.8008597015e-6
    //   experts: matrix 12,884,901,888/692.58e12 = 1.8604207294e-5, vector 8,388,608/33.5e12 =
    //     2.504e-7, memory 33,554,432/2680e9 = 1.252e-5; matrix binds; + 4 µs = 2.2604207294e-5
    //   shared: matrix 6,442,450,944/692.58e12 = 9.3021036472e-6, vector 4,194,304/33.5e12 =
    //     1.252e-7, memory 10,485,760/2680e9 = 3.913e-6; matrix binds; + 4 µs = 1.3302103647e-5
    //   dispatch: 3 µs + (1/2)·4,194,304/160e9 = 1.6107200000e-5
    //   combine: 3 µs + (1/2)·4,194,304/160e9 = 1.6107200000e-5
    //   LM head: matrix 65,536,000/692.58e12 = 9.463e-8, memory 65,666,048/2680e9 =
    //     2.4502256716e-5; memory binds; + 4 µs = 2.8502256716e-5
    //   gather: memory 4,096/1675e9 = 2.4453731343e-9; memory binds; + 4 µs = 4.0024453731e-6
    // layer 0 = attention + projections + element-wise + FFN = 7.5321636928e-5
    // layer 1 = attention + projections + element-wise + router + experts + shared + dispatch +
    //     combine = 1.0703479298e-4
    // step = 7.5321636928e-5 + 1.0703479298e-4 + 2.8502256716e-5 (LM head) + 4.0024453731e-6
    //     (gather) = 2.148611320008e-4 s
    const auto r = full_engine<h800_sxm>(oracle_moe(), oracle_dp2_ep2)(b);
    CHECK(r.total_s == Approx(2.148611320008e-4).epsilon(1e-9));
    CHECK(r.experts_s == Approx(2.260420729446e-5).epsilon(1e-9));
    CHECK(r.dispatch_s == Approx(1.61072e-5).epsilon(1e-9));
    CHECK(r.combine_s == Approx(1.61072e-5).epsilon(1e-9));
    CHECK(r.dense_ffn_s == Approx(4.120841458893e-5).epsilon(1e-9));
    CHECK(r.attention_s == Approx(1.669044188397e-5).epsilon(1e-9)); // 2·8.3452209420e-6
    CHECK(r.lm_head_s == Approx(3.250470208955e-5).epsilon(1e-9));   // LM head + gather
  }
  SECTION("ascend_910b") {
    // Times (seconds):
    //   attention: matrix 2,149,580,800/188e12 = 1.1433940426e-5, vector 16,793,600/11.0592e12
    //     = 1.5185185185e-6, memory 6,291,456/1280e9 = 4.915e-6; Cube + Vector 1.2952458944e-5
    //     binds; + 10 µs = 2.2952458944e-5
    //   projections: matrix 5,368,709,120/263.2e12 = 2.0397831003e-5, memory 9,437,184/1280e9 =
    //     7.373e-6; matrix binds; + 10 µs = 3.0397831003e-5
    //   element-wise: vector 12,582,912/11.0592e12 = 1.138e-6, memory 16,777,216/800e9 =
    //     2.0971520000e-5; memory binds; + 10 µs = 3.0971520000e-5
    //   FFN: matrix 25,769,803,776/263.2e12 = 9.7909588815e-5, vector 16,777,216/11.0592e12 =
    //     1.5170370370e-6, memory 29,360,128/1280e9 = 2.294e-5; Cube + Vector 9.9426625852e-5
    //     binds; + 10 µs = 1.0942662585e-4
    //   router: matrix 16,777,216/263.2e12 = 6.374e-8, vector 32,768/11.0592e12 = 2.963e-9,
    //     memory 2,146,304/1280e9 = 1.6768000000e-6; memory binds; + 10 µs = 1.1676800000e-5
    //   experts: matrix 12,884,901,888/263.2e12 = 4.8954794407e-5, vector 8,388,608/11.0592e12
    //     = 7.5851851852e-7, memory 33,554,432/1280e9 = 2.621e-5; Cube + Vector 4.9713312926e-5
    //     binds; + 10 µs = 5.9713312926e-5
    //   shared: matrix 6,442,450,944/263.2e12 = 2.4477397204e-5, vector 4,194,304/11.0592e12 =
    //     3.7925925926e-7, memory 10,485,760/1280e9 = 8.192e-6; Cube + Vector 2.4856656463e-5
    //     binds; + 10 µs = 3.4856656463e-5
    //   dispatch: 3 µs + (4,194,304/2)/22.4e9 = 9.6622857143e-5
    //   combine: 3 µs + (4,194,304/2)/22.4e9 = 9.6622857143e-5
    //   LM head: matrix 65,536,000/263.2e12 = 2.49e-7, memory 65,666,048/1280e9 =
    //     5.1301600000e-5; memory binds; + 10 µs = 6.1301600000e-5
    //   gather: memory 4,096/800e9 = 5.1200000000e-9; memory binds; + 10 µs = 1.0005120000e-5
    // layer 0 = attention + projections + element-wise + FFN = 1.9374843580e-4
    // layer 1 = attention + projections + element-wise + router + experts + shared + dispatch +
    //     combine = 3.8381429362e-4
    // step = 1.9374843580e-4 + 3.8381429362e-4 + 6.1301600000e-5 (LM head) + 1.0005120000e-5
    //     (gather) = 6.488694494202e-4 s
    const auto r = full_engine<ascend_910b>(oracle_moe(), oracle_dp2_ep2)(b);
    CHECK(r.total_s == Approx(6.488694494202e-4).epsilon(1e-9));
    CHECK(r.experts_s == Approx(5.971331292581e-5).epsilon(1e-9));
    CHECK(r.dispatch_s == Approx(9.662285714286e-5).epsilon(1e-9));
    CHECK(r.combine_s == Approx(9.662285714286e-5).epsilon(1e-9));
    CHECK(r.dense_ffn_s == Approx(1.094266258516e-4).epsilon(1e-9));
    CHECK(r.attention_s == Approx(4.590491788810e-5).epsilon(1e-9)); // 2·2.2952458944e-5
    CHECK(r.lm_head_s == Approx(7.130672e-5).epsilon(1e-9));         // LM head + gather
  }
}
