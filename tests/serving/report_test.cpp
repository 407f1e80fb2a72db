#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "infercost/serving/report.hpp"

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
