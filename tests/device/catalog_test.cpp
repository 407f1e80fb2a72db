#include <catch2/catch.hpp>

#include <string>

#include "infercost/device/any_device.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"

using namespace infercost;

TEMPLATE_TEST_CASE("every catalog device has a valid, positive datasheet", "[device][catalog]",
                   a100_sxm, h100_sxm, h800_sxm, h20, h200_sxm, b200, ascend_910b2, ascend_910b3,
                   ascend_910b4, ascend_910c, b300) {
  const TestType d;
  CHECK_FALSE(d.name().empty());
  CHECK(d.memory_bytes() > 16e9);
  CHECK(d.memory_bytes_per_s() > 5e11);
  for (precision p : all_precisions)
    if (d.supports(p))
      CHECK(d.peak_flops(p) > 0.0);
  CHECK(d.supports(d.native_weight_precision()));
  CHECK(d.vector_flops() > 0.0);
  CHECK(d.scale_up_bytes_per_s() > d.scale_out_bytes_per_s());
  CHECK(d.host_bytes_per_s() > 0.0);
  CHECK(d.devices_per_node() == 8);
  CHECK(d.tdp_w() >= 300.0);
}

TEST_CASE("catalog peaks are the dense datasheet figures", "[device][catalog]") {
  CHECK(h100_sxm{}.peak_flops(precision::bf16) == Approx(989.4e12));
  CHECK(h100_sxm{}.peak_flops(precision::fp8) == Approx(1978.9e12));
  CHECK(h200_sxm{}.peak_flops(precision::bf16) == h100_sxm{}.peak_flops(precision::bf16));
  CHECK(h200_sxm{}.memory_bytes_per_s() == Approx(4.8e12));
  CHECK(a100_sxm{}.peak_flops(precision::bf16) == Approx(312e12));
  CHECK(a100_sxm{}.memory_bytes_per_s() == Approx(2.039e12));
  CHECK(b200{}.peak_flops(precision::bf16) == Approx(2250e12));
  CHECK(b200{}.peak_flops(precision::fp8) == Approx(4500e12));
  CHECK(h20{}.peak_flops(precision::bf16) == Approx(148e12));
  CHECK(ascend_910b2{}.peak_flops(precision::fp16) == Approx(376e12));
  CHECK(ascend_910b3{}.peak_flops(precision::fp16) == Approx(313e12));
  CHECK(ascend_910b4{}.peak_flops(precision::fp16) == Approx(280e12));
  CHECK(ascend_910b{}.memory_bytes_per_s() == Approx(1.6e12));
  CHECK(ascend_910c{}.memory_bytes() == Approx(2 * ascend_910b{}.memory_bytes()));
  CHECK(ascend_910c{}.memory_bytes_per_s() == Approx(3.2e12));
  // 910B HCCS: 196 GB/s per direction per NPU.
  CHECK(ascend_910b{}.scale_up_bytes_per_s() == Approx(196e9));
}

TEST_CASE("visit_device finds every name and lists the valid ones for an unknown name",
          "[device][catalog]") {
  for (auto n : device_names()) {
    const std::string got = visit_device(n, [](const auto& d) { return std::string(d.name()); });
    CHECK(got == canonical_device_name(n));
  }
  CHECK(canonical_device_name("ascend_910b") == "ascend_910b2");
  CHECK(canonical_device_name("atlas_800t_a2") == "ascend_910b2");
  CHECK(canonical_device_name("atlas_800i_a2") == "ascend_910b2");
  CHECK(canonical_device_name("ascend_910c_die") == "atlas_800_a3");
  CHECK(canonical_device_name("h100_sxm") == "h100_sxm");
  try {
    visit_device("h900", [](const auto&) { return 0; });
    FAIL("no exception");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("('h900') is not a known device") != std::string::npos);
    CHECK(msg.find("ascend_910c") != std::string::npos);
    CHECK(msg.find("h800_sxm") != std::string::npos);
  }
}

TEST_CASE("Blackwell Ultra and the NVL72 racks carry their datasheets' per-GPU figures",
          "[device][catalog]") {
  // HGX B300: 108 PFLOPS dense FP4 over 8 GPUs = 13.5 PFLOPS; BF16 36 PFLOPS sparse / 8 / 2.
  const b300 b3;
  CHECK(b3.peak_flops(precision::fp4) == Approx(13.5e15));
  CHECK(b3.peak_flops(precision::bf16) == Approx(2.25e15));
  CHECK(b3.memory_bytes() == 288.0 * units::gib);
  CHECK(b3.memory_bytes_per_s() == Approx(8e12));
  // INT8 on B300: 2 POPS sparse / 8 / 2 = 125 TOPS < BF16, so INT8 work runs at BF16 rate.
  CHECK(b3.spec().int8_flops == Approx(125e12));
  CHECK(b3.peak_flops(precision::int8) == b3.peak_flops(precision::bf16));

  // GB200 NVL72: 1,440 PFLOPS sparse FP4 / 72 / 2 = 10 PFLOPS; 13.4 TB / 72 = 186 GB;
  // 576 TB/s / 72 = 8 TB/s; 130 TB/s NVLink / 72 = 1.8 TB/s, 900 GB/s per direction.
  const gb200_nvl72 g2;
  CHECK(g2.peak_flops(precision::fp4) == Approx(10e15));
  CHECK(g2.peak_flops(precision::fp8) == Approx(5e15));
  CHECK(g2.memory_bytes() == 186.0 * units::gib);
  CHECK(g2.memory_bytes_per_s() == Approx(576e12 / 72));
  CHECK(g2.scale_up_bytes_per_s() == Approx(130e12 / 72 / 2).epsilon(0.01));
  CHECK(g2.devices_per_node() == 72);
  // NVLink-C2C: 900 GB/s both ways per superchip of two GPUs: 225 GB/s per GPU per direction.
  CHECK(g2.host_bytes_per_s() == Approx(225e9));

  // GB300 NVL72: 1,080 PFLOPS dense FP4 / 72 = 15 PFLOPS; 288 GB; a 72-GPU NVLink domain.
  const gb300_nvl72 g3;
  CHECK(g3.peak_flops(precision::fp4) == Approx(15e15));
  CHECK(g3.peak_flops(precision::bf16) == Approx(2.5e15));
  CHECK(g3.memory_bytes() == 288.0 * units::gib);
  CHECK(g3.devices_per_node() == 72);
  CHECK(g3.scale_up_bytes_per_s() > g3.scale_out_bytes_per_s());
  CHECK(g3.tdp_w() == 1400.0);
  for (precision p : all_precisions) {
    CHECK(g2.peak_flops(p) > 0.0);
    CHECK(g3.peak_flops(p) > 0.0);
  }
}

TEST_CASE("NVFP4 weights read 4.5 bits each, and Blackwell's FP4 rate is twice its FP8 rate",
          "[device][catalog]") {
  // B200 datasheet: 9 PFLOPS dense FP4, 4.5 FP8. 1e9 NVFP4 weights: 1e9 * 4.5 / 8 = 0.5625 GB.
  const b200 gpu;
  CHECK(gpu.peak_flops(precision::fp4) == Approx(2 * gpu.peak_flops(precision::fp8)));
  const op_work w4{
      .flops = 1e9, .bytes_read = 1e9 * bytes_per_element(precision::fp4), .prec = precision::fp4};
  CHECK(w4.bytes() == Approx(0.5625e9));
  CHECK(gpu.peak_flops(precision::fp4) == Approx(9000e12));
  CHECK(b300{}.peak_flops(precision::fp4) / gpu.peak_flops(precision::fp4) == Approx(1.5));
}

TEST_CASE("an Atlas 800 A3 node is 16 910C dies of half a package each",
          "[device][catalog][ascend]") {
  // vLLM-Ascend Qwen3-235B-A22B tutorial: "A3 has 8 NPUs with dual-die design (16 chips total)",
  // "Atlas 800I A3 (64GB x 16)". Atlas 800T A3 datasheet: 752 TFLOPS FP16, 198 FP32 and 128 GB
  // at 3.2 TB/s per 910C; CloudMatrix384 paper (arXiv:2506.12708): 392 GB/s UB per 910C.
  const atlas_800_a3 die;
  const ascend_910c package;
  CHECK(die.name() == "atlas_800_a3");
  CHECK(die.devices_per_node() == 16);
  CHECK(die.memory_bytes() == Approx(64.0 * (1ull << 30)));
  CHECK(die.memory_bytes() == Approx(package.memory_bytes() / 2));
  CHECK(die.memory_bytes_per_s() == Approx(1.6e12));
  CHECK(die.peak_flops(precision::bf16) == Approx(376e12));
  CHECK(die.peak_flops(precision::bf16) == Approx(package.peak_flops(precision::bf16) / 2));
  CHECK(die.peak_flops(precision::int8) == Approx(752e12));
  CHECK(die.peak_flops(precision::fp32) == Approx(99e12));
  CHECK(die.scale_up_bytes_per_s() == Approx(196e9));
  CHECK(die.scale_out_bytes_per_s() == Approx(25e9)); // 400 GbE per package, two dies
  CHECK(die.spec().switched_scale_up);
  CHECK(die.tdp_w() == 400.0);
  CHECK_FALSE(die.supports(precision::fp8));
  CHECK(die.native_weight_precision() == precision::int8);
  // The same die in a CloudMatrix384 supernode: 384 packages, 768 dies, one UB domain.
  const cloudmatrix384 cm;
  CHECK(cm.name() == "cloudmatrix384");
  CHECK(cm.devices_per_node() == 768);
  CHECK(cm.scale_up_bytes_per_s() == die.scale_up_bytes_per_s());
  CHECK(cm.memory_bytes() == die.memory_bytes());
  // Atlas A2 servers are eight 910B2 NPUs on an HCCS mesh with a 200 GbE RoCE port each.
  for (const char* a2 : {"atlas_800t_a2", "atlas_800i_a2"}) {
    const any_device d = make_device(a2);
    CHECK(d.name() == "ascend_910b2");
    CHECK(d.devices_per_node() == 8);
    CHECK(d.scale_out_bytes_per_s() == Approx(25e9));
    CHECK_FALSE(d.ascend()->spec().switched_scale_up);
  }
  CHECK(make_device("ascend_910c_die").name() == "atlas_800_a3");
}

TEST_CASE("each device names the weight precision it serves", "[device][catalog]") {
  // Hopper and later serve FP8; Ascend 910B/910C have no FP8 units and serve W8A8 INT8; A100
  // has no FP8 and serves its 16-bit checkpoint.
  for (const char* n : {"h800_sxm", "h200_sxm", "h20", "h100_sxm", "b200"})
    CHECK(serving_precision(make_device(n)) == precision::fp8);
  for (const char* n : {"ascend_910b", "ascend_910b3", "ascend_910c", "atlas_800_a3",
                        "cloudmatrix384", "atlas_800t_a2"})
    CHECK(serving_precision(make_device(n)) == precision::int8);
  CHECK(serving_precision(make_device("a100_sxm")) == precision::bf16);
  for (auto n : device_names()) {
    const any_device d = make_device(n);
    CHECK(d.supports(serving_precision(d)));
  }
}
