// Per-clip standardisation and band masking of spectrogram batches (CPU side and dispatch).
#include <cmath>

#include "dsp/features.h"
#include "engine/error.h"

namespace duet::dsp {
namespace {
double row_mean(const float* row, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += row[i];
  return sum / double(n);
}
}  // namespace

void standardize_per_clip(Tensor& x) {
  check_ndim(x, 4, "standardize_per_clip");
  const int64_t batch = x.size(0), per_clip = x.numel() / std::max<int64_t>(1, batch);
  if (x.is_cuda()) {
    DUET_CUDA_CALL(standardize_per_clip_cuda(x.data<float>(), batch, per_clip));
    return;
  }
  float* p = x.data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    float* c = p + b * per_clip;
    const double mean = row_mean(c, per_clip);
    double sq = 0;
    for (int64_t i = 0; i < per_clip; ++i) sq += (c[i] - mean) * (c[i] - mean);
    const double inv = 1.0 / std::max(std::sqrt(sq / double(per_clip)), 1e-5);
    for (int64_t i = 0; i < per_clip; ++i) c[i] = float((c[i] - mean) * inv);
  }
}

void subtract_band_means(Tensor& x) {
  check_ndim(x, 4, "subtract_band_means");
  const int64_t frames = x.size(3), rows = frames == 0 ? 0 : x.numel() / frames;
  if (rows == 0) return;
  if (x.is_cuda()) {
    DUET_CUDA_CALL(subtract_row_means_cuda(x.data<float>(), rows, frames));
    return;
  }
  float* p = x.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * frames;
    const float mean = float(row_mean(row, frames));
    for (int64_t t = 0; t < frames; ++t) row[t] -= mean;
  }
}

void mask_bands(Tensor& x, const std::vector<std::vector<Band>>& bands) {
  check_ndim(x, 4, "mask_bands");
  const int64_t batch = x.size(0), bins = x.size(2), frames = x.size(3);
  DUET_CHECK(int64_t(bands.size()) == batch, "mask_bands: ", bands.size(), " band lists for ", batch, " clips");
  size_t per = 0;
  for (const auto& b : bands) per = std::max(per, b.size());
  if (per == 0) return;
  // Flatten to [batch, per, 3]; missing entries are empty bands.
  std::vector<int32_t> flat(batch * per * 3, 0);
  for (int64_t b = 0; b < batch; ++b)
    for (size_t k = 0; k < bands[b].size(); ++k) {
      const Band& band = bands[b][k];
      const int64_t limit = band.axis == 0 ? bins : frames;
      DUET_CHECK((band.axis == 0 || band.axis == 1) && band.begin >= 0 && band.begin <= band.end &&
                     band.end <= limit,
                 "mask_bands: bad band (", band.axis, ", ", band.begin, ", ", band.end, ")");
      flat[(b * per + k) * 3 + 0] = band.axis;
      flat[(b * per + k) * 3 + 1] = band.begin;
      flat[(b * per + k) * 3 + 2] = band.end;
    }
  if (x.is_cuda()) {
    Tensor d = Tensor::from_vector<int32_t>(flat, {int64_t(flat.size())}, Device::cuda);
    DUET_CUDA_CALL(mask_bands_cuda(x.data<float>(), batch, bins, frames, d.data<int32_t>(), int64_t(per)));
    return;
  }
  float* p = x.data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (size_t k = 0; k < per; ++k) {
      const int32_t* e = &flat[(b * per + k) * 3];
      for (int64_t m = 0; m < bins; ++m)
        for (int64_t t = 0; t < frames; ++t) {
          const int64_t v = e[0] == 0 ? m : t;
          if (v >= e[1] && v < e[2]) p[(b * bins + m) * frames + t] = 0.0f;
        }
    }
}

}  // namespace duet::dsp
