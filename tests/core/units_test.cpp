#include <catch2/catch.hpp>

#include "infercost/core/units.hpp"

using namespace infercost::units;

TEST_CASE("unit constants are exact decimal and binary multiples", "[core][units]") {
  CHECK(tera == 1e12);
  CHECK(gib == 1073741824.0);
  CHECK(tib == 1024.0 * gib);
  CHECK(hour_s == 3600.0);
  CHECK(year_h == 8760.0);
  CHECK(gbit_per_s * 400 == 50e9); // a 400 Gb/s NIC moves 50 GB/s
}
