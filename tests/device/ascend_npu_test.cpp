#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"

using namespace infercost;

TEST_CASE("ascend_npu has no FP8: FP8 work runs at the FP16 Cube rate", "[device][ascend]") {
  const ascend_910b npu;
  CHECK(npu.peak_flops(precision::fp8) == npu.peak_flops(precision::bf16));
  CHECK(npu.peak_flops(precision::bf16) == Approx(376e12));
  CHECK(npu.peak_flops(precision::int8) == Approx(752e12));
  ascend_spec s = spec::ascend_910b2::value;
  s.fp8_as_int8 = true;
  const ascend_910b quantised(s);
  CHECK(quantised.peak_flops(precision::fp8) == Approx(752e12));
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
