// Layers: parameter holders that register themselves by name and call functional ops.
#pragma once
#include <string>

#include "engine/functional.h"
#include "engine/init.h"
#include "engine/params.h"

namespace duet::models {

struct Conv2d {
  Tensor weight, bias;
  F::Conv2dOptions options;
  Conv2d() = default;
  Conv2d(Parameters& ps, const std::string& name, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
         Rng& rng);
  Tensor operator()(const Tensor& x, bool relu = false) const;
  // Output size along one axis for an input of size n.
  int64_t out_size(int64_t n, int axis) const;
};

// BatchNorm2d/1d: gamma (1), beta (0) trained; running mean (0) and variance (1) buffers.
struct BatchNorm {
  Tensor gamma, beta, running_mean, running_var;
  BatchNorm() = default;
  BatchNorm(Parameters& ps, const std::string& name, int64_t channels);
  Tensor operator()(const Tensor& x, bool training) {
    return F::batch_norm(x, gamma, beta, running_mean, running_var, training);
  }
};

struct Linear {
  Tensor weight, bias;
  Linear() = default;
  Linear(Parameters& ps, const std::string& name, int64_t in, int64_t out, Rng& rng);
  Tensor operator()(const Tensor& x) const { return F::linear(x, weight, bias); }
};

}  // namespace duet::models
