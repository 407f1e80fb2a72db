#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/core.h>

#include "data.hpp"
#include "infercost/io/mooncake_trace.hpp"

using infercost::trace_error;
using infercost::io::parse_mooncake_line;
using infercost::io::parse_mooncake_trace;
using infercost::io::read_mooncake_trace;
using infercost::test::temp_file;

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

TEST_CASE("mooncake reader accepts the ends of its integer ranges and a timestamp of -0",
          "[io][mooncake]") {
  const auto r = parse_mooncake_line(
      R"({"timestamp": -0, "input_length": 9223372036854775807, "output_length": 0,)"
      R"( "hash_ids": [18446744073709551615, 0], "x": [-0, -1.5e-3, {"timestamp": -1}]})",
      "t.jsonl", 1);
  CHECK(r.timestamp_ms == 0.0);
  CHECK(r.input_length == 9223372036854775807);
  CHECK(r.output_length == 0);
  REQUIRE(r.hash_ids.size() == 2);
  CHECK(r.hash_ids[0] == 18446744073709551615u);
  CHECK(r.hash_ids[1] == 0);
}

TEST_CASE("mooncake reader names file, line and column of a malformed line", "[io][mooncake]") {
  struct bad_case {
    std::string text;
    std::size_t column;
    std::string what; ///< part of the message
  };
  // Columns are 1-based and counted by hand: for a syntax error, the byte at which
  // nlohmann::json's parser stopped (its parse_error::byte); for a field that breaks a rule, the
  // opening quote of that field's key; for a missing field or a line that is not an object, 1.
  const std::string deep = std::string(70, '[') + std::string(70, ']');
  const bad_case cases[] = {
      {R"({"timestamp": -1, "input_length": 1, "output_length": 1})", 2,
       "timestamp (-1) must be >= 0"},
      {R"({"timestamp": 0, "input_length": 1.5, "output_length": 1})", 18,
       "input_length (1.5) must be an integer"},
      {R"({"timestamp": 0, "input_length": -2, "output_length": 1})", 18,
       "input_length (-2) must be >= 0"},
      {R"({"timestamp": 0.5, "input_length": -0, "output_length": 1})", 20,
       "input_length (-0) must be >= 0"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": x})", 54, "invalid literal"},
      {R"({"timestamp": 0, "input_length": 2})", 1, "missing key 'output_length'"},
      {R"({})", 1, "missing key 'timestamp'"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": [1,,2]})", 72,
       "unexpected ','"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1} trailing)", 59,
       "expected end of input"},
      {R"({"timestamp": 0, "timestamp": 1, "input_length": 2, "output_length": 1})", 18,
       "duplicate key 'timestamp'"},
      {R"({"timestamp": 0, "input_length": 99999999999999999999, "output_length": 1})", 18,
       "input_length (99999999999999999999) is too large"},
      {R"({"timestamp": 0, "input_length": 9223372036854775808, "output_length": 1})", 18,
       "input_length (9223372036854775808) is too large"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1)", 55, "unexpected end of input"},
      {R"({"timestamp": 1e999, "input_length": 2, "output_length": 1})", 19,
       "number overflow parsing '1e999'"},
      {R"([1, 2, 3])", 1, "a line must be one JSON object"},
      {R"({"timestamp": 0, "input_length": 01, "output_length": 1})", 35,
       "unexpected number literal"},
      {R"({"timestamp": "0", "input_length": 2, "output_length": 1})", 2,
       "timestamp (a string) must be a number"},
      {R"({"x": {"input_length": 3}, "timestamp": 0, "input_length": null, "output_length": 1})",
       44, "input_length (null) must be a non-negative integer"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": 5})", 57,
       "hash_ids (5) must be an array"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": [1, -2]})", 57,
       "hash_ids element (-2) must be >= 0"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": [1, 2.5]})", 57,
       "hash_ids element (2.5) must be an integer"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": [1, [2]]})", 57,
       "hash_ids element (an array) must be a non-negative integer"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": [18446744073709551616]})",
       57, "hash_ids element (18446744073709551616) is too large"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "x": )" + deep + "}", 57,
       "nested more than 64 levels deep"},
      {"{\"timestamp\": 0, \"input_length\": 2, \"output_length\": 1, \"n\": \"\xff\"}", 63,
       "ill-formed UTF-8"},
      {R"({"timestamp": 0, "input_length": 2, "output_length": 1, "name": "\x"})", 67,
       "forbidden character after backslash"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const trace_error e =
        catch_trace_error([&] { (void)parse_mooncake_line(c.text, "f.jsonl", 7); });
    CHECK(e.file() == "f.jsonl");
    CHECK(e.line() == 7);
    CHECK(e.column() == c.column);
    CHECK_THAT(e.what(),
               Catch::Matchers::StartsWith("f.jsonl:7:" + std::to_string(c.column) + ": ") &&
                   Catch::Matchers::Contains(c.what));
  }
}

TEST_CASE("mooncake reader skips blank lines and counts them in line numbers", "[io][mooncake]") {
  const std::string text = "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 2}\n"
                           "\n"
                           "{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 4}\n"
                           "{\"timestamp\": 4, \"input_length\": 3, \"output_length\": 4}\n";
  const trace_error e = catch_trace_error([&] { (void)parse_mooncake_trace(text, "m.jsonl"); });
  CHECK(e.line() == 4);
  CHECK(e.column() == 2); // the opening quote of "timestamp"
  CHECK_THAT(e.what(),
             Catch::Matchers::Contains("timestamp (4) is before the previous line's (5)"));
  // The key of the line's own timestamp, not a nested key or a string value of the same name.
  const trace_error nested = catch_trace_error([] {
    (void)parse_mooncake_trace(
        "{\"timestamp\": 5, \"input_length\": 1, \"output_length\": 2}\n"
        R"({"note": "timestamp", "x": {"timestamp": 9}, "timestamp": 4, "input_length": 3,)"
        R"( "output_length": 4})",
        "m.jsonl");
  });
  CHECK(nested.line() == 2);
  CHECK(nested.column() == 46);
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

namespace {
/// Row count, Σ lengths and hash-id consistency of a trace: each request has one hash id per
/// 512-token block, ceil(input / 512).
struct trace_shape {
  std::size_t rows = 0;
  double input = 0, output = 0;
  std::size_t wrong_blocks = 0;
};
trace_shape shape_of(const std::vector<infercost::io::mooncake_request>& trace) {
  trace_shape s;
  s.rows = trace.size();
  for (const auto& r : trace) {
    s.input += static_cast<double>(r.input_length);
    s.output += static_cast<double>(r.output_length);
    if (static_cast<std::int64_t>(r.hash_ids.size()) !=
        (r.input_length + infercost::io::mooncake_block_tokens - 1) /
            infercost::io::mooncake_block_tokens)
      ++s.wrong_blocks;
  }
  return s;
}
} // namespace

TEST_CASE("the shipped Mooncake sample reads whole", "[io][mooncake]") {
  const trace_shape s = shape_of(
      read_mooncake_trace(infercost::test::sample_file("mooncake_conversation_2000.jsonl")));
  // Counted independently with Python's json module: 2,000 lines, Σ input 27,441,774,
  // Σ output 704,602, every line with ceil(input / 512) hash ids.
  CHECK(s.rows == 2000);
  CHECK(s.input == 27441774.0);
  CHECK(s.output == 704602.0);
  CHECK(s.wrong_blocks == 0);
}

TEST_CASE("mooncake conversation trace has the published shape", "[io][mooncake][data]") {
  const auto path = infercost::test::data_file("mooncake/conversation_trace.jsonl");
  if (!path)
    return;
  const trace_shape s = shape_of(read_mooncake_trace(*path));
  // Row count and mean lengths from shared/data/README (12,031 rows; mean 12,035 in / 343 out).
  REQUIRE(s.rows == 12031);
  CHECK(s.wrong_blocks == 0);
  CHECK(std::round(s.input / 12031.0) == 12035.0);
  CHECK(std::round(s.output / 12031.0) == 343.0);
}

TEST_CASE("mooncake reader refuses more hash ids than the prompt has 512-token blocks",
          "[io][mooncake]") {
  // A 100-token prompt spans one block: 1,000 ids would make one cache hit load 1,000 blocks.
  std::string ids = "0";
  for (int i = 1; i < 1000; ++i)
    ids += fmt::format(", {}", i);
  const std::string line =
      R"({"timestamp": 0, "input_length": 100, "output_length": 5, "hash_ids": [)" + ids + "]}";
  const trace_error e =
      catch_trace_error([&] { (void)parse_mooncake_trace("\n" + line + "\n", "h.jsonl"); });
  CHECK(e.file() == "h.jsonl");
  CHECK(e.line() == 2);
  CHECK(e.column() == line.find("\"hash_ids\"") + 1);
  CHECK_THAT(e.what(), Catch::Contains("hash_ids has 1000 ids, more than the 1 blocks of 512 "
                                       "tokens of input_length (100)"));
  // ceil(input / 512) ids, as every line of the released traces has, and fewer, are accepted.
  CHECK(parse_mooncake_line(
            R"({"timestamp": 0, "input_length": 513, "output_length": 1, "hash_ids": [4, 5]})",
            "h.jsonl", 1)
            .hash_ids.size() == 2);
  CHECK(parse_mooncake_line(
            R"({"timestamp": 0, "input_length": 513, "output_length": 1, "hash_ids": [4]})",
            "h.jsonl", 1)
            .hash_ids.size() == 1);
  CHECK_THROWS_WITH(
      parse_mooncake_line(
          R"({"timestamp": 0, "input_length": 512, "output_length": 1, "hash_ids": [4, 5]})",
          "h.jsonl", 3),
      "h.jsonl:3:59: hash_ids has 2 ids, more than the 1 blocks of 512 tokens of input_length "
      "(512)");
}

TEST_CASE("mooncake timestamps are bounded by io::max_time_s", "[io][mooncake]") {
  CHECK_THROWS_WITH(
      parse_mooncake_line(R"({"input_length": 1, "output_length": 1, "timestamp": 1e308})",
                          "t.jsonl", 4),
      "t.jsonl:4:41: timestamp (1e308) must be at most 1000000000000 ms (about 31.7 years; "
      "io::max_time_s)");
  CHECK_THROWS_AS(parse_mooncake_line(R"({"timestamp": 1000000000001, "input_length": 1,
                                          "output_length": 1})",
                                      "t.jsonl", 1),
                  trace_error);
  CHECK(parse_mooncake_line(R"({"timestamp": 1000000000000, "input_length": 1,
                                "output_length": 1})",
                            "t.jsonl", 1)
            .timestamp_ms == 1e12);
}

TEST_CASE("a zero-length mooncake prompt is reported at its 1-based line and key",
          "[io][mooncake]") {
  const std::string path =
      temp_file("infercost_zero_prompt.jsonl",
                "{\"timestamp\": 0, \"input_length\": 3, \"output_length\": 1}\n\n"
                "{\"timestamp\": 1, \"input_length\": 0, \"output_length\": 1}\n");
  CHECK_THROWS_WITH(infercost::io::read_mooncake_workload(path),
                    path + ":3:18: input_length (0) must be >= 1");
}

TEST_CASE("mooncake reader says a directory is a directory", "[io][mooncake]") {
  const std::string dir = std::filesystem::temp_directory_path().string();
  CHECK_THROWS_WITH(infercost::io::read_mooncake_workload(dir),
                    dir + ":0:0: is a directory, not a file");
  CHECK_THROWS_WITH(read_mooncake_trace(dir), dir + ":0:0: is a directory, not a file");
}

TEST_CASE("mooncake workloads stream: the first n requests, without reading the rest",
          "[io][mooncake]") {
  // Line 3 is malformed; the first two requests are read without reaching it.
  const std::string path = temp_file(
      "infercost_stream.jsonl", "{\"timestamp\": 0, \"input_length\": 3, \"output_length\": 1}\n"
                                "{\"timestamp\": 5, \"input_length\": 4, \"output_length\": 2}\n"
                                "{\"timestamp\": oops}\n");
  const infercost::io::workload w = infercost::io::read_mooncake_workload(path, 2);
  REQUIRE(w.size() == 2);
  CHECK(w.requests[1].arrival_s == 0.005);
  CHECK(w.requests[1].input_tokens == 4);
  CHECK_THROWS_AS(infercost::io::read_mooncake_workload(path), trace_error);
  // The whole sample, streamed, equals the sample parsed from memory.
  const std::string sample = infercost::test::sample_file("mooncake_conversation_2000.jsonl");
  const infercost::io::workload a = infercost::io::read_mooncake_workload(sample);
  const infercost::io::workload b = infercost::io::from_mooncake(
      parse_mooncake_trace(infercost::io::read_file(sample), sample), sample);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a.requests[i].arrival_s == b.requests[i].arrival_s);
    CHECK(a.requests[i].block_hashes == b.requests[i].block_hashes);
  }
}
