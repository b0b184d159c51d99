#include <cmath>

#include "engine/ops/batchnorm.h"

namespace duet::ops {

namespace {

// The sums over a channel's N*H*W values are long (half a million in audio:duet's first
// block), and one running sum is a chain of dependent additions, each waiting for the last.
// They are kept instead in kLanes partial sums (value i goes to lane i mod kLanes), which the
// compiler vectorises, added together at the end; always in this order, whatever the threads.
constexpr int kLanes = 8;

struct Lanes {
  double sum[kLanes] = {};
  double total() const {
    double t = 0;
    for (double v : sum) t += v;
    return t;
  }
};

// Adds f(i) for i in [0, n) to the lanes, value i to lane i mod kLanes.
template <class F>
void add_to_lanes(Lanes& lanes, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes.sum[l] += f(i + l);
  for (int l = 0; i < n; ++i, ++l) lanes.sum[l] += f(i);
}

}  // namespace

template <class T>
void batchnorm_forward_cpu(const BatchNormShape& s, bool training, const T* x, const T* gamma, const T* beta,
                           T* running_mean, T* running_var, T* mean, T* invstd, T* y) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for if (M * s.C > (1 << 16))
  for (int64_t c = 0; c < s.C; ++c) {
    T mu, var;
    if (training) {
      Lanes sum, squares;
      for (int64_t n = 0; n < s.N; ++n) {
        const T* p = x + (n * s.C + c) * s.HW;
        add_to_lanes(sum, s.HW, [p](int64_t i) { return double(p[i]); });
      }
      const double m = sum.total() / double(M);
      for (int64_t n = 0; n < s.N; ++n) {
        const T* p = x + (n * s.C + c) * s.HW;
        add_to_lanes(squares, s.HW, [p, m](int64_t i) { return (double(p[i]) - m) * (double(p[i]) - m); });
      }
      const double sq = squares.total();
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
    const T g = gamma[c], b = beta[c];  // locals: y might alias gamma as far as the compiler knows
    for (int64_t n = 0; n < s.N; ++n) {
      const T* p = x + (n * s.C + c) * s.HW;
      T* q = y + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) q[i] = g * (p[i] - mu) * is + b;
    }
  }
}

template <class T>
void batchnorm_backward_cpu(const BatchNormShape& s, bool training, const T* dy, const T* x, const T* gamma,
                            const T* mean, const T* invstd, T* dx, T* dgamma, T* dbeta) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for if (M * s.C > (1 << 16))
  for (int64_t c = 0; c < s.C; ++c) {
    Lanes lanes_g, lanes_gx;
    const T mu = mean[c], is = invstd[c];
    for (int64_t n = 0; n < s.N; ++n) {
      const T* g = dy + (n * s.C + c) * s.HW;
      const T* p = x + (n * s.C + c) * s.HW;
      add_to_lanes(lanes_g, s.HW, [g](int64_t i) { return double(g[i]); });
      add_to_lanes(lanes_gx, s.HW, [g, p, mu, is](int64_t i) { return double(g[i] * (p[i] - mu) * is); });
    }
    const T sum_g = T(lanes_g.total()), sum_gx = T(lanes_gx.total());
    if (dbeta) dbeta[c] += sum_g;
    if (dgamma) dgamma[c] += sum_gx;
    if (!dx) continue;
    const T k = gamma[c] * is;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* g = dy + (n * s.C + c) * s.HW;
      const T* p = x + (n * s.C + c) * s.HW;
      T* d = dx + (n * s.C + c) * s.HW;
      if (training)
        for (int64_t i = 0; i < s.HW; ++i) {
          const T xhat = (p[i] - mu) * is;
          d[i] += k / T(M) * (T(M) * g[i] - sum_g - xhat * sum_gx);
        }
      else
        for (int64_t i = 0; i < s.HW; ++i) d[i] += k * g[i];
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
