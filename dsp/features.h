// The audio front-end: waveform -> STFT power -> mel projection -> decibels.
//
//   frames: the signal is reflect-padded by n_fft/2 at both ends (center=True), cut into
//           T = 1 + L / hop frames of n_fft samples, each multiplied by a periodic Hann
//           window of win_length samples (zero-padded to n_fft, centred);
//   STFT:   X[t, f] = sum_n frame_t[n] e^{-2 pi i f n / n_fft}, f = 0 .. n_fft/2;
//           spec = |X|^power (power 2: power spectrum, 1: magnitude);
//   mel:    mel[m, t] = sum_f fb[f, m] spec[t, f], fb the triangular filterbank
//           (HTK or Slaney mel scale, optional Slaney area normalisation);
//   dB:     multiplier * log10(max(x, amin)) - multiplier * log10(max(amin, ref)),
//           multiplier 10 for power, 20 for magnitude; with top_db, values are floored at
//           (max - top_db), the max taken per clip.
// All of this equals torchaudio's MelSpectrogram(...) followed by AmplitudeToDB(...) for
// the same parameters (tests/cpu/test_dsp_golden.cpp checks it against fixtures).
//
// Output layout: [batch, 1, n_mels, frames], ready for a CNN.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace duet::dsp {

struct FrontendConfig {
  int sample_rate = 16000;  // the rate the filterbank assumes (torchaudio's default is 16000)
  int n_fft = 400;
  int win_length = 0;       // 0: n_fft
  int hop_length = 0;       // 0: win_length / 2
  int n_mels = 128;
  double f_min = 0.0;
  double f_max = 0.0;       // 0: sample_rate / 2
  double power = 2.0;       // 2: power spectrum, 1: magnitude
  std::string mel_scale = "htk";  // "htk" | "slaney"
  std::string norm = "none";      // "none" | "slaney"
  bool mel = true;          // false: a linear-frequency spectrogram [batch, 1, n_fft/2+1, frames]
  bool to_db = true;
  double amin = 1e-10;
  double ref = 1.0;
  double top_db = -1.0;     // < 0: none

  int win() const { return win_length > 0 ? win_length : n_fft; }
  int hop() const { return hop_length > 0 ? hop_length : win() / 2; }
  int n_freqs() const { return n_fft / 2 + 1; }
  double fmax() const { return f_max > 0 ? f_max : sample_rate / 2.0; }
  int bins() const { return mel ? n_mels : n_freqs(); }
  int64_t frames(int64_t num_samples) const { return 1 + num_samples / hop(); }
  void validate(int64_t num_samples) const;  // throws naming the bad field
  std::string describe() const;
};

double hz_to_mel(double hz, const std::string& scale);
double mel_to_hz(double mel, const std::string& scale);
// fb [n_freqs, n_mels], row-major (torchaudio.functional.melscale_fbanks).
std::vector<float> mel_filterbank(const FrontendConfig& c);
std::vector<double> hann_window(int win_length, int n_fft);  // periodic, centred in n_fft

// waveforms [batch, samples] float32 on the CPU or CUDA -> features on the same device.
Tensor melspectrogram_db(const Tensor& waveforms, const FrontendConfig& c);

// CPU reference (double internally) and CUDA implementation (kernels/stft.cu + cuFFT).
void frontend_cpu(const float* x, int64_t batch, int64_t samples, const FrontendConfig& c, float* out);
void frontend_cuda(const float* x, int64_t batch, int64_t samples, const FrontendConfig& c, float* out);

}  // namespace duet::dsp

namespace duet::dsp {

// Per-clip standardisation of features [batch, 1, bins, frames] in place:
// x = (x - mean_clip) / max(std_clip, 1e-5). Removes a recording's overall level, which
// says more about the microphone and the speaker than about the digit.
void standardize_per_clip(Tensor& features);

// Per-band mean removal in place: every mel bin of every clip has its mean over the frames
// subtracted (cepstral mean normalisation, done on log-mel features). A microphone or a
// room is a fixed filter, a constant offset per bin in dB; so, partly, is a speaker's
// long-term spectral envelope. Done before standardize_per_clip.
void subtract_band_means(Tensor& features);

// SpecAugment-style masking in place: for clip b, `bands[b]` lists (axis, begin, end)
// triples; axis 0 zeroes bins [begin, end), axis 1 zeroes frames [begin, end).
struct Band {
  int32_t axis, begin, end;
};
void mask_bands(Tensor& features, const std::vector<std::vector<Band>>& bands);

// Vocal-tract length perturbation (VTLP) of spectrogram batches: each clip's spectrum is
// warped along the frequency axis by a factor alpha, as a vocal tract 1/alpha times as long
// would place its formants (alpha > 1: higher, a shorter tract), leaving the tempo and the
// pitch's harmonics' timing alone (the speed perturbation moves all three together). The
// warp scales frequencies by alpha up to a knee at 0.85 * fmax * min(1, alpha) (of the warped
// axis), and is linear from there to fmax, which stays in place, so that nothing is pushed
// past the band's edge or left empty below it (Jaitly and Hinton's piecewise-linear VTLP).
//
// vtlp_source_hz: the frequency that the warp moves to `hz` (0 <= hz <= fmax).
double vtlp_source_hz(double hz, double alpha, double fmax);
// For each bin of c's features (mel bins, or FFT bins when !c.mel), the fractional bin index
// its warped value is read from (the bin whose centre frequency the warp moves onto this
// bin's centre), clamped to [0, bins - 1]; alpha 1 gives 0, 1, 2, ... exactly.
// alpha must lie in [kVtlpMin, kVtlpMax].
constexpr double kVtlpMin = 0.7, kVtlpMax = 1.4;
std::vector<float> vtlp_positions(const FrontendConfig& c, double alpha);
// Warps features [batch, 1, bins, frames] (log-mel or dB features, as melspectrogram_db
// makes them) in place, clip b by alphas[b]: each output value is the linear interpolation of
// the two bins around its source position, frame by frame.
void warp_bins(Tensor& features, const std::vector<double>& alphas, const FrontendConfig& c);

void standardize_per_clip_cuda(float* x, int64_t batch, int64_t per_clip);
// out[b, m, t] read from in[b, ., t] at positions[b * bins + m] (in and out distinct).
void warp_bins_cuda(const float* in, float* out, int64_t batch, int64_t bins, int64_t frames,
                    const float* positions_device);
void subtract_row_means_cuda(float* x, int64_t rows, int64_t row_length);
void mask_bands_cuda(float* x, int64_t batch, int64_t bins, int64_t frames, const int32_t* bands_device,
                     int64_t bands_per_clip);

}  // namespace duet::dsp
