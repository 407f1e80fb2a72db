/// @file
/// One-line summaries of devices: the numbers a capacity planner compares (peaks, bandwidths,
/// ridge point, $/hour), for tables and reports.
#pragma once

#include <string>
#include <vector>

#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/roofline.hpp"
#include "infercost/device/tco.hpp"

namespace infercost {

/// A device's headline numbers.
struct device_summary {
  std::string name;
  std::string family;
  double bf16_flops = 0;            ///< dense matrix peak at BF16
  double fp8_flops = 0;             ///< dense matrix peak at FP8; 0 where the device has no FP8
  double int8_flops = 0;            ///< dense matrix peak at INT8 (widened to BF16 where faster)
  std::string serving_precision;    ///< weight precision it serves (native_weight_precision)
  double memory_bytes = 0;          ///< HBM capacity
  double memory_bytes_per_s = 0;    ///< HBM bandwidth
  double ridge_bf16 = 0;            ///< FLOP/byte where BF16 GEMMs turn compute-bound
  double scale_up_bytes_per_s = 0;  ///< NVLink / HCCS per device per direction
  double scale_out_bytes_per_s = 0; ///< NIC per device per direction
  double tdp_w = 0;
  double price_usd = 0;    ///< indicative purchase price (device_prices)
  double usd_per_hour = 0; ///< typical_purchase TCO per device-hour
};

/// Summarises one device; `catalog_name` selects its price entry.
template <device_cost_model D>
[[nodiscard]] device_summary summarize_device(const D& d, std::string_view catalog_name) {
  device_summary s;
  s.name = std::string(catalog_name);
  s.family = std::string(d.family());
  s.bf16_flops = d.peak_flops(precision::bf16);
  bool has_fp8 = true;
  if constexpr (requires { d.supports(precision::fp8); })
    has_fp8 = d.supports(precision::fp8);
  s.fp8_flops = has_fp8 ? d.peak_flops(precision::fp8) : 0.0;
  s.int8_flops = d.peak_flops(precision::int8);
  if constexpr (requires { d.native_weight_precision(); })
    s.serving_precision = std::string(to_string(d.native_weight_precision()));
  s.memory_bytes = d.memory_bytes();
  s.memory_bytes_per_s = d.memory_bytes_per_s();
  s.ridge_bf16 = ridge_point(s.bf16_flops, s.memory_bytes_per_s);
  s.scale_up_bytes_per_s = d.scale_up_bytes_per_s();
  s.scale_out_bytes_per_s = d.scale_out_bytes_per_s();
  s.tdp_w = d.tdp_w();
  s.price_usd = price_of(catalog_name).usd;
  s.usd_per_hour =
      tco::from_purchase(typical_purchase(catalog_name, s.tdp_w)).usd_per_device_hour();
  return s;
}

/// Summaries of every catalog device, in catalog order (aliases, device_aliases, left out).
/// (A template, so that summarize_device is compiled for the thirteen device types only where a
/// program calls this, not in every translation unit that includes the header.)
template <class = void> [[nodiscard]] std::vector<device_summary> catalog_summary() {
  std::vector<device_summary> out;
  for (auto name : device_names())
    if (canonical_device_name(name) == name)
      out.push_back(visit_device(name, [&](const auto& d) { return summarize_device(d, name); }));
  return out;
}

} // namespace infercost
