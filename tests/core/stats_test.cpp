#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "infercost/core/stats.hpp"

using namespace infercost;

TEST_CASE("mean, variance and coefficient of variation match hand values", "[core][stats]") {
  const std::vector<double> x{2, 4, 4, 4, 5, 5, 7, 9};
  CHECK(stats::mean(x) == 5.0);
  CHECK(stats::variance(x) == 4.0); // population variance
  CHECK(stats::stddev(x) == 2.0);
  CHECK(stats::coefficient_of_variation(x) == Approx(0.4));
  CHECK(std::isnan(stats::mean(std::vector<double>{})));
}

TEST_CASE("percentiles interpolate linearly between ranks like numpy", "[core][stats]") {
  const std::vector<double> x{15, 20, 35, 40, 50};
  // numpy.percentile([15,20,35,40,50], [0,40,50,90,100]) = [15, 29, 35, 46, 50]
  CHECK(stats::percentile(x, 0) == 15.0);
  CHECK(stats::percentile(x, 40) == Approx(29.0));
  CHECK(stats::percentile(x, 50) == 35.0);
  CHECK(stats::percentile(x, 90) == Approx(46.0));
  CHECK(stats::percentile(x, 100) == 50.0);
  CHECK_THROWS_AS(stats::percentile(x, 101), config_error);
  CHECK_THROWS_AS(stats::percentile(x, std::nan("")), config_error);
}

TEST_CASE("summarize reports count, mean, extremes and tail percentiles", "[core][stats]") {
  std::vector<double> x;
  for (int i = 1; i <= 100; ++i)
    x.push_back(i);
  const auto s = stats::summarize(x);
  CHECK(s.count == 100);
  CHECK(s.mean == 50.5);
  CHECK(s.min == 1);
  CHECK(s.max == 100);
  CHECK(s.p50 == Approx(50.5));
  CHECK(s.p90 == Approx(90.1));
  CHECK(s.p99 == Approx(99.01));
  CHECK(stats::summarize(std::vector<double>{}).count == 0);
}

TEST_CASE("running_stats agrees with the two-pass formulas", "[core][stats]") {
  const std::vector<double> x{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
  stats::running_stats r;
  for (double v : x)
    r.add(v);
  CHECK(r.count() == 4);
  CHECK(r.mean() == Approx(stats::mean(x)));
  CHECK(r.variance() == Approx(stats::variance(x)).epsilon(1e-9));
  CHECK(r.variance() == Approx(22.5));
  CHECK(r.min() == 1e9 + 4);
  CHECK(r.max() == 1e9 + 16);
}

TEST_CASE("histogram counts every value once, outliers included", "[core][stats]") {
  stats::histogram h(0.0, 10.0, 5);
  for (double v : {-1.0, 0.0, 1.9, 2.0, 9.99, 10.0, 25.0, std::nan("")})
    h.add(v);
  CHECK(h.count() == 8);
  CHECK(h[0] == 2);
  CHECK(h[1] == 1);
  CHECK(h[4] == 1);
  CHECK(h.underflow() == 2); // -1 and NaN
  CHECK(h.overflow() == 2);
  CHECK(h.bin_lo(1) == 2.0);
  CHECK(h.bin_hi(1) == 4.0);
  CHECK_THROWS_AS(stats::histogram(1.0, 1.0, 3), config_error);
  CHECK_THROWS_AS(stats::histogram(0.0, 1.0, 0), config_error);
}
