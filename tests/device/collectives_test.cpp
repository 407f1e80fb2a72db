#include <catch2/catch.hpp>

#include "infercost/device/collectives.hpp"

using namespace infercost;

TEST_CASE("switched collectives follow the ring alpha-beta formulas", "[device][collectives]") {
  const double bw = 100e9, a = 1e-6, s = 1e9;
  auto t = [&](collective k, int n) {
    return switched_collective_time_s({.kind = k, .bytes = s, .ranks = n}, bw, a);
  };
  CHECK(t(collective::all_reduce, 8) == Approx(14 * a + 2 * 7.0 / 8 * s / bw));
  CHECK(t(collective::all_gather, 4) == Approx(3 * a + 3.0 / 4 * s / bw));
  CHECK(t(collective::reduce_scatter, 4) == t(collective::all_gather, 4));
  CHECK(t(collective::all_to_all, 16) == Approx(a + 15.0 / 16 * s / bw));
  CHECK(t(collective::point_to_point, 2) == Approx(a + s / bw));
  CHECK(t(collective::all_reduce, 1) == 0.0);
}

TEST_CASE("mesh collectives spread shards over min(n-1, links) links", "[device][collectives]") {
  const double link = 10e9, a = 2e-6, s = 8e9;
  auto t = [&](collective k, int n, int links) {
    return mesh_collective_time_s({.kind = k, .bytes = s, .ranks = n}, link, links, a);
  };
  CHECK(t(collective::all_to_all, 8, 7) == Approx(a + 7.0 / 8 * s / (7 * link)));
  CHECK(t(collective::all_reduce, 8, 7) == Approx(2 * a + 2 * 7.0 / 8 * s / (7 * link)));
  CHECK(t(collective::point_to_point, 8, 7) == Approx(a + s / link));
  // Fewer links than peers: the shard traffic shares the links it has.
  CHECK(t(collective::all_gather, 8, 3) == Approx(a + 7.0 / 8 * s / (3 * link)));
  CHECK(t(collective::all_gather, 1, 7) == 0.0);
}

TEST_CASE("collective time grows with bytes and never goes negative", "[device][collectives]") {
  for (auto k : {collective::all_reduce, collective::all_gather, collective::reduce_scatter,
                 collective::all_to_all, collective::point_to_point}) {
    double prev = 0.0;
    for (double s = 1e3; s < 1e10; s *= 10) {
      const double t = switched_collective_time_s({.kind = k, .bytes = s, .ranks = 8}, 1e11, 1e-6);
      CHECK(t > prev);
      prev = t;
    }
  }
}
