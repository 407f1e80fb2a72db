#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/device/concepts.hpp"

using namespace infercost;

namespace {
/// A generic function written only against the concept.
template <device_cost_model D> double decode_gemv_s(const D& d, double weight_bytes) {
  return d.op_time_s({.flops = weight_bytes, .bytes_read = weight_bytes});
}
} // namespace

TEMPLATE_TEST_CASE("code written against device_cost_model works for both families",
                   "[device][concepts]", h800_sxm, ascend_910b) {
  const TestType d;
  const double t = decode_gemv_s(d, 1e9);
  CHECK(std::isfinite(t));
  CHECK(t > 1e9 / d.memory_bytes_per_s());
}
