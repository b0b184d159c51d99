// Forward results against naive reference code written here, plus argument errors.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <random>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/gemm.h"
#include "gradcheck.h"

using namespace duet;
using namespace duet::testing;

namespace {
double at4(const Tensor& t, int64_t a, int64_t b, int64_t c, int64_t d) {
  return t.data<double>()[((a * t.size(1) + b) * t.size(2) + c) * t.size(3) + d];
}
}  // namespace

TEST(Forward, Conv2dMatchesNaiveLoops) {
  Rng rng(1);
  Tensor x = random_tensor({2, 3, 9, 8}, rng), w = random_tensor({4, 3, 3, 5}, rng), b = random_tensor({4}, rng);
  F::Conv2dOptions o;
  o.stride_h = 2; o.stride_w = 3; o.pad_h = 1; o.pad_w = 2;
  Tensor y = F::conv2d(x, w, b, o);
  ASSERT_EQ(y.shape(), (Shape{2, 4, 5, 3}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t p = 0; p < 5; ++p)
        for (int64_t q = 0; q < 3; ++q) {
          double acc = b.data<double>()[k];
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t r = 0; r < 3; ++r)
              for (int64_t s = 0; s < 5; ++s) {
                int64_t h = p * 2 - 1 + r, ww = q * 3 - 2 + s;
                if (h >= 0 && h < 9 && ww >= 0 && ww < 8) acc += at4(w, k, c, r, s) * at4(x, n, c, h, ww);
              }
          EXPECT_NEAR(at4(y, n, k, p, q), acc, 1e-12);
        }
}

TEST(Forward, CourseConvShapes) {
  // The course CNN on a [1, 64, 201] spectrogram: 7x7 stride 3, then 5x5 stride 2.
  Tensor x = Tensor::zeros({1, 1, 64, 201});
  Tensor y1 = F::conv2d(x, Tensor::zeros({10, 1, 7, 7}), Tensor::zeros({10}), {3, 3, 0, 0});
  EXPECT_EQ(y1.shape(), (Shape{1, 10, 20, 65}));
  Tensor y2 = F::conv2d(y1, Tensor::zeros({10, 10, 5, 5}), Tensor::zeros({10}), {2, 2, 0, 0});
  EXPECT_EQ(y2.shape(), (Shape{1, 10, 8, 31}));
}

TEST(Forward, LinearMatchesNaive) {
  Rng rng(2);
  Tensor x = random_tensor({3, 4}, rng), w = random_tensor({2, 4}, rng), b = random_tensor({2}, rng);
  Tensor y = F::linear(x, w, b);
  for (int n = 0; n < 3; ++n)
    for (int o = 0; o < 2; ++o) {
      double acc = b.data<double>()[o];
      for (int i = 0; i < 4; ++i) acc += x.data<double>()[n * 4 + i] * w.data<double>()[o * 4 + i];
      EXPECT_NEAR(y.data<double>()[n * 2 + o], acc, 1e-12);
    }
}

TEST(Forward, MaxPoolPicksWindowMaxFirstOnTies) {
  Tensor x = Tensor::from_vector<float>({1, 5, 2, 0,  //
                                         3, 5, 7, 7,  //
                                         0, 0, 1, 2,  //
                                         9, 0, 3, 4},
                                        {1, 1, 4, 4});
  Tensor y = F::max_pool2d(x, 2, 2);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{5, 7, 9, 4}));
  // dx goes to the first maximum of each window only.
  x.set_requires_grad(true);
  backward(F::sum(F::max_pool2d(x, 2, 2)));
  EXPECT_EQ(x.grad().to_vector<float>(),
            (std::vector<float>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1}));
}

TEST(Forward, SoftmaxRowsSumToOneAndSurviveLargeLogits) {
  Tensor x = Tensor::from_vector<float>({1000, 1001, 1002, -5, 0, 5}, {2, 3});
  auto y = F::softmax(x).to_vector<float>();
  EXPECT_NEAR(y[0] + y[1] + y[2], 1.0, 1e-6);
  EXPECT_NEAR(y[2], std::exp(2.0) / (1 + std::exp(1.0) + std::exp(2.0)), 1e-6);
  for (float v : y) EXPECT_TRUE(std::isfinite(v));
}

TEST(Forward, CrossEntropyMatchesFormula) {
  Tensor logits = Tensor::from_vector<double>({2, 1, 0, 0, 0, 3}, {2, 3});
  Tensor labels = Tensor::from_vector<int32_t>({0, 1}, {2});
  double l0 = -std::log(std::exp(2.0) / (std::exp(2.0) + std::exp(1.0) + 1.0));
  double l1 = -std::log(1.0 / (2.0 + std::exp(3.0)));
  EXPECT_NEAR(F::cross_entropy(logits, labels).item(), (l0 + l1) / 2, 1e-12);
}

TEST(Forward, CrossEntropyRejectsBadLabels) {
  Tensor logits = Tensor::zeros({2, 3});
  EXPECT_THROW(F::cross_entropy(logits, Tensor::from_vector<int32_t>({0, 3}, {2})), Error);
  EXPECT_THROW(F::cross_entropy(logits, Tensor::from_vector<int32_t>({-1, 0}, {2})), Error);
  EXPECT_THROW(F::cross_entropy(logits, Tensor::from_vector<int32_t>({0}, {1})), Error);
  EXPECT_THROW(F::cross_entropy(logits, Tensor::zeros({2})), Error);  // float labels
}

TEST(Forward, BroadcastAddMul) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(F::add(a, Tensor::from_vector<float>({10, 20, 30}, {3})).to_vector<float>(),
            (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(F::mul(a, Tensor::from_vector<float>({2, -1}, {2, 1})).to_vector<float>(),
            (std::vector<float>{2, 4, 6, -4, -5, -6}));
  EXPECT_THROW(F::add(a, Tensor::zeros({2})), Error);
}

TEST(Forward, ConcatAlongFeatures) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({9, 8}, {2, 1});
  Tensor y = F::concat({a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 2, 9, 3, 4, 8}));
  EXPECT_THROW(F::concat({a, Tensor::zeros({3, 1})}), Error);
  EXPECT_THROW(F::concat({}), Error);
}

TEST(Forward, DropoutTrainEval) {
  Tensor x = Tensor::full({10000}, 1.0);
  Tensor y = F::dropout(x, 0.25, true, 99);
  auto v = y.to_vector<float>();
  int zeros = 0;
  for (float e : v) {
    if (e == 0) ++zeros;
    else EXPECT_NEAR(e, 1 / 0.75, 1e-6);
  }
  EXPECT_NEAR(zeros / 10000.0, 0.25, 0.02);
  EXPECT_EQ(F::dropout(x, 0.25, true, 99).to_vector<float>(), v);   // same seed, same mask
  EXPECT_NE(F::dropout(x, 0.25, true, 100).to_vector<float>(), v);  // other seed, other mask
  EXPECT_EQ(F::dropout(x, 0.25, false, 99).to_vector<float>(), x.to_vector<float>());
  EXPECT_THROW(F::dropout(x, 1.0, true, 1), Error);
  EXPECT_THROW(F::dropout(x, -0.1, true, 1), Error);
}

TEST(Forward, ArgumentErrorsNameTheProblem) {
  Tensor x = Tensor::zeros({1, 3, 8, 8});
  try {
    F::conv2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 channels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(F::conv2d(x, Tensor::zeros({4, 3, 9, 9}), Tensor()), Error);                // kernel > input
  EXPECT_THROW(F::conv2d(x, Tensor::zeros({4, 3, 3, 3}), Tensor::zeros({5})), Error);      // bias size
  EXPECT_THROW(F::conv2d(x, Tensor::zeros({4, 3, 3, 3}), Tensor(), {0, 1, 0, 0}), Error);  // stride 0
  EXPECT_THROW(F::conv2d(Tensor::zeros({3, 8, 8}), Tensor::zeros({4, 3, 3, 3}), Tensor()), Error);
  EXPECT_THROW(F::linear(Tensor::zeros({2, 5}), Tensor::zeros({3, 4}), Tensor()), Error);
  EXPECT_THROW(F::max_pool2d(x, 9, 9), Error);
  EXPECT_THROW(F::softmax(Tensor::zeros({2, 2, 2})), Error);
  EXPECT_THROW(F::relu(Tensor::zeros({2}, DType::i32)), Error);
  EXPECT_THROW(Tensor::zeros({2, 3}).reshape({4, 2}), Error);
  EXPECT_THROW(Tensor::zeros({2}).item(), Error);
  EXPECT_THROW(F::add(Tensor::zeros({2}), Tensor::zeros({2}, DType::f64)), Error);
}

// The float path (im2col runs of zeros and copies, the blocked GEMM) against naive loops, for
// paddings wider than the kernel, strides wider than the kernel and odd sizes; and the
// gradient with respect to the input (col2im) against the adjoint identity
// <conv(x), g> = <x, conv_backward_data(g)>.
TEST(Forward, Conv2dFloatMatchesNaiveLoopsForOddPaddingsAndStrides) {
  struct Case {
    Shape x, w;
    F::Conv2dOptions o;
  };
  const std::vector<Case> cases = {{{2, 3, 5, 3}, {4, 3, 2, 2}, {3, 3, 1, 4, false}},
                                   {{1, 2, 9, 10}, {3, 2, 3, 5}, {1, 2, 2, 1, false}},
                                   {{3, 1, 4, 17}, {2, 1, 1, 3}, {2, 4, 0, 3, false}},
                                   {{1, 5, 7, 7}, {6, 5, 3, 3}, {1, 1, 1, 1, false}}};
  Rng rng(11);
  for (const Case& c : cases) {
    Tensor x = random_tensor(c.x, rng).to(DType::f32), w = random_tensor(c.w, rng).to(DType::f32);
    x.set_requires_grad(true);
    Tensor y = F::conv2d(x, w, Tensor(), c.o);
    const int64_t N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3], K = c.w[0], R = c.w[2], S = c.w[3];
    const int64_t P = y.size(2), Q = y.size(3);
    ASSERT_EQ(P, (H + 2 * c.o.pad_h - R) / c.o.stride_h + 1);
    ASSERT_EQ(Q, (W + 2 * c.o.pad_w - S) / c.o.stride_w + 1);
    const float* xd = x.data<float>();
    const float* wd = w.data<float>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t p = 0; p < P; ++p)
          for (int64_t q = 0; q < Q; ++q) {
            double acc = 0;
            for (int64_t ch = 0; ch < C; ++ch)
              for (int64_t r = 0; r < R; ++r)
                for (int64_t s = 0; s < S; ++s) {
                  const int64_t h = p * c.o.stride_h - c.o.pad_h + r, ww = q * c.o.stride_w - c.o.pad_w + s;
                  if (h >= 0 && h < H && ww >= 0 && ww < W)
                    acc += double(wd[((k * C + ch) * R + r) * S + s]) * xd[((n * C + ch) * H + h) * W + ww];
                }
            EXPECT_NEAR(y.data<float>()[((n * K + k) * P + p) * Q + q], acc, 1e-5) << shape_str(c.x);
          }
    // <y, g> with g = y: its gradient with respect to x is conv_backward_data(y), and
    // <x, dx> must equal <y, y> (the convolution is linear in x).
    Tensor loss = F::sum(F::mul(y, y.detach()));
    backward(loss);
    double xdx = 0, yy = 0;
    for (int64_t i = 0; i < x.numel(); ++i) xdx += double(xd[i]) * x.grad().data<float>()[i];
    for (int64_t i = 0; i < y.numel(); ++i) yy += double(y.data<float>()[i]) * y.data<float>()[i];
    EXPECT_NEAR(xdx, yy, 1e-4 * (1 + std::fabs(yy))) << shape_str(c.x);
  }
}

TEST(Forward, Conv2dCpuResultsDoNotDependOnTheThreads) {
  // A CPU training gives the same model on any number of OpenMP threads: the convolution's
  // outputs and both gradients, summed over a batch, are bit for bit the same on 1, 2, 3 and 5.
  ops::Conv2dShape s{23, 3, 12, 11, 8, 3, 3};
  s.pad_h = s.pad_w = 1;
  const int64_t P = s.P(), Q = s.Q();
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> u(-1, 1);
  auto draw = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = u(gen);
    return v;
  };
  const std::vector<float> x = draw(s.N * s.C * s.H * s.W), w = draw(s.K * s.C * s.R * s.S), b = draw(s.K),
                           dy = draw(s.N * s.K * P * Q);
  struct Out {
    std::vector<float> y, dx, dw, db;
  };
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    Out o{std::vector<float>(dy.size()), std::vector<float>(x.size(), 0.5f), std::vector<float>(w.size(), 0.25f),
          std::vector<float>(b.size(), 0.125f)};
    ops::conv2d_forward_cpu<float>(s, x.data(), w.data(), b.data(), o.y.data());
    ops::conv2d_backward_data_cpu<float>(s, dy.data(), w.data(), o.dx.data());
    ops::conv2d_backward_weight_cpu<float>(s, dy.data(), x.data(), o.dw.data(), o.db.data());
    return o;
  };
  const int before = omp_get_max_threads();
  const Out one = run(1);
  for (int threads : {2, 3, 5}) {
    const Out more = run(threads);
    EXPECT_EQ(more.y, one.y) << threads << " threads";
    EXPECT_EQ(more.dx, one.dx) << threads << " threads";
    EXPECT_EQ(more.dw, one.dw) << threads << " threads";
    EXPECT_EQ(more.db, one.db) << threads << " threads";
  }
  omp_set_num_threads(before);
}

TEST(Forward, GemmPipelineSettingIsZeroOrOne) {
  EXPECT_TRUE(ops::parse_gemm_pipeline(nullptr));
  EXPECT_TRUE(ops::parse_gemm_pipeline("1"));
  EXPECT_FALSE(ops::parse_gemm_pipeline("0"));
  for (const char* bad : {"", "2", "yes", "01"}) {
    try {
      ops::parse_gemm_pipeline(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("DUET_GEMM_PIPELINE"), std::string::npos) << e.what();
    }
  }
}

TEST(Forward, CudaWithoutGpuIsAClearError) {
  if (cuda::available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(Tensor::zeros({2}, DType::f32, Device::cuda), Error);
  EXPECT_THROW(parse_device("tpu"), Error);
}
