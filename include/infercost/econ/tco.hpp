/// @file
/// The device-hour side of economics: CNY/USD conversion at an explicit rate, whole servers bought
/// as one unit and shared per device, and named deployment scenarios (rentals and purchases with
/// cited prices), each giving $/device-hour through device/tco.hpp's `tco`.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/device/any_device.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/tco.hpp"

namespace infercost::econ {

/// CNY per USD the article converts with: §5.1 prints GPT-5.5 in dollars as `gpt / 7.25`, and its
/// PRICING_DATA turns $5, $30, $15, $75 into ¥36.25, ¥217.50, ¥108.75, ¥543.75. Same value as
/// device/tco.hpp's `cny_per_usd_default`, which the Ascend purchase prices use.
inline constexpr double article_cny_per_usd = cny_per_usd_default;

/// `usd` dollars in yuan at `cny_per_usd`. @throws config_error for a non-finite amount or a rate
/// that is not finite and > 0.
[[nodiscard]] inline double usd_to_cny(double usd, double cny_per_usd) {
  check_finite("econ::fx", "usd", usd);
  check_positive("econ::fx", "cny_per_usd", cny_per_usd);
  return usd * cny_per_usd;
}

/// `cny` yuan in dollars at `cny_per_usd`. @throws config_error as usd_to_cny.
[[nodiscard]] inline double cny_to_usd(double cny, double cny_per_usd) {
  check_finite("econ::fx", "cny", cny);
  check_positive("econ::fx", "cny_per_usd", cny_per_usd);
  return cny / cny_per_usd;
}

/// A server bought whole (devices, host, chassis) and run for `years`; `per_device()` gives each
/// device's equal share as a `purchase_tco`. Power is the whole server's draw.
struct server_purchase {
  double server_price_usd = 0.0;         ///< the whole server, devices included
  int devices = 8;                       ///< accelerators in the server
  double maintenance_per_year_usd = 0.0; ///< for the whole server
  double years = 4.0;                    ///< straight-line depreciation period
  double server_power_w = 0.0;           ///< whole-server draw at full load
  double utilisation = 0.7;              ///< average fraction of server_power_w drawn
  double pue = 1.3;                      ///< power usage effectiveness of the facility
  double usd_per_kwh = 0.10;             ///< electricity price

  /// @throws config_error naming the first field out of its domain.
  void validate() const {
    constexpr std::string_view c = "econ::server_purchase";
    check_non_negative(c, "server_price_usd", server_price_usd);
    check_positive(c, "devices", devices);
    check_non_negative(c, "maintenance_per_year_usd", maintenance_per_year_usd);
    check_positive(c, "years", years);
    check_non_negative(c, "server_power_w", server_power_w);
    check_in_range(c, "utilisation", utilisation, 0.0, 1.0);
    if (!(pue >= 1.0))
      throw config_error(c, "pue", fmt::format("({}) must be >= 1", pue));
    check_non_negative(c, "usd_per_kwh", usd_per_kwh);
  }

  /// One device's share: price, maintenance and power divided by `devices`. @throws config_error.
  [[nodiscard]] purchase_tco per_device() const {
    validate();
    const double n = devices;
    return purchase_tco{.device_price_usd = server_price_usd / n,
                        .server_share_usd = 0.0,
                        .network_share_usd = 0.0,
                        .maintenance_per_year_usd = maintenance_per_year_usd / n,
                        .years = years,
                        .power_w = server_power_w / n,
                        .utilisation = utilisation,
                        .pue = pue,
                        .usd_per_kwh = usd_per_kwh};
  }
};

/// How a deployment pays for its devices.
enum class cost_basis {
  rental,  ///< a price per device-hour, everything included
  purchase ///< bought, depreciated, powered and maintained (purchase_tco)
};

/// A named way of paying for devices: which catalog device, what one device-hour costs and where
/// the price comes from.
struct deployment {
  std::string name;   ///< preset name, e.g. "deepseek_h800_rental"
  std::string device; ///< catalog device name (device_names())
  cost_basis basis = cost_basis::rental;
  tco cost;           ///< $/device-hour and its parts
  std::string source; ///< where the price comes from

  /// Cost of one device-hour in USD.
  [[nodiscard]] double usd_per_device_hour() const noexcept { return cost.usd_per_device_hour(); }
};

/// Electricity price implied by the article's §4.2: electricity_3yr of ¥170,000 (A100 server,
/// 6,500 W) and ¥136,000 (910B server, 5,200 W) over 3 × 8,760 h at full load is ¥0.995/kWh for
/// both; ¥1/kWh at full draw and PUE 1 reproduces them to within 0.5%.
inline constexpr double article_cny_per_kwh = 1.0;

/// Per-device on-demand prices behind the rental presets, USD per device-hour.
/// AWS p5.48xlarge (8 × H100 SXM) $55.04/h and Azure ND96isr_H100_v5 $98.32/h: us-east-1 / eastus
/// on-demand list prices as transcribed in datareceipts/data-receipts, 109-gpu-pricing/
/// hyperscalers.json; RunPod H100 SXM Community Cloud $2.69: runpod.io/pricing (same source,
/// vendors.json); AWS p5en.48xlarge (8 × H200) $63.296/h in us-east-1: `dstack offer` listing in
/// dstackai/dstack pull request 4110; Hyperstack H200 SXM $3.99: hyperstack.cloud/gpu-pricing
/// on-demand rate card.
inline constexpr double aws_p5_h100_usd_per_hour = 55.04 / 8.0;
inline constexpr double azure_nd_h100_v5_usd_per_hour = 98.32 / 8.0;
inline constexpr double runpod_h100_community_usd_per_hour = 2.69;
inline constexpr double aws_p5en_h200_usd_per_hour = 63.296 / 8.0;
inline constexpr double hyperstack_h200_usd_per_hour = 3.99;

/// One 8-device server of the article's §4.1 table, in yuan.
struct article_server {
  std::string_view name;         ///< the article's key, e.g. "NVIDIA_A100"
  std::string_view device;       ///< the closest catalog device
  double gpu_price_cny;          ///< "gpu_price" (unused by the article's code)
  double server_price_cny;       ///< "server_price", whole 8-device server
  double tflops_fp16;            ///< "tflops_fp16", one device
  double power_w;                ///< "power_w", whole server
  double maintenance_yearly_cny; ///< "maintenance_yearly", whole server
};

/// The article's §4.1 `compute_configs` (8-GPU servers, yuan).
inline constexpr std::array<article_server, 3> article_servers{{
    {"NVIDIA_A100", "a100_sxm", 150000.0, 1300000.0, 312.0, 6500.0, 130000.0},
    {"NVIDIA_H100", "h100_sxm", 300000.0, 2600000.0, 989.0, 14000.0, 300000.0},
    {"Ascend_910B", "ascend_910b", 80000.0, 720000.0, 256.0, 5200.0, 72000.0},
}};

/// Devices per server in the article's §4.1 ("8-GPU server").
inline constexpr int article_devices_per_server = 8;
/// Depreciation period of the article's §4.1 and §4.2 ("3-year depreciation").
inline constexpr double article_years = 3.0;

/// The article's server as a `server_purchase` in USD at `cny_per_usd`: its price, maintenance and
/// power, `article_years`, electricity at `article_cny_per_kwh`, full draw and PUE 1 (as §4.2
/// charges it). @throws config_error for a bad rate.
[[nodiscard]] inline server_purchase article_server_purchase(const article_server& s,
                                                             double cny_per_usd) {
  return server_purchase{.server_price_usd = cny_to_usd(s.server_price_cny, cny_per_usd),
                         .devices = article_devices_per_server,
                         .maintenance_per_year_usd =
                             cny_to_usd(s.maintenance_yearly_cny, cny_per_usd),
                         .years = article_years,
                         .server_power_w = s.power_w,
                         .utilisation = 1.0,
                         .pue = 1.0,
                         .usd_per_kwh = cny_to_usd(article_cny_per_kwh, cny_per_usd)};
}

/// Names accepted by find_deployment, in display order.
inline constexpr std::array<std::string_view, 11> deployment_names{"deepseek_h800_rental",
                                                                   "runpod_h100_community",
                                                                   "aws_p5_h100_on_demand",
                                                                   "azure_nd_h100_v5_on_demand",
                                                                   "hyperstack_h200_on_demand",
                                                                   "aws_p5en_h200_on_demand",
                                                                   "h800_purchase",
                                                                   "ascend_910b_purchase",
                                                                   "article_a100_server",
                                                                   "article_h100_server",
                                                                   "article_ascend_910b_server"};

namespace detail {
inline deployment rental(std::string_view name, std::string_view device, double usd_per_hour,
                         std::string_view source) {
  return deployment{std::string(name), std::string(device), cost_basis::rental,
                    tco::from_rental(usd_per_hour), std::string(source)};
}
inline deployment typical(std::string_view name, std::string_view device) {
  const double tdp = visit_device(device, [](const auto& d) { return d.tdp_w(); });
  return deployment{std::string(name), std::string(device), cost_basis::purchase,
                    tco::from_purchase(typical_purchase(device, tdp)),
                    fmt::format("typical_purchase: {} (device/tco.hpp), TDP {} W, 4 years",
                                price_of(device).source, tdp)};
}
inline deployment article(std::string_view name, const article_server& s) {
  return deployment{
      std::string(name), std::string(s.device), cost_basis::purchase,
      tco::from_purchase(article_server_purchase(s, article_cny_per_usd).per_device()),
      fmt::format("article §4.1 {} server ¥{:.0f} + ¥{:.0f}/yr, {} W, 3 years, ¥1/kWh, ¥{}/$",
                  s.name, s.server_price_cny, s.maintenance_yearly_cny, s.power_w,
                  article_cny_per_usd)};
}
} // namespace detail

/// The deployment preset with this name. @throws config_error listing the valid names.
[[nodiscard]] inline deployment find_deployment(std::string_view name) {
  if (name == "deepseek_h800_rental")
    return detail::rental(name, "h800_sxm", deepseek_h800_usd_per_hour,
                          "DeepSeek-V3 Technical Report (arXiv:2412.19437) §1: H800 at $2 per "
                          "GPU-hour");
  if (name == "runpod_h100_community")
    return detail::rental(name, "h100_sxm", runpod_h100_community_usd_per_hour,
                          "runpod.io/pricing, H100 SXM Community Cloud on-demand");
  if (name == "aws_p5_h100_on_demand")
    return detail::rental(name, "h100_sxm", aws_p5_h100_usd_per_hour,
                          "AWS EC2 p5.48xlarge on-demand $55.04/h for 8 GPUs, us-east-1");
  if (name == "azure_nd_h100_v5_on_demand")
    return detail::rental(name, "h100_sxm", azure_nd_h100_v5_usd_per_hour,
                          "Azure ND96isr_H100_v5 on-demand $98.32/h for 8 GPUs, eastus");
  if (name == "hyperstack_h200_on_demand")
    return detail::rental(name, "h200_sxm", hyperstack_h200_usd_per_hour,
                          "hyperstack.cloud/gpu-pricing, H200 SXM on-demand");
  if (name == "aws_p5en_h200_on_demand")
    return detail::rental(name, "h200_sxm", aws_p5en_h200_usd_per_hour,
                          "AWS EC2 p5en.48xlarge on-demand $63.296/h for 8 GPUs, us-east-1");
  if (name == "h800_purchase")
    return detail::typical(name, "h800_sxm");
  if (name == "ascend_910b_purchase")
    return detail::typical(name, "ascend_910b");
  if (name == "article_a100_server")
    return detail::article(name, article_servers[0]);
  if (name == "article_h100_server")
    return detail::article(name, article_servers[1]);
  if (name == "article_ascend_910b_server")
    return detail::article(name, article_servers[2]);
  std::string valid;
  for (auto n : deployment_names)
    valid += (valid.empty() ? "" : ", ") + std::string(n);
  throw config_error("econ::tco", "deployment",
                     fmt::format("('{}') is not a known deployment; valid: {}", name, valid));
}

/// A device's $/device-hour and where it comes from.
struct device_rate {
  double usd_per_device_hour = 0.0;
  std::string source;
};

/// The $/device-hour of catalog device `device` when none is given: the first deployment preset of
/// that device (an alias matches its catalog entry: ascend_910b is ascend_910b2), else the
/// device's typical purchase (device/tco.hpp) over 4 years. @throws config_error for an unknown
/// device.
[[nodiscard]] inline device_rate default_rate(std::string_view device) {
  const any_device d = make_device(device);
  for (const std::string_view name : deployment_names) {
    const deployment p = find_deployment(name);
    if (make_device(p.device).name() == d.name())
      return {p.usd_per_device_hour(), fmt::format("{}: {}", p.name, p.source)};
  }
  const double tdp = d.tdp_w();
  return {tco::from_purchase(typical_purchase(d.name(), tdp)).usd_per_device_hour(),
          fmt::format("typical_purchase: {} (device/tco.hpp), TDP {} W, 4 years",
                      price_of(d.name()).source, tdp)};
}

/// Every deployment preset, in the order of deployment_names.
[[nodiscard]] inline std::vector<deployment> deployments() {
  std::vector<deployment> all;
  all.reserve(deployment_names.size());
  for (auto n : deployment_names)
    all.push_back(find_deployment(n));
  return all;
}

} // namespace infercost::econ
