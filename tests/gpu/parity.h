// Tier 2 helpers: run the same op on the CPU (in float64, the reference) and on the GPU
// (float32) and compare outputs and every input gradient with |a - b| <= atol + rtol*|ref|.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/functional.h"
#include "engine/rng.h"

#define DUET_REQUIRE_GPU() \
  if (!::duet::cuda::available()) GTEST_SKIP() << "no CUDA device"

namespace duet::testing {

inline Tensor random_input(const Shape& shape, Rng& rng, double lo = -1, double hi = 1) {
  Tensor t = Tensor::empty(shape, DType::f64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = rng.uniform(lo, hi);
  return t;
}

inline void expect_close(const Tensor& gpu, const Tensor& ref, double atol, double rtol, const std::string& what) {
  ASSERT_EQ(gpu.shape(), ref.shape()) << what;
  auto g = gpu.to(Device::cpu).to(DType::f64).to_vector<double>();
  auto r = ref.to(Device::cpu).to(DType::f64).to_vector<double>();
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double err = std::abs(g[i] - r[i]);
    if (!(err <= atol + rtol * std::abs(r[i]))) {
      if (first < 0) first = int64_t(i);
      ++bad;
    }
    worst = std::max(worst, err);
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << g.size() << " elements differ; first at " << first
                    << " (gpu " << (first >= 0 ? g[first] : 0) << ", ref " << (first >= 0 ? r[first] : 0)
                    << "), max abs error " << worst;
}

// f is applied to CPU float64 copies and to CUDA float32 copies of `inputs`; int32 inputs
// (labels) are passed through unchanged. Compares forward and the gradient of sum(f * R).
inline void check_parity(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                         const std::vector<Tensor>& inputs, double atol = 1e-5, double rtol = 1e-4,
                         uint64_t seed = 3) {
  std::vector<Tensor> cpu, gpu;
  for (const Tensor& t : inputs) {
    if (t.dtype() == DType::i32) {
      cpu.push_back(t);
      gpu.push_back(t.to(Device::cuda));
      continue;
    }
    cpu.push_back(t.to(DType::f64).clone().set_requires_grad(true));
    gpu.push_back(t.to(DType::f32).to(Device::cuda).set_requires_grad(true));
  }
  Tensor ycpu = f(cpu);
  Rng rng(seed);
  Tensor R = random_input(ycpu.shape(), rng);
  backward(F::sum(F::mul(ycpu, R)));
  Tensor ygpu = f(gpu);
  backward(F::sum(F::mul(ygpu, R.to(DType::f32).to(Device::cuda))));
  cuda::synchronize();
  expect_close(ygpu, ycpu, atol, rtol, "forward");
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() == DType::i32) continue;
    ASSERT_TRUE(gpu[i].grad().defined()) << "input " << i << " got no gradient on the GPU";
    expect_close(gpu[i].grad(), cpu[i].grad(), atol, rtol, "gradient of input " + std::to_string(i));
  }
}

}  // namespace duet::testing
