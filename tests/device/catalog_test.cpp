#include <catch2/catch.hpp>

#include <string>

#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"

using namespace infercost;

TEMPLATE_TEST_CASE("every catalog device has a valid, positive datasheet", "[device][catalog]",
                   a100_sxm, h100_sxm, h800_sxm, h20, h200_sxm, b200, ascend_910b2, ascend_910b3,
                   ascend_910b4, ascend_910c) {
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
