#include "dsp/features.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "dsp/fft.h"
#include "engine/error.h"

namespace duet::dsp {

void FrontendConfig::validate(int64_t num_samples) const {
  DUET_CHECK(sample_rate > 0, "front-end: sample_rate must be positive, got ", sample_rate);
  DUET_CHECK(n_fft >= 2 && n_fft <= 65536, "front-end: n_fft must be in [2, 65536], got ", n_fft);
  DUET_CHECK(win() <= n_fft && win() > 0, "front-end: win_length ", win(), " must be in [1, n_fft=", n_fft, "]");
  DUET_CHECK(hop() > 0, "front-end: hop_length must be positive, got ", hop());
  DUET_CHECK(!mel || (n_mels > 0 && n_mels <= 1024), "front-end: n_mels must be in [1, 1024], got ", n_mels);
  DUET_CHECK(f_min >= 0 && f_min < fmax(), "front-end: need 0 <= f_min < f_max, got ", f_min, " and ", fmax());
  DUET_CHECK(fmax() <= sample_rate / 2.0 + 1e-9, "front-end: f_max ", fmax(), " exceeds the Nyquist frequency ",
             sample_rate / 2.0);
  DUET_CHECK(power == 1.0 || power == 2.0, "front-end: power must be 1 or 2, got ", power);
  DUET_CHECK(mel_scale == "htk" || mel_scale == "slaney", "front-end: mel_scale must be htk or slaney, got '",
             mel_scale, "'");
  DUET_CHECK(norm == "none" || norm == "slaney", "front-end: norm must be none or slaney, got '", norm, "'");
  DUET_CHECK(amin > 0, "front-end: amin must be positive, got ", amin);
  DUET_CHECK(num_samples > n_fft / 2, "front-end: ", num_samples, " samples is too short for n_fft ", n_fft,
             " (reflect padding needs more than n_fft/2)");
}

std::string FrontendConfig::describe() const {
  std::ostringstream os;
  os << (mel ? "mel" : "linear") << " spectrogram: sample_rate " << sample_rate << ", n_fft " << n_fft
     << ", win " << win() << ", hop " << hop();
  if (mel) os << ", " << n_mels << " mels (" << mel_scale << ", norm " << norm << ", " << f_min << "-" << fmax() << " Hz)";
  os << ", power " << power << (to_db ? ", dB" : "");
  if (to_db && top_db >= 0) os << " (top_db " << top_db << ")";
  return os.str();
}

double hz_to_mel(double hz, const std::string& scale) {
  if (scale == "htk") return 2595.0 * std::log10(1.0 + hz / 700.0);
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return hz >= min_log_hz ? min_log_mel + std::log(hz / min_log_hz) / logstep : hz / f_sp;
}

double mel_to_hz(double mel, const std::string& scale) {
  if (scale == "htk") return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return mel >= min_log_mel ? min_log_hz * std::exp(logstep * (mel - min_log_mel)) : f_sp * mel;
}

// Computed in float32 in the same order of operations as torchaudio.functional.melscale_fbanks
// (which works in float32): near-zero weights at the edge of a triangle come out of a
// cancellation, and matching torchaudio's rounding there is what keeps low mel bands within
// 1e-3 dB of torchaudio's features.
std::vector<float> mel_filterbank(const FrontendConfig& c) {
  const int F = c.n_freqs(), M = c.n_mels;
  // torch.linspace in float32: start + step*i for the first half, end - step*(n-1-i) after.
  auto linspace = [](float start, float end, int n) {
    std::vector<float> v(n);
    const float step = n > 1 ? (end - start) / float(n - 1) : 0.0f;
    for (int i = 0; i < n; ++i) v[i] = i < n / 2 ? start + step * float(i) : end - step * float(n - 1 - i);
    if (n == 1) v[0] = start;
    return v;
  };
  const std::vector<float> freqs = linspace(0.0f, float(c.sample_rate / 2), F);
  const std::vector<float> mels = linspace(float(hz_to_mel(c.f_min, c.mel_scale)),
                                           float(hz_to_mel(c.fmax(), c.mel_scale)), M + 2);
  std::vector<float> pts(M + 2);
  for (int i = 0; i < M + 2; ++i) {
    if (c.mel_scale == "htk") {
      pts[i] = 700.0f * (std::pow(10.0f, mels[i] / 2595.0f) - 1.0f);
    } else {
      const float f_sp = float(200.0 / 3), min_log_hz = 1000.0f, min_log_mel = float(1000.0 / (200.0 / 3));
      const float logstep = float(std::log(6.4) / 27.0);
      pts[i] = mels[i] >= min_log_mel ? min_log_hz * std::exp(logstep * (mels[i] - min_log_mel)) : f_sp * mels[i];
    }
  }
  std::vector<float> fb(size_t(F) * M);
  for (int f = 0; f < F; ++f)
    for (int m = 0; m < M; ++m) {
      const float down = (-1.0f * (pts[m] - freqs[f])) / (pts[m + 1] - pts[m]);
      const float up = (pts[m + 2] - freqs[f]) / (pts[m + 2] - pts[m + 1]);
      float v = std::max(0.0f, std::min(down, up));
      if (c.norm == "slaney") v *= 2.0f / (pts[m + 2] - pts[m]);
      fb[size_t(f) * M + m] = v;
    }
  return fb;
}

std::vector<double> hann_window(int win_length, int n_fft) {
  std::vector<double> w(n_fft, 0.0);
  const int left = (n_fft - win_length) / 2;
  const double pi = 3.14159265358979323846;
  for (int n = 0; n < win_length; ++n) w[left + n] = 0.5 - 0.5 * std::cos(2.0 * pi * n / win_length);
  return w;
}

void frontend_cpu(const float* x, int64_t batch, int64_t L, const FrontendConfig& c, float* out) {
  c.validate(L);
  const int n_fft = c.n_fft, F = c.n_freqs(), hop = c.hop(), B = c.bins(), pad = n_fft / 2;
  const int64_t T = c.frames(L);
  const std::vector<double> window = hann_window(c.win(), n_fft);
  const std::vector<float> fb = c.mel ? mel_filterbank(c) : std::vector<float>();
  // Each triangular filter is non-zero over a few FFT bins only: project over that range.
  std::vector<int> f_lo(B, 0), f_hi(B, 0);
  if (c.mel)
    for (int m = 0; m < B; ++m) {
      f_lo[m] = F;
      for (int f = 0; f < F; ++f)
        if (fb[size_t(f) * c.n_mels + m] != 0.0f) f_lo[m] = std::min(f_lo[m], f), f_hi[m] = f + 1;
    }
  const fftw_plan plan = fft_plans(n_fft).forward;
  const double mult = c.power == 2.0 ? 10.0 : 20.0;
  const double ref_db = mult * std::log10(std::max(c.amin, c.ref));

#pragma omp parallel
  {
    double* frame = fftw_alloc_real(n_fft);
    fftw_complex* spec = fftw_alloc_complex(F);
    std::vector<double> power(F);
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < batch; ++b) {
      const float* sig = x + b * L;
      float* o = out + b * B * T;
      for (int64_t t = 0; t < T; ++t) {
        for (int n = 0; n < n_fft; ++n) {
          int64_t i = t * hop + n - pad;  // reflect padding: x[-i] = x[i], x[L-1+i] = x[L-1-i]
          if (i < 0) i = -i;
          if (i >= L) i = 2 * (L - 1) - i;
          frame[n] = double(sig[i]) * window[n];
        }
        fftw_execute_dft_r2c(plan, frame, spec);
        for (int f = 0; f < F; ++f) {
          const double p = spec[f][0] * spec[f][0] + spec[f][1] * spec[f][1];
          power[f] = c.power == 2.0 ? p : std::sqrt(p);
        }
        for (int m = 0; m < B; ++m) {
          double v;
          if (c.mel) {
            v = 0;
            for (int f = f_lo[m]; f < f_hi[m]; ++f) v += double(fb[size_t(f) * c.n_mels + m]) * power[f];
          } else {
            v = power[m];
          }
          if (c.to_db) v = mult * std::log10(std::max(v, c.amin)) - ref_db;
          o[m * T + t] = float(v);
        }
      }
      if (c.to_db && c.top_db >= 0) {
        const float floor = *std::max_element(o, o + B * T) - float(c.top_db);
        for (int64_t i = 0; i < B * T; ++i) o[i] = std::max(o[i], floor);
      }
    }
    fftw_free(frame);
    fftw_free(spec);
  }
}

Tensor melspectrogram_db(const Tensor& waveforms, const FrontendConfig& c) {
  check_ndim(waveforms, 2, "melspectrogram_db waveforms");
  DUET_CHECK(waveforms.dtype() == DType::f32, "melspectrogram_db: waveforms must be float32");
  const int64_t batch = waveforms.size(0), L = waveforms.size(1);
  c.validate(L);
  Tensor out = Tensor::empty({batch, 1, c.bins(), c.frames(L)}, DType::f32, waveforms.device());
  if (waveforms.is_cuda())
    DUET_CUDA_CALL(frontend_cuda(waveforms.data<float>(), batch, L, c, out.data<float>()));
  else
    frontend_cpu(waveforms.data<float>(), batch, L, c, out.data<float>());
  return out;
}

}  // namespace duet::dsp
