#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>

#include "infercost/io/mooncake_trace.hpp"

using infercost::trace_error;
using infercost::io::parse_mooncake_line;
using infercost::io::parse_mooncake_trace;
using infercost::io::read_mooncake_trace;

namespace {
/// Runs `f`, requires a trace_error, and returns it.
template <class F> trace_error catch_trace_error(F&& f) {
  try {
    f();
  } catch (const trace_error& e) {
    return e;
  }
  FAIL("no trace_error thrown");
  return trace_error("", 0, 0, "");
}
} // namespace

TEST_CASE("mooncake reader parses a line with hash ids", "[io][mooncake]") {
  const auto r = parse_mooncake_line(
      R"({"timestamp": 27, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1, 46]})",
      "t.jsonl", 1);
  CHECK(r.timestamp_ms == 27.0);
  CHECK(r.input_length == 6758);
  CHECK(r.output_length == 500);
  REQUIRE(r.hash_ids.size() == 3);
  CHECK(r.hash_ids[2] == 46);
}

TEST_CASE("mooncake reader accepts lines without hash ids, unknown keys and any key order",
          "[io][mooncake]") {
  const auto r =
      parse_mooncake_line(R"( {"output_length":3,"extra":{"a":[1,2.5e3,"x\"y",null,true,false]},)"
                          R"("input_length":10,"timestamp":1.5e2, "hash_ids": []} )",
                          "t.jsonl", 4);
  CHECK(r.timestamp_ms == 150.0);
  CHECK(r.input_length == 10);
  CHECK(r.output_length == 3);
  CHECK(r.hash_ids.empty());
}

TEST_CASE("mooncake reader names file, line and column of a malformed line", "[io][mooncake]") {
  struct bad_case {
    std::string text;
    std::size_t column;
  };
  // Columns are 1-based positions of the offending character, counted by hand.
  const bad_case cases[] = {
      {R"({"timestamp": -1, "input_length": 1, "output_length": 1})", 15},
      {R"({"timestamp": 0, "input_length": 1.5, "output_length": 1})", 34},
      {R"({"timestamp": 0, "input_length": -2, "output_length": 1})", 34},
      {R"({"timestamp": 0, "input_length": 2, "output_length": x})", 54},
      {R"({"timestamp": 0, "input_length": 2})", 36},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": [1,,2]})", 72},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1} trailing)", 57},
      {R"({"timestamp": 0, "timestamp": 1, "input_length": 2, "output_length": 1})", 18},
      {R"({"timestamp": 0, "input_length": 99999999999999999999, "output_length": 1})", 34},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1)", 55},
      {R"({"timestamp": 1e999, "input_length": 2, "output_length": 1})", 15},
      {R"([1, 2, 3])", 1},
      {R"({"timestamp": 0, "input_length": 01, "output_length": 1})", 34},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const trace_error e =
        catch_trace_error([&] { (void)parse_mooncake_line(c.text, "f.jsonl", 7); });
    CHECK(e.file() == "f.jsonl");
    CHECK(e.line() == 7);
    CHECK(e.column() == c.column);
    CHECK(std::string(e.what()).rfind("f.jsonl:7:", 0) == 0);
  }
}

TEST_CASE("mooncake reader skips blank lines and counts them in line numbers", "[io][mooncake]") {
  const std::string text = "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 2}\n"
                           "\n"
                           "{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 4}\n"
                           "{\"timestamp\": 4, \"input_length\": 3, \"output_length\": 4}\n";
  const trace_error e = catch_trace_error([&] { (void)parse_mooncake_trace(text, "m.jsonl"); });
  CHECK(e.line() == 4);
  CHECK(e.column() == 3);
  const auto ok = parse_mooncake_trace(text.substr(0, text.rfind("{\"timestamp\": 4")), "m.jsonl");
  REQUIRE(ok.size() == 2);
  CHECK(ok[1].input_length == 3);
}

TEST_CASE("mooncake reader reports a missing file as line 0", "[io][mooncake]") {
  const trace_error e =
      catch_trace_error([] { (void)read_mooncake_trace("/nonexistent/dir/trace.jsonl"); });
  CHECK(e.line() == 0);
  CHECK(e.file() == "/nonexistent/dir/trace.jsonl");
}

TEST_CASE("mooncake conversation trace has the published shape", "[io][mooncake][data]") {
  const std::string path = std::string(INFERCOST_DATA_DIR) + "/mooncake/conversation_trace.jsonl";
  if (!std::ifstream(path)) {
    WARN("mooncake conversation trace test skipped: " << path << " not found");
    return;
  }
  const auto trace = read_mooncake_trace(path);
  // Row count and mean lengths from shared/data/README (12,031 rows; mean 12,035 in / 343 out).
  REQUIRE(trace.size() == 12031);
  double in = 0, out = 0;
  std::size_t wrong_blocks = 0;
  for (const auto& r : trace) {
    in += static_cast<double>(r.input_length);
    out += static_cast<double>(r.output_length);
    // One hash id per 512-token block: ceil(input / 512).
    if (static_cast<std::int64_t>(r.hash_ids.size()) !=
        (r.input_length + infercost::io::mooncake_block_tokens - 1) /
            infercost::io::mooncake_block_tokens)
      ++wrong_blocks;
  }
  CHECK(wrong_blocks == 0);
  in /= static_cast<double>(trace.size());
  out /= static_cast<double>(trace.size());
  REQUIRE(std::isfinite(in));
  CHECK(std::round(in) == 12035.0);
  CHECK(std::round(out) == 343.0);
}
