#include "engine/ops/activation.h"

namespace duet::ops {

template <class T>
void relu_forward_cpu(int64_t n, const T* x, T* y) {
#pragma omp parallel for simd if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <class T>
void relu_backward_cpu(int64_t n, const T* dy, const T* y, T* dx) {
#pragma omp parallel for simd if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    // Both loads unconditional: a load only on one side of the test would keep the loop
    // scalar, with a branch the signs of the activations make unpredictable.
    const T g = dy[i], keep = y[i];
    dx[i] += keep > T(0) ? g : T(0);
  }
}

template void relu_forward_cpu<float>(int64_t, const float*, float*);
template void relu_forward_cpu<double>(int64_t, const double*, double*);
template void relu_backward_cpu<float>(int64_t, const float*, const float*, float*);
template void relu_backward_cpu<double>(int64_t, const double*, const double*, double*);

}  // namespace duet::ops
