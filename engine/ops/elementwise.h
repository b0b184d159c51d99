// Element-wise binary ops with NumPy broadcasting, and block copies for concat.
//
// add / mul: y = a (+|*) b, where a and b broadcast to y's shape (size-1 or missing leading
// dims repeat). This covers per-feature scaling (a [N,F] * b [F]), per-sample weights
// (a [N,F] * b [N,1]) and modality attention.
// Gradients (accumulated): for add, da += reduce(dy), db += reduce(dy); for mul,
// da += reduce(dy * b), db += reduce(dy * a), where reduce sums over the broadcast dims.
//
// copy_block: dst[o*dst_stride + dst_offset + i] (=|+=) src[o*src_stride + i] for o < outer,
// i < inner. concat along axis 1 is one copy_block per input; its backward is the reverse.
#pragma once
#include <cstdint>

#include "engine/device.h"
#include "engine/rng.h"  // DUET_HD
#include "engine/tensor.h"

namespace duet::ops {

enum class BinaryOp { add, mul };

constexpr int kMaxDims = 6;

// Index maps from the output's flat index to a's and b's: out shape and, for each
// operand, its element stride along each output dim (0 where it broadcasts).
struct Broadcast {
  int ndim = 0;
  int64_t out_shape[kMaxDims] = {};
  int64_t a_stride[kMaxDims] = {};
  int64_t b_stride[kMaxDims] = {};
  int64_t numel = 1;
  bool same_shape = false;  // fast path: a, b and y all have the same shape
};
Broadcast make_broadcast(const Shape& a, const Shape& b);  // throws when they do not broadcast
Shape broadcast_shape(const Broadcast& bc);

// Offsets into a and b of the output's flat index i (shared by the CPU and CUDA code).
DUET_HD inline void broadcast_offsets(const Broadcast& bc, int64_t i, int64_t& oa, int64_t& ob) {
  oa = ob = 0;
  for (int d = bc.ndim - 1; d >= 0; --d) {
    const int64_t idx = i % bc.out_shape[d];
    i /= bc.out_shape[d];
    oa += idx * bc.a_stride[d];
    ob += idx * bc.b_stride[d];
  }
}

template <class T>
void binary_forward_cpu(BinaryOp op, const Broadcast& bc, const T* a, const T* b, T* y);
template <class T>
void binary_backward_cpu(BinaryOp op, const Broadcast& bc, const T* dy, const T* a, const T* b, T* da, T* db);

template <class T>
void copy_block_cpu(int64_t outer, int64_t inner, const T* src, int64_t src_stride, T* dst, int64_t dst_stride,
                    int64_t dst_offset, bool accumulate);

// Natural logarithm: y = log(x); gradient (accumulated) dx += dy / x.
template <class T>
void log_forward_cpu(int64_t n, const T* x, T* y);
template <class T>
void log_backward_cpu(int64_t n, const T* dy, const T* x, T* dx);
void log_forward_cuda(int64_t n, const float* x, float* y, Stream s);
void log_backward_cuda(int64_t n, const float* dy, const float* x, float* dx, Stream s);

// y = alpha * x (+ y when accumulate)
template <class T>
void scale_cpu(int64_t n, T alpha, const T* x, T* y, bool accumulate);

void binary_forward_cuda(BinaryOp op, const Broadcast& bc, const float* a, const float* b, float* y, Stream s);
void binary_backward_cuda(BinaryOp op, const Broadcast& bc, const float* dy, const float* a, const float* b,
                          float* da, float* db, Stream s);
void copy_block_cuda(int64_t outer, int64_t inner, const float* src, int64_t src_stride, float* dst,
                     int64_t dst_stride, int64_t dst_offset, bool accumulate, Stream s);
void scale_cuda(int64_t n, float alpha, const float* x, float* y, bool accumulate, Stream s);

}  // namespace duet::ops
