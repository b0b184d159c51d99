// Linear layer: y = x w^T + b by our SGEMM, then the bias broadcast; the backward is two
// GEMMs and a column sum for the bias (formulas in engine/ops/linear.h).
#include "engine/ops/gemm.h"
#include "engine/ops/linear.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

__global__ void add_bias_rows(int64_t N, int64_t O, const float* __restrict__ b, float* __restrict__ y) {
  DUET_GRID_STRIDE(i, N * O) { y[i] += b[i % O]; }
}

// db[o] += sum_n dy[n, o]: one thread per column walks down the rows (reads coalesce across
// the warp because neighbouring threads take neighbouring columns).
__global__ void column_sum_add(int64_t N, int64_t O, const float* __restrict__ dy, float* __restrict__ db) {
  DUET_GRID_STRIDE(o, O) {
    float acc = 0.0f;
    for (int64_t n = 0; n < N; ++n) acc += dy[n * O + o];
    db[o] += acc;
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void linear_forward_cuda(int64_t N, int64_t I, int64_t O, const float* x, const float* w, const float* b, float* y,
                         Stream stream) {
  gemm_cuda(false, true, N, O, I, 1.0f, x, I, w, I, 0.0f, y, O, stream);
  if (b) {
    kernels::add_bias_rows<<<kernels::grid_for(N * O), kernels::kBlock, 0, kernels::as_cuda(stream)>>>(N, O, b, y);
    cuda::check_launch("add_bias_rows");
  }
}

void linear_backward_cuda(int64_t N, int64_t I, int64_t O, const float* dy, const float* x, const float* w,
                          float* dx, float* dw, float* db, Stream stream) {
  if (dx) gemm_cuda(false, false, N, I, O, 1.0f, dy, O, w, I, 1.0f, dx, I, stream);
  if (dw) gemm_cuda(true, false, O, I, N, 1.0f, dy, O, x, I, 1.0f, dw, I, stream);
  if (db) {
    kernels::column_sum_add<<<kernels::grid_for(O), kernels::kBlock, 0, kernels::as_cuda(stream)>>>(N, O, dy, db);
    cuda::check_launch("column_sum_add");
  }
}

}  // namespace duet::ops
