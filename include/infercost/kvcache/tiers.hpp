/// @file
/// The three tiers of a KV cache (device HBM, host DRAM, host NVMe SSD), how many bytes each holds
/// for one serving instance, and what a block of KV costs in bytes.
///
/// Sizing: the HBM share of one device is (memory − weights / devices − activation reserve) ×
/// fraction; DRAM and SSD are the node's host memory and drives split evenly over the node's
/// devices, times a fraction left for the cache. A block of `block_tokens` tokens costs
/// block_tokens × KV bytes per token, where sliding-window layers hold only their window: over a
/// prefix of `reference_context` tokens a token's share is
/// kv_bytes_per_sequence(reference_context) / reference_context (MLA stores the latent; an FP8
/// KV cache halves BF16's bytes).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/core/units.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/work.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/model/model_config.hpp"

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

/// How one serving instance holds a model: `devices` devices share the weights, and their HBM
/// left over holds KV blocks of `block_tokens` tokens.
struct deployment {
  int devices = 8;                                    ///< devices of one instance
  precision weight_precision = precision::fp8;        ///< weight storage
  precision kv_precision = precision::bf16;           ///< KV-cache storage (fp8 halves it)
  double activation_reserve_bytes = 8.0 * units::gib; ///< per device: activations, workspace
  double hbm_kv_fraction = 0.9; ///< share of what is left given to the KV cache
  /// Tokens per block; Mooncake's hash_ids name 512-token blocks.
  std::int64_t block_tokens = io::mooncake_block_tokens;
  /// Prompt length over which a sliding-window block's footprint is averaged; default: the
  /// Mooncake conversation trace's mean input, 12,035 tokens (shared/data/README).
  std::int64_t reference_context = 12035;

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "kvcache::deployment";
    check_positive(c, "devices", devices);
    check_non_negative(c, "activation_reserve_bytes", activation_reserve_bytes);
    check_in_range(c, "hbm_kv_fraction", hbm_kv_fraction, 0.0, 1.0);
    check_positive(c, "block_tokens", block_tokens);
    check_positive(c, "reference_context", reference_context);
  }
};

/// KV bytes of one block over all layers (see the file comment for sliding windows).
/// @throws config_error if the model or deployment is invalid.
[[nodiscard]] inline double block_bytes(const model::model_config& m, const deployment& d) {
  m.validate();
  d.validate();
  const double per_token = model::kv_bytes_per_sequence(m, d.reference_context, d.kv_precision) /
                           static_cast<double>(d.reference_context);
  return per_token * static_cast<double>(d.block_tokens);
}

/// HBM bytes one device gives to KV: (memory − weights/devices − reserve) × fraction.
/// @throws config_error if the weights and reserve do not fit in the device's memory.
template <device_cost_model Device>
[[nodiscard]] double hbm_kv_bytes_per_device(const Device& dev, const model::model_config& m,
                                             const deployment& d) {
  d.validate();
  const double weights = model::weight_bytes(m, d.weight_precision) / d.devices;
  const double free = dev.memory_bytes() - weights - d.activation_reserve_bytes;
  if (!(free > 0.0))
    throw config_error("kvcache::deployment", "devices",
                       fmt::format("({}) leave no HBM for KV: {} weights per device + {} reserve "
                                   "exceed {} memory bytes of {}",
                                   d.devices, weights, d.activation_reserve_bytes,
                                   dev.memory_bytes(), dev.name()));
  return free * d.hbm_kv_fraction;
}

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

/// Tier capacities of an instance of `d.devices` devices on hosts `h`.
/// @throws config_error for an invalid input or weights that do not fit.
template <device_cost_model Device>
[[nodiscard]] tier_bytes instance_tier_bytes(const Device& dev, const model::model_config& m,
                                             const deployment& d, const host_config& h) {
  const host_share s = instance_host_share(dev, h, d.devices);
  return {.hbm = hbm_kv_bytes_per_device(dev, m, d) * d.devices,
          .dram = s.dram_bytes,
          .ssd = s.ssd_bytes};
}

} // namespace infercost::kvcache
