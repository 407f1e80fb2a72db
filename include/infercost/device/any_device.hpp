/// @file
/// `any_device`: a device cost model chosen at run time — a `cuda_gpu` or an `ascend_npu` with any
/// spec — and `make_device(name)`, which builds one from the catalog by name.
///
/// Every component takes its device as a template parameter, so a program that lets its user
/// pick among the ten catalog parts would otherwise compile each component ten times. The
/// family, not the part, decides how cost is computed (a `cuda_gpu<Spec>`'s `Spec` only supplies
/// its default datasheet), so `any_device` holds one of the two families with the part's spec and
/// forwards every query to it: one instantiation serves every part, and a prefill pool and a
/// decode pool of different parts share one component type. Results are those of the typed
/// device, bit for bit.
#pragma once

#include <string_view>
#include <utility>
#include <variant>

#include "infercost/device/ascend_npu.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/cuda_gpu.hpp"
#include "infercost/device/efficiency.hpp"
#include "infercost/device/work.hpp"
#include "infercost/fwd.hpp"

namespace infercost {

/// A device of either family, chosen at run time (see the file comment).
class any_device {
  /// Calls f with the held device (std::get after the index check cannot throw). Defined before
  /// its callers, which deduce their return types from it.
  template <class F> decltype(auto) visit(F&& f) const {
    if (d_.index() == 0)
      return f(std::get<0>(d_));
    return f(std::get<1>(d_));
  }

public:
  /// The default device (default_device's datasheet).
  any_device() : any_device(default_device{}) {}
  /// The same part as a typed NVIDIA device.
  template <class Spec>
  any_device(const cuda_gpu<Spec>& d) // NOLINT(google-explicit-constructor): a device is a device
      : d_(std::in_place_type<cuda_gpu<>>, d.spec()) {}
  /// The same part as a typed Ascend device.
  template <class Spec>
  any_device(const ascend_npu<Spec>& d) // NOLINT(google-explicit-constructor)
      : d_(std::in_place_type<ascend_npu<>>, d.spec()) {}

  [[nodiscard]] std::string_view name() const noexcept {
    return visit([](const auto& d) { return d.name(); });
  }
  [[nodiscard]] std::string_view family() const noexcept {
    return visit([](const auto& d) { return d.family(); });
  }
  /// True for an NVIDIA part.
  [[nodiscard]] bool is_cuda() const noexcept { return d_.index() == 0; }
  /// The NVIDIA part, or nullptr.
  [[nodiscard]] const cuda_gpu<>* cuda() const noexcept { return std::get_if<0>(&d_); }
  /// The Ascend part, or nullptr.
  [[nodiscard]] const ascend_npu<>* ascend() const noexcept { return std::get_if<1>(&d_); }

  [[nodiscard]] const efficiency& efficiencies() const noexcept {
    return visit([](const auto& d) -> const efficiency& { return d.efficiencies(); });
  }
  /// Replaces the efficiency factors. @throws config_error if one is outside (0, 1].
  any_device& set_efficiencies(const efficiency& e) {
    std::visit([&](auto& d) { d.set_efficiencies(e); }, d_);
    return *this;
  }
  /// Replaces the number of devices in one scale-up domain. @throws config_error if it is < 1.
  any_device& set_devices_per_node(int n) {
    std::visit([&](auto& d) { d.set_devices_per_node(n); }, d_);
    return *this;
  }
  [[nodiscard]] double memory_bytes() const noexcept {
    return visit([](const auto& d) { return d.memory_bytes(); });
  }
  [[nodiscard]] double memory_bytes_per_s() const noexcept {
    return visit([](const auto& d) { return d.memory_bytes_per_s(); });
  }
  [[nodiscard]] int devices_per_node() const noexcept {
    return visit([](const auto& d) { return d.devices_per_node(); });
  }
  [[nodiscard]] double scale_up_bytes_per_s() const noexcept {
    return visit([](const auto& d) { return d.scale_up_bytes_per_s(); });
  }
  [[nodiscard]] double scale_out_bytes_per_s() const noexcept {
    return visit([](const auto& d) { return d.scale_out_bytes_per_s(); });
  }
  [[nodiscard]] double host_bytes_per_s() const noexcept {
    return visit([](const auto& d) { return d.host_bytes_per_s(); });
  }
  [[nodiscard]] double tdp_w() const noexcept {
    return visit([](const auto& d) { return d.tdp_w(); });
  }
  [[nodiscard]] double vector_flops() const noexcept {
    return visit([](const auto& d) { return d.vector_flops(); });
  }
  /// @throws config_error for a precision an Ascend part lacks (ascend_npu::peak_flops).
  [[nodiscard]] double peak_flops(precision p) const {
    return visit([&](const auto& d) { return d.peak_flops(p); });
  }
  /// True when the device runs matrix work at `p` natively (cuda_gpu / ascend_npu::supports).
  [[nodiscard]] bool supports(precision p) const noexcept {
    return visit([&](const auto& d) { return d.supports(p); });
  }
  /// The weight precision the device serves large models in (see serving_precision).
  [[nodiscard]] precision native_weight_precision() const noexcept {
    return visit([](const auto& d) { return d.native_weight_precision(); });
  }
  /// @throws config_error for FP8 or FP4 work on an Ascend part.
  [[nodiscard]] double op_time_s(const op_work& w) const {
    return visit([&](const auto& d) { return d.op_time_s(w); });
  }
  [[nodiscard]] double comm_time_s(const comm_work& c) const noexcept {
    return visit([&](const auto& d) { return d.comm_time_s(c); });
  }
  [[nodiscard]] double host_transfer_time_s(double bytes) const noexcept {
    return visit([&](const auto& d) { return d.host_transfer_time_s(bytes); });
  }

private:
  std::variant<cuda_gpu<>, ascend_npu<>> d_;
};

/// The weight precision `d` actually serves large models in: fp8 on parts with FP8 tensor cores
/// (H100, H800, H20, H200, Blackwell), int8 (W8A8: INT8 matrix math on the Cube, dequantisation
/// on the Vector units) on Ascend 910B and 910C, which have no FP8 units; bf16 elsewhere (A100).
/// A layout at this precision never fails require_precision on `d`.
[[nodiscard]] inline precision serving_precision(const any_device& d) noexcept {
  return d.native_weight_precision();
}

/// The catalog device called `name` (the names of device_names()), as an any_device.
/// @throws config_error listing the valid names when `name` is unknown.
[[nodiscard]] inline any_device make_device(std::string_view name) {
  return visit_device(name, [](const auto& d) { return any_device(d); });
}

} // namespace infercost
