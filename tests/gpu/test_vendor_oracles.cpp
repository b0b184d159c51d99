// Second oracle: our SGEMM against cuBLAS, our convolution against cuDNN.
#include <cublas_v2.h>

#include "engine/ops/conv2d.h"
#include "engine/ops/gemm.h"
#include "parity.h"
#ifdef DUET_HAVE_CUDNN
#include <cudnn.h>
#endif

using namespace duet;
using namespace duet::testing;

TEST(Oracle, SgemmMatchesCublas) {
  DUET_REQUIRE_GPU();
  Rng rng(1);
  cublasHandle_t h;
  ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  cublasSetStream(h, reinterpret_cast<cudaStream_t>(cuda::stream()));
  cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH);  // true fp32, no TF32
  for (int n : {1, 63, 1000, 1024}) {
    const int M = n, N = n + 3, K = n + 5;
    Tensor A = random_input({M, K}, rng).to(DType::f32).to(Device::cuda);
    Tensor B = random_input({K, N}, rng).to(DType::f32).to(Device::cuda);
    Tensor ours = Tensor::zeros({M, N}, DType::f32, Device::cuda), theirs = ours.clone();
    ops::gemm_cuda(false, false, M, N, K, 1.0f, A.data<float>(), K, B.data<float>(), N, 0.0f, ours.data<float>(), N,
                   cuda::stream());
    // Row-major C = A B is column-major C^T = B^T A^T.
    const float one = 1.0f, zero = 0.0f;
    ASSERT_EQ(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B.data<float>(), N, A.data<float>(), K, &zero,
                          theirs.data<float>(), N),
              CUBLAS_STATUS_SUCCESS);
    cuda::synchronize();
    expect_close(ours, theirs, 1e-4, 1e-4, "sgemm " + std::to_string(n));
  }
  cublasDestroy(h);
}

#ifdef DUET_HAVE_CUDNN
TEST(Oracle, ConvForwardMatchesCudnn) {
  DUET_REQUIRE_GPU();
  cudnnHandle_t h;
  ASSERT_EQ(cudnnCreate(&h), CUDNN_STATUS_SUCCESS);
  cudnnSetStream(h, reinterpret_cast<cudaStream_t>(cuda::stream()));
  Rng rng(2);
  struct Case { ops::Conv2dShape s; } cases[] = {{{32, 1, 128, 241, 10, 7, 7, 3, 3, 0, 0}},
                                                 {{32, 10, 41, 79, 10, 5, 5, 2, 2, 0, 0}},
                                                 {{5, 3, 17, 13, 4, 3, 3, 1, 1, 1, 1}}};
  for (const Case& c : cases) {
    const auto& s = c.s;
    Tensor x = random_input({s.N, s.C, s.H, s.W}, rng).to(DType::f32).to(Device::cuda);
    Tensor w = random_input({s.K, s.C, s.R, s.S}, rng).to(DType::f32).to(Device::cuda);
    Tensor ours = Tensor::zeros({s.N, s.K, s.P(), s.Q()}, DType::f32, Device::cuda), theirs = ours.clone();
    ops::conv2d_forward_cuda(s, x.data<float>(), w.data<float>(), nullptr, ours.data<float>(), false, cuda::stream());
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnCreateTensorDescriptor(&xd);
    cudnnCreateTensorDescriptor(&yd);
    cudnnCreateFilterDescriptor(&wd);
    cudnnCreateConvolutionDescriptor(&cd);
    cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.N), int(s.C), int(s.H), int(s.W));
    cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.N), int(s.K), int(s.P()), int(s.Q()));
    cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(s.K), int(s.C), int(s.R), int(s.S));
    cudnnSetConvolution2dDescriptor(cd, int(s.pad_h), int(s.pad_w), int(s.stride_h), int(s.stride_w), 1, 1,
                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
    cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH);  // fp32 FMA, no TF32
    const float one = 1.0f, zero = 0.0f;
    ASSERT_EQ(cudnnConvolutionForward(h, &one, xd, x.data<float>(), wd, w.data<float>(), cd,
                                      CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &zero, yd,
                                      theirs.data<float>()),
              CUDNN_STATUS_SUCCESS);
    cuda::synchronize();
    expect_close(ours, theirs, 1e-4, 1e-4, "conv forward");
    cudnnDestroyTensorDescriptor(xd);
    cudnnDestroyTensorDescriptor(yd);
    cudnnDestroyFilterDescriptor(wd);
    cudnnDestroyConvolutionDescriptor(cd);
  }
  cudnnDestroy(h);
}
#endif
