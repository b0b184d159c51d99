// Max pooling (with argmax for the backward) and global average pooling.
// The max-pool backward scatters each dy to one input pixel; with stride >= window no two
// windows share a pixel, but overlapping windows can, so it adds with atomicAdd.
#include "engine/ops/pool.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

using ops::Pool2dShape;

__global__ void max_pool2d_forward(Pool2dShape s, int64_t P, int64_t Q, const float* __restrict__ x,
                                   float* __restrict__ y, int32_t* __restrict__ argmax) {
  DUET_GRID_STRIDE(i, s.N * s.C * P * Q) {
    const int64_t q = i % Q, p = (i / Q) % P, nc = i / (Q * P);
    const float* plane = x + nc * s.H * s.W;
    int64_t best = (p * s.sh) * s.W + q * s.sw;
    float bv = plane[best];
    for (int64_t a = 0; a < s.kh; ++a)
      for (int64_t b = 0; b < s.kw; ++b) {
        const int64_t idx = (p * s.sh + a) * s.W + q * s.sw + b;
        const float v = plane[idx];
        if (v > bv) {  // strict: the first maximum wins ties, as on the CPU
          bv = v;
          best = idx;
        }
      }
    y[i] = bv;
    argmax[i] = int32_t(best);
  }
}

__global__ void max_pool2d_backward(Pool2dShape s, int64_t PQ, const float* __restrict__ dy,
                                    const int32_t* __restrict__ argmax, float* __restrict__ dx) {
  DUET_GRID_STRIDE(i, s.N * s.C * PQ) { atomicAdd(&dx[(i / PQ) * s.H * s.W + argmax[i]], dy[i]); }
}

// One warp per (n, c) plane.
__global__ void global_avg_pool_forward(int64_t NC, int64_t HW, const float* __restrict__ x, float* __restrict__ y) {
  const int64_t warp = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= NC) return;
  float acc = 0.0f;
  for (int64_t j = lane; j < HW; j += 32) acc += x[warp * HW + j];
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
  if (lane == 0) y[warp] = acc / float(HW);
}

__global__ void global_avg_pool_backward(int64_t NC, int64_t HW, const float* __restrict__ dy, float* __restrict__ dx) {
  DUET_GRID_STRIDE(i, NC * HW) { dx[i] += dy[i / HW] / float(HW); }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void max_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y, int32_t* argmax, Stream st) {
  s.validate();
  const int64_t P = s.P(), Q = s.Q();
  kernels::max_pool2d_forward<<<kernels::grid_for(s.N * s.C * P * Q), kernels::kBlock, 0, kernels::as_cuda(st)>>>(
      s, P, Q, x, y, argmax);
  cuda::check_launch("max_pool2d_forward");
}

void max_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, const int32_t* argmax, float* dx, Stream st) {
  const int64_t PQ = s.P() * s.Q();
  kernels::max_pool2d_backward<<<kernels::grid_for(s.N * s.C * PQ), kernels::kBlock, 0, kernels::as_cuda(st)>>>(
      s, PQ, dy, argmax, dx);
  cuda::check_launch("max_pool2d_backward");
}

void global_avg_pool_forward_cuda(int64_t NC, int64_t HW, const float* x, float* y, Stream st) {
  kernels::global_avg_pool_forward<<<kernels::grid_for(NC * 32), kernels::kBlock, 0, kernels::as_cuda(st)>>>(NC, HW, x,
                                                                                                          y);
  cuda::check_launch("global_avg_pool_forward");
}

void global_avg_pool_backward_cuda(int64_t NC, int64_t HW, const float* dy, float* dx, Stream st) {
  kernels::global_avg_pool_backward<<<kernels::grid_for(NC * HW), kernels::kBlock, 0, kernels::as_cuda(st)>>>(NC, HW,
                                                                                                           dy, dx);
  cuda::check_launch("global_avg_pool_backward");
}

}  // namespace duet::ops
