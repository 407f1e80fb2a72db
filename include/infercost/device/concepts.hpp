/// @file
/// The concept every device cost model satisfies. It is the template parameter of every
/// component: routers, attention, speculative decoders, caches and the step-cost engine take a
/// `Device` and ask it how long work takes.
#pragma once

#include <concepts>
#include <string_view>

#include "infercost/device/efficiency.hpp"
#include "infercost/device/work.hpp"

namespace infercost {

/// A device cost model: names a chip, belongs to a family (`family()`: "cuda_gpu", "ascend_npu"),
/// and turns op_work and comm_work into seconds. Device values are cheap to copy and
/// default-constructible from their datasheet.
template <class D>
concept device_cost_model = std::default_initializable<D> && std::copy_constructible<D> &&
    requires(const D& d, const op_work& w, const comm_work& c, double bytes, precision p) {
  { d.name() } -> std::convertible_to<std::string_view>;
  { d.family() } -> std::convertible_to<std::string_view>;
  { d.memory_bytes() } -> std::convertible_to<double>;
  { d.memory_bytes_per_s() } -> std::convertible_to<double>;
  { d.peak_flops(p) } -> std::convertible_to<double>;
  { d.vector_flops() } -> std::convertible_to<double>;
  { d.efficiencies() } -> std::convertible_to<const efficiency&>;
  { d.devices_per_node() } -> std::convertible_to<int>;
  { d.scale_up_bytes_per_s() } -> std::convertible_to<double>;
  { d.scale_out_bytes_per_s() } -> std::convertible_to<double>;
  { d.host_bytes_per_s() } -> std::convertible_to<double>;
  { d.tdp_w() } -> std::convertible_to<double>;
  { d.op_time_s(w) } -> std::convertible_to<double>;
  { d.comm_time_s(c) } -> std::convertible_to<double>;
  { d.host_transfer_time_s(bytes) } -> std::convertible_to<double>;
};

} // namespace infercost
