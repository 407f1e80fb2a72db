#include <catch2/catch.hpp>

#include <string>

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
    CHECK(d.peak_flops(p) > 0.0);
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
    if (n == "ascend_910b")
      CHECK(got == "ascend_910b2");
    else
      CHECK(got == n);
  }
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
