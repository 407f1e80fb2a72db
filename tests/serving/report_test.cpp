#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "infercost/serving/report.hpp"
#include "infercost/serving/report_json.hpp"

using namespace infercost;

namespace {
/// Brackets and braces outside strings balance and never go negative.
bool balanced(const std::string& s) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      --depth;
    if (depth < 0)
      return false;
  }
  return depth == 0 && !in_string;
}

serving::report sample() {
  serving::report r;
  r.mode = "colocated";
  r.model = "m \"quoted\"\n";
  r.device = "d";
  r.devices = 2;
  serving::request_record q;
  q.id = 0;
  q.arrival_s = 0.5;
  q.first_scheduled_s = 0.5;
  q.first_token_s = 1.0;
  q.completion_s = 2.0;
  q.output_tokens = 3;
  q.status = serving::request_status::completed;
  serving::request_record x;
  x.id = 1;
  x.status = serving::request_status::rejected;
  x.reason = serving::rejection_reason::queue_full;
  r.requests = {q, x};
  r.instances.push_back({.index = 0, .role = serving::instance_role::prefill, .devices = 2});
  r.use = {.devices = 2,
           .makespan_s = 10.0,
           .prefill_device_s = 3.0,
           .cache_load_device_s = 1.0,
           .decode_device_s = 4.0,
           .idle_device_s = 12.0,
           .input_hit_tokens = 5,
           .input_miss_tokens = 7,
           .output_tokens = 3};
  return r;
}
} // namespace

TEST_CASE("report JSON is well formed, escapes strings and writes NaN as null",
          "[serving][report]") {
  const serving::report r = sample();
  const std::string j = serving::to_json(r, true);
  CHECK(balanced(j));
  CHECK(j.find(R"("model":"m \"quoted\"\n")") != std::string::npos);
  // The empty latency summaries have NaN percentiles.
  CHECK(j.find(R"("ttft_s":{"count":0,"mean":null)") != std::string::npos);
  CHECK(j.find(R"("reason":"queue_full")") != std::string::npos);
  CHECK(j.find(R"("role":"prefill")") != std::string::npos);
  CHECK(j.find(R"("tpot_s":0.5)") != std::string::npos); // (2 − 1) / 2
  CHECK(j.find("request_records") != std::string::npos);
  CHECK(serving::to_json(r).find("request_records") == std::string::npos);
  CHECK(serving::to_json(r) == serving::to_json(sample()));
}

TEST_CASE("report JSON parses back with its keys in order and non-finite numbers as null",
          "[serving][report]") {
  serving::report r = sample();
  r.throughput_rps = std::numeric_limits<double>::infinity();
  r.mean_in_system = -std::numeric_limits<double>::infinity();
  r.mean_utilisation = std::numeric_limits<double>::quiet_NaN();
  r.start_s = 0.1; // 0.1 has no exact binary form: the text must give back the same double
  r.end_s = 1e300;
  r.steps = 9007199254740993; // 2^53 + 1: an integer a double cannot hold
  r.device = "d\x01\xff";     // a control character and a byte that is not UTF-8
  const std::string text = serving::to_json(r, true);
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  std::string keys;
  for (const auto& [k, v] : j.items())
    keys += k + ",";
  CHECK(keys == "mode,model,device,workload,balancer,devices,prefill_devices,decode_devices,"
                "requests,input_tokens,output_tokens,start_s,end_s,makespan_s,ttft_s,tpot_s,"
                "e2e_s,queue_s,goodput,throughput,mean_utilisation,mean_in_system,preemptions,"
                "kv_transfer,cache,usage,steps,events,instances,request_records,");
  CHECK(j["throughput"]["requests_per_s"].is_null());
  CHECK(j["mean_in_system"].is_null());
  CHECK(j["mean_utilisation"].is_null());
  CHECK(j["start_s"].get<double>() == 0.1);
  CHECK(j["end_s"].get<double>() == 1e300);
  CHECK(j["steps"].get<std::int64_t>() == 9007199254740993);
  CHECK(j["device"].get<std::string>() == "d\x01\xef\xbf\xbd"); // U+FFFD replaces the byte
  CHECK(text.find(R"("device":"d\u0001)") != std::string::npos);
  CHECK(j["model"].get<std::string>() == r.model);
  CHECK(j["usage"]["idle_device_s"].get<double>() == 12.0);
  REQUIRE(j["request_records"].size() == 2);
  CHECK(j["request_records"][1]["ttft_s"].is_null());
  CHECK(j["request_records"][0]["e2e_s"].get<double>() == 1.5);
  CHECK(j["instances"][0]["role"] == "prefill");
}

TEST_CASE("usage sums busy device time and names econ's fields", "[serving][report]") {
  const serving::usage u = sample().use;
  CHECK(u.busy_device_s() == 8.0);
  CHECK(u.busy_device_s() + u.idle_device_s == u.devices * u.makespan_s);
  const std::string j = serving::to_json(u);
  CHECK(balanced(j));
  for (const char* f :
       {"prefill_device_s", "cache_load_device_s", "decode_device_s", "input_hit_tokens",
        "input_miss_tokens", "output_tokens", "devices", "makespan_s"})
    CHECK(j.find(std::string("\"") + f + "\"") != std::string::npos);
}

TEST_CASE("request CSV has one row per request and empty cells for missing values",
          "[serving][report]") {
  const std::string csv = serving::requests_csv(sample());
  std::size_t lines = 0, commas_first = 0, commas_row = 0;
  std::size_t start = 0;
  while (start < csv.size()) {
    const std::size_t end = csv.find('\n', start);
    const std::string line = csv.substr(start, end - start);
    const auto commas = static_cast<std::size_t>(std::count(line.begin(), line.end(), ','));
    if (lines == 0)
      commas_first = commas;
    else
      commas_row = commas;
    CHECK(commas == commas_first);
    ++lines;
    start = end + 1;
  }
  CHECK(lines == 3);
  CHECK(commas_row == 15);
  CHECK(csv.find("1,rejected,queue_full,0,0,0,0,-1,-1,,,,,0,0,0\n") != std::string::npos);
}
