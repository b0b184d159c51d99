#include "engine/ops/sgd.h"

namespace duet::ops {

template <class T>
void sgd_step_cpu(int64_t n, const SgdConfig& c, bool first_step, T* p, const T* grad, T* v) {
  for (int64_t i = 0; i < n; ++i) {
    T g = grad[i] + T(c.weight_decay) * p[i];
    if (c.momentum != 0.0f) {
      v[i] = first_step ? g : T(c.momentum) * v[i] + T(1 - c.dampening) * g;
      g = c.nesterov ? g + T(c.momentum) * v[i] : v[i];
    }
    p[i] -= T(c.lr) * g;
  }
}

template void sgd_step_cpu<float>(int64_t, const SgdConfig&, bool, float*, const float*, float*);
template void sgd_step_cpu<double>(int64_t, const SgdConfig&, bool, double*, const double*, double*);

}  // namespace duet::ops
