// One SGD-with-momentum step over the whole parameter arena in a single launch: each
// thread updates one parameter and its velocity (rule in engine/ops/sgd.h). Memory-bound:
// 3 reads + 2 writes per parameter.
#include "engine/ops/sgd.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

__global__ void sgd_step(int64_t n, ops::SgdConfig c, bool first_step, float* __restrict__ p,
                         const float* __restrict__ grad, float* __restrict__ v) {
  DUET_GRID_STRIDE(i, n) {
    float g = grad[i] + c.weight_decay * p[i];
    if (c.momentum != 0.0f) {
      const float vi = first_step ? g : c.momentum * v[i] + (1.0f - c.dampening) * g;
      v[i] = vi;
      g = c.nesterov ? g + c.momentum * vi : vi;
    }
    p[i] -= c.lr * g;
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void sgd_step_cuda(int64_t n, const SgdConfig& c, bool first_step, float* param, const float* grad, float* velocity,
                   Stream s) {
  if (n == 0) return;
  kernels::sgd_step<<<kernels::grid_for(n), kernels::kBlock, 0, kernels::as_cuda(s)>>>(n, c, first_step, param, grad,
                                                                                     velocity);
  cuda::check_launch("sgd_step");
}

}  // namespace duet::ops
