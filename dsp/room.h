// A recording made in a room: the talker's voice reaches the microphone once directly and
// then again and again from the walls, ever fainter. The sum of those echoes is the room's
// impulse response h, and the recording is the voice convolved with it, y = x * h.
//
// room_response() draws a synthetic h with the two numbers acousticians describe a room and a
// microphone position by:
//   rt60    the reverberation time: how long the echoes take to die away by 60 dB (a small
//           furnished room 0.2-0.4 s, a living room or classroom 0.4-0.8 s, a hall, kitchen
//           or stairwell 1 s and more);
//   drr_db  the direct-to-reverberant energy ratio: above 0 dB the direct sound dominates
//           (a phone held near the mouth), below 0 dB the room does (across the room).
// h[0] = 1 is the direct sound; after a short gap (the first reflection's extra path) comes a
// diffuse tail of Gaussian noise whose amplitude falls by 60 dB over rt60. Walls and air
// absorb high frequencies sooner, so the tail's part above about 1 kHz decays twice as fast
// as the part below it. The tail is scaled so that its energy is drr_db below the direct
// sound's.
#pragma once
#include <vector>

#include "engine/rng.h"

namespace duet::dsp {

// Impulse response at `rate` Hz, 1 + gap + rt60 * rate samples long. rt60 in (0, 5] s,
// drr_db in [-30, 40]; anything else is an error.
std::vector<float> room_response(double rt60, double drr_db, int rate, Rng& rng);

// Full linear convolution of x with h (x.size() + h.size() - 1 samples), by FFT.
std::vector<float> convolve(const std::vector<float>& x, const std::vector<float>& h);

}  // namespace duet::dsp
