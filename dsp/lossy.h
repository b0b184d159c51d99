// What a low-bitrate perceptual coder (MP3 or AAC at 8-16 kbit/s) leaves of a recording, for
// training a network to read such files.
//
// Such a coder cuts the signal into overlapping frames, turns each into MDCT coefficients (a
// real spectrum, one coefficient per rate / (2 M) Hz), and spends its few bits band by band: a
// band is quantised with a step as coarse as the listener's masking allows, so at low rates
// every band is left only a few dB above its quantisation noise, most coefficients round to
// zero (the spectral holes that make such files sound watery), and the top of the spectrum is
// dropped altogether (the encoder's lowpass). At low rates the frames are long (an MP3 granule
// is 576 samples, 72 ms at 8 kHz; an AAC frame 1024), so a frame's quantisation noise spreads
// over its whole length, before the word's onset too. lossy_coded() does those three things
// with an MDCT of hop M (M coefficients a frame, 2M samples long) and a sine window, which
// reconstructs the input exactly when nothing is quantised (the MDCT's time-domain aliasing
// cancels between neighbouring frames):
//   - each coefficient above `cutoff_hz` becomes zero;
//   - each band (125 Hz wide up to 1 kHz, 250 Hz up to 2 kHz, 500 Hz up to 4 kHz, 1 kHz above)
//     is quantised with the uniform step that leaves it `snr_db` above the step's noise
//     (step = rms * sqrt(12) * 10^(-snr_db / 20)), rounding to the nearest step, so
//     coefficients below half a step become zero.
// The bit allocation of a real coder (a psychoacoustic model, short blocks for transients, the
// bit reservoir) is not modelled: every band gets the same signal-to-noise ratio. docs/dsp.md
// (Low-bitrate coding) compares it with lame's 8 kbit/s MP3s.
#pragma once
#include <cstddef>
#include <vector>

namespace duet::dsp {

// x at `rate` Hz (8000-48000) as a low-bitrate coder with frames of `hop` samples (even,
// 2-8192) returns it; as many samples as x. cutoff_hz in (0, rate / 2], snr_db in [-10, 60];
// anything else is an error naming the value.
std::vector<float> lossy_coded(const std::vector<float>& x, int rate, double cutoff_hz, double snr_db, int hop);

// The MDCT with hop m and the sine window: frames of 2m samples every m samples, the first
// starting m samples before x (x read as zero outside itself); frames x m coefficients,
// frames = ceil(size / m) + 1. imdct() overlap-adds them back, the first `size`
// samples of the reconstruction returned. imdct(mdct(x, m), m, x.size()) == x (to rounding).
std::vector<std::vector<float>> mdct(const std::vector<float>& x, int m);
std::vector<float> imdct(const std::vector<std::vector<float>>& coefficients, int m, size_t size);

}  // namespace duet::dsp
