/// @file
/// `engine::basic_step_cost<Device, Attention>`: the time of one forward pass of a batch (prefill
/// chunks and decode tokens mixed) on a parallel layout. This is where the components compose:
/// attention (attention/cost.hpp), MoE layers on an expert-parallel layout (moe/cost.hpp), dense
/// FFNs, tensor-parallel all-reduces, embeddings and the LM head, and an MTP draft; every op is
/// timed by `Device`, and communication overlaps computation across micro-batches where the
/// layout says so. It is the only thing a serving loop calls per step.
///
/// Layout (one model instance of `devices` devices, in `pp` pipeline stages of devices / pp):
/// - attention and dense layers are split `tp` ways (heads, FFN columns, vocabulary); with
///   `dp_attention` the devices of a stage form devices / (tp · pp) data-parallel attention
///   groups, each holding its own sequences (DeepSeek-V3's decode deployment: DP attention + EP
///   experts); without it tp = devices / pp;
/// - MoE layers, with S = devices / pp devices per stage:
///   - ep = moe_tp = 1 (the defaults): experts are split `tp` ways like a dense FFN inside each
///     attention group (replicated over the groups), ending with the group's all-reduce;
///   - ep = S (moe_tp = 1): expert parallelism over the stage, with `redundant_experts` EPLB
///     replicas and dispatch / combine all-to-alls (moe/cost.hpp);
///   - moe_tp × ep = S with moe_tp > 1 (MoE TP × EP, TensorRT-LLM's moe_tp_size ×
///     moe_ep_size): the experts' slots are spread over ep ranks and each expert's width is
///     split moe_tp ways inside its rank. Every device sees every token of the stage: without
///     DP attention they are already replicated by the attention all-reduce; with it they are
///     all-gathered from the attention groups (TensorRT-LLM's MoE all-gather / reduce-scatter
///     when all-to-all is not used). A device computes its 1/moe_tp share of the busiest EP
///     rank's expert assignments; the partial outputs are summed by an all-reduce over the
///     stage (no DP attention) or a reduce-scatter back to the groups followed, for tp > 1, by
///     the group's all-reduce. Router and shared experts run like the TP case, on the attention
///     group's tokens with shared experts split tp ways;
/// - data-parallel attention groups step in lockstep: every MoE layer's dispatch and combine
///   (or all-gather) waits for every group, so a step takes as long as its busiest group.
///   Decoding sequences spread evenly over the groups; a prefill chunk is one request's and
///   belongs to one group whole, so a step whose chunks do not divide evenly over the groups
///   (one new 4K prompt beside the decode batch of four groups) has a busiest group with
///   ceil(chunks / groups) chunks. That group's attention, projections, element-wise work,
///   all-reduces, LM head, router, shared experts and sends are timed; the routed experts still
///   process the instance's tokens. The engines do this: vLLM's DP ranks agree on every step's
///   token counts and graph mode, one eager rank making all eager (vllm/v1/worker/dp_utils.py,
///   `coordinate_batch_across_dp`), and vLLM-Ascend pads each rank's MoE input to the largest
///   rank's tokens (vllm_ascend/ops/fused_moe/prepare_finalize.py, `max_tokens_across_dp`);
///   SGLang's scheduler gathers every DP rank's token count and forward mode each step and runs
///   an idle batch on a rank without work (python/sglang/srt/managers/scheduler.py,
///   `prepare_dp_attn_batch`, `get_idle_batch`);
/// - with `pp` > 1 the layers are split into pp stages of consecutive layers and the batch into
///   pp micro-batches that are in flight together (vLLM runs one virtual engine per stage,
///   TensorRT-LLM keeps pp micro-batches in flight). In steady state each stage is busy pp ·
///   t_stage per step, the same as one micro-batch's trip through the pp stages, so a step (every
///   sequence advances one token) takes the chain of one micro-batch of batch / pp: all layers,
///   the LM head and (pp − 1) point-to-point sends of its activations between stages, with no
///   further bubble. This is aiconfigurator's model too (aic-core/.../models/llama.py at commit
///   095f58a5: every layer at the per-micro-batch batch plus (pp − 1) P2P ops, throughput × pp).
///   GPipe's bubble (pp − 1)/(m + pp − 1) (Huang et al., NeurIPS 2019) is for a pipeline that
///   drains after m micro-batches; an autoregressive serving loop does not drain between steps.
///   Stages are taken as balanced (layers / pp each); weights and KV per device count the
///   busiest stage's ceil(layers / pp) layers;
/// - with `micro_batches` = m >= 2 the batch is split into m micro-batches whose communication
///   overlaps the other's computation (DeepSeek-V3 §3.4 dual micro-batch overlap): a layer takes
///   m·max(compute, comm) + min(compute, comm) instead of m·(compute + comm);
/// - devices sit in scale-up domains (NVLink / HCCS) of the device's devices_per_node();
/// - `overheads` (engine/engine_profile.hpp) adds what the serving engine spends beyond the
///   roofline: host time per step and a kernel-launch floor per layer in eager steps.
///
/// This is the library's only forward-pass time model: the serving simulator, the speculative
/// cost face (speculative/cost.hpp) and the KV cache's recompute time (kvcache/replay.hpp) all ask
/// it. An MTP draft (`mtp_draft`) is one pass of the model's MTP module per draft token
/// (model::mtp_module: the 2·hidden → hidden projection, one layer of the model's kind, the shared
/// LM head; DeepSeek-V3 §2.2).
///
/// Cost is aggregate: it depends on the batch's sums (sequences, tokens, Σcontext, Σ causal
/// pairs) and on the number of layer kinds, never on per-token loops.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "infercost/attention/cost.hpp"
#include "infercost/attention/policies.hpp"
#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/engine/engine_profile.hpp"
#include "infercost/fwd.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/moe/cost.hpp"

namespace infercost::engine {

/// The precision of attention's own math (QK^T, PV) when weights are in `weights`: quantised
/// weights (FP8, INT8 W8A8, W4A8, FP4) quantise the linear layers only, and attention stays in
/// BF16 (FlashAttention/FlashMLA on Hopper, the fused attention operators on Ascend); 16- and
/// 32-bit weights run attention in their own precision.
[[nodiscard]] constexpr precision attention_precision_for(precision weights) noexcept {
  switch (weights) {
  case precision::fp8:
  case precision::int8:
  case precision::fp4:
  case precision::int4:
    return precision::bf16;
  case precision::fp32:
  case precision::tf32:
  case precision::bf16:
  case precision::fp16:
    return weights;
  }
  return weights;
}

/// How one model instance is laid out on its devices, and at which precisions it runs.
struct parallel_layout {
  int devices = 1;           ///< devices in the instance (the scale-up domain is the device's)
  int tp = 1;                ///< tensor-parallel degree of attention, dense FFN and LM head
  bool dp_attention = false; ///< data-parallel attention groups of tp devices each
  int ep = 1;                ///< expert-parallel degree (1, or equal to devices)
  int redundant_experts = 0; ///< EPLB replica slots across the EP group
  int micro_batches = 1;     ///< micro-batches overlapping compute and communication
  double expert_skew = 0.0;  ///< Zipf exponent of expert popularity (0 = uniform routing)
  precision weight_prec = precision::bf16; ///< GEMM weights (and their matrix math, unless
                                           ///< gemm_prec says otherwise)
  /// Matrix math of the GEMMs when it differs from the weights' storage: weight-only
  /// quantisation, e.g. W4A16 (FP4 or INT4 weights dequantised inside a BF16 GEMM, as vLLM runs
  /// gpt-oss's MXFP4 weights on Hopper, whose tensor cores have no FP4). Weight bytes stay at
  /// weight_prec; FLOPs run at this precision, which the device must support. None: weight_prec.
  std::optional<precision> gemm_prec{};
  precision attention_prec = precision::bf16; ///< QK^T / PV math and activations
  precision kv_prec = precision::bf16;        ///< KV-cache storage
  /// Dispatch element type (DeepSeek-V3 §3.3.2 dispatches FP8, combines BF16).
  precision dispatch_prec = precision::bf16;
  precision combine_prec = precision::bf16; ///< combine element type
  bool mtp_draft = false;                   ///< speculative tokens are drafted by the MTP module
  /// The MoE router's policies (moe::router_policy): what sets expected expert loads, drops and
  /// how far a token's dispatch reaches. None: the model's own (moe::router_policy_of).
  std::optional<moe::any_router_policy> routing{};
  /// Tensor-parallel degree of each expert inside its EP rank (MoE TP × EP); 1 with ep = 1 keeps
  /// experts split like a dense FFN. moe_tp × ep = devices / pp otherwise.
  int moe_tp = 1;
  int pp = 1; ///< pipeline-parallel stages (layers split into pp stages of devices / pp each)
  /// What the serving engine adds to each step (engine/engine_profile.hpp); none by default.
  engine_profile overheads{};

  /// The precision the GEMMs multiply in: gemm_prec, or the weights' own.
  [[nodiscard]] precision gemm_math_prec() const noexcept {
    return gemm_prec.value_or(weight_prec);
  }
  /// True when the weights are stored narrower than the GEMMs multiply (weight-only quantisation).
  [[nodiscard]] bool weight_only() const noexcept { return gemm_prec && *gemm_prec != weight_prec; }

  /// Devices of one pipeline stage.
  [[nodiscard]] int stage_devices() const noexcept { return devices / pp; }
  /// Data-parallel attention groups of one pipeline stage.
  [[nodiscard]] int attention_groups() const noexcept {
    return dp_attention ? devices / (tp * pp) : 1;
  }

  /// @throws config_error naming the first field that does not fit the model.
  void validate(const model::model_config& m) const {
    constexpr std::string_view c = "engine::layout";
    check_positive(c, "devices", devices);
    check_positive(c, "tp", tp);
    check_positive(c, "ep", ep);
    check_positive(c, "micro_batches", micro_batches);
    check_positive(c, "moe_tp", moe_tp);
    check_positive(c, "pp", pp);
    check_non_negative(c, "redundant_experts", redundant_experts);
    check_non_negative(c, "expert_skew", expert_skew);
    overheads.validate();
    check_divides(c, "pp", pp, "devices", devices);
    check_at_most(c, "pp", pp, "num_layers", m.num_layers);
    const int stage = devices / pp;
    const std::string_view stage_name = pp == 1 ? "devices" : "devices / pp";
    if (dp_attention) {
      check_divides(c, "tp", tp, stage_name, stage);
    } else if (tp != stage) {
      throw config_error(
          c, "tp",
          fmt::format("({}) must equal {} ({}) without dp_attention", tp, stage_name, stage));
    }
    if (m.num_heads % tp != 0)
      throw config_error(c, "tp", fmt::format("({}) must divide num_heads ({})", tp, m.num_heads));
    if (ep > 1) {
      if (!m.is_moe())
        throw config_error(c, "ep",
                           fmt::format("({}) needs an MoE model; '{}' is dense", ep, m.name));
      if (moe_tp == 1 && ep != stage)
        throw config_error(c, "ep",
                           fmt::format("({}) must be 1 or equal {} ({})", ep, stage_name, stage));
    } else if (redundant_experts > 0) {
      throw config_error(c, "redundant_experts",
                         fmt::format("({}) needs expert parallelism (ep > 1)", redundant_experts));
    }
    if (moe_tp > 1) {
      if (moe_tp * ep != stage)
        throw config_error(
            c, "moe_tp",
            fmt::format("({}) × ep ({}) must equal {} ({})", moe_tp, ep, stage_name, stage));
      if (m.is_moe())
        check_divides(c, "moe_tp", moe_tp, "moe_intermediate", m.moe_intermediate);
    }
    if (mtp_draft && m.mtp_layers <= 0)
      throw config_error(c, "mtp_draft",
                         fmt::format("(true) needs a model with MTP modules; '{}' "
                                     "has none",
                                     m.name));
  }
};

/// One step's batch, described by sums (attention::batch_totals) for the whole instance.
struct step_batch {
  attention::batch_totals totals; ///< decode sequences and prefill chunks
  int speculative_tokens = 0;     ///< draft tokens verified per decoding sequence (γ)

  /// Adds one sequence decoding after `context` cached tokens.
  step_batch& add_decode(std::int64_t context) {
    totals.add_decode(context);
    return *this;
  }
  /// Adds a prefill chunk of `tokens` after `cached` cached ones.
  step_batch& add_prefill(std::int64_t tokens, std::int64_t cached = 0) {
    totals.add_prefill(tokens, cached);
    return *this;
  }
  /// Query tokens of the decoding sequences: 1 + γ each.
  [[nodiscard]] double decode_tokens() const noexcept {
    return totals.decode_sequences * (1.0 + speculative_tokens);
  }
  /// Every token the forward pass processes.
  [[nodiscard]] double tokens() const noexcept { return decode_tokens() + totals.prefill_tokens; }
};

/// Where a step's time goes. Op times are summed over layers and micro-batches (before overlap);
/// `total_s` is the step's wall time after overlap.
struct step_breakdown {
  double attention_s = 0;     ///< attention core (and indexer, CSA projections)
  double projection_s = 0;    ///< attention Q/K/V/O projections
  double dense_ffn_s = 0;     ///< dense FFN layers
  double router_s = 0;        ///< MoE routers
  double experts_s = 0;       ///< routed experts on the busiest device
  double shared_s = 0;        ///< shared experts
  double elementwise_s = 0;   ///< norms, residual adds, rotary
  double lm_head_s = 0;       ///< embedding gather and LM head
  double tp_comm_s = 0;       ///< tensor-parallel all-reduces
  double dispatch_s = 0;      ///< MoE dispatch all-to-alls
  double combine_s = 0;       ///< MoE combine all-to-alls
  double draft_s = 0;         ///< MTP draft forward passes (speculative)
  double pp_comm_s = 0;       ///< point-to-point sends between pipeline stages
  double host_overhead_s = 0; ///< the engine's host time of the step (engine_profile)
  double launch_floor_s = 0;  ///< time eager layers wait on kernel launches beyond the roofline
  /// computation slowed by the compute units the EP all-to-all holds under overlap (summed
  /// like the op times, before overlap; engine_profile::ep_comm_unit_share)
  double comm_unit_s = 0;
  /// the fixed cost of the kernels of each layer that no op above times (norms, rotary,
  /// quantisation, KV writes: engine_profile::launches_per_layer beyond the timed ops), each at
  /// the device's per-op overhead; part of compute_s
  double other_kernels_s = 0;
  double compute_s = 0;        ///< all computation
  double comm_s = 0;           ///< all communication
  double overlap_saved_s = 0;  ///< time hidden by micro-batch overlap
  double total_s = 0;          ///< wall time of the step
  double flops = 0;            ///< matrix FLOPs on the busiest device
  double bytes = 0;            ///< device-memory bytes on the busiest device
  double tokens = 0;           ///< tokens processed by the instance
  double decode_tokens = 0;    ///< of which decode (and verify) tokens
  double prefill_tokens = 0;   ///< of which prefill tokens
  double expert_imbalance = 1; ///< max/mean expert load over EP devices
};

namespace detail {

/// Times of one layer for one micro-batch on the busiest device.
struct layer_times {
  double attention_s = 0, projection_s = 0, ffn_s = 0, router_s = 0, experts_s = 0, shared_s = 0,
         elementwise_s = 0, tp_comm_s = 0, dispatch_s = 0, combine_s = 0, flops = 0, bytes = 0,
         imbalance = 1;
  int kernels = 0; ///< the ops timed above: computations and collectives
  [[nodiscard]] double compute_s() const noexcept {
    return attention_s + projection_s + ffn_s + router_s + experts_s + shared_s + elementwise_s;
  }
  [[nodiscard]] double comm_s() const noexcept { return tp_comm_s + dispatch_s + combine_s; }
};

/// Scales every sum of a batch by f (a micro-batch's or an attention group's share).
[[nodiscard]] inline attention::batch_totals scaled(const attention::batch_totals& t, double f) {
  attention::batch_totals s = t;
  s.decode_sequences *= f;
  s.decode_context_sum *= f;
  s.prefill_chunks *= f;
  s.prefill_tokens *= f;
  s.prefill_cached_sum *= f;
  s.prefill_pairs *= f;
  return s;
}

/// The busiest data-parallel attention group's part of a step (see the file comment).
struct group_share {
  attention::batch_totals batch; ///< the group's sums
  double tokens = 0;             ///< its tokens (decode, verify and prefill)
  double logits = 0;             ///< its tokens whose logits are computed
};

/// The share of `groups` data-parallel attention groups' busiest group in a step of `t` (with
/// `decode_tokens` decode and verify tokens in all). Decoding sequences spread evenly; a prefill
/// chunk belongs to one group whole, so the busiest group holds ceil(chunks / groups) chunks of
/// the mean chunk's size (all of them when there are fewer than one chunk's worth). Logits are
/// computed for every decode token and the last token of each chunk.
[[nodiscard]] inline group_share busiest_group(const attention::batch_totals& t,
                                               double decode_tokens, double groups) {
  const double c = t.prefill_chunks;
  group_share s{scaled(t, 1.0 / groups), (decode_tokens + t.prefill_tokens) / groups,
                (decode_tokens + c) / groups};
  if (groups <= 1.0 || c <= 0.0)
    return s;
  const double chunks = std::ceil(c / groups - 1e-9);
  const double f = std::min(1.0, chunks / c); // the busiest group's share of the prefill sums
  s.batch.prefill_chunks = c * f;
  s.batch.prefill_tokens = t.prefill_tokens * f;
  s.batch.prefill_cached_sum = t.prefill_cached_sum * f;
  s.batch.prefill_pairs = t.prefill_pairs * f;
  s.tokens = decode_tokens / groups + t.prefill_tokens * f;
  s.logits = decode_tokens / groups + c * f;
  return s;
}

/// `s` scaled by f (a micro-batch's or a pipeline micro-batch's share).
[[nodiscard]] inline group_share scaled(const group_share& s, double f) {
  return {scaled(s.batch, f), s.tokens * f, s.logits * f};
}

} // namespace detail

/// The step-cost model of one instance. `Attention` is the policy of the model's full-attention
/// layers (attention::full, csa, sliding_window, topk_sparse); a model's own sliding-window layers
/// keep their window, and a model with an indexer uses top-k sparse attention when `Attention` is
/// `full`.
template <device_cost_model Device, attention::attention_policy Attention> class basic_step_cost {
public:
  using device_type = Device;
  using attention_config = typename Attention::config;

  /// @throws config_error for an invalid model, layout or attention config.
  basic_step_cost(model::model_config m, parallel_layout layout, attention_config attn = {},
                  Device device = {})
      : model_(std::move(m)), layout_(layout), device_(std::move(device)) {
    model_.validate();
    layout_.validate(model_);
    require_precision(device_, "engine::layout", layout_.gemm_prec ? "gemm_prec" : "weight_prec",
                      layout_.gemm_math_prec());
    require_precision(device_, "engine::layout", "attention_prec", layout_.attention_prec);
    shape_ = attention::attention_shape::from_model(model_, layout_.kv_prec);
    shape_.compute_prec = layout_.attention_prec;
    attn.validate(shape_);
    attention_ = std::move(attn);
    if constexpr (std::is_same_v<Attention, attention::full>) {
      if (model_.index_topk > 0)
        indexer_ = attention::topk_config::from_model(model_);
    }
    if (model_.sliding_window > 0)
      window_ = attention::sliding_window_config::from_model(model_);
    if (model_.is_moe()) {
      const std::vector<double> popularity =
          layout_.expert_skew > 0.0
              ? zipf_weights(static_cast<std::size_t>(model_.num_experts), layout_.expert_skew)
              : std::vector<double>{};
      const moe::ep_layout ep{.ep_size = layout_.ep,
                              .devices_per_node = device_.devices_per_node(),
                              .redundant_experts = layout_.redundant_experts,
                              .dispatch_precision = layout_.dispatch_prec,
                              .combine_precision = layout_.combine_prec,
                              .gemm_precision = layout_.gemm_prec};
      const moe::any_router_policy policy =
          layout_.routing ? *layout_.routing : moe::router_policy_of(model_);
      const moe::router_config cfg = moe::router_config::from_model(model_);
      moe_.emplace(cfg, ep, layout_.weight_prec, popularity, policy);
      const bool tp_like =
          layout_.ep == 1 &&
          (layout_.moe_tp == 1 || (layout_.moe_tp == layout_.tp && !layout_.dp_attention));
      moe_mode_ = tp_like ? moe_mode::tp : layout_.moe_tp == 1 ? moe_mode::ep : moe_mode::tp_ep;
      if (moe_mode_ == moe_mode::tp_ep && layout_.ep > 1) {
        // Router and shared experts of an attention group's tokens, with every expert at hand.
        const moe::ep_layout one{.ep_size = 1,
                                 .devices_per_node = device_.devices_per_node(),
                                 .dispatch_precision = layout_.dispatch_prec,
                                 .combine_precision = layout_.combine_prec,
                                 .gemm_precision = layout_.gemm_prec};
        moe_group_.emplace(cfg, one, layout_.weight_prec, popularity, policy);
      }
    }
  }

  [[nodiscard]] const model::model_config& model() const noexcept { return model_; }
  [[nodiscard]] const parallel_layout& layout() const noexcept { return layout_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }

  /// Time and breakdown of one forward pass of `b`. @throws config_error for negative sums.
  [[nodiscard]] step_breakdown operator()(const step_batch& b) const {
    if (b.speculative_tokens < 0)
      throw config_error("engine::step_cost", "speculative_tokens",
                         fmt::format("({}) must be >= 0", b.speculative_tokens));
    b.totals.validate();
    step_breakdown out;
    out.tokens = b.tokens();
    out.decode_tokens = b.decode_tokens();
    out.prefill_tokens = b.totals.prefill_tokens;
    if (out.tokens <= 0.0)
      return out;
    // Verification: each decoding sequence runs 1 + γ queries, which read its KV once.
    attention::batch_totals verify = b.totals;
    verify.decode_queries_per_sequence = 1.0 + b.speculative_tokens;
    // Steps with prefill tokens run eagerly; decode-only steps replay a CUDA graph.
    const bool eager = b.totals.prefill_tokens > 0.0;
    const detail::group_share grp = detail::busiest_group(verify, b.decode_tokens(), groups());
    if (layout_.pp == 1) {
      accumulate_forward(out.tokens, grp, eager, out);
    } else {
      // One micro-batch of batch / pp through every stage, then (pp − 1) sends of its
      // activations from one stage to the next (see the file comment).
      const double f = 1.0 / layout_.pp;
      accumulate_forward(out.tokens * f, detail::scaled(grp, f), eager, out);
      const double local = grp.tokens * f;
      const comm_work send{
          .kind = collective::point_to_point,
          .bytes = local * model_.hidden * bytes_per_element(layout_.attention_prec),
          .ranks = 2,
          .scope = layout_.stage_devices() >= device_.devices_per_node() ? link_scope::inter_node
                                                                         : link_scope::intra_node};
      out.pp_comm_s = (layout_.pp - 1) * device_.comm_time_s(send);
      out.comm_s += out.pp_comm_s;
      out.total_s += out.pp_comm_s;
    }
    if (layout_.mtp_draft && b.speculative_tokens > 0 && b.totals.decode_sequences > 0.0) {
      // Each draft token is one pass of the MTP module over the decoding sequences: the
      // 2·hidden → hidden projection of [embedding; hidden state], one layer of the model's kind
      // and the shared LM head (DeepSeek-V3 §2.2, model::mtp_module).
      attention::batch_totals draft;
      draft.decode_sequences = b.totals.decode_sequences;
      draft.decode_context_sum = b.totals.decode_context_sum;
      step_breakdown d;
      const double layers = forward_layers(
          draft.decode_sequences, detail::busiest_group(draft, draft.decode_sequences, groups()), 1,
          model_.is_moe() ? 0 : 1, model_.is_moe() ? 1 : 0, eager, d);
      const double local = draft.decode_sequences / groups();
      const double b_w = bytes_per_element(layout_.weight_prec);
      const double b_act = bytes_per_element(layout_.attention_prec);
      const double proj_params = model::mtp_projection_params(model_);
      const op_work projection{.flops = 2.0 * proj_params * local / layout_.tp,
                               .bytes_read = proj_params * b_w / layout_.tp +
                                             2.0 * local * model_.hidden * b_act,
                               .bytes_written = local * model_.hidden * b_act,
                               .prec = layout_.gemm_math_prec(),
                               .kind = op_kind::gemm};
      const lm_head_ops head = lm_head(local);
      out.draft_s =
          b.speculative_tokens * (device_.op_time_s(projection) + layers + head.time_s(device_));
      out.total_s += out.draft_s;
    }
    out.host_overhead_s = layout_.overheads.step_overhead_s(eager);
    if (out.host_overhead_s > 0.0)
      out.total_s += out.host_overhead_s;
    return out;
  }

  /// Weight bytes each device holds: its share of attention, dense FFNs, embeddings and LM head,
  /// its expert slots (EP), its share of its EP rank's slots (TP × EP) or of all experts (TP),
  /// and the shared experts. With pp > 1, the busiest stage's: ceil(layers / pp) layers' share
  /// of the layer weights, and the embedding or the LM head (the first and last stages hold one
  /// each; a tied table is held by both).
  [[nodiscard]] double weight_bytes_per_device() const {
    const model::param_counts p = model::count_params(model_);
    const double b = bytes_per_element(layout_.weight_prec);
    double layer_bytes = 0.0, bytes = 0.0;
    if (layout_.pp == 1)
      bytes = (p.attention + p.dense_ffn + p.embedding + p.router) / layout_.tp * b;
    else
      layer_bytes = (p.attention + p.dense_ffn + p.router) / layout_.tp * b;
    double& experts = layout_.pp == 1 ? bytes : layer_bytes;
    if (model_.is_moe()) {
      if (moe_mode_ == moe_mode::ep) {
        const double slots =
            static_cast<double>(model_.num_experts + layout_.redundant_experts) / layout_.ep;
        experts += model_.num_moe_layers() * slots * model::expert_params(model_) * b;
        experts += p.shared_experts * b;
      } else if (moe_mode_ == moe_mode::tp_ep) {
        const double slots =
            static_cast<double>(model_.num_experts + layout_.redundant_experts) / layout_.ep;
        experts +=
            model_.num_moe_layers() * slots * model::expert_params(model_) / layout_.moe_tp * b;
        experts += p.shared_experts / layout_.tp * b;
      } else {
        experts += (p.routed_experts + p.shared_experts) / layout_.tp * b;
      }
    }
    if (layout_.pp > 1) {
      const double table = model_.tie_embeddings ? p.embedding : p.embedding / 2.0;
      bytes = layer_bytes * stage_layer_fraction() + table / layout_.tp * b;
    }
    if (layout_.mtp_draft)
      bytes += p.mtp / (layout_.ep > 1 ? layout_.ep * layout_.moe_tp : layout_.tp) * b;
    return bytes;
  }

  /// KV bytes a sequence of `context` tokens occupies on the device(s) of its attention group,
  /// per device: GQA heads are split over tp (up to the KV heads); an MLA latent is replicated.
  /// With pp > 1, the busiest stage's ceil(layers / pp) layers' share.
  [[nodiscard]] double kv_bytes_per_device(std::int64_t context) const {
    if (layout_.pp > 1)
      return kv_bytes_per_sequence(context) * stage_layer_fraction() / kv_shards();
    return kv_bytes_per_sequence(context) / kv_shards();
  }

  /// KV bytes a sequence of `context` tokens holds in all layers, unsharded: each layer keeps what
  /// its attention policy keeps (a window its last tokens; CSA also its compressed copy; DSA its
  /// indexer keys). With full attention this is model::kv_bytes_per_sequence.
  /// @throws config_error for a negative context.
  [[nodiscard]] double kv_bytes_per_sequence(std::int64_t context) const {
    if (context < 0)
      throw config_error("engine::step_cost", "context", fmt::format("({}) must be >= 0", context));
    const double c = static_cast<double>(context);
    const int sliding = model_.num_sliding_layers();
    double bytes = 0.0;
    if (sliding > 0)
      bytes += sliding * attention::sliding_window::kept_tokens(*window_, c) *
               attention::sliding_window::kv_bytes_per_token(shape_, *window_);
    const int main = model_.num_layers - sliding;
    if (indexer_)
      bytes += main * attention::topk_sparse::kept_tokens(*indexer_, c) *
               attention::topk_sparse::kv_bytes_per_token(shape_, *indexer_);
    else
      bytes += main * Attention::kept_tokens(attention_, c) *
               Attention::kv_bytes_per_token(shape_, attention_);
    return bytes;
  }

  /// KV capacity of the instance in bytes of per-device KV, summed over attention groups: what
  /// remains of each device's memory after weights and an activation reserve.
  /// @throws config_error when the weights do not fit, with the numbers.
  [[nodiscard]] double kv_capacity_bytes(double activation_reserve_fraction = 0.10) const {
    check_in_range("engine::step_cost", "activation_reserve_fraction", activation_reserve_fraction,
                   0.0, 0.9);
    const double usable = device_.memory_bytes() * (1.0 - activation_reserve_fraction);
    const double weights = weight_bytes_per_device();
    if (weights >= usable)
      throw config_error(
          "engine::step_cost", "devices",
          fmt::format("({}) too few: {} needs {:.1f} GB of weights per {} but only {:.1f} GB of "
                      "its {:.1f} GB is usable ({}% reserved for activations)",
                      layout_.devices, model_.name, weights / 1e9, device_.name(), usable / 1e9,
                      device_.memory_bytes() / 1e9, activation_reserve_fraction * 100));
    return (usable - weights) * groups();
  }

private:
  [[nodiscard]] double groups() const noexcept { return layout_.attention_groups(); }
  /// Fraction of the layers the busiest pipeline stage holds: ceil(layers / pp) / layers.
  [[nodiscard]] double stage_layer_fraction() const noexcept {
    const int per_stage = (model_.num_layers + layout_.pp - 1) / layout_.pp;
    return static_cast<double>(per_stage) / model_.num_layers;
  }
  [[nodiscard]] double kv_shards() const noexcept {
    // MLA's shape has one (latent) KV head, so it is never split.
    return std::min(layout_.tp, std::max(shape_.num_kv_heads, 1));
  }
  /// A TP all-reduce as the engine runs it: one shot for small buffers inside a node when the
  /// engine profile says so (engine_profile::oneshot_allreduce_bytes), else the device's ring.
  [[nodiscard]] double allreduce_time_s(const comm_work& c) const {
    const double oneshot = layout_.overheads.oneshot_allreduce_bytes;
    if (oneshot > 0.0 && c.ranks > 1 && c.scope == link_scope::intra_node && c.bytes <= oneshot)
      return device_.comm_time_s({.kind = collective::all_to_all,
                                  .bytes = c.bytes * c.ranks,
                                  .ranks = c.ranks,
                                  .scope = c.scope});
    return device_.comm_time_s(c);
  }

  [[nodiscard]] link_scope tp_scope() const noexcept {
    return layout_.tp <= device_.devices_per_node() ? link_scope::intra_node
                                                    : link_scope::inter_node;
  }

  /// Adds the whole model's forward pass of `tokens` tokens, whose busiest attention group does
  /// `grp`, to `out`.
  void accumulate_forward(double tokens, const detail::group_share& grp, bool eager,
                          step_breakdown& out) const {
    const double s = forward_layers(tokens, grp, model_.num_layers, model_.num_dense_layers(),
                                    model_.num_moe_layers(), eager, out);
    const lm_head_ops ops = lm_head(grp.logits);
    const double head = ops.time_s(device_);
    out.lm_head_s += head;
    out.compute_s += head;
    out.total_s += s + head;
    if (head > 0.0) {
      out.flops += ops.head.flops;
      out.bytes += ops.head.bytes() + ops.gather.bytes();
    }
  }

  /// Time of `layers` layers (of which `dense` have a dense FFN and `moe` an MoE FFN) on a
  /// batch of `tokens` tokens whose busiest attention group does `grp`, with micro-batch
  /// overlap and, in an `eager` step, the engine's launch floor per layer and micro-batch; adds
  /// the breakdown to `out`.
  double forward_layers(double tokens, const detail::group_share& grp, int layers, int dense,
                        int moe_layers, bool eager, step_breakdown& out) const {
    const int m = layout_.micro_batches;
    const double f = 1.0 / m;
    const detail::group_share mgrp = detail::scaled(grp, f);
    const double mtokens = tokens * f;
    const int sliding = std::min(model_.num_sliding_layers(), layers);
    const int full = layers - sliding;
    double wall = 0.0;
    // Layer kinds: (attention kind) x (FFN kind), counted so that sliding layers are spread
    // over dense and MoE layers in proportion.
    for (int ffn_kind = 0; ffn_kind < 2; ++ffn_kind) {
      const int n_ffn = ffn_kind == 0 ? dense : moe_layers;
      if (n_ffn == 0)
        continue;
      for (int attn_kind = 0; attn_kind < 2; ++attn_kind) {
        const double share = (attn_kind == 0 ? full : sliding) / static_cast<double>(layers);
        const double n = n_ffn * share;
        if (n <= 0.0)
          continue;
        const layer_times lt = layer(mtokens, mgrp, attn_kind == 1, ffn_kind == 1);
        // The layer's kernels that no op times still each cost the device's per-op overhead.
        const double other = std::max(0.0, layout_.overheads.launches_per_layer - lt.kernels) *
                             device_.op_time_s(op_work{});
        const double compute = lt.compute_s() + other, comm = lt.comm_s();
        // Under micro-batch overlap in an eager (prefill) step, the EP all-to-all kernels hold
        // a share of the compute units and the layer's computation runs on the rest
        // (engine_profile::ep_comm_unit_share).
        const double unit_share = m > 1 && eager && lt.dispatch_s + lt.combine_s > 0.0
                                      ? layout_.overheads.ep_comm_unit_share
                                      : 0.0;
        const double slowed = compute / (1.0 - unit_share);
        double layer_wall =
            m == 1 ? compute + comm : m * std::max(slowed, comm) + std::min(slowed, comm);
        out.comm_unit_s += n * m * (slowed - compute);
        out.other_kernels_s += n * m * other;
        out.overlap_saved_s += n * (m * (slowed + comm) - layer_wall);
        if (eager) {
          const double floor = m * layout_.overheads.layer_launch_floor_s();
          if (floor > layer_wall) {
            out.launch_floor_s += n * (floor - layer_wall);
            layer_wall = floor;
          }
        }
        wall += n * layer_wall;
        out.attention_s += n * m * lt.attention_s;
        out.projection_s += n * m * lt.projection_s;
        out.dense_ffn_s += n * m * lt.ffn_s;
        out.router_s += n * m * lt.router_s;
        out.experts_s += n * m * lt.experts_s;
        out.shared_s += n * m * lt.shared_s;
        out.elementwise_s += n * m * lt.elementwise_s;
        out.tp_comm_s += n * m * lt.tp_comm_s;
        out.dispatch_s += n * m * lt.dispatch_s;
        out.combine_s += n * m * lt.combine_s;
        out.compute_s += n * m * compute;
        out.comm_s += n * m * comm;
        out.flops += n * m * lt.flops;
        out.bytes += n * m * lt.bytes;
        out.expert_imbalance = std::max(out.expert_imbalance, lt.imbalance);
      }
    }
    return wall;
  }

  using layer_times = detail::layer_times;

  /// One layer's attention work on the batch `t`: a model's sliding-window layers keep their
  /// window; a model with a DSA indexer attends top-k under full attention; otherwise the
  /// Attention policy.
  [[nodiscard]] attention::attention_work attention_work(const attention::batch_totals& t,
                                                         bool sliding_layer) const {
    if (sliding_layer)
      return attention::sliding_window::step_work(shape_, *window_, t);
    if (indexer_)
      return attention::topk_sparse::step_work(shape_, *indexer_, t);
    return Attention::step_work(shape_, attention_, t);
  }

  /// One layer, one micro-batch of `tokens` tokens (whole instance) whose busiest attention
  /// group does `grp`, on the busiest device.
  layer_times layer(double tokens, const detail::group_share& grp, bool sliding_layer,
                    bool moe_ffn) const {
    layer_times lt;
    const double g = groups(), tp = layout_.tp;
    const double local = grp.tokens; // tokens of the busiest attention group
    const double b_act = bytes_per_element(layout_.attention_prec);
    const double b_w = bytes_per_element(layout_.weight_prec);
    const double h = model_.hidden;

    // Attention core on the group's sequences, heads split tp ways.
    const attention::attention_work aw = attention_work(grp.batch, sliding_layer);
    op_work attn = aw.to_op_work();
    attn.flops /= tp;
    attn.vector_flops /= tp;
    attn.bytes_read =
        aw.kv_bytes_read / kv_shards() + aw.index_bytes_read + aw.activation_bytes_read / tp;
    attn.bytes_written = aw.kv_bytes_written / kv_shards() + aw.activation_bytes_written / tp;
    lt.attention_s = device_.op_time_s(attn);
    lt.kernels = 3; // attention, projections, element-wise
    lt.flops += attn.flops;
    lt.bytes += attn.bytes();

    // Attention projections (and indexer projections).
    const double proj_params = model::attention_params_per_layer(model_);
    const op_work proj{.flops = 2.0 * proj_params * local / tp,
                       .bytes_read = proj_params * b_w / tp + local * h * b_act,
                       .bytes_written = local * h * b_act,
                       .prec = layout_.gemm_math_prec(),
                       .kind = op_kind::gemm};
    lt.projection_s = device_.op_time_s(proj);
    lt.flops += proj.flops;
    lt.bytes += proj.bytes();

    // Norms, residual adds, rotary: ~12 element-wise FLOPs and ~8 activation reads/writes per
    // hidden element (an accounting convention; calibrated as element-wise work).
    const op_work elt{.vector_flops = 12.0 * h * local / tp,
                      .bytes_read = 5.0 * h * local * b_act / tp,
                      .bytes_written = 3.0 * h * local * b_act / tp,
                      .prec = layout_.attention_prec,
                      .kind = op_kind::elementwise};
    lt.elementwise_s = device_.op_time_s(elt);
    lt.bytes += elt.bytes();

    const comm_work allreduce{.kind = collective::all_reduce,
                              .bytes = local * h * b_act,
                              .ranks = layout_.tp,
                              .scope = tp_scope()};
    const double ar_s = allreduce_time_s(allreduce);
    const int ar_kernel = ar_s > 0.0 ? 1 : 0;
    lt.tp_comm_s += ar_s; // after attention
    lt.kernels += ar_kernel;

    if (!moe_ffn) {
      const double ffn_params = model::ffn_params(model_.ffn, model_.hidden, model_.intermediate);
      const op_work ffn{.flops = 2.0 * ffn_params * local / tp,
                        .vector_flops = 4.0 * model_.intermediate * local / tp,
                        .bytes_read = ffn_params * b_w / tp + local * h * b_act,
                        .bytes_written = local * h * b_act,
                        .prec = layout_.gemm_math_prec(),
                        .kind = op_kind::gemm};
      lt.ffn_s = device_.op_time_s(ffn);
      lt.flops += ffn.flops;
      lt.bytes += ffn.bytes();
      lt.tp_comm_s += ar_s;
      lt.kernels += 1 + ar_kernel;
      return lt;
    }

    moe::moe_cost mc;
    if (moe_mode_ == moe_mode::ep) {
      mc = moe_->cost(device_, tokens);
      if (local * g > tokens * (1.0 + 1e-12)) {
        // The busiest group's devices route, run shared experts for and send more tokens than
        // the mean; the experts still process the instance's tokens (file comment).
        const moe::moe_cost busy = moe_->cost(device_, local * g);
        mc.router = busy.router;
        mc.shared = busy.shared;
        mc.router_s = busy.router_s;
        mc.shared_s = busy.shared_s;
        mc.dispatch_s = busy.dispatch_s;
        mc.combine_s = busy.combine_s;
      }
    } else {
      // Router on the attention group's tokens; shared experts split tp ways like a dense FFN.
      // TP: the routed experts too, each device doing 1/tp of every expert's work on the
      // group's tokens. TP × EP: each device does 1/moe_tp of the busiest EP rank's work on
      // the stage's tokens.
      const bool split_ranks = moe_mode_ == moe_mode::tp_ep;
      mc = (moe_group_ ? *moe_group_ : *moe_).work(local);
      if (split_ranks) {
        const moe::moe_cost ranks = moe_->work(tokens);
        mc.experts = ranks.experts;
        mc.max_device_assignments = ranks.max_device_assignments;
        mc.mean_device_assignments = ranks.mean_device_assignments;
      }
      const double expert_split = split_ranks ? layout_.moe_tp : tp;
      for (const auto& [w, split] :
           {std::pair{&mc.experts, expert_split}, std::pair{&mc.shared, tp}}) {
        w->flops /= split;
        w->vector_flops /= split;
        w->bytes_read /= split;
        w->bytes_written /= split;
      }
      mc.router_s = device_.op_time_s(mc.router);
      mc.experts_s = device_.op_time_s(mc.experts);
      mc.shared_s = mc.shared.flops > 0.0 ? device_.op_time_s(mc.shared) : 0.0;
      if (split_ranks && g > 1) {
        // Attention groups' tokens gathered onto every device of the stage; partial outputs
        // reduce-scattered back to their groups.
        const int s = layout_.stage_devices();
        const link_scope scope =
            s <= device_.devices_per_node() ? link_scope::intra_node : link_scope::inter_node;
        mc.dispatch_s =
            device_.comm_time_s({.kind = collective::all_gather,
                                 .bytes = tokens * h * bytes_per_element(layout_.dispatch_prec),
                                 .ranks = s,
                                 .scope = scope});
        mc.combine_s =
            device_.comm_time_s({.kind = collective::reduce_scatter,
                                 .bytes = tokens * h * bytes_per_element(layout_.combine_prec),
                                 .ranks = s,
                                 .scope = scope});
      }
      lt.tp_comm_s += ar_s; // the group's all-reduce (the stage's, without DP attention)
      lt.kernels += ar_kernel;
    }
    if (const double eff = layout_.overheads.expert_gemm_efficiency; eff < 1.0) {
      // The engine's grouped-GEMM kernels run the experts' matrix work at a share of the
      // device's GEMM rate (engine_profile::expert_gemm_efficiency); their traffic is unchanged.
      op_work grouped = mc.experts;
      grouped.flops /= eff;
      mc.experts_s = device_.op_time_s(grouped);
    }
    lt.router_s = mc.router_s;
    lt.experts_s = mc.experts_s;
    lt.shared_s = mc.shared_s;
    lt.dispatch_s = mc.dispatch_s;
    lt.combine_s = mc.combine_s;
    lt.imbalance = mc.imbalance();
    lt.kernels += 2 + (mc.shared_s > 0.0 ? 1 : 0) + (mc.dispatch_s > 0.0 ? 1 : 0) +
                  (mc.combine_s > 0.0 ? 1 : 0); // router, experts, shared, dispatch, combine
    lt.flops += mc.router.flops + mc.experts.flops + mc.shared.flops;
    lt.bytes += mc.router.bytes() + mc.experts.bytes() + mc.shared.bytes();
    return lt;
  }

  /// The embedding gather and the LM head of `local` tokens of one attention group.
  struct lm_head_ops {
    op_work head;
    op_work gather;
    template <class D> [[nodiscard]] double time_s(const D& d) const {
      return head.flops > 0.0 ? d.op_time_s(head) + d.op_time_s(gather) : 0.0;
    }
  };
  [[nodiscard]] lm_head_ops lm_head(double local) const {
    const double h = model_.hidden, v = model_.vocab, tp = layout_.tp;
    const double b_w = bytes_per_element(layout_.weight_prec);
    return {.head = {.flops = 2.0 * v * h * local / tp,
                     .bytes_read = v * h * b_w / tp + local * h * b_w,
                     .bytes_written = local * v / tp * 4.0, // FP32 logits
                     .prec = layout_.gemm_math_prec(),
                     .kind = op_kind::gemm},
            .gather = {.bytes_read = local * h * b_w,
                       .bytes_written = local * h * b_w,
                       .kind = op_kind::elementwise}};
  }

  model::model_config model_;
  parallel_layout layout_;
  Device device_;
  attention::attention_shape shape_{};
  typename Attention::config attention_{};
  std::optional<attention::topk_config> indexer_;          ///< a model's own DSA indexer
  std::optional<attention::sliding_window_config> window_; ///< a model's sliding-window layers
  std::optional<moe::layer_cost_model> moe_; ///< MoE layers' cost face (MoE models only)
  /// MoE TP × EP: the router and shared experts of one attention group (an EP degree of 1).
  std::optional<moe::layer_cost_model> moe_group_;
  /// How the MoE layers are laid out (see the file comment).
  enum class moe_mode { tp, ep, tp_ep };
  moe_mode moe_mode_ = moe_mode::tp;
};

/// The common case: full attention on the default device.
using step_cost = basic_step_cost<default_device, attention::full>;

#ifdef INFERCOST_COMPILED
// Compiled mode (core/macros.hpp): the engine on a run-time device, instantiated once.
INFERCOST_EXTERN template class basic_step_cost<any_device, attention::full>;
INFERCOST_EXTERN template class basic_step_cost<any_device, attention::topk_sparse>;
INFERCOST_EXTERN template class basic_step_cost<any_device, attention::csa>;
#endif

} // namespace infercost::engine
