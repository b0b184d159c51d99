// Fully connected layer, as torch.nn.Linear.
//   x [N, I], w [O, I], b [O] (optional), y [N, O]:  y = x w^T + b
// Gradients (accumulated, +=): dx += dy w;  dw += dy^T x;  db += sum_n dy.
// Both devices route through GEMM (gemm.h); the bias is a broadcast add / column sum.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

template <class T>
void linear_forward_cpu(int64_t N, int64_t I, int64_t O, const T* x, const T* w, const T* b, T* y);
template <class T>
void linear_backward_cpu(int64_t N, int64_t I, int64_t O, const T* dy, const T* x, const T* w, T* dx, T* dw,
                         T* db);  // any of dx, dw, db may be null

void linear_forward_cuda(int64_t N, int64_t I, int64_t O, const float* x, const float* w, const float* b,
                         float* y, Stream stream);
void linear_backward_cuda(int64_t N, int64_t I, int64_t O, const float* dy, const float* x, const float* w,
                          float* dx, float* dw, float* db, Stream stream);

}  // namespace duet::ops
