// The CPU SGEMM's implementations (engine/ops/gemm_cpu*.cpp) against a double-precision
// product computed here: every transpose, alpha/beta case, padded row strides and sizes that
// leave partial micro-tiles and span several cache blocks.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/error.h"
#include "engine/ops/gemm.h"

using namespace duet;
using ops::CpuGemm;

namespace {

struct Problem {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
};

// Runs `kernel` on random data and checks every element of C against the double product,
// within a bound on float rounding (K products and sums, relative to the magnitudes added).
void check(CpuGemm kernel, const Problem& p, bool parallel, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  // Row strides wider than the rows, so that reading past a row's end would show.
  const int64_t a_rows = p.ta ? p.K : p.M, a_cols = p.ta ? p.M : p.K, lda = a_cols + 3;
  const int64_t b_rows = p.tb ? p.N : p.K, b_cols = p.tb ? p.K : p.N, ldb = b_cols + 5;
  const int64_t ldc = p.N + 2;
  std::vector<float> A(a_rows * lda), B(b_rows * ldb), C(p.M * ldc);
  for (float& v : A) v = u(gen);
  for (float& v : B) v = u(gen);
  for (float& v : C) v = p.beta == 0 ? std::numeric_limits<float>::quiet_NaN() : u(gen);  // beta 0 overwrites
  const std::vector<float> C0 = C;
  ops::sgemm_cpu_with(kernel, parallel, p.ta, p.tb, p.M, p.N, p.K, p.alpha, A.data(), lda, B.data(), ldb, p.beta,
                      C.data(), ldc);
  int bad = 0;
  for (int64_t i = 0; i < p.M; ++i) {
    for (int64_t j = 0; j < p.N; ++j) {
      double sum = 0, magnitude = 0;
      for (int64_t k = 0; k < p.K; ++k) {
        const double a = p.ta ? A[k * lda + i] : A[i * lda + k], b = p.tb ? B[j * ldb + k] : B[k * ldb + j];
        sum += a * b;
        magnitude += std::fabs(a * b);
      }
      const double c0 = p.beta == 0 ? 0 : C0[i * ldc + j];
      const double want = p.alpha * sum + p.beta * c0;
      const double tol = 1e-6 * (p.K + 4) * (std::fabs(p.alpha) * magnitude + std::fabs(p.beta * c0)) + 1e-30;
      if (!(std::fabs(C[i * ldc + j] - want) <= tol) && bad++ < 5)
        ADD_FAILURE() << ops::cpu_gemm_name(kernel) << " ta=" << p.ta << " tb=" << p.tb << " " << p.M << "x" << p.N
                      << "x" << p.K << " alpha=" << p.alpha << " beta=" << p.beta << ": C[" << i << "," << j
                      << "] = " << C[i * ldc + j] << ", want " << want;
    }
    // The padding between rows of C is never written.
    for (int64_t j = p.N; j < ldc; ++j)
      if (!(C[i * ldc + j] == C0[i * ldc + j] || (std::isnan(C[i * ldc + j]) && std::isnan(C0[i * ldc + j]))))
        ADD_FAILURE() << ops::cpu_gemm_name(kernel) << " wrote C's padding at row " << i;
  }
}

std::vector<CpuGemm> kernels() {
  std::vector<CpuGemm> out;
  for (CpuGemm k : {CpuGemm::reference, CpuGemm::portable, CpuGemm::avx2})
    if (ops::cpu_gemm_available(k)) out.push_back(k);
  return out;
}

}  // namespace

TEST(CpuGemm, EveryKernelMatchesTheDoubleProduct) {
  // Sizes: single elements, partial micro-tiles (6-row and 8/16-column tiles), and one
  // product larger than a K block (256).
  const std::vector<std::array<int64_t, 3>> sizes = {{1, 1, 1}, {1, 17, 3}, {7, 1, 5}, {5, 9, 1},
                                                     {13, 33, 31}, {6, 16, 8}, {19, 20, 300}};
  uint32_t seed = 1;
  for (CpuGemm kernel : kernels())
    for (const auto& [M, N, K] : sizes)
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, {0.5f, 2.0f}, {-1.5f, 1.0f}})
            check(kernel, {ta, tb, M, N, K, alpha, beta}, true, seed++);
}

TEST(CpuGemm, BlocksOfEveryDimensionAreJoinedCorrectly) {
  // Larger than one block of rows (480), of columns (1024) and of K (256), with remainders.
  for (CpuGemm kernel : kernels()) {
    if (kernel == CpuGemm::reference) continue;
    check(kernel, {false, false, 485, 1030, 520, 1.0f, 0.0f}, true, 7);
    check(kernel, {true, true, 490, 1050, 260, 0.75f, 0.5f}, true, 8);
  }
}

TEST(CpuGemm, ResultDoesNotDependOnTheThreads) {
  // The same product spread over OpenMP threads and on one thread: bit for bit the same.
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-1, 1);
  const int64_t M = 300, N = 700, K = 600;
  std::vector<float> A(M * K), B(N * K);
  for (float& v : A) v = u(gen);
  for (float& v : B) v = u(gen);
  for (CpuGemm kernel : kernels()) {
    std::vector<float> threads(M * N, 1.0f), one(M * N, 1.0f);
    ops::sgemm_cpu_with(kernel, true, false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 1.0f, threads.data(), N);
    ops::sgemm_cpu_with(kernel, false, false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 1.0f, one.data(), N);
    EXPECT_EQ(threads, one) << ops::cpu_gemm_name(kernel);
  }
}

TEST(CpuGemm, EmptyProductsAndBadSizes) {
  for (CpuGemm kernel : kernels()) {
    std::vector<float> C = {1, 2, 3, 4};
    // K = 0: C = beta * C.
    ops::sgemm_cpu_with(kernel, true, false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.5f, C.data(), 2);
    EXPECT_EQ(C, (std::vector<float>{0.5f, 1, 1.5f, 2})) << ops::cpu_gemm_name(kernel);
    // M = 0 or N = 0: nothing to do, nothing read.
    ops::sgemm_cpu_with(kernel, true, false, false, 0, 2, 3, 1.0f, nullptr, 3, nullptr, 2, 0.0f, nullptr, 2);
    ops::sgemm_cpu_with(kernel, true, false, false, 2, 0, 3, 1.0f, nullptr, 3, nullptr, 0, 0.0f, nullptr, 0);
    EXPECT_THROW(ops::sgemm_cpu_with(kernel, true, false, false, -1, 2, 3, 1.0f, nullptr, 3, nullptr, 2, 0.0f,
                                     nullptr, 2),
                 Error);
  }
  // The default is the AVX2 copy exactly when the CPU can run it.
  EXPECT_EQ(ops::cpu_gemm_default() == CpuGemm::avx2, ops::cpu_gemm_available(CpuGemm::avx2));
}

TEST(CpuGemm, TheEnvironmentChoosesTheKernel) {
  EXPECT_EQ(ops::parse_cpu_gemm("reference"), CpuGemm::reference);
  EXPECT_EQ(ops::parse_cpu_gemm("portable"), CpuGemm::portable);
  EXPECT_EQ(ops::parse_cpu_gemm(nullptr), ops::cpu_gemm_available(CpuGemm::avx2) ? CpuGemm::avx2 : CpuGemm::portable);
  EXPECT_EQ(ops::parse_cpu_gemm(""), ops::parse_cpu_gemm(nullptr));
  if (ops::cpu_gemm_available(CpuGemm::avx2)) EXPECT_EQ(ops::parse_cpu_gemm("avx2"), CpuGemm::avx2);
  else EXPECT_THROW(ops::parse_cpu_gemm("avx2"), Error);
  for (const char* bad : {"fast", "AVX2", "blas"}) {
    try {
      ops::parse_cpu_gemm(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("DUET_CPU_GEMM expects reference, portable or avx2"), std::string::npos)
          << e.what();
    }
  }
}
