// ReLU forward/backward: element-wise, memory-bound; float4 would help only at sizes far
// above the models' activations, so these stay scalar grid-stride loops.
#include "engine/ops/activation.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

__global__ void relu_forward(int64_t n, const float* __restrict__ x, float* __restrict__ y) {
  DUET_GRID_STRIDE(i, n) { y[i] = fmaxf(x[i], 0.0f); }
}

__global__ void relu_backward(int64_t n, const float* __restrict__ dy, const float* __restrict__ y,
                              float* __restrict__ dx) {
  DUET_GRID_STRIDE(i, n) {
    if (y[i] > 0.0f) dx[i] += dy[i];
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void relu_forward_cuda(int64_t n, const float* x, float* y, Stream s) {
  if (n == 0) return;
  kernels::relu_forward<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, x, y);
  cuda::check_launch("relu_forward");
}

void relu_backward_cuda(int64_t n, const float* dy, const float* y, float* dx, Stream s) {
  if (n == 0) return;
  kernels::relu_backward<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, dy, y, dx);
  cuda::check_launch("relu_backward");
}

}  // namespace duet::ops
