// The tape, gradient accumulation, the parameter arena, SGD against hand-computed steps,
// initialisation bounds, and a tiny model that learns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/init.h"
#include "engine/optim.h"
#include "engine/params.h"
#include "gradcheck.h"

using namespace duet;
using namespace duet::testing;

TEST(Autograd, FanInSumsGradients) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {3});
  x.set_requires_grad(true);
  // L = sum(x*x + x)  ->  dL/dx = 2x + 1
  backward(F::sum(F::add(F::mul(x, x), x)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 5, 7}));
  EXPECT_EQ(tape_size(), 0u);
}

TEST(Autograd, ParameterGradientsAccumulateAcrossBackwardPasses) {
  Rng rng(1);
  Tensor x = random_tensor({4, 3}, rng, -1, 1, DType::f32);
  Tensor w = random_tensor({2, 3}, rng, -1, 1, DType::f32).set_requires_grad(true);
  Tensor b = Tensor::zeros({2}).set_requires_grad(true);
  Tensor labels = Tensor::from_vector<int32_t>({0, 1, 1, 0}, {4});
  backward(F::cross_entropy(F::linear(x, w, b), labels));
  auto g1 = w.grad().to_vector<float>();
  backward(F::cross_entropy(F::linear(x, w, b), labels));
  auto g2 = w.grad().to_vector<float>();
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_FLOAT_EQ(g2[i], 2 * g1[i]);
}

TEST(Autograd, NoGradRecordsNothing) {
  Tensor x = Tensor::full({3}, 2.0).set_requires_grad(true);
  {
    NoGrad ng;
    Tensor y = F::mul(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(tape_size(), 0u);
  }
  Tensor y = F::mul(x, x);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(tape_size(), 1u);
  clear_tape();
}

TEST(Autograd, BackwardRejectsNonScalarAndConstants) {
  Tensor x = Tensor::full({3}, 2.0).set_requires_grad(true);
  EXPECT_THROW(backward(F::mul(x, x)), Error);
  clear_tape();
  EXPECT_THROW(backward(F::sum(Tensor::full({3}, 1.0))), Error);
}

TEST(Params, PackMakesViewsOfOneArena) {
  Parameters p;
  Tensor w = p.create("fc.weight", {2, 3});
  Tensor b = p.create("fc.bias", {2});
  EXPECT_THROW(p.create("fc.bias", {2}), Error);
  w.copy_(Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  p.pack(Device::cpu);
  EXPECT_EQ(p.count(), 8);
  EXPECT_EQ(p.values().to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6, 0, 0}));
  w.data<float>()[0] = 7;  // the handle the model holds writes into the arena
  EXPECT_EQ(p.values().to_vector<float>()[0], 7);
  backward(F::sum(F::linear(Tensor::full({1, 3}, 1.0), w, b)));
  EXPECT_EQ(p.grads().to_vector<float>(), (std::vector<float>{1, 1, 1, 1, 1, 1, 1, 1}));
  p.zero_grad();
  EXPECT_EQ(p.grads().to_vector<float>(), std::vector<float>(8, 0.0f));
  EXPECT_THROW(p.create("late", {1}), Error);
}

namespace {
// Runs 3 SGD steps on p = [1, -2] with fixed gradient sequence and returns p.
std::vector<float> run_sgd(ops::SgdConfig c) {
  Parameters ps;
  Tensor p = ps.create("p", {2});
  p.copy_(Tensor::from_vector<float>({1, -2}, {2}));
  ps.pack(Device::cpu);
  SGD opt(ps, c);
  const float grads[3][2] = {{0.5f, -1.0f}, {0.25f, 2.0f}, {-1.0f, 0.5f}};
  for (auto& g : grads) {
    ps.grads().copy_(Tensor::from_vector<float>({g[0], g[1]}, {2}));
    opt.step();
  }
  return p.to_vector<float>();
}

// The same three steps, written out from torch.optim.SGD's documented update rule.
std::vector<float> reference_sgd(float lr, float mu, float wd, bool nesterov) {
  double p[2] = {1, -2}, v[2] = {0, 0};
  const double grads[3][2] = {{0.5, -1.0}, {0.25, 2.0}, {-1.0, 0.5}};
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 2; ++i) {
      double g = grads[t][i] + wd * p[i];
      if (mu != 0) {
        v[i] = t == 0 ? g : mu * v[i] + g;
        g = nesterov ? g + mu * v[i] : v[i];
      }
      p[i] -= lr * g;
    }
  return {float(p[0]), float(p[1])};
}
}  // namespace

TEST(SGD, PlainMatchesHandComputed) {
  // p1 = p0 - 0.1*g: 1 - 0.05 - 0.025 + 0.1 = 1.025 ; -2 + 0.1 - 0.2 - 0.05 = -2.15
  auto p = run_sgd({0.1f, 0, 0, 0, false});
  EXPECT_NEAR(p[0], 1.025, 1e-6);
  EXPECT_NEAR(p[1], -2.15, 1e-6);
}

TEST(SGD, MomentumMatchesTorchRule) {
  auto p = run_sgd({0.1f, 0.9f, 0, 0, false});
  auto r = reference_sgd(0.1f, 0.9f, 0, false);
  EXPECT_NEAR(p[0], r[0], 1e-6);
  EXPECT_NEAR(p[1], r[1], 1e-6);
  // By hand, first coordinate: v = .5, .7, -.37 ; p = 1 - .1*(.5 + .7 - .37) = 0.917
  EXPECT_NEAR(p[0], 0.917, 1e-6);
}

TEST(SGD, NesterovAndWeightDecay) {
  auto p = run_sgd({0.05f, 0.9f, 0, 0.01f, true});
  auto r = reference_sgd(0.05f, 0.9f, 0.01f, true);
  EXPECT_NEAR(p[0], r[0], 1e-6);
  EXPECT_NEAR(p[1], r[1], 1e-6);
}

TEST(SGD, RejectsBadConfig) {
  Parameters ps;
  ps.create("p", {1});
  EXPECT_THROW(SGD(ps, {0.0f, 0.9f, 0, 0, false}), Error);
  EXPECT_THROW(SGD(ps, {0.1f, -1.0f, 0, 0, false}), Error);
  EXPECT_THROW(SGD(ps, {0.1f, 0.0f, 0, 0, true}), Error);
  SGD opt(ps, {0.1f, 0.9f, 0, 0, false});
  EXPECT_THROW(opt.step(), Error);  // not packed
}

// A new optimizer given the velocity of one that took a step continues as that one would
// (the next step is not a first step); a velocity of the wrong size is refused.
TEST(SGD, SetVelocityContinuesARun) {
  const ops::SgdConfig c{0.1f, 0.9f, 0, 0.01f, true};
  Parameters ps;
  Tensor p = ps.create("p", {2});
  p.copy_(Tensor::from_vector<float>({1, -2}, {2}));
  ps.pack(Device::cpu);
  SGD first(ps, c);
  ps.grads().copy_(Tensor::from_vector<float>({0.5f, -1.0f}, {2}));
  first.step();
  SGD second(ps, c);
  second.set_velocity(first.velocity());
  for (const auto& g : {std::vector<float>{0.25f, 2.0f}, std::vector<float>{-1.0f, 0.5f}}) {
    ps.grads().copy_(Tensor::from_vector<float>(g, {2}));
    second.step();
  }
  const auto want = reference_sgd(0.1f, 0.9f, 0.01f, true);
  EXPECT_NEAR(p.to_vector<float>()[0], want[0], 1e-6);
  EXPECT_NEAR(p.to_vector<float>()[1], want[1], 1e-6);
  EXPECT_THROW(second.set_velocity(Tensor::zeros({3})), Error);
}

// The generator's state: set back, it draws the same numbers again.
TEST(Rng, StateRoundTrip) {
  Rng a(11);
  a.next_u64();
  const uint64_t saved = a.state();
  const double x = a.uniform(), y = a.normal();
  Rng b(0);
  b.set_state(saved);
  EXPECT_EQ(b.uniform(), x);
  EXPECT_EQ(b.normal(), y);
}

// normals() gives both draws of each Box-Muller pair: the first is normal()'s draw from the
// same two uniforms, the second the sine of the same angle; an odd count drops the last sine.
// Over many draws: mean 0, variance 1, and the two members of a pair uncorrelated.
TEST(Rng, NormalsArePairedBoxMullerDraws) {
  std::vector<double> v(5);
  Rng a(7), b(7), c(7);
  a.normals(v.data(), v.size());
  EXPECT_EQ(v[0], b.normal());
  const double u1 = c.uniform(), u2 = c.uniform();
  EXPECT_NEAR(v[1], std::sqrt(-2 * std::log(u1)) * std::sin(6.283185307179586 * u2), 1e-12);
  EXPECT_EQ(v[2], b.normal());
  EXPECT_EQ(v[4], b.normal());
  EXPECT_EQ(a.state(), b.state());  // three pairs drawn, as three calls of normal()

  std::vector<double> w(200000);
  Rng(3).normals(w.data(), w.size());
  double mean = 0, var = 0, pair = 0;
  for (double x : w) mean += x;
  mean /= double(w.size());
  for (size_t i = 0; i < w.size(); i += 2) {
    var += (w[i] - mean) * (w[i] - mean) + (w[i + 1] - mean) * (w[i + 1] - mean);
    pair += (w[i] - mean) * (w[i + 1] - mean);
  }
  var /= double(w.size());
  pair /= double(w.size() / 2);
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.02);
  EXPECT_NEAR(pair / var, 0.0, 0.015);
}

TEST(Init, PyTorchDefaultBounds) {
  Rng rng(3);
  Tensor w = Tensor::zeros({10, 1, 7, 7}), b = Tensor::zeros({10});
  init_default(w, b, rng);
  const double bound = 1.0 / std::sqrt(49.0);
  double lo = 1, hi = -1;
  for (float v : w.to_vector<float>()) {
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  EXPECT_LE(hi, bound);
  EXPECT_GE(lo, -bound);
  EXPECT_GT(hi, 0.9 * bound);  // 490 draws cover the interval
  EXPECT_LT(lo, -0.9 * bound);
  Rng again(3);
  Tensor w2 = Tensor::zeros({10, 1, 7, 7}), b2 = Tensor::zeros({10});
  init_default(w2, b2, again);
  EXPECT_EQ(w.to_vector<float>(), w2.to_vector<float>());  // seeded, deterministic
}

// The gamma and beta samplers behind mixup: sample moments against the distributions' own
// (gamma(k): mean k, variance k; beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))).
TEST(Rng, GammaAndBetaMatchTheirMoments) {
  auto moments = [](auto draw) {
    Rng rng(11);
    const int n = 200000;
    double s = 0, q = 0;
    for (int i = 0; i < n; ++i) {
      const double v = draw(rng);
      EXPECT_TRUE(std::isfinite(v));
      s += v, q += v * v;
    }
    const double m = s / n;
    return std::pair<double, double>{m, q / n - m * m};
  };
  for (double k : {0.2, 0.7, 1.0, 2.5, 9.0}) {
    auto [m, v] = moments([k](Rng& r) { return r.gamma(k); });
    EXPECT_NEAR(m, k, 0.02 * k + 0.01) << "gamma(" << k << ") mean";
    EXPECT_NEAR(v, k, 0.05 * k + 0.01) << "gamma(" << k << ") variance";
  }
  for (double a : {0.2, 0.4, 1.0, 4.0}) {
    double lo = 1, hi = 0;
    auto [m, v] = moments([a, &lo, &hi](Rng& r) {
      const double x = r.beta(a, a);
      lo = std::min(lo, x), hi = std::max(hi, x);
      return x;
    });
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0);
    EXPECT_NEAR(m, 0.5, 0.005) << "beta(" << a << ") mean";
    EXPECT_NEAR(v, 1.0 / (4 * (2 * a + 1)), 0.004) << "beta(" << a << ") variance";
  }
  auto [m, v] = moments([](Rng& r) { return r.beta(2.0, 6.0); });  // asymmetric: mean a / (a + b)
  EXPECT_NEAR(m, 0.25, 0.005);
  EXPECT_NEAR(v, 2.0 * 6.0 / (64.0 * 9.0), 0.002);
}

TEST(Training, TinyCnnLossFallsNearZero) {
  // Two classes of 6x6 images: a bright vertical bar or a bright horizontal bar, with noise.
  Rng rng(5);
  const int N = 32;
  Tensor x = Tensor::zeros({N, 1, 6, 6});
  std::vector<int32_t> y(N);
  for (int n = 0; n < N; ++n) {
    y[n] = n % 2;
    const int pos = int(rng.randint(6));
    for (int i = 0; i < 6; ++i) {
      const int idx = y[n] ? pos * 6 + i : i * 6 + pos;
      x.data<float>()[n * 36 + idx] = 1.0f;
    }
    for (int i = 0; i < 36; ++i) x.data<float>()[n * 36 + i] += float(rng.uniform(-0.1, 0.1));
  }
  Tensor labels = Tensor::from_vector<int32_t>(y, {N});

  Parameters ps;
  Tensor cw = ps.create("conv.weight", {4, 1, 3, 3}), cb = ps.create("conv.bias", {4});
  Tensor fw = ps.create("fc.weight", {2, 16}), fb = ps.create("fc.bias", {2});
  Rng init(1);
  init_default(cw, cb, init);
  init_default(fw, fb, init);
  ps.pack(Device::cpu);
  SGD opt(ps, {0.1f, 0.9f, 0, 0, false});
  double first = 0, last = 0;
  for (int step = 0; step < 500; ++step) {
    ps.zero_grad();
    Tensor h = F::max_pool2d(F::conv2d(x, cw, cb, {1, 1, 0, 0, true}), 2, 2);
    Tensor loss = F::cross_entropy(F::linear(F::flatten(h), fw, fb), labels);
    if (step == 0) first = loss.item();
    last = loss.item();
    backward(loss);
    opt.step();
  }
  EXPECT_GT(first, 0.5);
  EXPECT_LT(last, 0.01) << "loss went from " << first << " to " << last;
}

TEST(Tensor, LargeCpuBlocksAreReusedAndHandedOutWhole) {
  // A freed block of 128 KiB or more is kept and handed out again for the same size (a
  // training step allocates the same shapes every step); its contents are whatever was there,
  // so zeros() still zeroes it.
  const void* first;
  {
    Tensor a = Tensor::full({256, 256}, 3.0, DType::f32, Device::cpu);  // 256 KiB
    first = a.data<float>();
  }
  // Memory taken from the system in between does not get the freed block: the cache holds it.
  std::vector<float> other(256 * 256, 1.0f);
  EXPECT_NE(static_cast<const void*>(other.data()), first);
  Tensor b = Tensor::zeros({256, 256}, DType::f32, Device::cpu);
  EXPECT_EQ(static_cast<const void*>(b.data<float>()), first);
  const std::vector<float> v = b.to_vector<float>();
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; }));
  // A second tensor of that size while the first lives gets its own block.
  Tensor c = Tensor::empty({256, 256}, DType::f32, Device::cpu);
  EXPECT_NE(static_cast<const void*>(c.data<float>()), static_cast<const void*>(b.data<float>()));
  // Another size is another block.
  Tensor d = Tensor::empty({512, 256}, DType::f32, Device::cpu);
  EXPECT_NE(static_cast<const void*>(d.data<float>()), first);
}
