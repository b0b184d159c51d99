// A high-pass filter for recordings: what lies below the speech band (a DC offset from the
// sound card, rumble, mains hum) carries nothing about the word said but a lot about the
// equipment it was said into. FSDD shows it: nicolas's clips sit on a DC offset (a median 3%
// of their peak, up to 15%), and the median clip of lucas holds -15 dB of its energy below
// 100 Hz, of the other speakers -34 to -62 dB once the mean is removed (docs/dsp.md).
//
// highpass(x, rate, cutoff) removes x's mean, then runs a second-order Butterworth high-pass
// (the bilinear-transform biquad, Q = 1/sqrt(2)) forward and then backward over it: zero
// phase, so nothing in the word moves in time, and the biquad's magnitude response squared:
// 1 / (1 + (fc / f)^4), -6 dB at the cut-off (a 50 Hz hum under a 100 Hz cut-off loses
// 24.6 dB, 300 Hz passes within 0.11 dB). Each end is first extended by its reflection, so
// the filter starts and stops outside the clip.
#pragma once
#include <vector>

namespace duet::dsp {

// cutoff_hz in (0, rate / 4]; x may be empty.
std::vector<float> highpass(const std::vector<float>& x, int rate, double cutoff_hz);

}  // namespace duet::dsp
