// One SGD step over a flat array of parameters, with torch.optim.SGD semantics:
//   g = grad + weight_decay * p
//   v = first_step ? g : momentum * v + (1 - dampening) * g      (when momentum != 0)
//   d = nesterov ? g + momentum * v : v                          (d = g when momentum == 0)
//   p = p - lr * d
// Parameters, gradients and velocities each live in one arena (engine/params.h), so one
// call (one kernel launch on the GPU) updates every parameter of a model.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

struct SgdConfig {
  float lr = 0.01f;
  float momentum = 0.0f;
  float dampening = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
};

template <class T>
void sgd_step_cpu(int64_t n, const SgdConfig& c, bool first_step, T* param, const T* grad, T* velocity);
void sgd_step_cuda(int64_t n, const SgdConfig& c, bool first_step, float* param, const float* grad,
                   float* velocity, Stream s);

}  // namespace duet::ops
