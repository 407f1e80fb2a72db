/// @file
/// Total cost of ownership: what one device-hour costs, from a purchase (device, its share of the
/// server and network, power, maintenance, depreciation) or from a rental price.
#pragma once

#include <array>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"

namespace infercost {

/// A device bought and run for `years`. Power is charged at `utilisation` of `power_w`, times
/// the facility's PUE.
struct purchase_tco {
  double device_price_usd = 0.0;         ///< the accelerator itself
  double server_share_usd = 0.0;         ///< its share of host, chassis, memory, storage
  double network_share_usd = 0.0;        ///< its share of NICs, switches, cables
  double maintenance_per_year_usd = 0.0; ///< support contract, spares, staff share
  double years = 4.0;                    ///< straight-line depreciation period
  double power_w = 0.0;                  ///< device power draw at full load (TDP)
  double utilisation = 0.7;              ///< average fraction of power_w drawn
  double pue = 1.3;                      ///< power usage effectiveness of the facility
  double usd_per_kwh = 0.10;             ///< electricity price

  /// @throws config_error naming the first field out of its domain.
  void validate() const {
    constexpr std::string_view c = "device::tco";
    check_non_negative(c, "device_price_usd", device_price_usd);
    check_non_negative(c, "server_share_usd", server_share_usd);
    check_non_negative(c, "network_share_usd", network_share_usd);
    check_non_negative(c, "maintenance_per_year_usd", maintenance_per_year_usd);
    check_positive(c, "years", years);
    check_non_negative(c, "power_w", power_w);
    check_in_range(c, "utilisation", utilisation, 0.0, 1.0);
    if (!(pue >= 1.0))
      throw config_error(c, "pue", fmt::format("({}) must be >= 1", pue));
    check_non_negative(c, "usd_per_kwh", usd_per_kwh);
  }
};

/// $/device-hour and its parts.
class tco {
public:
  /// From a purchase. @throws config_error.
  [[nodiscard]] static tco from_purchase(const purchase_tco& p) {
    p.validate();
    const double hours = p.years * units::year_h;
    tco t;
    t.capex_usd_per_hour_ = (p.device_price_usd + p.server_share_usd + p.network_share_usd) / hours;
    t.maintenance_usd_per_hour_ = p.maintenance_per_year_usd / units::year_h;
    t.power_usd_per_hour_ = p.power_w * p.utilisation * p.pue / 1000.0 * p.usd_per_kwh;
    return t;
  }
  /// From a rental price per device-hour (everything included). @throws config_error.
  [[nodiscard]] static tco from_rental(double usd_per_device_hour) {
    check_positive("device::tco", "usd_per_device_hour", usd_per_device_hour);
    tco t;
    t.rental_usd_per_hour_ = usd_per_device_hour;
    return t;
  }

  /// Cost of one device-hour.
  [[nodiscard]] double usd_per_device_hour() const noexcept {
    return capex_usd_per_hour_ + maintenance_usd_per_hour_ + power_usd_per_hour_ +
           rental_usd_per_hour_;
  }
  /// Cost of one hour of `tflops` dense TFLOPS delivered at `utilisation` of peak.
  [[nodiscard]] double usd_per_tflop_hour(double tflops, double utilisation = 1.0) const {
    check_positive("device::tco", "tflops", tflops);
    check_in_range("device::tco", "utilisation", utilisation, 1e-9, 1.0);
    return usd_per_device_hour() / (tflops * utilisation);
  }
  [[nodiscard]] double capex_usd_per_hour() const noexcept { return capex_usd_per_hour_; }
  [[nodiscard]] double power_usd_per_hour() const noexcept { return power_usd_per_hour_; }
  [[nodiscard]] double maintenance_usd_per_hour() const noexcept {
    return maintenance_usd_per_hour_;
  }
  [[nodiscard]] double rental_usd_per_hour() const noexcept { return rental_usd_per_hour_; }

private:
  double capex_usd_per_hour_ = 0.0;
  double maintenance_usd_per_hour_ = 0.0;
  double power_usd_per_hour_ = 0.0;
  double rental_usd_per_hour_ = 0.0;
};

/// Indicative purchase price of a catalog device and where it comes from. Street prices move;
/// these are list or reported prices, for defaults only.
struct device_price {
  std::string_view device;
  double usd;
  std::string_view source;
};

/// CNY per USD used to convert the Ascend prices below (the article's own rate, ¥7.25).
inline constexpr double cny_per_usd_default = 7.25;

/// Price table. H100: $25–30k (awesomeagents.ai hardware page); H200 $32k, H800 $30k, H20 $14k
/// (MSRPs listed at huggingface.co/hardware); A100 80GB $10k (street, mercatus-ai.com 2025);
/// B200 $35k (commonly reported; no list price published); Ascend 910B ≈ ¥90k and 910C ≈ ¥140k
/// (broker reports, dzcnc.com; low confidence); a 910C die (Atlas 800 A3, CloudMatrix384) is
/// priced at half a 910C. B300: no public list price; $40k assumed (B200's
/// reported $35k plus ~15%). GB200 and GB300 NVL72 are sold as racks, reported at $2–3M and
/// $3–4M (awesomeagents.ai hardware pages; no list price): the midpoints per GPU ($2.5M / 72,
/// $3.5M / 72) include the Grace CPUs, NVLink switches and rack, so they are entered divided by
/// 1.45, which typical_purchase's server (35%) and network (10%) shares multiply back.
inline constexpr std::array<device_price, 19> device_prices{{
    {"a100_sxm", 10000.0, "street price, mercatus-ai.com (2025)"},
    {"h100_sxm", 27500.0, "$25-30k, awesomeagents.ai"},
    {"h800_sxm", 30000.0, "MSRP, huggingface.co/hardware/h800"},
    {"h20", 14000.0, "MSRP, huggingface.co/hardware/h20"},
    {"h200_sxm", 32000.0, "MSRP, huggingface.co/hardware/h200"},
    {"b200", 35000.0, "commonly reported; no list price"},
    {"ascend_910b2", 90000.0 / cny_per_usd_default, "~CNY 90k, broker report (dzcnc.com)"},
    {"ascend_910b3", 90000.0 / cny_per_usd_default, "~CNY 90k, broker report (dzcnc.com)"},
    {"ascend_910b4", 70000.0 / cny_per_usd_default, "assumed below 910B2/B3 (32 GB part)"},
    {"ascend_910b", 90000.0 / cny_per_usd_default, "~CNY 90k, broker report (dzcnc.com)"},
    {"ascend_910c", 140000.0 / cny_per_usd_default, "~CNY 140k, broker report (dzcnc.com)"},
    {"b300", 40000.0, "no public list price; assumption (B200 + ~15%)"},
    {"gb200_nvl72", 2.5e6 / 72.0 / 1.45, "rack ~$2-3M reported (awesomeagents.ai); no list price"},
    {"gb300_nvl72", 3.5e6 / 72.0 / 1.45, "rack ~$3-4M reported (awesomeagents.ai); no list price"},
    {"atlas_800_a3", 140000.0 / 2.0 / cny_per_usd_default,
     "half of a 910C, ~CNY 140k, broker report (dzcnc.com)"},
    {"cloudmatrix384", 140000.0 / 2.0 / cny_per_usd_default,
     "half of a 910C, ~CNY 140k, broker report (dzcnc.com); UB fabric not priced"},
    {"atlas_800t_a2", 90000.0 / cny_per_usd_default, "~CNY 90k, broker report (dzcnc.com)"},
    {"atlas_800i_a2", 90000.0 / cny_per_usd_default, "~CNY 90k, broker report (dzcnc.com)"},
    {"ascend_910c_die", 140000.0 / 2.0 / cny_per_usd_default,
     "half of a 910C, ~CNY 140k, broker report (dzcnc.com)"},
}};

/// DeepSeek's accounting rate: "Assuming the rental price of the H800 GPU is $2 per GPU hour"
/// (DeepSeek-V3 Technical Report, arXiv:2412.19437, §1, Table 1).
inline constexpr double deepseek_h800_usd_per_hour = 2.0;

/// Looks up a device's indicative price. @throws config_error for an unknown name.
[[nodiscard]] inline const device_price& price_of(std::string_view device) {
  for (const auto& p : device_prices)
    if (p.device == device)
      return p;
  throw config_error("device::tco", "device",
                     fmt::format("('{}') has no price in device_prices", device));
}

/// A typical purchase: the device's price, a server share of 35% of it and a network share of
/// 10% (assumptions: the non-GPU part of an 8-GPU server and its fabric), maintenance at 5% of
/// the hardware per year, 4-year depreciation, and the device's TDP.
[[nodiscard]] inline purchase_tco typical_purchase(std::string_view device, double tdp_w) {
  const double price = price_of(device).usd;
  return purchase_tco{.device_price_usd = price,
                      .server_share_usd = 0.35 * price,
                      .network_share_usd = 0.10 * price,
                      .maintenance_per_year_usd = 0.05 * 1.45 * price,
                      .years = 4.0,
                      .power_w = tdp_w};
}

} // namespace infercost
