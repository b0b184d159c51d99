#include "engine/ops/dropout.h"
#include "engine/rng.h"

namespace duet::ops {

template <class T>
void dropout_forward_cpu(int64_t n, float p, uint64_t seed, const T* x, T* y) {
  const T scale = T(1) / (T(1) - T(p));
  // Each element's mask is a hash of (seed, i), so threads change no bit of the result.
#pragma omp parallel for if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) y[i] = uniform_hash(seed, uint64_t(i)) >= p ? x[i] * scale : T(0);
}

template <class T>
void dropout_backward_cpu(int64_t n, float p, uint64_t seed, const T* dy, T* dx) {
  const T scale = T(1) / (T(1) - T(p));
#pragma omp parallel for if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i)
    if (uniform_hash(seed, uint64_t(i)) >= p) dx[i] += dy[i] * scale;
}

template void dropout_forward_cpu<float>(int64_t, float, uint64_t, const float*, float*);
template void dropout_forward_cpu<double>(int64_t, float, uint64_t, const double*, double*);
template void dropout_backward_cpu<float>(int64_t, float, uint64_t, const float*, float*);
template void dropout_backward_cpu<double>(int64_t, float, uint64_t, const double*, double*);

}  // namespace duet::ops
