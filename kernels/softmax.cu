// Softmax and softmax cross-entropy, one block per row (formulas in engine/ops/softmax.h).
// A row is read three times (max, sum of exponentials, write), all from L1/L2 after the
// first pass; rows are short (10 classes) in duet's models, so a block of 32 threads.
// The mean loss needs a sum across rows: each row's block adds loss_n / N atomically into
// a zeroed scalar.
#include "engine/ops/softmax.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

constexpr int kRowBlock = 32;

__global__ void softmax_forward(int64_t C, const float* __restrict__ x, float* __restrict__ y) {
  __shared__ float scratch[32];
  const float* r = x + blockIdx.x * C;
  float* o = y + blockIdx.x * C;
  float mx = -INFINITY;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, r[c]);
  mx = block_max(mx, scratch);
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) sum += __expf(r[c] - mx);
  sum = block_sum(sum, scratch);
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = __expf(r[c] - mx) / sum;
}

__global__ void softmax_backward(int64_t C, const float* __restrict__ dy, const float* __restrict__ y,
                                 float* __restrict__ dx) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * C;
  float dot = 0.0f;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) dot += dy[base + c] * y[base + c];
  dot = block_sum(dot, scratch);
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) dx[base + c] += y[base + c] * (dy[base + c] - dot);
}

__global__ void softmax_xent_forward(int64_t N, int64_t C, const float* __restrict__ logits,
                                     const int32_t* __restrict__ labels, float* __restrict__ probs,
                                     float* __restrict__ loss) {
  __shared__ float scratch[32];
  const int64_t n = blockIdx.x;
  const float* r = logits + n * C;
  float mx = -INFINITY;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, r[c]);
  mx = block_max(mx, scratch);
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) sum += expf(r[c] - mx);
  sum = block_sum(sum, scratch);
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) probs[n * C + c] = expf(r[c] - mx) / sum;
  const int32_t label = labels[n];
  if (threadIdx.x == 0 && label >= 0 && label < C) atomicAdd(loss, (mx + logf(sum) - r[label]) / float(N));
}

__global__ void softmax_xent_backward(int64_t N, int64_t C, const float* __restrict__ dloss,
                                      const float* __restrict__ probs, const int32_t* __restrict__ labels,
                                      float* __restrict__ dlogits) {
  const float g = *dloss / float(N);
  DUET_GRID_STRIDE(i, N * C) {
    const int64_t n = i / C, c = i % C;
    dlogits[i] += g * (probs[i] - (c == labels[n] ? 1.0f : 0.0f));
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void softmax_forward_cuda(int64_t M, int64_t C, const float* x, float* y, Stream s) {
  if (M == 0) return;
  kernels::softmax_forward<<<unsigned(M), kernels::kRowBlock, 0, kernels::as_cuda(s)>>>(C, x, y);
  cuda::check_launch("softmax_forward");
}

void softmax_backward_cuda(int64_t M, int64_t C, const float* dy, const float* y, float* dx, Stream s) {
  if (M == 0) return;
  kernels::softmax_backward<<<unsigned(M), kernels::kRowBlock, 0, kernels::as_cuda(s)>>>(C, dy, y, dx);
  cuda::check_launch("softmax_backward");
}

void softmax_xent_forward_cuda(int64_t N, int64_t C, const float* logits, const int32_t* labels, float* probs,
                               float* loss, Stream s) {
  cudaStream_t st = kernels::as_cuda(s);
  cudaMemsetAsync(loss, 0, sizeof(float), st);
  kernels::softmax_xent_forward<<<unsigned(N), kernels::kRowBlock, 0, st>>>(N, C, logits, labels, probs, loss);
  cuda::check_launch("softmax_xent_forward");
}

void softmax_xent_backward_cuda(int64_t N, int64_t C, const float* dloss, const float* probs, const int32_t* labels,
                                float* dlogits, Stream s) {
  kernels::softmax_xent_backward<<<kernels::grid_for(N * C), kernels::kBlock, 0, kernels::as_cuda(s)>>>(
      N, C, dloss, probs, labels, dlogits);
  cuda::check_launch("softmax_xent_backward");
}

}  // namespace duet::ops
