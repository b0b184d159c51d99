// The blocked CPU SGEMM, compiled once per instruction set: gemm_cpu.cpp includes it for the
// baseline x86-64 / any CPU (4 floats a vector), gemm_cpu_avx2.cpp with -mavx2 -mfma (8 floats
// a vector). The including file defines
//   DUET_GEMM_NS    the namespace the copy lives in (so the two copies never mix at link time)
//   DUET_GEMM_VEC   floats per vector register
//   DUET_GEMM_MR    rows of C a micro-kernel call computes
//   DUET_GEMM_NV    vectors across a row of the micro-tile (NR = NV * VEC columns)
//
// The scheme is the usual one of fast CPU GEMMs:
//   for each block of NC columns of C and KC of the K dimension:
//     pack op(B)'s KC x NC block into NR-wide column panels (each panel row contiguous)
//     for each block of MC rows: pack op(A)'s MC x KC block into MR-tall row panels
//       for each NR panel, for each MR panel: the micro-kernel keeps an MR x NR tile of C in
//       registers and adds KC rank-1 updates to it (one broadcast of A, NV loads of B and
//       MR*NV fused multiply-adds per step), then writes the tile back once.
// The naive loop reads and writes C once per multiply-add; the micro-kernel does it once per
// KC of them, so the registers, not the memory, set the pace.
//
// Each element of C is summed over K in the same order whatever the thread count (threads
// share out tiles, never the K dimension), so results do not depend on OMP_NUM_THREADS.
// No standard-library inline function is used here: in the AVX2 copy it would be compiled with
// AVX2 instructions and could be the one the linker keeps for the whole program.
#include <omp.h>

#include <cstdint>

namespace duet::ops::DUET_GEMM_NS {

typedef float vf __attribute__((vector_size(DUET_GEMM_VEC * sizeof(float))));

constexpr int kVec = DUET_GEMM_VEC;
constexpr int kMR = DUET_GEMM_MR;
constexpr int kNV = DUET_GEMM_NV;
constexpr int kNR = kNV * kVec;

static inline int64_t smaller(int64_t a, int64_t b) { return a < b ? a : b; }

static inline vf load(const float* p) {
  vf v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

// Packs rows [0, mc) x columns [0, kc) of op(A) (A already offset to the block) into MR-row
// panels: panel[p * MR + i] = op(A)(panel_row + i, p), zero past the last row.
static void pack_a(bool ta, const float* A, int64_t lda, int64_t mc, int64_t kc, int64_t panel, float* out) {
  const int64_t r0 = panel * kMR;
  float* dst = out + panel * kMR * kc;
  for (int64_t p = 0; p < kc; ++p)
    for (int i = 0; i < kMR; ++i) {
      const int64_t r = r0 + i;
      dst[p * kMR + i] = r < mc ? (ta ? A[p * lda + r] : A[r * lda + p]) : 0.0f;
    }
}

// Packs rows [0, kc) x columns [0, nc) of op(B) into NR-column panels:
// panel[p * NR + j] = op(B)(p, panel_col + j), zero past the last column.
static void pack_b(bool tb, const float* B, int64_t ldb, int64_t kc, int64_t nc, int64_t panel, float* out) {
  const int64_t c0 = panel * kNR;
  float* dst = out + panel * kNR * kc;
  const int64_t width = smaller(kNR, nc - c0);
  for (int64_t p = 0; p < kc; ++p) {
    float* row = dst + p * kNR;
    if (!tb) {
      const float* src = B + p * ldb + c0;
      for (int64_t j = 0; j < width; ++j) row[j] = src[j];
    } else {
      for (int64_t j = 0; j < width; ++j) row[j] = B[(c0 + j) * ldb + p];
    }
    for (int64_t j = width; j < kNR; ++j) row[j] = 0.0f;
  }
}

// tile = sum over p < kc of a[p, 0:MR]^T b[p, 0:NR], the MR x NR tile in registers.
static inline void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b,
                                float* __restrict tile) {
  vf acc[kMR][kNV];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < kNV; ++v) acc[i][v] = vf{};
  for (int64_t p = 0; p < kc; ++p) {
    vf bv[kNV];
#pragma GCC unroll 16
    for (int v = 0; v < kNV; ++v) bv[v] = load(b + p * kNR + v * kVec);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const vf ai = a[p * kMR + i] - vf{};  // the broadcast (x - 0 is x, so no arithmetic is left)
#pragma GCC unroll 16
      for (int v = 0; v < kNV; ++v) acc[i][v] += ai * bv[v];
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < kNV; ++v) __builtin_memcpy(tile + i * kNR + v * kVec, &acc[i][v], sizeof(vf));
}

// C (mr x nr, row stride ldc) = alpha * tile + (first ? beta * C : C); beta 0 overwrites C.
static inline void write_tile(const float* tile, int64_t mr, int64_t nr, float alpha, float beta, bool first, float* C,
                              int64_t ldc) {
  for (int64_t i = 0; i < mr; ++i) {
    float* c = C + i * ldc;
    const float* t = tile + i * kNR;
    if (!first || beta == 1.0f)
      for (int64_t j = 0; j < nr; ++j) c[j] += alpha * t[j];
    else if (beta == 0.0f)
      for (int64_t j = 0; j < nr; ++j) c[j] = alpha * t[j];
    else
      for (int64_t j = 0; j < nr; ++j) c[j] = alpha * t[j] + beta * c[j];
  }
}

// C = alpha * op(A) op(B) + beta * C with K >= 1. a_buf holds MC x KC floats, b_buf KC x NC
// (the block sizes gemm_cpu.cpp allocates for); `parallel` spreads the tiles over OpenMP threads.
void sgemm_blocked(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc, float* a_buf, float* b_buf,
                   int64_t MC, int64_t NC, int64_t KC, bool parallel) {
#pragma omp parallel if (parallel)
  {
    alignas(64) float tile[kMR * kNR];
    for (int64_t jc = 0; jc < N; jc += NC) {
      const int64_t nc = smaller(NC, N - jc), n_panels = (nc + kNR - 1) / kNR;
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = smaller(KC, K - pc);
        const float* Bblock = tb ? B + jc * ldb + pc : B + pc * ldb + jc;
#pragma omp for schedule(static)
        for (int64_t jp = 0; jp < n_panels; ++jp) pack_b(tb, Bblock, ldb, kc, nc, jp, b_buf);
        for (int64_t ic = 0; ic < M; ic += MC) {
          const int64_t mc = smaller(MC, M - ic), m_panels = (mc + kMR - 1) / kMR;
          const float* Ablock = ta ? A + pc * lda + ic : A + ic * lda + pc;
#pragma omp for schedule(static)
          for (int64_t ip = 0; ip < m_panels; ++ip) pack_a(ta, Ablock, lda, mc, kc, ip, a_buf);
#pragma omp for collapse(2) schedule(static)
          for (int64_t jp = 0; jp < n_panels; ++jp)
            for (int64_t ip = 0; ip < m_panels; ++ip) {
              micro_kernel(kc, a_buf + ip * kMR * kc, b_buf + jp * kNR * kc, tile);
              const int64_t r = ip * kMR, c = jp * kNR;
              write_tile(tile, smaller(kMR, mc - r), smaller(kNR, nc - c), alpha, beta, pc == 0,
                         C + (ic + r) * ldc + jc + c, ldc);
            }
        }
      }
    }
  }
}

}  // namespace duet::ops::DUET_GEMM_NS
