// Batch normalisation over the channels of NCHW input, as torch.nn.BatchNorm2d.
//   training:   mean_c, var_c over (N, H, W) (biased variance), then
//               running_mean = (1 - m) running_mean + m mean_c,
//               running_var  = (1 - m) running_var  + m var_c * M / (M - 1)   (M = N*H*W)
//   evaluation: mean_c, var_c are the running statistics.
//   xhat = (x - mean_c) / sqrt(var_c + eps);   y = gamma_c * xhat + beta_c
// The forward saves mean_c and invstd_c = 1 / sqrt(var_c + eps) for the backward.
// Gradients (accumulated), training mode, with g = dy:
//   dbeta_c  += sum g;    dgamma_c += sum g * xhat
//   dx       += gamma_c * invstd_c / M * (M g - sum g - xhat * sum(g * xhat))
// In evaluation mode the statistics are constants: dx += gamma_c * invstd_c * g.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

struct BatchNormShape {
  int64_t N, C, HW;
  double eps = 1e-5, momentum = 0.1;
};

// training: computes batch statistics into mean/invstd and updates the running ones.
template <class T>
void batchnorm_forward_cpu(const BatchNormShape& s, bool training, const T* x, const T* gamma, const T* beta,
                           T* running_mean, T* running_var, T* mean, T* invstd, T* y);
template <class T>
void batchnorm_backward_cpu(const BatchNormShape& s, bool training, const T* dy, const T* x, const T* gamma,
                            const T* mean, const T* invstd, T* dx, T* dgamma, T* dbeta);

void batchnorm_forward_cuda(const BatchNormShape& s, bool training, const float* x, const float* gamma,
                            const float* beta, float* running_mean, float* running_var, float* mean, float* invstd,
                            float* y, Stream st);
void batchnorm_backward_cuda(const BatchNormShape& s, bool training, const float* dy, const float* x,
                             const float* gamma, const float* mean, const float* invstd, float* dx, float* dgamma,
                             float* dbeta, Stream st);

}  // namespace duet::ops
