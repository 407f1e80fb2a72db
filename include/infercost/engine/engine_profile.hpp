/// @file
/// `engine::engine_profile`: what a serving engine adds to the roofline time of a forward pass.
/// The device (device/cuda_gpu.hpp, device/ascend_npu.hpp) times each op's work at its peaks and
/// efficiencies, plus one launch per op; a real engine also spends host time on every step
/// (scheduling, preparing inputs, sampling, detokenisation, launching the step) and, when a step
/// is not captured in a CUDA graph, issues every kernel of every layer from the host, so a layer
/// cannot finish faster than the host can launch its kernels.
///
/// Terms, each a named, overridable number:
/// - `decode_step_s`: host time a decode-only step leaves on the device's critical path. Decode
///   steps replay a captured CUDA graph; what remains exposed is what the engine cannot run
///   ahead of the device: the graph launch, the sampler and the hand-off of sampled tokens.
///   Engines that schedule step n+1 while the device runs step n (TensorRT-LLM's overlap
///   scheduler, SGLang's zero-overhead scheduler, vLLM's async scheduling) hide the rest.
/// - `prefill_step_s`: the same for a step that carries prefill tokens (a prefill or a mixed
///   prefill + decode step), which runs eagerly: building the attention metadata of the new
///   chunks, allocating KV blocks, prefix matching.
/// - `launch_s` × `launches_per_layer`: the launch floor of an eager (not graph-captured) step:
///   one layer of one micro-batch takes at least launches_per_layer · launch_s, the host time to
///   issue its kernels. Decode-only steps are graph-captured and have no floor.
/// - `launches_per_layer` is also what the device runs, graph or not: engine/step_cost.hpp times
///   a layer as a few ops (attention, projections, element-wise, FFN or router and experts, the
///   collectives), each with the device's fixed per-op overhead (its launch and pipeline
///   fill/drain, device/catalog.hpp), and the layer's other kernels (norms, rotary, KV-cache
///   writes, activation quantisation, the separate Q/K/V and O GEMMs) each add that overhead
///   too: (launches_per_layer − timed ops) × the device's per-op overhead per layer and
///   micro-batch, the breakdown's `other_kernels_s`. This is why a small model's decode step is
///   slower than its bytes: 32 layers × ~10 untimed kernels × 4 µs is 1.3 ms beside Llama-3.1-8B's
///   ~5 ms of weight reads on an H100. The roofline alone (`profiles::none()`) has none.
///
/// - `request_s`: time a request spends in the engine's front end before its scheduler sees it:
///   the HTTP request, tokenisation, routing to a worker. It adds to every request's TTFT and
///   end-to-end latency and occupies no device (a closed-loop client waits it out too).
///   [AIC]'s vLLM backend adds a per-request constant to TTFT for the same reason.
///
/// - `oneshot_allreduce_bytes`: the engine's own all-reduce for tensor parallelism inside a node.
///   For buffers up to this size it runs one shot: every device reads its peers' buffers
///   directly over NVLink and reduces them, one step instead of the ring's 2(n − 1); timed as
///   the device's all-to-all of n · S bytes (each device takes in (n − 1) · S at once). Larger
///   buffers, and all-reduces across nodes, take the device's ring all-reduce. 0: always the
///   ring. The presets set 0, although each engine does run one-shot all-reduces (the sizes in
///   their comments): timed with the device's NVLink step latency alone, a one-shot all-reduce
///   is faster than these kernels are, and tensor-parallel decode came out 20% faster than the
///   aiconfigurator runs measure; until a one-shot latency is fitted, the ring stands in for it.
///
/// - `ep_comm_unit_share`: the share of a device's compute units (SMs) that the expert-parallel
///   all-to-all kernels hold while two or more micro-batches overlap them with computation in a
///   step with prefill. DeepEP's normal (high-throughput) kernels, which prefill runs, move data
///   with SMs of their own: [DEEPEP] deep_ep/buffer.py `Buffer.num_sms = 20` by default, and
///   [DSPROF] DeepSeek's own prefill profile splits an H800's 132 SMs into 108 for computation and
///   24 for communication. [SGLTBO] SGLang's two-batch overlap caps DeepGEMM at the device's SMs
///   minus DeepEP's in prefill (python/sglang/srt/operations_strategy.py, `deep_gemm_num_sms =
///   total_num_sms - DeepEPConfig.get_instance().num_sms`) and leaves it uncapped in decode, whose
///   low-latency kernels hold no SM while data moves (DeepEP README: "hook-based
///   communication-computation overlapping method that does not occupy any SM resource"). So
///   in such a step every computation of an MoE layer takes 1 / (1 − share) of its roofline time
///   (engine/step_cost.hpp; the breakdown's `comm_unit_s`). Decode-only steps, steps without
///   micro-batch overlap and layers without an all-to-all are unaffected. The share is of the
///   device the preset was read for (132 SMs on H100, H800 and H200); on another part scale it
///   to that part's SM count.
///
/// - `expert_gemm_efficiency`: the share of the device's GEMM compute rate that the engine's
///   routed-expert kernels reach: a layer's routed experts run their matrix FLOPs at the
///   device's GEMM rate × this, in every step and on every MoE layout (EP, TP and TP × EP),
///   while their weight and activation traffic is timed as any GEMM's. So it slows the experts
///   where they are compute-bound (long prefills) and leaves memory-bound decode steps alone. A
///   dense GEMM is one large matrix product; the routed experts are a grouped GEMM of many small
///   ones, one per expert with the tokens routed to it, whose M is padded to the kernel's tile:
///   [VLLMMOE] vLLM's and SGLang's Triton `fused_moe` pads the tokens of every expert to a
///   multiple of the kernel's M block (`moe_align_block_size`) and takes its tiles from tables
///   tuned per expert shape and device; [DGEMM] DeepGEMM's contiguous (prefill) layout aligns
///   each expert's segment to the M block size; TensorRT-LLM runs CUTLASS grouped GEMMs. How far
///   these fall behind a dense GEMM of the same work depends on the kernel, the shapes and the
///   quantisation, and no single published figure covers them: the presets take 1 (the
///   roofline's own efficiency) and `calibrate --fit-expert-gemm` fits it, per device and
///   engine, on the rows of MoE models. The shipped fit (engine/calibration.hpp) finds 0.12 to
///   0.51, far below what grouped-GEMM kernels reach against a dense GEMM: fitted, the term also
///   carries whatever else makes MoE prefill slower than its FLOPs (expert load imbalance under
///   EP among it).
///
/// A step then takes roofline(step) + (launch-floor excess) + decode_step_s or prefill_step_s
/// (engine/step_cost.hpp adds them; its breakdown reports them as `host_overhead_s` and
/// `launch_floor_s`). `profiles::none()` (all zero) is the roofline alone, the default.
///
/// The presets are starting points, read from public descriptions of each engine, for a
/// calibration to fit; they are not measurements of any deployment:
/// - [AIC] ai-dynamo/aiconfigurator at commit 095f58a51c4ca8e61b66ec108d86f223f8d559ce models
///   each op from measured per-kernel tables (decode ops measured inside CUDA graphs) and adds
///   no per-step host term for decode; its engine-specific corrections are per request, not per
///   step: aic-core/src/aiconfigurator_core/sdk/backends/vllm_backend.py
///   `_prefill_dispatch_overhead_ms` adds 0.8 ms per layer to each request's TTFT ("CPU-side
///   dispatch overhead scales with layer count"), and base_backend.py `_ttft_queuing_factor`
///   scales TTFT with concurrency. Both belong to a request's life (the serving layer), not to
///   one step's time, and are not terms here.
/// - [TRTOVL] TensorRT-LLM documentation, "Overlap Scheduler" (features/overlap-scheduler):
///   CPU tasks of step n (stop criteria, responses, scheduling) run while the GPU computes step
///   n+1; enabled by default.
/// - [SGL04] LMSYS blog, "SGLang v0.4" (2024-12-04), zero-overhead batch scheduler: an Nsight
///   profile of 5 consecutive decode batches shows no GPU idle time with the Triton attention
///   backend and "a minor gap" with FlashInfer; "an unoptimized inference engine can spend as
///   much as half of its time on CPU overhead".
/// - [VLLM6854] vllm-project/vllm issue #6854 (multi-step scheduling RFC, 2024-07-26): without
///   overlap, each decode step left about 4 ms of GPU idle time (input preparation, scheduler,
///   output processing, detokenisation). [VLLM014] vLLM v0.14.0 release notes: async scheduling
///   (scheduling overlapped with GPU execution) is enabled by default.
/// - [PTDISP] PyTorch eager mode issues each op through the Python binding, the dispatcher and
///   cudaLaunchKernel, about 5–25 µs of host time per op (J. Lin, "From PyTorch op to kernel
///   launch", GPU kernel serving lessons, lesson 18); a CUDA launch from C++ is ~4 µs
///   (device/catalog.hpp `cuda_launch_s`).
/// - Kernels per layer of a Llama-style layer in an eager step: fused add + RMSNorm, QKV GEMM,
///   rotary, KV-cache write, attention, O GEMM, all-reduce, fused add + RMSNorm, gate/up GEMM,
///   SiLU-and-multiply, down GEMM, all-reduce: 12 (vLLM's and SGLang's LlamaDecoderLayer;
///   TensorRT-LLM's fuses rotary and the KV write into its attention plugin: 10); engines that
///   quantise activations per token for FP8 GEMMs add one quantisation kernel per GEMM (+4),
///   which the Python engines' presets include.
/// - [VLLMAR] vllm-project/vllm csrc/custom_all_reduce.cuh (commit 036bb685): the one-stage
///   kernel (cross_device_reduce_1stage) runs for world size <= 8 with full NVLink when the
///   buffer is under 256 KiB (512 KiB for <= 4 GPUs); SGLang uses the same custom all-reduce.
///   [FTAR] NVIDIA FasterTransformer's custom all-reduce, from which TensorRT-LLM's descends,
///   switches from one-shot to two-shot at DEFALUT_ALGO_AR_SIZE_THRESHOLD = 196,608 bytes.
/// - [VLLMMOE] vllm-project/vllm, vllm/model_executor/layers/fused_moe/fused_moe.py,
///   `moe_align_block_size`: "pads the number of tokens that each expert needs to process so
///   that it is divisible by block_size"; the tuned tiles are the JSON files of
///   fused_moe/configs/ named by E, N and device. [DGEMM] deepseek-ai/DeepGEMM README, "Grouped
///   GEMMs (contiguous layout)": "each expert segment must be aligned to the GEMM M block size".
/// - [DEEPEP] deepseek-ai/DeepEP, deep_ep/buffer.py (`num_sms: int = 20`, the SMs its normal
///   kernels use) and README (the normal kernels "support SM (Streaming Multiprocessors) number
///   control"; the low-latency kernels' overlap "does not occupy any SM resource").
/// - [DSPROF] deepseek-ai/profile-data, README and assets/prefill.jpg: prefill with EP32, two
///   micro-batches, "Computation 108 SMs", "Communication 24 SMs".
/// - [SGLTBO] sgl-project/sglang, python/sglang/srt/two_batch_overlap.py (`_model_forward_tbo`
///   runs the overlapped layers inside `configure_deep_gemm_num_sms(deep_gemm_num_sms)`) and
///   operations_strategy.py (prefill: total SMs − DeepEP's; decode: None, all SMs).
///
/// Ascend (vLLM-Ascend; the same terms, read for the NPU runtime):
/// - [VASCQ3] vLLM-Ascend v0.18.0, docs/source/tutorials/models/Qwen3-235B-A22B.md,
///   "Reproducing Performance Results": decode runs `--compilation-config
///   '{"cudagraph_mode":"FULL_DECODE_ONLY"}' --async-scheduling` (decode-only steps replay a
///   captured ACL graph, scheduling overlaps the device), `TASK_QUEUE_ENABLE=1` (torch_npu's
///   asynchronous operator queue), and the disaggregated prefill node runs `--enforce-eager`.
/// - [ACLG] vLLM-Ascend v0.18.0, docs/source/developer_guide/Design_Documents/ACL_Graph.md: "each
///   token requires nearly a thousand operator executions. When host launching operators are
///   slower than device, it will cause host bound"; graph mode removes it for decode-only steps,
///   and steps with prefill run eagerly ("usually num_tokens will be quite big and not cause
///   host bound").
/// - Kernels per layer of a W8A8 Qwen3-MoE layer in an eager vLLM-Ascend step, counted from its
///   op sequence (vllm_ascend/quantization/methods/w8a8_dynamic.py and ops/fused_moe, v0.18.0):
///   add + RMSNorm, per-token quantisation and INT8 GEMM for QKV (2), q/k RMSNorm (2), rotary,
///   KV-cache write, attention, quantisation and INT8 GEMM for O (2), TP collective, add +
///   RMSNorm, router GEMM, gating top-k, MC2 dispatch, grouped INT8 GEMM, dequant + SwiGLU +
///   quant, grouped INT8 GEMM, MC2 combine, TP gather: about 21 (an estimate; near [ACLG]'s
///   "nearly a thousand" per token over a model's layers). MC2 fuses each MoE all-to-all with its
///   (de)quantisation into one kernel (dispatch, combine), counted once each.
/// - What these terms do not carry, because the device does: Ascend's Cube/Vector split of
///   attention and of W8A8 GEMMs (device/ascend_npu.hpp serialises each op's Cube and Vector
///   phases and adds the (de)quantisation's Vector work), and HCCS/UB collectives.
#pragma once

#include <array>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"

namespace infercost::engine {

/// The time a serving engine adds to each forward pass, beyond the device's roofline.
struct engine_profile {
  std::string_view name = "none";  ///< the preset it came from (for reports)
  double decode_step_s = 0.0;      ///< exposed host time per decode-only (graph-replayed) step, s
  double prefill_step_s = 0.0;     ///< exposed host time per step with prefill tokens, s
  double launch_s = 0.0;           ///< host time to issue one kernel in an eager step, s
  double launches_per_layer = 0.0; ///< kernels one layer issues in an eager step
  double request_s = 0.0;          ///< front-end time per request before scheduling, s
  /// Largest TP all-reduce buffer (bytes) reduced in one shot inside a node; 0: ring only.
  double oneshot_allreduce_bytes = 0.0;
  /// Share of compute units the EP all-to-all holds under micro-batch overlap in a prefill step.
  double ep_comm_unit_share = 0.0;
  /// Share of the device's GEMM compute rate the routed-expert kernels reach, in (0, 1].
  double expert_gemm_efficiency = 1.0;

  /// @throws config_error naming the first field that is negative or not finite.
  void validate() const {
    constexpr std::string_view c = "engine::profile";
    check_non_negative(c, "decode_step_s", decode_step_s);
    check_non_negative(c, "prefill_step_s", prefill_step_s);
    check_non_negative(c, "launch_s", launch_s);
    check_non_negative(c, "launches_per_layer", launches_per_layer);
    check_non_negative(c, "request_s", request_s);
    check_non_negative(c, "oneshot_allreduce_bytes", oneshot_allreduce_bytes);
    if (!(ep_comm_unit_share >= 0.0 && ep_comm_unit_share < 1.0))
      throw config_error(c, "ep_comm_unit_share",
                         fmt::format("({}) must be in [0, 1)", ep_comm_unit_share));
    if (!(expert_gemm_efficiency > 0.0 && expert_gemm_efficiency <= 1.0))
      throw config_error(c, "expert_gemm_efficiency",
                         fmt::format("({}) must be in (0, 1]", expert_gemm_efficiency));
  }

  /// Host time of one step: prefill_step_s when the step carries prefill tokens, else
  /// decode_step_s.
  [[nodiscard]] constexpr double step_overhead_s(bool has_prefill) const noexcept {
    return has_prefill ? prefill_step_s : decode_step_s;
  }
  /// The least time one layer of one micro-batch takes in an eager step: its launches.
  [[nodiscard]] constexpr double layer_launch_floor_s() const noexcept {
    return launches_per_layer * launch_s;
  }
  /// True when every term is zero: the roofline alone.
  [[nodiscard]] constexpr bool is_none() const noexcept {
    return decode_step_s == 0.0 && prefill_step_s == 0.0 && layer_launch_floor_s() == 0.0 &&
           request_s == 0.0 && oneshot_allreduce_bytes == 0.0 && ep_comm_unit_share == 0.0 &&
           expert_gemm_efficiency == 1.0;
  }
};

/// Presets. Each value is a starting point for calibration (see the file comment for sources).
namespace profiles {

using units::us;

/// No engine terms: the device roofline alone (the default of every layout).
[[nodiscard]] constexpr engine_profile none() noexcept { return {}; }

/// TensorRT-LLM: C++ executor with the overlap scheduler on by default [TRTOVL] and CUDA-graph
/// decode; exposed per decode step the graph launch and the sampler, taken as 100 µs; a prefill
/// step's eager host work (chunk metadata, KV block allocation) 500 µs; kernels launched from
/// C++ at ~4 µs [PTDISP]; 10 kernels per layer (rotary and KV write inside the attention);
/// one-shot all-reduce up to 196,608 bytes [FTAR], left off (see below).
[[nodiscard]] constexpr engine_profile trtllm() noexcept {
  return {.name = "trtllm",
          .decode_step_s = 100 * us,
          .prefill_step_s = 500 * us,
          .launch_s = 4 * us,
          .launches_per_layer = 10,
          .oneshot_allreduce_bytes = 0};
}

/// vLLM (V1 engine): async scheduling default since v0.14 [VLLM014] hides most of the ~4 ms
/// per-step host time measured without overlap [VLLM6854]; the exposed remainder (graph launch,
/// sampler, the synchronising hand-off of sampled tokens, a Python step loop) taken as 500 µs;
/// a prefill step 1 ms; eager PyTorch ops at ~10 µs each [PTDISP]; 12 + 4 FP8 quantisation
/// kernels per layer; one-shot all-reduce under 256 KiB [VLLMAR], left off (see below).
[[nodiscard]] constexpr engine_profile vllm() noexcept {
  return {.name = "vllm",
          .decode_step_s = 500 * us,
          .prefill_step_s = 1000 * us,
          .launch_s = 10 * us,
          .launches_per_layer = 16,
          .oneshot_allreduce_bytes = 0};
}

/// SGLang: zero-overhead (overlap) scheduler with a small residual gap between decode batches
/// [SGL04], taken with the sampler as 200 µs; a prefill (extend) step 1 ms; eager PyTorch ops at
/// ~10 µs each [PTDISP]; 12 + 4 FP8 quantisation kernels per layer; vLLM's one-shot all-reduce
/// under 256 KiB [VLLMAR], left off (see below); two-batch overlap in prefill gives DeepEP's
/// default 20 of 132 SMs to the all-to-all [DEEPEP, SGLTBO].
[[nodiscard]] constexpr engine_profile sglang() noexcept {
  return {.name = "sglang",
          .decode_step_s = 200 * us,
          .prefill_step_s = 1000 * us,
          .launch_s = 10 * us,
          .launches_per_layer = 16,
          .oneshot_allreduce_bytes = 0,
          .ep_comm_unit_share = 20.0 / 132.0};
}

/// vLLM-Ascend (vLLM's V1 engine on torch_npu): decode-only steps replay an ACL graph with async
/// scheduling [VASCQ3, ACLG], leaving vLLM's exposed remainder, taken as vLLM's 500 µs (the same
/// Python step loop, sampler and token hand-off [VLLM014, VLLM6854]); a prefill step 1 ms, as
/// vLLM; steps with prefill run eagerly [ACLG]: torch_npu operators dispatched at ~10 µs each,
/// taken equal to PyTorch's eager dispatch [PTDISP] (an estimate: no per-operator figure for
/// torch_npu is published), 21 kernels per W8A8 MoE layer (the count above); no one-shot
/// all-reduce (HCCL's collectives are the device's).
[[nodiscard]] constexpr engine_profile vllm_ascend() noexcept {
  return {.name = "vllm_ascend",
          .decode_step_s = 500 * us,
          .prefill_step_s = 1000 * us,
          .launch_s = 10 * us,
          .launches_per_layer = 21,
          .oneshot_allreduce_bytes = 0};
}

} // namespace profiles

/// Names profile_of() accepts.
inline constexpr std::array<std::string_view, 5> profile_names{"none", "trtllm", "vllm", "sglang",
                                                               "vllm_ascend"};

/// The preset called `name`. @throws config_error listing the valid names.
[[nodiscard]] inline engine_profile profile_of(std::string_view name) {
  if (name == "none")
    return profiles::none();
  if (name == "trtllm")
    return profiles::trtllm();
  if (name == "vllm")
    return profiles::vllm();
  if (name == "sglang")
    return profiles::sglang();
  if (name == "vllm_ascend")
    return profiles::vllm_ascend();
  throw config_error(
      "engine::profile_of", "name",
      fmt::format("('{}') must be one of none, trtllm, vllm, sglang, vllm_ascend", name));
}

} // namespace infercost::engine
