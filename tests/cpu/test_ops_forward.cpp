// Forward results against naive reference code written here, plus argument errors.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <random>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/gemm.h"
#include "engine/ops/pool.h"
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

// The 2x2, stride-2 window (every model's pool) has its own unrolled CPU loop; it must choose
// as the general window loop does, written out here: the first largest value in row-major order,
// a NaN in a window's first place kept and one elsewhere passed over. Odd sizes drop the last row
// and column; small integers make ties common.
TEST(Forward, MaxPool2x2ChoosesAsTheGeneralWindowLoop) {
  const int64_t N = 2, C = 3, H = 7, W = 9, P = 3, Q = 4;
  std::mt19937 gen(3);
  std::uniform_int_distribution<int> small(0, 3);
  std::vector<float> x(size_t(N * C * H * W));
  for (float& v : x) v = float(small(gen));
  x[0] = std::nanf("");        // the first place of the first window
  x[2 * W + 3] = std::nanf("");  // the second place of window (1, 1)
  x[3 * W + 4] = std::nanf("");  // the third place of window (1, 2)
  std::vector<float> y(size_t(N * C * P * Q));
  std::vector<int32_t> argmax(y.size());
  ops::Pool2dShape s{N, C, H, W, 2, 2, 2, 2};
  ops::max_pool2d_forward_cpu<float>(s, x.data(), y.data(), argmax.data());
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        const float* plane = x.data() + nc * H * W;
        int64_t best = 2 * p * W + 2 * q;
        for (int64_t i = 0; i < 2; ++i)
          for (int64_t j = 0; j < 2; ++j)
            if (plane[(2 * p + i) * W + 2 * q + j] > plane[best]) best = (2 * p + i) * W + 2 * q + j;
        const size_t o = size_t((nc * P + p) * Q + q);
        EXPECT_EQ(argmax[o], best) << "plane " << nc << ", window " << p << "," << q;
        if (std::isnan(plane[best]))
          EXPECT_TRUE(std::isnan(y[o]));
        else
          EXPECT_EQ(y[o], plane[best]);
      }
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_FALSE(std::isnan(y[1]));
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

// The CPU broadcast walks the output row by row (last dimension): every pairing of a run
// (stride 1) and a repeated value (stride 0) on either side, in small shapes and in ones large
// enough to share the rows among threads, against the per-element offsets.
TEST(Forward, BroadcastRowsMatchThePerElementOffsets) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {3, 1}},          // b repeated along the row
      {{3, 1}, {2, 3, 4}},          // a repeated along the row
      {{2, 1, 4}, {1, 3, 1}},       // a a run, b repeated; the output wider than both
      {{5, 1, 1}, {1, 1, 1}},       // both repeated
      {{1, 4}, {3, 4}},             // both runs, a's rows repeated
      {{8, 1, 64, 126}, {1, 1, 64, 1}},  // the per-mel normaliser, on several threads
      {{8, 1, 64, 126}, {8, 1, 64, 126}},
  };
  Rng rng(7);
  for (const auto& [sa, sb] : cases) {
    Tensor a = random_tensor(sa, rng).to(DType::f32), b = random_tensor(sb, rng).to(DType::f32);
    const ops::Broadcast bc = ops::make_broadcast(sa, sb);
    for (ops::BinaryOp op : {ops::BinaryOp::add, ops::BinaryOp::mul}) {
      Tensor y = op == ops::BinaryOp::add ? F::add(a, b) : F::mul(a, b);
      ASSERT_EQ(y.numel(), bc.numel);
      for (int64_t i = 0; i < bc.numel; ++i) {
        int64_t oa, ob;
        ops::broadcast_offsets(bc, i, oa, ob);
        const float u = a.data<float>()[oa], v = b.data<float>()[ob];
        ASSERT_EQ(y.data<float>()[i], op == ops::BinaryOp::add ? u + v : u * v)
            << shape_str(sa) << " and " << shape_str(sb) << ", element " << i;
      }
    }
  }
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

namespace {
std::vector<float> uniform_floats(int64_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = u(gen);
  return v;
}
}  // namespace

TEST(Forward, Conv2dCpuResultsDoNotDependOnTheThreads) {
  // A CPU training gives the same model on any number of OpenMP threads: the convolution's
  // outputs and both gradients, summed over a batch, are bit for bit the same on 1, 2, 3 and 5.
  // Two layers: a few channels into fewer outputs (the weight gradient's product dy col^T) and
  // one channel into many (a first layer: the transposed product col dy^T).
  ops::Conv2dShape inner{23, 3, 12, 11, 8, 3, 3}, first{9, 1, 10, 13, 16, 3, 3};
  for (ops::Conv2dShape s : {inner, first}) {
    s.pad_h = s.pad_w = 1;
    const int64_t P = s.P(), Q = s.Q();
    std::mt19937 gen(5);
    const std::vector<float> x = uniform_floats(s.N * s.C * s.H * s.W, gen),
                             w = uniform_floats(s.K * s.C * s.R * s.S, gen), b = uniform_floats(s.K, gen),
                             dy = uniform_floats(s.N * s.K * P * Q, gen);
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
      EXPECT_EQ(more.y, one.y) << threads << " threads, " << s.C << " channels";
      EXPECT_EQ(more.dx, one.dx) << threads << " threads, " << s.C << " channels";
      EXPECT_EQ(more.dw, one.dw) << threads << " threads, " << s.C << " channels";
      EXPECT_EQ(more.db, one.db) << threads << " threads, " << s.C << " channels";
    }
    omp_set_num_threads(before);
  }
}

// The float weight and bias gradients (im2col with a row of ones for the bias, the blocked
// GEMM in either orientation) against naive loops; they add to what the buffers held, and a
// call without a bias buffer leaves the weight gradient as it was with one.
TEST(Forward, Conv2dFloatWeightGradientMatchesNaiveLoops) {
  const ops::Conv2dShape shapes[] = {
      {5, 3, 9, 8, 4, 3, 3, 1, 1, 1, 1},    // more im2col rows (28) than outputs: dy col^T
      {6, 1, 11, 14, 16, 3, 3, 1, 1, 1, 1},  // one channel, 16 outputs: col dy^T
      {3, 2, 13, 12, 5, 4, 2, 2, 3, 0, 2},   // strides and a padding wider than the kernel
  };
  for (const ops::Conv2dShape& s : shapes) {
    const int64_t P = s.P(), Q = s.Q();
    std::mt19937 gen(17);
    const std::vector<float> x = uniform_floats(s.N * s.C * s.H * s.W, gen),
                             dy = uniform_floats(s.N * s.K * P * Q, gen);
    std::vector<double> dw_ref(size_t(s.K * s.C * s.R * s.S), 0.25), db_ref(size_t(s.K), -0.5);
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t k = 0; k < s.K; ++k)
        for (int64_t p = 0; p < P; ++p)
          for (int64_t q = 0; q < Q; ++q) {
            const double g = dy[size_t(((n * s.K + k) * P + p) * Q + q)];
            db_ref[size_t(k)] += g;
            for (int64_t c = 0; c < s.C; ++c)
              for (int64_t r = 0; r < s.R; ++r)
                for (int64_t t = 0; t < s.S; ++t) {
                  const int64_t h = p * s.stride_h - s.pad_h + r, col = q * s.stride_w - s.pad_w + t;
                  if (h >= 0 && h < s.H && col >= 0 && col < s.W)
                    dw_ref[size_t(((k * s.C + c) * s.R + r) * s.S + t)] +=
                        g * x[size_t(((n * s.C + c) * s.H + h) * s.W + col)];
                }
          }
    std::vector<float> dw(dw_ref.size(), 0.25f), db(db_ref.size(), -0.5f), dw_alone(dw_ref.size(), 0.25f);
    ops::conv2d_backward_weight_cpu<float>(s, dy.data(), x.data(), dw.data(), db.data());
    ops::conv2d_backward_weight_cpu<float>(s, dy.data(), x.data(), dw_alone.data(), nullptr);
    for (size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dw[i], dw_ref[i], 1e-4) << "dw[" << i << "], C=" << s.C;
    for (size_t k = 0; k < db.size(); ++k) EXPECT_NEAR(db[k], db_ref[k], 1e-4) << "db[" << k << "], C=" << s.C;
    EXPECT_EQ(dw_alone, dw) << "C=" << s.C;
  }
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
