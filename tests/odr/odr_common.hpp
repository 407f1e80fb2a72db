// What odr_a.cpp and odr_b.cpp each call: functions defined in headers that are not templates
// (a device's time, the JSON writer, the Mooncake reader, a CSV parse), which must be `inline` in
// header-only mode or this program fails to link. Returns a positive number.
#pragma once

#include <infercost/all.hpp>

namespace infercost::odr {

inline double exercise() {
  const double t = h100_sxm{}.op_time_s({.flops = 1e12});
  const std::string json = serving::to_json(serving::usage{});
  const auto trace = io::parse_mooncake_trace(
      "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1}\n", "odr.jsonl");
  const io::csv_table csv("a,b\n1,2\n", "odr.csv");
  return t * static_cast<double>(json.size() + trace.size() + csv.rows());
}

} // namespace infercost::odr
