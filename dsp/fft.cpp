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
  std::map<int, fftw_plan> dct4;
  ~PlanCache() {
    for (auto& [n, p] : plans) {
      fftw_destroy_plan(p.forward);
      fftw_destroy_plan(p.inverse);
    }
    for (auto& [n, p] : dct4) fftw_destroy_plan(p);
    fftw_cleanup();
  }
};

PlanCache& plan_cache() {
  static PlanCache cache;
  return cache;
}

}  // namespace

fftw_plan dct4_plan(int n) {
  PlanCache& cache = plan_cache();
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.dct4.find(n);
  if (it != cache.dct4.end()) return it->second;
  double* a = fftw_alloc_real(size_t(n));
  double* b = fftw_alloc_real(size_t(n));
  const fftw_plan p = fftw_plan_r2r_1d(n, a, b, FFTW_REDFT11, FFTW_ESTIMATE | FFTW_UNALIGNED);
  fftw_free(a);
  fftw_free(b);
  DUET_CHECK(p, "FFTW could not plan a DCT-IV of ", n, " points");
  cache.dct4.emplace(n, p);
  return p;
}

FftPlans fft_plans(int n) {
  PlanCache& cache = plan_cache();
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
