/// @file
/// The `ascend_npu` family: Huawei Ascend NPUs (Da Vinci architecture). A Cube unit for matrix
/// work at FP16/BF16 and INT8, a separate Vector unit for element-wise work, HCCS inside a node
/// (a full mesh on Atlas A2: each pair of NPUs has its own link, point-to-point gets one link,
/// collectives use all links at once; switched on Atlas A3 and CloudMatrix384, where the UB
/// switches give every die its full bandwidth to any peer), RoCE for scale-out.
///
/// Precision as the chip has it. 910B and 910C have no FP8 (or FP4) Cube units: asking for FP8
/// work is a config_error (`supports`, `require_precision`), never a silent fallback. Ascend
/// serves quantised models as W8A8 (INT8 weights, activations quantised to INT8 per token, INT8
/// matrix math on the Cube) or W4A8 (4-bit weights, same INT8 matrix math), and the
/// (de)quantisation runs on the Vector units: an INT8 or INT4 GEMM adds
/// `dequant_vector_flops_per_cube_flop` Vector FLOPs per Cube FLOP (see ascend_spec), serial with
/// its Cube work like every Vector phase. `native_weight_precision()` (int8) is what these parts
/// serve large models in.
///
/// Cube and Vector are separate cores that hand data over through on-chip buffers and L2
/// (Liao et al., "Ascend: a Scalable and Unified Architecture for Ubiquitous Deep Neural Network
/// Computing", HPCA 2021; 910B splits each AI Core into one AIC and two AIV cores), so an op's
/// matrix and vector phases are modelled as serial, not overlapped as on a GPU.
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

/// Datasheet numbers of one Ascend NPU. Peaks are dense.
struct ascend_spec {
  std::string_view name;
  double memory_bytes = 0.0;       ///< HBM capacity
  double memory_bytes_per_s = 0.0; ///< HBM bandwidth
  double cube_fp16_flops = 0.0;    ///< Cube FP16/BF16
  double cube_int8_flops = 0.0;    ///< Cube INT8
  double cube_fp32_flops = 0.0;    ///< Cube FP32 (HF32), as the datasheet prints "FP32"
  double vector_flops = 0.0;       ///< Vector unit FP16
  /// Vector FLOPs per Cube FLOP of an INT8 (W8A8) or INT4 (W4A8) GEMM: quantising its input
  /// per token and dequantising its INT32 output (see ascend_w8a8_dequant_vector_per_cube_flop).
  double dequant_vector_flops_per_cube_flop = 0.0;
  double hccs_link_bytes_per_s = 0.0; ///< one HCCS peer link, per direction
  int hccs_links = 7;                 ///< peer links per NPU (full mesh of hccs_links + 1 NPUs)
  int npus_per_node = 8;              ///< NPUs in one HCCS domain
  /// Scale-up through switches (Atlas A3's and CloudMatrix384's UB switches): every NPU reaches
  /// any peer at hccs_links × hccs_link_bytes_per_s. False: HCCS full mesh (Atlas A2).
  bool switched_scale_up = false;
  double roce_bytes_per_s = 0.0; ///< scale-out RoCE per NPU, per direction
  double pcie_bytes_per_s = 0.0; ///< PCIe host link, per direction
  double op_overhead_s = 0.0;    ///< fixed cost per op (task dispatch)
  double hccs_latency_s = 0.0;   ///< per collective step over HCCS
  double roce_latency_s = 0.0;   ///< per collective step over RoCE
  double pcie_latency_s = 0.0;   ///< per host transfer
  double tdp_w = 0.0;            ///< module power
  efficiency eff{};              ///< default efficiency factors for this chip

  /// @throws config_error naming the first field that is zero, negative or not finite.
  void validate() const {
    constexpr std::string_view c = "device::ascend_npu";
    check_positive(c, "memory_bytes", memory_bytes);
    check_positive(c, "memory_bytes_per_s", memory_bytes_per_s);
    check_positive(c, "cube_fp16_flops", cube_fp16_flops);
    check_positive(c, "cube_int8_flops", cube_int8_flops);
    check_positive(c, "cube_fp32_flops", cube_fp32_flops);
    check_positive(c, "vector_flops", vector_flops);
    check_non_negative(c, "dequant_vector_flops_per_cube_flop", dequant_vector_flops_per_cube_flop);
    check_positive(c, "hccs_link_bytes_per_s", hccs_link_bytes_per_s);
    check_positive(c, "hccs_links", hccs_links);
    check_positive(c, "npus_per_node", npus_per_node);
    check_positive(c, "roce_bytes_per_s", roce_bytes_per_s);
    check_positive(c, "pcie_bytes_per_s", pcie_bytes_per_s);
    check_non_negative(c, "op_overhead_s", op_overhead_s);
    check_non_negative(c, "hccs_latency_s", hccs_latency_s);
    check_non_negative(c, "roce_latency_s", roce_latency_s);
    check_non_negative(c, "pcie_latency_s", pcie_latency_s);
    check_positive(c, "tdp_w", tdp_w);
    eff.validate(c);
  }
};

/// A cost model for one Ascend NPU. `Spec::value` is its datasheet (an `ascend_spec`).
/// `ascend_npu<>` (Spec void) has no datasheet default: its numbers are always given at run
/// time (see any_device).
template <class Spec> class ascend_npu {
public:
  static constexpr std::string_view family_name = "ascend_npu";
  using spec_type = ascend_spec;

  ascend_npu() requires(!std::is_void_v<Spec>) : ascend_npu(Spec::value) {}
  /// @throws config_error.
  explicit ascend_npu(const ascend_spec& spec) : spec_(spec) { spec_.validate(); }

  [[nodiscard]] const ascend_spec& spec() const noexcept { return spec_; }
  [[nodiscard]] std::string_view name() const noexcept { return spec_.name; }
  [[nodiscard]] std::string_view family() const noexcept { return family_name; }
  [[nodiscard]] const efficiency& efficiencies() const noexcept { return spec_.eff; }
  /// Replaces the efficiency factors. @throws config_error if one is outside (0, 1].
  ascend_npu& set_efficiencies(const efficiency& e) {
    e.validate("device::ascend_npu");
    spec_.eff = e;
    return *this;
  }

  /// Replaces the number of devices in one scale-up domain (a larger NVLink or HCCS domain).
  /// @throws config_error if it is < 1.
  ascend_npu& set_devices_per_node(int n) {
    check_positive("device::ascend_npu", "npus_per_node", n);
    spec_.npus_per_node = n;
    return *this;
  }

  [[nodiscard]] double memory_bytes() const noexcept { return spec_.memory_bytes; }
  [[nodiscard]] double memory_bytes_per_s() const noexcept { return spec_.memory_bytes_per_s; }
  [[nodiscard]] int devices_per_node() const noexcept { return spec_.npus_per_node; }
  /// Aggregate HCCS / UB bandwidth per NPU per direction (all links).
  [[nodiscard]] double scale_up_bytes_per_s() const noexcept {
    return spec_.hccs_link_bytes_per_s * spec_.hccs_links;
  }
  [[nodiscard]] double scale_out_bytes_per_s() const noexcept { return spec_.roce_bytes_per_s; }
  [[nodiscard]] double host_bytes_per_s() const noexcept { return spec_.pcie_bytes_per_s; }
  [[nodiscard]] double tdp_w() const noexcept { return spec_.tdp_w; }
  [[nodiscard]] double vector_flops() const noexcept { return spec_.vector_flops; }

  /// True when the Cube runs matrix work at `p`: FP16/BF16, INT8 (W8A8), INT4 (W4A8, at the
  /// INT8 rate) and FP32/TF32 (HF32). No FP8 or FP4 units on 910B/910C.
  [[nodiscard]] constexpr bool supports(precision p) const noexcept {
    return p != precision::fp8 && p != precision::fp4;
  }
  /// The weight precision these parts serve large models in: W8A8 INT8 (vLLM-Ascend
  /// `--quantization ascend` checkpoints such as Qwen3-235B-A22B-W8A8; CloudMatrix-Infer's INT8
  /// DeepSeek-R1, Zuo et al., arXiv:2506.12708).
  [[nodiscard]] static constexpr precision native_weight_precision() noexcept {
    return precision::int8;
  }

  /// Cube peak for work at precision p: FP16/BF16 and INT8 are native; INT4 (W4A8) runs at the
  /// INT8 rate; FP32/TF32 at the datasheet FP32 (HF32) rate.
  /// @throws config_error for FP8 or FP4, which these parts cannot run (see supports).
  [[nodiscard]] double peak_flops(precision p) const {
    switch (p) {
    case precision::bf16:
    case precision::fp16:
      return spec_.cube_fp16_flops;
    case precision::int8:
    case precision::int4:
      return spec_.cube_int8_flops;
    case precision::fp32:
    case precision::tf32:
      return spec_.cube_fp32_flops;
    case precision::fp8:
    case precision::fp4:
      break;
    }
    require_precision(*this, "device::ascend_npu", "prec", p);
    return spec_.cube_fp16_flops;
  }

  /// Vector FLOPs an op adds to quantise and dequantise around its integer GEMM: w.flops ×
  /// dequant_vector_flops_per_cube_flop for an INT8 or INT4 GEMM, else 0.
  [[nodiscard]] double dequant_vector_flops(const op_work& w) const noexcept {
    const bool quantised = w.prec == precision::int8 || w.prec == precision::int4;
    return quantised && w.kind == op_kind::gemm ? w.flops * spec_.dequant_vector_flops_per_cube_flop
                                                : 0.0;
  }

  /// Roofline time of one op: Cube time plus Vector time (serial units; the Vector work includes
  /// an integer GEMM's (de)quantisation), max with memory time, plus the dispatch overhead.
  /// @throws config_error for FP8 or FP4 work.
  [[nodiscard]] double op_time_s(const op_work& w) const {
    const efficiency& e = spec_.eff;
    const double cube_s = w.flops / (peak_flops(w.prec) * e.compute(w.kind));
    const double vector_s =
        (w.vector_flops + dequant_vector_flops(w)) / (spec_.vector_flops * e.elementwise_compute);
    const double memory_s = w.bytes() / (spec_.memory_bytes_per_s * e.memory(w.kind));
    return roofline_time_s(cube_s + vector_s, memory_s, spec_.op_overhead_s);
  }

  /// Collective time: HCCS full mesh inside a node (or the UB switches with switched_scale_up),
  /// the per-NPU RoCE NIC (switched) across nodes.
  [[nodiscard]] double comm_time_s(const comm_work& c) const noexcept {
    if (c.scope == link_scope::intra_node) {
      if (spec_.switched_scale_up)
        return switched_collective_time_s(c, scale_up_bytes_per_s() * spec_.eff.scale_up_link,
                                          spec_.hccs_latency_s);
      return mesh_collective_time_s(c, spec_.hccs_link_bytes_per_s * spec_.eff.scale_up_link,
                                    spec_.hccs_links, spec_.hccs_latency_s);
    }
    return switched_collective_time_s(c, spec_.roce_bytes_per_s * spec_.eff.scale_out_link,
                                      spec_.roce_latency_s);
  }

  /// Time to move `bytes` between HBM and host memory over PCIe (either direction).
  [[nodiscard]] double host_transfer_time_s(double bytes) const noexcept {
    if (bytes <= 0.0)
      return 0.0;
    return spec_.pcie_latency_s + bytes / (spec_.pcie_bytes_per_s * spec_.eff.host_link);
  }

private:
  ascend_spec spec_;
};

} // namespace infercost
