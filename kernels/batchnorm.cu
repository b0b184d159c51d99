// Batch normalisation (formulas in engine/ops/batchnorm.h). Statistics: one block per
// channel reduces over N*H*W (two passes for the variance, so it is computed around the
// mean); the normalisation is one thread per element. Backward: one block per channel
// reduces sum(dy) and sum(dy * xhat), then one thread per element writes dx.
#include "engine/ops/batchnorm.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

using ops::BatchNormShape;

__global__ void bn_stats(BatchNormShape s, bool training, const float* __restrict__ x, float* running_mean,
                         float* running_var, float* mean, float* invstd) {
  __shared__ float scratch[32];
  const int64_t c = blockIdx.x, M = s.N * s.HW;
  float mu, var;
  if (training) {
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < M; i += blockDim.x) sum += x[((i / s.HW) * s.C + c) * s.HW + i % s.HW];
    mu = block_sum(sum, scratch) / float(M);
    float sq = 0.0f;
    for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
      const float d = x[((i / s.HW) * s.C + c) * s.HW + i % s.HW] - mu;
      sq += d * d;
    }
    sq = block_sum(sq, scratch);
    var = sq / float(M);
    if (threadIdx.x == 0) {
      running_mean[c] = float((1 - s.momentum) * running_mean[c] + s.momentum * mu);
      running_var[c] = float((1 - s.momentum) * running_var[c] + s.momentum * (M > 1 ? sq / float(M - 1) : sq));
    }
  } else {
    mu = running_mean[c];
    var = running_var[c];
  }
  if (threadIdx.x == 0) {
    mean[c] = mu;
    invstd[c] = rsqrtf(var + float(s.eps));
  }
}

__global__ void bn_apply(BatchNormShape s, const float* __restrict__ x, const float* __restrict__ gamma,
                         const float* __restrict__ beta, const float* __restrict__ mean,
                         const float* __restrict__ invstd, float* __restrict__ y) {
  DUET_GRID_STRIDE(i, s.N * s.C * s.HW) {
    const int64_t c = (i / s.HW) % s.C;
    y[i] = gamma[c] * (x[i] - mean[c]) * invstd[c] + beta[c];
  }
}

// sums[2c] = sum dy, sums[2c+1] = sum dy * xhat for channel c; adds them to dbeta/dgamma.
__global__ void bn_backward_reduce(BatchNormShape s, const float* __restrict__ dy, const float* __restrict__ x,
                                   const float* __restrict__ mean, const float* __restrict__ invstd,
                                   float* __restrict__ sums, float* dgamma, float* dbeta) {
  __shared__ float scratch[32];
  const int64_t c = blockIdx.x, M = s.N * s.HW;
  float g = 0.0f, gx = 0.0f;
  for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
    const int64_t at = ((i / s.HW) * s.C + c) * s.HW + i % s.HW;
    g += dy[at];
    gx += dy[at] * (x[at] - mean[c]) * invstd[c];
  }
  g = block_sum(g, scratch);
  gx = block_sum(gx, scratch);
  if (threadIdx.x == 0) {
    sums[2 * c] = g;
    sums[2 * c + 1] = gx;
    if (dbeta) dbeta[c] += g;
    if (dgamma) dgamma[c] += gx;
  }
}

__global__ void bn_backward_dx(BatchNormShape s, bool training, const float* __restrict__ dy,
                               const float* __restrict__ x, const float* __restrict__ gamma,
                               const float* __restrict__ mean, const float* __restrict__ invstd,
                               const float* __restrict__ sums, float* __restrict__ dx) {
  const float M = float(s.N * s.HW);
  DUET_GRID_STRIDE(i, s.N * s.C * s.HW) {
    const int64_t c = (i / s.HW) % s.C;
    const float k = gamma[c] * invstd[c];
    if (training) {
      const float xhat = (x[i] - mean[c]) * invstd[c];
      dx[i] += k / M * (M * dy[i] - sums[2 * c] - xhat * sums[2 * c + 1]);
    } else {
      dx[i] += k * dy[i];
    }
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void batchnorm_forward_cuda(const BatchNormShape& s, bool training, const float* x, const float* gamma,
                            const float* beta, float* running_mean, float* running_var, float* mean, float* invstd,
                            float* y, Stream st) {
  cudaStream_t cs = kernels::as_cuda(st);
  kernels::bn_stats<<<unsigned(s.C), kernels::kBlock, 0, cs>>>(s, training, x, running_mean, running_var, mean, invstd);
  cuda::check_launch("bn_stats");
  kernels::bn_apply<<<kernels::grid_for(s.N * s.C * s.HW), kernels::kBlock, 0, cs>>>(s, x, gamma, beta, mean, invstd, y);
  cuda::check_launch("bn_apply");
}

void batchnorm_backward_cuda(const BatchNormShape& s, bool training, const float* dy, const float* x,
                             const float* gamma, const float* mean, const float* invstd, float* dx, float* dgamma,
                             float* dbeta, Stream st) {
  cudaStream_t cs = kernels::as_cuda(st);
  const size_t bytes = size_t(2 * s.C) * sizeof(float);
  float* sums = static_cast<float*>(cuda::allocate(bytes));
  kernels::bn_backward_reduce<<<unsigned(s.C), kernels::kBlock, 0, cs>>>(s, dy, x, mean, invstd, sums, dgamma, dbeta);
  cuda::check_launch("bn_backward_reduce");
  if (dx) {
    kernels::bn_backward_dx<<<kernels::grid_for(s.N * s.C * s.HW), kernels::kBlock, 0, cs>>>(s, training, dy, x, gamma,
                                                                                         mean, invstd, sums, dx);
    cuda::check_launch("bn_backward_dx");
  }
  cuda::deallocate(sums, bytes);  // reuse is ordered after these kernels on the same stream
}

}  // namespace duet::ops
