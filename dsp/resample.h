// Band-limited resampling by windowed-sinc interpolation (the method of torchaudio's
// resample with its defaults: Hann-windowed sinc, 6 zero crossings, roll-off 0.99).
// Output sample j sits at input time t = j * from / to and is
//   y[j] = sum_k x[k] * h(t - k),  h(u) = c * sinc(c * u) * hann(u / width),
// with c = 0.99 * min(1, to / from) the cut-off relative to the input's Nyquist rate
// (so downsampling also low-passes) and width = 6 / c input samples on each side.
#pragma once
#include <cstdint>
#include <vector>

namespace duet::dsp {

std::vector<float> resample(const std::vector<float>& x, int from_rate, int to_rate);

// Zero-pads at the end or crops to exactly n samples (the course pads clips to 48000).
std::vector<float> fix_length(const std::vector<float>& x, int64_t n);

}  // namespace duet::dsp
