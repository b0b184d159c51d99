// General matrix multiply, row-major: C = alpha * op(A) * op(B) + beta * C.
//   op(A) is M x K, op(B) is K x N, C is M x N; lda/ldb/ldc are row strides.
// Linear layers and convolution (through im2col) are built on it.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

// float: the blocked GEMM (packed panels, register-tiled micro-kernel; AVX2+FMA where the CPU
// has them), spread over OpenMP threads unless called from inside a parallel region; double:
// the reference loops. Each element of C is summed in an order that does not depend on the
// number of threads.
template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// The CPU SGEMM's implementations, for tests and benchmarks: the reference loops, the blocked
// GEMM with portable 4-float vectors, and the blocked GEMM built for AVX2+FMA.
enum class CpuGemm { reference, portable, avx2 };
bool cpu_gemm_available(CpuGemm kernel);  // avx2: the CPU has AVX2 and FMA, and duet was built with it
// What gemm_cpu<float> uses for all but tiny products: the environment variable DUET_CPU_GEMM
// (reference, portable or avx2; read once per process) or, unset, avx2 where the CPU has it and
// portable elsewhere. parse_cpu_gemm reads such a value (nullptr: unset); a wrong one throws,
// naming the variable.
CpuGemm cpu_gemm_default();
CpuGemm parse_cpu_gemm(const char* value);
const char* cpu_gemm_name(CpuGemm kernel);
// gemm_cpu<float> with the given implementation; `parallel` false keeps it on the calling thread.
void sgemm_cpu_with(CpuGemm kernel, bool parallel, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                    float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc);

// Tiled SGEMM (kernels/gemm.cu); same contract, float32, on `stream`.
void gemm_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, Stream stream);

// The value of the environment variable DUET_GEMM_PIPELINE (nullptr when unset): whether
// gemm_cuda and the implicit-GEMM convolutions run the double-buffered main loop (unset or
// "1") or the single-buffered one ("0", for comparison); anything else throws, naming the
// variable. kernels/gemm_tile.cuh reads it once per process.
bool parse_gemm_pipeline(const char* value);

}  // namespace duet::ops
