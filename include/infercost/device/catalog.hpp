/// @file
/// The device catalog: datasheet numbers for the NVIDIA GPUs and Huawei Ascend NPUs infercost
/// models, each with its source. Peaks are **dense**: NVIDIA datasheets print tensor figures
/// with 2:4 sparsity (marked with an asterisk, "½ lower without"), halved here.
///
/// HBM capacities are taken as binary gigabytes: stacks are powers of two (H100 80 GB = 5 × 16 GiB
/// stacks; nvidia-smi reports 81,559 MiB usable).
///
/// Sources (referred to by tag below):
/// - [A100]  NVIDIA A100 Tensor Core GPU datasheet (r4, 2021); SXM 80GB column.
/// - [H100]  NVIDIA H100 Tensor Core GPU datasheet (2023); H100 SXM column.
/// - [H200]  NVIDIA H200 Tensor Core GPU datasheet (2024); MLPerf Inference v4.1 system file
///           NVIDIA/systems/H200-SXM-141GBx8_TRT_MaxQ.json ("H200 TGP 700W", "18x 4th Gen
///           NVLink, 900GB/s").
/// - [H20]   NVIDIA H20 product brief as listed at huggingface.co/hardware/h20 (96 GB, 148 TFLOPS,
///           400 W).
/// - [B200]  NVIDIA HGX B200 datasheet (2025): B200-SXM-180GB, 1000 W; MLPerf Inference v6.0
///           system file nebius_b200_n1.json.
/// - [B300]  NVIDIA HGX B300 datasheet (2025), 8-GPU board: FP4 144 | 108 PFLOPS (sparse | dense),
///           FP8 72, INT8 2 POPS, BF16 36, TF32 18 PFLOPS (sparse), FP32 600 TFLOPS; up to 2.3 TB
///           HBM3e; NVLink 5 1.8 TB/s per GPU; networking 1.6 TB/s (8 ConnectX-8, 800 Gb/s each).
///           HBM bandwidth 8 TB/s per GPU (NVIDIA Blackwell Ultra product page).
/// - [GB200] NVIDIA GB200 NVL72 datasheet (2024), 72-GPU rack: FP4 1,440 PFLOPS, FP8/FP6 720,
///           INT8 720 POPS, FP16/BF16 360, TF32 180 PFLOPS (all sparse), FP32 5,760 TFLOPS;
///           HBM3e 13.4 TB at 576 TB/s; NVLink 130 TB/s; NVLink-C2C 900 GB/s per superchip
///           (one Grace, two GPUs).
/// - [GB300] NVIDIA GB300 NVL72 datasheet (2025), 72-GPU rack: FP4 1,440 | 1,080 PFLOPS (sparse
///           | dense), FP8/FP6 720, INT8 24 POPS, FP16/BF16 360, TF32 180 PFLOPS (sparse),
///           FP32 6 PFLOPS; HBM3e 20 TB (288 GB per GPU) at 576 TB/s; NVLink 130 TB/s; one
///           ConnectX-8 (800 Gb/s) per GPU.
/// - [BWP]   Per-GPU board power of Blackwell parts, which the rack datasheets do not print:
///           B300 (HGX) 1,100 W, GB200 1,200 W, GB300 1,400 W, as reported in Verda's "NVIDIA
///           GB300 NVL72: GPU Architecture & Performance" (2025) per-GPU table.
/// - [DSV3]  DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §3.2.2: "NVLink
///           offers a bandwidth of 160 GB/s, roughly 3.2 times that of IB (50 GB/s)".
/// - [DSISCA] DeepSeek-AI, "Insights into DeepSeek-V3: Scaling Challenges and Reflections on
///           Hardware for AI Architectures", ISCA 2025, arXiv:2505.09343, §4.1: "the NVLink
///           bandwidth in H800 SXM nodes is reduced from 900 GB/s to 400 GB/s ... each node is
///           equipped with eight 400G Infiniband (IB) CX7 NICs".
/// - [A2]    Huawei Atlas 800T A2 / 800I A2 training and inference server datasheets: Ascend
///           910B2 376 TFLOPS FP16 / 99 FP32, 910B3 313 / 82, 910B4 280 / 75; 64 GB HBM2e at
///           1.6 TB/s (910B4: 32 GB at 800 GB/s); HCCS 8-NPU full mesh, 7 links, "392 GB/s";
///           one 200GE RoCE port per NPU; PCIe 4.0 x16 to the host; 400 W per NPU.
/// - [A3]    Huawei Atlas 800T A3 datasheet: Ascend 910C, two dies, 752 TFLOPS FP16, 198 FP32,
///           128 GB HBM at 2 × 1.6 TB/s, 7 HCCS links at 784 GB/s, 400GE RoCE per module.
/// - [DV]    H. Liao et al., "DaVinci: A Scalable Architecture for Neural Network Computing",
///           Hot Chips 31 (2019): Ascend 910 Cube 256 TFLOPS FP16 / 512 TOPS INT8 (INT8 = 2 ×
///           FP16, the ratio used for 910B/910C, whose INT8 figure is not in [A2]/[A3]).
/// - [A3N]   vLLM-Ascend v0.18.0, docs/source/tutorials/models/Qwen3-235B-A22B.md: "A3 has 8 NPUs
///           with dual-die design (16 chips total: `/dev/davinci[0-15]`)"; hardware "Atlas 800I
///           A3 (64GB × 16)", "Atlas 800I A2 (64GB × 8)": the runtime sees each 910C die as one
///           NPU of 64 GB.
/// - [CM384] P. Zuo et al., "Serving Large Language Models on Huawei CloudMatrix384",
///           arXiv:2506.12708 (2025), §3: 384 Ascend 910C (dual-die; 752 TFLOPS FP16/BF16,
///           128 GB HBM at 3.2 TB/s per package) and 192 Kunpeng CPUs in 48 nodes of 8 NPUs; the
///           UB plane is a non-blocking two-tier switched network giving each 910C 392 GB/s per
///           direction to any peer in the supernode; the RDMA (RoCE) plane gives each NPU
///           400 Gb/s per direction.
/// - [W8A8]  vLLM-Ascend v0.18.0, vllm_ascend/quantization/methods/w8a8_dynamic.py: the input of
///           each W8A8 GEMM is quantised per token (torch_npu.npu_dynamic_quant) and the INT32
///           output dequantised with the per-channel weight scale and the per-token scale
///           (npu_quant_matmul(..., pertoken_scale=...)).
/// - [PTOPA] hw-native-sys/pypto-lib issue #622 (2026), a measured paged-attention decode on a
///           910B (a2a3): batch 16, 40 query and 8 KV heads of 128, 4,096-token context, BF16;
///           CANN's paged-attention kernel at its best tiling reads 0.78 TB/s of HBM, at the
///           runtime's default tiling 0.58 TB/s.
/// - [DEEPEPA] sgl-project/sgl-kernel-npu README (commit f425bdf1), DeepEP-Ascend on an A3
///           SuperPOD (CloudMatrix384), 4,096 tokens per rank, hidden 7168, top-8, INT8
///           dispatch, BF16 combine, "normal" kernels at EP16: 107 GB/s dispatch, 103 GB/s
///           combine per rank (bytes = tokens × top-k × hidden × element size over the time).
/// - [NCCL]  NCCL src/graph/tuning.cc hardware latencies (NVLink ~0.6–3.4 µs per step) and
///           nccl-tests issue #333 (~3 µs small-message all-reduce on NVLink).
#pragma once

#include <array>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/device/ascend_npu.hpp"
#include "infercost/device/cuda_gpu.hpp"

namespace infercost {

namespace spec {
using units::gib;
using units::tera;
using units::us;
inline constexpr double giga = units::giga;

/// Latencies shared by every NVIDIA part. Launch: ~4–6 µs per kernel (Nsight Systems guide);
/// NVLink step: ~3 µs [NCCL]; InfiniBand step: ~10 µs (common rule of thumb, not a datasheet
/// figure); PCIe transfer setup: ~10 µs (assumption). All overridable through a custom spec.
inline constexpr double cuda_launch_s = 4.0 * us;
inline constexpr double nvlink_latency_s = 3.0 * us;
inline constexpr double ib_latency_s = 10.0 * us;
inline constexpr double pcie_latency_s = 10.0 * us;

/// Ascend: no published per-op dispatch figure; 10 µs assumed for aclnn single-op dispatch.
/// HCCS and RoCE step latencies assumed equal to NVLink and IB. Overridable.
inline constexpr double ascend_op_overhead_s = 10.0 * us;
inline constexpr double hccs_latency_s = 3.0 * us;
inline constexpr double roce_latency_s = 10.0 * us;

/// NVIDIA A100 SXM4 80GB [A100]: 312 TFLOPS BF16 dense, 156 TF32, 19.5 FP32, 624 TOPS INT8;
/// 80 GB HBM2e at 2,039 GB/s; NVLink3 600 GB/s bidirectional (300 per direction); PCIe Gen4 x16
/// (32 GB/s per direction); DGX A100 has one 200 Gb/s HDR NIC per GPU (25 GB/s); 400 W.
struct a100_sxm {
  static constexpr cuda_spec value{.name = "a100_sxm",
                                   .memory_bytes = 80 * gib,
                                   .memory_bytes_per_s = 2039 * giga,
                                   .fp32_flops = 19.5 * tera,
                                   .tf32_flops = 156 * tera,
                                   .bf16_flops = 312 * tera,
                                   .fp8_flops = 0.0,
                                   .int8_flops = 624 * tera,
                                   .fp4_flops = 0.0,
                                   .nvlink_bytes_per_s = 300 * giga,
                                   .gpus_per_node = 8,
                                   .nic_bytes_per_s = 25 * giga,
                                   .pcie_bytes_per_s = 32 * giga,
                                   .launch_overhead_s = cuda_launch_s,
                                   .nvlink_latency_s = nvlink_latency_s,
                                   .nic_latency_s = ib_latency_s,
                                   .pcie_latency_s = pcie_latency_s,
                                   .tdp_w = 400,
                                   .eff = {}};
};

/// NVIDIA H100 SXM5 80GB [H100]: 989 TFLOPS BF16 dense, 1,979 FP8, 1,979 TOPS INT8, 495 TF32,
/// 67 FP32; 80 GB HBM3 at 3.35 TB/s; NVLink4 900 GB/s bidirectional (450 per direction); PCIe
/// Gen5 x16 (64 GB/s per direction); one 400 Gb/s NDR NIC per GPU (50 GB/s); 700 W.
struct h100_sxm {
  static constexpr cuda_spec value{.name = "h100_sxm",
                                   .memory_bytes = 80 * gib,
                                   .memory_bytes_per_s = 3350 * giga,
                                   .fp32_flops = 67 * tera,
                                   .tf32_flops = 494.7 * tera,
                                   .bf16_flops = 989.4 * tera,
                                   .fp8_flops = 1978.9 * tera,
                                   .int8_flops = 1978.9 * tera,
                                   .fp4_flops = 0.0,
                                   .nvlink_bytes_per_s = 450 * giga,
                                   .gpus_per_node = 8,
                                   .nic_bytes_per_s = 50 * giga,
                                   .pcie_bytes_per_s = 64 * giga,
                                   .launch_overhead_s = cuda_launch_s,
                                   .nvlink_latency_s = nvlink_latency_s,
                                   .nic_latency_s = ib_latency_s,
                                   .pcie_latency_s = pcie_latency_s,
                                   .tdp_w = 700,
                                   .eff = {}};
};

/// NVIDIA H800 SXM: H100 compute and memory, NVLink cut to 400 GB/s bidirectional (200 per
/// direction) [DSISCA]; one 400 Gb/s CX7 IB NIC per GPU [DSISCA]. DeepSeek measures 160 GB/s
/// NVLink and 50 GB/s IB achieved [DSV3]: the scale-up efficiency 0.8 gives exactly 160 GB/s.
[[nodiscard]] constexpr cuda_spec make_h800_sxm(cuda_spec s) noexcept {
  s.name = "h800_sxm";
  s.nvlink_bytes_per_s = 200 * giga;
  return s;
}
struct h800_sxm {
  static constexpr cuda_spec value = make_h800_sxm(h100_sxm::value);
};

/// NVIDIA H20 [H20]: 148 TFLOPS BF16 dense, 296 FP8 and INT8, 74 TF32, 44 FP32; 96 GB HBM3 at
/// 4.0 TB/s; NVLink 900 GB/s bidirectional and PCIe Gen5 as on H100 (product brief; not in a
/// primary datasheet we could check); 400 W.
struct h20 {
  static constexpr cuda_spec value{.name = "h20",
                                   .memory_bytes = 96 * gib,
                                   .memory_bytes_per_s = 4000 * giga,
                                   .fp32_flops = 44 * tera,
                                   .tf32_flops = 74 * tera,
                                   .bf16_flops = 148 * tera,
                                   .fp8_flops = 296 * tera,
                                   .int8_flops = 296 * tera,
                                   .fp4_flops = 0.0,
                                   .nvlink_bytes_per_s = 450 * giga,
                                   .gpus_per_node = 8,
                                   .nic_bytes_per_s = 50 * giga,
                                   .pcie_bytes_per_s = 64 * giga,
                                   .launch_overhead_s = cuda_launch_s,
                                   .nvlink_latency_s = nvlink_latency_s,
                                   .nic_latency_s = ib_latency_s,
                                   .pcie_latency_s = pcie_latency_s,
                                   .tdp_w = 400,
                                   .eff = {}};
};

/// NVIDIA H200 SXM [H200]: H100 compute; 141 GB HBM3e at 4.8 TB/s; NVLink4 900 GB/s
/// bidirectional; PCIe Gen5; 400 Gb/s NIC per GPU; 700 W.
[[nodiscard]] constexpr cuda_spec make_h200_sxm(cuda_spec s) noexcept {
  s.name = "h200_sxm";
  s.memory_bytes = 141 * gib;
  s.memory_bytes_per_s = 4800 * giga;
  return s;
}
struct h200_sxm {
  static constexpr cuda_spec value = make_h200_sxm(h100_sxm::value);
};

/// NVIDIA B200 (HGX, 1,000 W) [B200]: 2,250 TFLOPS BF16 dense, 4,500 FP8 and INT8, 9,000 FP4,
/// 1,100 TF32, 80 FP32; 180 GB HBM3e at 8 TB/s; NVLink5 1.8 TB/s bidirectional (900 per
/// direction); PCIe Gen5; 400 Gb/s CX7 NIC per GPU.
struct b200 {
  static constexpr cuda_spec value{.name = "b200",
                                   .memory_bytes = 180 * gib,
                                   .memory_bytes_per_s = 8000 * giga,
                                   .fp32_flops = 80 * tera,
                                   .tf32_flops = 1100 * tera,
                                   .bf16_flops = 2250 * tera,
                                   .fp8_flops = 4500 * tera,
                                   .int8_flops = 4500 * tera,
                                   .fp4_flops = 9000 * tera,
                                   .nvlink_bytes_per_s = 900 * giga,
                                   .gpus_per_node = 8,
                                   .nic_bytes_per_s = 50 * giga,
                                   .pcie_bytes_per_s = 64 * giga,
                                   .launch_overhead_s = cuda_launch_s,
                                   .nvlink_latency_s = nvlink_latency_s,
                                   .nic_latency_s = ib_latency_s,
                                   .pcie_latency_s = pcie_latency_s,
                                   .tdp_w = 1000,
                                   .eff = {}};
};

/// NVIDIA B300 (HGX, Blackwell Ultra) [B300, BWP]: per GPU 13,500 TFLOPS FP4 dense (108 / 8),
/// 4,500 FP8, 2,250 BF16, 1,125 TF32, 75 FP32, INT8 125 TOPS (2,000 / 8 / 2: Blackwell Ultra
/// cut INT8; see cuda_gpu::peak_flops); 288 GB HBM3e (2.3 TB / 8; 8 stacks of 12-high 24 Gb
/// dies, 36 GiB each) at 8 TB/s; NVLink5 900 GB/s per direction; 800 Gb/s ConnectX-8 per GPU
/// (100 GB/s); host PCIe Gen5 x16 (64 GB/s: the x86 hosts of HGX B300 are Gen5); 1,100 W.
struct b300 {
  static constexpr cuda_spec value{.name = "b300",
                                   .memory_bytes = 288 * gib,
                                   .memory_bytes_per_s = 8000 * giga,
                                   .fp32_flops = 75 * tera,
                                   .tf32_flops = 1125 * tera,
                                   .bf16_flops = 2250 * tera,
                                   .fp8_flops = 4500 * tera,
                                   .int8_flops = 125 * tera,
                                   .fp4_flops = 13500 * tera,
                                   .nvlink_bytes_per_s = 900 * giga,
                                   .gpus_per_node = 8,
                                   .nic_bytes_per_s = 100 * giga,
                                   .pcie_bytes_per_s = 64 * giga,
                                   .launch_overhead_s = cuda_launch_s,
                                   .nvlink_latency_s = nvlink_latency_s,
                                   .nic_latency_s = ib_latency_s,
                                   .pcie_latency_s = pcie_latency_s,
                                   .tdp_w = 1100,
                                   .eff = {}};
};

/// Host link of a Grace-Blackwell GPU: NVLink-C2C, 900 GB/s both directions per superchip
/// [GB200], shared by its two GPUs: 225 GB/s per GPU per direction (an even split, assumed).
inline constexpr double grace_c2c_bytes_per_s = 900.0 / 2.0 / 2.0 * giga;

/// One GPU of a GB200 NVL72 rack [GB200, BWP]: rack figures / 72, sparse halved: 10,000 TFLOPS
/// FP4, 5,000 FP8 and INT8, 2,500 BF16, 1,250 TF32, 80 FP32; 186 GB HBM3e (13.4 TB / 72) at
/// 8 TB/s; NVLink5 1.8 TB/s (900 GB/s per direction) to all 72 GPUs of the rack, one scale-up
/// domain; 400 Gb/s ConnectX-7 per GPU (50 GB/s); NVLink-C2C to Grace; 1,200 W.
struct gb200_nvl72 {
  static constexpr cuda_spec value{.name = "gb200_nvl72",
                                   .memory_bytes = 186 * gib,
                                   .memory_bytes_per_s = 8000 * giga,
                                   .fp32_flops = 80 * tera,
                                   .tf32_flops = 1250 * tera,
                                   .bf16_flops = 2500 * tera,
                                   .fp8_flops = 5000 * tera,
                                   .int8_flops = 5000 * tera,
                                   .fp4_flops = 10000 * tera,
                                   .nvlink_bytes_per_s = 900 * giga,
                                   .gpus_per_node = 72,
                                   .nic_bytes_per_s = 50 * giga,
                                   .pcie_bytes_per_s = grace_c2c_bytes_per_s,
                                   .launch_overhead_s = cuda_launch_s,
                                   .nvlink_latency_s = nvlink_latency_s,
                                   .nic_latency_s = ib_latency_s,
                                   .pcie_latency_s = pcie_latency_s,
                                   .tdp_w = 1200,
                                   .eff = {}};
};

/// One GPU of a GB300 NVL72 rack [GB300, BWP]: 15,000 TFLOPS FP4 dense (1,080 PF / 72), 5,000
/// FP8, 2,500 BF16, 1,250 TF32, 83.3 FP32 (6 PF / 72), INT8 167 TOPS (24 POPS / 72 / 2); 288 GB
/// HBM3e at 8 TB/s; NVLink5 900 GB/s per direction across the 72-GPU rack; 800 Gb/s ConnectX-8
/// per GPU (100 GB/s); NVLink-C2C to Grace; 1,400 W.
struct gb300_nvl72 {
  static constexpr cuda_spec value{.name = "gb300_nvl72",
                                   .memory_bytes = 288 * gib,
                                   .memory_bytes_per_s = 8000 * giga,
                                   .fp32_flops = 6000.0 / 72.0 * tera,
                                   .tf32_flops = 1250 * tera,
                                   .bf16_flops = 2500 * tera,
                                   .fp8_flops = 5000 * tera,
                                   .int8_flops = 24000.0 / 72.0 / 2.0 * tera,
                                   .fp4_flops = 15000 * tera,
                                   .nvlink_bytes_per_s = 900 * giga,
                                   .gpus_per_node = 72,
                                   .nic_bytes_per_s = 100 * giga,
                                   .pcie_bytes_per_s = grace_c2c_bytes_per_s,
                                   .launch_overhead_s = cuda_launch_s,
                                   .nvlink_latency_s = nvlink_latency_s,
                                   .nic_latency_s = ib_latency_s,
                                   .pcie_latency_s = pcie_latency_s,
                                   .tdp_w = 1400,
                                   .eff = {}};
};

/// Vector-unit FP16 rate of a 910B-class die, which Huawei does not publish: AIV cores × 1.8 GHz
/// × 128 FP16 lanes × 2 (FMA). 910B2 has 48 AIV cores, 910B3/B4 have 40 (CANN tiling data:
/// "aicNum 20, aivNum 40, socVersion Ascend910B3"). An estimate; override after calibration.
inline constexpr double ascend_vector_flops(int aiv_cores) noexcept {
  return aiv_cores * 1.8e9 * 128.0 * 2.0;
}

/// Measured efficiencies of 910B/910C-class dies (the other factors keep the defaults of
/// efficiency.hpp, which were checked on NVIDIA parts): attention reads HBM at 0.78 TB/s of the
/// 1.6 TB/s a die is rated for [PTOPA, A2], 0.49. The runtime-die entries (atlas_800_a3,
/// cloudmatrix384) carry it; the datasheet entries (ascend_910b2/b3/b4, ascend_910c) keep the
/// defaults: `set_efficiencies(spec::ascend_910_efficiency)` gives them the measured rate.
inline constexpr efficiency ascend_910_efficiency{
    .gemm_compute = efficiency{}.gemm_compute,
    .gemm_memory = efficiency{}.gemm_memory,
    .attention_compute = efficiency{}.attention_compute,
    .attention_memory = 0.78 / 1.6,
    .elementwise_compute = efficiency{}.elementwise_compute,
    .elementwise_memory = efficiency{}.elementwise_memory,
    .scale_up_link = efficiency{}.scale_up_link,
    .scale_out_link = efficiency{}.scale_out_link,
    .host_link = efficiency{}.host_link};

/// On the A3 UB/HCCS switches an all-to-all reaches about 105 GB/s per die at EP16 [DEEPEPA],
/// which, as the share (n − 1)/n of the bytes that leaves the die, is 105 × 15/16 ≈ 98 GB/s of
/// its 196 GB/s: scale_up_link 0.5.
[[nodiscard]] constexpr efficiency make_ascend_a3_efficiency(efficiency e) noexcept {
  e.scale_up_link = 0.5;
  return e;
}
inline constexpr efficiency ascend_a3_efficiency = make_ascend_a3_efficiency(ascend_910_efficiency);

/// Vector FLOPs per Cube FLOP of an INT8 (W8A8) GEMM on Ascend [W8A8], an estimate: an M×K input
/// times K×N INT8 weights quantises its input per token (|x|, row max, scale, round-and-cast:
/// 4 Vector ops per input element, M·K) and dequantises its INT32 output (cast, per-channel and
/// per-token scales, cast to BF16: 4 ops per output element, M·N), against 2·M·N·K Cube FLOPs:
/// 4/(2N) + 4/(2K). A GEMM's N and K are not part of its work, so both are taken as 4,096, the
/// hidden size of Qwen3-235B-A22B (its config.json): 4/4096 = 1/1024. W4A8 is given the same
/// ratio (its unpacking of 4-bit weights is not modelled separately). Override per spec.
inline constexpr double ascend_w8a8_dequant_vector_per_cube_flop = 4.0 / 4096.0;

/// HCCS per link per direction: [A2] prints 392 GB/s over 7 links for 910B; read as both
/// directions, 196 GB/s per direction per NPU, 28 GB/s per link.
inline constexpr double hccs_910b_link_bytes_per_s = 392.0 / 2.0 / 7.0 * giga;

/// Ascend 910B2 [A2]: 376 TFLOPS FP16, 99 FP32 (HF32), INT8 2 × FP16 [DV]; 64 GB HBM2e at
/// 1.6 TB/s; HCCS 7 links; 200 GbE RoCE (25 GB/s); PCIe 4.0 x16 (32 GB/s); 400 W.
struct ascend_910b2 {
  static constexpr ascend_spec value{.name = "ascend_910b2",
                                     .memory_bytes = 64 * gib,
                                     .memory_bytes_per_s = 1600 * giga,
                                     .cube_fp16_flops = 376 * tera,
                                     .cube_int8_flops = 752 * tera,
                                     .cube_fp32_flops = 99 * tera,
                                     .vector_flops = ascend_vector_flops(48),
                                     .dequant_vector_flops_per_cube_flop =
                                         ascend_w8a8_dequant_vector_per_cube_flop,
                                     .hccs_link_bytes_per_s = hccs_910b_link_bytes_per_s,
                                     .hccs_links = 7,
                                     .npus_per_node = 8,
                                     .roce_bytes_per_s = 25 * giga,
                                     .pcie_bytes_per_s = 32 * giga,
                                     .op_overhead_s = ascend_op_overhead_s,
                                     .hccs_latency_s = hccs_latency_s,
                                     .roce_latency_s = roce_latency_s,
                                     .pcie_latency_s = pcie_latency_s,
                                     .tdp_w = 400,
                                     .eff = {}};
};

/// Ascend 910B3 [A2]: 313 TFLOPS FP16, 82 FP32; otherwise as 910B2 with 40 AIV cores.
[[nodiscard]] constexpr ascend_spec make_ascend_910b3(ascend_spec s) noexcept {
  s.name = "ascend_910b3";
  s.cube_fp16_flops = 313 * tera;
  s.cube_int8_flops = 626 * tera;
  s.cube_fp32_flops = 82 * tera;
  s.vector_flops = ascend_vector_flops(40);
  return s;
}
struct ascend_910b3 {
  static constexpr ascend_spec value = make_ascend_910b3(ascend_910b2::value);
};

/// Ascend 910B4 [A2, Atlas 800I A2]: 280 TFLOPS FP16, 75 FP32; 32 GB HBM2e at 800 GB/s.
[[nodiscard]] constexpr ascend_spec make_ascend_910b4(ascend_spec s) noexcept {
  s.name = "ascend_910b4";
  s.memory_bytes = 32 * gib;
  s.memory_bytes_per_s = 800 * giga;
  s.cube_fp16_flops = 280 * tera;
  s.cube_int8_flops = 560 * tera;
  s.cube_fp32_flops = 75 * tera;
  return s;
}
struct ascend_910b4 {
  static constexpr ascend_spec value = make_ascend_910b4(ascend_910b3::value);
};

/// Ascend 910C as one device [A3], the package as the datasheet prints it (runtimes see its two
/// dies as two NPUs: atlas_800_a3): two 910B-class dies, 752 TFLOPS FP16, 198 FP32, INT8 2 × FP16
/// [DV]; 128 GB HBM at 3.2 TB/s; 7 links at 784 GB/s (both directions: 56 GB/s per link per
/// direction); 400 GbE RoCE (50 GB/s); PCIe 5.0 x16 (64 GB/s, assumed as on the A3 host). Power is
/// not in [A3]: 2 × 400 W dies assumed, 800 W.
struct ascend_910c {
  static constexpr ascend_spec value{.name = "ascend_910c",
                                     .memory_bytes = 128 * gib,
                                     .memory_bytes_per_s = 3200 * giga,
                                     .cube_fp16_flops = 752 * tera,
                                     .cube_int8_flops = 1504 * tera,
                                     .cube_fp32_flops = 198 * tera,
                                     .vector_flops = 2 * ascend_vector_flops(48),
                                     .dequant_vector_flops_per_cube_flop =
                                         ascend_w8a8_dequant_vector_per_cube_flop,
                                     .hccs_link_bytes_per_s = 784.0 / 2.0 / 7.0 * giga,
                                     .hccs_links = 7,
                                     .npus_per_node = 8,
                                     .roce_bytes_per_s = 50 * giga,
                                     .pcie_bytes_per_s = 64 * giga,
                                     .op_overhead_s = ascend_op_overhead_s,
                                     .hccs_latency_s = hccs_latency_s,
                                     .roce_latency_s = roce_latency_s,
                                     .pcie_latency_s = pcie_latency_s,
                                     .tdp_w = 800,
                                     .eff = {}};
};
/// One die of an Ascend 910C, as runtimes see it (one `/dev/davinci` device), in an Atlas 800 A3
/// node of 16 dies [A3N]: half a package [A3, CM384]: 376 TFLOPS FP16/BF16, INT8 2 × FP16 [DV],
/// 99 FP32; 64 GB HBM at 1.6 TB/s [A3N, CM384]; scale-up through the node's UB/HCCS switches,
/// 196 GB/s per direction to any peer (the package's 392 GB/s [CM384] over its two dies; 7 × 28
/// GB/s, as [A3]'s 7 links at 784 GB/s both ways); one 200 Gb/s share of the package's 400 GbE
/// RoCE (25 GB/s) [A3, CM384]; PCIe 5.0 x16 shared by two dies (32 GB/s, assumed); 400 W (half
/// of the 800 W assumed for the package); 48 AIV cores as 910B2 (an estimate, see
/// ascend_vector_flops). Traffic between the two dies of one package is timed at the UB rate.
/// Compute, memory, vector cores, RoCE share, PCIe and power are the 910B2 die's; the node, its
/// switched UB/HCCS scale-up (the same 7 × 28 GB/s per direction) and the measured efficiencies
/// are the A3's.
[[nodiscard]] constexpr ascend_spec make_atlas_800_a3(ascend_spec s) noexcept {
  s.name = "atlas_800_a3";
  s.npus_per_node = 16;
  s.switched_scale_up = true;
  s.eff = ascend_a3_efficiency;
  return s;
}
struct atlas_800_a3 {
  static constexpr ascend_spec value = make_atlas_800_a3(ascend_910b2::value);
};

/// One 910C die of a CloudMatrix384 supernode [CM384]: the atlas_800_a3 die with the whole
/// supernode, 384 packages = 768 dies, as one scale-up domain on the non-blocking UB network
/// (196 GB/s per die per direction to any of the 768); RoCE between supernodes, 400 Gb/s per
/// package. Step latency as HCCS (3 µs per step, assumed).
[[nodiscard]] constexpr ascend_spec make_cloudmatrix384(ascend_spec s) noexcept {
  s.name = "cloudmatrix384";
  s.npus_per_node = 768;
  return s;
}
struct cloudmatrix384 {
  static constexpr ascend_spec value = make_cloudmatrix384(atlas_800_a3::value);
};
} // namespace spec

using a100_sxm = cuda_gpu<spec::a100_sxm>;
using h100_sxm = cuda_gpu<spec::h100_sxm>;
using h800_sxm = cuda_gpu<spec::h800_sxm>;
using h20 = cuda_gpu<spec::h20>;
using h200_sxm = cuda_gpu<spec::h200_sxm>;
using b200 = cuda_gpu<spec::b200>;
using b300 = cuda_gpu<spec::b300>;
using gb200_nvl72 = cuda_gpu<spec::gb200_nvl72>;
using gb300_nvl72 = cuda_gpu<spec::gb300_nvl72>;
using ascend_910b2 = ascend_npu<spec::ascend_910b2>;
using ascend_910b3 = ascend_npu<spec::ascend_910b3>;
using ascend_910b4 = ascend_npu<spec::ascend_910b4>;
/// The 910B most quoted in serving studies: the 376 TFLOPS 910B2 bin.
using ascend_910b = ascend_910b2;
using ascend_910c = ascend_npu<spec::ascend_910c>;
/// One 910C die in an Atlas 800 A3 node (16 per node); alias name "ascend_910c_die".
using atlas_800_a3 = ascend_npu<spec::atlas_800_a3>;
/// One 910C die in a CloudMatrix384 supernode (768 per scale-up domain).
using cloudmatrix384 = ascend_npu<spec::cloudmatrix384>;

/// The default device of `basic_xxx` aliases.
using default_device = h100_sxm;

/// Every catalog device type, in display order.
using catalog_devices = std::tuple<a100_sxm, h100_sxm, h800_sxm, h20, h200_sxm, b200, ascend_910b2,
                                   ascend_910b3, ascend_910b4, ascend_910c, b300, gb200_nvl72,
                                   gb300_nvl72, atlas_800_a3, cloudmatrix384>;

namespace detail {
/// The names of the device types `D...`, in order. (A pack expansion rather than std::apply over
/// a tuple of devices: it instantiates no std::tuple, which keeps this header cheap to parse.)
template <class... D>
[[nodiscard]] std::vector<std::string_view> names_of(std::type_identity<std::tuple<D...>>) {
  // Each name() views a string literal in the spec, so it outlives the temporary device.
  return {D{}.name()...};
}
} // namespace detail

/// Other names of catalog entries, and the entry each names: "ascend_910b" (the 910B2 bin);
/// "atlas_800t_a2" and "atlas_800i_a2", the 8-NPU Atlas A2 servers (HCCS mesh in the node, RoCE
/// between nodes) of 64 GB 910B NPUs [A2, A3N]; "ascend_910c_die", one 910C die of an A3 node.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 4> device_aliases{{
    {"ascend_910b", "ascend_910b2"},
    {"atlas_800t_a2", "ascend_910b2"},
    {"atlas_800i_a2", "ascend_910b2"},
    {"ascend_910c_die", "atlas_800_a3"},
}};

/// The catalog entry `name` names: itself, or the entry of an alias (device_aliases).
[[nodiscard]] constexpr std::string_view canonical_device_name(std::string_view name) noexcept {
  for (const auto& [alias, entry] : device_aliases)
    if (alias == name)
      return entry;
  return name;
}

/// Names accepted by visit_device: the catalog names, then the aliases (device_aliases).
[[nodiscard]] inline std::vector<std::string_view> device_names() {
  std::vector<std::string_view> names = detail::names_of(std::type_identity<catalog_devices>{});
  for (const auto& a : device_aliases)
    names.push_back(a.first);
  return names;
}

/// Calls `f(device)` with a default-constructed device of the named catalog type and returns its
/// result. @throws config_error listing the valid names when `name` is unknown.
template <class F> decltype(auto) visit_device(std::string_view name, F&& f) {
  const std::string_view entry = canonical_device_name(name);
  if (entry == "ascend_910b2")
    return f(ascend_910b2{});
  if (entry == "a100_sxm")
    return f(a100_sxm{});
  if (entry == "h100_sxm")
    return f(h100_sxm{});
  if (entry == "h800_sxm")
    return f(h800_sxm{});
  if (entry == "h20")
    return f(h20{});
  if (entry == "h200_sxm")
    return f(h200_sxm{});
  if (entry == "b200")
    return f(b200{});
  if (entry == "ascend_910b3")
    return f(ascend_910b3{});
  if (entry == "ascend_910b4")
    return f(ascend_910b4{});
  if (entry == "ascend_910c")
    return f(ascend_910c{});
  if (entry == "b300")
    return f(b300{});
  if (entry == "gb200_nvl72")
    return f(gb200_nvl72{});
  if (entry == "gb300_nvl72")
    return f(gb300_nvl72{});
  if (entry == "atlas_800_a3")
    return f(atlas_800_a3{});
  if (entry == "cloudmatrix384")
    return f(cloudmatrix384{});
  std::string valid;
  for (auto n : device_names())
    valid += (valid.empty() ? "" : ", ") + std::string(n);
  throw config_error("device::catalog", "name",
                     fmt::format("('{}') is not a known device; valid: {}", name, valid));
}

} // namespace infercost
