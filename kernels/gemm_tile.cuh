// The one tiled matrix-multiply kernel behind SGEMM and the implicit-GEMM convolutions.
//
// C[m, n] = sum_k A(m, k) * B(k, n), where A, B and the store of C are small functor
// types ("operands") instead of plain pointers. A plain row-major matrix is one such
// operand; an image seen through a convolution window (im2col, never materialised) is
// another. The kernel itself is the classic shared-memory SGEMM:
//   1. the block's 256 threads copy a BM x BK slice of A and a BK x BN slice of B into
//      shared memory (A stored transposed, As[k][m], so the inner loop reads it along m);
//   2. each thread multiplies its own register tile of (GM*4) x (GN*4) outputs, read from
//      shared memory as float4 groups, 4 rows (or columns) apart by BM/GM (BN/GN), so a
//      warp's 128-bit shared loads never hit the same bank twice;
//   3. after its last slice the tile goes to the store functor (alpha/beta, bias, ReLU,
//      accumulate, or atomicAdd when K is split across blocks).
// Split-K: blockIdx.z picks a range of k (k_per_split long); the store must then add its
// partial sum atomically.
//
// Operand interface (see the plain matrices below and kernels/conv2d.cu):
//   A: static constexpr bool k_fast;   // consecutive threads load consecutive k (else m)
//      struct Row; Row row(int m) const;   // per-row context, computed once per thread
//      float at(const Row&, int k) const;  // A(m, k), called with m < M and k < K only
//   B: static constexpr bool n_fast;   // consecutive threads load consecutive n (else k)
//      struct Col; Col col(int n) const; float at(const Col&, int k) const;
//   Store: void operator()(int m, int n, float acc) const;   // m < M, n < N
// A thread's j-th copy touches the same row (column) in every slice, so each thread
// computes its rows' and columns' contexts once, before the first slice.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/common.cuh"

namespace duet::kernels {

constexpr int kTileBK = 8;
// Shared-memory rows are padded by 4 floats: a warp that stores a k-fast operand writes 8
// k-rows of 4 columns, and with rows BM (a multiple of 32) floats long those 32 stores would
// land in 4 banks (8-way conflict); 4 floats of padding spread them over all 32 banks and keep
// every row 16-byte aligned for the float4 reads.
constexpr int kTilePad = 4;

// Blocks per SM the compiler must make room for (__launch_bounds__'s second argument, i.e. a
// register budget of 65536 / (256 * blocks) per thread). An operand may ask for more than 1
// with `static constexpr int min_blocks_per_sm`; a kernel gets the smaller of its two
// operands' numbers. Plain matrices ask for 2 (two 128x128 blocks per SM in at most 128
// registers, a few bytes of spill at worst); the convolution views keep 1, since their index
// contexts would spill tens of bytes inside the main loop at 128 registers.
template <class Op, class = void>
struct MinBlocks {
  static constexpr int value = 1;
};
template <class Op>
struct MinBlocks<Op, std::void_t<decltype(Op::min_blocks_per_sm)>> {
  static constexpr int value = Op::min_blocks_per_sm;
};
template <class AOp, class BOp>
constexpr int kMinBlocks = std::min(MinBlocks<AOp>::value, MinBlocks<BOp>::value);

// TM x (256/TM) threads; tile BM x BN = (TM*4*GM) x ((256/TM)*4*GN).
// PIPELINED: two shared buffers. While the block multiplies slice i out of one buffer, each
// thread's loads of slice i+1 are already in flight into registers; they are written to the
// other buffer after the multiply, so global latency hides behind arithmetic and each slice
// needs one __syncthreads instead of two. Without it: load, sync, multiply, sync.
template <int TM, int GM, int GN, bool PIPELINED, class AOp, class BOp, class StoreOp>
__global__ void __launch_bounds__(256, (kMinBlocks<AOp, BOp>))
    tiled_gemm(int M, int N, int K, int k_per_split, AOp a, BOp b, StoreOp store) {
  constexpr int TN = 256 / TM;
  constexpr int BM = TM * 4 * GM, BN = TN * 4 * GN, BK = kTileBK;
  constexpr int STAGES = PIPELINED ? 2 : 1;
  // Elements each thread copies per slice (a 16-row tile has fewer elements than threads).
  constexpr int LA = (BM * BK + 255) / 256, LB = (BN * BK + 255) / 256;
  __shared__ __align__(16) float As[STAGES][BK][BM + kTilePad];
  __shared__ __align__(16) float Bs[STAGES][BK][BN + kTilePad];
  const int tid = threadIdx.x;
  const int tr = tid / TN, tc = tid % TN;
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  const int kbeg = blockIdx.z * k_per_split, kend = min(K, kbeg + k_per_split);

  // The (m, k) and (n, k) offsets of this thread's copies, and their row/column contexts.
  int am[LA], ak[LA], bn[LB], bk[LB];
  typename AOp::Row arow[LA];
  typename BOp::Col bcol[LB];
#pragma unroll
  for (int j = 0; j < LA; ++j) {
    const int i = tid + 256 * j;
    am[j] = AOp::k_fast ? i / BK : i % BM;
    ak[j] = AOp::k_fast ? i % BK : i / BM;
    arow[j] = a.row(min(row0 + am[j], M - 1));
  }
#pragma unroll
  for (int j = 0; j < LB; ++j) {
    const int i = tid + 256 * j;
    bn[j] = BOp::n_fast ? i % BN : i / BK;
    bk[j] = BOp::n_fast ? i / BN : i % BK;
    bcol[j] = b.col(min(col0 + bn[j], N - 1));
  }
  // A thread's copies beyond the tile (only when the tile has fewer elements than threads).
  auto a_idle = [&](int j) { return BM * BK % 256 != 0 && tid + 256 * j >= BM * BK; };
  auto b_idle = [&](int j) { return BN * BK % 256 != 0 && tid + 256 * j >= BN * BK; };

  // Global -> registers for the slice starting at k0 (zeros outside the matrix) ...
  float ra[LA], rb[LB];
  auto fetch = [&](int k0) {
#pragma unroll
    for (int j = 0; j < LA; ++j) {
      const int gm = row0 + am[j], gk = k0 + ak[j];
      ra[j] = (!a_idle(j) && gm < M && gk < kend) ? a.at(arow[j], gk) : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < LB; ++j) {
      const int gn = col0 + bn[j], gk = k0 + bk[j];
      rb[j] = (!b_idle(j) && gn < N && gk < kend) ? b.at(bcol[j], gk) : 0.0f;
    }
  };
  // ... and registers -> shared buffer s.
  auto stash = [&](int s) {
#pragma unroll
    for (int j = 0; j < LA; ++j)
      if (!a_idle(j)) As[s][ak[j]][am[j]] = ra[j];
#pragma unroll
    for (int j = 0; j < LB; ++j)
      if (!b_idle(j)) Bs[s][bk[j]][bn[j]] = rb[j];
  };

  float acc[GM * 4][GN * 4];
#pragma unroll
  for (int i = 0; i < GM * 4; ++i)
#pragma unroll
    for (int j = 0; j < GN * 4; ++j) acc[i][j] = 0.0f;

  // acc += the slice in shared buffer s.
  auto multiply = [&](int s) {
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float av[GM * 4], bv[GN * 4];
#pragma unroll
      for (int g = 0; g < GM; ++g) {
        const float4 v = *reinterpret_cast<const float4*>(&As[s][k][g * (BM / GM) + tr * 4]);
        av[g * 4 + 0] = v.x, av[g * 4 + 1] = v.y, av[g * 4 + 2] = v.z, av[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int g = 0; g < GN; ++g) {
        const float4 v = *reinterpret_cast<const float4*>(&Bs[s][k][g * (BN / GN) + tc * 4]);
        bv[g * 4 + 0] = v.x, bv[g * 4 + 1] = v.y, bv[g * 4 + 2] = v.z, bv[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < GM * 4; ++i)
#pragma unroll
        for (int j = 0; j < GN * 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
  };

  if constexpr (PIPELINED) {
    // Buffer s holds the slice being multiplied; the one barrier per slice both publishes the
    // next slice and tells every thread that the buffer it will overwrite next is free.
    if (kbeg < kend) {
      fetch(kbeg);
      stash(0);
    }
    __syncthreads();
    int s = 0;
    for (int k0 = kbeg; k0 < kend; k0 += BK) {
      const bool more = k0 + BK < kend;
      if (more) fetch(k0 + BK);
      multiply(s);
      if (more) stash(s ^ 1);
      __syncthreads();
      s ^= 1;
    }
  } else {
    for (int k0 = kbeg; k0 < kend; k0 += BK) {
      fetch(k0);
      stash(0);
      __syncthreads();
      multiply(0);
      __syncthreads();
    }
  }

#pragma unroll
  for (int i = 0; i < GM * 4; ++i) {
    const int gm = row0 + (i / 4) * (BM / GM) + tr * 4 + (i % 4);
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < GN * 4; ++j) {
      const int gn = col0 + (j / 4) * (BN / GN) + tc * 4 + (j % 4);
      if (gn < N) store(gm, gn, acc[i][j]);
    }
  }
}

// ---- plain row-major matrices -----------------------------------------------------------

// op(A)(m, k) = trans ? A[k * ld + m] : A[m * ld + k]
template <bool TRANS>
struct MatrixA {
  static constexpr bool k_fast = !TRANS;
  static constexpr int min_blocks_per_sm = 2;
  const float* __restrict__ p;
  int64_t ld;
  using Row = const float*;
  __device__ Row row(int m) const { return TRANS ? p + m : p + int64_t(m) * ld; }
  __device__ float at(Row r, int k) const { return TRANS ? r[int64_t(k) * ld] : r[k]; }
};

// op(B)(k, n) = trans ? B[n * ld + k] : B[k * ld + n]
template <bool TRANS>
struct MatrixB {
  static constexpr bool n_fast = !TRANS;
  static constexpr int min_blocks_per_sm = 2;
  const float* __restrict__ p;
  int64_t ld;
  using Col = const float*;
  __device__ Col col(int n) const { return TRANS ? p + int64_t(n) * ld : p + n; }
  __device__ float at(Col c, int k) const { return TRANS ? c[k] : c[int64_t(k) * ld]; }
};

// C = alpha * acc + beta * C; with `atomic` (split K) C was scaled by beta beforehand and
// every block adds alpha * (its partial sum).
struct MatrixStore {
  float* __restrict__ c;
  int64_t ld;
  float alpha, beta;
  bool atomic;
  __device__ void operator()(int m, int n, float acc) const {
    float* dst = c + int64_t(m) * ld + n;
    if (atomic) atomicAdd(dst, alpha * acc);
    else *dst = beta == 0.0f ? alpha * acc : alpha * acc + beta * *dst;
  }
};

// ---- launch helpers ------------------------------------------------------------------------

enum class Tile { t16x256, t32x128, t64x64, t128x128 };
inline Tile tile_for(int64_t M, int64_t N) {
  if (M <= 16 && N >= 128) return Tile::t16x256;
  if (M <= 32 && N >= 128) return Tile::t32x128;
  if (M * N >= 512LL * 512) return Tile::t128x128;
  return Tile::t64x64;
}
inline int64_t tile_blocks(int64_t M, int64_t N) {
  const Tile t = tile_for(M, N);
  const int64_t bm = t == Tile::t16x256 ? 16 : t == Tile::t32x128 ? 32 : t == Tile::t64x64 ? 64 : 128;
  const int64_t bn = t == Tile::t16x256 ? 256 : t == Tile::t32x128 ? 128 : t == Tile::t64x64 ? 64 : 128;
  return ((M + bm - 1) / bm) * ((N + bn - 1) / bn);
}

// How many k-ranges to split a GEMM into so that small outputs with a long k still give
// every SM some blocks: about 4 blocks per SM, each at least `min_k` long.
int split_k_for(int64_t blocks, int64_t K, int64_t min_k = 256);

// Which main loop launch_tiled_gemm uses: the double-buffered one unless the environment
// variable DUET_GEMM_PIPELINE is 0 (engine/ops/gemm.h, parse_gemm_pipeline). Read once per
// process; tools/gpu_check.sh runs the GPU tests and the benchmarks with both.
bool gemm_pipelined();

template <bool PIPELINED, class AOp, class BOp, class StoreOp>
void launch_tiled_gemm_as(int64_t M, int64_t N, int64_t K, int64_t k_per_split, unsigned z, const AOp& a, const BOp& b,
                          const StoreOp& store, cudaStream_t stream) {
  const int m = int(M), n = int(N), k = int(K), kps = int(k_per_split);
  auto grid = [&](int bm, int bn) { return dim3(unsigned((N + bn - 1) / bn), unsigned((M + bm - 1) / bm), z); };
  switch (tile_for(M, N)) {
    case Tile::t16x256:  // few rows (a layer with <= 16 output channels): 16 x 256 tiles
      tiled_gemm<4, 1, 1, PIPELINED><<<grid(16, 256), 256, 0, stream>>>(m, n, k, kps, a, b, store);
      break;
    case Tile::t32x128:
      tiled_gemm<8, 1, 1, PIPELINED><<<grid(32, 128), 256, 0, stream>>>(m, n, k, kps, a, b, store);
      break;
    case Tile::t128x128:  // large outputs
      tiled_gemm<16, 2, 2, PIPELINED><<<grid(128, 128), 256, 0, stream>>>(m, n, k, kps, a, b, store);
      break;
    case Tile::t64x64:  // the rest: small enough tiles that every SM gets blocks
      tiled_gemm<16, 1, 1, PIPELINED><<<grid(64, 64), 256, 0, stream>>>(m, n, k, kps, a, b, store);
      break;
  }
}

template <class AOp, class BOp, class StoreOp>
void launch_tiled_gemm(int64_t M, int64_t N, int64_t K, int splits, const AOp& a, const BOp& b, const StoreOp& store,
                       cudaStream_t stream, const char* what) {
  DUET_CHECK(M < (1LL << 31) && N < (1LL << 31) && K < (1LL << 31), what, ": size too large for 32-bit indexing");
  if (M == 0 || N == 0) return;
  const int64_t k_per_split = splits > 1 ? (((K + splits - 1) / splits + kTileBK - 1) / kTileBK) * kTileBK : K;
  const unsigned z = unsigned(k_per_split > 0 ? (K + k_per_split - 1) / k_per_split : 1);
  if (gemm_pipelined())
    launch_tiled_gemm_as<true>(M, N, K, k_per_split, z, a, b, store, stream);
  else
    launch_tiled_gemm_as<false>(M, N, K, k_per_split, z, a, b, store, stream);
  cuda::check_launch(what);
}

}  // namespace duet::kernels
