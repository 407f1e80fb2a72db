/// @file
/// The `cuda_gpu` family: NVIDIA GPUs. Tensor cores per precision (FP8 on Hopper and later, FP4 on
/// Blackwell), CUDA cores for element-wise work overlapped with tensor-core work, NVLink through
/// NVSwitch (every GPU reaches every peer at its full per-GPU bandwidth), a scale-out NIC per
/// GPU, a PCIe host link, and a fixed kernel-launch overhead per op.
#pragma once

#include <algorithm>
#include <string_view>
#include <type_traits>

#include "infercost/core/error.hpp"
#include "infercost/device/collectives.hpp"
#include "infercost/device/efficiency.hpp"
#include "infercost/device/roofline.hpp"
#include "infercost/device/work.hpp"
#include "infercost/fwd.hpp"

namespace infercost {

/// Datasheet numbers of one NVIDIA GPU. Peaks are dense (no 2:4 sparsity). A precision the chip
/// lacks has peak 0 and runs at the next wider supported rate (see cuda_gpu::peak_flops).
struct cuda_spec {
  std::string_view name;
  double memory_bytes = 0.0;       ///< HBM capacity
  double memory_bytes_per_s = 0.0; ///< HBM bandwidth
  double fp32_flops = 0.0;         ///< CUDA-core FP32 (non-tensor)
  double tf32_flops = 0.0;         ///< tensor-core TF32, dense
  double bf16_flops = 0.0;         ///< tensor-core BF16/FP16, dense
  double fp8_flops = 0.0;          ///< tensor-core FP8, dense; 0 if unsupported
  double int8_flops = 0.0;         ///< tensor-core INT8, dense; 0 if unsupported
  double fp4_flops = 0.0;          ///< tensor-core FP4, dense; 0 if unsupported
  double nvlink_bytes_per_s = 0.0; ///< NVLink per GPU, per direction
  int gpus_per_node = 8;           ///< GPUs in one NVLink domain
  double nic_bytes_per_s = 0.0;    ///< scale-out NIC per GPU, per direction
  double pcie_bytes_per_s = 0.0;   ///< PCIe host link, per direction
  double launch_overhead_s = 0.0;  ///< fixed cost per kernel
  double nvlink_latency_s = 0.0;   ///< per collective step over NVLink
  double nic_latency_s = 0.0;      ///< per collective step over the NIC
  double pcie_latency_s = 0.0;     ///< per host transfer
  double tdp_w = 0.0;              ///< board power
  efficiency eff{};                ///< default efficiency factors for this chip

  /// @throws config_error naming the first field that is zero, negative or not finite.
  void validate() const {
    constexpr std::string_view c = "device::cuda_gpu";
    check_positive(c, "memory_bytes", memory_bytes);
    check_positive(c, "memory_bytes_per_s", memory_bytes_per_s);
    check_positive(c, "fp32_flops", fp32_flops);
    check_positive(c, "tf32_flops", tf32_flops);
    check_positive(c, "bf16_flops", bf16_flops);
    check_non_negative(c, "fp8_flops", fp8_flops);
    check_non_negative(c, "int8_flops", int8_flops);
    check_non_negative(c, "fp4_flops", fp4_flops);
    check_positive(c, "nvlink_bytes_per_s", nvlink_bytes_per_s);
    check_positive(c, "gpus_per_node", gpus_per_node);
    check_positive(c, "nic_bytes_per_s", nic_bytes_per_s);
    check_positive(c, "pcie_bytes_per_s", pcie_bytes_per_s);
    check_non_negative(c, "launch_overhead_s", launch_overhead_s);
    check_non_negative(c, "nvlink_latency_s", nvlink_latency_s);
    check_non_negative(c, "nic_latency_s", nic_latency_s);
    check_non_negative(c, "pcie_latency_s", pcie_latency_s);
    check_positive(c, "tdp_w", tdp_w);
    eff.validate(c);
  }
};

/// A cost model for one NVIDIA GPU. `Spec::value` is its datasheet (a `cuda_spec`); a value can
/// be built from another spec, or its efficiencies replaced, to calibrate it. `cuda_gpu<>` (Spec
/// void) has no datasheet default: its numbers are always given at run time (see any_device).
template <class Spec> class cuda_gpu {
public:
  static constexpr std::string_view family_name = "cuda_gpu";
  using spec_type = cuda_spec;

  /// The datasheet device.
  cuda_gpu() requires(!std::is_void_v<Spec>) : cuda_gpu(Spec::value) {}
  /// A device with other numbers (a calibrated or hypothetical part). @throws config_error.
  explicit cuda_gpu(const cuda_spec& spec) : spec_(spec) { spec_.validate(); }

  [[nodiscard]] const cuda_spec& spec() const noexcept { return spec_; }
  [[nodiscard]] std::string_view name() const noexcept { return spec_.name; }
  [[nodiscard]] std::string_view family() const noexcept { return family_name; }
  [[nodiscard]] const efficiency& efficiencies() const noexcept { return spec_.eff; }
  /// Replaces the efficiency factors. @throws config_error if one is outside (0, 1].
  cuda_gpu& set_efficiencies(const efficiency& e) {
    e.validate("device::cuda_gpu");
    spec_.eff = e;
    return *this;
  }

  /// Replaces the number of devices in one scale-up domain (a larger NVLink or HCCS domain).
  /// @throws config_error if it is < 1.
  cuda_gpu& set_devices_per_node(int n) {
    check_positive("device::cuda_gpu", "gpus_per_node", n);
    spec_.gpus_per_node = n;
    return *this;
  }

  [[nodiscard]] double memory_bytes() const noexcept { return spec_.memory_bytes; }
  [[nodiscard]] double memory_bytes_per_s() const noexcept { return spec_.memory_bytes_per_s; }
  [[nodiscard]] int devices_per_node() const noexcept { return spec_.gpus_per_node; }
  [[nodiscard]] double scale_up_bytes_per_s() const noexcept { return spec_.nvlink_bytes_per_s; }
  [[nodiscard]] double scale_out_bytes_per_s() const noexcept { return spec_.nic_bytes_per_s; }
  [[nodiscard]] double host_bytes_per_s() const noexcept { return spec_.pcie_bytes_per_s; }
  [[nodiscard]] double tdp_w() const noexcept { return spec_.tdp_w; }
  /// CUDA-core FP32 rate, used for element-wise work.
  [[nodiscard]] double vector_flops() const noexcept { return spec_.fp32_flops; }

  /// True when the tensor cores run matrix work at `p`: FP32, TF32, BF16 and FP16 always; FP8,
  /// INT8 and FP4 where the datasheet gives them a rate; INT4 (W4A8) never (Hopper and later have
  /// no INT4 tensor cores). An engine refuses a layout at a precision the device lacks
  /// (require_precision); peak_flops keeps the widened rate below for direct queries.
  [[nodiscard]] constexpr bool supports(precision p) const noexcept {
    switch (p) {
    case precision::fp8:
      return spec_.fp8_flops > 0.0;
    case precision::int8:
      return spec_.int8_flops > 0.0;
    case precision::fp4:
      return spec_.fp4_flops > 0.0;
    case precision::int4:
      return false;
    case precision::fp32:
    case precision::tf32:
    case precision::bf16:
    case precision::fp16:
      return true;
    }
    return false;
  }
  /// The weight precision this part serves large models in: FP8 where it has FP8 tensor cores
  /// (the precision DeepSeek-V3 and Qwen3's FP8 checkpoints ship in), else BF16.
  [[nodiscard]] constexpr precision native_weight_precision() const noexcept {
    return spec_.fp8_flops > 0.0 ? precision::fp8 : precision::bf16;
  }

  /// Dense tensor-core peak for work at precision p. A precision the chip lacks runs at the next
  /// supported wider one: FP4 → FP8 → BF16, INT8 → BF16, INT4 → INT8 (e.g. FP8 on A100 runs at
  /// BF16 rate); supports() says which precisions are native.
  /// INT8 runs at the faster of the INT8 and BF16 rates: Blackwell Ultra (B300, GB300) cut INT8
  /// tensor throughput below BF16 (NVIDIA HGX B300 datasheet: 2 POPS INT8 vs 36 PFLOPS BF16 per
  /// board, sparse), so INT8 weights there are widened to BF16; on every other part INT8 >= BF16.
  [[nodiscard]] double peak_flops(precision p) const noexcept {
    switch (p) {
    case precision::fp32:
      return spec_.fp32_flops;
    case precision::tf32:
      return spec_.tf32_flops;
    case precision::bf16:
    case precision::fp16:
      return spec_.bf16_flops;
    case precision::fp8:
      return spec_.fp8_flops > 0.0 ? spec_.fp8_flops : spec_.bf16_flops;
    case precision::int8:
      return std::max(spec_.int8_flops, spec_.bf16_flops);
    case precision::fp4:
      return spec_.fp4_flops > 0.0 ? spec_.fp4_flops : peak_flops(precision::fp8);
    case precision::int4:
      return peak_flops(precision::int8);
    }
    return spec_.bf16_flops;
  }

  /// Roofline time of one op. Tensor-core and CUDA-core work overlap (warp-specialised kernels),
  /// so the compute time is the larger of the two; then max with memory time, plus one launch.
  [[nodiscard]] double op_time_s(const op_work& w) const noexcept {
    const efficiency& e = spec_.eff;
    const double matrix_s = w.flops / (peak_flops(w.prec) * e.compute(w.kind));
    const double vector_s = w.vector_flops / (spec_.fp32_flops * e.elementwise_compute);
    const double memory_s = w.bytes() / (spec_.memory_bytes_per_s * e.memory(w.kind));
    return roofline_time_s(std::max(matrix_s, vector_s), memory_s, spec_.launch_overhead_s);
  }

  /// Collective time: NVLink through NVSwitch inside a node, the per-GPU NIC across nodes; both
  /// are switched fabrics.
  [[nodiscard]] double comm_time_s(const comm_work& c) const noexcept {
    if (c.scope == link_scope::intra_node)
      return switched_collective_time_s(c, spec_.nvlink_bytes_per_s * spec_.eff.scale_up_link,
                                        spec_.nvlink_latency_s);
    return switched_collective_time_s(c, spec_.nic_bytes_per_s * spec_.eff.scale_out_link,
                                      spec_.nic_latency_s);
  }

  /// Time to move `bytes` between HBM and host memory over PCIe (either direction).
  [[nodiscard]] double host_transfer_time_s(double bytes) const noexcept {
    if (bytes <= 0.0)
      return 0.0;
    return spec_.pcie_latency_s + bytes / (spec_.pcie_bytes_per_s * spec_.eff.host_link);
  }

private:
  cuda_spec spec_;
};

} // namespace infercost
