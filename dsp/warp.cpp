// Vocal-tract length perturbation of spectrogram batches (CPU side and dispatch; the CUDA
// kernel is in kernels/normalize.cu).
#include <algorithm>
#include <cmath>

#include "dsp/features.h"
#include "engine/error.h"

namespace duet::dsp {
namespace {

constexpr double kKnee = 0.85;  // the warp is a pure scaling up to this share of fmax

void check_alpha(double alpha) {
  DUET_CHECK(std::isfinite(alpha) && alpha >= kVtlpMin && alpha <= kVtlpMax, "vtlp: warp factor ", alpha,
             " outside [", kVtlpMin, ", ", kVtlpMax, "]");
}

// Centre frequency of every bin of c's features, in Hz.
std::vector<double> bin_centres(const FrontendConfig& c) {
  const int bins = c.bins();
  std::vector<double> hz(bins);
  if (!c.mel) {
    for (int k = 0; k < bins; ++k) hz[k] = double(k) * c.sample_rate / c.n_fft;
    return hz;
  }
  const double lo = hz_to_mel(c.f_min, c.mel_scale), hi = hz_to_mel(c.fmax(), c.mel_scale);
  for (int m = 0; m < bins; ++m) hz[m] = mel_to_hz(lo + (hi - lo) * (m + 1) / (bins + 1), c.mel_scale);
  return hz;
}

// The fractional bin index at frequency hz (the inverse of bin_centres, extended linearly).
double bin_at(const FrontendConfig& c, double hz) {
  if (!c.mel) return hz * c.n_fft / c.sample_rate;
  const double lo = hz_to_mel(c.f_min, c.mel_scale), hi = hz_to_mel(c.fmax(), c.mel_scale);
  return (hz_to_mel(std::max(hz, 0.0), c.mel_scale) - lo) / (hi - lo) * (c.bins() + 1) - 1;
}

}  // namespace

double vtlp_source_hz(double hz, double alpha, double fmax) {
  check_alpha(alpha);
  DUET_CHECK(fmax > 0 && hz >= 0 && hz <= fmax * (1 + 1e-9), "vtlp: frequency ", hz, " Hz outside [0, ", fmax, "]");
  const double knee_out = kKnee * fmax * std::min(1.0, alpha), knee_in = knee_out / alpha;
  if (hz <= knee_out) return hz / alpha;
  return knee_in + (hz - knee_out) * (fmax - knee_in) / (fmax - knee_out);
}

std::vector<float> vtlp_positions(const FrontendConfig& c, double alpha) {
  check_alpha(alpha);
  const int bins = c.bins();
  std::vector<float> pos(bins);
  if (alpha == 1.0) {
    for (int m = 0; m < bins; ++m) pos[m] = float(m);
    return pos;
  }
  const double fmax = c.mel ? c.fmax() : c.sample_rate / 2.0;
  const std::vector<double> centres = bin_centres(c);
  for (int m = 0; m < bins; ++m) {
    const double src = vtlp_source_hz(std::min(centres[m], fmax), alpha, fmax);
    pos[m] = float(std::clamp(bin_at(c, src), 0.0, double(bins - 1)));
  }
  return pos;
}

void warp_bins(Tensor& x, const std::vector<double>& alphas, const FrontendConfig& c) {
  check_ndim(x, 4, "warp_bins");
  const int64_t batch = x.size(0), bins = x.size(2), frames = x.size(3);
  DUET_CHECK(int64_t(alphas.size()) == batch, "warp_bins: ", alphas.size(), " warp factors for ", batch, " clips");
  DUET_CHECK(x.size(1) == 1 && bins == c.bins(), "warp_bins: features ", shape_str(x.shape()), " do not have the ",
             c.bins(), " bins of the front-end");
  if (std::all_of(alphas.begin(), alphas.end(), [](double a) { return a == 1.0; })) return;
  std::vector<float> pos(batch * bins);
  for (int64_t b = 0; b < batch; ++b) {
    const std::vector<float> p = vtlp_positions(c, alphas[b]);
    std::copy(p.begin(), p.end(), pos.begin() + b * bins);
  }
  const Tensor in = x.clone();
  if (x.is_cuda()) {
    const Tensor d = Tensor::from_vector<float>(pos, {batch * bins}, Device::cuda);
    DUET_CUDA_CALL(warp_bins_cuda(in.data<float>(), x.data<float>(), batch, bins, frames, d.data<float>()));
    return;
  }
  const float* src = in.data<float>();
  float* out = x.data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t m = 0; m < bins; ++m) {
      const float p = pos[b * bins + m];
      const int64_t lo = std::min<int64_t>(int64_t(p), bins - 1), hi = std::min<int64_t>(lo + 1, bins - 1);
      const float w = p - float(lo);
      const float* a = src + (b * bins + lo) * frames;
      const float* z = src + (b * bins + hi) * frames;
      float* o = out + (b * bins + m) * frames;
      for (int64_t t = 0; t < frames; ++t) o[t] = a[t] + w * (z[t] - a[t]);
    }
}

}  // namespace duet::dsp
