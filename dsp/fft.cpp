#include "dsp/fft.h"

#include <map>
#include <mutex>

#include "engine/error.h"

namespace duet::dsp {

FftPlans fft_plans(int n) {
  static std::mutex mu;
  static std::map<int, FftPlans> plans;
  std::lock_guard<std::mutex> lock(mu);
  auto it = plans.find(n);
  if (it != plans.end()) return it->second;
  double* r = fftw_alloc_real(size_t(n));
  fftw_complex* c = fftw_alloc_complex(size_t(n / 2 + 1));
  FftPlans p{fftw_plan_dft_r2c_1d(n, r, c, FFTW_ESTIMATE), fftw_plan_dft_c2r_1d(n, c, r, FFTW_ESTIMATE)};
  fftw_free(r);
  fftw_free(c);
  DUET_CHECK(p.forward && p.inverse, "FFTW could not plan a transform of ", n, " points");
  plans.emplace(n, p);
  return p;
}

}  // namespace duet::dsp
