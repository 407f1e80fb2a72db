#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "data.hpp"
#include "infercost/core/stats.hpp"
#include "infercost/io/mooncake_trace.hpp"
#include "infercost/io/workload.hpp"

using namespace infercost;
using io::csv_table;

TEST_CASE("timestamps parse to exact nanoseconds across days, months and leap years",
          "[io][workload]") {
  const std::string f = "t.csv";
  // 1970-01-01 is day 0; 2000-03-01 is day 11017 (2000 is a leap year: 30·365 + 8 leap days
  // + 31 + 29 days of January and February).
  CHECK(io::parse_timestamp_ns("1970-01-01 00:00:00", f, 1, 1) == 0);
  CHECK(io::parse_timestamp_ns("2000-03-01 00:00:00", f, 1, 1) == 11017LL * 86400 * 1000000000);
  CHECK(io::parse_timestamp_ns("2023-11-16 18:15:46.6805900", f, 1, 1) -
            io::parse_timestamp_ns("2023-11-16 18:15:46", f, 1, 1) ==
        680590000);
  // Midnight and a month boundary: 23:59:59.5 on Feb 29 2024 to 00:00:00.25 on Mar 1.
  CHECK(io::parse_timestamp_ns("2024-03-01T00:00:00.25", f, 1, 1) -
            io::parse_timestamp_ns("2024-02-29 23:59:59.5", f, 1, 1) ==
        750000000);
  // Digits past nanoseconds are truncated.
  CHECK(io::parse_timestamp_ns("1970-01-01 00:00:00.1234567899", f, 1, 1) == 123456789);
}

TEST_CASE("bad timestamps name file, line and the column of the bad character", "[io][workload]") {
  const std::string f = "a.csv";
  CHECK_THROWS_WITH(io::parse_timestamp_ns("2023-13-01 00:00:00", f, 4, 1),
                    "a.csv:4:6: timestamp '2023-13-01 00:00:00': month (13) must be in [1, 12]");
  CHECK_THROWS_WITH(io::parse_timestamp_ns("2023-02-29 00:00:00", f, 4, 1),
                    "a.csv:4:9: timestamp '2023-02-29 00:00:00': day (29) must be in [1, 28]");
  CHECK_THROWS_WITH(io::parse_timestamp_ns("2023-11-16 18:1x:00", f, 2, 10),
                    "a.csv:2:25: timestamp '2023-11-16 18:1x:00': expected 2 digits of the minute");
  CHECK_THROWS_AS(io::parse_timestamp_ns("2023-11-16", f, 2, 1), trace_error);
  CHECK_THROWS_AS(io::parse_timestamp_ns("2023-11-16 10:00:00.", f, 2, 1), trace_error);
  CHECK_THROWS_AS(io::parse_timestamp_ns("2023-11-16 10:00:00 x", f, 2, 1), trace_error);
}

TEST_CASE("azure csv becomes arrivals in seconds after the first request", "[io][workload]") {
  const csv_table t("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                    "2023-11-16 18:15:46.6805900,374,44\n"
                    "2023-11-16 18:15:50.9951690,396,109\n"
                    "2023-11-16 18:15:50.9951690,10,0\n",
                    "conv.csv");
  const io::workload w = io::from_azure_csv(t);
  REQUIRE(w.size() == 3);
  w.validate();
  CHECK(w.requests[0].arrival_s == 0.0);
  // 50.9951690 − 46.6805900 = 4.3145790 s, exact in integer nanoseconds.
  CHECK(w.requests[1].arrival_s == 4314579000 * 1e-9);
  CHECK(w.requests[2].arrival_s == w.requests[1].arrival_s);
  CHECK(w.requests[1].input_tokens == 396);
  CHECK(w.requests[1].output_tokens == 109);
  CHECK(w.requests[2].id == 2);
  CHECK(w.input_tokens() == 780);
  CHECK(w.output_tokens() == 153);
  CHECK(w.duration_s() == w.requests[2].arrival_s);
}

TEST_CASE("azure csv errors: empty, out of order, negative, fractional and missing columns",
          "[io][workload]") {
  const std::string h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  CHECK_THROWS_WITH(io::from_azure_csv(csv_table(h, "e.csv")),
                    "e.csv:2:1: empty trace: no requests after the header");
  CHECK_THROWS_WITH(io::from_azure_csv(csv_table(h + "2023-11-16 18:15:47,1,1\n"
                                                     "2023-11-16 18:15:46.5,1,1\n",
                                                 "o.csv")),
                    "o.csv:3:1: timestamp '2023-11-16 18:15:46.5' is before the previous row's");
  CHECK_THROWS_WITH(io::from_azure_csv(csv_table(h + "2023-11-16 18:15:47,-5,1\n", "n.csv")),
                    "n.csv:2:21: column 'ContextTokens': -5 must be >= 0");
  CHECK_THROWS_WITH(io::from_azure_csv(csv_table(h + "2023-11-16 18:15:47,5,2.5\n", "f.csv")),
                    "f.csv:2:23: column 'GeneratedTokens': '2.5' must be an integer");
  CHECK_THROWS_WITH(io::from_azure_csv(csv_table(h + "2023-11-16 18:15:47,0,2\n", "z.csv")),
                    "z.csv:2:21: column 'ContextTokens': 0 must be >= 1");
  CHECK_THROWS_WITH(io::from_azure_csv(csv_table("TIMESTAMP,x\n1,2\n", "m.csv")),
                    "m.csv:1:0: missing column 'ContextTokens'");
  CHECK_THROWS_AS(io::read_azure_workload("/nonexistent/azure.csv"), trace_error);
}

TEST_CASE("mooncake traces convert milliseconds to seconds and keep block hashes",
          "[io][workload]") {
  const auto trace = io::parse_mooncake_trace(
      "{\"timestamp\": 0, \"input_length\": 1000, \"output_length\": 5, \"hash_ids\": [0, 1]}\n"
      "{\"timestamp\": 1500, \"input_length\": 600, \"output_length\": 0, \"hash_ids\": [0, 2]}\n",
      "m.jsonl");
  const io::workload w = io::from_mooncake(trace, "m.jsonl");
  REQUIRE(w.size() == 2);
  w.validate();
  CHECK(w.requests[1].arrival_s == 1.5);
  CHECK(w.requests[1].block_hashes == std::vector<std::uint64_t>{0, 2});
  CHECK(w.block_tokens == 512);
  CHECK_THROWS_WITH(io::from_mooncake({}, "empty.jsonl"),
                    "empty.jsonl:0:0: empty trace: no requests");
  CHECK_THROWS_WITH(
      io::from_mooncake(io::parse_mooncake_trace("{\"timestamp\": 0, \"input_length\": 0, "
                                                 "\"output_length\": 5}\n",
                                                 "z.jsonl"),
                        "z.jsonl"),
      "z.jsonl:1:0: input_length (0) of request 1 must be >= 1");
  // Non-monotonic timestamps and negative lengths are the reader's errors.
  CHECK_THROWS_AS(
      io::parse_mooncake_trace("{\"timestamp\": 5, \"input_length\": 1, \"output_length\": 1}\n"
                               "{\"timestamp\": 4, \"input_length\": 1, \"output_length\": 1}\n",
                               "b.jsonl"),
      trace_error);
  CHECK_THROWS_AS(
      io::parse_mooncake_trace("{\"timestamp\": 5, \"input_length\": -1, \"output_length\": 1}\n",
                               "b.jsonl"),
      trace_error);
}

TEST_CASE("poisson and gamma arrivals have the requested rate and burstiness", "[io][workload]") {
  // Seed 7; 20,000 gaps. The sample mean of n gaps has standard error cv/(rate·sqrt(n)), so 2%
  // is over 2.8 standard errors for cv = 1 and ~1.4 for cv = 2 (checked loosely below).
  constexpr std::size_t n = 20000;
  for (const auto& [proc, cv] :
       {std::pair{io::arrival_process::poisson, 1.0}, std::pair{io::arrival_process::gamma, 2.0},
        std::pair{io::arrival_process::gamma, 0.5}}) {
    rng g(7);
    const std::vector<double> t =
        io::generate_arrivals(n, {.process = proc, .rate_per_s = 4.0, .cv = cv}, g);
    std::vector<double> gaps(n);
    for (std::size_t i = 0; i < n; ++i)
      gaps[i] = t[i] - (i ? t[i - 1] : 0.0);
    const double mean = stats::mean(gaps);
    const double measured_cv = stats::coefficient_of_variation(gaps);
    REQUIRE(std::isfinite(mean));
    CHECK(mean == Approx(0.25).epsilon(0.04));
    CHECK(measured_cv == Approx(cv).epsilon(0.06));
    for (std::size_t i = 1; i < n; ++i)
      REQUIRE(t[i] >= t[i - 1]);
  }
  rng g(1);
  CHECK_THROWS_WITH(io::generate_arrivals(3, {.rate_per_s = 0.0}, g),
                    "io::arrival_config: rate_per_s (0) must be > 0");
}

TEST_CASE("length csvs get seeded arrivals: same seed, same workload", "[io][workload]") {
  const csv_table t("num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n"
                    "74,918,992,0.08\n290,905,1195,0.32\n10,3,13,3.3\n",
                    "len.csv");
  const io::arrival_config a{.process = io::arrival_process::gamma, .rate_per_s = 2.0, .cv = 3.0};
  const io::workload w1 = io::from_lengths_csv(t, a, 42);
  const io::workload w2 = io::from_lengths_csv(t, a, 42);
  const io::workload w3 = io::from_lengths_csv(t, a, 43);
  REQUIRE(w1.size() == 3);
  w1.validate();
  CHECK(w1.requests[1].input_tokens == 290);
  CHECK(w1.requests[1].output_tokens == 905);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(w1.requests[i].arrival_s == w2.requests[i].arrival_s);
  CHECK(w1.requests[2].arrival_s != w3.requests[2].arrival_s);
  CHECK(w1.requests[0].arrival_s > 0.0);
  CHECK_THROWS_WITH(io::from_lengths_csv(csv_table("num_prefill_tokens,num_decode_tokens\n"
                                                   "5,-3\n",
                                                   "neg.csv"),
                                         a, 1),
                    "neg.csv:2:3: column 'num_decode_tokens': -3 must be >= 0");
  CHECK_THROWS_WITH(
      io::from_lengths_csv(csv_table("num_prefill_tokens,num_decode_tokens\n", "e.csv"), a, 1),
      "e.csv:2:1: empty trace: no requests after the header");
  CHECK_THROWS_WITH(io::from_lengths_csv(t, {.rate_per_s = -1.0}, 1),
                    "io::arrival_config: rate_per_s (-1) must be > 0");
}

TEST_CASE("synthetic workloads share prefix blocks within a group and nowhere else",
          "[io][workload]") {
  const io::synthetic_config cfg{.requests = 400,
                                 .arrivals = {.rate_per_s = 10.0},
                                 .input_tokens = 3000,
                                 .input_spread = 0.5,
                                 .output_tokens = 100,
                                 .output_spread = 0.5,
                                 .prefix_groups = 4,
                                 .prefix_tokens = 1024,
                                 .prefix_zipf = 1.0,
                                 .block_tokens = 512};
  const io::workload w = io::synthetic_workload(cfg, 3);
  w.validate();
  REQUIRE(w.size() == 400);
  std::vector<int> first_block_uses(4, 0);
  std::vector<std::uint64_t> fresh;
  for (const auto& r : w.requests) {
    CHECK(r.input_tokens >= 1500);
    CHECK(r.input_tokens <= 4500);
    CHECK(r.output_tokens >= 50);
    CHECK(r.output_tokens <= 150);
    REQUIRE(static_cast<std::int64_t>(r.block_hashes.size()) == (r.input_tokens + 511) / 512);
    // Two shared blocks: group g's ids are 2g and 2g+1.
    const std::uint64_t g = r.block_hashes[0] / 2;
    REQUIRE(g < 4);
    CHECK(r.block_hashes[0] == 2 * g);
    CHECK(r.block_hashes[1] == 2 * g + 1);
    ++first_block_uses[g];
    for (std::size_t j = 2; j < r.block_hashes.size(); ++j)
      fresh.push_back(r.block_hashes[j]);
  }
  // Zipf(1) over 4 groups: group 0 is the most popular (weight 12/25 = 0.48).
  CHECK(first_block_uses[0] > first_block_uses[3]);
  std::sort(fresh.begin(), fresh.end());
  CHECK(std::adjacent_find(fresh.begin(), fresh.end()) == fresh.end());
  CHECK(fresh.front() >= 8);
  // Same seed, same workload.
  const io::workload again = io::synthetic_workload(cfg, 3);
  CHECK(again.requests.back().arrival_s == w.requests.back().arrival_s);
  CHECK(again.requests.back().block_hashes == w.requests.back().block_hashes);
  // Without groups there are no hashes, and fixed lengths stay fixed.
  const io::workload plain = io::synthetic_workload({.requests = 5}, 3);
  CHECK(plain.requests[4].block_hashes.empty());
  CHECK(plain.requests[4].input_tokens == 1024);
  CHECK_THROWS_WITH(io::synthetic_workload({.requests = 0}, 1),
                    "io::synthetic_config: requests (0) must be > 0");
  CHECK_THROWS_WITH(io::synthetic_workload({.input_tokens = -3}, 1),
                    "io::synthetic_config: input_tokens (-3) must be > 0");
}

TEST_CASE("time scaling replays a workload at k times its rate; take keeps the head",
          "[io][workload]") {
  const io::workload w = io::synthetic_workload({.requests = 10}, 5);
  const io::workload fast = io::scale_time(w, 4.0);
  for (std::size_t i = 0; i < w.size(); ++i)
    CHECK(fast.requests[i].arrival_s == w.requests[i].arrival_s / 4.0);
  CHECK(fast.duration_s() == Approx(w.duration_s() / 4.0));
  CHECK(io::take(w, 3).size() == 3);
  CHECK(io::take(w, 30).size() == 10);
  CHECK_THROWS_WITH(io::scale_time(w, 0.0), "io::scale_time: factor (0) must be > 0");
  CHECK_THROWS_AS(io::scale_time(w, std::nan("")), config_error);
}

TEST_CASE("the shared traces read as workloads with their published statistics",
          "[io][workload][data]") {
  const auto conv = test::data_file("azure2023/AzureLLMInferenceTrace_conv.csv");
  const auto moon = test::data_file("mooncake/conversation_trace.jsonl");
  if (!conv || !moon)
    return;
  const io::workload az = io::read_azure_workload(*conv);
  az.validate();
  CHECK(az.size() == 19366);
  std::vector<double> in, out;
  for (const auto& r : az.requests) {
    in.push_back(static_cast<double>(r.input_tokens));
    out.push_back(static_cast<double>(r.output_tokens));
  }
  // shared/data/README: conversation median 1,020 in / 129 out; the trace spans one hour.
  CHECK(stats::percentile(in, 50) == 1020.0);
  CHECK(stats::percentile(out, 50) == 129.0);
  CHECK(az.duration_s() > 3500.0);
  CHECK(az.duration_s() < 3700.0);
  const io::workload mc = io::read_mooncake_workload(*moon);
  mc.validate();
  CHECK(mc.size() == 12031);
  // README: mean input 12,035 and mean output 343 tokens.
  CHECK(static_cast<double>(mc.input_tokens()) / 12031.0 == Approx(12035).epsilon(0.001));
  CHECK(static_cast<double>(mc.output_tokens()) / 12031.0 == Approx(343).epsilon(0.005));
}

TEST_CASE("azure timestamps past 2262 are exact; arrivals are held to io::max_time_s",
          "[io][workload]") {
  const std::string h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  // Years beyond int64 nanoseconds since 1970 (2262-04-11) still give exact arrivals.
  const io::workload w = io::from_azure_csv(
      csv_table(h + "2300-01-01 00:00:00,5,1\n2300-01-01 00:00:01.5,5,1\n", "late.csv"));
  REQUIRE(w.size() == 2);
  CHECK(w.requests[1].arrival_s == 1.5);
  // Rows 585 years apart: an error at the later row, not a wrapped 0.2 s span.
  CHECK_THROWS_WITH(
      io::from_azure_csv(
          csv_table(h + "1700-01-01 00:00:00,5,1\n2285-01-01 00:00:00,5,1\n", "far.csv")),
      Catch::StartsWith("far.csv:3:1: timestamp '2285-01-01 00:00:00' is 18460828800 s after "
                        "the first row's ('1700-01-01 00:00:00'): arrivals must be at most "
                        "1000000000 s"));
  // parse_timestamp_ns says when a timestamp is outside what int64 nanoseconds hold.
  CHECK_THROWS_WITH(io::parse_timestamp_ns("2263-01-01 00:00:00", "t.csv", 2, 1),
                    "t.csv:2:1: timestamp '2263-01-01 00:00:00': outside "
                    "1677-09-21..2262-04-11, the range of int64 nanoseconds since 1970");
  CHECK(io::parse_timestamp_ns("2262-04-11 23:47:16.854775807", "t.csv", 2, 1) ==
        std::numeric_limits<std::int64_t>::max());
  CHECK_THROWS_AS(io::parse_timestamp_ns("2262-04-11 23:47:16.854775808", "t.csv", 2, 1),
                  trace_error);
}

TEST_CASE("arrival rates below one request per io::max_time_s are refused", "[io][workload]") {
  CHECK_THROWS_WITH(io::synthetic_workload({.requests = 3, .arrivals = {.rate_per_s = 1e-300}}, 1),
                    Catch::StartsWith("io::arrival_config: rate_per_s (1e-300) must be at least "
                                      "1e-09"));
  CHECK_NOTHROW(io::arrival_config{.rate_per_s = 1e-9}.validate());
}

TEST_CASE("azure and lengths csvs with a UTF-8 byte order mark read as without", "[io][workload]") {
  const std::string bom = "\xEF\xBB\xBF";
  const io::workload az = io::read_azure_workload(
      test::temp_file("infercost_bom_azure.csv", bom + "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                                                       "2023-11-16 18:15:46.5,10,2\r\n"
                                                       "2023-11-16 18:15:47,20,3\r\n"));
  REQUIRE(az.size() == 2);
  CHECK(az.requests[1].arrival_s == 0.5);
  const io::workload len = io::read_lengths_workload(
      test::temp_file("infercost_bom_lengths.csv",
                      bom + "num_prefill_tokens,num_decode_tokens\n7,8\n"),
      {.rate_per_s = 2.0}, 3);
  REQUIRE(len.size() == 1);
  CHECK(len.requests[0].input_tokens == 7);
}

TEST_CASE("trace readers say a directory is a directory", "[io][workload]") {
  const std::string dir = std::filesystem::temp_directory_path().string();
  CHECK_THROWS_WITH(io::read_azure_workload(dir), dir + ":0:0: is a directory, not a file");
  CHECK_THROWS_WITH(io::read_lengths_workload(dir, {}, 1),
                    dir + ":0:0: is a directory, not a file");
}

TEST_CASE("csv traces stream: the first n requests equal the whole file's first n",
          "[io][workload]") {
  std::string text = "num_prefill_tokens,num_decode_tokens\n";
  for (int i = 1; i <= 50; ++i)
    text += fmt::format("{},{}\n", i, i % 7);
  text += "oops,1\n"; // never reached when reading the first 50
  const std::string path = test::temp_file("infercost_stream_lengths.csv", text);
  const io::arrival_config a{.process = io::arrival_process::gamma, .rate_per_s = 3.0, .cv = 2.0};
  const io::workload head = io::read_lengths_workload(path, a, 11, 50);
  REQUIRE(head.size() == 50);
  CHECK_THROWS_AS(io::read_lengths_workload(path, a, 11), trace_error);
  // The same requests and arrivals as the table read whole (without its bad last row).
  const io::workload whole =
      io::from_lengths_csv(csv_table(text.substr(0, text.rfind("oops")), "mem.csv"), a, 11);
  REQUIRE(whole.size() == 50);
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK(head.requests[i].arrival_s == whole.requests[i].arrival_s);
    CHECK(head.requests[i].input_tokens == whole.requests[i].input_tokens);
    CHECK(head.requests[i].output_tokens == whole.requests[i].output_tokens);
  }
}
