// Pooling, NCHW.
// max_pool2d: y[n,c,p,q] = max over the window x[n,c, p*sh + i, q*sw + j], 0<=i<kh, 0<=j<kw
//   (no padding; P = (H - kh)/sh + 1). The forward also writes argmax[n,c,p,q], the index
//   h*W + w of the winner inside its plane (first maximum on ties, as PyTorch); the backward
//   sends dy to that pixel only: dx[argmax] += dy.
// global_avg_pool: y[n,c] = mean_{h,w} x[n,c,h,w]; dx[n,c,h,w] += dy[n,c] / (H*W).
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

struct Pool2dShape {
  int64_t N, C, H, W;
  int64_t kh, kw, sh, sw;
  int64_t P() const { return (H - kh) / sh + 1; }
  int64_t Q() const { return (W - kw) / sw + 1; }
  void validate() const;
};

template <class T>
void max_pool2d_forward_cpu(const Pool2dShape& s, const T* x, T* y, int32_t* argmax);
template <class T>
void max_pool2d_backward_cpu(const Pool2dShape& s, const T* dy, const int32_t* argmax, T* dx);
template <class T>
void global_avg_pool_forward_cpu(int64_t NC, int64_t HW, const T* x, T* y);
template <class T>
void global_avg_pool_backward_cpu(int64_t NC, int64_t HW, const T* dy, T* dx);

void max_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y, int32_t* argmax, Stream stream);
void max_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, const int32_t* argmax, float* dx,
                              Stream stream);
void global_avg_pool_forward_cuda(int64_t NC, int64_t HW, const float* x, float* y, Stream stream);
void global_avg_pool_backward_cuda(int64_t NC, int64_t HW, const float* dy, float* dx, Stream stream);

}  // namespace duet::ops
