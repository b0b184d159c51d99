// 2-D convolution (cross-correlation, as in PyTorch), NCHW.
//   x [N, C, H, W], w [K, C, R, S], b [K] (optional), y [N, K, P, Q]
//   P = (H + 2*pad_h - R) / stride_h + 1,  Q likewise.
//   y[n,k,p,q] = b[k] + sum_{c,r,s} w[k,c,r,s] * x[n, c, p*stride_h - pad_h + r, q*stride_w - pad_w + s]
//   (x outside the image is zero).
// Gradients: dx = conv_transpose(dy, w); dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] * x[...];
// db[k] = sum_{n,p,q} dy[n,k,p,q]. Every backward function ACCUMULATES (+=) into its output.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

struct Conv2dShape {
  int64_t N, C, H, W;  // input
  int64_t K, R, S;     // out channels, kernel height, kernel width
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t P() const { return (H + 2 * pad_h - R) / stride_h + 1; }
  int64_t Q() const { return (W + 2 * pad_w - S) / stride_w + 1; }
  void validate() const;  // throws when any size is out of range or the output is empty
};

template <class T>
void conv2d_forward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y);
template <class T>
void conv2d_backward_data_cpu(const Conv2dShape& s, const T* dy, const T* w, T* dx);
template <class T>
void conv2d_backward_weight_cpu(const Conv2dShape& s, const T* dy, const T* x, T* dw, T* db);

// CUDA (kernels/conv2d.cu), float32. relu=true fuses max(0, .) into the forward epilogue.
// Two algorithms: implicit GEMM (the default) and direct (one thread per output; the simple
// reference). The environment variable DUET_CONV_ALGO=gemm|direct picks the default.
enum class ConvAlgo { implicit_gemm, direct };
ConvAlgo conv_algo_from_env();  // throws on a value other than gemm or direct
void conv2d_forward_cuda(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                         bool relu, Stream stream, ConvAlgo algo = conv_algo_from_env());
void conv2d_backward_data_cuda(const Conv2dShape& s, const float* dy, const float* w, float* dx, Stream stream,
                               ConvAlgo algo = conv_algo_from_env());
void conv2d_backward_weight_cuda(const Conv2dShape& s, const float* dy, const float* x, float* dw, float* db,
                                 Stream stream, ConvAlgo algo = conv_algo_from_env());

}  // namespace duet::ops
