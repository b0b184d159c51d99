#include "engine/ops/reduce.h"

namespace duet::ops {

template <class T>
void sum_forward_cpu(int64_t n, const T* x, T scale, T* y) {
  T acc = T(0);
  for (int64_t i = 0; i < n; ++i) acc += x[i];
  *y = scale * acc;
}

template <class T>
void sum_backward_cpu(int64_t n, const T* dy, T scale, T* dx) {
  const T g = *dy * scale;
  for (int64_t i = 0; i < n; ++i) dx[i] += g;
}

template void sum_forward_cpu<float>(int64_t, const float*, float, float*);
template void sum_forward_cpu<double>(int64_t, const double*, double, double*);
template void sum_backward_cpu<float>(int64_t, const float*, float, float*);
template void sum_backward_cpu<double>(int64_t, const double*, double, double*);

}  // namespace duet::ops
