/// @file
/// Efficiency factors: the fraction of a datasheet peak that real kernels reach. They are kept
/// apart from the peaks, named per op kind and per link, and every device value lets a user
/// replace them with calibrated ones.
#pragma once

#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/device/work.hpp"

namespace infercost {

/// Fractions (0, 1] of peak compute, memory bandwidth and link bandwidth.
///
/// Defaults were checked against Vidur's measured operator times for Llama-2-7B/70B on A100 and
/// H100 (examples/calibrate_vidur): GEMM compute 0.70 and memory 0.80 predict the projections
/// with a median error of 3–10%; element-wise kernels (RMSNorm, SiLU-and-multiply, rotary, add)
/// reach about half of HBM bandwidth, so elementwise_memory is 0.50 (from 0.70, which
/// under-predicted them by 15–50%). Link factors: H800 NVLink at 0.8 of 200 GB/s is the 160 GB/s
/// DeepSeek measured (DeepSeek-V3 report §3.2.2); Vidur's H100 send/recv reaches ~0.76 of NVLink
/// and ~0.71 of the 400 Gb/s NIC. Ascend parts use the same factors until measured.
struct efficiency {
  double gemm_compute = 0.70;        ///< dense GEMM, fraction of matrix-unit peak
  double gemm_memory = 0.80;         ///< dense GEMM, fraction of HBM bandwidth (weight streaming)
  double attention_compute = 0.50;   ///< fused attention, fraction of matrix-unit peak
  double attention_memory = 0.80;    ///< fused attention, fraction of HBM bandwidth (KV reads)
  double elementwise_compute = 0.50; ///< element-wise kernels, fraction of vector-unit peak
  double elementwise_memory = 0.50;  ///< element-wise kernels, fraction of HBM bandwidth
  double scale_up_link = 0.80;       ///< NVLink / HCCS, fraction of per-direction bandwidth
  double scale_out_link = 0.80;      ///< InfiniBand / RoCE NIC, fraction of line rate
  double host_link = 0.80;           ///< PCIe to host memory, fraction of per-direction rate

  /// Compute efficiency for an op kind.
  [[nodiscard]] constexpr double compute(op_kind k) const noexcept {
    switch (k) {
    case op_kind::gemm:
      return gemm_compute;
    case op_kind::attention:
      return attention_compute;
    case op_kind::elementwise:
      return elementwise_compute;
    }
    return 1.0;
  }
  /// Memory-bandwidth efficiency for an op kind.
  [[nodiscard]] constexpr double memory(op_kind k) const noexcept {
    switch (k) {
    case op_kind::gemm:
      return gemm_memory;
    case op_kind::attention:
      return attention_memory;
    case op_kind::elementwise:
      return elementwise_memory;
    }
    return 1.0;
  }

  /// @throws config_error naming the first factor outside (0, 1].
  void validate(std::string_view component) const {
    const struct {
      const char* name;
      double value;
    } fields[] = {{"efficiency.gemm_compute", gemm_compute},
                  {"efficiency.gemm_memory", gemm_memory},
                  {"efficiency.attention_compute", attention_compute},
                  {"efficiency.attention_memory", attention_memory},
                  {"efficiency.elementwise_compute", elementwise_compute},
                  {"efficiency.elementwise_memory", elementwise_memory},
                  {"efficiency.scale_up_link", scale_up_link},
                  {"efficiency.scale_out_link", scale_out_link},
                  {"efficiency.host_link", host_link}};
    for (const auto& f : fields) {
      check_finite(component, f.name, f.value);
      if (!(f.value > 0.0 && f.value <= 1.0))
        throw config_error(component, f.name, fmt::format("({}) must be in (0, 1]", f.value));
    }
  }
};

} // namespace infercost
