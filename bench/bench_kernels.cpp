// duet's kernels against cuDNN and cuBLAS at the shapes the models use.
//
// Every benchmark checks its result against the vendor library first, then times with CUDA
// events after warm-up (manual timing: Google Benchmark's iteration time is the GPU time of
// one call). Pairs of rows "ours/..." and "vendor/..." share their shape label; the script
// bench/summarize.py turns the JSON output into a table with the ratio.
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/gemm.h"
#include "engine/rng.h"
#include "engine/tensor.h"

using namespace duet;

namespace {

#define CHECK_CUDNN(x)                                                                     \
  do {                                                                                     \
    cudnnStatus_t st_ = (x);                                                               \
    if (st_ != CUDNN_STATUS_SUCCESS) {                                                     \
      std::fprintf(stderr, "cuDNN error %s at %s:%d\n", cudnnGetErrorString(st_), __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

cudaStream_t stream() { return reinterpret_cast<cudaStream_t>(cuda::stream()); }

Tensor random_device(const Shape& s, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(shape_numel(s));
  for (auto& x : v) x = float(rng.uniform(-scale, scale));
  return Tensor::from_vector<float>(v, s, Device::cuda);
}

// Times fn with CUDA events: warm-up, then Google Benchmark's iterations, each one call.
void time_gpu(benchmark::State& state, const std::function<void()>& fn, double flops) {
  for (int i = 0; i < 5; ++i) fn();
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  for (auto _ : state) {
    cudaEventRecord(a, stream());
    fn();
    cudaEventRecord(b, stream());
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    state.SetIterationTime(ms / 1e3);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  state.counters["TFLOP/s"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
}

double max_rel_diff(const Tensor& a, const Tensor& b) {
  auto x = a.to_vector<float>(), y = b.to_vector<float>();
  double worst = 0, scale = 1e-6;
  for (size_t i = 0; i < x.size(); ++i) scale = std::max(scale, double(std::abs(y[i])));
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(double(x[i]) - y[i]) / scale);
  return worst;
}

cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t x;
    CHECK_CUDNN(cudnnCreate(&x));
    CHECK_CUDNN(cudnnSetStream(x, stream()));
    return x;
  }();
  return h;
}

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t x;
    cublasCreate(&x);
    cublasSetStream(x, stream());
    cublasSetMathMode(x, CUBLAS_PEDANTIC_MATH);  // fp32 FMA, no TF32: the same arithmetic as ours
    return x;
  }();
  return h;
}

// ---- convolution -------------------------------------------------------------------------------

struct ConvCase {
  const char* label;
  ops::Conv2dShape s;
};

const ConvCase kConvCases[] = {
    {"audio_conv1_b32", {32, 1, 128, 241, 10, 7, 7, 3, 3, 0, 0}},
    {"audio_conv2_b32", {32, 10, 41, 79, 10, 5, 5, 2, 2, 0, 0}},
    {"audio_conv1_b256", {256, 1, 128, 241, 10, 7, 7, 3, 3, 0, 0}},
    {"audio_conv2_b256", {256, 10, 41, 79, 10, 5, 5, 2, 2, 0, 0}},
    {"mnist_conv1_b64", {64, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0}},
    {"mnist_conv2_b64", {64, 32, 26, 26, 64, 3, 3, 1, 1, 0, 0}},
    {"mnist_conv2_b256", {256, 32, 26, 26, 64, 3, 3, 1, 1, 0, 0}},
};

struct CudnnConv {
  cudnnTensorDescriptor_t x, y;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t c;
  cudnnConvolutionFwdAlgo_t fwd;
  cudnnConvolutionBwdDataAlgo_t bwd_data;
  cudnnConvolutionBwdFilterAlgo_t bwd_filter;
  void* ws = nullptr;
  size_t ws_bytes = 0;
  explicit CudnnConv(const ops::Conv2dShape& s) {
    CHECK_CUDNN(cudnnCreateTensorDescriptor(&x));
    CHECK_CUDNN(cudnnCreateTensorDescriptor(&y));
    CHECK_CUDNN(cudnnCreateFilterDescriptor(&w));
    CHECK_CUDNN(cudnnCreateConvolutionDescriptor(&c));
    CHECK_CUDNN(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.N), int(s.C), int(s.H), int(s.W)));
    CHECK_CUDNN(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.N), int(s.K), int(s.P()), int(s.Q())));
    CHECK_CUDNN(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(s.K), int(s.C), int(s.R), int(s.S)));
    CHECK_CUDNN(cudnnSetConvolution2dDescriptor(c, int(s.pad_h), int(s.pad_w), int(s.stride_h), int(s.stride_w), 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CHECK_CUDNN(cudnnSetConvolutionMathType(c, CUDNN_FMA_MATH));
    // The fastest algorithm of each kind, as cudnnFind* measures it on this GPU.
    int n = 0;
    cudnnConvolutionFwdAlgoPerf_t f[8];
    CHECK_CUDNN(cudnnFindConvolutionForwardAlgorithm(cudnn(), x, w, c, y, 8, &n, f));
    fwd = f[0].algo;
    cudnnConvolutionBwdDataAlgoPerf_t d[8];
    CHECK_CUDNN(cudnnFindConvolutionBackwardDataAlgorithm(cudnn(), w, y, c, x, 8, &n, d));
    bwd_data = d[0].algo;
    cudnnConvolutionBwdFilterAlgoPerf_t g[8];
    CHECK_CUDNN(cudnnFindConvolutionBackwardFilterAlgorithm(cudnn(), x, y, c, w, 8, &n, g));
    bwd_filter = g[0].algo;
    size_t a = 0, b = 0, e = 0;
    CHECK_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(cudnn(), x, w, c, y, fwd, &a));
    CHECK_CUDNN(cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn(), w, y, c, x, bwd_data, &b));
    CHECK_CUDNN(cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn(), x, y, c, w, bwd_filter, &e));
    ws_bytes = std::max({a, b, e, size_t(1)});
    cudaMalloc(&ws, ws_bytes);
  }
  ~CudnnConv() {
    cudaFree(ws);
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(c);
  }
};

enum class Pass { forward, backward_data, backward_weight, fwd_bwd };
const char* pass_name(Pass p) {
  return p == Pass::forward ? "fwd" : p == Pass::backward_data ? "bwd_data" : p == Pass::backward_weight ? "bwd_weight" : "fwd+bwd";
}

// impl: 0 = ours (implicit GEMM, the default), 1 = cuDNN, 2 = ours (direct).
void BM_Conv(benchmark::State& state, ConvCase cc, Pass pass, int impl) {
  const bool vendor = impl == 1;
  const ops::ConvAlgo algo = impl == 2 ? ops::ConvAlgo::direct : ops::ConvAlgo::implicit_gemm;
  if (!cuda::available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const auto& s = cc.s;
  Tensor x = random_device({s.N, s.C, s.H, s.W}, 1), w = random_device({s.K, s.C, s.R, s.S}, 2, 0.2f);
  Tensor b = random_device({s.K}, 3), dy = random_device({s.N, s.K, s.P(), s.Q()}, 4);
  Tensor y = Tensor::zeros(dy.shape(), DType::f32, Device::cuda), dx = Tensor::zeros(x.shape(), DType::f32, Device::cuda);
  Tensor dw = Tensor::zeros(w.shape(), DType::f32, Device::cuda), db = Tensor::zeros(b.shape(), DType::f32, Device::cuda);
  CudnnConv v(s);
  const float one = 1.0f, zero = 0.0f;
  auto ours_fwd = [&] { ops::conv2d_forward_cuda(s, x.data<float>(), w.data<float>(), nullptr, y.data<float>(), false, cuda::stream(), algo); };
  auto ours_bd = [&] { ops::conv2d_backward_data_cuda(s, dy.data<float>(), w.data<float>(), dx.data<float>(), cuda::stream(), algo); };
  auto ours_bw = [&] {
    ops::conv2d_backward_weight_cuda(s, dy.data<float>(), x.data<float>(), dw.data<float>(), nullptr, cuda::stream(), algo);
  };
  auto cudnn_fwd = [&] {
    CHECK_CUDNN(cudnnConvolutionForward(cudnn(), &one, v.x, x.data<float>(), v.w, w.data<float>(), v.c, v.fwd, v.ws,
                                        v.ws_bytes, &zero, v.y, y.data<float>()));
  };
  auto cudnn_bd = [&] {  // beta = 1: accumulate, the same contract as ours
    CHECK_CUDNN(cudnnConvolutionBackwardData(cudnn(), &one, v.w, w.data<float>(), v.y, dy.data<float>(), v.c, v.bwd_data,
                                             v.ws, v.ws_bytes, &one, v.x, dx.data<float>()));
  };
  auto cudnn_bw = [&] {
    CHECK_CUDNN(cudnnConvolutionBackwardFilter(cudnn(), &one, v.x, x.data<float>(), v.y, dy.data<float>(), v.c,
                                               v.bwd_filter, v.ws, v.ws_bytes, &one, v.w, dw.data<float>()));
  };
  // Correctness before timing: each of our passes against cuDNN's.
  if (!vendor) {
    Tensor ref = Tensor::zeros(y.shape(), DType::f32, Device::cuda);
    ours_fwd();
    CHECK_CUDNN(cudnnConvolutionForward(cudnn(), &one, v.x, x.data<float>(), v.w, w.data<float>(), v.c, v.fwd, v.ws,
                                        v.ws_bytes, &zero, v.y, ref.data<float>()));
    const double e1 = max_rel_diff(y, ref);
    dx.zero_(), dw.zero_();
    ours_bd(), ours_bw();
    Tensor dx_ours = dx.clone(), dw_ours = dw.clone();
    dx.zero_(), dw.zero_();
    cudnn_bd(), cudnn_bw();
    const double e2 = max_rel_diff(dx_ours, dx), e3 = max_rel_diff(dw_ours, dw);
    state.counters["max_rel_err"] = std::max({e1, e2, e3});
    if (std::max({e1, e2, e3}) > 1e-3) {
      state.SkipWithError("result differs from cuDNN");
      return;
    }
  }
  const double fwd_flops = 2.0 * s.N * s.K * s.P() * s.Q() * s.C * s.R * s.S;
  std::function<void()> fn;
  double flops = fwd_flops;
  switch (pass) {
    case Pass::forward: fn = vendor ? std::function<void()>(cudnn_fwd) : ours_fwd; break;
    case Pass::backward_data: fn = vendor ? std::function<void()>(cudnn_bd) : ours_bd; break;
    case Pass::backward_weight: fn = vendor ? std::function<void()>(cudnn_bw) : ours_bw; break;
    case Pass::fwd_bwd:
      flops = 3 * fwd_flops;
      // A layer's training step: forward, and both gradients (the course's first layer has no
      // input gradient to compute, as in PyTorch when the input needs no grad).
      if (vendor) fn = [&] { cudnn_fwd(), cudnn_bw(), (s.C > 1 ? cudnn_bd() : void()); };
      else fn = [&] { ours_fwd(), ours_bw(), (s.C > 1 ? ours_bd() : void()); };
      break;
  }
  time_gpu(state, fn, flops);
}

// ---- GEMM ------------------------------------------------------------------------------------------

void BM_Gemm(benchmark::State& state, int64_t M, int64_t N, int64_t K, bool vendor) {
  if (!cuda::available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Tensor A = random_device({M, K}, 5), B = random_device({K, N}, 6);
  Tensor C = Tensor::zeros({M, N}, DType::f32, Device::cuda), R = C.clone();
  const float one = 1.0f, zero = 0.0f;
  auto ours = [&] {
    ops::gemm_cuda(false, false, M, N, K, 1.0f, A.data<float>(), K, B.data<float>(), N, 0.0f, C.data<float>(), N,
                   cuda::stream());
  };
  auto theirs = [&] {  // row-major C = A B is column-major C^T = B^T A^T
    cublasSgemm(cublas(), CUBLAS_OP_N, CUBLAS_OP_N, int(N), int(M), int(K), &one, B.data<float>(), int(N),
                A.data<float>(), int(K), &zero, R.data<float>(), int(N));
  };
  if (!vendor) {
    ours();
    theirs();
    const double e = max_rel_diff(C, R);
    state.counters["max_rel_err"] = e;
    if (e > 1e-3) {
      state.SkipWithError("result differs from cuBLAS");
      return;
    }
  }
  time_gpu(state, vendor ? std::function<void()>(theirs) : std::function<void()>(ours), 2.0 * M * N * K);
}

int register_all() {
  for (const ConvCase& c : kConvCases)
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weight, Pass::fwd_bwd})
      for (int impl : {0, 1, 2}) {
        if (p == Pass::backward_data && c.s.C == 1) continue;  // first layers need no input gradient
        const char* who = impl == 0 ? "ours" : impl == 1 ? "vendor" : "direct";
        const std::string name = std::string(who) + "/conv/" + c.label + "/" + pass_name(p);
        benchmark::RegisterBenchmark(name.c_str(), BM_Conv, c, p, impl)->UseManualTime()->Unit(benchmark::kMillisecond);
      }
  struct G {
    const char* label;
    int64_t M, N, K;
  };
  const G gemms[] = {{"linear_audio_b32_fwd", 32, 10, 7220},  {"linear_mnist_fc1_b64_fwd", 64, 128, 9216},
                     {"linear_mnist_fc1_b256_fwd", 256, 128, 9216}, {"square_1024", 1024, 1024, 1024},
                     {"square_2048", 2048, 2048, 2048},       {"square_4096", 4096, 4096, 4096}};
  for (const G& g : gemms)
    for (bool vendor : {false, true}) {
      const std::string name = std::string(vendor ? "vendor" : "ours") + "/gemm/" + g.label;
      benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, g.M, g.N, g.K, vendor)->UseManualTime()->Unit(benchmark::kMillisecond);
    }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
