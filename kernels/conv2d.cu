// Direct convolution kernels, NCHW (shapes and formulas in engine/ops/conv2d.h).
//
// The course and MNIST CNNs are small: a few million outputs, tens to hundreds of MACs each.
// At that size the cost is memory traffic and launch count, not FLOPs, so each kernel keeps
// its reads coalesced and every output is written by exactly one thread (or reduced once):
//  * forward: one thread per output y[n,k,p,q]; consecutive threads take consecutive q, so
//    a warp shares k (the weight reads broadcast) and reads neighbouring input pixels.
//    Bias and ReLU are applied in the same pass (the fused epilogue).
//  * backward-data: one thread per input pixel dx[n,c,h,w], gathering from the outputs whose
//    window covered it (no atomics, deterministic).
//  * backward-weight: one block per (k, c, n) accumulating all R*S taps in registers over
//    the n-th image's P*Q positions, then a block reduction and one atomicAdd per tap; the
//    bias gradient is one block per k.
#include "engine/ops/conv2d.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

using ops::Conv2dShape;

__global__ void conv2d_forward(Conv2dShape s, int64_t P, int64_t Q, const float* __restrict__ x,
                               const float* __restrict__ w, const float* __restrict__ b, float* __restrict__ y,
                               bool relu) {
  const int64_t total = s.N * s.K * P * Q;
  DUET_GRID_STRIDE(i, total) {
    const int64_t q = i % Q, p = (i / Q) % P, k = (i / (Q * P)) % s.K, n = i / (Q * P * s.K);
    float acc = b ? b[k] : 0.0f;
    const int64_t h0 = p * s.stride_h - s.pad_h, w0 = q * s.stride_w - s.pad_w;
    for (int64_t c = 0; c < s.C; ++c) {
      const float* xc = x + (n * s.C + c) * s.H * s.W;
      const float* wc = w + (k * s.C + c) * s.R * s.S;
      for (int64_t r = 0; r < s.R; ++r) {
        const int64_t h = h0 + r;
        if (h < 0 || h >= s.H) continue;
        for (int64_t t = 0; t < s.S; ++t) {
          const int64_t ww = w0 + t;
          if (ww >= 0 && ww < s.W) acc = fmaf(wc[r * s.S + t], xc[h * s.W + ww], acc);
        }
      }
    }
    y[i] = relu ? fmaxf(acc, 0.0f) : acc;
  }
}

__global__ void conv2d_backward_data(Conv2dShape s, int64_t P, int64_t Q, const float* __restrict__ dy,
                                     const float* __restrict__ w, float* __restrict__ dx) {
  const int64_t total = s.N * s.C * s.H * s.W;
  DUET_GRID_STRIDE(i, total) {
    const int64_t ww = i % s.W, h = (i / s.W) % s.H, c = (i / (s.W * s.H)) % s.C, n = i / (s.W * s.H * s.C);
    float acc = 0.0f;
    for (int64_t r = 0; r < s.R; ++r) {
      const int64_t ph = h + s.pad_h - r;  // = p * stride_h when output row p saw this pixel
      if (ph < 0 || ph % s.stride_h) continue;
      const int64_t p = ph / s.stride_h;
      if (p >= P) continue;
      for (int64_t t = 0; t < s.S; ++t) {
        const int64_t qw = ww + s.pad_w - t;
        if (qw < 0 || qw % s.stride_w) continue;
        const int64_t q = qw / s.stride_w;
        if (q >= Q) continue;
        for (int64_t k = 0; k < s.K; ++k)
          acc = fmaf(w[((k * s.C + c) * s.R + r) * s.S + t], dy[((n * s.K + k) * P + p) * Q + q], acc);
      }
    }
    dx[i] += acc;
  }
}

// grid = (K*C, N). Taps live in registers, so R*S <= MAX_TAPS (dispatch picks the size).
template <int MAX_TAPS>
__global__ void conv2d_backward_weight(Conv2dShape s, int64_t P, int64_t Q, const float* __restrict__ dy,
                                       const float* __restrict__ x, float* __restrict__ dw) {
  __shared__ float scratch[32];
  const int64_t k = blockIdx.x / s.C, c = blockIdx.x % s.C, n = blockIdx.y;
  const int taps = int(s.R * s.S);
  float acc[MAX_TAPS];
#pragma unroll
  for (int j = 0; j < MAX_TAPS; ++j) acc[j] = 0.0f;
  const float* dyk = dy + (n * s.K + k) * P * Q;
  const float* xc = x + (n * s.C + c) * s.H * s.W;
  for (int64_t pq = threadIdx.x; pq < P * Q; pq += blockDim.x) {
    const float g = dyk[pq];
    const int64_t h0 = (pq / Q) * s.stride_h - s.pad_h, w0 = (pq % Q) * s.stride_w - s.pad_w;
#pragma unroll
    for (int j = 0; j < MAX_TAPS; ++j) {
      if (j >= taps) break;
      const int64_t h = h0 + j / s.S, ww = w0 + j % s.S;
      if (h >= 0 && h < s.H && ww >= 0 && ww < s.W) acc[j] = fmaf(g, xc[h * s.W + ww], acc[j]);
    }
  }
  float* dwkc = dw + (k * s.C + c) * s.R * s.S;
#pragma unroll
  for (int j = 0; j < MAX_TAPS; ++j) {
    if (j >= taps) break;
    const float total = block_sum(acc[j], scratch);
    if (threadIdx.x == 0) atomicAdd(&dwkc[j], total);
  }
}

// Fallback for kernels with more taps than registers allow: one block per weight element.
__global__ void conv2d_backward_weight_any(Conv2dShape s, int64_t P, int64_t Q, const float* __restrict__ dy,
                                           const float* __restrict__ x, float* __restrict__ dw) {
  __shared__ float scratch[32];
  const int64_t e = blockIdx.x;  // ((k*C + c)*R + r)*S + t
  const int64_t t = e % s.S, r = (e / s.S) % s.R, c = (e / (s.S * s.R)) % s.C, k = e / (s.S * s.R * s.C);
  float acc = 0.0f;
  for (int64_t i = threadIdx.x; i < s.N * P * Q; i += blockDim.x) {
    const int64_t n = i / (P * Q), pq = i % (P * Q);
    const int64_t h = (pq / Q) * s.stride_h - s.pad_h + r, ww = (pq % Q) * s.stride_w - s.pad_w + t;
    if (h >= 0 && h < s.H && ww >= 0 && ww < s.W)
      acc = fmaf(dy[(n * s.K + k) * P * Q + pq], x[((n * s.C + c) * s.H + h) * s.W + ww], acc);
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) dw[e] += acc;
}

// db[k] += sum over n, p, q of dy[n,k,p,q]; one block per k.
__global__ void conv2d_backward_bias(Conv2dShape s, int64_t PQ, const float* __restrict__ dy, float* __restrict__ db) {
  __shared__ float scratch[32];
  const int64_t k = blockIdx.x;
  float acc = 0.0f;
  for (int64_t i = threadIdx.x; i < s.N * PQ; i += blockDim.x) acc += dy[((i / PQ) * s.K + k) * PQ + i % PQ];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) db[k] += acc;
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void conv2d_forward_cuda(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y, bool relu,
                         Stream stream) {
  s.validate();
  const int64_t P = s.P(), Q = s.Q();
  kernels::conv2d_forward<<<kernels::grid_for(s.N * s.K * P * Q), kernels::kBlock, 0, kernels::as_cuda(stream)>>>(
      s, P, Q, x, w, b, y, relu);
  cuda::check_launch("conv2d_forward");
}

void conv2d_backward_data_cuda(const Conv2dShape& s, const float* dy, const float* w, float* dx, Stream stream) {
  s.validate();
  kernels::conv2d_backward_data<<<kernels::grid_for(s.N * s.C * s.H * s.W), kernels::kBlock, 0,
                                  kernels::as_cuda(stream)>>>(s, s.P(), s.Q(), dy, w, dx);
  cuda::check_launch("conv2d_backward_data");
}

void conv2d_backward_weight_cuda(const Conv2dShape& s, const float* dy, const float* x, float* dw, float* db,
                                 Stream stream) {
  s.validate();
  const int64_t P = s.P(), Q = s.Q(), taps = s.R * s.S;
  cudaStream_t st = kernels::as_cuda(stream);
  if (dw) {
    dim3 grid(unsigned(s.K * s.C), unsigned(s.N));
    DUET_CHECK(s.N <= 65535, "conv2d backward: batch ", s.N, " exceeds 65535");
    if (taps <= 9) kernels::conv2d_backward_weight<9><<<grid, 128, 0, st>>>(s, P, Q, dy, x, dw);
    else if (taps <= 25) kernels::conv2d_backward_weight<25><<<grid, 128, 0, st>>>(s, P, Q, dy, x, dw);
    else if (taps <= 49) kernels::conv2d_backward_weight<49><<<grid, 128, 0, st>>>(s, P, Q, dy, x, dw);
    else kernels::conv2d_backward_weight_any<<<unsigned(s.K * s.C * taps), 256, 0, st>>>(s, P, Q, dy, x, dw);
    cuda::check_launch("conv2d_backward_weight");
  }
  if (db) {
    kernels::conv2d_backward_bias<<<unsigned(s.K), 256, 0, st>>>(s, P * Q, dy, db);
    cuda::check_launch("conv2d_backward_bias");
  }
}

}  // namespace duet::ops
