/// @file
/// The result of a serving simulation: request counts and rejections, latency summaries,
/// goodput, throughput per device, utilisation, queueing, KV transfer, prefix-cache hits, device
/// time by category (`serving::usage`, what econ/ prices), per-instance totals and per-request
/// records; with JSON and CSV writers. This header is light (no engine), so that consumers of
/// a report need not compile the simulator.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

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
  double makespan_s = 0.0;            ///< first arrival to last completion
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
  std::int64_t arrived = 0;                  ///< requests in the workload
  std::int64_t completed = 0;                ///< finished with all their tokens
  std::int64_t rejected = 0;                 ///< refused, with a reason
  std::array<std::int64_t, 3> rejected_by{}; ///< indexed by rejection_reason
  std::int64_t input_tokens = 0;             ///< Σ prompt tokens of completed requests
  std::int64_t output_tokens = 0;            ///< Σ output tokens of completed requests
  double start_s = 0.0;                      ///< first arrival
  double end_s = 0.0;                        ///< last completion
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
};

namespace detail {

/// Appends a JSON number (shortest round-trip form); non-finite values become null.
inline void json_number(std::string& out, double v) {
  if (std::isfinite(v))
    fmt::format_to(std::back_inserter(out), "{}", v);
  else
    out += "null";
}
inline void json_number(std::string& out, std::int64_t v) {
  fmt::format_to(std::back_inserter(out), "{}", v);
}
inline void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20)
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
      else
        out += c;
    }
  }
  out += '"';
}

/// A minimal streaming JSON object writer: key/value pairs with commas handled.
class json_object {
public:
  explicit json_object(std::string& out) : out_(out) { out_ += '{'; }
  json_object(const json_object&) = delete;
  json_object& operator=(const json_object&) = delete;
  ~json_object() { out_ += '}'; }

  void key(std::string_view k) {
    if (!first_)
      out_ += ',';
    first_ = false;
    json_string(out_, k);
    out_ += ':';
  }
  void num(std::string_view k, double v) {
    key(k);
    json_number(out_, v);
  }
  void integer(std::string_view k, std::int64_t v) {
    key(k);
    json_number(out_, v);
  }
  void str(std::string_view k, std::string_view v) {
    key(k);
    json_string(out_, v);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
  }
  std::string& out() noexcept { return out_; }

private:
  std::string& out_;
  bool first_ = true;
};

inline void json_summary(json_object& o, std::string_view k, const stats::summary& s) {
  o.key(k);
  json_object j(o.out());
  j.integer("count", static_cast<std::int64_t>(s.count));
  j.num("mean", s.mean);
  j.num("p50", s.p50);
  j.num("p90", s.p90);
  j.num("p99", s.p99);
  j.num("max", s.max);
}

} // namespace detail

/// The usage as a JSON object.
[[nodiscard]] inline std::string to_json(const usage& u) {
  std::string s;
  {
    detail::json_object o(s);
    o.integer("devices", u.devices);
    o.num("makespan_s", u.makespan_s);
    o.num("prefill_device_s", u.prefill_device_s);
    o.num("cache_load_device_s", u.cache_load_device_s);
    o.num("decode_device_s", u.decode_device_s);
    o.num("idle_device_s", u.idle_device_s);
    o.integer("input_hit_tokens", u.input_hit_tokens);
    o.integer("input_miss_tokens", u.input_miss_tokens);
    o.integer("output_tokens", u.output_tokens);
  }
  return s;
}

/// The report as JSON (one line; keys in a fixed order, numbers in shortest round-trip form, so
/// equal reports give identical text). Per-request records are included when `with_requests`.
[[nodiscard]] inline std::string to_json(const report& r, bool with_requests = false) {
  std::string s;
  s.reserve(4096 + (with_requests ? r.requests.size() * 256 : 0));
  {
    detail::json_object o(s);
    o.str("mode", r.mode);
    o.str("model", r.model);
    o.str("device", r.device);
    o.str("workload", r.workload);
    o.str("balancer", r.balancer);
    o.integer("devices", r.devices);
    o.integer("prefill_devices", r.prefill_devices);
    o.integer("decode_devices", r.decode_devices);
    o.key("requests");
    {
      detail::json_object q(s);
      q.integer("arrived", r.arrived);
      q.integer("completed", r.completed);
      q.integer("rejected", r.rejected);
      q.key("rejected_by_reason");
      detail::json_object why(s);
      for (const rejection_reason reason : all_rejection_reasons)
        why.integer(to_string(reason), r.rejected_by[static_cast<std::size_t>(reason)]);
    }
    o.integer("input_tokens", r.input_tokens);
    o.integer("output_tokens", r.output_tokens);
    o.num("start_s", r.start_s);
    o.num("end_s", r.end_s);
    o.num("makespan_s", r.makespan_s);
    detail::json_summary(o, "ttft_s", r.latency.ttft_s);
    detail::json_summary(o, "tpot_s", r.latency.tpot_s);
    detail::json_summary(o, "e2e_s", r.latency.e2e_s);
    detail::json_summary(o, "queue_s", r.latency.queue_s);
    o.key("goodput");
    {
      detail::json_object g(s);
      g.num("slo_ttft_s", r.goodput.objective.ttft_s);
      g.num("slo_tpot_s", r.goodput.objective.tpot_s);
      g.integer("met", r.goodput.met);
      g.num("attainment", r.goodput.attainment);
      g.num("requests_per_s", r.goodput.requests_per_s);
    }
    o.key("throughput");
    {
      detail::json_object t(s);
      t.num("requests_per_s", r.throughput_rps);
      t.num("input_tokens_per_s_per_device", r.input_tokens_per_s_per_device);
      t.num("output_tokens_per_s_per_device", r.output_tokens_per_s_per_device);
      t.num("prefill_input_tokens_per_s_per_device", r.prefill_input_tokens_per_s_per_device);
      t.num("decode_output_tokens_per_s_per_device", r.decode_output_tokens_per_s_per_device);
    }
    o.num("mean_utilisation", r.mean_utilisation);
    o.num("mean_in_system", r.mean_in_system);
    o.integer("preemptions", r.preemptions);
    o.key("kv_transfer");
    {
      detail::json_object k(s);
      k.integer("transfers", r.kv_transfers);
      k.num("bytes", r.kv_bytes_transferred);
      detail::json_summary(k, "time_s", r.transfer_s);
    }
    o.key("cache");
    {
      detail::json_object c(s);
      c.boolean("enabled", r.cache.enabled);
      c.integer("lookups", r.cache.lookups);
      c.integer("looked_up_blocks", r.cache.looked_up_blocks);
      c.integer("hbm_hit_blocks", r.cache.hit_blocks[0]);
      c.integer("dram_hit_blocks", r.cache.hit_blocks[1]);
      c.integer("ssd_hit_blocks", r.cache.hit_blocks[2]);
      c.integer("miss_blocks", r.cache.miss_blocks);
      c.integer("dropped_blocks", r.cache.dropped_blocks);
      c.num("block_hit_rate", r.cache.block_hit_rate());
      c.num("load_bytes", r.cache.load_bytes);
    }
    o.key("usage");
    s += to_json(r.use);
    o.integer("steps", r.steps);
    o.integer("events", static_cast<std::int64_t>(r.events));
    o.key("instances");
    s += '[';
    for (std::size_t i = 0; i < r.instances.size(); ++i) {
      const instance_report& ir = r.instances[i];
      if (i)
        s += ',';
      detail::json_object j(s);
      j.integer("index", ir.index);
      j.str("role", to_string(ir.role));
      j.integer("devices", ir.devices);
      j.num("capacity_tokens", ir.capacity_tokens);
      j.num("utilisation", ir.utilisation);
      j.integer("steps", ir.stats.steps);
      j.integer("decode_steps", ir.stats.decode_steps);
      j.integer("prefill_steps", ir.stats.prefill_steps);
      j.integer("mixed_steps", ir.stats.mixed_steps);
      j.num("busy_s", ir.stats.busy_s);
      j.integer("prefill_tokens", ir.stats.prefill_tokens);
      j.integer("output_tokens", ir.stats.output_tokens);
      j.integer("completed", ir.stats.completed);
      j.integer("preemptions", ir.stats.preemptions);
      j.integer("max_running", ir.stats.max_running);
      j.num("peak_kv_tokens", ir.stats.peak_kv_tokens);
    }
    s += ']';
    if (with_requests) {
      o.key("request_records");
      s += '[';
      for (std::size_t i = 0; i < r.requests.size(); ++i) {
        const request_record& q = r.requests[i];
        if (i)
          s += ',';
        detail::json_object j(s);
        j.integer("id", q.id);
        j.str("status", to_string(q.status));
        j.str("reason", to_string(q.reason));
        j.num("arrival_s", q.arrival_s);
        j.integer("input_tokens", q.input_tokens);
        j.integer("output_tokens", q.output_tokens);
        j.integer("cached_tokens", q.cached_tokens);
        j.integer("prefill_instance", q.prefill_instance);
        j.integer("decode_instance", q.decode_instance);
        j.num("ttft_s", q.ttft_s());
        j.num("tpot_s", q.tpot_s());
        j.num("e2e_s", q.e2e_s());
        j.num("queue_s", q.queue_s());
        j.num("transfer_s", q.transfer_s);
        j.integer("preemptions", q.preemptions);
      }
      s += ']';
    }
  }
  return s;
}

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
