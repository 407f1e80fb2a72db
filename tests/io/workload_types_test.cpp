#include <catch2/catch.hpp>

#include <cstdint>

#include "infercost/io/workload_types.hpp"

using namespace infercost;

namespace {
/// Three valid requests of a workload named 'synthetic'.
io::workload three_requests() {
  io::workload w;
  w.name = "synthetic";
  for (std::int64_t i = 0; i < 3; ++i)
    w.requests.push_back({.id = i,
                          .arrival_s = 0.5 * static_cast<double>(i),
                          .input_tokens = 100,
                          .output_tokens = 10,
                          .block_hashes = {}});
  return w;
}
} // namespace

TEST_CASE("workload validation rejects what a simulation cannot replay", "[io][workload]") {
  const io::workload w = three_requests();
  w.validate();
  io::workload bad = w;
  bad.requests[2].arrival_s = bad.requests[1].arrival_s - 0.5;
  CHECK_THROWS_AS(bad.validate(), config_error);
  bad = w;
  bad.requests[1].output_tokens = -1;
  CHECK_THROWS_WITH(bad.validate(), "io::workload: output_tokens (-1) of request 1 must be >= 0");
  bad = w;
  bad.requests[0].input_tokens = 0;
  CHECK_THROWS_WITH(bad.validate(), "io::workload: input_tokens (0) of request 0 must be >= 1");
  bad = w;
  bad.requests.clear();
  CHECK_THROWS_WITH(bad.validate(), "io::workload: requests (0) of 'synthetic' must not be empty");
}

TEST_CASE("workloads are bounded so that token sums cannot overflow and times keep microseconds",
          "[io][workload]") {
  const io::workload w = three_requests();
  // Two lengths that each fit an int64 but whose sum does not (the sum is never formed).
  io::workload bad = w;
  bad.requests[1].input_tokens = 5'000'000'000'000'000'000;
  bad.requests[1].output_tokens = 5'000'000'000'000'000'000;
  CHECK_THROWS_WITH(bad.validate(),
                    "io::workload: input_tokens (5000000000000000000) + output_tokens "
                    "(5000000000000000000) of request 1 must be at most 2147483648 (see "
                    "io::max_request_tokens)");
  // At the bound exactly: accepted.
  bad = w;
  bad.requests[0].input_tokens = io::max_request_tokens - 1;
  bad.requests[0].output_tokens = 1;
  CHECK_NOTHROW(bad.validate());
  bad.requests[0].output_tokens = 2;
  CHECK_THROWS_AS(bad.validate(), config_error);
  bad = w;
  bad.requests[2].arrival_s = 1e308;
  CHECK_THROWS_WITH(bad.validate(), Catch::StartsWith("io::workload: arrival_s (1e+308) of "
                                                      "request 2 must be at most 1000000000 s"));
}
