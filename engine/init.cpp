#include "engine/init.h"

#include <cmath>

#include "engine/error.h"

namespace duet {

void init_uniform(Tensor& t, double bound, Rng& rng) {
  Tensor h = Tensor::empty(t.shape(), DType::f32, Device::cpu);
  float* p = h.data<float>();
  for (int64_t i = 0; i < h.numel(); ++i) p[i] = float(rng.uniform(-bound, bound));
  t.copy_(h);
}

int64_t fan_in(const Tensor& weight) {
  DUET_CHECK(weight.ndim() >= 2, "fan_in: a weight has at least 2 dims, got ", shape_str(weight.shape()));
  return weight.numel() / weight.size(0);
}

void init_default(Tensor& weight, Tensor& bias, Rng& rng) {
  const double bound = 1.0 / std::sqrt(double(fan_in(weight)));
  init_uniform(weight, bound, rng);
  if (bias.defined()) init_uniform(bias, bound, rng);
}

}  // namespace duet
