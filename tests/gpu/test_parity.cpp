// CUDA vs CPU for every op, over shapes that include batch 1 and sizes that are not
// multiples of any tile. Skipped without a GPU.
#include <algorithm>
#include <tuple>

#include "engine/ops/conv2d.h"
#include "engine/ops/gemm.h"
#include "engine/ops/sgd.h"
#include "parity.h"

using namespace duet;
using namespace duet::testing;

namespace {
struct ConvCase {
  Shape x, w;
  int64_t sh, sw, ph, pw;
  bool bias, relu;
};
}  // namespace

TEST(Parity, Conv2d) {
  DUET_REQUIRE_GPU();
  const ConvCase cases[] = {
      {{1, 1, 128, 241}, {10, 1, 7, 7}, 3, 3, 0, 0, true, false},   // course conv1, batch 1
      {{3, 10, 41, 79}, {10, 10, 5, 5}, 2, 2, 0, 0, true, true},    // course conv2, fused ReLU
      {{2, 3, 17, 13}, {5, 3, 3, 3}, 1, 1, 1, 1, false, false},     // padded, no bias
      {{4, 32, 26, 26}, {64, 32, 3, 3}, 1, 1, 0, 0, true, false},   // MNIST conv2
      {{2, 2, 9, 11}, {3, 2, 8, 8}, 1, 2, 2, 1, true, false},       // 64 taps: generic weight grad
      {{1, 1, 5, 5}, {1, 1, 5, 5}, 1, 1, 0, 0, true, false},        // output 1x1
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(shape_str(c.x) + " * " + shape_str(c.w));
    Rng rng(1);
    F::Conv2dOptions o{c.sh, c.sw, c.ph, c.pw, c.relu};
    std::vector<Tensor> in = {random_input(c.x, rng), random_input(c.w, rng)};
    if (c.bias) in.push_back(random_input({c.w[0]}, rng));
    check_parity([&](const std::vector<Tensor>& t) { return F::conv2d(t[0], t[1], c.bias ? t[2] : Tensor(), o); }, in,
                 1e-4, 1e-4);
  }
}

// Both CUDA algorithms, each pass on its own, against the float64 CPU loops; the
// gradients start from non-zero buffers to check that every pass accumulates.
TEST(Parity, Conv2dBothAlgorithms) {
  DUET_REQUIRE_GPU();
  const ops::Conv2dShape shapes[] = {
      {2, 1, 128, 241, 10, 7, 7, 3, 3, 0, 0},  // course conv1
      {3, 10, 41, 79, 10, 5, 5, 2, 2, 0, 0},   // course conv2
      {4, 32, 26, 26, 64, 3, 3, 1, 1, 0, 0},   // MNIST conv2 (split-K weight gradient)
      {2, 3, 17, 13, 5, 3, 3, 1, 1, 1, 1},     // padded
      {2, 2, 9, 11, 3, 8, 8, 1, 2, 2, 1},      // 64 taps, unequal strides and padding
      {1, 1, 5, 5, 1, 5, 5, 1, 1, 0, 0},       // output 1x1
      {65, 3, 7, 9, 70, 3, 2, 2, 1, 1, 0},     // sizes that are not multiples of any tile
  };
  for (const ops::Conv2dShape& s : shapes) {
    SCOPED_TRACE("N" + std::to_string(s.N) + " C" + std::to_string(s.C) + " " + std::to_string(s.H) + "x" +
                 std::to_string(s.W) + " K" + std::to_string(s.K) + " " + std::to_string(s.R) + "x" +
                 std::to_string(s.S));
    Rng rng(11);
    Tensor x = random_input({s.N, s.C, s.H, s.W}, rng), w = random_input({s.K, s.C, s.R, s.S}, rng);
    Tensor b = random_input({s.K}, rng), dy = random_input({s.N, s.K, s.P(), s.Q()}, rng);
    Tensor dx0 = random_input(x.shape(), rng), dw0 = random_input(w.shape(), rng), db0 = random_input({s.K}, rng);
    Tensor y_ref = Tensor::zeros(dy.shape(), DType::f64), dx_ref = dx0.clone(), dw_ref = dw0.clone(),
           db_ref = db0.clone();
    ops::conv2d_forward_cpu<double>(s, x.data<double>(), w.data<double>(), b.data<double>(), y_ref.data<double>());
    ops::conv2d_backward_data_cpu<double>(s, dy.data<double>(), w.data<double>(), dx_ref.data<double>());
    ops::conv2d_backward_weight_cpu<double>(s, dy.data<double>(), x.data<double>(), dw_ref.data<double>(),
                                            db_ref.data<double>());
    auto gpu = [](const Tensor& t) { return t.to(DType::f32).to(Device::cuda); };
    for (ops::ConvAlgo algo : {ops::ConvAlgo::implicit_gemm, ops::ConvAlgo::direct}) {
      SCOPED_TRACE(algo == ops::ConvAlgo::direct ? "direct" : "implicit GEMM");
      Tensor xg = gpu(x), wg = gpu(w), bg = gpu(b), dyg = gpu(dy), dxg = gpu(dx0), dwg = gpu(dw0), dbg = gpu(db0);
      Tensor yg = Tensor::zeros(dy.shape(), DType::f32, Device::cuda);
      ops::conv2d_forward_cuda(s, xg.data<float>(), wg.data<float>(), bg.data<float>(), yg.data<float>(), false,
                               cuda::stream(), algo);
      ops::conv2d_backward_data_cuda(s, dyg.data<float>(), wg.data<float>(), dxg.data<float>(), cuda::stream(), algo);
      ops::conv2d_backward_weight_cuda(s, dyg.data<float>(), xg.data<float>(), dwg.data<float>(), dbg.data<float>(),
                                       cuda::stream(), algo);
      expect_close(yg, y_ref, 2e-4, 1e-4, "forward");
      expect_close(dxg, dx_ref, 2e-4, 1e-4, "backward data");
      expect_close(dwg, dw_ref, 1e-3, 1e-4, "backward weight");
      expect_close(dbg, db_ref, 1e-3, 1e-4, "backward bias");
      Tensor yr = Tensor::zeros(dy.shape(), DType::f32, Device::cuda);  // fused ReLU
      ops::conv2d_forward_cuda(s, xg.data<float>(), wg.data<float>(), bg.data<float>(), yr.data<float>(), true,
                               cuda::stream(), algo);
      Tensor relu_ref = y_ref.clone();
      for (int64_t i = 0; i < relu_ref.numel(); ++i)
        relu_ref.data<double>()[i] = std::max(0.0, relu_ref.data<double>()[i]);
      expect_close(yr, relu_ref, 2e-4, 1e-4, "forward + ReLU");
    }
  }
}

TEST(Parity, Linear) {
  DUET_REQUIRE_GPU();
  for (auto [N, I, O] : {std::tuple{1, 1, 1}, {32, 8000, 10}, {7, 33, 65}, {64, 9216, 128}, {130, 129, 131}}) {
    SCOPED_TRACE(std::to_string(N) + "x" + std::to_string(I) + "->" + std::to_string(O));
    Rng rng(2);
    check_parity([](const std::vector<Tensor>& t) { return F::linear(t[0], t[1], t[2]); },
                 {random_input({N, I}, rng), random_input({O, I}, rng, -0.1, 0.1), random_input({O}, rng)}, 1e-4,
                 1e-4);
  }
}

TEST(Parity, ReluPoolAvgPool) {
  DUET_REQUIRE_GPU();
  Rng rng(3);
  for (Shape s : {Shape{1, 1, 1, 1}, Shape{3, 5, 17, 19}, Shape{64, 32, 24, 24}}) {
    SCOPED_TRACE(shape_str(s));
    check_parity([](const std::vector<Tensor>& t) { return F::relu(t[0]); }, {random_input(s, rng)});
    check_parity([](const std::vector<Tensor>& t) { return F::global_avg_pool(t[0]); }, {random_input(s, rng)});
  }
  check_parity([](const std::vector<Tensor>& t) { return F::max_pool2d(t[0], 2, 2); },
               {random_input({64, 64, 24, 24}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::max_pool2d(t[0], 3, 3, 2, 2); },  // overlapping
               {random_input({2, 3, 11, 9}, rng)});
}

TEST(Parity, ElementwiseConcatReduce) {
  DUET_REQUIRE_GPU();
  Rng rng(4);
  check_parity([](const std::vector<Tensor>& t) { return F::add(t[0], t[1]); },
               {random_input({33, 17}, rng), random_input({33, 17}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::add(t[0], t[1]); },
               {random_input({33, 17}, rng), random_input({17}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::mul(t[0], t[1]); },
               {random_input({257, 40}, rng), random_input({257, 1}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::mul(t[0], t[1]); },
               {random_input({5, 3, 4, 4}, rng), random_input({1, 3, 1, 1}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::scale(t[0], -1.5); }, {random_input({1000}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::log(t[0]); }, {random_input({77, 13}, rng, 0.1, 4.0)});
  check_parity([](const std::vector<Tensor>& t) { return F::concat({t[0], t[1], t[2]}); },
               {random_input({9, 3}, rng), random_input({9, 64}, rng), random_input({9, 1}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::concat({t[0], t[1]}); },
               {random_input({2, 1, 5, 7}, rng), random_input({2, 3, 5, 7}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::mean(t[0]); }, {random_input({1, 1}, rng)});
  check_parity([](const std::vector<Tensor>& t) { return F::mean(t[0]); }, {random_input({1000003}, rng)}, 1e-5,
               1e-4);
  check_parity([](const std::vector<Tensor>& t) { return F::sum(t[0]); }, {random_input({4097}, rng)}, 1e-3, 1e-4);
  check_parity([](const std::vector<Tensor>& t) { return F::reshape(t[0], {6, -1}); }, {random_input({3, 2, 5}, rng)});
}

TEST(Parity, BatchNormTrainAndEval) {
  DUET_REQUIRE_GPU();
  Rng rng(10);
  for (Shape s : {Shape{32, 16, 64, 126}, Shape{1, 3, 5, 7}, Shape{33, 20}}) {
    SCOPED_TRACE(shape_str(s));
    const int64_t C = s[1];
    for (bool training : {true, false}) {
      Tensor rm_cpu = random_input({C}, rng), rv_cpu = random_input({C}, rng, 0.5, 2.0);
      Tensor rm_gpu = rm_cpu.to(DType::f32).to(Device::cuda), rv_gpu = rv_cpu.to(DType::f32).to(Device::cuda);
      auto f = [&](const std::vector<Tensor>& t) {
        const bool gpu = t[0].is_cuda();
        return F::batch_norm(t[0], t[1], t[2], gpu ? rm_gpu : rm_cpu, gpu ? rv_gpu : rv_cpu, training);
      };
      check_parity(f, {random_input(s, rng, -2, 3), random_input({C}, rng, 0.5, 1.5), random_input({C}, rng)}, 1e-4,
                   1e-3);
      expect_close(rm_gpu, rm_cpu, 1e-5, 1e-4, "running mean");
      expect_close(rv_gpu, rv_cpu, 1e-5, 1e-4, "running var");
    }
  }
}

TEST(Parity, SoftmaxCrossEntropy) {
  DUET_REQUIRE_GPU();
  Rng rng(5);
  for (auto [N, C] : {std::pair{1, 10}, {32, 10}, {257, 3}, {5, 1000}}) {
    SCOPED_TRACE(std::to_string(N) + "x" + std::to_string(C));
    std::vector<int32_t> labels(N);
    for (auto& l : labels) l = int32_t(rng.randint(C));
    Tensor lab = Tensor::from_vector<int32_t>(labels, {N});
    check_parity([](const std::vector<Tensor>& t) { return F::softmax(t[0]); }, {random_input({N, C}, rng, -4, 4)});
    check_parity([](const std::vector<Tensor>& t) { return F::cross_entropy(t[0], t[1]); },
                 {random_input({N, C}, rng, -4, 4), lab});
  }
}

TEST(Parity, DropoutSameMaskOnBothDevices) {
  DUET_REQUIRE_GPU();
  Rng rng(6);
  for (int64_t n : {1, 1000, 123457}) {
    check_parity([](const std::vector<Tensor>& t) { return F::dropout(t[0], 0.3, true, 42); },
                 {random_input({n}, rng)});
  }
}

TEST(Parity, SgdStepOneLaunch) {
  DUET_REQUIRE_GPU();
  Rng rng(7);
  const int64_t n = 100003;
  Tensor p = random_input({n}, rng).to(DType::f32), g = random_input({n}, rng).to(DType::f32);
  for (bool nesterov : {false, true}) {
    ops::SgdConfig c{0.01f, 0.9f, 0.0f, 1e-4f, nesterov};
    Tensor pc = p.clone(), vc = Tensor::zeros({n});
    Tensor pg = p.to(Device::cuda), vg = Tensor::zeros({n}, DType::f32, Device::cuda), gg = g.to(Device::cuda);
    for (int step = 0; step < 3; ++step) {
      ops::sgd_step_cpu<float>(n, c, step == 0, pc.data<float>(), g.data<float>(), vc.data<float>());
      ops::sgd_step_cuda(n, c, step == 0, pg.data<float>(), gg.data<float>(), vg.data<float>(), cuda::stream());
    }
    expect_close(pg, pc, 1e-6, 1e-5, "params");
    expect_close(vg, vc, 1e-6, 1e-5, "velocity");
  }
}

TEST(Parity, GemmAllTransposes) {
  DUET_REQUIRE_GPU();
  Rng rng(8);
  // Tiles of every shape (16x256, 32x128, 64x64, 128x128), split K, and k of 1, 2 and 3 slices
  // of 8 with a partial last one (the double-buffered loop's first, middle and last slice).
  for (auto [M, N, K] : {std::tuple{1, 1, 1}, {127, 129, 65}, {600, 520, 300}, {64, 10, 8000}, {32, 10, 7220},
                         {3, 700, 5000}, {130, 140, 9}, {513, 600, 16}, {20, 300, 23}, {40, 200, 7}}) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        SCOPED_TRACE(std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) + " ta=" +
                     std::to_string(ta) + " tb=" + std::to_string(tb));
        Tensor A = random_input(ta ? Shape{K, M} : Shape{M, K}, rng);
        Tensor B = random_input(tb ? Shape{N, K} : Shape{K, N}, rng);
        Tensor C = random_input({M, N}, rng);
        Tensor ref = C.clone();
        ops::gemm_cpu<double>(ta, tb, M, N, K, 0.5, A.data<double>(), ta ? M : K, B.data<double>(), tb ? K : N, 2.0,
                              ref.data<double>(), N);
        Tensor Ag = A.to(DType::f32).to(Device::cuda), Bg = B.to(DType::f32).to(Device::cuda);
        Tensor Cg = C.to(DType::f32).to(Device::cuda);
        ops::gemm_cuda(ta, tb, M, N, K, 0.5f, Ag.data<float>(), ta ? M : K, Bg.data<float>(), tb ? K : N, 2.0f,
                       Cg.data<float>(), N, cuda::stream());
        expect_close(Cg, ref, 1e-4, 1e-4, "C");
      }
  }
}

TEST(Gpu, TrainingStepMakesNoCudaMallocAfterWarmup) {
  DUET_REQUIRE_GPU();
  Rng rng(9);
  Tensor x = random_input({32, 1, 28, 28}, rng).to(DType::f32).to(Device::cuda);
  std::vector<int32_t> y(32);
  for (auto& v : y) v = int32_t(rng.randint(10));
  Tensor labels = Tensor::from_vector<int32_t>(y, {32}, Device::cuda);
  Tensor w = random_input({8, 1, 5, 5}, rng, -0.2, 0.2).to(DType::f32).to(Device::cuda).set_requires_grad(true);
  Tensor fw = random_input({10, 8 * 12 * 12}, rng, -0.05, 0.05).to(DType::f32).to(Device::cuda).set_requires_grad(true);
  auto step = [&] {
    Tensor h = F::max_pool2d(F::conv2d(x, w, Tensor(), {1, 1, 0, 0, true}), 2, 2);
    backward(F::cross_entropy(F::linear(F::flatten(h), fw, Tensor()), labels));
  };
  step();
  step();
  cuda::synchronize();
  const auto before = cuda::allocator_stats().device_mallocs;
  for (int i = 0; i < 5; ++i) step();
  cuda::synchronize();
  EXPECT_EQ(cuda::allocator_stats().device_mallocs, before);
}
