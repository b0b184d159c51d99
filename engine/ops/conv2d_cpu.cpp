// CPU convolution by im2col + GEMM, one sample at a time, samples spread over threads.
#include <algorithm>
#include <vector>

#include "engine/error.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/gemm.h"

namespace duet::ops {

void Conv2dShape::validate() const {
  DUET_CHECK(N > 0 && C > 0 && H > 0 && W > 0, "conv2d: input [N,C,H,W] = [", N, ",", C, ",", H, ",", W,
             "] must be positive");
  DUET_CHECK(K > 0 && R > 0 && S > 0, "conv2d: weight [K,C,R,S] = [", K, ",", C, ",", R, ",", S,
             "] must be positive");
  DUET_CHECK(stride_h > 0 && stride_w > 0, "conv2d: stride must be >= 1, got ", stride_h, "x", stride_w);
  DUET_CHECK(pad_h >= 0 && pad_w >= 0, "conv2d: padding must be >= 0, got ", pad_h, "x", pad_w);
  DUET_CHECK(H + 2 * pad_h >= R && W + 2 * pad_w >= S, "conv2d: kernel ", R, "x", S,
             " is larger than the padded input ", H + 2 * pad_h, "x", W + 2 * pad_w);
}

namespace {

// The output columns q whose input column q*sw - pw + t lies inside [0, W): [first, last).
struct ColumnRange {
  int64_t first, last;
};
ColumnRange valid_columns(const Conv2dShape& s, int64_t t) {
  const int64_t Q = s.Q(), offset = t - s.pad_w;  // input column of output column q: q*sw + offset
  const int64_t first = offset >= 0 ? 0 : (-offset + s.stride_w - 1) / s.stride_w;
  const int64_t last = s.W - offset <= 0 ? 0 : (s.W - offset + s.stride_w - 1) / s.stride_w;
  const int64_t q0 = std::min(first, Q);
  return {q0, std::clamp(last, q0, Q)};
}

// col[(c*R + r)*S + s][p*Q + q] = x[c, p*sh - ph + r, q*sw - pw + s], zero where that falls in
// the padding. Each row of output positions is a run of zeros, a strided copy, and zeros.
template <class T>
void im2col(const Conv2dShape& s, const T* x, T* col) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t t = 0; t < s.S; ++t) {
        T* row = col + ((c * s.R + r) * s.S + t) * P * Q;
        const auto [q0, q1] = valid_columns(s, t);
        for (int64_t p = 0; p < P; ++p) {
          T* out = row + p * Q;
          const int64_t h = p * s.stride_h - s.pad_h + r;
          if (h < 0 || h >= s.H) {
            std::fill(out, out + Q, T(0));
            continue;
          }
          const int64_t base = (c * s.H + h) * s.W + t - s.pad_w;  // output column q reads x[base + q*sw]
          std::fill(out, out + q0, T(0));
          if (s.stride_w == 1)
            std::copy(x + base + q0, x + base + q1, out + q0);
          else
            for (int64_t q = q0; q < q1; ++q) out[q] = x[base + q * s.stride_w];
          std::fill(out + q1, out + Q, T(0));
        }
      }
}

// The adjoint of im2col: dx[c, h, w] += col[...] for every place the pixel was copied to.
template <class T>
void col2im_add(const Conv2dShape& s, const T* col, T* dx) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t t = 0; t < s.S; ++t) {
        const T* row = col + ((c * s.R + r) * s.S + t) * P * Q;
        const auto [q0, q1] = valid_columns(s, t);
        for (int64_t p = 0; p < P; ++p) {
          const int64_t h = p * s.stride_h - s.pad_h + r;
          if (h < 0 || h >= s.H) continue;
          const int64_t base = (c * s.H + h) * s.W + t - s.pad_w;  // output column q came from dx[base + q*sw]
          const T* in = row + p * Q;
          for (int64_t q = q0; q < q1; ++q) dx[base + q * s.stride_w] += in[q];
        }
      }
}

}  // namespace

template <class T>
void conv2d_forward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y) {
  s.validate();
  const int64_t P = s.P(), Q = s.Q(), CRS = s.C * s.R * s.S;
#pragma omp parallel
  {
    std::vector<T> col(CRS * P * Q);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < s.N; ++n) {
      im2col(s, x + n * s.C * s.H * s.W, col.data());
      T* yn = y + n * s.K * P * Q;
      gemm_cpu<T>(false, false, s.K, P * Q, CRS, T(1), w, CRS, col.data(), P * Q, T(0), yn, P * Q);
      if (b)
        for (int64_t k = 0; k < s.K; ++k)
          for (int64_t i = 0; i < P * Q; ++i) yn[k * P * Q + i] += b[k];
    }
  }
}

template <class T>
void conv2d_backward_data_cpu(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  s.validate();
  const int64_t P = s.P(), Q = s.Q(), CRS = s.C * s.R * s.S;
#pragma omp parallel
  {
    std::vector<T> col(CRS * P * Q);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < s.N; ++n) {
      // dcol (CRS x PQ) = w^T (CRS x K) * dy[n] (K x PQ)
      gemm_cpu<T>(true, false, CRS, P * Q, s.K, T(1), w, CRS, dy + n * s.K * P * Q, P * Q, T(0), col.data(),
                  P * Q);
      col2im_add(s, col.data(), dx + n * s.C * s.H * s.W);
    }
  }
}

template <class T>
void conv2d_backward_weight_cpu(const Conv2dShape& s, const T* dy, const T* x, T* dw, T* db) {
  s.validate();
  const int64_t P = s.P(), Q = s.Q(), CRS = s.C * s.R * s.S;
  // The bias gradient rides in the same product: a row of ones below the im2col matrix makes
  // the last column of dy col^T the sums of dy over the output positions.
  const int64_t rows = CRS + (db ? 1 : 0);
  // A first layer (one input channel: CRS < K) fills the GEMM's tiles better computing the
  // transpose, col dy^T.
  const bool transposed = CRS < s.K;
  // The samples are summed in fixed groups of kGroup, each into its own gradient (K x rows, or
  // rows x K transposed), and the groups' sums are added in order: which thread sums a group
  // does not change a bit of the result, so a CPU training gives the same model on any number
  // of threads.
  constexpr int64_t kGroup = 4;
  const int64_t groups = (s.N + kGroup - 1) / kGroup;
  std::vector<T> partial(groups * s.K * rows, T(0));
#pragma omp parallel
  {
    std::vector<T> col(rows * P * Q, T(1));  // im2col writes all but the last row of ones
#pragma omp for schedule(static)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t n = g * kGroup; n < std::min(s.N, (g + 1) * kGroup); ++n) {
        im2col(s, x + n * s.C * s.H * s.W, col.data());
        const T* dyn = dy + n * s.K * P * Q;
        T* part = partial.data() + g * s.K * rows;
        if (transposed)  // dw_g^T (rows x K) += col (rows x PQ) * dy[n]^T (PQ x K)
          gemm_cpu<T>(false, true, rows, s.K, P * Q, T(1), col.data(), P * Q, dyn, P * Q, T(1), part, s.K);
        else  // dw_g (K x rows) += dy[n] (K x PQ) * col^T (PQ x rows)
          gemm_cpu<T>(false, true, s.K, rows, P * Q, T(1), dyn, P * Q, col.data(), P * Q, T(1), part, rows);
      }
  }
  // Element (k, i) of a group's gradient.
  const int64_t k_stride = transposed ? 1 : rows, i_stride = transposed ? s.K : 1;
  for (int64_t g = 0; g < groups; ++g) {
    const T* part = partial.data() + g * s.K * rows;
    for (int64_t k = 0; k < s.K; ++k) {
      for (int64_t i = 0; i < CRS; ++i) dw[k * CRS + i] += part[k * k_stride + i * i_stride];
      if (db) db[k] += part[k * k_stride + CRS * i_stride];
    }
  }
}

#define DUET_INSTANTIATE(T)                                                             \
  template void conv2d_forward_cpu<T>(const Conv2dShape&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_data_cpu<T>(const Conv2dShape&, const T*, const T*, T*);     \
  template void conv2d_backward_weight_cpu<T>(const Conv2dShape&, const T*, const T*, T*, T*);
DUET_INSTANTIATE(float)
DUET_INSTANTIATE(double)
#undef DUET_INSTANTIATE

}  // namespace duet::ops
