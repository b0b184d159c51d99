// Broadcast add/mul, block copies (concat) and scaling (formulas in engine/ops/elementwise.h).
// The backward of a broadcast operand is a reduction over the dims it was repeated along;
// here every output element adds its share with atomicAdd, which is simple and fast at the
// sizes modality attention uses (a weight per sample or per feature). An operand that was
// not broadcast gets plain, deterministic adds.
#include "engine/ops/elementwise.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

using ops::BinaryOp;
using ops::broadcast_offsets;
using ops::Broadcast;

__global__ void binary_forward(BinaryOp op, Broadcast bc, const float* __restrict__ a, const float* __restrict__ b,
                               float* __restrict__ y) {
  DUET_GRID_STRIDE(i, bc.numel) {
    int64_t oa = i, ob = i;
    if (!bc.same_shape) broadcast_offsets(bc, i, oa, ob);
    y[i] = op == BinaryOp::add ? a[oa] + b[ob] : a[oa] * b[ob];
  }
}

__global__ void binary_backward(BinaryOp op, Broadcast bc, const float* __restrict__ dy, const float* __restrict__ a,
                                const float* __restrict__ b, float* da, float* db, bool a_reduced, bool b_reduced) {
  DUET_GRID_STRIDE(i, bc.numel) {
    int64_t oa = i, ob = i;
    if (!bc.same_shape) broadcast_offsets(bc, i, oa, ob);
    if (da) {
      const float g = op == BinaryOp::add ? dy[i] : dy[i] * b[ob];
      if (a_reduced) atomicAdd(&da[oa], g);
      else da[oa] += g;
    }
    if (db) {
      const float g = op == BinaryOp::add ? dy[i] : dy[i] * a[oa];
      if (b_reduced) atomicAdd(&db[ob], g);
      else db[ob] += g;
    }
  }
}

__global__ void copy_block(int64_t outer, int64_t inner, const float* __restrict__ src, int64_t src_stride,
                           float* __restrict__ dst, int64_t dst_stride, int64_t dst_offset, bool accumulate) {
  DUET_GRID_STRIDE(i, outer * inner) {
    const int64_t o = i / inner, j = i % inner;
    float* d = dst + o * dst_stride + dst_offset + j;
    const float v = src[o * src_stride + j];
    *d = accumulate ? *d + v : v;
  }
}

__global__ void scale(int64_t n, float alpha, const float* __restrict__ x, float* __restrict__ y, bool accumulate) {
  DUET_GRID_STRIDE(i, n) { y[i] = accumulate ? y[i] + alpha * x[i] : alpha * x[i]; }
}

__global__ void log_forward(int64_t n, const float* __restrict__ x, float* __restrict__ y) {
  DUET_GRID_STRIDE(i, n) { y[i] = logf(x[i]); }
}

__global__ void log_backward(int64_t n, const float* __restrict__ dy, const float* __restrict__ x,
                             float* __restrict__ dx) {
  DUET_GRID_STRIDE(i, n) { dx[i] += dy[i] / x[i]; }
}

// Whether the operand with these strides repeats along any output dim of size > 1.
bool is_reduced(const Broadcast& bc, const int64_t* stride) {
  for (int d = 0; d < bc.ndim; ++d)
    if (stride[d] == 0 && bc.out_shape[d] > 1) return true;
  return false;
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void binary_forward_cuda(BinaryOp op, const Broadcast& bc, const float* a, const float* b, float* y, Stream s) {
  if (bc.numel == 0) return;
  kernels::binary_forward<<<kernels::grid_for(bc.numel), kernels::kBlock, 0, kernels::as_cuda(s)>>>(op, bc, a, b, y);
  cuda::check_launch("binary_forward");
}

void binary_backward_cuda(BinaryOp op, const Broadcast& bc, const float* dy, const float* a, const float* b, float* da,
                          float* db, Stream s) {
  if (bc.numel == 0) return;
  kernels::binary_backward<<<kernels::grid_for(bc.numel), kernels::kBlock, 0, kernels::as_cuda(s)>>>(
      op, bc, dy, a, b, da, db, kernels::is_reduced(bc, bc.a_stride), kernels::is_reduced(bc, bc.b_stride));
  cuda::check_launch("binary_backward");
}

void copy_block_cuda(int64_t outer, int64_t inner, const float* src, int64_t src_stride, float* dst,
                     int64_t dst_stride, int64_t dst_offset, bool accumulate, Stream s) {
  if (outer * inner == 0) return;
  kernels::copy_block<<<kernels::grid_for(outer * inner), kernels::kBlock, 0, kernels::as_cuda(s)>>>(
      outer, inner, src, src_stride, dst, dst_stride, dst_offset, accumulate);
  cuda::check_launch("copy_block");
}

void log_forward_cuda(int64_t n, const float* x, float* y, Stream s) {
  if (n == 0) return;
  kernels::log_forward<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, x, y);
  cuda::check_launch("log_forward");
}

void log_backward_cuda(int64_t n, const float* dy, const float* x, float* dx, Stream s) {
  if (n == 0) return;
  kernels::log_backward<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, dy, x, dx);
  cuda::check_launch("log_backward");
}

void scale_cuda(int64_t n, float alpha, const float* x, float* y, bool accumulate, Stream s) {
  if (n == 0) return;
  kernels::scale<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, alpha, x, y, accumulate);
  cuda::check_launch("scale");
}

}  // namespace duet::ops
