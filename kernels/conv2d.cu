// Convolution kernels, NCHW (shapes and formulas in engine/ops/conv2d.h). Two algorithms:
//
// Implicit GEMM (the default): each pass is one matrix product on the tiled kernel of
// kernels/gemm_tile.cuh, whose operands read the image through the convolution window, so
// the im2col matrix is never written to memory:
//  * forward:         y[k, (n,p,q)]  = sum over (c,r,s) of w[k, (c,r,s)] * x(n, c, p*sh-ph+r, q*sw-pw+s)
//                     (M = K, N = batch*P*Q, k = C*R*S); bias and ReLU in the store.
//  * backward-data:   dx[c, (n,h,w)] += sum over (k,r,s) of w[k,c,r,s] * dy(n, k, (h+ph-r)/sh, (w+pw-s)/sw)
//                     (terms whose division is not exact or falls outside dy are zero; strided
//                     layers use the direct gather instead, which skips those terms).
//  * backward-weight: dw[k, (c,r,s)] += sum over (n,p,q) of dy[n,k,p,q] * x(n, c, p*sh-ph+r, q*sw-pw+s)
//                     (k = batch*P*Q is long and the output small: split-K, atomicAdd).
//  Row and column contexts (which image, which output pixel) are computed once per thread;
//  only the (c,r,s) or (n,p,q) decomposition of k is done per loaded element.
//
// Direct (DUET_CONV_ALGO=direct; kept as the simple reference and for comparison):
//  * forward: one thread per output y[n,k,p,q]; consecutive threads take consecutive q, so
//    a warp shares k (the weight reads broadcast) and reads neighbouring input pixels.
//  * backward-data: one thread per input pixel dx[n,c,h,w], gathering from the outputs whose
//    window covered it (no atomics, deterministic).
//  * backward-weight: one block per (k, c, n) accumulating all R*S taps in registers over
//    the n-th image's P*Q positions, then a block reduction and one atomicAdd per tap.
// The bias gradient is one block per k in both.
#include <cstdlib>
#include <cstring>

#include "engine/ops/conv2d.h"
#include "kernels/gemm_tile.cuh"

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

// ---- implicit-GEMM operands -----------------------------------------------------------------
// 32-bit geometry (the launchers check that every index fits).
struct Geom {
  int N, C, H, W, K, R, S, sh, sw, ph, pw, P, Q;
  int RS, CRS, HW, PQ;
  explicit Geom(const Conv2dShape& s)
      : N(int(s.N)), C(int(s.C)), H(int(s.H)), W(int(s.W)), K(int(s.K)), R(int(s.R)), S(int(s.S)),
        sh(int(s.stride_h)), sw(int(s.stride_w)), ph(int(s.pad_h)), pw(int(s.pad_w)), P(int(s.P())),
        Q(int(s.Q())), RS(R * S), CRS(C * R * S), HW(H * W), PQ(P * Q) {}
};

// Forward B operand: im2col(x)[(c,r,s), (n,p,q)].
struct FwdImage {
  static constexpr bool n_fast = true;
  const float* __restrict__ x;
  Geom g;
  struct Col {
    const float* img;  // x + n*C*H*W
    int h0, w0;        // p*sh - ph, q*sw - pw
  };
  __device__ Col col(int j) const {
    const int n = j / g.PQ, pq = j - n * g.PQ, p = pq / g.Q, q = pq - p * g.Q;
    return {x + int64_t(n) * g.C * g.HW, p * g.sh - g.ph, q * g.sw - g.pw};
  }
  __device__ float at(const Col& c, int k) const {
    const int ch = k / g.RS, rs = k - ch * g.RS, r = rs / g.S, t = rs - r * g.S;
    const int h = c.h0 + r, w = c.w0 + t;
    return (h >= 0 && h < g.H && w >= 0 && w < g.W) ? c.img[ch * g.HW + h * g.W + w] : 0.0f;
  }
};

// Forward store: y[n, k, p, q] = acc + b[k], ReLU when asked.
struct FwdStore {
  float* __restrict__ y;
  const float* __restrict__ b;
  int K, PQ;
  bool relu;
  __device__ void operator()(int k, int j, float acc) const {
    const int n = j / PQ, pq = j - n * PQ;
    float v = b ? acc + b[k] : acc;
    y[(int64_t(n) * K + k) * PQ + pq] = relu ? fmaxf(v, 0.0f) : v;
  }
};

// Backward-data A operand: w seen as [c, (k,r,s)].
struct BwdDataWeight {
  static constexpr bool k_fast = true;
  const float* __restrict__ w;
  Geom g;
  using Row = int;  // c * R*S
  __device__ Row row(int c) const { return c * g.RS; }
  __device__ float at(Row r, int k) const {
    const int kk = k / g.RS, rs = k - kk * g.RS;
    return w[kk * g.CRS + r + rs];
  }
};

// Backward-data B operand: dy gathered at [(k,r,s), (n,h,w)].
struct BwdDataGrad {
  static constexpr bool n_fast = true;
  const float* __restrict__ dy;
  Geom g;
  struct Col {
    const float* img;  // dy + n*K*P*Q
    int hp, wp;        // h + ph, w + pw
  };
  __device__ Col col(int j) const {
    const int n = j / g.HW, hw = j - n * g.HW, h = hw / g.W, w = hw - h * g.W;
    return {dy + int64_t(n) * g.K * g.PQ, h + g.ph, w + g.pw};
  }
  __device__ float at(const Col& c, int k) const {
    const int kk = k / g.RS, rs = k - kk * g.RS, r = rs / g.S, t = rs - r * g.S;
    const int ph = c.hp - r, pw = c.wp - t;
    if (ph < 0 || pw < 0) return 0.0f;
    const int p = ph / g.sh, q = pw / g.sw;
    if (p * g.sh != ph || q * g.sw != pw || p >= g.P || q >= g.Q) return 0.0f;
    return c.img[kk * g.PQ + p * g.Q + q];
  }
};

// Backward-data store: dx[n, c, h, w] += acc.
struct BwdDataStore {
  float* __restrict__ dx;
  int C, HW;
  __device__ void operator()(int c, int j, float acc) const {
    const int n = j / HW, hw = j - n * HW;
    dx[(int64_t(n) * C + c) * HW + hw] += acc;
  }
};

// Backward-weight A operand: dy seen as [k, (n,p,q)].
struct BwdWeightGrad {
  static constexpr bool k_fast = true;
  const float* __restrict__ dy;
  Geom g;
  using Row = const float*;  // dy + k*P*Q
  __device__ Row row(int k) const { return dy + int64_t(k) * g.PQ; }
  __device__ float at(Row r, int k) const {
    const int n = k / g.PQ, pq = k - n * g.PQ;
    return r[int64_t(n) * g.K * g.PQ + pq];
  }
};

// Backward-weight B operand: im2col(x)^T, [(n,p,q), (c,r,s)].
struct BwdWeightImage {
  static constexpr bool n_fast = false;
  const float* __restrict__ x;
  Geom g;
  struct Col {
    int off;      // c*H*W
    int r, t;     // kernel tap
  };
  __device__ Col col(int j) const {
    const int c = j / g.RS, rs = j - c * g.RS, r = rs / g.S;
    return {c * g.HW, r - g.ph, rs - r * g.S - g.pw};
  }
  __device__ float at(const Col& c, int k) const {
    const int n = k / g.PQ, pq = k - n * g.PQ, p = pq / g.Q, q = pq - p * g.Q;
    const int h = p * g.sh + c.r, w = q * g.sw + c.t;
    return (h >= 0 && h < g.H && w >= 0 && w < g.W) ? x[int64_t(n) * g.C * g.HW + c.off + h * g.W + w] : 0.0f;
  }
};

// Backward-weight store: dw[k, (c,r,s)] += acc, atomically (k is split across blocks).
struct BwdWeightStore {
  float* __restrict__ dw;
  int CRS;
  __device__ void operator()(int k, int j, float acc) const { atomicAdd(&dw[int64_t(k) * CRS + j], acc); }
};

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

ConvAlgo conv_algo_from_env() {
  static const ConvAlgo algo = [] {
    const char* v = std::getenv("DUET_CONV_ALGO");
    if (!v || !*v || std::strcmp(v, "gemm") == 0) return ConvAlgo::implicit_gemm;
    if (std::strcmp(v, "direct") == 0) return ConvAlgo::direct;
    fail("DUET_CONV_ALGO='", v, "': expected 'gemm' (implicit GEMM, the default) or 'direct'");
  }();
  return algo;
}

namespace {
void check_32bit(const Conv2dShape& s) {
  const int64_t lim = 1LL << 31;
  DUET_CHECK(s.N * s.C * s.H * s.W < lim && s.N * s.K * s.P() * s.Q() < lim && s.K * s.C * s.R * s.S < lim,
             "conv2d (CUDA): tensors over 2^31 elements are not supported");
}
}  // namespace

void conv2d_forward_cuda(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y, bool relu,
                         Stream stream, ConvAlgo algo) {
  s.validate();
  check_32bit(s);
  const int64_t P = s.P(), Q = s.Q();
  cudaStream_t st = kernels::as_cuda(stream);
  if (algo == ConvAlgo::implicit_gemm) {
    const kernels::Geom g(s);
    kernels::launch_tiled_gemm(s.K, s.N * P * Q, s.C * s.R * s.S, 1, kernels::MatrixA<false>{w, s.C * s.R * s.S},
                               kernels::FwdImage{x, g}, kernels::FwdStore{y, b, g.K, g.PQ, relu}, st,
                               "conv2d_forward (implicit GEMM)");
    return;
  }
  kernels::conv2d_forward<<<kernels::grid_for(s.N * s.K * P * Q), kernels::kBlock, 0, st>>>(s, P, Q, x, w, b, y,
                                                                                             relu);
  cuda::check_launch("conv2d_forward");
}

void conv2d_backward_data_cuda(const Conv2dShape& s, const float* dy, const float* w, float* dx, Stream stream,
                               ConvAlgo algo) {
  s.validate();
  check_32bit(s);
  cudaStream_t st = kernels::as_cuda(stream);
  // With a stride, most (k, r, s) terms of an input pixel's sum are zero (the division by
  // the stride is not exact), so the GEMM form computes mostly zeros: on the H200 it was
  // slower than the direct gather for the course's stride-2 layer (0.279 vs 0.198 ms at
  // batch 32). Strided layers therefore take the direct kernel for this pass.
  if (algo == ConvAlgo::implicit_gemm && s.stride_h == 1 && s.stride_w == 1) {
    const kernels::Geom g(s);
    kernels::launch_tiled_gemm(s.C, s.N * s.H * s.W, s.K * s.R * s.S, 1, kernels::BwdDataWeight{w, g},
                               kernels::BwdDataGrad{dy, g}, kernels::BwdDataStore{dx, g.C, g.HW}, st,
                               "conv2d_backward_data (implicit GEMM)");
    return;
  }
  kernels::conv2d_backward_data<<<kernels::grid_for(s.N * s.C * s.H * s.W), kernels::kBlock, 0, st>>>(
      s, s.P(), s.Q(), dy, w, dx);
  cuda::check_launch("conv2d_backward_data");
}

void conv2d_backward_weight_cuda(const Conv2dShape& s, const float* dy, const float* x, float* dw, float* db,
                                 Stream stream, ConvAlgo algo) {
  s.validate();
  check_32bit(s);
  const int64_t P = s.P(), Q = s.Q(), taps = s.R * s.S;
  cudaStream_t st = kernels::as_cuda(stream);
  if (dw && algo == ConvAlgo::implicit_gemm) {
    const kernels::Geom g(s);
    const int64_t M = s.K, N = s.C * taps, K = s.N * P * Q;
    const int splits = kernels::split_k_for(kernels::tile_blocks(M, N), K);
    kernels::launch_tiled_gemm(M, N, K, splits, kernels::BwdWeightGrad{dy, g}, kernels::BwdWeightImage{x, g},
                               kernels::BwdWeightStore{dw, g.CRS}, st, "conv2d_backward_weight (implicit GEMM)");
  } else if (dw) {
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
