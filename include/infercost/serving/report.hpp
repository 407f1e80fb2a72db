/// @file
/// The result of a serving simulation: request counts and rejections, latency summaries,
/// goodput, throughput per device, utilisation, queueing, KV transfer, prefix-cache hits, device
/// time by category (`serving::usage`, what econ/ prices), per-instance totals and per-request
/// records; with a CSV writer of the records (the JSON writer, which needs nlohmann::json, is
/// serving/report_json.hpp). This header is light (no engine), so that consumers of a report need
/// not compile the simulator.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "infercost/core/stats.hpp"
#include "infercost/serving/metrics.hpp"

namespace infercost::serving {

/// What an instance does.
enum class instance_role : std::uint8_t { colocated, prefill, decode };

/// "colocated", "prefill", "decode".
[[nodiscard]] constexpr std::string_view to_string(instance_role r) noexcept {
  switch (r) {
  case instance_role::colocated:
    return "colocated";
  case instance_role::prefill:
    return "prefill";
  case instance_role::decode:
    return "decode";
  }
  return "?";
}

/// Running totals of one instance.
struct instance_stats {
  std::int64_t steps = 0;                  ///< forward passes
  std::int64_t decode_steps = 0;           ///< of which with decoding sequences
  std::int64_t prefill_steps = 0;          ///< of which with prefill chunks
  std::int64_t mixed_steps = 0;            ///< of which with both
  double busy_s = 0.0;                     ///< Σ step times
  double prefill_device_s = 0.0;           ///< device-seconds attributed to prefill
  double decode_device_s = 0.0;            ///< device-seconds attributed to decode
  double cache_load_device_s = 0.0;        ///< device-seconds loading prefix-cache hits
  std::int64_t decode_sequence_steps = 0;  ///< Σ over steps of the decoding sequences
  std::int64_t prefill_emitted_tokens = 0; ///< tokens emitted by the end of a prefill pass
  std::int64_t prefill_tokens = 0;         ///< prompt tokens computed (recomputation included)
  std::int64_t input_hit_tokens = 0;       ///< first-pass prompt tokens from the prefix cache
  std::int64_t input_miss_tokens = 0;      ///< first-pass prompt tokens computed
  std::int64_t output_tokens = 0;          ///< tokens of requests that completed here
  std::int64_t preemptions = 0;            ///< sequences evicted and recomputed
  std::int64_t completed = 0;              ///< requests that completed here
  std::int64_t max_running = 0;            ///< peak running sequences
  double peak_kv_tokens = 0.0;             ///< peak KV tokens held (reserved + decoding)
  double cache_load_bytes = 0.0;           ///< bytes loaded from DRAM/SSD for prefix hits
};

/// Device time and tokens of a run, by category, for pricing (econ::price_sheet reads the six
/// fields it shares with econ::device_usage). Device-seconds are summed over devices.
///
/// Attribution rule: every step's time × the instance's devices is split into cache loading
/// (time spent loading prefix hits from DRAM/SSD), prefill and decode; the compute time of a
/// step that mixes prefill chunks and decoding sequences is split in proportion to the times
/// the prefill part and the decode part would each take alone on the same instance. Idle device
/// time (devices × makespan − busy) is reported apart: it is a cost of the deployment that the
/// tokens did not use.
struct usage {
  int devices = 0;                    ///< devices of the cluster
  double makespan_s = 0.0;            ///< first arrival to last completion (closed loop: run_s)
  double prefill_device_s = 0.0;      ///< computing prompts (cache misses, recomputation)
  double cache_load_device_s = 0.0;   ///< loading cached prefixes from DRAM/SSD
  double decode_device_s = 0.0;       ///< generating output tokens
  double idle_device_s = 0.0;         ///< devices × makespan − busy device time
  std::int64_t input_hit_tokens = 0;  ///< prompt tokens served from the prefix cache
  std::int64_t input_miss_tokens = 0; ///< prompt tokens computed
  std::int64_t output_tokens = 0;     ///< generated tokens of completed requests

  /// prefill + cache load + decode.
  [[nodiscard]] double busy_device_s() const noexcept {
    return prefill_device_s + cache_load_device_s + decode_device_s;
  }
};

/// Prefix-cache totals over a cluster's instances.
struct cache_report {
  bool enabled = false;
  std::int64_t lookups = 0;
  std::int64_t looked_up_blocks = 0;
  std::array<std::int64_t, 3> hit_blocks{}; ///< by tier: hbm, dram, ssd
  std::int64_t miss_blocks = 0;
  std::int64_t dropped_blocks = 0; ///< evicted from the last tier or never placed
  double load_bytes = 0.0;         ///< bytes loaded from DRAM/SSD for hits

  /// Share of looked-up blocks found in tier t (0 hbm, 1 dram, 2 ssd); 0 without lookups.
  [[nodiscard]] double block_hit_rate(int t) const noexcept {
    return looked_up_blocks > 0 ? static_cast<double>(hit_blocks[static_cast<std::size_t>(t)]) /
                                      static_cast<double>(looked_up_blocks)
                                : 0.0;
  }
  /// Share of looked-up blocks found in any tier.
  [[nodiscard]] double block_hit_rate() const noexcept {
    return block_hit_rate(0) + block_hit_rate(1) + block_hit_rate(2);
  }
};

/// One instance's part of a report.
struct instance_report {
  int index = 0;
  instance_role role = instance_role::colocated;
  int devices = 0;
  double capacity_tokens = 0.0; ///< KV tokens running sequences may hold
  double utilisation = 0.0;     ///< busy time / makespan
  instance_stats stats{};
};

/// A closed-loop run (serving/closed_loop.hpp): its clients and which requests its statistics
/// cover. The measured requests are those issued in [first_measured, first_measured + measured);
/// per-request records keep every issued request.
struct closed_loop_report {
  int clients = 0;                 ///< requests in flight at most
  std::int64_t issued = 0;         ///< requests issued in all
  std::int64_t warmup = 0;         ///< first requests issued, left out of the statistics
  std::int64_t cooldown = 0;       ///< last requests issued, left out of the statistics
  double think_time_s = 0.0;       ///< between a completion and the client's next request
  double ramp_up_s = 0.0;          ///< clients' first requests spread evenly over this time
  double request_rate = 0.0;       ///< requests sent per second at most (0: no cap)
  double burstiness = 1.0;         ///< gamma shape of the gaps under a request rate
  std::int64_t first_measured = 0; ///< id of the first measured request (= warmup)
  std::int64_t measured = 0;       ///< issued − warm-up − cool-down
  std::int64_t completed = 0;      ///< issued requests that completed (measured or not)
  std::int64_t rejected = 0;       ///< issued requests that were rejected (measured or not)
  std::int64_t max_in_flight = 0;  ///< most requests issued and not yet ended at once
  double run_s = 0.0;              ///< time 0 to the end of the last request issued
};

/// Everything a run measured.
struct report {
  std::string mode;   ///< "colocated" or "pd"
  std::string model;  ///< model name
  std::string device; ///< device name
  std::string workload;
  std::string balancer;
  int devices = 0;                           ///< all instances' devices
  int prefill_devices = 0;                   ///< PD: prefill pool; colocated: all
  int decode_devices = 0;                    ///< PD: decode pool; colocated: all
  std::int64_t arrived = 0;                  ///< requests in the workload (closed loop: measured)
  std::int64_t completed = 0;                ///< finished with all their tokens
  std::int64_t rejected = 0;                 ///< refused, with a reason
  std::array<std::int64_t, 3> rejected_by{}; ///< indexed by rejection_reason
  std::int64_t input_tokens = 0;             ///< Σ prompt tokens of completed requests
  std::int64_t output_tokens = 0;            ///< Σ output tokens of completed requests
  double start_s = 0.0;                      ///< first arrival (closed loop: measured)
  double end_s = 0.0;                        ///< last completion (closed loop: measured)
  double makespan_s = 0.0;                   ///< end − start
  latency_summary latency{};
  goodput_result goodput{};
  double throughput_rps = 0.0;                        ///< completed / makespan
  double input_tokens_per_s_per_device = 0.0;         ///< over all devices
  double output_tokens_per_s_per_device = 0.0;        ///< over all devices
  double prefill_input_tokens_per_s_per_device = 0.0; ///< over the prefill pool's devices
  double decode_output_tokens_per_s_per_device = 0.0; ///< over the decode pool's devices
  double mean_utilisation = 0.0;                      ///< mean over instances of busy / makespan
  double mean_in_system = 0.0; ///< time-average requests in the system over the makespan
  std::int64_t preemptions = 0;
  std::int64_t kv_transfers = 0;
  double kv_bytes_transferred = 0.0;
  stats::summary transfer_s{}; ///< PD: prefill end to KV arrival, per transferred request
  cache_report cache{};
  usage use{};
  std::int64_t steps = 0;   ///< forward passes, all instances
  std::uint64_t events = 0; ///< events processed (arrivals included)
  std::vector<instance_report> instances;
  std::vector<request_record> requests;
  /// Set by a closed-loop run: its parameters; then the counts, latencies, goodput and
  /// throughput above cover the measured requests only (see basic_cluster::run).
  std::optional<closed_loop_report> closed_loop{};
};

/// Per-request records as CSV with a header row; empty fields for values not reached.
[[nodiscard]] inline std::string requests_csv(const report& r) {
  std::string s = "id,status,reason,arrival_s,input_tokens,output_tokens,cached_tokens,"
                  "prefill_instance,decode_instance,queue_s,ttft_s,tpot_s,e2e_s,transfer_s,"
                  "kv_bytes,preemptions\n";
  auto num = [&](double v) {
    if (std::isfinite(v))
      fmt::format_to(std::back_inserter(s), "{}", v);
  };
  for (const request_record& q : r.requests) {
    fmt::format_to(std::back_inserter(s), "{},{},{},", q.id, to_string(q.status),
                   to_string(q.reason));
    num(q.arrival_s);
    fmt::format_to(std::back_inserter(s), ",{},{},{},{},{},", q.input_tokens, q.output_tokens,
                   q.cached_tokens, q.prefill_instance, q.decode_instance);
    num(q.queue_s());
    s += ',';
    num(q.ttft_s());
    s += ',';
    num(q.tpot_s());
    s += ',';
    num(q.e2e_s());
    s += ',';
    num(q.transfer_s);
    s += ',';
    num(q.kv_bytes);
    fmt::format_to(std::back_inserter(s), ",{}\n", q.preemptions);
  }
  return s;
}

} // namespace infercost::serving
