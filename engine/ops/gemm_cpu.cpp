// CPU GEMM. float products of any size go through the blocked GEMM of gemm_cpu_blocked.h
// (packed panels and a register-tiled micro-kernel; the AVX2+FMA copy on a CPU that has them).
// double products (references, statistics) and tiny float ones use the reference loops:
// loop orders chosen so the innermost loop walks contiguous memory and vectorises, rows of C
// spread over OpenMP threads when the product is large.
#include <omp.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/ops/gemm.h"

#define DUET_GEMM_NS portable
#define DUET_GEMM_VEC 4
#define DUET_GEMM_MR 6
#define DUET_GEMM_NV 2
#include "engine/ops/gemm_cpu_blocked.h"
#undef DUET_GEMM_NS
#undef DUET_GEMM_VEC
#undef DUET_GEMM_MR
#undef DUET_GEMM_NV

#if DUET_HAVE_AVX2_GEMM
namespace duet::ops::avx2 {
void sgemm_blocked(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc, float* a_buf, float* b_buf,
                   int64_t MC, int64_t NC, int64_t KC, bool parallel);
}  // namespace duet::ops::avx2
#endif

namespace duet::ops {

bool parse_gemm_pipeline(const char* value) {
  if (value == nullptr || std::string(value) == "1") return true;
  if (std::string(value) == "0") return false;
  fail("environment variable DUET_GEMM_PIPELINE expects 0 (single-buffered GEMM) or 1 (double-buffered), got '",
       value, "'");
}

namespace {

// Block sizes of the blocked GEMM: a KC x NC block of op(B) (1 MiB) and an MC x KC block of
// op(A) (480 KiB) packed at a time; MC and NC are multiples of every micro-tile's size.
constexpr int64_t kMC = 480, kNC = 1024, kKC = 256;

// Float products smaller than this (M*N*K) skip the packing.
constexpr int64_t kBlockedMin = 4096;

bool cpu_has_avx2_fma() {
#if DUET_HAVE_AVX2_GEMM
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

template <class T>
void gemm_reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                    int64_t ldb, T beta, T* C, int64_t ldc, bool parallel) {
  const bool threads = parallel && M * N * K > (1 << 16) && !omp_in_parallel() && M > 1;
#pragma omp parallel for schedule(static) if (threads)
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0)) {
      for (int64_t j = 0; j < N; ++j) c[j] = T(0);
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    if (!tb) {
      // C[i,:] += sum_k alpha*A(i,k) * B[k,:]   (B rows contiguous)
      for (int64_t k = 0; k < K; ++k) {
        const T a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);
        if (a == T(0)) continue;
        const T* b = B + k * ldb;
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
      }
    } else {
      // C[i,j] += alpha * dot(A(i,:), B[j,:])   (B^T: rows of B are columns of op(B))
      for (int64_t j = 0; j < N; ++j) {
        const T* b = B + j * ldb;
        T acc = T(0);
        if (!ta) {
          const T* a = A + i * lda;
#pragma omp simd reduction(+ : acc)
          for (int64_t k = 0; k < K; ++k) acc += a[k] * b[k];
        } else {
          for (int64_t k = 0; k < K; ++k) acc += A[k * lda + i] * b[k];
        }
        c[j] += alpha * acc;
      }
    }
  }
}

}  // namespace

bool cpu_gemm_available(CpuGemm kernel) { return kernel != CpuGemm::avx2 || cpu_has_avx2_fma(); }

CpuGemm parse_cpu_gemm(const char* value) {
  const std::string v = value ? value : "";
  if (v.empty()) return cpu_has_avx2_fma() ? CpuGemm::avx2 : CpuGemm::portable;
  if (v == "reference") return CpuGemm::reference;
  if (v == "portable") return CpuGemm::portable;
  if (v == "avx2") {
    DUET_CHECK(cpu_has_avx2_fma(), "environment variable DUET_CPU_GEMM=avx2: this CPU (or this build) has no AVX2+FMA; ",
               "use portable or reference");
    return CpuGemm::avx2;
  }
  fail("environment variable DUET_CPU_GEMM expects reference, portable or avx2 (unset: the fastest this CPU runs), got '",
       v, "'");
}

CpuGemm cpu_gemm_default() {
  static const CpuGemm kernel = parse_cpu_gemm(std::getenv("DUET_CPU_GEMM"));
  return kernel;
}

const char* cpu_gemm_name(CpuGemm kernel) {
  switch (kernel) {
    case CpuGemm::reference: return "reference loops";
    case CpuGemm::portable: return "blocked, 6x8 micro-tile (portable vectors)";
    case CpuGemm::avx2: return "blocked, 6x16 micro-tile (AVX2+FMA)";
  }
  return "?";
}

void sgemm_cpu_with(CpuGemm kernel, bool parallel, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  DUET_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: negative size ", M, "x", N, "x", K);
  DUET_CHECK(cpu_gemm_available(kernel), "gemm: the ", cpu_gemm_name(kernel), " kernel needs a CPU with AVX2 and FMA");
  if (M == 0 || N == 0) return;
  if (kernel == CpuGemm::reference || K == 0) {  // K == 0: C = beta * C, which the reference loops do
    gemm_reference<float>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, parallel);
    return;
  }
  // Each calling thread packs into its own buffers (the convolutions call this from inside
  // their own parallel loop over samples).
  thread_local std::vector<float> a_buf(kMC * kKC), b_buf(kKC * kNC);
  const bool threads = parallel && !omp_in_parallel() && M * N * K > (1 << 16);
  if (kernel == CpuGemm::avx2) {
#if DUET_HAVE_AVX2_GEMM
    avx2::sgemm_blocked(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, a_buf.data(), b_buf.data(), kMC, kNC,
                        kKC, threads);
#endif
  } else {
    portable::sgemm_blocked(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, a_buf.data(), b_buf.data(), kMC,
                            kNC, kKC, threads);
  }
}

template <>
void gemm_cpu<float>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemm_cpu_with(M * N * K < kBlockedMin ? CpuGemm::reference : cpu_gemm_default(), true, ta, tb, M, N, K, alpha, A,
                 lda, B, ldb, beta, C, ldc);
}

template <>
void gemm_cpu<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                      const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_reference<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, true);
}

}  // namespace duet::ops
