// Catch2's runner. A process whose data tests found their data missing (tests/data.hpp) exits
// with 77, which ctest reports as skipped (SKIP_RETURN_CODE); data tests run one per process.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "data.hpp"

int main(int argc, char* argv[]) {
  const int failed = Catch::Session().run(argc, argv);
  return failed == 0 && infercost::test::data_skipped() ? infercost::test::skip_return_code
                                                        : failed;
}
