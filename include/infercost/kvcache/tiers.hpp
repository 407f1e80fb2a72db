/// @file
/// The three tiers of a KV cache (device HBM, host DRAM, host NVMe SSD) and what of its hosts'
/// DRAM and drives one serving instance gets: the node's host memory and drives split evenly over
/// the node's devices, times a share left for the cache. How much HBM is left for KV, and what a
/// block costs in bytes, are the step-cost engine's answers (kvcache/sizing.hpp).
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/device/concepts.hpp"

namespace infercost::kvcache {

/// A storage tier, fastest first.
enum class tier : std::uint8_t { hbm = 0, dram = 1, ssd = 2 };

/// Number of tiers.
inline constexpr int num_tiers = 3;

/// "hbm", "dram", "ssd".
[[nodiscard]] constexpr std::string_view to_string(tier t) noexcept {
  switch (t) {
  case tier::hbm:
    return "hbm";
  case tier::dram:
    return "dram";
  case tier::ssd:
    return "ssd";
  }
  return "?";
}

/// When a block's KV is copied from HBM to DRAM.
enum class write_policy {
  write_back,    ///< on demotion: the copy is on the eviction path
  write_through, ///< at insertion, in the background: a later demotion moves no bytes
};

/// A capacity with no bound.
inline constexpr double unlimited_bytes = std::numeric_limits<double>::infinity();

/// Host memory and drives of one node, shared evenly by its devices.
///
/// Defaults: NVIDIA DGX H100 datasheet (2 TB DDR5 system memory; 8 × 3.84 TB NVMe U.2 data
/// drives = 30.72 TB; two Xeon Platinum 8480C, each 8 channels of DDR5-4800 = 8 × 38.4 GB/s =
/// 307.2 GB/s per socket). Drive speeds: Samsung 990 PRO (PCIe 4.0 NVMe) datasheet, 7,450 MB/s
/// sequential read and 6,900 MB/s sequential write.
struct host_config {
  double dram_bytes = 2.0 * units::tera;             ///< DDR5 per node
  double dram_bytes_per_s = 2 * 307.2 * units::giga; ///< DDR5 bandwidth per node (2 sockets)
  double dram_kv_fraction = 0.75; ///< share of DRAM given to the KV cache (the rest: OS, staging)
  int ssd_drives = 8;             ///< NVMe drives per node
  double ssd_bytes_per_drive = 3.84 * units::tera;
  double ssd_read_bytes_per_s = 7450.0 * units::mega;  ///< per drive, sequential
  double ssd_write_bytes_per_s = 6900.0 * units::mega; ///< per drive, sequential
  /// Fixed cost of one NVMe read or write batch. Assumed: NAND TLC page reads take tens of µs and
  /// a queued 4 KiB NVMe read ~100 µs; one batch pays it once.
  double ssd_latency_s = 100.0 * units::us;
  double ssd_kv_fraction = 0.9; ///< share of the drives given to the KV cache
  /// Devices sharing this host; 0: the device's own devices_per_node() (its server: 8 for DGX
  /// H100/H800 and Atlas 800 910B nodes).
  int devices_per_node = 0;

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "kvcache::host_config";
    check_non_negative(c, "dram_bytes", dram_bytes);
    check_positive(c, "dram_bytes_per_s", dram_bytes_per_s);
    check_in_range(c, "dram_kv_fraction", dram_kv_fraction, 0.0, 1.0);
    check_non_negative(c, "ssd_drives", ssd_drives);
    check_non_negative(c, "ssd_bytes_per_drive", ssd_bytes_per_drive);
    check_positive(c, "ssd_read_bytes_per_s", ssd_read_bytes_per_s);
    check_positive(c, "ssd_write_bytes_per_s", ssd_write_bytes_per_s);
    check_non_negative(c, "ssd_latency_s", ssd_latency_s);
    check_in_range(c, "ssd_kv_fraction", ssd_kv_fraction, 0.0, 1.0);
    check_non_negative(c, "devices_per_node", devices_per_node);
  }

  /// Devices sharing one host: devices_per_node, or `dev`'s own when that is 0.
  template <device_cost_model Device> [[nodiscard]] int devices_per_host(const Device& dev) const {
    return devices_per_node > 0 ? devices_per_node : dev.devices_per_node();
  }
};

/// Capacity in bytes of each tier for one instance (all its devices together).
struct tier_bytes {
  double hbm = 0.0;
  double dram = 0.0;
  double ssd = 0.0;
};

/// What an instance of `devices` devices gets of its hosts: its share (devices / devices per
/// host) of their DRAM and drives given to KV, and of their drives' count (whose bandwidths add).
struct host_share {
  double dram_bytes = 0.0;
  double ssd_bytes = 0.0;
  double ssd_drives = 0.0;
};

/// The host share of an instance of `devices` devices of type Device on hosts `h`.
/// @throws config_error for an invalid host or a device count that is not > 0.
template <device_cost_model Device>
[[nodiscard]] host_share instance_host_share(const Device& dev, const host_config& h, int devices) {
  h.validate();
  check_positive("kvcache::host_config", "devices", devices);
  const double share = static_cast<double>(devices) / h.devices_per_host(dev);
  return {.dram_bytes = h.dram_bytes * h.dram_kv_fraction * share,
          .ssd_bytes = h.ssd_drives * h.ssd_bytes_per_drive * h.ssd_kv_fraction * share,
          .ssd_drives = h.ssd_drives * share};
}

} // namespace infercost::kvcache
