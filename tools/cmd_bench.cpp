// duet bench: end-to-end timings on the real data, with the data preloaded on the device,
// for comparison with bench/pytorch_reference.py on the same GPU:
//   frontend       MelSpectrogram()+AmplitudeToDB features of all 3000 clips x 48000 samples
//   audio_seed     one epoch of the course CNN (2250 clips, batch 32, SGD 1e-3/0.9)
//   image_duet     one epoch of the MNIST CNN (60000 images, batch 64)
//   fusion_concat  one epoch of concat fusion (2250 pairs, batch 32)
// Each is the median of --repeat runs after one warm-up run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/optim.h"
#include "models/audio_data.h"
#include "models/datasets.h"
#include "models/image_data.h"
#include "models/layers.h"
#include "models/networks.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace duet::cli {
namespace {

double median_ms(int repeat, const std::function<void()>& fn) {
  fn();  // warm-up: caches, cuFFT plans, the allocator's free lists
  cuda::synchronize();
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    cuda::synchronize();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Splits [N, ...] host data into device batches of `batch` rows.
std::vector<Tensor> device_batches(const Tensor& all, int64_t batch, Device d) {
  std::vector<Tensor> out;
  const int64_t n = all.size(0), row = all.numel() / n;
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t b = std::min(batch, n - s);
    Shape shape = all.shape();
    shape[0] = b;
    Tensor t = Tensor::empty(shape, all.dtype(), Device::cpu);
    std::memcpy(t.raw_data(), static_cast<const char*>(all.raw_data()) + s * row * dtype_size(all.dtype()),
                size_t(b * row) * dtype_size(all.dtype()));
    out.push_back(t.to(d));
  }
  return out;
}

// One epoch of SGD over preloaded batches.
void epoch(const std::vector<Tensor>& xs, const std::vector<Tensor>& ys, Parameters& ps, SGD& opt,
           const std::function<Tensor(const Tensor&, size_t)>& logits) {
  for (size_t i = 0; i < xs.size(); ++i) {
    ps.zero_grad();
    backward(F::cross_entropy(logits(xs[i], i), ys[i]));
    opt.step();
  }
}

}  // namespace

int cmd_bench(const Argv& argv) {
  Args args(argv, {"device", "data", "repeat", "only"}, {"help", "json"}, "bench");
  if (args.flag("help")) {
    std::printf(
        "usage: duet bench [--device cuda|cpu] [--data DIR] [--repeat N] [--only NAME] [--json]\n"
        "Times the front-end and one training epoch of each model on the real data, preloaded\n"
        "on the device (median of N runs after a warm-up). NAME: frontend, audio_seed,\n"
        "image_duet, fusion_concat. Kernel-level comparisons with cuDNN/cuBLAS: build/bench/duet_bench.\n");
    return 0;
  }
  const Device dev = choose_device(args.str("device", ""));
  const int repeat = int(args.integer("repeat", 5, 1, 1000));
  const std::string only = args.str("only", "");
  DUET_CHECK(only.empty() || only == "frontend" || only == "audio_seed" || only == "image_duet" || only == "fusion_concat",
             "--only expects frontend, audio_seed, image_duet or fusion_concat, got '", only, "'");
  const std::string root = data::resolve_data_dir(args.str("data", ""));
  auto want = [&](const char* n) { return only.empty() || only == n; };
  nlohmann::json out = {{"device", to_string(dev)}, {"gpu", cuda::device_name()}, {"repeat", repeat}};
  auto finish = [&] {
    if (args.flag("json")) {
      std::printf("%s\n", out.dump().c_str());
      return 0;
    }
    std::printf("duet bench on %s%s (median of %d)\n", to_string(dev).c_str(),
                dev == Device::cuda ? (" (" + cuda::device_name() + ")").c_str() : "", repeat);
    for (auto& [k, v] : out.items())
      if (v.is_number_float()) std::printf("  %-24s %10.2f ms\n", k.c_str(), v.get<double>());
    return 0;
  };

  data::Fsdd ds = data::load_fsdd(root);
  const models::AudioRecipe course = models::audio_recipe("course");
  std::vector<int64_t> all(ds.recordings.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = int64_t(i);
  models::AudioSet clips(ds, all, course);
  Tensor waves = Tensor::empty({clips.size(), course.num_samples});
  for (int64_t i = 0; i < clips.size(); ++i) {
    auto x = models::prepare_wave(clips.wave(i), course.sample_rate, course);
    std::copy(x.begin(), x.end(), waves.data<float>() + i * course.num_samples);
  }
  Tensor dwaves = waves.to(dev);
  if (want("frontend"))
    out["frontend_ms"] = median_ms(repeat, [&] { models::audio_features(dwaves, course); });

  if (!want("audio_seed") && !want("image_duet") && !want("fusion_concat")) return finish();
  data::Split split = data::make_split(ds, "random", 0.25, 0);
  Tensor feats = models::audio_features(dwaves, course).to(Device::cpu);  // [3000, 1, 128, 241]
  const int64_t per = feats.numel() / feats.size(0);
  Tensor train_x = Tensor::empty({int64_t(split.train.size()), 1, feats.size(2), feats.size(3)});
  std::vector<int32_t> train_y;
  for (size_t k = 0; k < split.train.size(); ++k) {
    std::memcpy(train_x.data<float>() + k * per, feats.data<float>() + split.train[k] * per, per * sizeof(float));
    train_y.push_back(ds.recordings[split.train[k]].digit);
  }
  Tensor train_labels = Tensor::from_vector<int32_t>(train_y, {int64_t(train_y.size())});
  auto ax = device_batches(train_x, 32, dev), ay = device_batches(train_labels, 32, dev);

  if (want("audio_seed")) {
    Parameters ps;
    auto net = models::build_network("audio:seed", course.input_shape(), 0, ps);
    ps.pack(dev);
    SGD opt(ps, {0.001f, 0.9f, 0, 0, false});
    out["audio_seed_epoch_ms"] =
        median_ms(repeat, [&] { epoch(ax, ay, ps, opt, [&](const Tensor& x, size_t) { return net->forward(x, true, 0); }); });
  }
  if (want("image_duet") || want("fusion_concat")) {
    data::Mnist m = data::load_mnist(root, "train");
    Tensor img = Tensor::empty({m.count, 1, 28, 28});
    for (int64_t i = 0; i < m.count * 784; ++i) img.data<float>()[i] = (m.pixels[i] / 255.0f - 0.1307f) / 0.3081f;
    std::vector<int32_t> y(m.labels.begin(), m.labels.end());
    Tensor labels = Tensor::from_vector<int32_t>(y, {m.count});
    if (want("image_duet")) {
      auto ix = device_batches(img, 64, dev), iy = device_batches(labels, 64, dev);
      Parameters ps;
      auto net = models::build_network("image:duet", {1, 28, 28}, 0, ps);
      ps.pack(dev);
      SGD opt(ps, {0.01f, 0.9f, 0, 0, false});
      out["image_duet_epoch_ms"] = median_ms(
          std::max(1, repeat / 2), [&] { epoch(ix, iy, ps, opt, [&](const Tensor& x, size_t) { return net->forward(x, true, 1); }); });
    }
    if (want("fusion_concat")) {
      // Pairs: the i-th training clip with an MNIST image of its digit, batch 32; the audio
      // branch is the course CNN, as in the PyTorch reference's naive concat fusion.
      std::vector<int64_t> pick;
      std::vector<size_t> next(10, 0);
      std::vector<std::vector<int64_t>> by_digit(10);
      for (int64_t i = 0; i < m.count; ++i) by_digit[m.labels[i]].push_back(i);
      for (int32_t d : train_y) pick.push_back(by_digit[d][next[d]++]);
      Tensor paired = Tensor::empty({int64_t(pick.size()), 1, 28, 28});
      for (size_t k = 0; k < pick.size(); ++k)
        std::memcpy(paired.data<float>() + k * 784, img.data<float>() + pick[k] * 784, 784 * sizeof(float));
      auto px = device_batches(paired, 32, dev);
      Parameters ps;
      auto audio = models::build_network("audio:seed", course.input_shape(), 0, ps, "audio.");
      auto image = models::build_network("image:duet", {1, 28, 28}, 1, ps, "image.");
      Rng rng(2);
      models::Linear head(ps, "head", audio->feature_dim() + image->feature_dim(), 10, rng);
      ps.pack(dev);
      SGD opt(ps, {0.001f, 0.9f, 0, 0, false});
      out["fusion_concat_epoch_ms"] = median_ms(repeat, [&] {
        epoch(ax, ay, ps, opt, [&](const Tensor& x, size_t i) {
          return head(F::concat({audio->features(x, true, 0), image->features(px[i], true, 0)}));
        });
      });
    }
  }
  return finish();
}

}  // namespace duet::cli
