// Sum / mean of a whole tensor: a grid-stride partial sum per thread, a block reduction,
// one atomicAdd per block into the zeroed scalar.
#include "engine/ops/reduce.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

__global__ void sum_forward(int64_t n, const float* __restrict__ x, float scale, float* __restrict__ y) {
  __shared__ float scratch[32];
  float acc = 0.0f;
  DUET_GRID_STRIDE(i, n) { acc += x[i]; }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) atomicAdd(y, acc * scale);
}

__global__ void sum_backward(int64_t n, const float* __restrict__ dy, float scale, float* __restrict__ dx) {
  const float g = *dy * scale;
  DUET_GRID_STRIDE(i, n) { dx[i] += g; }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void sum_forward_cuda(int64_t n, const float* x, float scale, float* y, Stream s) {
  cudaStream_t st = kernels::as_cuda(s);
  cudaMemsetAsync(y, 0, sizeof(float), st);
  if (n == 0) return;
  const unsigned grid = std::min<unsigned>(kernels::grid_for(n), 1024);
  kernels::sum_forward<<<grid, kernels::kBlock, 0, st>>>(n, x, scale, y);
  cuda::check_launch("sum_forward");
}

void sum_backward_cuda(int64_t n, const float* dy, float scale, float* dx, Stream s) {
  if (n == 0) return;
  kernels::sum_backward<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, dy, scale, dx);
  cuda::check_launch("sum_backward");
}

}  // namespace duet::ops
