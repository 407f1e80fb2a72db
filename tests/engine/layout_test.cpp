#include <catch2/catch.hpp>

#include <cmath>

#include "engine/tiny_models.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using engine::parallel_layout;
using engine::step_batch;

// Hand computations on the small models of step_cost_test.cpp (its header comment lists the
// h800_sxm rates: GEMM 692.58e12 FLOP/s, HBM 2680e9 B/s for GEMMs, 4 µs launch per op; NVLink
// 160e9 B/s through NVSwitch, 3 µs per step; all-reduce on n ranks 2(n−1)·3 µs + 2(n−1)/n ·
// S/160e9, all-gather and reduce-scatter (n−1)·3 µs + (n−1)/n · S/160e9, point-to-point 3 µs +
// S/160e9). BF16 everywhere (2 bytes).
//
// tiny_moe: hidden h = 1024, 2 layers (layer 0 dense, layer 1 MoE), vocab 32000 untied, 8 heads,
// 2 KV heads; 8 routed SwiGLU experts of width 1024 (3·1024·1024 = 3,145,728 parameters,
// 6,291,456 bytes), top-2, one shared expert; attention 2,621,440 parameters per layer, dense FFN
// 12,582,912, embedding + LM head 2·32000·1024 = 65,536,000, router 1024·8 = 8,192.

namespace {
template <class D> using full_engine = engine::basic_step_cost<D, attention::full>;

using test::tiny_dense;
using test::tiny_moe;
step_batch eight_decodes() {
  step_batch b;
  for (int i = 0; i < 8; ++i)
    b.add_decode(512);
  return b;
}

// The routed experts of one device for T = 8 decode tokens (16 assignments) under uniform
// routing (π = k/E = 2/8 per token per expert), whichever way 4 devices share them:
// - MoE TP 2 × EP 2: a rank holds 4 experts and gets 16/2 = 8 assignments; each of its slots is
//   touched with probability 1 − 0.75^8 = 0.8998870849609375, 3.59954833984375 slots expected;
//   a device does half of the rank's work: 6·1024·1024·8/2 = 25,165,824 FLOPs, reads
//   (3.59954833984375·6,291,456 + 8·1024·2)/2 = 11,331,392 bytes and writes 8·1024·2/2 = 8,192;
// - TP 4 (ep 1): all 16 assignments and 8 touched slots, a quarter each: the same FLOPs and
//   bytes.
// Memory-bound: 11,339,584 / 2680e9 = 4.231188059701493 µs, + 4 µs launch.
constexpr double experts_s = 8.231188059701492e-06;
} // namespace

TEST_CASE("MoE TP x EP splits each expert inside its EP rank, as computed by hand",
          "[engine][layout]") {
  const auto m = tiny_moe();
  // Attention TP over the 4 devices, experts on 2 EP ranks of 2 devices each.
  const full_engine<h800_sxm> tp_ep(m, {.devices = 4, .tp = 4, .ep = 2, .moe_tp = 2});
  const auto r = tp_ep(eight_decodes());
  CHECK(r.experts_s == Approx(experts_s).epsilon(1e-12));
  CHECK(r.expert_imbalance == Approx(1.0));
  // No all-to-all: tokens are replicated by the attention all-reduce and the MoE ends with one.
  // 4 all-reduces of 8·1024·2 = 16,384 bytes on 4 ranks (after each attention and each FFN):
  // 2·3·3 µs + 2·(3/4)·16,384/160e9 = 18.1536 µs each.
  CHECK(r.dispatch_s == 0.0);
  CHECK(r.combine_s == 0.0);
  CHECK(r.tp_comm_s == Approx(4 * 18.1536e-6).epsilon(1e-12));

  // The same work split TP 4 (moe_tp = tp, ep = 1, as serving runs record it, or the default).
  const full_engine<h800_sxm> tp(m, {.devices = 4, .tp = 4, .moe_tp = 4});
  CHECK(tp(eight_decodes()).experts_s == Approx(experts_s).epsilon(1e-12));

  // Weights per device: (2·2,621,440 + 12,582,912 + 65,536,000 + 8,192)/4·2 of attention,
  // dense FFN, embeddings and router = 41,684,992; the rank's 4 expert slots split 2 ways:
  // 4·3,145,728/2·2 = 12,582,912; the shared expert split 4 ways: 3,145,728/4·2 = 1,572,864.
  CHECK(tp_ep.weight_bytes_per_device() == 55'840'768.0);
}

TEST_CASE("MoE TP x EP with DP attention gathers the groups' tokens and scatters them back",
          "[engine][layout]") {
  // 4 attention groups of one device; experts on 2 EP ranks of 2 devices each.
  const full_engine<h800_sxm> sc(
      tiny_moe(), {.devices = 4, .tp = 1, .dp_attention = true, .ep = 2, .moe_tp = 2});
  const auto r = sc(eight_decodes());
  // Each device computes half of the busiest rank's work on all 8 tokens: as above.
  CHECK(r.experts_s == Approx(experts_s).epsilon(1e-12));
  // All-gather of the stage's 8·1024·2 = 16,384 bytes on 4 ranks: 3·3 µs + (3/4)·16,384/160e9
  // = 9.0768 µs; the reduce-scatter of the partial outputs is the same; tp = 1, no all-reduce.
  CHECK(r.dispatch_s == Approx(9.0768e-6).epsilon(1e-12));
  CHECK(r.combine_s == Approx(9.0768e-6).epsilon(1e-12));
  CHECK(r.tp_comm_s == 0.0);
  CHECK(std::isfinite(r.total_s));
}

TEST_CASE("expert parallelism may use any EP degree that moe_tp completes", "[engine][layout]") {
  const auto ds = model::presets::deepseek_v3();
  using E = full_engine<h800_sxm>;
  // DeepSeek-V3 as TensorRT-LLM serves it on 64 GPUs: TP 64 attention, MoE TP 8 × EP 8.
  CHECK_NOTHROW(E(ds, {.devices = 64, .tp = 64, .ep = 8, .moe_tp = 8}));
  CHECK_NOTHROW(E(ds, {.devices = 64, .tp = 1, .dp_attention = true, .ep = 8, .moe_tp = 8}));
  CHECK_THROWS_WITH(E(ds, {.devices = 16, .tp = 1, .dp_attention = true, .ep = 8, .moe_tp = 3}),
                    "engine::layout: moe_tp (3) × ep (8) must equal devices (16)");
  CHECK_THROWS_WITH(E(ds, {.devices = 16, .tp = 1, .dp_attention = true, .ep = 8}),
                    "engine::layout: ep (8) must be 1 or equal devices (16)");
  // Experts must split evenly: DeepSeek-V3's expert width is 2048.
  CHECK_THROWS_WITH(E(ds, {.devices = 96, .tp = 1, .dp_attention = true, .ep = 32, .moe_tp = 3}),
                    "engine::layout: moe_tp (3) must divide moe_intermediate (2048)");
  // A dense model accepts the moe_tp = tp that serving runs record, and nothing else.
  const auto llama = model::presets::llama3_8b();
  CHECK_NOTHROW(E(llama, {.devices = 2, .tp = 2, .moe_tp = 2}));
  CHECK_THROWS_AS(E(llama, {.devices = 2, .tp = 2, .moe_tp = 4}), config_error);
}

TEST_CASE("a pipeline step is one micro-batch's trip through every stage", "[engine][layout]") {
  const auto m = tiny_dense();
  const full_engine<h800_sxm> one(m, {.devices = 1, .tp = 1});
  const full_engine<h800_sxm> two(m, {.devices = 2, .tp = 1, .pp = 2});
  step_batch half;
  for (int i = 0; i < 4; ++i)
    half.add_decode(512);
  const auto r1 = one(half);
  const auto r2 = two(eight_decodes());
  // 8 sequences in 2 micro-batches of 4, in flight together: each step every stage runs both
  // micro-batches through its layer, as long as one micro-batch takes through both layers, the
  // LM head and one send of its 4·1024·2 = 8,192 bytes of activations to the next stage
  // (inside the node): 3 µs + 8,192/160e9 = 3.0512 µs.
  CHECK(r2.pp_comm_s == Approx(3.0512e-6).epsilon(1e-12));
  CHECK(r2.total_s == Approx(r1.total_s + 3.0512e-6).epsilon(1e-12));
  CHECK(r2.decode_tokens == 8.0);
  // Weights: one of the 2 layers, (2,621,440 + 12,582,912)·2 = 30,408,704 bytes, and the
  // embedding or the LM head, 32000·1024·2 = 65,536,000 bytes.
  CHECK(two.weight_bytes_per_device() == 95'944'704.0);
  // KV of a 512-token sequence per device: one layer's 512·1024 = 524,288 bytes.
  CHECK(two.kv_bytes_per_device(512) == 524'288.0);
  CHECK(one.kv_bytes_per_device(512) == 1'048'576.0);
}

TEST_CASE("pipeline and tensor parallelism combine over devices = tp x pp", "[engine][layout]") {
  using E = full_engine<h800_sxm>;
  const auto m = tiny_dense();
  CHECK_NOTHROW(E(m, {.devices = 4, .tp = 2, .pp = 2}));
  CHECK_THROWS_WITH(E(m, {.devices = 4, .tp = 4, .pp = 2}),
                    "engine::layout: tp (4) must equal devices / pp (2) without dp_attention");
  CHECK_THROWS_WITH(E(m, {.devices = 4, .tp = 1, .pp = 3}),
                    "engine::layout: pp (3) must divide devices (4)");
  CHECK_THROWS_WITH(E(m, {.devices = 4, .tp = 1, .pp = 4}),
                    "engine::layout: pp (4) must be <= num_layers (2)");
  CHECK_THROWS_AS(E(m, {.devices = 2, .tp = 1, .pp = 0}), config_error);
  // DP attention groups count per stage: 8 devices, 2 stages, tp 2 → 2 groups.
  const parallel_layout l{.devices = 8, .tp = 2, .dp_attention = true, .pp = 2};
  CHECK(l.attention_groups() == 2);
  CHECK(l.stage_devices() == 4);
  // A stage that fills a node sends across nodes: TP 8 × PP 2 on 8-GPU nodes.
  const E cross(model::presets::llama3_70b(), {.devices = 16, .tp = 8, .pp = 2});
  const E within(model::presets::llama3_70b(), {.devices = 8, .tp = 4, .pp = 2});
  const auto b = eight_decodes();
  CHECK(cross(b).pp_comm_s > within(b).pp_comm_s);
}

TEST_CASE("the layout's new fields at their defaults keep today's numbers bit for bit",
          "[engine][layout]") {
  const auto m = model::presets::qwen3_30b_a3b();
  const parallel_layout base{.devices = 4, .tp = 4};
  parallel_layout explicit_defaults = base;
  explicit_defaults.moe_tp = 1;
  explicit_defaults.pp = 1;
  explicit_defaults.overheads = engine::profiles::none();
  const full_engine<ascend_910b> a(m, base), b(m, explicit_defaults);
  // The serving runs' way of writing TP 4: moe_tp = tp.
  parallel_layout recorded = base;
  recorded.moe_tp = 4;
  const full_engine<ascend_910b> c(m, recorded);
  for (const auto& batch : {eight_decodes(), step_batch{}.add_prefill(2048, 1024)}) {
    const auto ra = a(batch), rb = b(batch), rc = c(batch);
    CHECK(ra.total_s == rb.total_s);
    CHECK(ra.total_s == rc.total_s);
    CHECK(ra.experts_s == rc.experts_s);
  }
  CHECK(a.weight_bytes_per_device() == c.weight_bytes_per_device());
}

TEST_CASE("an expert-parallel MoE pipeline stage runs its half of the batch", "[engine][layout]") {
  // 4 devices in 2 stages; each stage 2 DP-attention groups of one device with EP 2.
  const full_engine<h800_sxm> one(tiny_moe(),
                                  {.devices = 2, .tp = 1, .dp_attention = true, .ep = 2});
  const full_engine<h800_sxm> two(tiny_moe(),
                                  {.devices = 4, .tp = 1, .dp_attention = true, .ep = 2, .pp = 2});
  step_batch half;
  for (int i = 0; i < 4; ++i)
    half.add_decode(512);
  const auto r1 = one(half);
  const auto r2 = two(eight_decodes());
  // A micro-batch of 4 sequences, 2 per group; one send of 2·1024·2 = 4,096 bytes between the
  // stages: 3 µs + 4,096/160e9 = 3.0256 µs.
  CHECK(r2.pp_comm_s == Approx(3.0256e-6).epsilon(1e-12));
  CHECK(r2.total_s == Approx(r1.total_s + 3.0256e-6).epsilon(1e-12));
  CHECK(r2.expert_imbalance == r1.expert_imbalance);
}

TEMPLATE_TEST_CASE("weight-only quantisation stores 4-bit weights and multiplies in BF16",
                   "[engine][layout]", h800_sxm, ascend_910b) {
  // Neither Hopper nor the 910B has FP4 matrix units: FP4 weights alone are refused, and as
  // W4A16 (gemm_prec = bf16) they are stored at 4.5 bits and multiplied at the BF16 rate.
  using E = full_engine<TestType>;
  const parallel_layout bf16{.devices = 1, .tp = 1, .weight_prec = precision::bf16};
  parallel_layout fp4 = bf16;
  fp4.weight_prec = precision::fp4;
  CHECK_THROWS_WITH(E(tiny_moe(), fp4), Catch::Contains("weight_prec (fp4) is not supported"));
  parallel_layout w4a16 = fp4;
  w4a16.gemm_prec = precision::bf16;
  CHECK(w4a16.weight_only());
  CHECK(w4a16.gemm_math_prec() == precision::bf16);
  parallel_layout native = bf16;
  native.gemm_prec = precision::bf16;
  CHECK_FALSE(native.weight_only());
  // A GEMM precision the device lacks is refused under its own name.
  parallel_layout bad = fp4;
  bad.gemm_prec = precision::fp4;
  CHECK_THROWS_WITH(E(tiny_moe(), bad), Catch::Contains("gemm_prec (fp4) is not supported"));

  const E plain(tiny_moe(), bf16), weight_only(tiny_moe(), w4a16);
  // Every weight at 4.5 bits instead of 16.
  CHECK(weight_only.weight_bytes_per_device() ==
        Approx(plain.weight_bytes_per_device() * (4.5 / 8.0) / 2.0).epsilon(1e-12));
  // A batch-1 decode step streams the weights: fewer bytes, less time.
  const auto d0 = plain(step_batch{}.add_decode(100)),
             d1 = weight_only(step_batch{}.add_decode(100));
  CHECK(d1.total_s < d0.total_s);
  CHECK(d1.flops == d0.flops);
  // A long prefill is compute-bound: the same FLOPs at the same BF16 rate.
  const auto p0 = plain(step_batch{}.add_prefill(8192)),
             p1 = weight_only(step_batch{}.add_prefill(8192));
  CHECK(p1.flops == p0.flops);
  CHECK(p1.projection_s == Approx(p0.projection_s).epsilon(1e-12));
  CHECK(p1.experts_s == Approx(p0.experts_s).epsilon(1e-12));
  CHECK(p1.dense_ffn_s == Approx(p0.dense_ffn_s).epsilon(1e-12));
}
