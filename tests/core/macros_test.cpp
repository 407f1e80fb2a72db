#include <catch2/catch.hpp>

#include "infercost/core/macros.hpp"
#include "infercost/version.hpp"

TEST_CASE("INFERCOST_ASSERT passes silently when its condition holds", "[core][macros]") {
  int evaluated = 0;
  INFERCOST_ASSERT((++evaluated, true), "never fires");
  CHECK(evaluated == 1);
}

TEST_CASE("version macros agree with the version number", "[core][macros]") {
  CHECK(infercost::version ==
        INFERCOST_VERSION_MAJOR * 10000 + INFERCOST_VERSION_MINOR * 100 + INFERCOST_VERSION_PATCH);
}
