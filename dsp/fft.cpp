#include "dsp/fft.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

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

// Per-thread room for a transform's m inputs and m outputs: decoding and the training's data
// path call the MDCTs once per frame, so they reuse it instead of allocating each time.
static double* dct4_scratch(int m) {
  thread_local std::vector<double> scratch;
  if (scratch.size() < size_t(2 * m)) scratch.resize(size_t(2 * m));
  return scratch.data();
}

void mdct_frame(const double* z, int m, double* x) {
  // Fold the 2m samples into the m inputs of a DCT-IV (the MDCT's time-domain aliasing).
  double* u = dct4_scratch(m);
  double* v = u + m;
  for (int j = 0; j < m / 2; ++j) v[j] = -z[3 * m / 2 - 1 - j] - z[3 * m / 2 + j];
  for (int j = m / 2; j < m; ++j) v[j] = z[j - m / 2] - z[3 * m / 2 - 1 - j];
  fftw_execute_r2r(dct4_plan(m), v, u);  // 2 sum_j v[j] cos(pi / m (j + 1/2)(k + 1/2))
  for (int k = 0; k < m; ++k) x[k] = 0.5 * u[k];
}

void imdct_frame(const double* x, int m, double* out) {
  double* in = dct4_scratch(m);
  double* u = in + m;
  std::copy(x, x + m, in);
  fftw_execute_r2r(dct4_plan(m), in, u);  // 2 sum_k X[k] cos(pi / m (j + 1/2)(k + 1/2))
  const double scale = 0.5 / m;
  for (int i = 0; i < 2 * m; ++i) {
    double v;
    if (i < m / 2)
      v = u[i + m / 2];
    else if (i < 3 * m / 2)
      v = -u[3 * m / 2 - 1 - i];
    else
      v = -u[i - 3 * m / 2];
    out[i] = v * scale;
  }
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
