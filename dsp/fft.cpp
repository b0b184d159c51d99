#include "dsp/fft.h"

#include <map>
#include <mutex>

#include "engine/error.h"

namespace duet::dsp {

namespace {

// Every plan made, kept for the program's life and destroyed at its exit (with FFTW's own
// tables, fftw_cleanup), so a leak checker finds nothing left over.
struct PlanCache {
  std::mutex mu;
  std::map<int, FftPlans> plans;
  ~PlanCache() {
    for (auto& [n, p] : plans) {
      fftw_destroy_plan(p.forward);
      fftw_destroy_plan(p.inverse);
    }
    fftw_cleanup();
  }
};

}  // namespace

FftPlans fft_plans(int n) {
  static PlanCache cache;
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.plans.find(n);
  if (it != cache.plans.end()) return it->second;
  double* r = fftw_alloc_real(size_t(n));
  fftw_complex* c = fftw_alloc_complex(size_t(n / 2 + 1));
  FftPlans p{fftw_plan_dft_r2c_1d(n, r, c, FFTW_ESTIMATE), fftw_plan_dft_c2r_1d(n, c, r, FFTW_ESTIMATE)};
  fftw_free(r);
  fftw_free(c);
  DUET_CHECK(p.forward && p.inverse, "FFTW could not plan a transform of ", n, " points");
  cache.plans.emplace(n, p);
  return p;
}

}  // namespace duet::dsp
