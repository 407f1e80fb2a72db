#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "infercost/serving/metrics.hpp"

using namespace infercost;
using serving::request_record;
using serving::request_status;

namespace {
request_record done(double arrival, double first, double end, std::int64_t out) {
  request_record r;
  r.arrival_s = arrival;
  r.first_scheduled_s = arrival + 0.1;
  r.first_token_s = first;
  r.completion_s = end;
  r.output_tokens = out;
  r.status = request_status::completed;
  return r;
}
} // namespace

TEST_CASE("ttft, tpot, e2e and queueing follow their definitions", "[serving][metrics]") {
  const request_record r = done(1.0, 1.5, 3.5, 5);
  CHECK(r.ttft_s() == 0.5);
  // (3.5 − 1.5) / (5 − 1) tokens after the first.
  CHECK(r.tpot_s() == 0.5);
  CHECK(r.e2e_s() == 2.5);
  CHECK(r.queue_s() == Approx(0.1));
  CHECK(std::isnan(done(0, 1, 1, 1).tpot_s()));
  CHECK(std::isnan(done(0, 1, 1, 0).tpot_s()));
}

TEST_CASE("goodput counts completed requests meeting both objectives", "[serving][metrics]") {
  std::vector<request_record> rs{
      done(0.0, 0.5, 1.3, 9), // TTFT 0.5, TPOT 0.1: meets (1, 0.1)
      done(0.0, 1.5, 1.6, 2), // TTFT 1.5: misses
      done(0.0, 0.2, 2.2, 5), // TPOT 0.5: misses
      done(0.0, 0.2, 0.2, 1), // no TPOT: meets vacuously
  };
  request_record rejected;
  rejected.status = request_status::rejected;
  rs.push_back(rejected);
  const serving::goodput_result g = serving::goodput(rs, {.ttft_s = 1.0, .tpot_s = 0.1}, 2.0);
  CHECK(g.met == 2);
  CHECK(g.attainment == 0.4);
  CHECK(g.requests_per_s == 1.0);
  // A looser SLO admits the third request as well.
  CHECK(serving::goodput(rs, {.ttft_s = 2.0, .tpot_s = 0.5}, 2.0).met == 4);
  CHECK_THROWS_WITH(serving::goodput(rs, {.ttft_s = 0.0, .tpot_s = 0.1}, 2.0),
                    "serving::slo: ttft_s (0) must be > 0");
  CHECK_THROWS_WITH(serving::goodput(rs, {.ttft_s = 1.0, .tpot_s = -0.1}, 2.0),
                    "serving::slo: tpot_s (-0.1) must be > 0");
  CHECK_THROWS_AS(serving::goodput(rs, {.ttft_s = 1.0, .tpot_s = 0.1}, -1.0), config_error);
}

TEST_CASE("latency summaries skip rejected requests and missing tokens", "[serving][metrics]") {
  std::vector<request_record> rs{done(0.0, 1.0, 3.0, 3), done(0.0, 2.0, 2.0, 1)};
  request_record rejected;
  rejected.status = request_status::rejected;
  rs.push_back(rejected);
  const serving::latency_summary s = serving::summarize_latency(rs);
  CHECK(s.ttft_s.count == 2);
  CHECK(s.ttft_s.mean == 1.5);
  CHECK(s.tpot_s.count == 1);
  CHECK(s.tpot_s.p50 == 1.0);
  CHECK(s.e2e_s.count == 2);
  CHECK(s.e2e_s.max == 3.0);
  CHECK(s.queue_s.mean == Approx(0.1));
}

TEST_CASE("time averages integrate a step function exactly", "[serving][metrics]") {
  serving::time_average a;
  a.add(1.0, 1.0);  // 1 from t=1
  a.add(2.0, 2.0);  // 3 from t=2
  a.add(4.0, -3.0); // 0 from t=4
  // ∫ = 1·1 + 3·2 = 7 over [0, 5].
  CHECK(a.area() == 7.0);
  CHECK(a.mean(5.0) == 1.4);
  CHECK(a.level() == 0.0);
  CHECK_THROWS_WITH(a.set(4.5, 1.0),
                    "serving::time_average: t_s (4.5) is before the last update (5)");
}

TEST_CASE("a request with no output tokens has its prefill's end as TTFT and must meet the TTFT "
          "objective",
          "[serving][metrics]") {
  // The simulator completes an output-0 request at the end of its prefill and records no token.
  request_record r = done(1.0, std::nan(""), 4.0, 0);
  CHECK(r.ttft_s() == 3.0);
  CHECK(std::isnan(r.tpot_s()));
  const std::vector<request_record> rs{r};
  CHECK(serving::goodput(rs, {.ttft_s = 1.0, .tpot_s = 0.1}, 4.0).met == 0);
  CHECK(serving::goodput(rs, {.ttft_s = 5.0, .tpot_s = 0.1}, 4.0).met == 1);
  const serving::latency_summary s = serving::summarize_latency(rs);
  CHECK(s.ttft_s.count == 1);
  CHECK(s.ttft_s.mean == 3.0);
}

TEST_CASE("latency summaries of a run without completed requests have no values",
          "[serving][metrics]") {
  request_record rejected;
  rejected.status = request_status::rejected;
  const std::vector<request_record> rs{rejected, rejected};
  const serving::latency_summary s = serving::summarize_latency(rs);
  CHECK(s.ttft_s.count == 0);
  CHECK(std::isnan(s.ttft_s.mean)); // written as null in JSON, "n/a" by the command line
  CHECK(serving::goodput(rs, {.ttft_s = 1.0, .tpot_s = 0.1}, 0.0).met == 0);
}
