// General matrix multiply, row-major: C = alpha * op(A) * op(B) + beta * C.
//   op(A) is M x K, op(B) is K x N, C is M x N; lda/ldb/ldc are row strides.
// Linear layers and convolution (through im2col) are built on it.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// Tiled SGEMM (kernels/gemm.cu); same contract, float32, on `stream`.
void gemm_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, Stream stream);

// The value of the environment variable DUET_GEMM_PIPELINE (nullptr when unset): whether
// gemm_cuda and the implicit-GEMM convolutions run the double-buffered main loop (unset or
// "1") or the single-buffered one ("0", for comparison); anything else throws, naming the
// variable. kernels/gemm_tile.cuh reads it once per process.
bool parse_gemm_pipeline(const char* value);

}  // namespace duet::ops
