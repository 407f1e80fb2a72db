/// @file
/// Descriptions of work: what an operation or a collective needs, not how long it takes. Only a
/// device turns work into seconds.
#pragma once

#include <array>
#include <concepts>
#include <string>
#include <string_view>

#include "infercost/core/error.hpp"

namespace infercost {

/// Numeric precision of an operation's operands. For a GEMM it is the weights' precision and the
/// rate its matrix math runs at: `int8` is W8A8 (INT8 weights, activations quantised to INT8 per
/// token), `int4` is W4A8 (4-bit weights, INT8 activations and matrix math), the formats Ascend
/// serves quantised models in; `fp8` and `fp4` need FP8 / FP4 matrix units (see each device's
/// `supports`).
enum class precision { fp32, tf32, bf16, fp16, fp8, int8, fp4, int4 };

/// Every precision, for iteration and error messages.
inline constexpr std::array<precision, 8> all_precisions{
    precision::fp32, precision::tf32, precision::bf16, precision::fp16,
    precision::fp8,  precision::int8, precision::fp4,  precision::int4};

/// Storage size of one element. TF32 is stored as FP32. FP4 is NVFP4, the block-scaled format
/// Blackwell tensor cores consume: 4-bit E2M1 values in blocks of 16 with one FP8 (E4M3) scale
/// each, (16 * 4 + 8) / 16 = 4.5 bits per element; the one FP32 scale per tensor is negligible
/// (NVIDIA Technical Blog, "Introducing NVFP4 for Efficient and Accurate Low-Precision
/// Inference", 2025). INT4 (W4A8) packs two weights in a byte; its per-group scales are left out.
[[nodiscard]] constexpr double bytes_per_element(precision p) noexcept {
  switch (p) {
  case precision::fp32:
  case precision::tf32:
    return 4.0;
  case precision::bf16:
  case precision::fp16:
    return 2.0;
  case precision::fp8:
  case precision::int8:
    return 1.0;
  case precision::fp4:
    return 4.5 / 8.0;
  case precision::int4:
    return 0.5;
  }
  return 0.0;
}

/// Lower-case name: "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4".
[[nodiscard]] constexpr std::string_view to_string(precision p) noexcept {
  switch (p) {
  case precision::fp32:
    return "fp32";
  case precision::tf32:
    return "tf32";
  case precision::bf16:
    return "bf16";
  case precision::fp16:
    return "fp16";
  case precision::fp8:
    return "fp8";
  case precision::int8:
    return "int8";
  case precision::fp4:
    return "fp4";
  case precision::int4:
    return "int4";
  }
  return "?";
}

/// Parses a precision name. @throws config_error listing the valid names.
[[nodiscard]] inline precision parse_precision(std::string_view name) {
  for (precision p : all_precisions)
    if (to_string(p) == name)
      return p;
  throw config_error(
      "precision", "name",
      fmt::format("('{}') must be one of fp32, tf32, bf16, fp16, fp8, int8, fp4, int4", name));
}

/// Checks that `d` runs matrix work at precision `p` natively (`d.supports(p)`; a device type
/// without `supports` accepts every precision). `component` and `field` name where `p` came
/// from. @throws config_error naming the field, the precision, the device and the precision it
/// serves instead (`d.native_weight_precision()`).
template <class Device>
void require_precision(const Device& d, std::string_view component, std::string_view field,
                       precision p) {
  if constexpr (requires {
                  { d.supports(p) } -> std::convertible_to<bool>;
                  { d.native_weight_precision() } -> std::convertible_to<precision>;
                }) {
    if (!d.supports(p))
      throw config_error(
          component, field,
          fmt::format("({}) is not supported by {}: it has no {} matrix units; it serves {}",
                      to_string(p), d.name(), to_string(p),
                      to_string(d.native_weight_precision())));
  }
}

/// What kind of kernel an operation is; each kind has its own efficiency factors.
enum class op_kind {
  gemm,        ///< dense matrix multiply (projections, FFN, experts, LM head)
  attention,   ///< fused attention (QK^T, softmax, PV), FlashAttention-style
  elementwise, ///< norms, activations, rotary embedding, residual adds, routing top-k
};

[[nodiscard]] constexpr std::string_view to_string(op_kind k) noexcept {
  switch (k) {
  case op_kind::gemm:
    return "gemm";
  case op_kind::attention:
    return "attention";
  case op_kind::elementwise:
    return "elementwise";
  }
  return "?";
}

/// The work of one operation (one kernel, or a fused group of the same kind).
///
/// `flops` run on the matrix unit (tensor cores, Ascend Cube) at `prec`; `vector_flops` are
/// element-wise FLOPs (softmax exponentials, activations, norms) that run on the vector unit (CUDA
/// cores, Ascend Vector). For an `elementwise` op put its FLOPs in `vector_flops`.
struct op_work {
  double flops = 0.0;         ///< matrix-unit FLOPs (a multiply-add counts 2)
  double vector_flops = 0.0;  ///< vector-unit FLOPs
  double bytes_read = 0.0;    ///< bytes read from device memory
  double bytes_written = 0.0; ///< bytes written to device memory
  precision prec = precision::bf16;
  op_kind kind = op_kind::gemm;

  [[nodiscard]] constexpr double bytes() const noexcept { return bytes_read + bytes_written; }
  /// Arithmetic intensity: matrix FLOPs per byte moved.
  [[nodiscard]] constexpr double intensity() const noexcept {
    return bytes() > 0.0 ? flops / bytes() : 0.0;
  }
};

/// Collective communication patterns.
enum class collective { all_reduce, all_gather, reduce_scatter, all_to_all, point_to_point };

[[nodiscard]] constexpr std::string_view to_string(collective c) noexcept {
  switch (c) {
  case collective::all_reduce:
    return "all_reduce";
  case collective::all_gather:
    return "all_gather";
  case collective::reduce_scatter:
    return "reduce_scatter";
  case collective::all_to_all:
    return "all_to_all";
  case collective::point_to_point:
    return "point_to_point";
  }
  return "?";
}

/// Which links a collective uses: scale-up inside a node (NVLink, HCCS) or scale-out between
/// nodes (InfiniBand, RoCE).
enum class link_scope { intra_node, inter_node };

/// The work of one collective among `ranks` devices.
///
/// `bytes` is the per-rank buffer: for all_reduce the tensor each rank holds; for all_gather the
/// gathered output on each rank; for reduce_scatter the input on each rank; for all_to_all the
/// total each rank sends (its (ranks-1)/ranks share leaves the rank); for point_to_point the
/// bytes sent.
struct comm_work {
  collective kind = collective::all_reduce;
  double bytes = 0.0;
  int ranks = 1;
  link_scope scope = link_scope::intra_node;
};

} // namespace infercost
