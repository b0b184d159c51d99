// Argmax per row and a running count of correct predictions, one thread per row (rows are
// ten logits long in duet's models). The count is a float so it can live in the same kind
// of scalar tensor as the loss; it stays exact up to 2^24 samples.
#include "engine/ops/metrics.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

__device__ inline int32_t row_argmax(const float* row, int64_t C) {
  int32_t best = 0;
  for (int64_t c = 1; c < C; ++c)
    if (row[c] > row[best]) best = int32_t(c);
  return best;
}

__global__ void argmax_rows(int64_t N, int64_t C, const float* __restrict__ logits, int32_t* __restrict__ pred) {
  DUET_GRID_STRIDE(n, N) { pred[n] = row_argmax(logits + n * C, C); }
}

__global__ void count_correct_add(int64_t N, int64_t C, const float* __restrict__ logits,
                                  const int32_t* __restrict__ labels, float* __restrict__ count) {
  __shared__ float scratch[32];
  float mine = 0.0f;
  DUET_GRID_STRIDE(n, N) { mine += row_argmax(logits + n * C, C) == labels[n] ? 1.0f : 0.0f; }
  mine = block_sum(mine, scratch);
  if (threadIdx.x == 0) atomicAdd(count, mine);
}

}  // namespace
}  // namespace duet::kernels

namespace duet::ops {

void argmax_rows_cuda(int64_t N, int64_t C, const float* logits, int32_t* pred, Stream s) {
  if (N == 0) return;
  kernels::argmax_rows<<<kernels::grid_for(N), kernels::kBlock, 0, kernels::as_cuda(s)>>>(N, C, logits, pred);
  cuda::check_launch("argmax_rows");
}

void count_correct_add_cuda(int64_t N, int64_t C, const float* logits, const int32_t* labels, float* count, Stream s) {
  if (N == 0) return;
  const unsigned grid = std::min<unsigned>(kernels::grid_for(N), 64);
  kernels::count_correct_add<<<grid, kernels::kBlock, 0, kernels::as_cuda(s)>>>(N, C, logits, labels, count);
  cuda::check_launch("count_correct_add");
}

}  // namespace duet::ops
