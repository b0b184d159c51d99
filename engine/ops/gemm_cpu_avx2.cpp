// The blocked CPU SGEMM built with AVX2 and FMA (CMakeLists.txt adds -mavx2 -mfma to this file
// alone); gemm_cpu.cpp calls it only on a CPU that has both. Micro-tile: 6 rows x 16 columns,
// 12 of the 16 vector registers.
#define DUET_GEMM_NS avx2
#define DUET_GEMM_VEC 8
#define DUET_GEMM_MR 6
#define DUET_GEMM_NV 2
#include "engine/ops/gemm_cpu_blocked.h"
