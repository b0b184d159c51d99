// The audio front-end on the GPU for a whole batch of clips at once (formulas in
// dsp/features.h):
//   1. frame_window: reflect-pad, cut and window every frame of every clip into one
//      [batch*frames, n_fft] buffer (one thread per sample; reads are coalesced along n);
//   2. cuFFT: one batched real-to-complex plan over all batch*frames rows;
//   3. spectrum_power: |X|^2 (or |X|) into [batch*frames, n_freqs];
//   4. mel projection: one SGEMM (ours, kernels/gemm.cu):
//      [batch*frames, n_freqs] x fb [n_freqs, n_mels];
//   5. to_db_transpose: decibels, written transposed to [batch, 1, n_mels, frames];
//   6. with top_db: one block per clip finds its max, then the floor is applied.
// Scratch buffers come from the caching allocator, so a repeated call allocates nothing.
#include <cufft.h>

#include <map>
#include <mutex>
#include <vector>

#include "dsp/features.h"
#include "engine/ops/gemm.h"
#include "kernels/common.cuh"

namespace duet::kernels {
namespace {

__global__ void frame_window(const float* __restrict__ x, int64_t L, int64_t T, int n_fft, int hop,
                             const float* __restrict__ window, int64_t rows, float* __restrict__ frames) {
  const int pad = n_fft / 2;
  DUET_GRID_STRIDE(i, rows * n_fft) {
    const int64_t row = i / n_fft, n = i % n_fft;
    const int64_t b = row / T, t = row % T;
    int64_t j = t * hop + n - pad;
    if (j < 0) j = -j;
    if (j >= L) j = 2 * (L - 1) - j;
    frames[i] = x[b * L + j] * window[n];
  }
}

__global__ void spectrum_power(const cufftComplex* __restrict__ X, int64_t count, bool power2,
                               float* __restrict__ out) {
  DUET_GRID_STRIDE(i, count) {
    const float re = X[i].x, im = X[i].y;
    const float p = re * re + im * im;
    out[i] = power2 ? p : sqrtf(p);
  }
}

// in [batch*T, bins] -> out [batch, bins, T], optionally in dB.
__global__ void to_db_transpose(const float* __restrict__ in, int64_t batch, int64_t T, int bins, bool to_db,
                                float mult, float amin, float ref_db, float* __restrict__ out) {
  DUET_GRID_STRIDE(i, batch * bins * T) {
    const int64_t t = i % T, m = (i / T) % bins, b = i / (T * bins);
    float v = in[(b * T + t) * bins + m];
    if (to_db) v = mult * log10f(fmaxf(v, amin)) - ref_db;
    out[i] = v;
  }
}

__global__ void clip_floor(float* __restrict__ x, int64_t per_clip, float top_db) {
  __shared__ float scratch[32];
  float* clip = x + int64_t(blockIdx.x) * per_clip;
  float mx = -INFINITY;
  for (int64_t i = threadIdx.x; i < per_clip; i += blockDim.x) mx = fmaxf(mx, clip[i]);
  mx = block_max(mx, scratch);
  const float floor = mx - top_db;
  for (int64_t i = threadIdx.x; i < per_clip; i += blockDim.x) clip[i] = fmaxf(clip[i], floor);
}

// A device buffer from the caching allocator, returned on scope exit.
struct Scratch {
  void* p;
  size_t bytes;
  explicit Scratch(size_t n) : p(cuda::allocate(n)), bytes(n) {}
  ~Scratch() { cuda::deallocate(p, bytes); }
  template <class T> T* as() { return static_cast<T*>(p); }
};

// cuFFT plans are costly to make; keep one per (n_fft, rows) until cuda::release_all().
std::mutex plans_mu;
std::map<std::pair<int, int64_t>, cufftHandle>& plan_cache() {
  static auto* plans = new std::map<std::pair<int, int64_t>, cufftHandle>();
  return *plans;
}
void destroy_plans() {
  std::lock_guard<std::mutex> lock(plans_mu);
  for (auto& [key, h] : plan_cache()) cufftDestroy(h);
  plan_cache().clear();
}

cufftHandle plan_for(int n_fft, int64_t rows) {
  std::lock_guard<std::mutex> lock(plans_mu);
  auto& plans = plan_cache();
  if (plans.empty()) cuda::at_release(destroy_plans);
  auto key = std::make_pair(n_fft, rows);
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  cufftHandle h;
  int n = n_fft;
  DUET_CHECK(rows < (1LL << 31), "stft: ", rows, " frames exceed cuFFT's batch limit");
  DUET_CHECK(cufftPlanMany(&h, 1, &n, nullptr, 1, n_fft, nullptr, 1, n_fft / 2 + 1, CUFFT_R2C, int(rows)) ==
                 CUFFT_SUCCESS,
             "stft: cufftPlanMany failed for n_fft ", n_fft, " x ", rows, " frames");
  plans[key] = h;
  return h;
}

// The window and filterbank live on the device, made once per configuration.
std::mutex constants_mu;
std::map<std::string, std::pair<float*, size_t>>& constants_cache() {
  static auto* cache = new std::map<std::string, std::pair<float*, size_t>>();
  return *cache;
}
void free_constants() {
  std::lock_guard<std::mutex> lock(constants_mu);
  for (auto& [key, v] : constants_cache()) cuda::deallocate(v.first, v.second);
  constants_cache().clear();
}

const float* device_constants(const std::vector<float>& host, const std::string& key) {
  std::lock_guard<std::mutex> lock(constants_mu);
  auto& cache = constants_cache();
  if (cache.empty()) cuda::at_release(free_constants);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second.first;
  float* d = static_cast<float*>(cuda::allocate(host.size() * sizeof(float)));
  cuda::copy_host_to_device(d, host.data(), host.size() * sizeof(float));
  cache[key] = {d, host.size() * sizeof(float)};
  return d;
}

}  // namespace
}  // namespace duet::kernels

namespace duet::dsp {

void frontend_cuda(const float* x, int64_t batch, int64_t L, const FrontendConfig& c, float* out) {
  using namespace kernels;
  c.validate(L);
  cudaStream_t st = as_cuda(cuda::stream());
  const int n_fft = c.n_fft, F = c.n_freqs(), bins = c.bins();
  const int64_t T = c.frames(L), rows = batch * T;
  const std::string key = c.describe();

  std::vector<double> wd = hann_window(c.win(), n_fft);
  const float* window = device_constants(std::vector<float>(wd.begin(), wd.end()), "window " + key);
  Scratch frames(size_t(rows) * n_fft * sizeof(float));
  frame_window<<<grid_for(rows * n_fft), kBlock, 0, st>>>(x, L, T, n_fft, c.hop(), window, rows, frames.as<float>());
  cuda::check_launch("frame_window");

  Scratch spectrum(size_t(rows) * F * sizeof(cufftComplex));
  cufftHandle plan = plan_for(n_fft, rows);
  DUET_CHECK(cufftSetStream(plan, st) == CUFFT_SUCCESS, "stft: cufftSetStream failed");
  DUET_CHECK(cufftExecR2C(plan, frames.as<cufftReal>(), spectrum.as<cufftComplex>()) == CUFFT_SUCCESS,
             "stft: cufftExecR2C failed");

  Scratch power(size_t(rows) * F * sizeof(float));
  spectrum_power<<<grid_for(rows * F), kBlock, 0, st>>>(spectrum.as<cufftComplex>(), rows * F, c.power == 2.0,
                                                       power.as<float>());
  cuda::check_launch("spectrum_power");

  const float* projected = power.as<float>();
  Scratch mel(c.mel ? size_t(rows) * bins * sizeof(float) : 1);
  if (c.mel) {
    const float* fb = device_constants(mel_filterbank(c), "fb " + key);
    ops::gemm_cuda(false, false, rows, bins, F, 1.0f, power.as<float>(), F, fb, bins, 0.0f, mel.as<float>(), bins,
                   cuda::stream());
    projected = mel.as<float>();
  }
  const float mult = c.power == 2.0 ? 10.0f : 20.0f;
  const float ref_db = float(mult * std::log10(std::max(c.amin, c.ref)));
  to_db_transpose<<<grid_for(rows * bins), kBlock, 0, st>>>(projected, batch, T, bins, c.to_db, mult, float(c.amin),
                                                           ref_db, out);
  cuda::check_launch("to_db_transpose");
  if (c.to_db && c.top_db >= 0) {
    clip_floor<<<unsigned(batch), kBlock, 0, st>>>(out, int64_t(bins) * T, float(c.top_db));
    cuda::check_launch("clip_floor");
  }
  // The scratch buffers return to the cache when this function exits; the stream orders
  // their reuse after these kernels, so no synchronisation is needed here.
}

}  // namespace duet::dsp
