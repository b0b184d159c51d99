// Per-clip standardisation (one block per clip: two block reductions, then the rescale),
// per-band mean removal (one block per bin), SpecAugment band masking and the vocal-tract length
// perturbation's warp along the bins (one thread per element) for spectrogram batches.
#include "dsp/features.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

// The mean of one block's row, known to every thread of the block.
__device__ float block_row_mean(const float* row, int64_t n, float* scratch) {
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += row[i];
  return block_sum(sum, scratch) / float(n);
}

__global__ void standardize_per_clip(float* __restrict__ x, int64_t per_clip) {
  __shared__ float scratch[32];
  float* c = x + int64_t(blockIdx.x) * per_clip;
  const float mean = block_row_mean(c, per_clip, scratch);
  float sq = 0.0f;
  for (int64_t i = threadIdx.x; i < per_clip; i += blockDim.x) sq += (c[i] - mean) * (c[i] - mean);
  const float inv = 1.0f / fmaxf(sqrtf(block_sum(sq, scratch) / float(per_clip)), 1e-5f);
  for (int64_t i = threadIdx.x; i < per_clip; i += blockDim.x) c[i] = (c[i] - mean) * inv;
}

// One block per row: the row's mean, then its subtraction.
__global__ void subtract_row_means(float* __restrict__ x, int64_t row_length) {
  __shared__ float scratch[32];
  float* row = x + int64_t(blockIdx.x) * row_length;
  const float mean = block_row_mean(row, row_length, scratch);
  for (int64_t i = threadIdx.x; i < row_length; i += blockDim.x) row[i] -= mean;
}

__global__ void mask_bands(float* __restrict__ x, int64_t batch, int64_t bins, int64_t frames,
                           const int32_t* __restrict__ bands, int64_t per) {
  DUET_GRID_STRIDE(i, batch * bins * frames) {
    const int64_t t = i % frames, m = (i / frames) % bins, b = i / (frames * bins);
    for (int64_t k = 0; k < per; ++k) {
      const int32_t* e = bands + (b * per + k) * 3;
      const int64_t v = e[0] == 0 ? m : t;
      if (v >= e[1] && v < e[2]) x[i] = 0.0f;
    }
  }
}

// out[b, m, t]: in[b, ., t] interpolated at the fractional bin positions[b * bins + m].
__global__ void warp_bins(const float* __restrict__ in, float* __restrict__ out, int64_t batch, int64_t bins,
                          int64_t frames, const float* __restrict__ positions) {
  DUET_GRID_STRIDE(i, batch * bins * frames) {
    const int64_t t = i % frames, m = (i / frames) % bins, b = i / (frames * bins);
    const float p = positions[b * bins + m];
    const int64_t lo = min(int64_t(p), bins - 1), hi = min(lo + 1, bins - 1);
    const float w = p - float(lo);
    const float a = in[(b * bins + lo) * frames + t], z = in[(b * bins + hi) * frames + t];
    out[i] = a + w * (z - a);
  }
}

}  // namespace
}  // namespace duet::kernels

namespace duet::dsp {

void standardize_per_clip_cuda(float* x, int64_t batch, int64_t per_clip) {
  if (batch == 0) return;
  kernels::standardize_per_clip<<<unsigned(batch), kernels::kBlock, 0, kernels::as_cuda(cuda::stream())>>>(x, per_clip);
  cuda::check_launch("standardize_per_clip");
}

void subtract_row_means_cuda(float* x, int64_t rows, int64_t row_length) {
  if (rows == 0) return;
  DUET_CHECK(rows < (1LL << 31), "subtract_row_means: ", rows, " rows");
  kernels::subtract_row_means<<<unsigned(rows), 128, 0, kernels::as_cuda(cuda::stream())>>>(x, row_length);
  cuda::check_launch("subtract_row_means");
}

void mask_bands_cuda(float* x, int64_t batch, int64_t bins, int64_t frames, const int32_t* bands, int64_t per) {
  kernels::mask_bands<<<kernels::grid_for(batch * bins * frames), kernels::kBlock, 0,
                        kernels::as_cuda(cuda::stream())>>>(x, batch, bins, frames, bands, per);
  cuda::check_launch("mask_bands");
}

void warp_bins_cuda(const float* in, float* out, int64_t batch, int64_t bins, int64_t frames, const float* positions) {
  if (batch * bins * frames == 0) return;
  kernels::warp_bins<<<kernels::grid_for(batch * bins * frames), kernels::kBlock, 0,
                       kernels::as_cuda(cuda::stream())>>>(in, out, batch, bins, frames, positions);
  cuda::check_launch("warp_bins");
}

}  // namespace duet::dsp
