#include "engine/error.h"
#include "engine/ops/pool.h"

namespace duet::ops {

void Pool2dShape::validate() const {
  DUET_CHECK(N > 0 && C > 0 && H > 0 && W > 0, "max_pool2d: input [", N, ",", C, ",", H, ",", W,
             "] must be positive");
  DUET_CHECK(kh > 0 && kw > 0 && sh > 0 && sw > 0, "max_pool2d: kernel ", kh, "x", kw, " and stride ", sh,
             "x", sw, " must be >= 1");
  DUET_CHECK(kh <= H && kw <= W, "max_pool2d: window ", kh, "x", kw, " is larger than the input ", H, "x", W);
}

template <class T>
void max_pool2d_forward_cpu(const Pool2dShape& s, const T* x, T* y, int32_t* argmax) {
  s.validate();
  const int64_t P = s.P(), Q = s.Q();
#pragma omp parallel for if (s.N * s.C > 16)
  for (int64_t nc = 0; nc < s.N * s.C; ++nc) {
    const T* plane = x + nc * s.H * s.W;
    if (s.kh == 2 && s.kw == 2 && s.sh == 2 && s.sw == 2) {  // the models' pool: the same choices, unrolled
      for (int64_t p = 0; p < P; ++p) {
        const T* r0 = plane + 2 * p * s.W;
        const T* r1 = r0 + s.W;
        T* out = y + (nc * P + p) * Q;
        int32_t* arg = argmax + (nc * P + p) * Q;
        for (int64_t q = 0; q < Q; ++q) {
          // Selects, not branches (which of four values is largest is a coin toss to a
          // branch predictor), in the general loop's order: the first largest wins.
          const int32_t i0 = int32_t(2 * p * s.W + 2 * q), w = int32_t(s.W);
          T top = r0[2 * q];
          int32_t best = i0;
          const T v1 = r0[2 * q + 1], v2 = r1[2 * q], v3 = r1[2 * q + 1];
          best = v1 > top ? i0 + 1 : best;
          top = v1 > top ? v1 : top;
          best = v2 > top ? i0 + w : best;
          top = v2 > top ? v2 : top;
          best = v3 > top ? i0 + w + 1 : best;
          top = v3 > top ? v3 : top;
          out[q] = top;
          arg[q] = best;
        }
      }
      continue;
    }
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        int64_t best = (p * s.sh) * s.W + q * s.sw;
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            int64_t idx = (p * s.sh + i) * s.W + (q * s.sw + j);
            if (plane[idx] > plane[best]) best = idx;
          }
        y[(nc * P + p) * Q + q] = plane[best];
        argmax[(nc * P + p) * Q + q] = int32_t(best);
      }
  }
}

template <class T>
void max_pool2d_backward_cpu(const Pool2dShape& s, const T* dy, const int32_t* argmax, T* dx) {
  const int64_t PQ = s.P() * s.Q();
#pragma omp parallel for if (s.N * s.C > 16)
  for (int64_t nc = 0; nc < s.N * s.C; ++nc)
    for (int64_t i = 0; i < PQ; ++i) dx[nc * s.H * s.W + argmax[nc * PQ + i]] += dy[nc * PQ + i];
}

template <class T>
void global_avg_pool_forward_cpu(int64_t NC, int64_t HW, const T* x, T* y) {
  for (int64_t i = 0; i < NC; ++i) {
    T acc = T(0);
    for (int64_t j = 0; j < HW; ++j) acc += x[i * HW + j];
    y[i] = acc / T(HW);
  }
}

template <class T>
void global_avg_pool_backward_cpu(int64_t NC, int64_t HW, const T* dy, T* dx) {
  for (int64_t i = 0; i < NC; ++i)
    for (int64_t j = 0; j < HW; ++j) dx[i * HW + j] += dy[i] / T(HW);
}

#define DUET_INSTANTIATE(T)                                                                          \
  template void max_pool2d_forward_cpu<T>(const Pool2dShape&, const T*, T*, int32_t*);               \
  template void max_pool2d_backward_cpu<T>(const Pool2dShape&, const T*, const int32_t*, T*);        \
  template void global_avg_pool_forward_cpu<T>(int64_t, int64_t, const T*, T*);                      \
  template void global_avg_pool_backward_cpu<T>(int64_t, int64_t, const T*, T*);
DUET_INSTANTIATE(float)
DUET_INSTANTIATE(double)
#undef DUET_INSTANTIATE

}  // namespace duet::ops
