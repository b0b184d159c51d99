// Tiled SGEMM, row-major, C = alpha * op(A) op(B) + beta * C.
//
// Each block computes a BM x BN tile of C, stepping through K in slices of BK:
//   1. the block's 256 threads copy a BM x BK slice of op(A) and a BK x BN slice of op(B)
//      from global memory into shared memory (A stored transposed, As[k][m], so the inner
//      loop reads it along m);
//   2. each thread multiplies its own register tile: (GM*4) x (GN*4) outputs, read from
//      shared memory as float4 groups, 4 rows (or columns) apart by BM/GM (BN/GN), so a
//      warp's 128-bit shared loads never hit the same bank twice;
//   3. after the last slice, alpha/beta are applied and the tile is written out.
// Arithmetic intensity per slice: (BM*BN*BK) FMAs for (BM + BN)*BK loads, 32 FMA/load at
// 128x128 -- enough to make large GEMMs compute-bound. Small GEMMs use 64x64 tiles so that
// the grid still fills the GPU.
#include "engine/ops/gemm.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

constexpr int kThreadsPerDim = 16;  // 16 x 16 = 256 threads per block
constexpr int BK = 8;

template <int GM, int GN>
__global__ void __launch_bounds__(256) sgemm_tiled(bool ta, bool tb, int M, int N, int K, float alpha,
                                                   const float* __restrict__ A, int64_t lda,
                                                   const float* __restrict__ B, int64_t ldb, float beta,
                                                   float* __restrict__ C, int64_t ldc) {
  constexpr int BM = kThreadsPerDim * 4 * GM, BN = kThreadsPerDim * 4 * GN;
  __shared__ __align__(16) float As[BK][BM];
  __shared__ __align__(16) float Bs[BK][BN];
  const int tid = threadIdx.x;
  const int tr = tid / kThreadsPerDim, tc = tid % kThreadsPerDim;
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;

  float acc[GM * 4][GN * 4];
#pragma unroll
  for (int i = 0; i < GM * 4; ++i)
#pragma unroll
    for (int j = 0; j < GN * 4; ++j) acc[i][j] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += BK) {
    // Consecutive threads read consecutive addresses of whichever layout A and B have.
    for (int i = tid; i < BM * BK; i += 256) {
      const int m = ta ? i % BM : i / BK, k = ta ? i / BM : i % BK;
      const int gm = row0 + m, gk = k0 + k;
      As[k][m] = (gm < M && gk < K) ? (ta ? A[int64_t(gk) * lda + gm] : A[int64_t(gm) * lda + gk]) : 0.0f;
    }
    for (int i = tid; i < BK * BN; i += 256) {
      const int n = tb ? i / BK : i % BN, k = tb ? i % BK : i / BN;
      const int gk = k0 + k, gn = col0 + n;
      Bs[k][n] = (gk < K && gn < N) ? (tb ? B[int64_t(gn) * ldb + gk] : B[int64_t(gk) * ldb + gn]) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[GM * 4], b[GN * 4];
#pragma unroll
      for (int g = 0; g < GM; ++g) {
        const float4 v = *reinterpret_cast<const float4*>(&As[k][g * (BM / GM) + tr * 4]);
        a[g * 4 + 0] = v.x; a[g * 4 + 1] = v.y; a[g * 4 + 2] = v.z; a[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int g = 0; g < GN; ++g) {
        const float4 v = *reinterpret_cast<const float4*>(&Bs[k][g * (BN / GN) + tc * 4]);
        b[g * 4 + 0] = v.x; b[g * 4 + 1] = v.y; b[g * 4 + 2] = v.z; b[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < GM * 4; ++i)
#pragma unroll
        for (int j = 0; j < GN * 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < GM * 4; ++i) {
    const int gm = row0 + (i / 4) * (BM / GM) + tr * 4 + (i % 4);
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < GN * 4; ++j) {
      const int gn = col0 + (j / 4) * (BN / GN) + tc * 4 + (j % 4);
      if (gn >= N) continue;
      float* c = C + int64_t(gm) * ldc + gn;
      *c = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
    }
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void gemm_cuda(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc, Stream stream) {
  DUET_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: negative size ", M, "x", N, "x", K);
  DUET_CHECK(M < (1LL << 31) && N < (1LL << 31) && K < (1LL << 31), "gemm: size too large");
  if (M == 0 || N == 0) return;
  cudaStream_t s = kernels::as_cuda(stream);
  // Large outputs: 128x128 tiles. Small ones: 64x64, so there are blocks for every SM.
  if (M * N >= 512LL * 512) {
    dim3 grid(unsigned((N + 127) / 128), unsigned((M + 127) / 128));
    kernels::sgemm_tiled<2, 2><<<grid, 256, 0, s>>>(ta, tb, int(M), int(N), int(K), alpha, A, lda, B, ldb, beta, C,
                                                    ldc);
  } else {
    dim3 grid(unsigned((N + 63) / 64), unsigned((M + 63) / 64));
    kernels::sgemm_tiled<1, 1><<<grid, 256, 0, s>>>(ta, tb, int(M), int(N), int(K), alpha, A, lda, B, ldb, beta, C,
                                                    ldc);
  }
  cuda::check_launch("sgemm_tiled");
}

}  // namespace duet::ops
