#include <catch2/catch.hpp>

#include "infercost/device/any_device.hpp"
#include "infercost/device/catalog.hpp"

using namespace infercost;

TEST_CASE("ascend_npu has no FP8: asking for FP8 work is an error naming the field",
          "[device][ascend]") {
  const ascend_910b npu;
  CHECK(npu.peak_flops(precision::bf16) == Approx(376e12));
  CHECK(npu.peak_flops(precision::int8) == Approx(752e12));
  // W4A8: 4-bit weights, INT8 activations and matrix math.
  CHECK(npu.peak_flops(precision::int4) == npu.peak_flops(precision::int8));
  CHECK(npu.supports(precision::int8));
  CHECK(npu.supports(precision::int4));
  CHECK_FALSE(npu.supports(precision::fp8));
  CHECK_FALSE(npu.supports(precision::fp4));
  CHECK(npu.native_weight_precision() == precision::int8);
  CHECK_THROWS_WITH(npu.peak_flops(precision::fp8),
                    "device::ascend_npu: prec (fp8) is not supported by ascend_910b2: it has no "
                    "fp8 matrix units; it serves int8");
  CHECK_THROWS_AS(npu.peak_flops(precision::fp4), config_error);
  const op_work fp8_gemm{.flops = 1e9, .bytes_read = 1e6, .prec = precision::fp8};
  CHECK_THROWS_AS(npu.op_time_s(fp8_gemm), config_error);
  // Through the run-time device too.
  const any_device any(npu);
  CHECK_THROWS_AS(any.op_time_s(fp8_gemm), config_error);
  CHECK_FALSE(any.supports(precision::fp8));
  CHECK_THROWS_WITH(
      require_precision(ascend_910c{}, "engine::layout", "weight_prec", precision::fp8),
      "engine::layout: weight_prec (fp8) is not supported by ascend_910c: it has "
      "no fp8 matrix units; it serves int8");
}

TEST_CASE("a W8A8 GEMM adds its quantisation and dequantisation to the Vector time",
          "[device][ascend]") {
  const ascend_910b npu;
  // The ratio: an M×K input times K×N INT8 weights quantises M·K inputs and dequantises M·N
  // outputs at 4 Vector ops each, against 2·M·N·K Cube FLOPs. For M = N = K = 4096:
  // (4·4096² + 4·4096²) / (2·4096³) = 4/4096.
  const double n = 4096;
  const double ratio = (4 * n * n + 4 * n * n) / (2 * n * n * n);
  CHECK(ratio == Approx(4.0 / 4096.0));
  CHECK(npu.spec().dequant_vector_flops_per_cube_flop == Approx(ratio));
  // A 4096³ INT8 GEMM: 1.374e11 Cube FLOPs at 752 TOPS × 0.7 = 0.2611 ms; 1.342e8 Vector FLOPs
  // at 48 AIV × 1.8 GHz × 128 lanes × 2 = 22.12 TFLOPS × 0.5 = 12.14 µs; serial, plus the 10 µs
  // dispatch. Its bytes (16.8 MB of weights, 16.8 MB of INT8 input, 33.6 MB of BF16 output at
  // 1.6 TB/s × 0.8 = 52.4 µs) are under the compute time.
  const op_work w8a8{.flops = 2 * n * n * n,
                     .bytes_read = n * n + n * n,
                     .bytes_written = 2 * n * n,
                     .prec = precision::int8,
                     .kind = op_kind::gemm};
  const double cube_s = 2 * n * n * n / (752e12 * 0.7);
  const double vector_s = 2 * n * n * n * 4.0 / 4096.0 / (48 * 1.8e9 * 128 * 2 * 0.5);
  CHECK(cube_s == Approx(261.1e-6).epsilon(1e-3));
  CHECK(vector_s == Approx(12.14e-6).epsilon(1e-3));
  CHECK(npu.dequant_vector_flops(w8a8) == Approx(2 * n * n * n * 4.0 / 4096.0));
  CHECK(npu.op_time_s(w8a8) == Approx(cube_s + vector_s + 10e-6));
  // The same GEMM in BF16 has no (de)quantisation but runs at half the Cube rate.
  op_work bf16 = w8a8;
  bf16.prec = precision::bf16;
  CHECK(npu.dequant_vector_flops(bf16) == 0.0);
  CHECK(npu.op_time_s(bf16) == Approx(2 * n * n * n / (376e12 * 0.7) + 10e-6));
  // W4A8 reads half the weight bytes and pays the same Vector work.
  op_work w4a8 = w8a8;
  w4a8.prec = precision::int4;
  CHECK(npu.dequant_vector_flops(w4a8) == npu.dequant_vector_flops(w8a8));
  // An element-wise op at INT8 is not a GEMM: no dequantisation.
  const op_work elt{.vector_flops = 1e9, .prec = precision::int8, .kind = op_kind::elementwise};
  CHECK(npu.dequant_vector_flops(elt) == 0.0);
  // A spec without the term (a custom part) pays nothing for it.
  ascend_spec s = spec::ascend_910b2::value;
  s.dequant_vector_flops_per_cube_flop = 0.0;
  CHECK(ascend_910b(s).op_time_s(w8a8) == Approx(cube_s + 10e-6));
  s.dequant_vector_flops_per_cube_flop = -1.0;
  CHECK_THROWS_WITH(ascend_910b(s), "device::ascend_npu: dequant_vector_flops_per_cube_flop (-1) "
                                    "must be >= 0");
}

TEST_CASE("Atlas A3 and CloudMatrix384 dies reach every peer at full UB bandwidth",
          "[device][ascend]") {
  // UB switches: 196 GB/s per die per direction at scale_up_link 0.5 (DeepEP-Ascend EP16).
  const atlas_800_a3 die;
  const double port = 196e9 * 0.5;
  CHECK(die.efficiencies().scale_up_link == 0.5);
  const comm_work p2p{.kind = collective::point_to_point, .bytes = 1e9, .ranks = 2};
  CHECK(die.comm_time_s(p2p) == Approx(3e-6 + 1e9 / port));
  const comm_work a2a{.kind = collective::all_to_all, .bytes = 1e9, .ranks = 16};
  CHECK(die.comm_time_s(a2a) == Approx(3e-6 + (15.0 / 16.0) * 1e9 / port));
  // On a 910B's HCCS mesh a point-to-point send gets one 28 GB/s link.
  CHECK(ascend_910b{}.comm_time_s(p2p) == Approx(3e-6 + 1e9 / (28e9 * 0.8)));
  // A CloudMatrix384 all-to-all over 768 dies stays on the UB network.
  const cloudmatrix384 cm;
  const comm_work wide{.kind = collective::all_to_all, .bytes = 1e9, .ranks = 768};
  CHECK(cm.comm_time_s(wide) == Approx(3e-6 + (767.0 / 768.0) * 1e9 / port));
  CHECK(768 <= cm.devices_per_node());
}

TEST_CASE("910C dies read attention KV at the measured paged-attention rate", "[device][ascend]") {
  // pypto-lib issue #622: CANN paged attention on a 910B-class die, best tiling, 0.78 TB/s of
  // the 1.6 TB/s rating.
  CHECK(atlas_800_a3{}.efficiencies().attention_memory == Approx(0.4875));
  CHECK(cloudmatrix384{}.efficiencies().attention_memory == Approx(0.4875));
  const op_work kv{.bytes_read = 1e9, .kind = op_kind::attention};
  CHECK(atlas_800_a3{}.op_time_s(kv) == Approx(1e9 / 0.78e12 + 10e-6));
  // The datasheet entries keep efficiency.hpp's defaults until given the measured set.
  ascend_910b npu;
  CHECK(npu.efficiencies().attention_memory == 0.80);
  npu.set_efficiencies(spec::ascend_910_efficiency);
  CHECK(npu.op_time_s(kv) == Approx(1e9 / 0.78e12 + 10e-6));
  CHECK(npu.efficiencies().gemm_memory == efficiency{}.gemm_memory);
}

TEST_CASE("ascend_npu serialises Cube and Vector work", "[device][ascend]") {
  const ascend_910b npu;
  const op_work w{.flops = 1e12, .vector_flops = 1e10, .kind = op_kind::attention};
  const double cube_s = 1e12 / (376e12 * 0.5);
  const double vector_s = 1e10 / (npu.vector_flops() * 0.5);
  CHECK(npu.op_time_s(w) == Approx(cube_s + vector_s + 10e-6));
}

TEST_CASE("HCCS full mesh: point-to-point gets one link, all-to-all gets all seven",
          "[device][ascend]") {
  const ascend_910b npu;
  const double link = 28e9 * 0.8; // 392 GB/s / 2 directions / 7 links, at 0.8 efficiency
  const comm_work p2p{.kind = collective::point_to_point, .bytes = 1e9, .ranks = 2};
  CHECK(npu.comm_time_s(p2p) == Approx(3e-6 + 1e9 / link));
  const comm_work a2a{.kind = collective::all_to_all, .bytes = 1e9, .ranks = 8};
  CHECK(npu.comm_time_s(a2a) == Approx(3e-6 + (7.0 / 8.0) * 1e9 / (7 * link)));
  // With 4 ranks only 3 links carry traffic.
  const comm_work a2a4{.kind = collective::all_to_all, .bytes = 1e9, .ranks = 4};
  CHECK(npu.comm_time_s(a2a4) == Approx(3e-6 + (3.0 / 4.0) * 1e9 / (3 * link)));
  const comm_work ar{.kind = collective::all_reduce, .bytes = 1e9, .ranks = 8};
  CHECK(npu.comm_time_s(ar) == Approx(2 * 3e-6 + 2 * (7.0 / 8.0) * 1e9 / (7 * link)));
}

TEST_CASE("topologies differ: NVSwitch wins point-to-point, HCCS mesh all-to-all ratio is closer",
          "[device][ascend]") {
  const ascend_910b npu;
  const h800_sxm gpu;
  const comm_work p2p{.kind = collective::point_to_point, .bytes = 1e9, .ranks = 2};
  const comm_work a2a{.kind = collective::all_to_all, .bytes = 1e9, .ranks = 8};
  const double p2p_ratio = npu.comm_time_s(p2p) / gpu.comm_time_s(p2p);
  const double a2a_ratio = npu.comm_time_s(a2a) / gpu.comm_time_s(a2a);
  CHECK(p2p_ratio == Approx(200.0 / 28.0).epsilon(0.01));
  CHECK(a2a_ratio == Approx(200.0 / 196.0).epsilon(0.01));
}

TEST_CASE("ascend_npu rejects bad specs naming the field", "[device][ascend]") {
  ascend_spec s = spec::ascend_910b2::value;
  s.hccs_links = 0;
  CHECK_THROWS_WITH(ascend_910b(s), "device::ascend_npu: hccs_links (0) must be > 0");
  s = spec::ascend_910b2::value;
  s.vector_flops = -5;
  CHECK_THROWS_AS(ascend_910b(s), config_error);
  s = spec::ascend_910b2::value;
  s.eff.host_link = 2.0;
  CHECK_THROWS_WITH(ascend_910b(s),
                    "device::ascend_npu: efficiency.host_link (2) must be in (0, 1]");
}
