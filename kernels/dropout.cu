// Dropout with the counter-based hash of engine/rng.h: the mask for element i is
// uniform_hash(seed, i) >= p on both devices, so nothing is stored between forward and
// backward and CPU and GPU agree bit for bit on which elements drop.
#include "engine/ops/dropout.h"
#include "engine/rng.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

__global__ void dropout_forward(int64_t n, float p, uint64_t seed, const float* __restrict__ x,
                                float* __restrict__ y) {
  const float scale = 1.0f / (1.0f - p);
  DUET_GRID_STRIDE(i, n) { y[i] = uniform_hash(seed, uint64_t(i)) >= p ? x[i] * scale : 0.0f; }
}

__global__ void dropout_backward(int64_t n, float p, uint64_t seed, const float* __restrict__ dy,
                                 float* __restrict__ dx) {
  const float scale = 1.0f / (1.0f - p);
  DUET_GRID_STRIDE(i, n) {
    if (uniform_hash(seed, uint64_t(i)) >= p) dx[i] += dy[i] * scale;
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void dropout_forward_cuda(int64_t n, float p, uint64_t seed, const float* x, float* y, Stream s) {
  if (n == 0) return;
  kernels::dropout_forward<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, p, seed, x, y);
  cuda::check_launch("dropout_forward");
}

void dropout_backward_cuda(int64_t n, float p, uint64_t seed, const float* dy, float* dx, Stream s) {
  if (n == 0) return;
  kernels::dropout_backward<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, p, seed, dy, dx);
  cuda::check_launch("dropout_backward");
}

}  // namespace duet::ops
