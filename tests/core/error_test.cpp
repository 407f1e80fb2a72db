#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "infercost/core/error.hpp"

using namespace infercost;

TEST_CASE("config_error names the component, the field and the value", "[core][error]") {
  try {
    check_at_most("moe::router", "top_k", 9, "num_experts", 8);
    FAIL("no exception");
  } catch (const config_error& e) {
    CHECK(std::string(e.what()) == "moe::router: top_k (9) must be <= num_experts (8)");
    CHECK(e.component() == "moe::router");
    CHECK(e.field() == "top_k");
  }
}

TEST_CASE("checks reject zero, negative and non-finite values", "[core][error]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(check_positive("c", "f", 0.0), config_error);
  CHECK_THROWS_AS(check_positive("c", "f", -1), config_error);
  CHECK_THROWS_AS(check_positive("c", "f", nan), config_error);
  CHECK_THROWS_AS(check_positive("c", "f", inf), config_error);
  CHECK_THROWS_WITH(check_positive("c", "f", nan), "c: f (nan) must be finite");
  CHECK_NOTHROW(check_positive("c", "f", 1e-300));
  CHECK_THROWS_AS(check_non_negative("c", "f", -1e-9), config_error);
  CHECK_NOTHROW(check_non_negative("c", "f", 0.0));
  CHECK_THROWS_WITH(check_in_range("c", "f", 1.5, 0.0, 1.0), "c: f (1.5) must be in [0, 1]");
  CHECK_THROWS_WITH(check_divides("c", "n_group", 3, "num_experts", 256),
                    "c: n_group (3) must divide num_experts (256)");
  CHECK_NOTHROW(check_divides("c", "n_group", 8, "num_experts", 256));
}

TEST_CASE("trace_error carries file, line and column", "[core][error]") {
  const trace_error e("trace.jsonl", 12, 7, "expected ':'");
  CHECK(std::string(e.what()) == "trace.jsonl:12:7: expected ':'");
  CHECK(e.file() == "trace.jsonl");
  CHECK(e.line() == 12);
  CHECK(e.column() == 7);
  const error& base = e;
  CHECK(std::string(base.what()).find("trace.jsonl") == 0);
}
