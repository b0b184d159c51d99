#include "engine/ops/gemm.h"
#include "engine/ops/linear.h"

namespace duet::ops {

template <class T>
void linear_forward_cpu(int64_t N, int64_t I, int64_t O, const T* x, const T* w, const T* b, T* y) {
  gemm_cpu<T>(false, true, N, O, I, T(1), x, I, w, I, T(0), y, O);
  if (b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o) y[n * O + o] += b[o];
}

template <class T>
void linear_backward_cpu(int64_t N, int64_t I, int64_t O, const T* dy, const T* x, const T* w, T* dx, T* dw,
                         T* db) {
  if (dx) gemm_cpu<T>(false, false, N, I, O, T(1), dy, O, w, I, T(1), dx, I);
  if (dw) gemm_cpu<T>(true, false, O, I, N, T(1), dy, O, x, I, T(1), dw, I);
  if (db)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o) db[o] += dy[n * O + o];
}

template void linear_forward_cpu<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*,
                                        float*);
template void linear_forward_cpu<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                         const double*, double*);
template void linear_backward_cpu<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*,
                                         float*, float*, float*);
template void linear_backward_cpu<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                          const double*, double*, double*, double*);

}  // namespace duet::ops
