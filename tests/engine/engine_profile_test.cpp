#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "engine/tiny_models.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/engine/calibration.hpp"
#include "infercost/engine/engine_profile.hpp"
#include "infercost/engine/step_cost.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using engine::engine_profile;
using engine::parallel_layout;
using engine::step_batch;

namespace {
template <class D> using full_engine = engine::basic_step_cost<D, attention::full>;

// The small models of step_cost_test.cpp: hidden 1024, 2 layers, vocab 32000 (untied), 8 heads,
// 2 KV heads of 128, SwiGLU FFN of 4096; the MoE one has layer 1 an MoE of 8 experts of width
// 1024, top-2, one shared expert.
using test::tiny_dense;
using test::tiny_moe;

/// A profile whose terms are easy to see: 1 ms per decode step, 2 ms per prefill step, and a
/// launch floor of 20 kernels × 10 µs = 200 µs per layer.
constexpr engine_profile round_profile{.name = "round",
                                       .decode_step_s = 1e-3,
                                       .prefill_step_s = 2e-3,
                                       .launch_s = 10e-6,
                                       .launches_per_layer = 20};

parallel_layout with_profile(parallel_layout l, engine_profile p) {
  l.overheads = p;
  return l;
}
} // namespace

TEST_CASE("engine profiles are found by name and unknown names list the valid ones",
          "[engine][profile]") {
  for (const auto name : engine::profile_names) {
    const engine_profile p = engine::profile_of(name);
    CHECK(p.name == name);
    CHECK_NOTHROW(p.validate());
  }
  CHECK(engine::profile_of("none").is_none());
  CHECK(engine::profiles::none().is_none());
  CHECK_FALSE(engine::profile_of("trtllm").is_none());
  CHECK_THROWS_WITH(
      engine::profile_of("tgi"),
      "engine::profile_of: name ('tgi') must be one of none, trtllm, vllm, sglang, vllm_ascend");
  // Every engine's preset pays more host time for an eager prefill step than for a
  // graph-replayed decode step, and launches at least as slowly as a C++ launch (4 µs).
  for (const auto name : {"trtllm", "vllm", "sglang", "vllm_ascend"}) {
    const engine_profile p = engine::profile_of(name);
    CHECK(p.prefill_step_s > p.decode_step_s);
    CHECK(p.decode_step_s > 0.0);
    CHECK(p.launch_s >= 4e-6);
    CHECK(p.launches_per_layer >= 10);
  }
}

TEST_CASE("a negative or non-finite profile term is rejected, naming it", "[engine][profile]") {
  CHECK_THROWS_WITH((engine_profile{.decode_step_s = -1.0}.validate()),
                    "engine::profile: decode_step_s (-1) must be >= 0");
  CHECK_THROWS_WITH((engine_profile{.launch_s = NAN}.validate()),
                    "engine::profile: launch_s (nan) must be finite");
  // Through the layout, at construction.
  using E = full_engine<h800_sxm>;
  CHECK_THROWS_AS(E(tiny_dense(), {.devices = 1, .tp = 1, .overheads = {.launches_per_layer = -2}}),
                  config_error);
}

TEMPLATE_TEST_CASE("a decode step pays the decode host time and no launch floor",
                   "[engine][profile]", h800_sxm, ascend_910b) {
  // Dense on one device and MoE on a DP-attention + EP-2 layout.
  const parallel_layout dense_l{.devices = 1, .tp = 1};
  const parallel_layout moe_l{.devices = 2, .tp = 1, .dp_attention = true, .ep = 2};
  // The device's fixed cost per op (h800: a 4 µs launch; 910B: a 10 µs dispatch).
  const double op_s = TestType{}.op_time_s(op_work{});
  CHECK(op_s == Approx(std::is_same_v<TestType, h800_sxm> ? 4e-6 : 10e-6).epsilon(1e-12));
  // Of the profile's 20 kernels per layer the ops the model times: attention, projections,
  // element-wise and FFN (4; one device, no all-reduce) in a dense layer; attention,
  // projections, element-wise, router, experts, shared expert, dispatch and combine (8) in the
  // MoE layer. Dense model: 2 × 16 untimed kernels; MoE model: 16 + 12.
  const double other_s[] = {2 * 16 * op_s, (16 + 12) * op_s};
  int k = 0;
  for (const auto& [m, l] : {std::pair{tiny_dense(), dense_l}, std::pair{tiny_moe(), moe_l}}) {
    const full_engine<TestType> bare(m, l);
    const full_engine<TestType> eng(m, with_profile(l, round_profile));
    step_batch b;
    b.add_decode(1000).add_decode(3000);
    const auto r0 = bare(b);
    const auto r = eng(b);
    // Decode steps replay a CUDA graph: the 200 µs launch floor does not apply even though one
    // layer of this tiny batch takes far less (tens of µs); the 1 ms host time is added, and the
    // untimed kernels' fixed cost.
    CHECK(r.host_overhead_s == 1e-3);
    CHECK(r.launch_floor_s == 0.0);
    CHECK(r0.other_kernels_s == 0.0);
    CHECK(r.other_kernels_s == Approx(other_s[k]).epsilon(1e-12));
    CHECK(r.total_s == Approx(r0.total_s + 1e-3 + other_s[k]).epsilon(1e-12));
    CHECK(r.compute_s == Approx(r0.compute_s + other_s[k]).epsilon(1e-12));
    CHECK(std::isfinite(r.total_s));
    ++k;
  }
}

TEMPLATE_TEST_CASE("a tiny eager prefill step waits on the launch floor of every layer",
                   "[engine][profile]", h800_sxm, ascend_910b) {
  // 20 kernels launched at 20 µs each: a 400 µs floor per layer, above what the device takes for
  // them (20 × its 4 or 10 µs fixed cost per op, plus this tiny batch's work).
  engine_profile slow_launch = round_profile;
  slow_launch.launch_s = 20e-6;
  const parallel_layout dense_l{.devices = 1, .tp = 1};
  const parallel_layout moe_l{.devices = 2, .tp = 1, .dp_attention = true, .ep = 2};
  for (const auto& [m, l] : {std::pair{tiny_dense(), dense_l}, std::pair{tiny_moe(), moe_l}}) {
    const full_engine<TestType> bare(m, l);
    const full_engine<TestType> eng(m, with_profile(l, slow_launch));
    step_batch b;
    b.add_prefill(2);
    const auto r0 = bare(b);
    const auto r = eng(b);
    // Each of the 2 layers takes its 400 µs floor: 800 µs of layers, plus the LM head (not a
    // layer, not floored) and the 2 ms prefill host time.
    const double layers_s = 2 * 20 * 20e-6;
    CHECK(r.host_overhead_s == 2e-3);
    CHECK(r.total_s - r.lm_head_s - r.host_overhead_s == Approx(layers_s).epsilon(1e-12));
    // The floor's excess over the device's time (the roofline and the untimed kernels) is
    // reported on its own.
    CHECK(r.other_kernels_s > 0.0);
    CHECK(r.launch_floor_s ==
          Approx(layers_s - (r0.total_s - r0.lm_head_s) - r.other_kernels_s).epsilon(1e-12));
    CHECK(r.launch_floor_s > 0.0);
    CHECK(r.lm_head_s == r0.lm_head_s);
  }
}

TEMPLATE_TEST_CASE("a long prefill is above the launch floor and pays only the host time",
                   "[engine][profile]", h800_sxm, ascend_910b) {
  // Llama-3.1-8B, 8192 tokens: a layer's linear work alone is 2 · 218,103,808 · 8192 FLOPs ≈
  // 3.57 TFLOP, milliseconds on either device, against a 200 µs floor.
  const auto m = model::presets::llama3_8b();
  const full_engine<TestType> bare(m, {.devices = 1, .tp = 1});
  const full_engine<TestType> eng(m, {.devices = 1, .tp = 1, .overheads = round_profile});
  const auto b = step_batch{}.add_prefill(8192);
  const auto r0 = bare(b);
  const auto r = eng(b);
  CHECK(r.launch_floor_s == 0.0);
  // 32 layers × (20 − 4 timed ops) kernels at the device's fixed cost per op.
  const double other_s = 32 * 16 * TestType{}.op_time_s(op_work{});
  CHECK(r.other_kernels_s == Approx(other_s).epsilon(1e-12));
  CHECK(r.total_s == Approx(r0.total_s + 2e-3 + other_s).epsilon(1e-12));
}

TEST_CASE("the floor counts every micro-batch's launches", "[engine][profile]") {
  // Two micro-batches launch each layer's kernels twice: 2 layers × 2 × 200 µs = 800 µs.
  const parallel_layout l{.devices = 2,
                          .tp = 1,
                          .dp_attention = true,
                          .ep = 2,
                          .micro_batches = 2,
                          .overheads = round_profile};
  const full_engine<h800_sxm> eng(tiny_moe(), l);
  const auto r = eng(step_batch{}.add_prefill(4));
  CHECK(r.total_s - r.lm_head_s - r.host_overhead_s == Approx(2 * 2 * 200e-6).epsilon(1e-12));
}

TEST_CASE("the none profile keeps every number of the roofline bit for bit", "[engine][profile]") {
  const auto m = model::presets::qwen3_30b_a3b();
  const full_engine<h800_sxm> a(m, {.devices = 2, .tp = 2});
  const full_engine<h800_sxm> b(m,
                                {.devices = 2, .tp = 2, .overheads = engine::profile_of("none")});
  for (const auto& batch :
       {step_batch{}.add_decode(1000).add_decode(4000), step_batch{}.add_prefill(3000, 500)}) {
    const auto ra = a(batch), rb = b(batch);
    CHECK(ra.total_s == rb.total_s);
    CHECK(rb.host_overhead_s == 0.0);
    CHECK(rb.launch_floor_s == 0.0);
  }
}

TEMPLATE_TEST_CASE("small TP all-reduces run in one shot when the engine has a one-shot kernel",
                   "[engine][profile]", h800_sxm, ascend_910b) {
  const parallel_layout ring{.devices = 2, .tp = 2};
  const parallel_layout oneshot{
      .devices = 2, .tp = 2, .overheads = {.oneshot_allreduce_bytes = 256 * 1024}};
  step_batch b;
  for (int i = 0; i < 8; ++i)
    b.add_decode(512);
  const auto r_ring = full_engine<TestType>(tiny_dense(), ring)(b);
  const auto r_one = full_engine<TestType>(tiny_dense(), oneshot)(b);
  // 4 all-reduces (after each attention and FFN of 2 layers) of 8·1024·2 = 16,384 bytes on 2
  // ranks. h800 (NVLink 160e9 B/s, 3 µs a step): ring 2·3 µs + 2·(1/2)·16,384/160e9 =
  // 6.1024 µs; one shot, each device reads the peer's buffer in one step: 3 µs + (1/2)·32,768 /
  // 160e9 = 3.1024 µs. 910B (one HCCS link 22.4e9 B/s, 3 µs a step): ring 6 µs +
  // 16,384/22.4e9 = 6.731428571 µs; one shot 3 µs + 16,384/22.4e9 = 3.731428571 µs.
  constexpr bool cuda = std::is_same_v<TestType, h800_sxm>;
  const double ring_s = cuda ? 6.1024e-6 : 6.0e-6 + 16384 / 22.4e9;
  const double one_s = cuda ? 3.1024e-6 : 3.0e-6 + 16384 / 22.4e9;
  CHECK(r_ring.tp_comm_s == Approx(4 * ring_s).epsilon(1e-12));
  CHECK(r_one.tp_comm_s == Approx(4 * one_s).epsilon(1e-12));
  // A buffer over the limit takes the ring: 64 sequences are 131,072 bytes.
  const parallel_layout small_limit{
      .devices = 2, .tp = 2, .overheads = {.oneshot_allreduce_bytes = 65'536}};
  step_batch big;
  for (int i = 0; i < 64; ++i)
    big.add_decode(512);
  CHECK(full_engine<TestType>(tiny_dense(), small_limit)(big).tp_comm_s ==
        full_engine<TestType>(tiny_dense(), ring)(big).tp_comm_s);
}

TEST_CASE("the vLLM-Ascend profile is vLLM's step loop with the W8A8 MoE layer's kernels",
          "[engine][profile][ascend]") {
  const engine_profile a = engine::profile_of("vllm_ascend");
  const engine_profile v = engine::profile_of("vllm");
  CHECK(a.name == "vllm_ascend");
  // Graph-replayed decode (FULL_DECODE_ONLY) with async scheduling: vLLM's exposed remainder.
  CHECK(a.decode_step_s == v.decode_step_s);
  CHECK(a.prefill_step_s == v.prefill_step_s);
  CHECK(a.launch_s == Approx(10e-6));
  // 21 kernels per eager W8A8 Qwen3-MoE layer (the count in engine_profile.hpp): a prefill
  // layer cannot take less than 210 µs.
  CHECK(a.launches_per_layer == 21);
  CHECK(a.layer_launch_floor_s() == Approx(210e-6));
  CHECK(a.oneshot_allreduce_bytes == 0.0);
  // Its terms are overridable like any profile's, and the calibration falls back to it.
  engine_profile fitted = a;
  fitted.decode_step_s = 2e-3;
  CHECK_NOTHROW(fitted.validate());
  CHECK(engine::shipped_calibration().profile_for("atlas_800_a3", "vllm_ascend").name ==
        "vllm_ascend");
}

TEST_CASE("an engine refuses FP8 on an Ascend part, naming the layout field",
          "[engine][profile][ascend]") {
  const auto m = model::presets::qwen3_30b_a3b();
  using E = full_engine<ascend_910b>;
  CHECK_THROWS_WITH(E(m, {.devices = 2, .tp = 2, .weight_prec = precision::fp8}),
                    "engine::layout: weight_prec (fp8) is not supported by ascend_910b2: it has "
                    "no fp8 matrix units; it serves int8");
  CHECK_THROWS_WITH(E(m, {.devices = 2, .tp = 2, .attention_prec = precision::fp8}),
                    "engine::layout: attention_prec (fp8) is not supported by ascend_910b2: it "
                    "has no fp8 matrix units; it serves int8");
  // The same through a run-time device, and on A100 (no FP8 tensor cores).
  using A = full_engine<any_device>;
  CHECK_THROWS_AS(
      A(m, {.devices = 2, .tp = 2, .weight_prec = precision::fp4}, {}, make_device("atlas_800_a3")),
      config_error);
  CHECK_THROWS_AS(
      A(m, {.devices = 2, .tp = 2, .weight_prec = precision::fp8}, {}, make_device("a100_sxm")),
      config_error);
  // Each device's serving precision is accepted.
  for (const char* d : {"ascend_910b", "atlas_800_a3", "h800_sxm", "a100_sxm"}) {
    const any_device dev = make_device(d);
    CHECK_NOTHROW(A(m, {.devices = 2, .tp = 2, .weight_prec = serving_precision(dev)}, {}, dev));
  }
}

TEST_CASE("W8A8 on an Atlas 800 A3 node runs INT8 GEMMs and pays their Vector dequantisation",
          "[engine][profile][ascend]") {
  // Qwen3-235B-A22B on one A3 node as vLLM-Ascend serves it: TP4 x DP4 attention, EP16.
  const auto m = model::presets::qwen3_235b_a22b();
  const parallel_layout w8a8{.devices = 16,
                             .tp = 4,
                             .dp_attention = true,
                             .ep = 16,
                             .weight_prec = precision::int8,
                             .attention_prec = precision::bf16,
                             .dispatch_prec = precision::int8,
                             .overheads = engine::profile_of("vllm_ascend")};
  parallel_layout bf16 = w8a8;
  bf16.weight_prec = precision::bf16;
  bf16.dispatch_prec = precision::bf16;
  const full_engine<atlas_800_a3> q(m, w8a8), h(m, bf16);
  // INT8 weights halve the weight bytes: more KV room.
  CHECK(q.kv_capacity_bytes() > h.kv_capacity_bytes());
  // A long prefill is Cube-bound: INT8 runs at twice the BF16 rate, less the Vector work.
  const auto pf =
      step_batch{}.add_prefill(16384).add_prefill(16384).add_prefill(16384).add_prefill(16384);
  const auto rq = q(pf), rh = h(pf);
  CHECK(rq.experts_s < rh.experts_s);
  CHECK(rq.experts_s > 0.5 * rh.experts_s);
  CHECK(std::isfinite(rq.total_s));
  // Without the Vector term the INT8 experts would be exactly twice as fast when Cube-bound.
  ascend_spec s = spec::atlas_800_a3::value;
  s.dequant_vector_flops_per_cube_flop = 0.0;
  const full_engine<atlas_800_a3> q0(m, w8a8, {}, atlas_800_a3(s));
  CHECK(q0(pf).experts_s < rq.experts_s);
}

TEMPLATE_TEST_CASE("EP kernels holding compute units slow an overlapped prefill's MoE layers only",
                   "[engine][profile]", h800_sxm, ascend_910b) {
  // tiny_moe: layer 0 dense, layer 1 MoE; DP attention over 2 devices, EP 2, two micro-batches.
  // With a share s of the compute units held by the all-to-all, the MoE layer's computation per
  // micro-batch, c, becomes c / (1 − s), and its wall time m·max(c', k) + min(c', k) with k its
  // dispatch + combine per micro-batch; the dense layer, which has no all-to-all, is unchanged.
  constexpr double s = 0.25;
  constexpr int m = 2;
  const parallel_layout base{
      .devices = 2, .tp = 1, .dp_attention = true, .ep = 2, .micro_batches = m};
  const full_engine<TestType> plain(tiny_moe(), base);
  const full_engine<TestType> held(tiny_moe(),
                                   with_profile(base, engine_profile{.ep_comm_unit_share = s}));
  const step_batch prefill = step_batch{}.add_prefill(4096).add_prefill(4096);
  const auto r0 = plain(prefill), r = held(prefill);
  // Per micro-batch, from the plain breakdown (summed over both layers and both micro-batches;
  // attention, projections and element-wise work are the same in both layers).
  const double c = ((r0.attention_s + r0.projection_s + r0.elementwise_s) / 2 + r0.router_s +
                    r0.experts_s + r0.shared_s) /
                   m;
  const double k = (r0.dispatch_s + r0.combine_s) / m;
  const double c_held = c / (1.0 - s);
  const double wall0 = m * std::max(c, k) + std::min(c, k);
  const double wall = m * std::max(c_held, k) + std::min(c_held, k);
  CHECK(r.total_s == Approx(r0.total_s + (wall - wall0)).epsilon(1e-12));
  CHECK(r.comm_unit_s == Approx(m * (c_held - c)).epsilon(1e-12));
  CHECK(r0.comm_unit_s == 0.0);
  // The books balance with the new term.
  CHECK(r.total_s ==
        Approx(r.compute_s + r.comm_unit_s + r.comm_s - r.overlap_saved_s).epsilon(1e-12));
  // Op times are the roofline's: the share shows only in comm_unit_s and the wall time.
  CHECK(r.experts_s == r0.experts_s);
  CHECK(r.compute_s == r0.compute_s);

  // Decode steps (graph-replayed, low-latency kernels that hold no compute unit) and steps
  // without micro-batch overlap are unchanged, bit for bit.
  const step_batch decode = step_batch{}.add_decode(2048).add_decode(2048);
  CHECK(held(decode).total_s == plain(decode).total_s);
  parallel_layout one = base;
  one.micro_batches = 1;
  CHECK(full_engine<TestType>(tiny_moe(),
                              with_profile(one, engine_profile{.ep_comm_unit_share = s}))(prefill)
            .total_s == full_engine<TestType>(tiny_moe(), one)(prefill).total_s);
}

TEST_CASE("the EP kernels' share of compute units is SGLang's DeepEP default and stays below 1",
          "[engine][profile]") {
  // DeepEP's Buffer.num_sms = 20 of an H100's 132 SMs; the other presets leave it at 0.
  CHECK(engine::profile_of("sglang").ep_comm_unit_share == Approx(20.0 / 132.0).epsilon(1e-15));
  for (const auto name : {"none", "trtllm", "vllm", "vllm_ascend"})
    CHECK(engine::profile_of(name).ep_comm_unit_share == 0.0);
  CHECK_THROWS_WITH((engine_profile{.ep_comm_unit_share = 1.0}.validate()),
                    "engine::profile: ep_comm_unit_share (1) must be in [0, 1)");
  CHECK_THROWS_WITH((engine_profile{.ep_comm_unit_share = -0.1}.validate()),
                    "engine::profile: ep_comm_unit_share (-0.1) must be in [0, 1)");
  CHECK_FALSE((engine_profile{.ep_comm_unit_share = 0.1}.is_none()));
}

TEMPLATE_TEST_CASE("the expert kernels' efficiency slows compute-bound routed experts and nothing "
                   "else",
                   "[engine][profile]", h800_sxm, ascend_910b) {
  // tiny_moe: layer 0 dense, layer 1 MoE of 8 experts of width 1024, top-2. At efficiency e the
  // routed experts run their matrix FLOPs at e × the GEMM rate. A prefill of 8,192 tokens gives
  // each expert ~2,048 rows, compute-bound on both devices: its time less the per-op overhead
  // grows by exactly 1 / e. With one micro-batch nothing overlaps, so the step grows by that
  // difference; the dense FFN, attention, router, shared expert and all-to-alls are the
  // roofline's. A decode step of two sequences reads weights for a few rows: memory-bound before
  // and after, unchanged bit for bit.
  constexpr double e = 0.4;
  const engine_profile slow{.expert_gemm_efficiency = e};
  const step_batch prefill = step_batch{}.add_prefill(4096).add_prefill(4096);
  const step_batch decode = step_batch{}.add_decode(2048).add_decode(2048);
  const double overhead = TestType{}.op_time_s(op_work{});
  const parallel_layout ep{.devices = 2, .tp = 1, .dp_attention = true, .ep = 2};
  const parallel_layout tp{.devices = 2, .tp = 2};
  for (const parallel_layout& l : {ep, tp}) {
    const full_engine<TestType> plain(tiny_moe(), l);
    const full_engine<TestType> grouped(tiny_moe(), with_profile(l, slow));
    const auto r0 = plain(prefill), r = grouped(prefill);
    REQUIRE(r0.experts_s > overhead);
    if constexpr (std::is_same_v<TestType, h800_sxm>) {
      // Tensor-core time dominates the overlapped CUDA-core work: exactly 1 / e.
      CHECK(r.experts_s - overhead == Approx((r0.experts_s - overhead) / e).epsilon(1e-12));
    } else {
      // Cube then Vector: only the Cube part (and the INT8 dequantisation, none here) slows.
      CHECK(r.experts_s - overhead < (r0.experts_s - overhead) / e);
      CHECK(r.experts_s - overhead > 2.0 * (r0.experts_s - overhead));
    }
    CHECK(r.total_s == Approx(r0.total_s + (r.experts_s - r0.experts_s)).epsilon(1e-12));
    CHECK(r.compute_s == Approx(r0.compute_s + (r.experts_s - r0.experts_s)).epsilon(1e-12));
    CHECK(r.dense_ffn_s == r0.dense_ffn_s);
    CHECK(r.attention_s == r0.attention_s);
    CHECK(r.router_s == r0.router_s);
    CHECK(r.shared_s == r0.shared_s);
    CHECK(r.dispatch_s == r0.dispatch_s);
    CHECK(r.combine_s == r0.combine_s);
    CHECK(r.flops == r0.flops); // the useful work, not the kernel's padded rows
    CHECK(grouped(decode).total_s == plain(decode).total_s);
  }
  // A dense model has no routed experts: unchanged, bit for bit.
  const full_engine<TestType> dense(tiny_dense(), tp);
  const full_engine<TestType> dense_slow(tiny_dense(), with_profile(tp, slow));
  CHECK(dense_slow(prefill).total_s == dense(prefill).total_s);
}

TEST_CASE("the expert kernels' efficiency is 1 in every preset and lies in (0, 1]",
          "[engine][profile]") {
  for (const auto name : engine::profile_names)
    CHECK(engine::profile_of(name).expert_gemm_efficiency == 1.0);
  CHECK_THROWS_WITH((engine_profile{.expert_gemm_efficiency = 0.0}.validate()),
                    "engine::profile: expert_gemm_efficiency (0) must be in (0, 1]");
  CHECK_THROWS_WITH((engine_profile{.expert_gemm_efficiency = 1.5}.validate()),
                    "engine::profile: expert_gemm_efficiency (1.5) must be in (0, 1]");
  CHECK_THROWS_WITH((engine_profile{.expert_gemm_efficiency = std::nan("")}.validate()),
                    "engine::profile: expert_gemm_efficiency (nan) must be in (0, 1]");
  CHECK_FALSE((engine_profile{.expert_gemm_efficiency = 0.5}.is_none()));
}
