// duet's picture preparation (models::to_mnist_form: what duet predict and eval --inputs do to
// a picture before the network sees it) on one drawn zero in the kinds of picture
// docs/training.md measures: as MNIST stores it (28x28, light on black), clean and with
// Gaussian noise or salt-and-pepper specks in the file, and 4x enlarged as dark ink on white
// paper (112x112), blank, ruled, ruled and turned 8 degrees, squared, noisy, ruled and noisy.
// One core, one picture per iteration. Each row first checks that the preparation took the step
// its picture calls for (PictureNotes: smoothed, specks replaced, lines taken out) and none of the
// others.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "models/image_data.h"

using namespace duet;

namespace {

struct Picture {
  const char* label;
  bool paper;        // 112x112 dark on white paper, else 28x28 light on black
  double noise;      // Gaussian noise sigma in the file
  double salt;       // share of pixels set to black or white
  double lines;      // ruled lines this dark (0: none), every 28 pixels, 2 pixels wide
  bool grid;         // vertical lines too
  double degrees;    // the lines turned by this much
};

const Picture kPictures[] = {
    {"mnist_clean", false, 0, 0, 0, false, 0},    {"mnist_noise_0.3", false, 0.3, 0, 0, false, 0},
    {"mnist_salt_0.1", false, 0, 0.1, 0, false, 0}, {"paper_clean", true, 0, 0, 0, false, 0},
    {"paper_ruled", true, 0, 0, 0.3, false, 0},   {"paper_ruled_8deg", true, 0, 0, 0.3, false, 8},
    {"paper_squared", true, 0, 0, 0.3, true, 0},  {"paper_noise_0.1", true, 0.1, 0, 0, false, 0},
    {"paper_ruled_0.6_noise_0.1", true, 0.1, 0, 0.6, false, 0},
};

std::vector<uint8_t> draw(const Picture& p) {
  const int n = p.paper ? 112 : 28;
  const double slope = std::tan(p.degrees * M_PI / 180);
  Rng rng(1);
  std::vector<uint8_t> g(size_t(n) * n);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const double u = (x + 0.5) * 28.0 / n, v = (y + 0.5) * 28.0 / n;  // MNIST's coordinates
      const double d = std::hypot((u - 14) / 5.0, (v - 14) / 8.0);
      double ink = std::clamp(1.0 - std::abs(d - 1.0) * 4.0, 0.0, 1.0);  // a ring: a zero
      auto on_line = [&](double along, double across) {
        const double c = across - slope * (along - n / 2.0) - 3;
        return p.lines > 0 && c - 28 * std::floor(c / 28) < 2;
      };
      if (on_line(x, y) || (p.grid && on_line(y, x))) ink = std::max(ink, p.lines);
      double level = p.paper ? 1 - 0.85 * ink : ink;
      if (p.noise > 0) level += p.noise * rng.normal();
      if (p.salt > 0 && rng.uniform() < p.salt) level = rng.uniform() < 0.5 ? 0 : 1;
      g[size_t(y) * n + x] = uint8_t(std::lround(std::clamp(level, 0.0, 1.0) * 255));
    }
  return g;
}

void BM_ToMnistForm(benchmark::State& state, Picture p) {
  const std::vector<uint8_t> g = draw(p);
  const int n = p.paper ? 112 : 28;
  models::PictureNotes notes;
  (void)models::to_mnist_form(g, n, n, &notes);
  if ((notes.noise > 0) != (p.noise > 0) || (notes.impulses > 0) != (p.salt > 0) || (notes.lines > 0) != (p.lines > 0)) {
    state.SkipWithError("the preparation did not take the step this picture calls for");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(models::to_mnist_form(g, n, n));
  state.counters["pixels"] = double(n) * n;
}

int register_all() {
  for (const Picture& p : kPictures)
    benchmark::RegisterBenchmark((std::string("to_mnist_form/") + p.label).c_str(), BM_ToMnistForm, p)
        ->Unit(benchmark::kMicrosecond);
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
