// FFTW plans shared by the CPU front-end (dsp/features.cpp), the room convolution
// (dsp/room.cpp) and the AAC decoder's IMDCT (dsp/aac.cpp). FFTW's planner is not thread-safe, so plans are made once per size under a
// lock; executing them concurrently with the new-array interface (fftw_execute_dft_r2c/c2r)
// on buffers from fftw_alloc_* is safe.
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

}  // namespace duet::dsp
