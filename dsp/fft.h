// FFTW plans shared by the CPU front-end (dsp/features.cpp) and the room convolution
// (dsp/room.cpp). FFTW's planner is not thread-safe, so plans are made once per size under a
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

}  // namespace duet::dsp
