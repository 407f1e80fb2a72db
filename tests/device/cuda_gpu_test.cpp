#include <catch2/catch.hpp>

#include <limits>

#include "infercost/device/catalog.hpp"

using namespace infercost;

TEST_CASE("cuda_gpu GEMM time is the roofline of the dense tensor peak", "[device][cuda]") {
  const h100_sxm gpu;
  // 4096^3 GEMM in BF16: 2*4096^3 = 1.374e11 FLOPs; 3 * 4096^2 * 2 bytes = 100.7 MB.
  const double n = 4096;
  const op_work w{.flops = 2 * n * n * n, .bytes_read = 2 * n * n * 2, .bytes_written = n * n * 2};
  const double compute_s = w.flops / (989.4e12 * 0.70);
  CHECK(gpu.op_time_s(w) == Approx(compute_s + 4e-6));
  // A weight-streaming GEMV: 1 GB of weights at 3.35 TB/s * 0.8.
  const op_work v{.flops = 1e9, .bytes_read = 1e9, .prec = precision::bf16};
  CHECK(gpu.op_time_s(v) == Approx(1e9 / (3.35e12 * 0.80) + 4e-6));
}

TEST_CASE("cuda_gpu runs FP8 at twice BF16 on Hopper and at BF16 rate on Ampere",
          "[device][cuda]") {
  const h800_sxm hopper;
  const a100_sxm ampere;
  CHECK(hopper.peak_flops(precision::fp8) ==
        Approx(2 * hopper.peak_flops(precision::bf16)).epsilon(1e-3));
  CHECK(ampere.peak_flops(precision::fp8) == ampere.peak_flops(precision::bf16));
  CHECK(ampere.peak_flops(precision::fp4) == ampere.peak_flops(precision::bf16));
  const b200 blackwell;
  CHECK(blackwell.peak_flops(precision::fp4) == Approx(9000e12));
  CHECK(hopper.peak_flops(precision::fp4) == hopper.peak_flops(precision::fp8));
  // The widened rates are for direct queries; supports() says what is native, and an engine
  // refuses a layout at a precision the part lacks (require_precision).
  CHECK(hopper.supports(precision::fp8));
  CHECK_FALSE(hopper.supports(precision::fp4));
  CHECK_FALSE(ampere.supports(precision::fp8));
  CHECK(ampere.supports(precision::int8));
  CHECK(blackwell.supports(precision::fp4));
  CHECK_FALSE(blackwell.supports(precision::int4));
  CHECK(hopper.native_weight_precision() == precision::fp8);
  CHECK(ampere.native_weight_precision() == precision::bf16);
  CHECK_THROWS_WITH(
      require_precision(ampere, "engine::layout", "weight_prec", precision::fp8),
      "engine::layout: weight_prec (fp8) is not supported by a100_sxm: it has no fp8 matrix "
      "units; it serves bf16");
  CHECK_NOTHROW(require_precision(hopper, "engine::layout", "weight_prec", precision::fp8));
}

TEST_CASE("cuda_gpu overlaps tensor-core and CUDA-core work", "[device][cuda]") {
  const h100_sxm gpu;
  const op_work both{.flops = 1e12, .vector_flops = 1e10, .kind = op_kind::attention};
  const double matrix_s = 1e12 / (989.4e12 * 0.5);
  const double vector_s = 1e10 / (67e12 * 0.5);
  CHECK(gpu.op_time_s(both) == Approx(std::max(matrix_s, vector_s) + 4e-6));
}

TEST_CASE("H800's capped NVLink at 0.8 efficiency is DeepSeek's measured 160 GB/s",
          "[device][cuda]") {
  // DeepSeek-V3 report §3.2.2: "NVLink offers a bandwidth of 160 GB/s ... IB (50 GB/s)".
  const h800_sxm gpu;
  CHECK(gpu.scale_up_bytes_per_s() * gpu.efficiencies().scale_up_link == Approx(160e9));
  const comm_work p2p{.kind = collective::point_to_point, .bytes = 160e6, .ranks = 2};
  CHECK(gpu.comm_time_s(p2p) == Approx(3e-6 + 1e-3));
  // H100's full NVLink is 2.25x faster on the same message.
  const h100_sxm full;
  CHECK(gpu.comm_time_s(p2p) - 3e-6 == Approx(2.25 * (full.comm_time_s(p2p) - 3e-6)));
}

TEST_CASE("cuda_gpu rejects bad specs and efficiencies, naming the field", "[device][cuda]") {
  cuda_spec s = spec::h100_sxm::value;
  s.memory_bytes_per_s = 0;
  CHECK_THROWS_WITH(h100_sxm(s), "device::cuda_gpu: memory_bytes_per_s (0) must be > 0");
  s = spec::h100_sxm::value;
  s.bf16_flops = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(h100_sxm(s), "device::cuda_gpu: bf16_flops (nan) must be finite");
  s = spec::h100_sxm::value;
  s.fp8_flops = -1;
  CHECK_THROWS_AS(h100_sxm(s), config_error);
  h100_sxm gpu;
  efficiency e;
  e.gemm_compute = 1.5;
  CHECK_THROWS_WITH(gpu.set_efficiencies(e),
                    "device::cuda_gpu: efficiency.gemm_compute (1.5) must be in (0, 1]");
  e.gemm_compute = 0.0;
  CHECK_THROWS_AS(gpu.set_efficiencies(e), config_error);
}

TEST_CASE("a calibrated efficiency scales compute-bound time inversely", "[device][cuda]") {
  h100_sxm gpu;
  const op_work w{.flops = 1e13};
  const double before = gpu.op_time_s(w) - 4e-6;
  efficiency e = gpu.efficiencies();
  e.gemm_compute = 0.35;
  gpu.set_efficiencies(e);
  CHECK(gpu.op_time_s(w) - 4e-6 == Approx(2 * before));
}
