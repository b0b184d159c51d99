// Small commands: devices, checkpoint, demo.
#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/checkpoint.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/init.h"
#include "engine/ops/gemm.h"
#include "engine/optim.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace duet::cli {

int cmd_devices(const Argv& argv) {
  Args args(argv, {}, {"help"}, "devices");
  if (args.flag("help")) {
    std::printf("usage: duet devices\n");
    return 0;
  }
  std::printf("CUDA backend: %s\n", cuda::built_with_cuda() ? "built" : "not built");
  if (cuda::available()) std::printf("GPU 0: %s\n", cuda::device_name().c_str());
  else std::printf("GPU: none found; duet runs on the CPU\n");
  std::printf("CPU: %d OpenMP threads (OMP_NUM_THREADS sets them), GEMM %s\n", omp_get_max_threads(),
              ops::cpu_gemm_name(ops::cpu_gemm_default()));
  return 0;
}

int cmd_checkpoint(const Argv& argv) {
  Args args(argv, {}, {"help", "json"}, "checkpoint");
  if (args.flag("help") || args.positional().size() != 1) {
    std::printf("usage: duet checkpoint FILE.safetensors [--json]\n");
    return args.flag("help") ? 0 : 2;
  }
  const std::string path = args.positional()[0];
  Metadata meta;
  TensorMap m = load_safetensors(path, &meta);
  if (args.flag("json")) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, t] : m) {
      Tensor d = t.to(DType::f64);
      out[name] = {{"shape", t.shape()}, {"dtype", to_string(t.dtype())}, {"values", d.to_vector<double>()}};
    }
    out["__metadata__"] = meta;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%s: %zu tensors\n", path.c_str(), m.size());
  for (const auto& [name, t] : m)
    std::printf("  %-32s %-8s %s\n", name.c_str(), to_string(t.dtype()).c_str(), shape_str(t.shape()).c_str());
  for (const auto& [k, v] : meta) std::printf("  meta %s = %s\n", k.c_str(), v.c_str());
  return 0;
}

int cmd_demo(const Argv& argv) {
  Args args(argv, {"device", "out", "steps", "seed"}, {"help"}, "demo");
  if (args.flag("help")) {
    std::printf(
        "usage: duet demo [--device cpu|cuda] [--steps N] [--seed N] [--out DIR]\n"
        "Trains a tiny CNN to tell vertical from horizontal bars in noisy 8x8 images and\n"
        "writes DIR/model.safetensors (default DIR: runs/demo).\n");
    return 0;
  }
  const Device device = choose_device(args.str("device", ""));
  const int64_t steps = args.integer("steps", 150, 1, 1000000);
  const uint64_t seed = uint64_t(args.integer("seed", 1, 0, INT64_MAX));
  const std::string out = args.str("out", "runs/demo");
  make_output_folder(out);  // before training, so a wrong --out costs nothing

  Rng rng(seed);
  const int N = 64;
  Tensor x = Tensor::zeros({N, 1, 8, 8});
  std::vector<int32_t> y(N);
  for (int n = 0; n < N; ++n) {
    y[n] = n % 2;
    const int pos = int(rng.randint(8));
    for (int i = 0; i < 8; ++i) x.data<float>()[n * 64 + (y[n] ? pos * 8 + i : i * 8 + pos)] = 1.0f;
    for (int i = 0; i < 64; ++i) x.data<float>()[n * 64 + i] += float(rng.uniform(-0.2, 0.2));
  }
  x = x.to(device);
  Tensor labels = Tensor::from_vector<int32_t>(y, {N}, device);

  Parameters ps;
  Tensor cw = ps.create("conv.weight", {4, 1, 3, 3}), cb = ps.create("conv.bias", {4});
  Tensor fw = ps.create("fc.weight", {2, 36}), fb = ps.create("fc.bias", {2});
  init_default(cw, cb, rng);
  init_default(fw, fb, rng);
  ps.pack(device);
  SGD opt(ps, {0.1f, 0.9f, 0, 0, false});
  std::printf("demo: %lld parameters on %s, %lld steps\n", (long long)ps.count(), to_string(device).c_str(),
              (long long)steps);
  double loss_value = 0;
  for (int64_t step = 0; step < steps; ++step) {
    ps.zero_grad();
    Tensor h = F::max_pool2d(F::conv2d(x, cw, cb, {1, 1, 0, 0, true}), 2, 2);
    Tensor loss = F::cross_entropy(F::linear(F::flatten(h), fw, fb), labels);
    backward(loss);
    opt.step();
    if (step % 25 == 0 || step + 1 == steps) {
      loss_value = loss.item();
      std::printf("step %4lld  loss %.5f\n", (long long)step, loss_value);
    }
  }
  save_parameters(out + "/model.safetensors", ps, {{"model", "demo"}});
  std::printf("wrote %s/model.safetensors\n", out.c_str());
  return 0;
}

}  // namespace duet::cli
