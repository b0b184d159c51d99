// SGEMM, row-major: C = alpha * op(A) op(B) + beta * C, on the shared tiled kernel of
// kernels/gemm_tile.cuh (tiles, register blocking and bank-conflict-free reads are
// described there). Small outputs with a long k (a linear layer's forward at batch 32:
// 32 x 10 outputs, k = 7220) are split along k so that the GPU has blocks to run; the
// partial sums meet through atomicAdd after C was scaled by beta.
#include <cstdlib>

#include "engine/ops/gemm.h"
#include "kernels/gemm_tile.cuh"

namespace duet::kernels {
namespace {

__global__ void scale_matrix(float* c, int64_t ldc, int64_t M, int64_t N, float beta) {
  DUET_GRID_STRIDE(i, M * N) {
    float* p = c + (i / N) * ldc + i % N;
    *p = beta == 0.0f ? 0.0f : beta * *p;
  }
}

int sm_count() {
  static int n = [] {
    int dev = 0, sms = 0;
    cudaGetDevice(&dev);
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
      (void)cudaGetLastError();
      sms = 80;
    }
    return sms;
  }();
  return n;
}

template <bool TA, bool TB>
void run(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
         float beta, float* C, int64_t ldc, cudaStream_t s) {
  const int splits = split_k_for(tile_blocks(M, N), K);
  if (splits > 1) {
    scale_matrix<<<grid_for(M * N), kBlock, 0, s>>>(C, ldc, M, N, beta);
    cuda::check_launch("sgemm: scale C");
  }
  launch_tiled_gemm(M, N, K, splits, MatrixA<TA>{A, lda}, MatrixB<TB>{B, ldb},
                    MatrixStore{C, ldc, alpha, beta, splits > 1}, s, "sgemm");
}

}  // namespace

bool gemm_pipelined() {
  static const bool on = ops::parse_gemm_pipeline(std::getenv("DUET_GEMM_PIPELINE"));
  return on;
}

int split_k_for(int64_t blocks, int64_t K, int64_t min_k) {
  const int64_t target = 4LL * sm_count();
  if (blocks <= 0 || blocks >= sm_count()) return 1;
  const int64_t s = std::min(target / blocks, K / min_k);
  return int(std::max<int64_t>(1, s));
}

}  // namespace duet::kernels

namespace duet::ops {

void gemm_cuda(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc, Stream stream) {
  DUET_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: negative size ", M, "x", N, "x", K);
  if (M == 0 || N == 0) return;
  cudaStream_t s = kernels::as_cuda(stream);
  if (!ta && !tb) kernels::run<false, false>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, s);
  else if (!ta && tb) kernels::run<false, true>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, s);
  else if (ta && !tb) kernels::run<true, false>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, s);
  else kernels::run<true, true>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, s);
}

}  // namespace duet::ops
