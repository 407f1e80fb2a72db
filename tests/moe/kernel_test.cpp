#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "infercost/core/random.hpp"
#include "infercost/moe/kernel.hpp"
#include "infercost/moe/router.hpp"

using namespace infercost;
using moe::detail::sgemm_isa;

namespace {
/// The kernels this processor can run (none: it has neither AVX2+FMA nor AVX-512).
std::vector<sgemm_isa> runnable_kernels() {
  std::vector<sgemm_isa> out;
  const sgemm_isa cpu = moe::detail::cpu_sgemm_isa();
  if (cpu == sgemm_isa::avx2 || cpu == sgemm_isa::avx512)
    out.push_back(sgemm_isa::avx2);
  if (cpu == sgemm_isa::avx512)
    out.push_back(sgemm_isa::avx512);
  return out;
}

std::vector<float> random_floats(std::size_t n, rng& g) {
  std::vector<float> v(n);
  for (float& x : v)
    x = static_cast<float>(g.normal());
  return v;
}
} // namespace

TEST_CASE("sgemm kernels match a double-precision product on every shape edge, and each other "
          "bit for bit",
          "[moe][kernel]") {
  const std::vector<sgemm_isa> kernels = runnable_kernels();
  if (kernels.empty()) {
    WARN("this processor has neither AVX2+FMA nor AVX-512: the layer uses Eigen's products and "
         "the kernel is not tested here");
    return;
  }
  INFO("processor kernel: " << moe::detail::to_string(moe::detail::cpu_sgemm_isa()));
  struct shape {
    std::ptrdiff_t m, n, k;
  };
  // Rows around both tile heights (6, 8) and the 384-row block; columns around both panel
  // widths (16, 32); depths around the 256-deep slice, and 0.
  const std::vector<shape> shapes{{1, 1, 1},     {5, 15, 3},    {6, 16, 256},  {7, 17, 257},
                                  {8, 32, 255},  {9, 33, 512},  {13, 47, 300}, {48, 64, 513},
                                  {385, 40, 70}, {770, 31, 20}, {3, 5, 0}};
  const std::uint64_t seed = 11;
  INFO("seed " << seed);
  rng g(seed);
  for (const shape& sh : shapes) {
    for (const bool accumulate : {false, true}) {
      INFO("m " << sh.m << ", n " << sh.n << ", k " << sh.k << ", accumulate " << accumulate);
      // Leading dimensions wider than the rows, to check the strides.
      const std::ptrdiff_t lda = sh.k + 3, ldb = sh.n + 5, ldc = sh.n + 2;
      const std::vector<float> a = random_floats(static_cast<std::size_t>(sh.m * lda), g);
      const std::vector<float> b = random_floats(static_cast<std::size_t>(sh.k * ldb), g);
      const std::vector<float> c0 = random_floats(static_cast<std::size_t>(sh.m * ldc), g);
      std::vector<std::vector<float>> results;
      for (const sgemm_isa isa : kernels) {
        std::vector<float> c = c0;
        moe::detail::sgemm_scratch scratch;
        moe::detail::sgemm(isa, sh.m, sh.n, sh.k, a.data(), lda, b.data(), ldb, c.data(), ldc,
                           accumulate, scratch);
        for (std::ptrdiff_t i = 0; i < sh.m; ++i) {
          for (std::ptrdiff_t j = 0; j < sh.n; ++j) {
            double ref =
                accumulate ? static_cast<double>(c0[static_cast<std::size_t>(i * ldc + j)]) : 0.0;
            double mag = std::abs(ref);
            for (std::ptrdiff_t q = 0; q < sh.k; ++q) {
              const double p = static_cast<double>(a[static_cast<std::size_t>(i * lda + q)]) *
                               static_cast<double>(b[static_cast<std::size_t>(q * ldb + j)]);
              ref += p;
              mag += std::abs(p);
            }
            // Float accumulation of k + 1 terms: error within a few units of k·eps·Σ|terms|.
            const double tol = 4.0 * static_cast<double>(sh.k + 1) * 6e-8 * mag + 1e-30;
            REQUIRE(std::abs(static_cast<double>(c[static_cast<std::size_t>(i * ldc + j)]) - ref) <=
                    tol);
          }
          // The padding between rows of C is never written.
          for (std::ptrdiff_t j = sh.n; j < ldc; ++j)
            REQUIRE(c[static_cast<std::size_t>(i * ldc + j)] ==
                    c0[static_cast<std::size_t>(i * ldc + j)]);
        }
        results.push_back(std::move(c));
      }
      for (std::size_t v = 1; v < results.size(); ++v)
        REQUIRE(results[v] == results[0]); // AVX2 and AVX-512 sum alike
    }
  }
}

TEST_CASE("a row of the sgemm product does not depend on the other rows", "[moe][kernel]") {
  // The layer relies on it: a token's expert output must not depend on which tokens share its
  // expert, or on how the shared experts' rows are blocked.
  const std::vector<sgemm_isa> kernels = runnable_kernels();
  if (kernels.empty()) {
    WARN("no AVX2+FMA or AVX-512: nothing to test");
    return;
  }
  rng g(12);
  constexpr std::ptrdiff_t m = 401, n = 70, k = 530;
  const std::vector<float> a = random_floats(m * k, g), b = random_floats(k * n, g);
  for (const sgemm_isa isa : kernels) {
    moe::detail::sgemm_scratch scratch;
    std::vector<float> all(m * n);
    moe::detail::sgemm(isa, m, n, k, a.data(), k, b.data(), n, all.data(), n, false, scratch);
    for (const std::ptrdiff_t row :
         {std::ptrdiff_t{0}, std::ptrdiff_t{7}, std::ptrdiff_t{383}, std::ptrdiff_t{400}}) {
      std::vector<float> one(n);
      moe::detail::sgemm(isa, 1, n, k, a.data() + row * k, k, b.data(), n, one.data(), n, false,
                         scratch);
      for (std::ptrdiff_t j = 0; j < n; ++j)
        REQUIRE(one[static_cast<std::size_t>(j)] == all[static_cast<std::size_t>(row * n + j)]);
    }
  }
}

TEST_CASE("matmul falls back to Eigen's product for double and for no kernel", "[moe][kernel]") {
  rng g(13);
  moe::row_matrix<double> a(9, 20), b(20, 7);
  for (Eigen::Index i = 0; i < a.size(); ++i)
    a.data()[i] = g.normal();
  for (Eigen::Index i = 0; i < b.size(); ++i)
    b.data()[i] = g.normal();
  moe::row_matrix<double> c(9, 7), expect = a * b;
  moe::detail::sgemm_scratch scratch;
  moe::detail::matmul<false>(moe::detail::cpu_sgemm_isa(), a, b, c, scratch);
  REQUIRE((c.array() == expect.array()).all());
  moe::detail::matmul<true>(moe::detail::cpu_sgemm_isa(), a, b, c, scratch);
  expect.noalias() += a * b;
  REQUIRE((c.array() == expect.array()).all());
  const moe::row_matrix<float> af = a.cast<float>(), bf = b.cast<float>();
  moe::row_matrix<float> cf(9, 7);
  moe::detail::matmul<false>(sgemm_isa::none, af, bf, cf, scratch);
  const moe::row_matrix<float> ef = af * bf;
  REQUIRE((cf.array() == ef.array()).all());
}
