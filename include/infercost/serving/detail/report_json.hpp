/// @file
/// The JSON writer of serving reports (see serving/report_json.hpp, which includes this file in
/// header-only mode; the compiled library compiles it once).
#pragma once

#include <cmath>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "infercost/core/macros.hpp"
#include "infercost/serving/report.hpp"
#include "infercost/serving/report_json.hpp"

namespace infercost::serving {

namespace detail {

using report_json = nlohmann::ordered_json; ///< keys keep the order they were written in

/// A JSON number; non-finite values (the NaN statistics of an empty summary, ...) become null.
[[nodiscard]] inline report_json json_number(double v) {
  return std::isfinite(v) ? report_json(v) : report_json(nullptr);
}

/// count, mean, p50, p90, p99, max.
[[nodiscard]] inline report_json json_summary(const stats::summary& s) {
  report_json j = report_json::object();
  j["count"] = static_cast<std::int64_t>(s.count);
  j["mean"] = json_number(s.mean);
  j["p50"] = json_number(s.p50);
  j["p90"] = json_number(s.p90);
  j["p99"] = json_number(s.p99);
  j["max"] = json_number(s.max);
  return j;
}

[[nodiscard]] inline report_json json_usage(const usage& u) {
  report_json j = report_json::object();
  j["devices"] = u.devices;
  j["makespan_s"] = json_number(u.makespan_s);
  j["prefill_device_s"] = json_number(u.prefill_device_s);
  j["cache_load_device_s"] = json_number(u.cache_load_device_s);
  j["decode_device_s"] = json_number(u.decode_device_s);
  j["idle_device_s"] = json_number(u.idle_device_s);
  j["input_hit_tokens"] = u.input_hit_tokens;
  j["input_miss_tokens"] = u.input_miss_tokens;
  j["output_tokens"] = u.output_tokens;
  return j;
}

/// One line, no spaces; bytes that are not UTF-8 in names become U+FFFD rather than throwing.
[[nodiscard]] inline std::string dump(const report_json& j) {
  return j.dump(-1, ' ', false, report_json::error_handler_t::replace);
}

} // namespace detail

INFERCOST_FUNC std::string to_json(const usage& u) { return detail::dump(detail::json_usage(u)); }

INFERCOST_FUNC std::string to_json(const report& r, bool with_requests) {
  using detail::json_number;
  using detail::report_json;
  report_json o = report_json::object();
  o["mode"] = r.mode;
  o["model"] = r.model;
  o["device"] = r.device;
  o["workload"] = r.workload;
  o["balancer"] = r.balancer;
  o["devices"] = r.devices;
  o["prefill_devices"] = r.prefill_devices;
  o["decode_devices"] = r.decode_devices;
  if (r.closed_loop) {
    // Only closed-loop runs carry the key, so a replay's text is unchanged.
    const closed_loop_report& l = *r.closed_loop;
    report_json& c = o["closed_loop"];
    c["clients"] = l.clients;
    c["issued"] = l.issued;
    c["warmup"] = l.warmup;
    c["cooldown"] = l.cooldown;
    c["think_time_s"] = json_number(l.think_time_s);
    c["ramp_up_s"] = json_number(l.ramp_up_s);
    c["request_rate"] = json_number(l.request_rate);
    c["burstiness"] = json_number(l.burstiness);
    c["first_measured"] = l.first_measured;
    c["measured"] = l.measured;
    c["completed"] = l.completed;
    c["rejected"] = l.rejected;
    c["max_in_flight"] = l.max_in_flight;
    c["run_s"] = json_number(l.run_s);
  }
  {
    report_json& q = o["requests"];
    q["arrived"] = r.arrived;
    q["completed"] = r.completed;
    q["rejected"] = r.rejected;
    report_json& why = q["rejected_by_reason"];
    why = report_json::object();
    for (const rejection_reason reason : all_rejection_reasons)
      why[std::string(to_string(reason))] = r.rejected_by[static_cast<std::size_t>(reason)];
  }
  o["input_tokens"] = r.input_tokens;
  o["output_tokens"] = r.output_tokens;
  o["start_s"] = json_number(r.start_s);
  o["end_s"] = json_number(r.end_s);
  o["makespan_s"] = json_number(r.makespan_s);
  o["ttft_s"] = detail::json_summary(r.latency.ttft_s);
  o["tpot_s"] = detail::json_summary(r.latency.tpot_s);
  o["e2e_s"] = detail::json_summary(r.latency.e2e_s);
  o["queue_s"] = detail::json_summary(r.latency.queue_s);
  {
    report_json& g = o["goodput"];
    g["slo_ttft_s"] = json_number(r.goodput.objective.ttft_s);
    g["slo_tpot_s"] = json_number(r.goodput.objective.tpot_s);
    g["met"] = r.goodput.met;
    g["attainment"] = json_number(r.goodput.attainment);
    g["requests_per_s"] = json_number(r.goodput.requests_per_s);
  }
  {
    report_json& t = o["throughput"];
    t["requests_per_s"] = json_number(r.throughput_rps);
    t["input_tokens_per_s_per_device"] = json_number(r.input_tokens_per_s_per_device);
    t["output_tokens_per_s_per_device"] = json_number(r.output_tokens_per_s_per_device);
    t["prefill_input_tokens_per_s_per_device"] =
        json_number(r.prefill_input_tokens_per_s_per_device);
    t["decode_output_tokens_per_s_per_device"] =
        json_number(r.decode_output_tokens_per_s_per_device);
  }
  o["mean_utilisation"] = json_number(r.mean_utilisation);
  o["mean_in_system"] = json_number(r.mean_in_system);
  o["preemptions"] = r.preemptions;
  {
    report_json& k = o["kv_transfer"];
    k["transfers"] = r.kv_transfers;
    k["bytes"] = json_number(r.kv_bytes_transferred);
    k["time_s"] = detail::json_summary(r.transfer_s);
  }
  {
    report_json& c = o["cache"];
    c["enabled"] = r.cache.enabled;
    c["lookups"] = r.cache.lookups;
    c["looked_up_blocks"] = r.cache.looked_up_blocks;
    c["hbm_hit_blocks"] = r.cache.hit_blocks[0];
    c["dram_hit_blocks"] = r.cache.hit_blocks[1];
    c["ssd_hit_blocks"] = r.cache.hit_blocks[2];
    c["miss_blocks"] = r.cache.miss_blocks;
    c["dropped_blocks"] = r.cache.dropped_blocks;
    c["block_hit_rate"] = json_number(r.cache.block_hit_rate());
    c["load_bytes"] = json_number(r.cache.load_bytes);
  }
  o["usage"] = detail::json_usage(r.use);
  o["steps"] = r.steps;
  o["events"] = static_cast<std::int64_t>(r.events);
  report_json instances = report_json::array();
  for (const instance_report& ir : r.instances) {
    report_json j = report_json::object();
    j["index"] = ir.index;
    j["role"] = to_string(ir.role);
    j["devices"] = ir.devices;
    j["capacity_tokens"] = json_number(ir.capacity_tokens);
    j["utilisation"] = json_number(ir.utilisation);
    j["steps"] = ir.stats.steps;
    j["decode_steps"] = ir.stats.decode_steps;
    j["prefill_steps"] = ir.stats.prefill_steps;
    j["mixed_steps"] = ir.stats.mixed_steps;
    j["busy_s"] = json_number(ir.stats.busy_s);
    j["prefill_tokens"] = ir.stats.prefill_tokens;
    j["output_tokens"] = ir.stats.output_tokens;
    j["completed"] = ir.stats.completed;
    j["preemptions"] = ir.stats.preemptions;
    j["max_running"] = ir.stats.max_running;
    j["peak_kv_tokens"] = json_number(ir.stats.peak_kv_tokens);
    instances.push_back(std::move(j));
  }
  o["instances"] = std::move(instances);
  if (with_requests) {
    report_json records = report_json::array();
    records.get_ref<report_json::array_t&>().reserve(r.requests.size());
    for (const request_record& q : r.requests) {
      report_json j = report_json::object();
      j["id"] = q.id;
      j["status"] = to_string(q.status);
      j["reason"] = to_string(q.reason);
      j["arrival_s"] = json_number(q.arrival_s);
      j["input_tokens"] = q.input_tokens;
      j["output_tokens"] = q.output_tokens;
      j["cached_tokens"] = q.cached_tokens;
      j["prefill_instance"] = q.prefill_instance;
      j["decode_instance"] = q.decode_instance;
      j["ttft_s"] = json_number(q.ttft_s());
      j["tpot_s"] = json_number(q.tpot_s());
      j["e2e_s"] = json_number(q.e2e_s());
      j["queue_s"] = json_number(q.queue_s());
      j["transfer_s"] = json_number(q.transfer_s);
      j["preemptions"] = q.preemptions;
      records.push_back(std::move(j));
    }
    o["request_records"] = std::move(records);
  }
  return detail::dump(o);
}

} // namespace infercost::serving
