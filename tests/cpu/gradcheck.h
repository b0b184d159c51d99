// Finite-difference gradient checking in float64 (Caffe's GradientChecker, in spirit).
//
// For a function f of some input tensors, the loss L = sum(f(inputs) * R) with a fixed
// random R exercises every output element. The analytic gradient of L from the tape is
// compared with the central difference (L(x + h) - L(x - h)) / 2h for every element of
// every input, by the relative error |a - n| / max(|a|, |n|, 1).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "engine/autograd.h"
#include "engine/functional.h"
#include "engine/rng.h"

namespace duet::testing {

inline Tensor random_tensor(const Shape& shape, Rng& rng, double lo = -1.0, double hi = 1.0,
                            DType dtype = DType::f64) {
  Tensor t = Tensor::empty(shape, DType::f64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = rng.uniform(lo, hi);
  return t.to(dtype);
}

// Values whose magnitudes stay at least `margin` away from 0 (ReLU's kink).
inline Tensor away_from_zero(const Shape& shape, Rng& rng, double margin = 0.05) {
  Tensor t = random_tensor(shape, rng);
  for (int64_t i = 0; i < t.numel(); ++i) {
    double& v = t.data<double>()[i];
    v = (v < 0 ? -1 : 1) * (margin + std::abs(v));
  }
  return t;
}

// Distinct values spaced at least `gap` apart (max-pool's ties), in random order.
inline Tensor distinct_values(const Shape& shape, Rng& rng, double gap = 0.01) {
  Tensor t = Tensor::empty(shape, DType::f64);
  std::vector<double> v(t.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i) * gap - double(v.size()) * gap / 2;
  rng.shuffle(v);
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}

struct GradCheckResult {
  double max_rel_error = 0;
  int64_t checked = 0;
};

inline GradCheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                 std::vector<Tensor> inputs, uint64_t seed = 7, double h = 1e-6) {
  for (Tensor& t : inputs) {
    t.set_grad(Tensor());
    t.set_requires_grad(t.dtype() != DType::i32);
  }
  Rng rng(seed);
  Tensor probe = f(inputs);
  Tensor R = random_tensor(probe.shape(), rng);
  clear_tape();
  auto loss_of = [&](const std::vector<Tensor>& in) { return F::sum(F::mul(f(in), R)); };

  backward(loss_of(inputs));
  GradCheckResult res;
  for (Tensor& t : inputs) {
    if (t.dtype() == DType::i32) continue;
    Tensor analytic = t.grad();
    EXPECT_TRUE(analytic.defined()) << "no gradient reached an input";
    if (!analytic.defined()) continue;
    double* x = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double saved = x[i];
      double lp, lm;
      {
        NoGrad ng;
        x[i] = saved + h;
        lp = loss_of(inputs).item();
        x[i] = saved - h;
        lm = loss_of(inputs).item();
      }
      x[i] = saved;
      const double numeric = (lp - lm) / (2 * h);
      const double a = analytic.data<double>()[i];
      const double rel = std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), 1.0});
      res.max_rel_error = std::max(res.max_rel_error, rel);
      ++res.checked;
    }
  }
  return res;
}

}  // namespace duet::testing
