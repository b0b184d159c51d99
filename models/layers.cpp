#include "models/layers.h"

namespace duet::models {

Conv2d::Conv2d(Parameters& ps, const std::string& name, int64_t in, int64_t out, int64_t k, int64_t stride,
               int64_t pad, Rng& rng) {
  weight = ps.create(name + ".weight", {out, in, k, k});
  bias = ps.create(name + ".bias", {out});
  init_default(weight, bias, rng);
  options = {stride, stride, pad, pad, false};
}

Tensor Conv2d::operator()(const Tensor& x, bool relu) const {
  F::Conv2dOptions o = options;
  o.relu = relu;
  return F::conv2d(x, weight, bias, o);
}

int64_t Conv2d::out_size(int64_t n, int axis) const {
  const int64_t k = weight.size(axis == 0 ? 2 : 3);
  const int64_t s = axis == 0 ? options.stride_h : options.stride_w, p = axis == 0 ? options.pad_h : options.pad_w;
  return (n + 2 * p - k) / s + 1;
}

BatchNorm::BatchNorm(Parameters& ps, const std::string& name, int64_t channels) {
  gamma = ps.create(name + ".weight", {channels});
  gamma.copy_(Tensor::full({channels}, 1.0));
  beta = ps.create(name + ".bias", {channels});
  running_mean = ps.create_buffer(name + ".running_mean", {channels}, 0.0f);
  running_var = ps.create_buffer(name + ".running_var", {channels}, 1.0f);
}

Linear::Linear(Parameters& ps, const std::string& name, int64_t in, int64_t out, Rng& rng) {
  weight = ps.create(name + ".weight", {out, in});
  bias = ps.create(name + ".bias", {out});
  init_default(weight, bias, rng);
}

}  // namespace duet::models
