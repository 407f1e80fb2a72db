/// @file
/// The matrix products of the grouped MoE layer: a register-blocked single-precision GEMM for x86
/// processors with AVX2+FMA or AVX-512, chosen at run time, and Eigen's products otherwise.
///
/// `detail::sgemm` computes C = A·B (or C += A·B) for row-major float matrices. It is the loop
/// nest of Goto & van de Geijn (2008, "Anatomy of high-performance matrix multiplication") as
/// BLIS arranges it: B is packed once per kc-deep slice into panels of nr columns, A per block
/// of mc rows into tiles of mr rows, and a micro-kernel keeps an mr × nr block of C in vector
/// registers while it runs along the slice: per step it loads two vectors of B, broadcasts mr
/// elements of A and issues 2·mr fused multiply-adds. The micro-kernel is written with GCC/Clang
/// vector extensions and compiled twice, for AVX-512 (mr 8, nr 32: 16 zmm accumulators) and for
/// AVX2+FMA (mr 6, nr 16: 12 ymm accumulators), each inside a function with its `target`
/// attribute, so the library needs no compiler flags; `__builtin_cpu_supports` picks one.
///
/// Every element of C is the same sum in the same order on both paths: per kc-slice of the inner
/// dimension, one fused multiply-add per k in ascending k, the slice's sum then added to C. So the
/// AVX2 and AVX-512 paths give bit-identical results, and a row of C does not depend on the
/// other rows of A (the layer's result does not depend on how tokens are grouped or threaded).
/// Eigen's products, the fallback, round differently.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "infercost/core/macros.hpp"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define INFERCOST_MOE_X86_KERNEL 1
#else
#define INFERCOST_MOE_X86_KERNEL 0
#endif

namespace infercost::moe::detail {

/// Instruction set of the single-precision kernel.
enum class sgemm_isa { none, avx2, avx512 };

/// The kernel this processor runs: AVX-512 (avx512f), else AVX2 with FMA, else none (Eigen).
[[nodiscard]] inline sgemm_isa detect_sgemm_isa() noexcept {
#if INFERCOST_MOE_X86_KERNEL
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return sgemm_isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return sgemm_isa::avx2;
#endif
  return sgemm_isa::none;
}

/// The kernel of this processor, detected once.
[[nodiscard]] inline sgemm_isa cpu_sgemm_isa() noexcept {
  static const sgemm_isa isa = detect_sgemm_isa();
  return isa;
}

[[nodiscard]] constexpr std::string_view to_string(sgemm_isa isa) noexcept {
  switch (isa) {
  case sgemm_isa::avx512:
    return "avx512";
  case sgemm_isa::avx2:
    return "avx2+fma";
  default:
    return "none";
  }
}

/// Packing buffers of `sgemm`, reused across calls (one per thread).
struct sgemm_scratch {
  std::vector<float> a; ///< one mc-row block of A, in mr-row tiles
  std::vector<float> b; ///< one kc-deep slice of B, in nr-column panels
  std::vector<float> c; ///< one mr × nr block of C at the edges
};

/// Blocking of the kernel: kc is the depth of a slice (both paths, so that they sum alike), mc
/// the rows of A packed at once (a multiple of both mr: 384·256·4 bytes = 384 KiB stay in a
/// 1 MiB L2 while the panels of B stream past).
inline constexpr int sgemm_kc = 256;
inline constexpr int sgemm_mc = 384;

#if defined(__clang__)
#define INFERCOST_UNROLL _Pragma("unroll")
#else
#define INFERCOST_UNROLL _Pragma("GCC unroll 16")
#endif

/// The loop nest for vectors `Vec` of `lanes` floats and tiles of `mr` rows; inlined into the
/// target-specific entry points below, which compile it for their instruction set.
template <class Vec, int lanes, int mr>
[[gnu::always_inline]] inline void sgemm_loops(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k,
                                               const float* a, std::ptrdiff_t lda, const float* b,
                                               std::ptrdiff_t ldb, float* c, std::ptrdiff_t ldc,
                                               bool accumulate, sgemm_scratch& s) {
  constexpr std::ptrdiff_t nr = 2 * lanes, kc_max = sgemm_kc, mc_max = sgemm_mc;
  static_assert(sizeof(Vec) == sizeof(float) * lanes && mc_max % mr == 0);
  const std::ptrdiff_t panels = (n + nr - 1) / nr;
  // With one block of rows, each panel of B is packed just before its tiles use it, into a buffer
  // that stays in L1; with several, the slice is packed once for all of them.
  const bool one_block = m <= mc_max;
  s.b.resize(static_cast<std::size_t>((one_block ? 1 : panels) * nr * kc_max));
  s.a.resize(static_cast<std::size_t>(mc_max * kc_max));
  s.c.resize(static_cast<std::size_t>(mr * nr));
  if (k == 0 && !accumulate)
    for (std::ptrdiff_t i = 0; i < m; ++i)
      std::fill_n(c + i * ldc, n, 0.0F);
  for (std::ptrdiff_t kb = 0; kb < k; kb += kc_max) {
    const std::ptrdiff_t kc = std::min(kc_max, k - kb);
    const bool add = accumulate || kb > 0;
    // Packs B[kb : kb + kc, panel p's columns] at bp, k-major, zero-padded to nr columns.
    auto pack_panel = [&](std::ptrdiff_t p, float* bp) {
      const std::ptrdiff_t j0 = p * nr, w = std::min(nr, n - j0);
      if (w == nr) { // a whole panel: two vector moves per row
        for (std::ptrdiff_t q = 0; q < kc; ++q) {
          const float* src = b + (kb + q) * ldb + j0;
          Vec v0, v1;
          std::memcpy(&v0, src, sizeof(Vec));
          std::memcpy(&v1, src + lanes, sizeof(Vec));
          std::memcpy(bp + q * nr, &v0, sizeof(Vec));
          std::memcpy(bp + q * nr + lanes, &v1, sizeof(Vec));
        }
        return;
      }
      for (std::ptrdiff_t q = 0; q < kc; ++q) {
        std::memcpy(bp + q * nr, b + (kb + q) * ldb + j0, static_cast<std::size_t>(w) * 4);
        std::fill(bp + q * nr + w, bp + (q + 1) * nr, 0.0F);
      }
    };
    if (!one_block)
      for (std::ptrdiff_t p = 0; p < panels; ++p)
        pack_panel(p, s.b.data() + p * nr * kc);
    for (std::ptrdiff_t i0 = 0; i0 < m; i0 += mc_max) {
      const std::ptrdiff_t mc = std::min(mc_max, m - i0), tiles = (mc + mr - 1) / mr;
      // Pack A[i0 : i0 + mc, kb : kb + kc] as tiles of mr rows, k-major inside a tile.
      for (std::ptrdiff_t t = 0; t < tiles; ++t) {
        float* at = s.a.data() + t * mr * kc;
        for (std::ptrdiff_t r = 0; r < mr; ++r) {
          const std::ptrdiff_t i = i0 + t * mr + r;
          if (i < m) {
            const float* src = a + i * lda + kb;
            for (std::ptrdiff_t q = 0; q < kc; ++q)
              at[q * mr + r] = src[q];
          } else {
            for (std::ptrdiff_t q = 0; q < kc; ++q)
              at[q * mr + r] = 0.0F;
          }
        }
      }
      for (std::ptrdiff_t p = 0; p < panels; ++p) {
        if (one_block)
          pack_panel(p, s.b.data());
        const float* bp = s.b.data() + (one_block ? 0 : p * nr * kc);
        const std::ptrdiff_t j0 = p * nr, w = std::min(nr, n - j0);
        for (std::ptrdiff_t t = 0; t < tiles; ++t) {
          const float* at = s.a.data() + t * mr * kc;
          const std::ptrdiff_t row0 = i0 + t * mr, h = std::min<std::ptrdiff_t>(mr, m - row0);
          if (add) // C's block, read after the slice: fetch it while the slice runs
            for (std::ptrdiff_t r = 0; r < h; ++r) {
              __builtin_prefetch(c + (row0 + r) * ldc + j0);
              __builtin_prefetch(c + (row0 + r) * ldc + j0 + w - 1);
            }
          Vec lo[mr], hi[mr];
          INFERCOST_UNROLL
          for (int r = 0; r < mr; ++r)
            lo[r] = hi[r] = Vec{};
          for (std::ptrdiff_t q = 0; q < kc; ++q) {
            Vec b0, b1;
            std::memcpy(&b0, bp + q * nr, sizeof(Vec));
            std::memcpy(&b1, bp + q * nr + lanes, sizeof(Vec));
            INFERCOST_UNROLL
            for (int r = 0; r < mr; ++r) {
              const float x = at[q * mr + r];
              lo[r] += x * b0;
              hi[r] += x * b1;
            }
          }
          if (h == mr && w == nr) {
            INFERCOST_UNROLL
            for (int r = 0; r < mr; ++r) {
              float* cr = c + (row0 + r) * ldc + j0;
              if (add) {
                Vec c0, c1;
                std::memcpy(&c0, cr, sizeof(Vec));
                std::memcpy(&c1, cr + lanes, sizeof(Vec));
                lo[r] += c0;
                hi[r] += c1;
              }
              std::memcpy(cr, &lo[r], sizeof(Vec));
              std::memcpy(cr + lanes, &hi[r], sizeof(Vec));
            }
          } else { // an edge block: through a buffer, the same sums
            float* ct = s.c.data();
            for (int r = 0; r < mr; ++r) {
              std::memcpy(ct + r * nr, &lo[r], sizeof(Vec));
              std::memcpy(ct + r * nr + lanes, &hi[r], sizeof(Vec));
            }
            for (std::ptrdiff_t r = 0; r < h; ++r)
              for (std::ptrdiff_t j = 0; j < w; ++j) {
                float& dst = c[(row0 + r) * ldc + j0 + j];
                dst = add ? ct[r * nr + j] + dst : ct[r * nr + j];
              }
          }
        }
      }
    }
  }
}

#if INFERCOST_MOE_X86_KERNEL
using sgemm_v16 = float __attribute__((vector_size(64)));
using sgemm_v8 = float __attribute__((vector_size(32)));

[[gnu::target("avx512f")]] inline void
sgemm_avx512(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a,
             std::ptrdiff_t lda, const float* b, std::ptrdiff_t ldb, float* c, std::ptrdiff_t ldc,
             bool accumulate, sgemm_scratch& s) {
  sgemm_loops<sgemm_v16, 16, 8>(m, n, k, a, lda, b, ldb, c, ldc, accumulate, s);
}

[[gnu::target("avx2,fma")]] inline void sgemm_avx2(std::ptrdiff_t m, std::ptrdiff_t n,
                                                   std::ptrdiff_t k, const float* a,
                                                   std::ptrdiff_t lda, const float* b,
                                                   std::ptrdiff_t ldb, float* c, std::ptrdiff_t ldc,
                                                   bool accumulate, sgemm_scratch& s) {
  sgemm_loops<sgemm_v8, 8, 6>(m, n, k, a, lda, b, ldb, c, ldc, accumulate, s);
}
#endif

/// C (m × n) = A (m × k) · B (k × n), or C += A·B if `accumulate`; row-major with leading
/// dimensions lda, ldb, ldc; runs the kernel of `isa`, which must not be `none` and which the
/// processor must have (cpu_sgemm_isa()).
inline void sgemm(sgemm_isa isa, std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k,
                  const float* a, std::ptrdiff_t lda, const float* b, std::ptrdiff_t ldb, float* c,
                  std::ptrdiff_t ldc, bool accumulate, sgemm_scratch& s) {
#if INFERCOST_MOE_X86_KERNEL
  if (isa == sgemm_isa::avx512) {
    sgemm_avx512(m, n, k, a, lda, b, ldb, c, ldc, accumulate, s);
    return;
  }
  if (isa == sgemm_isa::avx2) {
    sgemm_avx2(m, n, k, a, lda, b, ldb, c, ldc, accumulate, s);
    return;
  }
#endif
  (void)isa, (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc,
      (void)accumulate, (void)s;
  // No kernel for `isa` (none, or not compiled for this target): a caller's bug, never silent.
  ::infercost::detail::assert_fail("isa has a kernel", "moe::detail::sgemm", __FILE__, __LINE__);
}

/// The product of the layer: dst = lhs·rhs (or dst += lhs·rhs if Accumulate) for row-major
/// dense blocks with unit inner stride. Float runs the kernel of `isa` unless it is `none`;
/// double, and float with `none`, use Eigen's product.
/// (`dst` may be a temporary block expression, as Eigen's documentation shows for outputs.)
template <bool Accumulate, class Lhs, class Rhs, class Dst>
void matmul(sgemm_isa isa, const Eigen::MatrixBase<Lhs>& lhs, const Eigen::MatrixBase<Rhs>& rhs,
            const Eigen::MatrixBase<Dst>& out, sgemm_scratch& s) {
  auto& dst = const_cast<Eigen::MatrixBase<Dst>&>(out);
  using scalar = typename Dst::Scalar;
  if constexpr (std::is_same_v<scalar, float>) {
    static_assert(Lhs::IsRowMajor && Rhs::IsRowMajor && Dst::IsRowMajor,
                  "moe::detail::matmul: the kernel takes row-major blocks");
    if (isa != sgemm_isa::none) {
      sgemm(isa, lhs.rows(), rhs.cols(), lhs.cols(), lhs.derived().data(), lhs.outerStride(),
            rhs.derived().data(), rhs.outerStride(), dst.derived().data(), dst.outerStride(),
            Accumulate, s);
      return;
    }
  }
  if constexpr (Accumulate)
    dst.derived().noalias() += lhs * rhs;
  else
    dst.derived().noalias() = lhs * rhs;
}

} // namespace infercost::moe::detail
