#include <cmath>

#include "engine/ops/batchnorm.h"

namespace duet::ops {

template <class T>
void batchnorm_forward_cpu(const BatchNormShape& s, bool training, const T* x, const T* gamma, const T* beta,
                           T* running_mean, T* running_var, T* mean, T* invstd, T* y) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for if (M * s.C > (1 << 16))
  for (int64_t c = 0; c < s.C; ++c) {
    T mu, var;
    if (training) {
      double sum = 0, sq = 0;
      for (int64_t n = 0; n < s.N; ++n) {
        const T* p = x + (n * s.C + c) * s.HW;
        for (int64_t i = 0; i < s.HW; ++i) sum += double(p[i]);
      }
      const double m = sum / double(M);
      for (int64_t n = 0; n < s.N; ++n) {
        const T* p = x + (n * s.C + c) * s.HW;
        for (int64_t i = 0; i < s.HW; ++i) sq += (double(p[i]) - m) * (double(p[i]) - m);
      }
      mu = T(m);
      var = T(sq / double(M));
      running_mean[c] = T((1 - s.momentum) * running_mean[c] + s.momentum * m);
      running_var[c] = T((1 - s.momentum) * running_var[c] + s.momentum * (M > 1 ? sq / double(M - 1) : sq));
    } else {
      mu = running_mean[c];
      var = running_var[c];
    }
    const T is = T(1) / std::sqrt(var + T(s.eps));
    mean[c] = mu;
    invstd[c] = is;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* p = x + (n * s.C + c) * s.HW;
      T* q = y + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) q[i] = gamma[c] * (p[i] - mu) * is + beta[c];
    }
  }
}

template <class T>
void batchnorm_backward_cpu(const BatchNormShape& s, bool training, const T* dy, const T* x, const T* gamma,
                            const T* mean, const T* invstd, T* dx, T* dgamma, T* dbeta) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for if (M * s.C > (1 << 16))
  for (int64_t c = 0; c < s.C; ++c) {
    T sum_g = 0, sum_gx = 0;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* g = dy + (n * s.C + c) * s.HW;
      const T* p = x + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) {
        sum_g += g[i];
        sum_gx += g[i] * (p[i] - mean[c]) * invstd[c];
      }
    }
    if (dbeta) dbeta[c] += sum_g;
    if (dgamma) dgamma[c] += sum_gx;
    if (!dx) continue;
    const T k = gamma[c] * invstd[c];
    for (int64_t n = 0; n < s.N; ++n) {
      const T* g = dy + (n * s.C + c) * s.HW;
      const T* p = x + (n * s.C + c) * s.HW;
      T* d = dx + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) {
        if (training) {
          const T xhat = (p[i] - mean[c]) * invstd[c];
          d[i] += k / T(M) * (T(M) * g[i] - sum_g - xhat * sum_gx);
        } else {
          d[i] += k * g[i];
        }
      }
    }
  }
}

template void batchnorm_forward_cpu<float>(const BatchNormShape&, bool, const float*, const float*, const float*,
                                           float*, float*, float*, float*, float*);
template void batchnorm_forward_cpu<double>(const BatchNormShape&, bool, const double*, const double*, const double*,
                                            double*, double*, double*, double*, double*);
template void batchnorm_backward_cpu<float>(const BatchNormShape&, bool, const float*, const float*, const float*,
                                            const float*, const float*, float*, float*, float*);
template void batchnorm_backward_cpu<double>(const BatchNormShape&, bool, const double*, const double*, const double*,
                                             const double*, const double*, double*, double*, double*);

}  // namespace duet::ops
