// duet's CPU SGEMM implementations (engine/ops/gemm.h: the reference loops, the blocked GEMM
// with portable vectors and with AVX2+FMA) against OpenBLAS, where it was found at build time,
// on the products duet's CPU training makes. Rows are named IMPL/SHAPE; "GFLOP/s" counts
// 2*M*N*K per call. Every benchmark first checks its result against the reference loops.
//
// A convolution multiplies one picture's im2col matrix inside a loop over the batch that
// OpenMP already spreads over the cores, so its products ("1 thread" shapes) run on one core;
// linear layers multiply the whole batch at once, spread over every core ("all threads").
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/ops/gemm.h"
#include "engine/rng.h"

#ifdef DUET_HAVE_OPENBLAS
#include <cblas.h>
#endif

using namespace duet;
using ops::CpuGemm;

namespace {

struct GemmShape {
  const char* label;
  bool trans_a, trans_b;
  int64_t M, N, K;
  bool all_threads;  // false: one core (the convolutions' per-picture products)
};

// The products of one training step (row-major C[M,N] = op(A)[M,K] op(B)[K,N]).
const GemmShape kShapes[] = {
    // image:duet conv2 (32->64 channels, 3x3, 24x24 outputs), one picture: forward, the
    // input gradient (W^T dY) and the weight gradient (dY col^T).
    {"conv_mnist2_fwd", false, false, 64, 576, 288, false},
    {"conv_mnist2_bwd_data", true, false, 288, 576, 64, false},
    {"conv_mnist2_bwd_weight", false, true, 64, 288, 576, false},
    // audio:duet block 2 (16->32 channels, 3x3) on a 32x63 map, one clip, forward.
    {"conv_audio2_fwd", false, false, 32, 2016, 144, false},
    // image:duet fc1 (9216 -> 128), batch 64: forward, input gradient, weight gradient.
    {"linear_mnist_fc1_b64_fwd", false, true, 64, 128, 9216, true},
    {"linear_mnist_fc1_b64_bwd_data", false, false, 64, 9216, 128, true},
    {"linear_mnist_fc1_b64_bwd_weight", true, false, 128, 9216, 64, true},
    {"square_512", false, false, 512, 512, 512, true},
    {"square_1024", false, false, 1024, 1024, 1024, true},
};

std::vector<float> random_matrix(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = float(rng.uniform(-1, 1));
  return v;
}

// impl: a duet implementation, or -1 for OpenBLAS.
void run_gemm(int impl, const GemmShape& s, const float* A, const float* B, float* C, int threads) {
  const int64_t lda = s.trans_a ? s.M : s.K, ldb = s.trans_b ? s.K : s.N;
#ifdef DUET_HAVE_OPENBLAS
  if (impl < 0) {
    openblas_set_num_threads(threads);
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans,
                int(s.M), int(s.N), int(s.K), 1.0f, A, int(lda), B, int(ldb), 0.0f, C, int(s.N));
    return;
  }
#endif
  omp_set_num_threads(threads);
  ops::sgemm_cpu_with(CpuGemm(impl), threads > 1, s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, A, lda, B, ldb, 0.0f, C,
                      s.N);
}

void BM_CpuGemm(benchmark::State& state, int impl, GemmShape s) {
  const int threads = s.all_threads ? omp_get_num_procs() : 1;
  const std::vector<float> A = random_matrix(s.M * s.K, 1), B = random_matrix(s.K * s.N, 2);
  std::vector<float> C(size_t(s.M * s.N)), ref(C.size());
  run_gemm(int(CpuGemm::reference), s, A.data(), B.data(), ref.data(), 1);
  run_gemm(impl, s, A.data(), B.data(), C.data(), threads);
  double worst = 0, scale = 1e-6;
  for (float r : ref) scale = std::max(scale, double(std::abs(r)));
  for (size_t i = 0; i < C.size(); ++i) worst = std::max(worst, std::abs(double(C[i]) - ref[i]) / scale);
  state.counters["max_rel_err"] = worst;
  if (worst > 1e-4) {
    state.SkipWithError("result differs from the reference loops");
    return;
  }
  for (auto _ : state) {
    run_gemm(impl, s, A.data(), B.data(), C.data(), threads);
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = threads;
  const double gflop = 2.0 * double(s.M) * double(s.N) * double(s.K) / 1e9;
  state.counters["GFLOP/s"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
}

int register_all() {
  std::vector<std::pair<std::string, int>> impls = {{"reference", int(CpuGemm::reference)},
                                                    {"portable", int(CpuGemm::portable)}};
  if (ops::cpu_gemm_available(CpuGemm::avx2)) impls.emplace_back("avx2", int(CpuGemm::avx2));
#ifdef DUET_HAVE_OPENBLAS
  impls.emplace_back("openblas", -1);
#endif
  for (const GemmShape& s : kShapes)
    for (const auto& [name, impl] : impls)
      benchmark::RegisterBenchmark((name + "/" + s.label).c_str(), BM_CpuGemm, impl, s)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
