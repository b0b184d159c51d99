// CPU GEMM: loop orders chosen so the innermost loop walks contiguous memory and
// vectorises; rows of C are spread over OpenMP threads when the product is large.
#include <omp.h>

#include <string>

#include "engine/error.h"
#include "engine/ops/gemm.h"

namespace duet::ops {

bool parse_gemm_pipeline(const char* value) {
  if (value == nullptr || std::string(value) == "1") return true;
  if (std::string(value) == "0") return false;
  fail("environment variable DUET_GEMM_PIPELINE expects 0 (single-buffered GEMM) or 1 (double-buffered), got '",
       value, "'");
}

template <class T>
void gemm_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
              const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const bool parallel = M * N * K > (1 << 16) && !omp_in_parallel() && M > 1;
#pragma omp parallel for schedule(static) if (parallel)
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

template void gemm_cpu<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                              const float*, int64_t, float, float*, int64_t);
template void gemm_cpu<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                               const double*, int64_t, double, double*, int64_t);

}  // namespace duet::ops
