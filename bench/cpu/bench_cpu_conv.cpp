// duet's CPU convolution (engine/ops/conv2d_cpu.cpp: im2col + GEMM, pictures spread over the
// OpenMP threads) on the layers of one audio:duet and one image:duet training step, batch 32:
// the forward, the input gradient and the weight gradient (with the bias gradient), each on
// every core. Rows are named PASS/LAYER; "GFLOP/s" counts the convolution's 2*N*K*C*R*S*P*Q
// multiply-adds per call (the im2col copies and the padding are not counted). Every row first
// checks its result against a direct loop over the formula in engine/ops/conv2d.h.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/ops/conv2d.h"
#include "engine/rng.h"

using namespace duet;
using ops::Conv2dShape;

namespace {

struct ConvLayer {
  const char* label;
  Conv2dShape shape;
};

// audio:duet's four 3x3 blocks on a 64-mel x 126-frame clip (16, 32, 64, 64 channels, each
// block's map halved by the pool after it) and image:duet's two 3x3 convolutions.
const ConvLayer kLayers[] = {
    {"audio_conv1", {32, 1, 64, 126, 16, 3, 3, 1, 1, 1, 1}},
    {"audio_conv2", {32, 16, 32, 63, 32, 3, 3, 1, 1, 1, 1}},
    {"audio_conv3", {32, 32, 16, 31, 64, 3, 3, 1, 1, 1, 1}},
    {"audio_conv4", {32, 64, 8, 15, 64, 3, 3, 1, 1, 1, 1}},
    {"image_conv1", {32, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0}},
    {"image_conv2", {32, 32, 26, 26, 64, 3, 3, 1, 1, 0, 0}},
};

enum class Pass { forward, backward_data, backward_weight };

std::vector<float> random_values(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = float(rng.uniform(-1, 1));
  return v;
}

int64_t input_index(const Conv2dShape& s, int64_t n, int64_t c, int64_t h, int64_t w) {
  return ((n * s.C + c) * s.H + h) * s.W + w;
}

// The formula, one multiply-add at a time, in double: y (forward), dx or dw and db.
void direct(Pass pass, const Conv2dShape& s, const std::vector<float>& x, const std::vector<float>& w,
            const std::vector<float>& dy, std::vector<double>& out, std::vector<double>& db) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          const int64_t yi = ((n * s.K + k) * P + p) * Q + q;
          if (pass == Pass::backward_weight) db[size_t(k)] += dy[size_t(yi)];
          for (int64_t c = 0; c < s.C; ++c)
            for (int64_t r = 0; r < s.R; ++r)
              for (int64_t t = 0; t < s.S; ++t) {
                const int64_t h = p * s.stride_h - s.pad_h + r, col = q * s.stride_w - s.pad_w + t;
                if (h < 0 || h >= s.H || col < 0 || col >= s.W) continue;
                const int64_t xi = input_index(s, n, c, h, col), wi = ((k * s.C + c) * s.R + r) * s.S + t;
                if (pass == Pass::forward)
                  out[size_t(yi)] += double(w[size_t(wi)]) * x[size_t(xi)];
                else if (pass == Pass::backward_data)
                  out[size_t(xi)] += double(w[size_t(wi)]) * dy[size_t(yi)];
                else
                  out[size_t(wi)] += double(dy[size_t(yi)]) * x[size_t(xi)];
              }
        }
}

void run(Pass pass, const Conv2dShape& s, const std::vector<float>& x, const std::vector<float>& w,
         const std::vector<float>& dy, std::vector<float>& out, std::vector<float>& db) {
  // The backward passes accumulate, as the engine's gradients do; each call starts from zero.
  std::fill(out.begin(), out.end(), 0.0f);
  std::fill(db.begin(), db.end(), 0.0f);
  if (pass == Pass::forward)
    ops::conv2d_forward_cpu<float>(s, x.data(), w.data(), nullptr, out.data());
  else if (pass == Pass::backward_data)
    ops::conv2d_backward_data_cpu<float>(s, dy.data(), w.data(), out.data());
  else
    ops::conv2d_backward_weight_cpu<float>(s, dy.data(), x.data(), out.data(), db.data());
}

void BM_CpuConv(benchmark::State& state, Pass pass, ConvLayer layer) {
  const Conv2dShape& s = layer.shape;
  omp_set_num_threads(omp_get_num_procs());
  const std::vector<float> x = random_values(s.N * s.C * s.H * s.W, 1), w = random_values(s.K * s.C * s.R * s.S, 2),
                           dy = random_values(s.N * s.K * s.P() * s.Q(), 3);
  const size_t out_size = size_t(pass == Pass::forward ? dy.size() : pass == Pass::backward_data ? x.size() : w.size());
  std::vector<float> out(out_size), db(size_t(s.K));
  std::vector<double> ref(out_size, 0.0), ref_db(size_t(s.K), 0.0);
  direct(pass, s, x, w, dy, ref, ref_db);
  run(pass, s, x, w, dy, out, db);
  double worst = 0, scale = 1e-6;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  for (size_t i = 0; i < out.size(); ++i) worst = std::max(worst, std::abs(out[i] - ref[i]) / scale);
  if (pass == Pass::backward_weight)
    for (size_t k = 0; k < db.size(); ++k) worst = std::max(worst, std::abs(db[k] - ref_db[k]) / scale);
  state.counters["max_rel_err"] = worst;
  if (worst > 1e-4) {
    state.SkipWithError("result differs from the direct loops");
    return;
  }
  for (auto _ : state) {
    run(pass, s, x, w, dy, out, db);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = omp_get_max_threads();
  const double gflop = 2.0 * double(s.N * s.K * s.C * s.R * s.S * s.P() * s.Q()) / 1e9;
  state.counters["GFLOP/s"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
}

int register_all() {
  const std::pair<const char*, Pass> passes[] = {
      {"forward", Pass::forward}, {"backward_data", Pass::backward_data}, {"backward_weight", Pass::backward_weight}};
  for (const ConvLayer& layer : kLayers)
    for (const auto& [name, pass] : passes)
      benchmark::RegisterBenchmark((std::string(name) + "/" + layer.label).c_str(), BM_CpuConv, pass, layer)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
