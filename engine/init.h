// Parameter initialisation with PyTorch's defaults for Conv2d and Linear:
// kaiming_uniform_(a = sqrt(5)) for the weight, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
// and the same bound for the bias; fan_in = in_channels * kh * kw (conv) or in_features.
#pragma once
#include "engine/rng.h"
#include "engine/tensor.h"

namespace duet {

void init_uniform(Tensor& t, double bound, Rng& rng);  // U(-bound, bound), CPU float32
int64_t fan_in(const Tensor& weight);                  // product of all dims but the first
void init_default(Tensor& weight, Tensor& bias, Rng& rng);  // bias may be undefined

}  // namespace duet
