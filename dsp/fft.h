// FFTW plans shared by the CPU front-end (dsp/features.cpp), the room convolution
// (dsp/room.cpp) and the MDCTs of the AAC and Vorbis decoders (dsp/aac.cpp, dsp/vorbis.cpp)
// and of lossy coding (dsp/lossy.cpp). FFTW's planner is not thread-safe, so plans are made once per size under a
// lock; executing them concurrently with the new-array interface is safe
// (fftw_execute_dft_r2c/c2r on buffers from fftw_alloc_*, fftw_execute_r2r on any).
#pragma once
#include <fftw3.h>

namespace duet::dsp {

struct FftPlans {
  fftw_plan forward;  // n real samples -> n/2+1 complex bins
  fftw_plan inverse;  // n/2+1 complex bins -> n real samples, unnormalised (n times the input)
};

// The plans for an n-point real transform, made on first use (FFTW_ESTIMATE) and kept until
// the program ends.
FftPlans fft_plans(int n);

// The plan for an n-point DCT-IV (FFTW_REDFT11: y[k] = 2 sum_j x[j] cos(pi/n (j + 1/2)(k + 1/2))),
// made on first use and kept; planned unaligned, so fftw_execute_r2r may run it on any buffers.
fftw_plan dct4_plan(int n);

// The MDCT of 2m samples z (windowed already) to m coefficients,
//   X[k] = sum_n z[n] cos(pi / m (n + 1/2 + m/2)(k + 1/2)),
// and its inverse to 2m samples (to be windowed and overlap-added),
//   out[n] = (1 / m) sum_k X[k] cos(pi / m (n + 1/2 + m/2)(k + 1/2)),
// each through an m-point DCT-IV (dct4_plan); m even. Used by the AAC and Vorbis decoders
// (dsp/aac.cpp, dsp/vorbis.cpp; Vorbis's IMDCT is m times this one) and the lossy coding of
// training clips (dsp/lossy.cpp).
void mdct_frame(const double* z, int m, double* x);
void imdct_frame(const double* x, int m, double* out);

}  // namespace duet::dsp
