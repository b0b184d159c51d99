// The course recipe, step for step, for comparison with PyTorch (check_course_steps.py).
//
//   duet_course_steps DATA_DIR OUT_DIR STEPS [cpu|cuda]
//
// Builds audio:seed exactly as `duet train --arch audio:seed` does (random split, seed 0) and
// takes STEPS SGD steps (lr 1e-3, momentum 0.9, batch 32) on the training clips in split
// order, without shuffling, so another framework can replay the same batches. Writes
//   OUT/init.safetensors    the parameters before the first step
//   OUT/final.safetensors   the parameters after the last
//   OUT/steps.json          {"clips": [paths in batch order], "losses": [loss of each step]}
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/checkpoint.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/optim.h"
#include "models/datasets.h"
#include "models/task.h"

using namespace duet;

int main(int argc, char** argv) {
  try {
    DUET_CHECK(argc == 4 || argc == 5, "usage: duet_course_steps DATA_DIR OUT_DIR STEPS [cpu|cuda]");
    const std::string data_dir = argv[1], out = argv[2];
    const int steps = std::atoi(argv[3]);
    DUET_CHECK(steps >= 1 && steps <= 70, "STEPS must be in [1, 70] (70 batches of 32 fit in the 2250 training clips), got '",
               argv[3], "'");
    const std::string dev = argc == 5 ? argv[4] : "cpu";
    DUET_CHECK(dev == "cpu" || dev == "cuda", "device must be cpu or cuda, got '", dev, "'");
    const Device device = dev == "cuda" ? Device::cuda : Device::cpu;
    if (device == Device::cuda && !cuda::available()) {
      std::fprintf(stderr, "duet_course_steps: no GPU\n");
      return 77;
    }
    std::filesystem::create_directories(out);

    data::Fsdd ds = data::load_fsdd(data_dir);
    data::Split split = data::make_split(ds, "random", 0.25, 0);
    models::AudioTask task("audio:seed", ds, split.train, split.test, false, 0);
    save_parameters(out + "/init.safetensors", task.params());
    task.to(device);
    SGD opt(task.params(), {.lr = 1e-3f, .momentum = 0.9f});
    nlohmann::json clips = nlohmann::json::array(), losses = nlohmann::json::array();
    for (int64_t i = 0; i < int64_t(steps) * 32; ++i) clips.push_back(ds.recordings[split.train[i]].path);
    Rng rng(0);
    for (int s = 0; s < steps; ++s) {
      std::vector<int64_t> idx;
      for (int64_t i = s * 32; i < (s + 1) * 32; ++i) idx.push_back(i);
      models::Batch b = task.train_batch(idx, rng);
      task.params().zero_grad();
      auto [loss, logits] = task.loss(b, 0);
      backward(loss);
      opt.step();
      losses.push_back(loss.item());
    }
    task.to(Device::cpu);
    save_parameters(out + "/final.safetensors", task.params());
    std::ofstream(out + "/steps.json") << nlohmann::json{{"clips", clips}, {"losses", losses}, {"device", dev}}.dump();
    cuda::release_all();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duet_course_steps: %s\n", e.what());
    return 1;
  }
}
