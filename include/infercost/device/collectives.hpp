/// @file
/// Time of collectives on the two scale-up topologies infercost models, as latency + bandwidth
/// terms (the alpha-beta model; Thakur, Rabenseifner & Gropp, IJHPCA 2005).
///
/// - **Switched** (NVLink through NVSwitch, or any NIC fabric): every device reaches every peer
///   through one port of bandwidth B per direction, so the port is the bottleneck. Ring
///   algorithms: all-reduce moves 2(n-1)/n of the buffer through the port, all-gather and
///   reduce-scatter (n-1)/n, all-to-all the (n-1)/n share that leaves the rank; point-to-point
///   the whole message at the port's full rate.
/// - **Full mesh** (Ascend HCCS inside a node): each pair of devices has its own link of
///   bandwidth L. A point-to-point message gets one link; collectives send a 1/n shard to every
///   peer at once over min(n-1, links) links, so all-to-all, all-gather and reduce-scatter take
///   (S/n)/L and all-reduce (reduce-scatter then all-gather) 2(S/n)/L.
#pragma once

#include <algorithm>

#include "infercost/device/work.hpp"

namespace infercost {

/// Collective time on a switched fabric: `port_bytes_per_s` is the effective per-direction port
/// bandwidth of one device, `latency_s` the per-step latency.
[[nodiscard]] constexpr double
switched_collective_time_s(const comm_work& c, double port_bytes_per_s, double latency_s) noexcept {
  if (c.ranks <= 1 || c.bytes <= 0.0)
    return 0.0;
  const double n = c.ranks;
  switch (c.kind) {
  case collective::all_reduce:
    return 2.0 * (n - 1.0) * latency_s + 2.0 * (n - 1.0) / n * c.bytes / port_bytes_per_s;
  case collective::all_gather:
  case collective::reduce_scatter:
    return (n - 1.0) * latency_s + (n - 1.0) / n * c.bytes / port_bytes_per_s;
  case collective::all_to_all:
    return latency_s + (n - 1.0) / n * c.bytes / port_bytes_per_s;
  case collective::point_to_point:
    return latency_s + c.bytes / port_bytes_per_s;
  }
  return 0.0;
}

/// Collective time on a full mesh: `link_bytes_per_s` is the effective per-direction bandwidth of
/// one peer-to-peer link, `links` the number of links per device.
[[nodiscard]] constexpr double mesh_collective_time_s(const comm_work& c, double link_bytes_per_s,
                                                      int links, double latency_s) noexcept {
  if (c.ranks <= 1 || c.bytes <= 0.0)
    return 0.0;
  const double n = c.ranks;
  const double parallel_links = std::min(n - 1.0, static_cast<double>(std::max(links, 1)));
  const double leaving = (n - 1.0) / n * c.bytes; // bytes that leave each rank
  const double shard_s = leaving / (parallel_links * link_bytes_per_s);
  switch (c.kind) {
  case collective::all_reduce:
    return 2.0 * latency_s + 2.0 * shard_s;
  case collective::all_gather:
  case collective::reduce_scatter:
  case collective::all_to_all:
    return latency_s + shard_s;
  case collective::point_to_point:
    return latency_s + c.bytes / link_bytes_per_s;
  }
  return 0.0;
}

} // namespace infercost
