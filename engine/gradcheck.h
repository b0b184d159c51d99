// Finite-difference gradient checking in float64 (Caffe's GradientChecker, in spirit).
//
// For a function f of some input tensors, the loss L = sum(f(inputs) * R) with a fixed
// random R exercises every output element. The analytic gradient of L from the tape is
// compared with the central difference (L(x + h) - L(x - h)) / 2h for every element of
// every input, by the relative error |a - n| / max(|a|, |n|, 1).
//
// gradcheck_suite() is the list of checks, one or more per op; the tests run each by name
// (GradCheck.Conv2d, ...) and `duet gradcheck` prints them all as a table.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace duet {

struct GradCheckResult {
  double max_rel_error = 0;
  int64_t checked = 0;
  bool missing_gradient = false;  // an input that should have received a gradient did not
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

GradCheckResult gradcheck(const TensorFn& f, std::vector<Tensor> inputs, uint64_t seed = 7, double h = 1e-6);

// Random float64 tensors for checks: uniform in [lo, hi); kept away from zero by `margin`
// (ReLU's kink); or distinct values at least `gap` apart (max-pool's ties).
Tensor random_tensor(const Shape& shape, Rng& rng, double lo = -1.0, double hi = 1.0, DType dtype = DType::f64);
Tensor away_from_zero(const Shape& shape, Rng& rng, double margin = 0.05);
Tensor distinct_values(const Shape& shape, Rng& rng, double gap = 0.01);

struct GradCheckCase {
  std::string name;
  std::function<GradCheckResult()> run;
};
const std::vector<GradCheckCase>& gradcheck_suite();
GradCheckResult run_gradcheck(const std::string& name);  // throws for an unknown name

constexpr double kGradCheckTolerance = 1e-6;

}  // namespace duet
