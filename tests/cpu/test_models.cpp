// The model layer: pairing for fusion (never across train and test), image normalisation
// to MNIST form, deterministic training on the CPU, checkpoint round trips of tasks.
#include <gtest/gtest.h>
#include <omp.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <tuple>

#include "dsp/features.h"
#include "dsp/resample.h"
#include "dsp/wav.h"
#include "engine/autograd.h"
#include "engine/checkpoint.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/ops/conv2d.h"
#include "models/fusion.h"
#include "models/audio_data.h"
#include "models/layers.h"
#include "models/networks.h"
#include "models/printed_digits.h"
#include "models/strokes.h"
#include "models/trainer.h"
#include "tests/cpu/scratch.h"
#include "tools/reading.h"

using namespace duet;
namespace fs = std::filesystem;

namespace {

void write_gz(const fs::path& p, const std::vector<uint8_t>& b) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  gzwrite(f, b.data(), unsigned(b.size()));
  gzclose(f);
}

// Training augmentation with every random step switched off (no shift, speed, gain, noise or
// masks): a test turns on the one it measures.
models::AudioAugment augmentation_without_draws() {
  models::AudioAugment a;
  a.enabled = true;
  a.max_shift = 0, a.speed_min = a.speed_max = 1.0, a.gain_db = 0, a.noise_prob = 0;
  a.time_masks = a.freq_masks = 0;
  return a;
}

// The training features of clips 0-3 of `set` with every random step off but what `turn_on`
// sets in the augmentation, from the same generator each call.
std::vector<float> features_with(models::AudioSet& set, const std::function<void(models::AudioAugment&)>& turn_on) {
  models::AudioAugment a = augmentation_without_draws();
  turn_on(a);
  Rng rng(3);
  return set.batch({0, 1, 2, 3}, a, rng, Device::cpu).to_vector<float>();
}

double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, double(std::abs(a[i] - b[i])));
  return d;
}

// make(train) builds one batch from a generator seeded 'seed' and returns it; the batch must
// be the same to the bit on 1, 2 and 3 OpenMP threads, with training augmentation and without,
// and take exactly one draw of the generator.
void expect_batch_same_on_any_threads(uint64_t seed, const std::function<Tensor(bool, Rng&)>& make) {
  const int before = omp_get_max_threads();
  auto run = [&](int threads, bool train) {
    omp_set_num_threads(threads);
    Rng rng(seed);
    const std::vector<float> v = make(train, rng).to_vector<float>();
    EXPECT_EQ(rng.state(), Rng(seed).state() + 1) << threads << " threads";
    return v;
  };
  for (bool train : {true, false}) {
    const std::vector<float> one = run(1, train);
    for (int threads : {2, 3}) EXPECT_EQ(run(threads, train), one) << threads << " threads, train " << train;
  }
  omp_set_num_threads(before);
}

void be32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(uint8_t(v >> (8 * i)));
}

// Where the ink of a 28x28 digit lies: the box around the pixels above `threshold`, and the
// centre of mass of all of it (pixel centres at i + 0.5).
struct InkBox {
  int width, height;
  double cx, cy, mass;
};
template <typename T>
InkBox ink_box(const std::vector<T>& d, double threshold) {
  int x0 = 28, x1 = -1, y0 = 28, y1 = -1;
  double mass = 0, cx = 0, cy = 0;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      const double v = d[y * 28 + x];
      mass += v, cx += v * (x + 0.5), cy += v * (y + 0.5);
      if (v > threshold) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  return {x1 - x0 + 1, y1 - y0 + 1, mass > 0 ? cx / mass : 0, mass > 0 ? cy / mass : 0, mass};
}

// A tiny data folder: FSDD-style tones (digit d = a tone at 300 + 150 d Hz) from two
// speakers, and MNIST-style images whose left half is black and whose right half is 100 in
// *training* images and 200 in *test* images, so a batch reveals which set its images came from.
fs::path make_tiny_data() {
  static const duet_test::ScratchFolder folder("duet_tiny_");
  const fs::path root = folder.path();
  if (fs::exists(root / "done")) return root;
  fs::create_directories(root / "fsdd" / "recordings");
  fs::create_directories(root / "mnist");
  for (int d = 0; d < 10; ++d)
    for (const char* sp : {"ann", "bob"})
      for (int k = 0; k < 6; ++k) {
        std::vector<float> x(3000);
        for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * float(std::sin(2 * M_PI * (300 + 150 * d + 7 * k) * i / 8000.0));
        dsp::write_wav((root / "fsdd" / "recordings" / (std::to_string(d) + "_" + sp + "_" + std::to_string(k) + ".wav")).string(), x, 8000);
      }
  for (auto [prefix, n, value] : {std::tuple{"train", 50, 100}, {"t10k", 30, 200}}) {
    std::vector<uint8_t> img, lab;
    be32(img, 2051), be32(img, n), be32(img, 28), be32(img, 28);
    be32(lab, 2049), be32(lab, n);
    for (int i = 0; i < n; ++i) {
      for (int p = 0; p < 784; ++p) img.push_back(uint8_t(p % 28 < 14 ? 0 : value));
      lab.push_back(uint8_t(i % 10));
    }
    write_gz(root / "mnist" / (std::string(prefix) + "-images-idx3-ubyte.gz"), img);
    write_gz(root / "mnist" / (std::string(prefix) + "-labels-idx1-ubyte.gz"), lab);
  }
  std::ofstream(root / "done") << "ok";
  return root;
}

// The tiny data set (make_tiny_data), split at random 75/25 (seed 4).
struct TinyRandomSplit {
  fs::path root = make_tiny_data();
  data::Fsdd ds = data::load_fsdd(root.string());
  data::Split split = data::make_split(ds, "random", 0.25, 4);
};

// Fusion options without the random training effects (modality dropout, noise), so batches
// show only what the data and the benchmark put in them.
models::FusionOptions without_random_effects() {
  models::FusionOptions o;
  o.modality_dropout = 0;
  o.noise_prob = 0;
  return o;
}

// What a task's forward should give, not training, for a batch with test-time views: the mean
// over the input and its views of log(softmax + 1e-30), each reading run through forward alone.
std::vector<double> mean_log_softmax_of_readings(models::Task& t, const models::Batch& b) {
  const bool audio = b.audio.defined();
  std::vector<Tensor> readings{audio ? b.audio : b.image};
  readings.insert(readings.end(), b.views.begin(), b.views.end());
  std::vector<double> want;
  for (const Tensor& v : readings) {
    models::Batch one;
    (audio ? one.audio : one.image) = v;
    const auto p = F::softmax(t.forward(one, false, 0)).to_vector<float>();
    want.resize(p.size(), 0.0);
    for (size_t k = 0; k < p.size(); ++k) want[k] += std::log(double(p[k]) + 1e-30) / double(readings.size());
  }
  return want;
}

}  // namespace

TEST(Fusion, PairingMatchesDigitsAndIsSeeded) {
  std::vector<int32_t> labels = {3, 1, 3, 7, 0, 3};
  std::vector<uint8_t> images = {0, 1, 3, 3, 7, 3, 1, 0};
  Rng a(5), b(5), c(6);
  auto p = models::pair_by_label(labels, images, a);
  for (size_t k = 0; k < labels.size(); ++k) EXPECT_EQ(images[p[k]], labels[k]);
  EXPECT_EQ(p, models::pair_by_label(labels, images, b));
  std::set<int64_t> threes = {p[0], p[2], p[5]};
  EXPECT_EQ(threes.size(), 3u);  // all three 3s used before any repeats
  std::vector<uint8_t> no_sevens = {0, 1, 3};
  EXPECT_THROW(models::pair_by_label(labels, no_sevens, c), Error);
}

TEST(Fusion, PairingNeverCrossesTrainAndTest) {
  fs::path root = make_tiny_data();
  data::Fsdd ds = data::load_fsdd(root.string());
  data::Split split = data::make_split(ds, "speaker:bob");
  models::FusionTask t("fusion:concat", ds, split, root.string(), false, 1, without_random_effects());
  t.to(Device::cpu);
  EXPECT_TRUE(t.config().at("audio").at("test_speeds").empty()) << "fusion reads each clip once";
  Rng rng(2);
  std::vector<int64_t> all_train(t.train_size()), all_test(t.test_size());
  for (int64_t i = 0; i < t.train_size(); ++i) all_train[i] = i;
  for (int64_t i = 0; i < t.test_size(); ++i) all_test[i] = i;
  // Each set's images hold two raw values: 0 and 100 (train) or 0 and 200 (test); after
  // normalisation the largest value tells the sets apart.
  auto values = [](const Tensor& img) {
    std::set<float> v;
    for (float x : img.to_vector<float>()) v.insert(std::round(x * 1000) / 1000);
    return v;
  };
  models::Batch tr = t.train_batch(all_train, rng), te = t.test_batch(all_test, rng);
  auto vtr = values(tr.image), vte = values(te.image);
  ASSERT_EQ(vtr.size(), 2u);
  ASSERT_EQ(vte.size(), 2u);
  EXPECT_EQ(*vtr.begin(), *vte.begin());     // the same black
  EXPECT_LT(*vtr.rbegin(), *vte.rbegin());   // 100 < 200: train images only from MNIST train
  // Labels of pairs agree: the test batch's labels are the clips' digits.
  auto labels = te.labels.to_vector<int32_t>();
  for (int64_t i = 0; i < t.test_size(); ++i) EXPECT_EQ(labels[i], t.test_label(i));
}

TEST(Fusion, EveryStrategyTrainsAndSurvivesAMissingModality) {
  fs::path root = make_tiny_data();
  data::Fsdd ds = data::load_fsdd(root.string());
  data::Split split = data::make_split(ds, "speaker:bob");
  for (const char* arch : {"fusion:early", "fusion:concat", "fusion:attention", "fusion:late"}) {
    SCOPED_TRACE(arch);
    models::FusionTask t(arch, ds, split, root.string(), true, 3, {});
    t.to(Device::cpu);
    models::TrainOptions o;
    o.epochs = 2;
    o.batch = 16;
    o.sgd.lr = 0.01f;
    models::EvalResult last;
    models::TrainCallbacks cb;
    cb.final_eval = &last;
    auto h = models::train(t, o, cb);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_TRUE(std::isfinite(h[1].train_loss));
    // The evaluation handed back after the last epoch (late fusion's weight fitted before it)
    // is the one evaluate() gives afterwards, which duet train therefore does not repeat.
    const models::EvalResult again = models::evaluate(t, o.eval_batch, o.seed);
    EXPECT_EQ(last.count, again.count);
    EXPECT_EQ(last.predictions, again.predictions);
    EXPECT_EQ(last.loss, again.loss);
    EXPECT_EQ(last.accuracy, h[1].test_acc);
    Rng rng(1);
    for (const auto& d : models::standard_degradations()) {
      models::Batch b = t.degraded_test_batch({0, 1, 2}, rng, d);
      models::FusionOutputs out = t.outputs(b);
      ASSERT_EQ(out.fused.shape(), (Shape{3, 10})) << d.name;
      ASSERT_TRUE(out.audio.defined() && out.image.defined()) << d.name;
      if (std::string(arch) == "fusion:attention") {
        auto a = out.alpha.to_vector<float>();
        EXPECT_NEAR(a[0] + a[1], 1.0f, 1e-5);
      }
    }
  }
}

// The image encoder is the --init-image model's network (image:duet or image:vgg), weights and
// batch-norm statistics copied; image:vgg is recorded in config.json and rebuilt from it (absent:
// image:duet, as models were written before); any other model or value is refused by name.
TEST(Fusion, ImageEncoderFollowsTheInitImageModel) {
  fs::path root = make_tiny_data();
  data::Fsdd ds = data::load_fsdd(root.string());
  data::Split split = data::make_split(ds, "speaker:bob");
  const duet_test::ScratchFolder folder("duet_init_vgg_");
  const fs::path dir = folder.path();
  Parameters vgg_params;
  models::build_network("image:vgg", {1, 28, 28}, 7, vgg_params);
  TensorMap saved;
  for (const auto& [name, t] : vgg_params.items()) saved[name] = t;
  for (const auto& [name, t] : vgg_params.buffers()) {
    float* v = Tensor(t).data<float>();  // not the fresh 0 and 1
    std::fill(v, v + t.numel(), name.find("running_mean") != std::string::npos ? 0.25f : 2.0f);
    saved[name] = t;
  }
  save_safetensors((dir / "model.safetensors").string(), saved);
  auto write_config = [&](const std::string& arch) {
    std::ofstream(dir / "config.json") << R"({"arch": ")" << arch << "\"}";
  };
  write_config("image:vgg");
  models::FusionOptions opts = without_random_effects();
  opts.init_image = dir.string();
  models::FusionTask t("fusion:concat", ds, split, root.string(), false, 1, opts);
  nlohmann::json cfg = t.config();
  EXPECT_EQ(cfg.at("fusion").at("image_arch").get<std::string>(), "image:vgg");
  for (const auto& [name, want] : saved) {
    const Tensor got = t.params().find("image." + name);
    ASSERT_TRUE(got.defined()) << name;
    EXPECT_EQ(got.to_vector<float>(), Tensor(want).to_vector<float>()) << name;
  }
  cfg["data"] = {{"seed", 1}};
  models::FusionTask back(cfg, &ds, split, root.string());
  EXPECT_EQ(back.params().count(), t.params().count());
  EXPECT_TRUE(back.params().find("image.bn4.running_var").defined());
  nlohmann::json old = cfg;  // written before the encoder was recorded, or image:duet's: image:duet
  old["fusion"].erase("image_arch");
  models::FusionTask t_old(old, &ds, split, root.string());
  EXPECT_FALSE(t_old.config().at("fusion").contains("image_arch")) << "image:duet's is not written";
  EXPECT_FALSE(t_old.params().find("image.bn1.running_mean").defined());
  EXPECT_EQ(t_old.params().find("image.conv2.weight").shape(), (Shape{64, 32, 3, 3}));  // image:duet's second conv
  auto refused = [&](auto&& make, const std::string& words) {
    try {
      make();
      ADD_FAILURE() << "accepted; expected an error with: " << words;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  nlohmann::json bad = cfg;
  bad["fusion"]["image_arch"] = "audio:duet";
  refused([&] { models::FusionTask x(bad, &ds, split, root.string()); },
          "fusion.image_arch expects image:duet or image:vgg");
  write_config("audio:duet");
  refused([&] { models::FusionTask x("fusion:concat", ds, split, root.string(), false, 1, opts); },
          "--init-image needs an image:duet or image:vgg model, got audio:duet");
  std::ofstream(dir / "config.json") << "not json";
  refused([&] { models::FusionTask x("fusion:concat", ds, split, root.string(), false, 1, opts); },
          "--init-image needs an image:duet or image:vgg model");
  models::FusionTask early("fusion:early", ds, split, root.string(), false, 1, without_random_effects());
  EXPECT_FALSE(early.config().at("fusion").contains("image_arch")) << "early fusion has no image encoder";
}

// Attention fusion projects each modality linearly: even when every projected unit is
// negative (the state in which a ReLU there never recovers), the audio branch still answers
// differently for different clips. Folders written before that change (no "projection" in
// config.json) load with the ReLU they were trained with; an unknown value is an error.
TEST(Fusion, AttentionProjectionIsLinearAndOldModelsKeepTheirReLU) {
  fs::path root = make_tiny_data();
  data::Fsdd ds = data::load_fsdd(root.string());
  data::Split split = data::make_split(ds, "speaker:bob");
  models::FusionTask t("fusion:attention", ds, split, root.string(), false, 1, without_random_effects());
  nlohmann::json cfg = t.config();
  EXPECT_EQ(cfg.at("fusion").at("projection").get<std::string>(), "linear");
  cfg["data"] = {{"seed", 1}};
  // How many different audio answers the model gives for 4 clips once every projected
  // audio unit is pushed far below zero.
  auto distinct_audio_answers = [&](models::FusionTask& m) {
    Tensor bias = m.params().find("attn.proj_audio.bias");
    for (int64_t i = 0; i < bias.numel(); ++i) bias.data<float>()[i] = -1000.0f;
    Rng rng(2);
    auto logits = m.outputs(m.test_batch({0, 1, 2, 3}, rng)).audio.to_vector<float>();
    std::set<std::vector<float>> rows;
    for (int k = 0; k < 4; ++k) rows.insert(std::vector<float>(logits.begin() + 10 * k, logits.begin() + 10 * k + 10));
    return rows.size();
  };
  EXPECT_EQ(distinct_audio_answers(t), 4u);
  nlohmann::json old = cfg;
  old["fusion"].erase("projection");
  models::FusionTask t_old(old, &ds, split, root.string());
  EXPECT_EQ(t_old.config().at("fusion").at("projection").get<std::string>(), "relu");
  EXPECT_EQ(distinct_audio_answers(t_old), 1u);  // all units dead: one answer for every clip
  nlohmann::json bad = cfg;
  bad["fusion"]["projection"] = "tanh";
  try {
    models::FusionTask t_bad(bad, &ds, split, root.string());
    ADD_FAILURE() << "accepted projection 'tanh'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fusion.projection"), std::string::npos) << e.what();
  }
}

// --hard: every clip carries noise at hard_snr_db, in training and test batches alike, and a
// model rebuilt from its config.json reads the same noisy inputs (the SNR and the image
// projection travel with the model).
TEST(Fusion, HardBenchmarkNoiseIsAppliedAndRemembered) {
  fs::path root = make_tiny_data();
  data::Fsdd ds = data::load_fsdd(root.string());
  data::Split split = data::make_split(ds, "speaker:bob");
  const models::FusionOptions plain = without_random_effects();
  models::FusionOptions hard = plain;
  hard.hard = true;
  hard.hard_snr_db = -7.5;
  models::FusionTask tp("fusion:concat", ds, split, root.string(), false, 1, plain);
  models::FusionTask th("fusion:concat", ds, split, root.string(), false, 1, hard);
  EXPECT_TRUE(th.hard());
  EXPECT_FALSE(tp.hard());
  nlohmann::json cfg = th.config();
  EXPECT_EQ(cfg.at("fusion").at("hard_snr_db").get<double>(), -7.5);
  cfg["data"] = {{"seed", 1}};  // what duet train adds to config.json: the pairing seed
  models::FusionTask back(cfg, &ds, split, root.string());
  EXPECT_TRUE(back.hard());
  const std::vector<int64_t> idx = {0, 1, 2, 3};
  auto audio_of = [&](models::FusionTask& t) {
    Rng rng(9);
    return t.test_batch(idx, rng).audio.to_vector<float>();
  };
  const auto a_plain = audio_of(tp), a_hard = audio_of(th), a_back = audio_of(back);
  double diff = 0;
  for (size_t i = 0; i < a_plain.size(); ++i) diff += std::fabs(a_plain[i] - a_hard[i]);
  EXPECT_GT(diff / double(a_plain.size()), 0.05);  // the noise changed the features
  ASSERT_EQ(a_hard.size(), a_back.size());
  for (size_t i = 0; i < a_hard.size(); ++i) ASSERT_NEAR(a_hard[i], a_back[i], 1e-5) << i;
  // A different SNR gives different inputs: the rebuilt model did not fall back to a default.
  nlohmann::json other = cfg;
  other["fusion"]["hard_snr_db"] = 20.0;
  models::FusionTask louder(other, &ds, split, root.string());
  const auto a_louder = audio_of(louder);
  double d2 = 0;
  for (size_t i = 0; i < a_hard.size(); ++i) d2 += std::fabs(a_hard[i] - a_louder[i]);
  EXPECT_GT(d2 / double(a_hard.size()), 0.01);
}

TEST(Images, ToMnistFormCentresAndFixesPolarity) {
  // A dark bar on a white 90x60 canvas, far from the centre.
  const int w = 90, h = 60;
  std::vector<uint8_t> g(w * h, 255);
  for (int y = 5; y < 45; ++y)
    for (int x = 60; x < 70; ++x) g[y * w + x] = 0;
  auto d = models::to_mnist_form(g, w, h);
  const InkBox box = ink_box(d, 0.5);
  EXPECT_NEAR(box.cx, 14, 1.0);
  EXPECT_NEAR(box.cy, 14, 1.0);
  EXPECT_EQ(box.height, 20);  // the longer side fills 20 pixels
  EXPECT_LE(box.width, 6);
  EXPECT_EQ(d[0], 0.0f);       // dark background
  std::vector<uint8_t> blank(w * h, 255);
  EXPECT_THROW(models::to_mnist_form(blank, w, h), Error);
}

// clean_picture (what duet show draws): light ink on a dark background, the picture shrunk to at
// most 256 pixels a side, `scale` of its pixels to one.
TEST(Images, CleanPictureIsThePictureTheDigitIsLookedForIn) {
  const int w = 600, h = 300;  // a dark bar on white paper, shrunk 3 times to 200 x 100
  std::vector<uint8_t> g(size_t(w) * h, 240);
  for (int y = 60; y < 240; ++y)
    for (int x = 300; x < 330; ++x) g[size_t(y) * w + x] = 30;
  models::PictureNotes notes;
  notes.strays = 5;  // cleared: clean_picture sets every note it knows and zeroes the rest
  const models::CleanPicture c = models::clean_picture(g, w, h, &notes);
  ASSERT_EQ(c.scale, 3);
  ASSERT_EQ(c.w, 200);
  ASSERT_EQ(c.h, 100);
  ASSERT_EQ(c.ink.size(), size_t(200) * 100);
  EXPECT_EQ(notes.strays, 0);
  EXPECT_EQ(notes.lines, 0);
  EXPECT_EQ(notes.noise, 0);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 200; ++x) {
      const bool bar = x >= 100 && x < 110 && y >= 20 && y < 80;
      if (bar) EXPECT_GT(c.ink[size_t(y) * 200 + x], 0.8f) << x << "," << y;
      else EXPECT_LT(c.ink[size_t(y) * 200 + x], 0.05f) << x << "," << y;
    }
  // Light ink on black is kept as it is (at full size: 256 pixels a side or fewer).
  std::vector<uint8_t> light(size_t(64) * 48, 10);
  for (int y = 10; y < 40; ++y) light[size_t(y) * 64 + 30] = 250;
  const models::CleanPicture l = models::clean_picture(light, 64, 48);
  EXPECT_EQ(l.scale, 1);
  EXPECT_EQ(l.w, 64);
  EXPECT_GT(l.ink[size_t(20) * 64 + 30], 0.8f);
  EXPECT_LT(l.ink[size_t(20) * 64 + 10], 0.05f);
  EXPECT_THROW(models::clean_picture(light, 64, 47), Error);
}

// Every index of a set of n examples, in order.
std::vector<int64_t> all_indices(int64_t n) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = i;
  return idx;
}

// `count` copies of one 28x28 picture, all labelled `label`, as an MNIST set.
data::Mnist repeated_picture(int64_t count, const std::vector<uint8_t>& picture, int32_t label) {
  data::Mnist m;
  m.count = count, m.rows = m.cols = 28;
  for (int64_t b = 0; b < count; ++b) m.pixels.insert(m.pixels.end(), picture.begin(), picture.end());
  m.labels.assign(size_t(count), label);
  return m;
}

// The same for a digit in [0, 1] (rounded to bytes).
data::Mnist repeated_digit(int64_t count, const std::vector<float>& digit, int32_t label) {
  std::vector<uint8_t> picture(784);
  for (int i = 0; i < 784; ++i) picture[i] = uint8_t(std::lround(255 * digit[i]));
  return repeated_picture(count, picture, label);
}

// Training augmentation with the random affine transform held still, so that a test sees only
// the augmentation it turns on.
models::ImageAugment augment_without_geometry() {
  models::ImageAugment aug;
  aug.enabled = true;
  aug.max_rotate_deg = 0, aug.scale_min = aug.scale_max = 1, aug.max_shift_px = 0, aug.max_shear = 0;
  return aug;
}

// A "0" in [0, 1]: an ellipse of radii 5 x 8 about the centre of the 28x28 field.
std::vector<float> ring_digit() {
  std::vector<float> ring(784, 0.0f);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      const double d = std::hypot((x - 13.5) / 5.0, (y - 13.5) / 8.0);
      ring[y * 28 + x] = float(std::clamp(1.0 - std::abs(d - 1.0) * 4.0, 0.0, 1.0));
    }
  return ring;
}

// The brightest pixel of `back` more than 2 pixels from every inked pixel of `clean` (two
// 28x28 digits, which may be placed a pixel apart: each is centred by its own mass, rounded
// to whole pixels): ink where the clean digit has none.
double stray_ink(const std::vector<float>& back, const std::vector<float>& clean) {
  double stray = 0;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      bool near = false;
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const int yy = y + dy, xx = x + dx;
          near = near || (yy >= 0 && yy < 28 && xx >= 0 && xx < 28 && clean[yy * 28 + xx] > 0.0f);
        }
      if (!near) stray = std::max(stray, double(back[y * 28 + x]));
    }
  return stray;
}

// A photographed digit (dark ink on paper under uneven light, sensor noise) comes back from
// to_mnist_form as the digit: where the clean digit has no ink the photo's has none either
// (the shadow is not read as ink), and the ink lands where the clean digit's does. Pictures
// larger than 256 pixels a side give what their smaller copies give.
TEST(Images, ToMnistFormEvensOutUnevenLight) {
  const std::vector<float> ring = ring_digit();
  std::vector<uint8_t> bytes(784);
  for (int i = 0; i < 784; ++i) bytes[i] = uint8_t(std::lround(255 * ring[i]));
  const std::vector<float> clean = models::to_mnist_form(bytes, 28, 28);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed), again(seed);
    const std::vector<uint8_t> photo = models::photograph(ring.data(), rng);
    ASSERT_EQ(photo.size(), 72u * 72u);
    EXPECT_EQ(models::photograph(ring.data(), again), photo);  // reproducible for a seed
    EXPECT_GT(photo[0] + photo[71] + photo[72 * 71] + photo[72 * 72 - 1], 4 * 100) << "paper is light";
    EXPECT_LT(photo[size_t(8 + 2 * 14) * 72 + 8 + 17], 130) << "ink is dark";  // on the ring's left side
    models::PictureNotes notes;
    const std::vector<float> back = models::to_mnist_form(photo, 72, 72, &notes);
    EXPECT_EQ(notes.noise, 0) << "seed " << seed << ": sensor noise is not smoothed";
    EXPECT_EQ(notes.lines, 0) << "seed " << seed << ": the shadow's edge is not a line";
    double diff = 0;
    for (int i = 0; i < 784; ++i) diff += std::abs(back[i] - clean[i]) / 784;
    EXPECT_LT(stray_ink(back, clean), 0.5) << "seed " << seed << ": the background of the photo was read as ink";
    EXPECT_LT(diff, 0.12) << "seed " << seed;
    EXPECT_NEAR(ink_box(back, 0.5).width, ink_box(clean, 0.5).width, 2) << "seed " << seed;
    EXPECT_NEAR(ink_box(back, 0.5).height, ink_box(clean, 0.5).height, 2) << "seed " << seed;
  }
  // A 1200x900 picture of a bar and its 120x90 copy.
  auto bar = [](int w, int h) {
    std::vector<uint8_t> g(size_t(w) * h, 240);
    for (int y = h / 10; y < h * 8 / 10; ++y)
      for (int x = w * 6 / 10; x < w * 7 / 10; ++x) g[size_t(y) * w + x] = 10;
    return g;
  };
  const std::vector<float> big = models::to_mnist_form(bar(1200, 900), 1200, 900);
  const std::vector<float> small = models::to_mnist_form(bar(120, 90), 120, 90);
  double diff = 0;
  for (int i = 0; i < 784; ++i) diff = std::max(diff, double(std::abs(big[i] - small[i])));
  EXPECT_LT(diff, 0.15);
}

// The noise estimate reads the noise and not the digit: about 0 for a clean digit and for a
// photograph's sensor noise (below kNoisyPicture, so to_mnist_form leaves them as they are),
// the sigma of white noise on grey paper or over a digit, about 0.6 of it where an 8-bit file
// clips the noise at black.
TEST(Images, NoiseEstimateReadsTheNoiseNotTheDigit) {
  const std::vector<float> ring = ring_digit();
  EXPECT_LT(models::estimate_noise_sigma(ring, 28, 28), 0.005);
  Rng rng(3);
  for (double sigma : {0.05, 0.1, 0.2}) {
    std::vector<float> grey(64 * 64), digit = ring;
    for (float& v : grey) v = float(0.5 + sigma * rng.normal());
    for (float& v : digit) v += float(sigma * rng.normal());
    EXPECT_NEAR(models::estimate_noise_sigma(grey, 64, 64), sigma, 0.1 * sigma) << "grey paper, sigma " << sigma;
    EXPECT_NEAR(models::estimate_noise_sigma(digit, 28, 28), sigma, 0.2 * sigma) << "a digit, sigma " << sigma;
    std::vector<float> clipped = ring;
    for (float& v : clipped) v = std::clamp(float(v + sigma * rng.normal()), 0.0f, 1.0f);
    const float c = models::estimate_noise_sigma(clipped, 28, 28);
    EXPECT_GT(c, 0.4 * sigma) << "clipped, sigma " << sigma;
    EXPECT_LT(c, 0.8 * sigma) << "clipped, sigma " << sigma;
  }
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng r(seed);
    const std::vector<uint8_t> photo = models::photograph(ring.data(), r);
    std::vector<float> v(photo.begin(), photo.end());
    for (float& x : v) x /= 255;
    EXPECT_LT(models::estimate_noise_sigma(v, models::kPhotoSide, models::kPhotoSide), models::kNoisyPicture)
        << "seed " << seed;
  }
  EXPECT_EQ(models::estimate_noise_sigma(std::vector<float>{0, 1, 0, 1}, 2, 2), 0.0f);
}

// The ring digit as an 8-bit picture file: 28x28 light on black as MNIST stores it, or (paper)
// 4x enlarged to 112x112, ink `darkness` of the way to black on white paper; with Gaussian noise
// of `sigma` (clipped at black and white) and a share `salt` of the pixels set to black or white,
// half each, drawn from `rng`.
std::vector<uint8_t> ring_file(bool paper, float darkness, double sigma, double salt, Rng& rng) {
  const std::vector<float> ring = ring_digit();
  const int n = paper ? 112 : 28;
  std::vector<uint8_t> g(size_t(n) * n);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const float ink = ring[size_t(y * 28 / n) * 28 + x * 28 / n];
      double v = paper ? 1 - darkness * ink : ink;
      if (sigma > 0) v += sigma * rng.normal();
      if (salt > 0 && rng.uniform() < salt) v = rng.uniform() < 0.5 ? 0 : 1;
      g[size_t(y) * n + x] = uint8_t(std::lround(std::clamp(v * 255.0, 0.0, 255.0)));
    }
  return g;
}

// A digit stored with heavy noise (an 8-bit file: the noise clipped at black and white) comes
// back from to_mnist_form as the clean digit does: the same size (within 2 pixels, 3 at sigma
// 0.5) and place, no grain left on its background. Without the smoothing the grain is ink:
// the ink's box spans the picture and the digit comes back shrunk among specks. The same for
// dark ink on white paper 4x the size.
TEST(Images, ToMnistFormReadsANoisyPicture) {
  for (bool paper : {false, true}) {
    const int n = paper ? 112 : 28;
    auto file = [&](double sigma, Rng& rng) { return ring_file(paper, 1.0f, sigma, 0, rng); };
    Rng none(0);
    models::PictureNotes notes;
    const std::vector<float> clean = models::to_mnist_form(file(0, none), n, n, &notes);
    EXPECT_EQ(notes.noise, 0) << "a clean picture is not smoothed";
    for (double sigma : {0.3, 0.5}) {
      for (uint64_t seed = 0; seed < 10; ++seed) {
        Rng rng(seed);
        const std::vector<float> back = models::to_mnist_form(file(sigma, rng), n, n, &notes);
        const std::string at = (paper ? "paper, sigma " : "28x28, sigma ") + std::to_string(sigma) + ", seed " +
                               std::to_string(seed);
        EXPECT_GT(notes.noise, models::kNoisyPicture) << at << ": smoothed, and said so";
        EXPECT_EQ(notes.lines, 0) << at;
        EXPECT_LT(stray_ink(back, clean), 0.3) << at << ": grain read as ink";
        const int slack = sigma < 0.4 ? 2 : 3;  // pixels of the box's size
        EXPECT_NEAR(ink_box(back, 0.5).width, ink_box(clean, 0.5).width, slack) << at;
        EXPECT_NEAR(ink_box(back, 0.5).height, ink_box(clean, 0.5).height, slack) << at;
        EXPECT_NEAR(ink_box(back, 0.5).cx, 14, 1) << at;
        EXPECT_NEAR(ink_box(back, 0.5).cy, 14, 1) << at;
      }
    }
  }
}

// Salt-and-pepper noise (a share of the pixels set to black or white) is not seen by the noise
// estimate below a tenth of the pixels, and each speck counted as ink: the box spanned the
// picture. to_mnist_form replaces the specks by their neighbourhood's median and says so; the
// digit comes back as the clean one (the same box within 2 pixels, centred, no ink left more
// than 2 pixels from the clean digit's) and is not smoothed. Clean pictures, a 1-pixel pen's
// lines and Gaussian noise (which the smoothing reads) are left to the other steps.
TEST(Images, ToMnistFormReadsSaltAndPepper) {
  for (bool paper : {false, true}) {
    const int n = paper ? 112 : 28;
    auto file = [&](double share, double sigma, Rng& rng) { return ring_file(paper, 0.85f, sigma, share, rng); };
    Rng none(0);
    models::PictureNotes notes;
    const std::vector<float> clean = models::to_mnist_form(file(0, 0, none), n, n, &notes);
    EXPECT_EQ(notes.impulses, 0) << "a clean picture has no salt-and-pepper noise";
    const InkBox want = ink_box(clean, 0.5);
    for (double share : {0.02, 0.05, 0.1}) {
      for (uint64_t seed = 0; seed < 10; ++seed) {
        Rng rng(seed);
        const std::vector<float> back = models::to_mnist_form(file(share, 0, rng), n, n, &notes);
        const std::string at =
            (paper ? "paper, " : "28x28, ") + std::to_string(share) + ", seed " + std::to_string(seed);
        // At 28x28 a picture with 2% of specks can hold fewer than three alone on the black.
        if (share > 0.02 || paper) {
          EXPECT_GT(notes.impulses, 0.3 * share) << at << ": specks replaced, and said so";
          EXPECT_LT(notes.impulses, 2 * share) << at << ": the digit's pixels are kept";
        }
        EXPECT_EQ(notes.noise, 0) << at << ": not smoothed";
        EXPECT_LT(stray_ink(back, clean), 0.3) << at << ": specks read as ink";
        EXPECT_NEAR(ink_box(back, 0.5).width, want.width, 2) << at;
        EXPECT_NEAR(ink_box(back, 0.5).height, want.height, 2) << at;
        EXPECT_NEAR(ink_box(back, 0.5).cx, 14, 1) << at;
        EXPECT_NEAR(ink_box(back, 0.5).cy, 14, 1) << at;
      }
    }
    for (uint64_t seed = 0; seed < 5; ++seed) {
      Rng rng(seed);
      (void)models::to_mnist_form(file(0, 0.5, rng), n, n, &notes);
      EXPECT_EQ(notes.impulses, 0) << (paper ? "paper" : "28x28") << ", Gaussian noise, seed " << seed;
      EXPECT_GT(notes.noise, models::kNoisyPicture) << (paper ? "paper" : "28x28") << ": smoothed instead";
    }
  }
  models::PictureNotes pen;
  const std::vector<uint8_t> drawn = models::pen_drawing(ring_digit().data(), 1.0 / 80);
  (void)models::to_mnist_form(drawn, models::kPenSide, models::kPenSide, &pen);
  EXPECT_EQ(pen.impulses, 0) << "a 1-pixel pen's lines are not specks";
}

// A digit written on a notebook's page: ruled lines (or a grid) crossing the picture, level or
// turned by up to 12 degrees as in a photograph taken askew, come off before the digit is looked
// for: the digit comes back as from blank paper (the same box within 2 pixels, centred, no
// ink left more than 2 pixels from the clean digit's). Without the step the lines are ink,
// the box spans the picture and the digit shrinks to a smudge between lines.
// The ring 4x enlarged (112 x 112), dark ink (0.85 of black) on white paper ruled every 28 pixels
// with lines 2 pixels wide, `level` as dark as the ink, turned `degrees`, the first `offset` pixels
// down (squared paper with `grid`); with `rng`, Gaussian noise of `sigma` added (clipped as a file
// stores it).
constexpr int kPageSide = 112;
std::vector<uint8_t> ruled_page(double level, bool grid, double degrees, int offset, double sigma = 0,
                                Rng* rng = nullptr) {
  const std::vector<float> ring = ring_digit();
  const int n = kPageSide;
  std::vector<double> dark(size_t(n) * n);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) dark[size_t(y) * n + x] = ring[size_t(y / 4) * 28 + x / 4];
  const double slope = std::tan(degrees * M_PI / 180);
  for (int start = offset - 2 * 28; start < n + 2 * 28; start += 28)
    for (int t = 0; t < n; ++t)
      for (int k = 0; k < 2; ++k) {  // lines 2 pixels wide
        const int c = int(std::lround(start + slope * (t - n / 2))) + k;
        if (c < 0 || c >= n) continue;
        dark[size_t(c) * n + t] = std::max(dark[size_t(c) * n + t], level);
        if (grid) {
          const int cv = int(std::lround(start - slope * (t - n / 2))) + k;
          if (cv >= 0 && cv < n) dark[size_t(t) * n + cv] = std::max(dark[size_t(t) * n + cv], level);
        }
      }
  std::vector<uint8_t> g(dark.size());
  for (size_t i = 0; i < g.size(); ++i) {
    double v = 1 - 0.85 * dark[i];
    if (rng) v += sigma * rng->normal();
    g[i] = uint8_t(std::lround(255 * std::clamp(v, 0.0, 1.0)));
  }
  return g;
}

TEST(Images, ToMnistFormRemovesRuledLines) {
  const int n = kPageSide;
  auto page = [](double level, bool grid, double degrees, int offset) { return ruled_page(level, grid, degrees, offset); };
  models::PictureNotes notes;
  const std::vector<float> clean = models::to_mnist_form(page(0, false, 0, 0), n, n, &notes);
  EXPECT_EQ(notes.lines, 0) << "blank paper has no lines";
  const InkBox want = ink_box(clean, 0.5);
  for (double level : {0.3, 0.6})
    for (bool grid : {false, true})
      for (double degrees : {0.0, 3.0, -4.0, 12.0})
        for (int offset : {3, 17}) {
          const std::string at = "lines " + std::to_string(level) + (grid ? " grid" : "") + ", " +
                                 std::to_string(degrees) + " degrees, offset " + std::to_string(offset);
          const std::vector<float> back = models::to_mnist_form(page(level, grid, degrees, offset), n, n, &notes);
          // Four lines a way cross the page; turned steeply, one of them may only cut a corner,
          // too short to follow (it is cleared with the specks).
          const int least = std::abs(degrees) > 5 ? 3 : 4;
          EXPECT_GE(notes.lines, grid ? 2 * least : least) << at;
          EXPECT_LE(notes.lines, grid ? 10 : 5) << at;
          EXPECT_EQ(notes.noise, 0) << at;
          const InkBox got = ink_box(back, 0.5);
          EXPECT_LT(stray_ink(back, clean), 0.3) << at << ": a line read as ink";
          EXPECT_NEAR(got.width, want.width, 2) << at;
          EXPECT_NEAR(got.height, want.height, 2) << at;
          EXPECT_NEAR(got.cx, 14, 1) << at;
          EXPECT_NEAR(got.cy, 14, 1) << at;
        }
}

// A noisy photo of a notebook page: the lines are taken out before the picture is smoothed for
// its noise, where a thin line stands at its full darkness and the ink crossing it is the ink's
// own. Every line is found, and the digit comes back as from the same noisy page without lines
// (the same noise drawn): no trace of a line beside it, and within 12% of its ink (summed
// differences over summed ink, at the best of the nine placements a pixel apart). Taken out after
// the smoothing (as they were), the ink that had crossed a line lost the line's level with it:
// 13-17% of the ink, and every page fails.
TEST(Images, ToMnistFormTakesOutTheLinesOfANoisyPage) {
  int found = 0, pages = 0;
  for (uint64_t seed = 0; seed < 4; ++seed)
    for (double degrees : {0.0, -3.0, 8.0}) {
      const std::string at = "seed " + std::to_string(seed) + ", " + std::to_string(degrees) + " degrees";
      Rng blank_rng(seed), lined_rng(seed);
      std::vector<float> blank =
          models::to_mnist_form(ruled_page(0, false, 0, 0, 0.1, &blank_rng), kPageSide, kPageSide);
      models::PictureNotes notes;
      const std::vector<float> back = models::to_mnist_form(
          ruled_page(0.6, false, degrees, 3 + 5 * int(seed), 0.1, &lined_rng), kPageSide, kPageSide, &notes);
      EXPECT_GT(notes.noise, models::kNoisyPicture) << at;
      found += notes.lines, pages += 4;
      double differs = 1e9;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          double diff = 0, ink = 0;
          for (int y = 1; y < 27; ++y)
            for (int x = 1; x < 27; ++x) {
              const float want = blank[size_t((y + dy) * 28 + x + dx)];
              diff += std::abs(back[size_t(y * 28 + x)] - want), ink += want;
            }
          differs = std::min(differs, diff / ink);
        }
      EXPECT_LT(differs, 0.12) << at << ": the digit differs from the one on the blank page";
      for (float& v : blank) v = v > 0.05f ? v : 0.0f;  // the blank page's digit, without its faintest edge
      EXPECT_LT(stray_ink(back, blank), 0.005) << at << ": a line's trace left beside the digit";
    }
  EXPECT_EQ(found, pages) << "four lines cross each page";
}

// A digit written in a printed box, as on a form: the frame's lines, stopping a few pixels
// short of the picture's edges or drawn along them, are taken out as ruled lines are; a frame
// along the edges does not make the paper read as ink (the polarity looks inside the border).
TEST(Images, ToMnistFormReadsADigitInAPrintedBox) {
  const std::vector<float> ring = ring_digit();
  const int n = 112;
  auto boxed = [&](int inset) {
    std::vector<uint8_t> g(size_t(n) * n);
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const int from_edge = std::min({x, y, n - 1 - x, n - 1 - y});
        const bool frame = from_edge >= inset && from_edge < inset + 2;
        const double dark = std::max(double(ring[size_t(y / 4) * 28 + x / 4]), frame ? 0.7 : 0.0);
        g[size_t(y) * n + x] = uint8_t(std::lround(255 * (1 - 0.85 * dark)));
      }
    return g;
  };
  models::PictureNotes notes;
  const std::vector<float> clean = models::to_mnist_form(boxed(n), n, n);  // no frame
  const InkBox want = ink_box(clean, 0.5);
  for (int inset : {0, 4}) {
    const std::vector<float> back = models::to_mnist_form(boxed(inset), n, n, &notes);
    EXPECT_EQ(notes.lines, 4) << "frame " << inset << " px inside the edge: two rows and two columns";
    EXPECT_LT(stray_ink(back, clean), 0.3) << "frame " << inset;
    EXPECT_NEAR(ink_box(back, 0.5).width, want.width, 2) << "frame " << inset;
    EXPECT_NEAR(ink_box(back, 0.5).height, want.height, 2) << "frame " << inset;
    EXPECT_NEAR(ink_box(back, 0.5).cx, 14, 1) << "frame " << inset;
    EXPECT_NEAR(ink_box(back, 0.5).cy, 14, 1) << "frame " << inset;
  }
}

// Marks apart from the digit (an ink blot, part of a neighbouring character at the crop's edge)
// are left out, so the digit is fitted and centred as without them; pieces of the digit itself
// stay: a small one near it (a broken stroke) and a large one further off (a 5's detached
// stroke). Without the step, the box reaches the marks and the digit comes back small.
TEST(Images, ToMnistFormLeavesOutStrayMarks) {
  const std::vector<float> ring = ring_digit();
  const int n = 112;
  // The ring drawn twice its size in the middle of the picture (its box about x 44-67, y 38-71),
  // dark on paper, with extra ink where `mark` says.
  auto picture = [&](const std::function<bool(int, int)>& mark) {
    std::vector<uint8_t> g(size_t(n) * n);
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const bool inside = x >= 28 && x < 84 && y >= 28 && y < 84;
        const double dark = std::max(inside ? double(ring[size_t((y - 28) / 2) * 28 + (x - 28) / 2]) : 0.0,
                                     mark(x, y) ? 1.0 : 0.0);
        g[size_t(y) * n + x] = uint8_t(std::lround(255 * (1 - 0.85 * dark)));
      }
    return g;
  };
  auto blot = [](int x, int y) { return (x - 12) * (x - 12) + (y - 14) * (y - 14) <= 9; };  // radius 3, far off
  auto edge = [](int x, int y) { return x < 10 && y >= 90 && y < 93; };                  // from the left edge
  auto near_tick = [](int x, int y) { return x >= 70 && x < 73 && y >= 50 && y < 53; };  // 3 px right of the ring
  auto far_bar = [](int x, int y) { return x >= 90 && x < 96 && y >= 30 && y < 80; };    // large, 23 px off
  const std::vector<float> clean = models::to_mnist_form(picture([](int, int) { return false; }), n, n);
  struct Case {
    const char* what;
    std::function<bool(int, int)> mark;
    int strays, side_by_side;
  };
  const std::vector<Case> cases = {
      {"blot", blot, 1, 0},
      {"edge", edge, 1, 0},
      {"blot and edge", [&](int x, int y) { return blot(x, y) || edge(x, y); }, 2, 0},
      {"tick near the ring", near_tick, 0, 0},
      {"large bar", far_bar, 0, 2},  // 0 and 1 side by side: kept, and noted
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    models::PictureNotes notes;
    const std::vector<float> back = models::to_mnist_form(picture(c.mark), n, n, &notes);
    EXPECT_EQ(notes.strays, c.strays);
    EXPECT_EQ(notes.side_by_side, c.side_by_side);
    if (c.strays > 0) {
      double largest = 0;
      for (size_t i = 0; i < back.size(); ++i) largest = std::max(largest, double(std::abs(back[i] - clean[i])));
      EXPECT_LT(largest, 0.05);  // the digit as without the marks
    } else {
      EXPECT_GT(ink_box(back, 0.5).width, ink_box(clean, 0.5).width);  // the piece stays in the box
    }
  }
}

// Digits written side by side (a number) are read together as one digit, and the notes say how
// many there seem to be; a digit in pieces (a 4 in two strokes, a 5 with its flag apart, a ring
// broken at top and bottom) and digits stacked or touching are not such a row.
namespace {

// Marks for drawing digits in the picture tests: a 0 of 24 x 40 pixels (strokes 4 wide), a bar, several together.
using Mark = std::function<bool(int, int)>;
Mark ring(double cx, double cy) {
  return [=](int x, int y) {
    const double d = std::hypot((x - cx) / 12.0, (y - cy) / 20.0);
    return std::abs(d - 1.0) * 16 < 2;
  };
}
Mark bar(int x0, int x1, int y0, int y1) {
  return [=](int x, int y) { return x >= x0 && x < x1 && y >= y0 && y < y1; };
}
Mark any(std::vector<Mark> marks) {
  return [marks](int x, int y) {
    for (const Mark& m : marks)
      if (m(x, y)) return true;
    return false;
  };
}
// A model that reads a ring surely (taller than wide, ink left, right, above and below an empty
// middle) and nothing else; counts its calls where `calls` is given.
models::DigitReader ring_reader(int* calls = nullptr) {
  return [calls](const std::vector<std::vector<float>>& digits) {
    if (calls) ++*calls;
    std::vector<double> log_p;
    for (const std::vector<float>& d : digits) {
      auto inked = [&](int x0, int x1, int y0, int y1) {
        for (int y = y0; y <= y1; ++y)
          for (int x = x0; x <= x1; ++x)
            if (d[size_t(y) * 28 + x] > 0.5f) return true;
        return false;
      };
      const bool ring = !inked(12, 15, 12, 15) && inked(0, 9, 13, 14) && inked(18, 27, 13, 14) &&
                        inked(13, 14, 0, 4) && inked(13, 14, 23, 27) && !inked(0, 3, 0, 27) && !inked(24, 27, 0, 27);
      log_p.push_back(ring ? 0.0 : -20.0);
    }
    return log_p;
  };
}
// Dark ink on light paper.
std::vector<uint8_t> drawn(const Mark& ink, int w, int h) {
  std::vector<uint8_t> g(size_t(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) g[size_t(y) * w + x] = ink(x, y) ? 30 : 230;
  return g;
}

}  // namespace

TEST(Images, DigitsSideBySideAreNoted) {
  const int w = 200, h = 100;
  struct Case {
    const char* what;
    Mark ink;
    int side_by_side;
  };
  const Mark ring_broken = [&](int x, int y) { return ring(100, 50)(x, y) && std::abs(x - 100) > 1; };
  const std::vector<Case> cases = {
      {"one ring", ring(100, 50), 0},
      {"10", any({bar(60, 65, 30, 70), ring(100, 50)}), 2},
      {"00, 16 px apart", any({ring(70, 50), ring(110, 50)}), 2},
      {"000", any({ring(40, 50), ring(80, 50), ring(120, 50)}), 3},
      {"11, 6 px apart (more than a tenth of their height)", any({bar(90, 94, 30, 70), bar(100, 104, 30, 70)}), 2},
      {"11, 3 px apart", any({bar(90, 94, 30, 70), bar(97, 101, 30, 70)}), 0},
      {"00 touching", any({ring(88, 50), ring(111, 50)}), 0},
      {"a 4 in two strokes", any({bar(80, 84, 20, 60), bar(80, 120, 56, 60), bar(104, 108, 30, 80)}), 0},
      {"a 5 with its flag apart", any({bar(92, 96, 28, 50), ring(100, 62), bar(97, 118, 20, 24)}), 0},
      {"a ring broken at top and bottom", ring_broken, 0},
      {"0 over 0 (stacked)", any({ring(100, 25), ring(100, 75)}), 0},
      {"0 and a blot beside it", any({ring(100, 50), bar(140, 146, 48, 54)}), 0},
      {"0 and a dash beside it (heavy, not tall)", any({ring(100, 50), bar(130, 150, 46, 54)}), 0},
      {"0 and a hairline beside it (tall, not heavy)", any({ring(100, 50), bar(140, 141, 30, 70)}), 0},
      {"0 and 1 on different lines", any({ring(60, 30), bar(120, 124, 45, 90)}), 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    models::PictureNotes notes;
    (void)models::to_mnist_form(drawn(c.ink, w, h), w, h, &notes);
    EXPECT_EQ(notes.side_by_side, c.side_by_side);
  }
}

// duet predict --number: a picture of a number is read digit by digit, each digit as a picture of it
// alone is read; a picture of one digit is read exactly as to_mnist_form reads it.
TEST(Images, NumberDigitsReadEachDigitOfANumber) {
  const int w = 200, h = 100;
  auto max_diff = [](const std::vector<float>& a, const std::vector<float>& b) {
    float d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
  };
  // "10": the bar and the ring, each as it reads alone on the same paper.
  models::PictureNotes notes;
  auto digits = models::number_digits(drawn(any({bar(60, 65, 30, 70), ring(100, 50)}), w, h), w, h, &notes);
  ASSERT_EQ(digits.size(), 2u);
  EXPECT_EQ(notes.side_by_side, 2);
  EXPECT_EQ(notes.strays, 0);
  EXPECT_LT(max_diff(digits[0].pixels, models::to_mnist_form(drawn(bar(60, 65, 30, 70), w, h), w, h)), 0.02f);
  EXPECT_LT(max_diff(digits[1].pixels, models::to_mnist_form(drawn(ring(100, 50), w, h), w, h)), 0.02f);
  EXPECT_EQ(digits[0].box.x0, 60);
  EXPECT_EQ(digits[0].box.x1, 64);
  EXPECT_EQ(digits[0].box.y0, 30);
  EXPECT_EQ(digits[0].box.y1, 69);
  EXPECT_EQ(digits[1].box.x0, 87);  // the ring reaches 13 pixels either side of its centre
  EXPECT_EQ(digits[1].box.x1, 113);
  // "55", each 5's flag apart from its body: each flag goes with its own digit.
  auto five = [&](int cx) { return any({bar(cx - 8, cx - 4, 28, 50), ring(cx, 62), bar(cx - 3, cx + 18, 20, 24)}); };
  digits = models::number_digits(drawn(any({five(50), five(130)}), w, h), w, h, &notes);
  ASSERT_EQ(digits.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE(k);
    const int cx = k == 0 ? 50 : 130;
    EXPECT_EQ(digits[k].box.x0, cx - 13);
    EXPECT_EQ(digits[k].box.x1, cx + 17);
    EXPECT_EQ(digits[k].box.y0, 20);
    EXPECT_LT(max_diff(digits[k].pixels, models::to_mnist_form(drawn(five(cx), w, h), w, h)), 0.02f);
  }
  // A 1 drawn with a 1-pixel pen beside a 0 (a ninth of its ink): a digit of the number, though
  // Digits side by side does not count it (a hairline beside one digit).
  const Mark thin_one = any({bar(60, 61, 30, 70), ring(100, 50)});
  digits = models::number_digits(drawn(thin_one, w, h), w, h, &notes);
  EXPECT_EQ(digits.size(), 2u);
  (void)models::to_mnist_form(drawn(thin_one, w, h), w, h, &notes);
  EXPECT_EQ(notes.side_by_side, 0);
  // 00 with a short stroke above, between them but over the second more: it goes with the second.
  digits = models::number_digits(drawn(any({ring(70, 50), ring(110, 50), bar(90, 104, 24, 28)}), w, h), w, h, &notes);
  ASSERT_EQ(digits.size(), 2u);
  EXPECT_EQ(digits[0].box.y0, 28);  // the ring reaches 22 pixels above its centre
  EXPECT_EQ(digits[1].box.y0, 24);
  EXPECT_EQ(digits[1].box.x0, 90);
  // A 5 whose flag reaches over the 1 beside it: the 5's box holds the 1, which is taken out of it.
  const Mark long_five = any({bar(52, 56, 28, 50), ring(60, 62), bar(57, 100, 20, 24)});
  digits = models::number_digits(drawn(any({long_five, bar(92, 96, 30, 70)}), w, h), w, h, &notes);
  ASSERT_EQ(digits.size(), 2u);
  EXPECT_EQ(digits[0].box.x1, 99);
  EXPECT_LT(max_diff(digits[0].pixels, models::to_mnist_form(drawn(long_five, w, h), w, h)), 0.02f);
  // "000" and a blot apart from them: three digits, the blot left out.
  digits = models::number_digits(drawn(any({ring(40, 50), ring(80, 50), ring(120, 50), bar(180, 186, 88, 94)}), w, h),
                                 w, h, &notes);
  EXPECT_EQ(digits.size(), 3u);
  EXPECT_EQ(notes.strays, 1);
  // One digit (and a 0 and a 1 on different lines, not a row): read as to_mnist_form reads it.
  for (const Mark& one : {ring(100, 50), any({ring(60, 30), bar(120, 124, 45, 90)})}) {
    const std::vector<uint8_t> g = drawn(one, w, h);
    models::PictureNotes single;
    digits = models::number_digits(g, w, h, &notes);
    ASSERT_EQ(digits.size(), 1u);
    EXPECT_EQ(digits[0].pixels, models::to_mnist_form(g, w, h, &single));
    EXPECT_EQ(notes.side_by_side, 0);
    EXPECT_EQ(notes.strays, single.strays);
  }
  // A large picture: boxes in its own pixels (it is read shrunk 3 times).
  const int W = 600, H = 300;
  digits = models::number_digits(drawn(any({bar(180, 195, 90, 210), bar(300, 315, 90, 210)}), W, H), W, H);
  ASSERT_EQ(digits.size(), 2u);
  EXPECT_NEAR(digits[0].box.x0, 180, 3);
  EXPECT_NEAR(digits[0].box.x1, 194, 3);
  EXPECT_NEAR(digits[1].box.x0, 300, 3);
  EXPECT_NEAR(digits[1].box.y1, 209, 3);
  EXPECT_THROW(models::number_digits(std::vector<uint8_t>(size_t(w) * h, 200), w, h), Error);
}

// Digits that touch are one piece of ink; with a model, number_digits cuts it where the model reads
// one digit in each part (cut_touching), and without one reads it as one digit.
TEST(Images, CutTouchingCutsWhereTheModelReadsOneDigitInEachPart) {
  const int w = 200, h = 100;
  int calls = 0;
  const models::DigitReader rings = ring_reader(&calls);
  // "000" touching (centres 27 px apart, each ring 27 px wide): cut where the rings meet.
  const std::vector<uint8_t> zeros = drawn(any({ring(73, 50), ring(100, 50), ring(127, 50)}), w, h);
  models::PictureNotes notes;
  auto digits = models::number_digits(zeros, w, h, &notes, rings);
  ASSERT_EQ(digits.size(), 3u);
  EXPECT_EQ(notes.side_by_side, 3);
  EXPECT_EQ(calls, 1);  // every part read at once
  for (size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE(k);
    EXPECT_TRUE(digits[k].cut);
    const int cx = 73 + 27 * int(k);
    EXPECT_NEAR(digits[k].box.x0, cx - 13, 2);
    EXPECT_NEAR(digits[k].box.x1, cx + 13, 2);
    EXPECT_EQ(digits[k].box.y0, 28);
  }
  // Without a model: one digit, read as to_mnist_form reads it; with a model that reads every part
  // equally unsurely, whole too (each part adds its doubt and each cut its ink); with one sure of
  // every part, the width decides: cut into parts no wider than tall.
  digits = models::number_digits(zeros, w, h, &notes);
  ASSERT_EQ(digits.size(), 1u);
  EXPECT_FALSE(digits[0].cut);
  EXPECT_EQ(digits[0].pixels, models::to_mnist_form(zeros, w, h));
  const models::DigitReader unsure = [](const std::vector<std::vector<float>>& d) {
    return std::vector<double>(d.size(), -2.0);
  };
  EXPECT_EQ(models::number_digits(zeros, w, h, &notes, unsure).size(), 1u);
  const models::DigitReader sure = [](const std::vector<std::vector<float>>& d) {
    return std::vector<double>(d.size(), 0.0);
  };
  digits = models::number_digits(zeros, w, h, &notes, sure);
  EXPECT_EQ(digits.size(), 2u);  // the fewest cuts, through the least ink
  // (A cut that bends leaves parts whose ink reaches past each other: each is narrower than the
  // aspect that asks for a cut, not than its height.)
  for (const models::WrittenDigit& d : digits) EXPECT_LE(d.box.width(), models::kTouchingAspect * d.box.height());
  // A solid block 1.4 times as wide as tall: every cut goes through as much ink as the inkiest
  // column, which costs more than its width: whole.
  EXPECT_EQ(models::number_digits(drawn(bar(60, 123, 30, 75), w, h), w, h, &notes, sure).size(), 1u);
  // An L with a long foot (wider than tall): a part of the foot alone is no digit (not half as tall
  // as the L), so even a model sure of every part reads it whole.
  EXPECT_EQ(models::number_digits(drawn(any({bar(60, 65, 30, 70), bar(60, 125, 65, 70)}), w, h), w, h, &notes, sure)
                .size(),
            1u);
  // A 0 apart from "000" touching: the touching ones alone are cut.
  digits = models::number_digits(drawn(any({ring(25, 50), ring(100, 50), ring(127, 50), ring(154, 50)}), w, h), w, h,
                                 &notes, rings);
  ASSERT_EQ(digits.size(), 4u);
  EXPECT_FALSE(digits[0].cut);
  EXPECT_TRUE(digits[1].cut && digits[2].cut && digits[3].cut);
  // A piece no wider than kTouchingAspect times its height (one ring, 00 overlapping more) is not
  // asked about.
  calls = 0;
  EXPECT_EQ(models::number_digits(drawn(ring(100, 50), w, h), w, h, &notes, rings).size(), 1u);
  EXPECT_EQ(models::number_digits(drawn(any({ring(92, 50), ring(108, 50)}), w, h), w, h, &notes, rings).size(), 1u);
  EXPECT_EQ(calls, 0);
  // cut_touching itself: the whole ink box without a reader or when narrow, a blank crop whole, a
  // reader giving the wrong number of readings, a bad size.
  std::vector<float> crop(size_t(w) * h, 0.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) crop[size_t(y) * w + x] = zeros[size_t(y) * w + x] < 128 ? 1.0f : 0.0f;
  const auto whole = models::cut_touching(crop, w, h, {});
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_NEAR(whole[0].x0(), 60, 1);
  EXPECT_NEAR(whole[0].x1(), 141, 1);
  EXPECT_EQ(models::cut_touching(crop, w, h, rings).size(), 3u);
  const auto blank = models::cut_touching(std::vector<float>(size_t(w) * h, 0.0f), w, h, rings);
  ASSERT_EQ(blank.size(), 1u);
  EXPECT_EQ(blank[0].from, std::vector<int>(size_t(h), 0));
  EXPECT_EQ(blank[0].to, std::vector<int>(size_t(h), w));
  const models::DigitReader short_reader = [](const std::vector<std::vector<float>>&) { return std::vector<double>{0}; };
  EXPECT_THROW(models::cut_touching(crop, w, h, short_reader), Error);
  EXPECT_THROW(models::cut_touching(crop, w, h - 1, rings), Error);
}

// Digits whose strokes reach over each other (written close, one higher than the next) cannot be
// parted by a straight cut: each part would hold a stroke of its neighbour. cut_touching's cuts
// follow the path through the least ink, around the strokes.
TEST(Images, CutTouchingPartsCrossingDigitsAlongACurve) {
  const int w = 200, h = 100;
  const models::DigitReader rings = ring_reader();
  // Four rings 22 px apart (each 27 wide: their sides overlap by 5 px), every other one 28 px
  // lower: each touches its neighbour where their sides pass each other.
  const int cx[4] = {75, 97, 119, 141}, cy[4] = {36, 64, 36, 64};
  const std::vector<uint8_t> zeros = drawn(
      any({ring(cx[0], cy[0]), ring(cx[1], cy[1]), ring(cx[2], cy[2]), ring(cx[3], cy[3])}), w, h);
  models::PictureNotes notes;
  const auto digits = models::number_digits(zeros, w, h, &notes, rings);
  ASSERT_EQ(digits.size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    SCOPED_TRACE(k);
    EXPECT_TRUE(digits[k].cut);
    EXPECT_NEAR(digits[k].box.x0, cx[k] - 13, 2);
    EXPECT_NEAR(digits[k].box.x1, cx[k] + 13, 2);
    EXPECT_NEAR(digits[k].box.y0, cy[k] - 21, 2);
    EXPECT_NEAR(digits[k].box.y1, cy[k] + 21, 2);
  }
  // The cuts themselves: every row of the ink parted, left to right, each part starting where the
  // one before ends; a cut bends (the first runs right of the first ring's side above the crossing
  // and left of the second's below it).
  std::vector<float> crop(size_t(w) * h, 0.0f);
  for (size_t i = 0; i < crop.size(); ++i) crop[i] = zeros[i] < 128 ? 1.0f : 0.0f;
  const std::vector<models::InkCut> parts = models::cut_touching(crop, w, h, rings);
  ASSERT_EQ(parts.size(), 4u);
  for (size_t k = 0; k < 4; ++k)
    for (int y = 0; y < h; ++y) {
      EXPECT_LE(parts[k].from[size_t(y)], parts[k].to[size_t(y)]);
      if (k > 0) EXPECT_EQ(parts[k].from[size_t(y)], parts[k - 1].to[size_t(y)]);
    }
  EXPECT_GE(parts[0].to[30], cx[0] + 13);
  EXPECT_LE(parts[0].to[70], cx[1] - 13);
  // cut_out: a part's ink, cropped to its columns, the rest the background.
  const std::vector<float> first = models::cut_out(crop, w, h, parts[0], 0.0f);
  const int pw = parts[0].x1() - parts[0].x0();
  ASSERT_EQ(first.size(), size_t(pw) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < pw; ++x) {
      const int px = parts[0].x0() + x;
      const bool in = px >= parts[0].from[size_t(y)] && px < parts[0].to[size_t(y)];
      ASSERT_EQ(first[size_t(y) * pw + x], in ? crop[size_t(y) * w + px] : 0.0f) << x << "," << y;
    }
  EXPECT_THROW(models::cut_out(crop, w, h - 1, parts[0], 0.0f), Error);
}

// Any picture (blots and strokes of random sizes, levels and places, either polarity, noise):
// number_digits gives digits in MNIST's field, left to right, their boxes within the picture, or
// says the picture is blank.
TEST(Images, NumberDigitsOfAnyPictureStayInside) {
  Rng rng(12);
  for (int trial = 0; trial < 200; ++trial) {
    SCOPED_TRACE(trial);
    const int w = 8 + int(rng.randint(trial % 10 == 0 ? 600 : 200)), h = 8 + int(rng.randint(150));
    const bool dark_ink = rng.uniform(0, 1) < 0.5;
    std::vector<uint8_t> g(size_t(w) * h, dark_ink ? 230 : 20);
    const int marks = int(rng.randint(8));
    for (int m = 0; m < marks; ++m) {
      const int x0 = int(rng.randint(w)), y0 = int(rng.randint(h));
      const int x1 = std::min(w, x0 + 1 + int(rng.randint(w / 3 + 1))), y1 = std::min(h, y0 + 1 + int(rng.randint(h)));
      const uint8_t ink = uint8_t(dark_ink ? rng.randint(100) : 155 + rng.randint(100));
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) g[size_t(y) * w + x] = ink;
    }
    if (trial % 4 == 0)
      for (uint8_t& v : g) v = uint8_t(std::clamp(double(v) + rng.normal() * 40, 0.0, 255.0));
    std::vector<models::WrittenDigit> digits;
    try {
      digits = models::number_digits(g, w, h);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("blank"), std::string::npos) << e.what();
      continue;
    }
    ASSERT_FALSE(digits.empty());
    EXPECT_LE(int(digits.size()), std::max(1, marks));  // a digit takes at least one mark
    for (size_t k = 0; k < digits.size(); ++k) {
      const models::WrittenDigit& d = digits[k];
      ASSERT_EQ(d.pixels.size(), 784u);
      EXPECT_TRUE(std::all_of(d.pixels.begin(), d.pixels.end(), [](float v) { return v >= 0 && v <= 1; }));
      EXPECT_TRUE(d.box.x0 >= 0 && d.box.x0 <= d.box.x1 && d.box.x1 < w) << d.box.x0 << " " << d.box.x1;
      EXPECT_TRUE(d.box.y0 >= 0 && d.box.y0 <= d.box.y1 && d.box.y1 < h) << d.box.y0 << " " << d.box.y1;
      if (k > 0) EXPECT_LE(digits[k - 1].box.x0, d.box.x0);
    }
  }
}

// A long thin stroke from edge to edge of a close crop (a 1) looks like a ruled line, but it
// is the darkest ink of the picture, and ink as dark as that is kept where a line is taken
// out: the bar comes back 20 pixels tall.
TEST(Images, ToMnistFormKeepsAStrokeCroppedClose) {
  const int n = 64;
  std::vector<uint8_t> g(size_t(n) * n, 240);
  for (int y = 0; y < n; ++y)
    for (int x = 30; x < 33; ++x) g[size_t(y) * n + x] = 20;
  const std::vector<float> d = models::to_mnist_form(g, n, n);
  EXPECT_EQ(ink_box(d, 0.5).height, 20);
  EXPECT_LE(ink_box(d, 0.5).width, 4);
}

// A bold digit cropped close, its ink most of the picture, is the digit and not the
// background: read as the same ring as a picture of it with room around it. (The median
// pixel, taken for the background before, was ink: the picture was refused as blank.)
TEST(Images, ToMnistFormReadsABoldDigitCroppedClose) {
  // A ring whose stroke spans radii 7-19.5 on white paper, `margin` pixels of paper beyond the
  // 40x40 box around it.
  auto ring = [](int margin) {
    const int n = 40 + 2 * margin;
    std::vector<uint8_t> g(size_t(n) * n);
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const double r = std::hypot(x - n / 2.0 + 0.5, y - n / 2.0 + 0.5);
        g[size_t(y) * n + x] = r >= 7 && r <= 19.5 ? 30 : 235;
      }
    return g;
  };
  const std::vector<uint8_t> close = ring(0), roomy = ring(30);
  int ink = 0;
  for (uint8_t v : close) ink += v < 128;
  ASSERT_GT(ink * 2, 1600) << "the ink should be most of the close crop";
  const std::vector<float> a = models::to_mnist_form(close, 40, 40), b = models::to_mnist_form(roomy, 100, 100);
  double dot = 0, na = 0, nb = 0;
  for (int i = 0; i < 784; ++i) dot += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
  EXPECT_GT(dot / std::sqrt(na * nb), 0.95);
  EXPECT_LT(a[14 * 28 + 14], 0.2f) << "the ring's hole read as ink";
  EXPECT_NEAR(ink_box(a, 0.5).height, ink_box(b, 0.5).height, 1);
}

// image:duet with augmentation on the tiny data folder (seed 1), for the training shares'
// setters.
models::ImageTask tiny_image_task() {
  const std::string root = make_tiny_data().string();
  return models::ImageTask("image:duet", data::load_mnist(root, "train"), data::load_mnist(root, "test"), -1, true, 1);
}

// Two image tasks that differ in a training augmentation: with the same draws their training
// batches differ and their test batches agree.
void expect_training_batches_differ_only(models::ImageTask& a, models::ImageTask& b) {
  auto values = [](const Tensor& t) { return t.to_vector<float>(); };
  const std::vector<int64_t> idx = {0, 1, 2, 3};
  Rng r1(7), r2(7);
  EXPECT_NE(values(a.train_batch(idx, r1).image), values(b.train_batch(idx, r2).image));
  Rng r3(7), r4(7);
  EXPECT_EQ(values(a.test_batch(idx, r3).image), values(b.test_batch(idx, r4).image));
}

// How sharp a 28x28 digit is: the energy of the differences between neighbouring pixels
// over the energy of the pixels (a blurred digit has less of it).
double edge_energy(const std::vector<float>& d) {
  double diff = 0, all = 0;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      const double v = d[y * 28 + x];
      all += v * v;
      if (x < 27) diff += std::pow(d[y * 28 + x + 1] - v, 2);
      if (y < 27) diff += std::pow(d[(y + 1) * 28 + x] - v, 2);
    }
  return diff / all;
}

// A digit seen at low resolution (eval --robustness's "image low-res 8 px", duet train
// --lowres) comes back in MNIST form (the longer side 20 pixels, centred by mass), blurrier
// the coarser it was seen, still the same shape; the grid's offset is drawn from the Rng.
// A digit already that small or blank comes back as it was; a side under 2 is refused.
TEST(Images, LowResolutionBlursTheDigitAndKeepsItsShape) {
  const std::vector<float> ring = ring_digit();
  const std::vector<float> clean = models::fit_to_mnist(ring, 28, 28);
  std::vector<float> stroke(784, 0.0f);
  for (int y = 5; y < 23; ++y)
    for (int x = 13; x < 15; ++x) stroke[y * 28 + x] = 1.0f;
  const std::vector<float> bar = models::fit_to_mnist(stroke, 28, 28);
  auto cosine = [](const std::vector<float>& u, const std::vector<float>& v) {
    double dot = 0, a = 0, b = 0;
    for (int i = 0; i < 784; ++i) dot += u[i] * v[i], a += u[i] * u[i], b += v[i] * v[i];
    return dot / std::sqrt(a * b);
  };
  EXPECT_LT(cosine(bar, clean), 0.45);
  double previous = edge_energy(clean);
  for (int side : {14, 10, 8, 6}) {
    double energy = 0;
    for (uint64_t seed = 0; seed < 6; ++seed) {
      Rng rng(seed), again(seed);
      const std::vector<float> low = models::low_resolution(ring.data(), side, rng);
      ASSERT_EQ(low.size(), 784u);
      EXPECT_EQ(models::low_resolution(ring.data(), side, again), low);  // reproducible for a seed
      const InkBox box = ink_box(low, 0.2);
      EXPECT_GE(box.height, 19) << "side " << side;  // fitted into 20x20 again
      EXPECT_LE(box.height, 21) << "side " << side;
      EXPECT_NEAR(box.cx, 14, 1.0) << "side " << side;
      EXPECT_NEAR(box.cy, 14, 1.0) << "side " << side;
      // Still a ring: nearer the clean ring than a bar (a "1") is, and nearer the ring than the bar.
      EXPECT_GT(cosine(low, clean), 0.65) << "side " << side << ", seed " << seed;
      EXPECT_GT(cosine(low, clean), cosine(low, bar) + 0.2) << "side " << side << ", seed " << seed;
      energy += edge_energy(low) / 6;
    }
    EXPECT_LT(energy, previous) << "side " << side << " is not blurrier than the finer one before it";
    previous = energy;
  }
  Rng r1(1), r2(2);
  EXPECT_NE(models::low_resolution(ring.data(), 6, r1), models::low_resolution(ring.data(), 6, r2))
      << "the grid's offset is not drawn";
  Rng rng(0);
  EXPECT_EQ(models::low_resolution(ring.data(), 28, rng), ring);  // the ring spans 17 px: already that small
  const std::vector<float> blank(784, 0.0f);
  EXPECT_EQ(models::low_resolution(blank.data(), 8, rng), blank);
  EXPECT_THROW(models::low_resolution(ring.data(), 1, rng), Error);
}

// ImageAugment::lowres_prob (duet train --lowres): off by default and then no draws; at 1
// every training image is seen at a side drawn from the range; a bad range is refused; the
// task's share reaches the training batches only and is checked.
TEST(Images, AugmentationSeesDigitsAtLowResolution) {
  const data::Mnist m = repeated_digit(40, ring_digit(), 0);
  models::ImageSet set(m, -1, 0.0f, 1.0f);
  const std::vector<int64_t> idx = all_indices(m.count);
  EXPECT_EQ(models::ImageAugment{}.lowres_prob, 0.0);  // off unless asked for
  const models::ImageAugment aug = augment_without_geometry();
  auto batch = [&](const models::ImageAugment& a, uint64_t seed) {
    Rng rng(seed);
    return set.batch(idx, a, rng, Device::cpu).to_vector<float>();
  };
  const std::vector<float> plain = batch(aug, 3);
  models::ImageAugment low = aug;
  low.lowres_prob = 1, low.lowres_min = low.lowres_max = 6;
  const std::vector<float> coarse = batch(low, 3);
  for (int64_t b = 0; b < m.count; ++b) {
    const std::vector<float> one(coarse.begin() + b * 784, coarse.begin() + (b + 1) * 784);
    const std::vector<float> orig(plain.begin() + b * 784, plain.begin() + (b + 1) * 784);
    EXPECT_LT(edge_energy(one), 0.8 * edge_energy(orig)) << "image " << b << " was not seen at low resolution";
  }
  models::ImageAugment some = aug;
  some.lowres_prob = 0.5;
  const std::vector<float> mixed = batch(some, 3);
  int changed = 0;
  for (int64_t b = 0; b < m.count; ++b)
    changed += !std::equal(mixed.begin() + b * 784, mixed.begin() + (b + 1) * 784, plain.begin() + b * 784);
  EXPECT_GT(changed, 8);
  EXPECT_LT(changed, 32);
  models::ImageAugment bad = low;
  bad.lowres_min = 1;
  Rng rng(0);
  EXPECT_THROW(set.batch(idx, bad, rng, Device::cpu), Error);
  bad.lowres_min = 9, bad.lowres_max = 8;
  EXPECT_THROW(set.batch(idx, bad, rng, Device::cpu), Error);

  auto task = tiny_image_task;
  models::ImageTask without = task(), with = task();
  EXPECT_EQ(without.lowres_share(), 0.0);
  without.set_printed_share(0), with.set_printed_share(0);
  with.set_lowres_share(1);
  EXPECT_EQ(with.lowres_share(), 1.0);
  expect_training_batches_differ_only(without, with);
  EXPECT_THROW(with.set_lowres_share(1.5), Error);
  EXPECT_THROW(with.set_lowres_share(-0.1), Error);
}

// An image batch's pictures are made side by side, each from its own generator: with every
// augmentation drawing (affine warps, noise, occlusion, printed digits, low resolution, wider
// digits) and with test-time effects (noise, occlusion, photographs, low resolution, a blank
// picture, noisy and speckled files), the batch is the same to the bit on 1, 2 and 3 threads, and the caller's
// generator moves by one draw.
TEST(Images, BatchIsTheSameOnAnyNumberOfThreads) {
  data::Mnist m = repeated_digit(30, ring_digit(), 0);
  for (int64_t i = 0; i < m.count; ++i) m.labels[size_t(i)] = int32_t(i % 10);
  models::ImageSet set(m, -1, 0.1f, 0.3f);
  const std::vector<int64_t> idx = all_indices(m.count);
  models::ImageAugment aug;
  aug.enabled = true;
  aug.noise_prob = aug.occlude_prob = aug.printed_prob = aug.lowres_prob = aug.widen_prob = 0.5;
  std::vector<models::ImageEffects> effects(idx.size());
  for (size_t i = 0; i < effects.size(); ++i) {
    effects[i].noise = i % 3 == 0 ? 0.4 : 0.0;
    effects[i].occlude = i % 4 == 1 ? 8 : 0;
    effects[i].photo = i % 5 == 2;
    effects[i].lowres = i % 7 == 3 ? 8 : 0;
    effects[i].blank = i == 11;
    effects[i].file_noise = i % 6 == 4 ? 0.3 : 0.0;
    effects[i].file_salt = i % 6 == 5 ? 0.1 : 0.0;
  }
  expect_batch_same_on_any_threads(5, [&](bool train, Rng& rng) {
    return train ? set.batch(idx, aug, rng, Device::cpu)
                 : set.batch(idx, models::ImageAugment{}, rng, Device::cpu, effects);
  });
}

// eval --robustness's file-noise and file-salt rows: each digit stored as a noisy (or speckled)
// 8-bit picture and read back as duet predict reads a file comes back as that clean file does
// (the same box within 3 pixels, the background empty), unlike the noise rows' noise on the
// prepared digit; a file the preparation finds blank (an empty picture's faint noise, which
// predict refuses) is read as an empty picture.
TEST(Images, FileNoiseIsReadBackAsPredictReadsAFile) {
  const float mean = 0.1f, std = 0.3f;
  models::ImageSet set(repeated_digit(8, ring_digit(), 0), -1, mean, std);
  const std::vector<int64_t> idx = all_indices(8);
  std::vector<models::ImageEffects> file(8), salt(8), added(8);
  for (auto& fx : file) fx.file_noise = 0.3;
  for (auto& fx : salt) fx.file_salt = 0.1;
  for (auto& fx : added) fx.noise = 0.3;
  Rng rng(4);
  const Tensor a = set.batch(idx, models::ImageAugment{}, rng, Device::cpu, file);
  const Tensor s = set.batch(idx, models::ImageAugment{}, rng, Device::cpu, salt);
  const Tensor b = set.batch(idx, models::ImageAugment{}, rng, Device::cpu, added);
  const std::vector<float> clean = models::fit_to_mnist(ring_digit(), 28, 28);
  for (int64_t k = 0; k < 8; ++k) {
    std::vector<float> back(784), speckled(784), noisy(784);
    for (int i = 0; i < 784; ++i) {
      back[size_t(i)] = a.data<float>()[k * 784 + i] * std + mean;
      speckled[size_t(i)] = s.data<float>()[k * 784 + i] * std + mean;
      noisy[size_t(i)] = b.data<float>()[k * 784 + i] * std + mean;
    }
    for (const auto* read : {&back, &speckled}) {
      const char* what = read == &back ? "noise" : "salt";
      EXPECT_NEAR(ink_box(*read, 0.5).width, ink_box(clean, 0.5).width, 3) << what << " " << k;
      EXPECT_NEAR(ink_box(*read, 0.5).height, ink_box(clean, 0.5).height, 3) << what << " " << k;
      const std::vector<float>& r = *read;
      EXPECT_NEAR(r[0] + r[27] + r[27 * 28] + r[783], 0, 1e-6) << what << " " << k << ": the corners are empty";
    }
    EXPECT_GT(std::abs(noisy[0]) + std::abs(noisy[27]) + std::abs(noisy[27 * 28]) + std::abs(noisy[783]), 0.05)
        << k << ": noise on the prepared digit stays";
  }
  models::ImageSet empty(repeated_digit(4, std::vector<float>(784, 0.0f), 0), -1, mean, std);
  std::vector<models::ImageEffects> faint(4);
  for (auto& fx : faint) fx.file_noise = 0.01;
  const Tensor e = empty.batch(all_indices(4), models::ImageAugment{}, rng, Device::cpu, faint);
  for (int64_t i = 0; i < 4 * 784; ++i) ASSERT_NEAR(e.data<float>()[i], -mean / std, 1e-6) << i;
}

// Wider digits (--widen): a narrow digit stretched across toward a square box, fitted and
// centred as predict fits a picture; a digit already as wide as tall, a blank picture and
// amount 0 unchanged; the augmentation draws it with its chance, off by default.
TEST(Images, WidenStretchesNarrowDigitsTowardASquareBox) {
  std::vector<float> stroke(784, 0.0f);  // a 1: 18 rows tall, 3 columns wide, slightly slanted
  for (int y = 5; y < 23; ++y)
    for (int x = 12 + (23 - y) / 9; x < 15 + (23 - y) / 9; ++x) stroke[y * 28 + x] = 1.0f;
  const std::vector<float> one = models::fit_to_mnist(stroke, 28, 28);
  const InkBox narrow = ink_box(one, 0.5);
  ASSERT_LT(narrow.width * 3, narrow.height);
  const std::vector<float> wide = models::widen(one.data(), 1.0), half = models::widen(one.data(), 0.5);
  const InkBox w = ink_box(wide, 0.5), h = ink_box(half, 0.5);
  EXPECT_NEAR(w.width, w.height, 2);    // as wide as tall
  EXPECT_NEAR(w.height, narrow.height, 1);  // the longer side stays MNIST's 20 px
  EXPECT_NEAR(w.cx, 14, 1);
  EXPECT_NEAR(w.cy, 14, 1);
  EXPECT_GT(h.width, narrow.width + 3);  // half-way: wider than before, narrower than square
  EXPECT_LT(h.width, w.width - 3);
  EXPECT_EQ(models::widen(one.data(), 0.0), one);
  std::vector<float> bar(784, 0.0f);  // a dash: wider than tall, left alone
  for (int y = 13; y < 15; ++y)
    for (int x = 4; x < 24; ++x) bar[y * 28 + x] = 1.0f;
  EXPECT_EQ(models::widen(bar.data(), 1.0), bar);
  const std::vector<float> blank(784, 0.0f);
  EXPECT_EQ(models::widen(blank.data(), 1.0), blank);
  EXPECT_THROW(models::widen(one.data(), 1.5), Error);
  EXPECT_THROW(models::widen(one.data(), -0.1), Error);

  const data::Mnist m = repeated_digit(40, one, 1);
  models::ImageSet set(m, -1, 0.0f, 1.0f);
  const std::vector<int64_t> idx = all_indices(m.count);
  EXPECT_EQ(models::ImageAugment{}.widen_prob, 0.0);  // off unless asked for
  const models::ImageAugment aug = augment_without_geometry();
  auto batch = [&](const models::ImageAugment& a) {
    Rng rng(3);
    return set.batch(idx, a, rng, Device::cpu).to_vector<float>();
  };
  const std::vector<float> plain = batch(aug);
  models::ImageAugment all = aug, some = aug;
  all.widen_prob = 1, some.widen_prob = 0.5;
  const std::vector<float> widened = batch(all), mixed = batch(some);
  int wider = 0, changed = 0;
  for (int64_t b = 0; b < m.count; ++b) {
    const std::vector<float> x(widened.begin() + b * 784, widened.begin() + (b + 1) * 784);
    wider += ink_box(x, 0.5).width > narrow.width;
    changed += !std::equal(mixed.begin() + b * 784, mixed.begin() + (b + 1) * 784, plain.begin() + b * 784);
  }
  // Amounts are drawn from [0, 1]: those below about 0.1 stay within a pixel (4 of 40 expected,
  // 10 would be three standard deviations).
  EXPECT_GE(wider, 30);
  EXPECT_GT(changed, 8);
  EXPECT_LT(changed, 32);

  auto task = tiny_image_task;
  models::ImageTask without = task(), with = task();
  EXPECT_EQ(without.widen_share(), models::ImageTask::kDefaultWiden);  // image:duet's default
  EXPECT_EQ(models::ImageTask::kDefaultWiden, 0.1);
  with.set_widen_share(0.4);
  EXPECT_EQ(with.widen_share(), 0.4);
  EXPECT_THROW(with.set_widen_share(1.5), Error);
  EXPECT_THROW(with.set_widen_share(-0.1), Error);
}

// Thicker strokes (duet train --thicken): a 1's stroke grows by twice the radius, the digit
// (longer too) fitted into MNIST's 20x20 box again; a radius of 0, a blank digit, and the bounds
// behave as said; in training, the share asked for of the digits change.
TEST(Images, ThickenWidensStrokesAndRefitsTheDigit) {
  std::vector<float> stroke(784, 0.0f);  // a 1: 18 rows tall, 2 columns wide
  for (int y = 5; y < 23; ++y)
    for (int x = 13; x < 15; ++x) stroke[y * 28 + x] = 1.0f;
  const std::vector<float> one = models::fit_to_mnist(stroke, 28, 28);
  // A vertical stroke's width: its ink over its height.
  auto width = [](const std::vector<float>& d) { return ink_box(d, 0.5).mass / ink_box(d, 0.5).height; };
  // (Not strictly growing with the radius: a radius that makes a faint row beyond the tips
  // lengthens the box by a whole pixel, and the refit shrinks the stroke with it.)
  for (double amount : {0.5, 1.0, 1.5, 3.0}) {
    const std::vector<float> bold = models::thicken(one.data(), amount);
    const InkBox box = ink_box(bold, 0.2);
    EXPECT_GT(width(bold), width(one) + amount / 2) << amount;
    // Grown by 2 * amount across and along, then shrunk back to 20 pixels tall.
    EXPECT_NEAR(width(bold), (width(one) + 2 * amount) * 20 / (20 + 2 * amount), 0.6) << amount;
    EXPECT_GE(box.height, 19) << amount;  // fitted into 20x20 again
    EXPECT_LE(box.height, 21) << amount;
    EXPECT_NEAR(box.cx, 14, 1) << amount;
  }
  EXPECT_GT(width(models::thicken(one.data(), 3.0)), width(models::thicken(one.data(), 1.0)) + 1);
  EXPECT_EQ(models::thicken(one.data(), 0.0), one);
  const std::vector<float> blank(784, 0.0f);
  EXPECT_EQ(models::thicken(blank.data(), 1.0), blank);
  // A bold ring reaching the field's edges grows past them (room around the field) and is
  // found again, though it then covers most of the field.
  std::vector<float> ring(784, 0.0f);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) ring[y * 28 + x] = std::abs(std::hypot(x - 13.5, y - 13.5) - 10) < 3 ? 1.0f : 0.0f;
  const std::vector<float> bold_ring = models::thicken(ring.data(), 3.0);
  EXPECT_GE(ink_box(bold_ring, 0.2).height, 19);
  EXPECT_LE(ink_box(bold_ring, 0.2).height, 21);
  EXPECT_LT(bold_ring[14 * 28 + 14], 0.5f) << "the ring's hole filled up";
  for (double bad : {-0.1, 3.5, std::nan("")}) EXPECT_THROW(models::thicken(one.data(), bad), Error) << bad;
  // The pen's cover by its definition, every canvas pixel against every stroke pixel (thicken
  // looks only as far as the pen reaches): the same digit, to the bit.
  auto thicken_by_definition = [](const std::vector<float>& digit, double radius) {
    constexpr int kMargin = 6, kSide = 28 + 2 * kMargin;
    std::vector<float> canvas(size_t(kSide) * kSide, 0.0f);
    std::vector<std::pair<int, int>> ink;
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        canvas[size_t(y + kMargin) * kSide + x + kMargin] = digit[y * 28 + x];
        if (digit[y * 28 + x] >= 0.5f) ink.emplace_back(x + kMargin, y + kMargin);
      }
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x) {
        int d2 = 1 << 30;
        for (const auto& [ix, iy] : ink) d2 = std::min(d2, (x - ix) * (x - ix) + (y - iy) * (y - iy));
        const double pen = std::clamp(radius + 1 - std::sqrt(double(d2)), 0.0, 1.0);
        canvas[size_t(y) * kSide + x] = std::max(canvas[size_t(y) * kSide + x], float(pen));
      }
    return models::fit_to_mnist(std::move(canvas), kSide, kSide);
  };
  Rng draw(11);
  std::vector<float> scribble(784, 0.0f);  // grey and inked pixels scattered over the field
  for (float& v : scribble) v = draw.uniform() < 0.15 ? float(draw.uniform()) : 0.0f;
  for (const std::vector<float>* d : std::initializer_list<const std::vector<float>*>{&one, &ring, &scribble})
    for (double amount : {0.3, 1.0, 1.5, 2.2, 3.0})
      EXPECT_EQ(models::thicken(d->data(), amount), thicken_by_definition(*d, amount)) << amount;

  const data::Mnist m = repeated_digit(40, one, 1);
  models::ImageSet set(m, -1, 0.0f, 1.0f);
  const std::vector<int64_t> idx = all_indices(m.count);
  EXPECT_EQ(models::ImageAugment{}.thicken_prob, 0.0);  // off unless asked for
  models::ImageAugment aug = augment_without_geometry(), all = aug, some = aug;
  all.thicken_prob = 1, some.thicken_prob = 0.5;
  auto batch = [&](const models::ImageAugment& a) {
    Rng rng(3);
    return set.batch(idx, a, rng, Device::cpu).to_vector<float>();
  };
  const std::vector<float> plain = batch(aug), thick = batch(all), mixed = batch(some);
  int wider = 0, changed = 0;
  for (int64_t b = 0; b < m.count; ++b) {
    const std::vector<float> x(thick.begin() + b * 784, thick.begin() + (b + 1) * 784);
    wider += width(x) > width(one) + 0.2;
    changed += !std::equal(mixed.begin() + b * 784, mixed.begin() + (b + 1) * 784, plain.begin() + b * 784);
  }
  // Radii are drawn from [0, 1.5]: those below 0.1 (3 of 40 expected) add under 0.2 pixels.
  EXPECT_GE(wider, 30);
  EXPECT_GT(changed, 8);
  EXPECT_LT(changed, 32);

  models::ImageTask task = tiny_image_task();
  EXPECT_EQ(task.thicken_share(), models::ImageTask::kDefaultThicken);  // image:duet's default
  EXPECT_EQ(models::ImageTask::kDefaultThicken, 0.3);
  task.set_thicken_share(0.4);
  EXPECT_EQ(task.thicken_share(), 0.4);
  EXPECT_THROW(task.set_thicken_share(1.5), Error);
  EXPECT_THROW(task.set_thicken_share(-0.1), Error);
}

// image:duet's training noise and occlusion (--augment-noise): drawn per image with their
// chances, the sizes asked for, off when their chance is 0 (the default), bad sizes refused.
TEST(Images, AugmentationAddsNoiseAndOcclusion) {
  const data::Mnist m = repeated_picture(200, std::vector<uint8_t>(784, 200), 3);
  models::ImageSet set(m, -1, 0.0f, 1.0f);
  const std::vector<int64_t> idx = all_indices(m.count);
  EXPECT_EQ(models::ImageAugment{}.noise_prob, 0.0);  // off unless asked for (duet train --augment-noise)
  EXPECT_EQ(models::ImageAugment{}.occlude_prob, 0.0);
  models::ImageAugment aug = augment_without_geometry();
  aug.noise_prob = 0.5, aug.occlude_prob = 0.25;
  // Per image: how many pixels were blanked, and whether any other pixel moved off 200/255.
  auto look = [&](const models::ImageAugment& a, uint64_t seed) {
    Rng rng(seed);
    Tensor x = set.batch(idx, a, rng, Device::cpu);
    const float* p = x.data<float>();
    std::vector<std::pair<int, bool>> out;
    for (int64_t b = 0; b < m.count; ++b) {
      int zeros = 0;
      bool noisy = false;
      for (int i = 0; i < 784; ++i) {
        const float v = p[b * 784 + i];
        if (v == 0.0f) ++zeros;
        else if (std::fabs(v - 200.0f / 255.0f) > 1e-6f) noisy = true;
      }
      out.push_back({zeros, noisy});
    }
    return out;
  };
  // Noise only.
  models::ImageAugment noise = aug;
  noise.occlude_prob = 0;
  int noisy = 0;
  for (auto [zeros, n] : look(noise, 1)) {
    EXPECT_EQ(zeros, 0);
    noisy += n;
  }
  EXPECT_GT(noisy, 60);  // about half of 200
  EXPECT_LT(noisy, 140);
  // Occlusion only, one size: a 6x6 square of zeros, the rest untouched.
  models::ImageAugment occ = aug;
  occ.noise_prob = 0, occ.occlude_prob = 1, occ.min_occlude = occ.max_occlude = 6;
  for (auto [zeros, n] : look(occ, 2)) {
    EXPECT_EQ(zeros, 36);
    EXPECT_FALSE(n);
  }
  // Sizes drawn from the default range; about a quarter occluded at a chance of 0.25
  // (without noise, which would fill the blanked square).
  occ = aug;
  occ.noise_prob = 0;
  std::set<int> sides;
  int occluded = 0;
  for (auto [zeros, n] : look(occ, 3)) {
    if (zeros == 0) continue;
    ++occluded;
    const int side = int(std::lround(std::sqrt(double(zeros))));
    EXPECT_EQ(side * side, zeros);
    EXPECT_GE(side, aug.min_occlude);
    EXPECT_LE(side, aug.max_occlude);
    sides.insert(side);
  }
  EXPECT_GT(occluded, 25);
  EXPECT_LT(occluded, 80);
  EXPECT_GT(sides.size(), 3u);
  // Both chances 0 (the default): no change at all, as without them.
  models::ImageAugment off = aug;
  off.noise_prob = 0, off.occlude_prob = 0;
  for (auto [zeros, n] : look(off, 4)) {
    EXPECT_EQ(zeros, 0);
    EXPECT_FALSE(n);
  }
  models::ImageAugment bad = occ;
  bad.min_occlude = 7, bad.max_occlude = 5;
  Rng rng(0);
  EXPECT_THROW(set.batch(idx, bad, rng, Device::cpu), Error);
  bad.min_occlude = 5, bad.max_occlude = 29;
  EXPECT_THROW(set.batch(idx, bad, rng, Device::cpu), Error);
}

// duet train --model image --augment-noise P reaches the training batches (not the test
// batches); a share outside [0, 1] is refused.
TEST(Images, TaskNoiseShareReachesTrainingBatchesOnly) {
  const std::string root = make_tiny_data().string();
  auto task = [&](double noise) {
    return models::ImageTask("image:duet", data::load_mnist(root, "train"), data::load_mnist(root, "test"), -1, true, 1,
                             noise);
  };
  models::ImageTask clean = task(0), noisy = task(1);
  expect_training_batches_differ_only(clean, noisy);
  EXPECT_THROW(task(1.5), Error);
  EXPECT_THROW(task(-0.1), Error);
  // --augment-noise-max: the noise's largest sigma reaches the training batches too.
  EXPECT_EQ(noisy.noise_max(), models::ImageAugment{}.max_noise);
  models::ImageTask quieter = task(1);
  quieter.set_noise_max(0.3);
  EXPECT_EQ(quieter.noise_max(), 0.3);
  expect_training_batches_differ_only(noisy, quieter);
  EXPECT_THROW(quieter.set_noise_max(0), Error);
  EXPECT_THROW(quieter.set_noise_max(models::ImageTask::kMinNoiseMax / 2), Error);
  EXPECT_THROW(quieter.set_noise_max(models::ImageTask::kMaxNoiseMax * 1.5), Error);
  EXPECT_EQ(quieter.noise_max(), 0.3);  // a refused value changes nothing
}

// The training noise's sigma is drawn from 0 to ImageAugment::max_noise: on a flat grey
// picture every noisy image's pixels spread by no more than that (with the sampling error of
// 784 draws), and the spreads fill the range up to it.
TEST(Images, AugmentationNoiseSigmaStaysWithinItsMaximum) {
  const data::Mnist m = repeated_picture(300, std::vector<uint8_t>(784, 128), 3);
  models::ImageSet set(m, -1, 0.0f, 1.0f);
  const std::vector<int64_t> idx = all_indices(m.count);
  for (double max_noise : {0.3, 1.0}) {
    models::ImageAugment aug = augment_without_geometry();
    aug.noise_prob = 1, aug.max_noise = max_noise;
    Rng rng(5);
    const Tensor x = set.batch(idx, aug, rng, Device::cpu);
    const float* p = x.data<float>();
    double largest = 0;
    for (int64_t b = 0; b < m.count; ++b) {
      double sum2 = 0;
      for (int i = 0; i < 784; ++i) sum2 += std::pow(p[b * 784 + i] - 128.0 / 255.0, 2);
      const double spread = std::sqrt(sum2 / 784);
      EXPECT_LE(spread, max_noise * 1.1) << "image " << b;
      largest = std::max(largest, spread);
    }
    EXPECT_GT(largest, max_noise * 0.9);
  }
}

// Stroke-drawn printed digits (duet train --printed): every shape of every digit comes out in
// MNIST form, reproducibly for a seed; the shapes are told apart from each other (a
// nearest-mean reader trained on half of the renderings reads the other half); the footed 1
// has its foot; bad digits and shapes are refused.
TEST(PrintedDigits, EveryShapeRendersInMnistForm) {
  for (int d = 0; d < 10; ++d) {
    ASSERT_GE(models::printed_shapes(d), 1);
    for (int k = 0; k < models::printed_shapes(d); ++k) {
      Rng rng(uint64_t(100 * d + k));
      const std::vector<uint8_t> img = models::render_printed_digit(d, k, rng);
      ASSERT_EQ(img.size(), 784u);
      const InkBox box = ink_box(img, 0.2 * 255);
      ASSERT_GT(box.mass, 0) << d << " shape " << k;
      EXPECT_NEAR(std::max(box.width, box.height), 20, 1) << d << " shape " << k;  // fitted into 20x20
      EXPECT_NEAR(box.cx, 14, 1.0) << d << " shape " << k;                          // centred by mass
      EXPECT_NEAR(box.cy, 14, 1.0) << d << " shape " << k;
      Rng again(uint64_t(100 * d + k));
      EXPECT_EQ(models::render_printed_digit(d, k, again), img);  // reproducible for a seed
      EXPECT_NE(models::render_printed_digit(d, k, again), img);  // and another draw differs
    }
  }
  // Footed 1 against the bare stem in the same face (the same seed draws the same face): the
  // foot widens the lowest rows of ink by a third of the digit's height or more.
  auto bottom_width = [](const std::vector<uint8_t>& img) {
    int widest = 0, rows = 0;
    for (int y = 27; y >= 0 && rows < 3; --y) {
      int x0 = 28, x1 = -1;
      for (int x = 0; x < 28; ++x)
        if (img[y * 28 + x] > 127) x0 = std::min(x0, x), x1 = std::max(x1, x);
      if (x1 < 0) continue;
      widest = std::max(widest, x1 - x0 + 1), ++rows;
    }
    return widest;
  };
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Rng a(seed), b(seed);
    EXPECT_GE(bottom_width(models::render_printed_digit(1, 2, b)), bottom_width(models::render_printed_digit(1, 0, a)) + 6)
        << "seed " << seed;
  }
  Rng rng(5);
  // Ten different digits: class means of 30 renderings each read 30 more.
  std::vector<std::vector<double>> mean(10, std::vector<double>(784, 0.0));
  for (int d = 0; d < 10; ++d)
    for (int i = 0; i < 30; ++i) {
      const std::vector<uint8_t> img = models::render_printed_digit(d, -1, rng);
      for (int j = 0; j < 784; ++j) mean[d][j] += img[j] / 30.0;
    }
  int right = 0;
  for (int d = 0; d < 10; ++d)
    for (int i = 0; i < 30; ++i) {
      const std::vector<uint8_t> img = models::render_printed_digit(d, -1, rng);
      int best = -1;
      double best_dist = 1e300;
      for (int c = 0; c < 10; ++c) {
        double dist = 0;
        for (int j = 0; j < 784; ++j) dist += (img[j] - mean[c][j]) * (img[j] - mean[c][j]);
        if (dist < best_dist) best_dist = dist, best = c;
      }
      right += best == d;
    }
  EXPECT_GE(right, 270);  // 90% of 300
  EXPECT_THROW(models::render_printed_digit(10, 0, rng), Error);
  EXPECT_THROW(models::render_printed_digit(-1, 0, rng), Error);
  EXPECT_THROW(models::render_printed_digit(1, models::printed_shapes(1), rng), Error);
  EXPECT_THROW(models::render_printed_digit(1, -2, rng), Error);
}

// ImageAugment::printed_prob replaces that share of the training images by printed digits
// of their own class; at 0 (the default) the batch and the random draws are as without it.
TEST(PrintedDigits, AugmentationReplacesAShareOfImages) {
  // Flat grey "digits": a printed one has a black background.
  data::Mnist m = repeated_picture(200, std::vector<uint8_t>(784, 200), 0);
  for (int64_t i = 0; i < m.count; ++i) m.labels[size_t(i)] = int32_t(i % 10);
  models::ImageSet set(m, -1, 0.0f, 1.0f);
  const std::vector<int64_t> idx = all_indices(m.count);
  EXPECT_EQ(models::ImageAugment{}.printed_prob, 0.0);  // off unless asked for
  const models::ImageAugment aug = augment_without_geometry();
  auto replaced = [&](const models::ImageAugment& a, uint64_t seed) {
    Rng rng(seed);
    const std::vector<float> v = set.batch(idx, a, rng, Device::cpu).to_vector<float>();
    std::vector<bool> out;
    for (int64_t b = 0; b < m.count; ++b) {
      int dark = 0;
      for (int i = 0; i < 784; ++i) dark += v[size_t(b * 784 + i)] == 0.0f;
      out.push_back(dark > 300);
    }
    return std::make_pair(out, v);
  };
  const auto [none, plain] = replaced(aug, 3);
  for (bool r : none) EXPECT_FALSE(r);
  models::ImageAugment all = aug;
  all.printed_prob = 1;
  const auto [every, printed] = replaced(all, 3);
  for (bool r : every) EXPECT_TRUE(r);
  // Each replacement is a printed digit of the image's own label: the same draws give the
  // same pictures as rendering those labels directly. Picture b draws from its own generator,
  // seeded by the batch's one draw and b.
  const uint64_t batch_seed = Rng(3).next_u64();
  for (int64_t b = 0; b < 3; ++b) {
    Rng rng(splitmix64(batch_seed ^ splitmix64(uint64_t(b))));
    rng.uniform();  // the draw of whether to replace
    const std::vector<uint8_t> img = models::render_printed_digit(m.labels[size_t(b)], -1, rng);
    for (int i = 0; i < 5; ++i) rng.uniform();  // the affine transform's draws (all ranges 0 here)
    for (int i = 0; i < 784; i += 7) EXPECT_NEAR(printed[size_t(b * 784 + i)], img[i] / 255.0f, 1e-6f);
  }
  models::ImageAugment half = aug;
  half.printed_prob = 0.5;
  int n = 0;
  for (bool r : replaced(half, 4).first) n += r;
  EXPECT_GT(n, 60);
  EXPECT_LT(n, 140);
  EXPECT_EQ(replaced(aug, 3).second, plain);  // off: no draws, the same batch
}

// duet train --model image --printed P reaches the training batches (not the test batches);
// a share outside [0, 1] is refused; image:duet trains with some printed digits by default.
TEST(PrintedDigits, TaskShareReachesTrainingBatchesOnly) {
  auto task = tiny_image_task;
  models::ImageTask plain = task(), printed = task();
  EXPECT_EQ(printed.printed_share(), models::ImageTask::kDefaultPrinted);  // image:duet's default
  EXPECT_GT(models::ImageTask::kDefaultPrinted, 0.0);
  plain.set_printed_share(0);
  printed.set_printed_share(1);
  EXPECT_EQ(printed.printed_share(), 1.0);
  expect_training_batches_differ_only(plain, printed);
  EXPECT_THROW(printed.set_printed_share(1.5), Error);
  EXPECT_THROW(printed.set_printed_share(-0.1), Error);
}

TEST(Training, DeterministicOnTheCpuForASeed) {
  const auto& [root, ds, split] = TinyRandomSplit{};
  auto run = [&] {
    models::AudioTask t("audio:duet", ds, split.train, split.test, true, 9);
    t.to(Device::cpu);
    models::TrainOptions o;
    o.epochs = 2;
    o.batch = 16;
    o.seed = 9;
    o.sgd.lr = 0.03f;
    return models::train(t, o);
  };
  auto a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].train_loss, b[i].train_loss);
    EXPECT_EQ(a[i].test_acc, b[i].test_acc);
  }
}

// A training stopped after `stop` epochs (TrainOptions::stop_after) and resumed in a new task
// built the same way, from the state on_state gave and the stopped task's parameters and
// buffers, ends bit-identical to an unbroken run: weights, buffers and every epoch's metrics.
void expect_resume_matches_unbroken_run(const std::function<std::unique_ptr<models::Task>()>& make,
                                        models::TrainOptions o, int stop) {
  auto unbroken = make();
  const auto want = models::train(*unbroken, o);

  auto first = make();
  models::TrainOptions part = o;
  part.stop_after = stop;
  std::vector<models::TrainState> states;
  models::TrainCallbacks cb;
  cb.on_state = [&](const models::TrainState& st) { states.push_back(st); };
  const auto h1 = models::train(*first, part, cb);
  ASSERT_EQ(int(h1.size()), stop);
  ASSERT_EQ(int(states.size()), stop);
  const models::TrainState& st = states.back();
  EXPECT_EQ(st.epochs_done, stop);
  EXPECT_EQ(int64_t(st.order.size()), first->train_size());

  auto resumed = make();
  Tensor(resumed->params().values()).copy_(first->params().values());
  for (const auto& [name, t] : first->params().buffers()) Tensor(resumed->params().find(name)).copy_(t);
  std::vector<models::TrainState> later;
  cb.on_state = [&](const models::TrainState& s) { later.push_back(s); };
  const auto got = models::train(*resumed, o, cb, &st);
  ASSERT_EQ(got.size(), want.size());
  for (size_t e = 0; e < want.size(); ++e) {
    SCOPED_TRACE("epoch " + std::to_string(e + 1));
    EXPECT_EQ(got[e].epoch, want[e].epoch);
    EXPECT_EQ(got[e].train_loss, want[e].train_loss);
    EXPECT_EQ(got[e].train_acc, want[e].train_acc);
    EXPECT_EQ(got[e].test_loss, want[e].test_loss);
    EXPECT_EQ(got[e].test_acc, want[e].test_acc);
  }
  EXPECT_EQ(resumed->params().values().to_vector<float>(), unbroken->params().values().to_vector<float>());
  for (const auto& [name, t] : unbroken->params().buffers())
    EXPECT_EQ(resumed->params().find(name).to_vector<float>(), t.to_vector<float>()) << name;
  // States keep coming after every epoch but the last.
  EXPECT_EQ(int(later.size()), o.epochs - 1 - stop);
}

// audio:duet on the tiny data with its augmentation; two narrow conv blocks and one reading
// per test clip make it quick.
std::unique_ptr<models::Task> narrow_audio_task(const data::Fsdd& ds, const data::Split& split) {
  models::RecipeSteps clip_alone;
  clip_alone.test_speeds = std::vector<double>{1.0};
  models::NetworkOptions narrow;
  narrow.channels = {8, 8};
  auto t = std::make_unique<models::AudioTask>("audio:duet", ds, split.train, split.test, true, 9, clip_alone, narrow);
  t->to(Device::cpu);
  return t;
}

// The training of the resume and averaging tests: batch 16, seed 9, SGD 0.03 on a cosine
// schedule with momentum 0.9 and weight decay 5e-4.
models::TrainOptions cosine_sgd(int epochs) {
  models::TrainOptions o;
  o.epochs = epochs;
  o.batch = 16;
  o.seed = 9;
  o.sgd = {0.03f, 0.9f, 0.0f, 5e-4f, false};
  o.schedule = "cosine";
  return o;
}

// Resuming: audio:duet with its augmentation and mixup (the trainer's generator, the examples'
// order, the momentum and the schedule's position all matter), and attention fusion, whose
// begin_epoch pairs clips with images again from the trainer's generator.
TEST(Training, ResumedRunEqualsAnUnbrokenOne) {
  const auto& [root, ds, split] = TinyRandomSplit{};
  models::TrainOptions o = cosine_sgd(3);
  o.mixup = 0.4;
  {
    SCOPED_TRACE("audio:duet");
    expect_resume_matches_unbroken_run([&] { return narrow_audio_task(ds, split); }, o, 1);
  }
  o.mixup = 0;
  {
    SCOPED_TRACE("fusion:attention");
    expect_resume_matches_unbroken_run(
        [&] {
          models::FusionOptions one_pairing;  // each clip paired with one image an epoch (fewer steps)
          one_pairing.pairs_per_clip = 1;
          one_pairing.audio_channels = {8, 8};
          auto t = std::make_unique<models::FusionTask>("fusion:attention", ds, split, root.string(), true, 3,
                                                        one_pairing);
          t->to(Device::cpu);
          return std::unique_ptr<models::Task>(std::move(t));
        },
        o, 2);
  }
}

// Weight averaging (TrainOptions::average_last): averaging does not change the path of the
// training, so the epochs before the last match a run without it, and the model ends with the
// mean of the weights that run had after each of the last epochs; a resumed run with averaging
// under way ends like an unbroken one.
TEST(Training, WeightAveragingEndsWithTheMeanOfTheLastEpochs) {
  const auto& [root, ds, split] = TinyRandomSplit{};
  models::TrainOptions o = cosine_sgd(4);
  auto plain = narrow_audio_task(ds, split);
  std::vector<std::vector<float>> weights;  // after each epoch
  models::TrainCallbacks cb;
  cb.on_epoch = [&](const models::EpochStats&) { weights.push_back(plain->params().values().to_vector<float>()); };
  const auto want = models::train(*plain, o, cb);
  ASSERT_EQ(weights.size(), 4u);

  o.average_last = 3;
  auto averaged = narrow_audio_task(ds, split);
  const auto got = models::train(*averaged, o);
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(got[e].train_loss, want[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(got[e].test_acc, want[e].test_acc) << "epoch " << e + 1;
  }
  EXPECT_EQ(got[3].train_loss, want[3].train_loss);  // the last epoch trains alike; its test is the average's
  const std::vector<float> w = averaged->params().values().to_vector<float>();
  double worst = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double mean = (double(weights[1][i]) + weights[2][i] + weights[3][i]) / 3;
    worst = std::max(worst, std::abs(w[i] - mean) / std::max(1e-3, std::abs(mean)));
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_NE(w, weights[3]);

  o.average_last = 2;
  expect_resume_matches_unbroken_run([&] { return narrow_audio_task(ds, split); }, o, 3);
}

// After averaging, the batch-norm statistics are recomputed by one more pass over the training
// batches: with a learning rate of 1e-30 the weights do not move (beyond 1e-25), so the average
// is the weights of a run without averaging, and only the statistics differ.
TEST(Training, WeightAveragingRecomputesBatchNormStatistics) {
  const auto& [root, ds, split] = TinyRandomSplit{};
  models::TrainOptions o;
  o.epochs = 2;
  o.batch = 16;
  o.sgd = {1e-30f, 0.0f, 0.0f, 0.0f, false};
  auto plain = narrow_audio_task(ds, split);
  models::train(*plain, o);
  o.average_last = 2;
  auto averaged = narrow_audio_task(ds, split);
  models::train(*averaged, o);
  const std::vector<float> w = averaged->params().values().to_vector<float>(),
                           w0 = plain->params().values().to_vector<float>();
  for (size_t i = 0; i < w.size(); ++i) ASSERT_NEAR(w[i], w0[i], 1e-25) << i;
  ASSERT_FALSE(plain->params().buffers().empty());
  for (const auto& [name, t] : plain->params().buffers()) {
    const std::vector<float> a = averaged->params().find(name).to_vector<float>(), b = t.to_vector<float>();
    double moved = 0;
    for (size_t i = 0; i < a.size(); ++i) moved = std::max(moved, double(std::abs(a[i] - b[i])));
    EXPECT_GT(moved, 1e-4) << name << ": the statistics were not recomputed";
  }
  o.average_last = 1;
  EXPECT_THROW(models::train(*averaged, o), Error);
  o.average_last = 3;
  EXPECT_THROW(models::train(*averaged, o), Error);
}

// A state that cannot continue a training is refused before any step: another epoch count,
// batch size or data set, a broken order; stop_after must leave an epoch to resume.
TEST(Training, ResumeRefusesAStateOfAnotherTraining) {
  const auto& [root, ds, split] = TinyRandomSplit{};
  models::AudioTask t("audio:duet", ds, split.train, split.test, false, 1);
  t.to(Device::cpu);
  models::TrainOptions o;
  o.epochs = 3;
  o.batch = 16;
  o.stop_after = 1;
  std::optional<models::TrainState> saved;
  models::TrainCallbacks cb;
  cb.on_state = [&](const models::TrainState& st) { saved = st; };
  ASSERT_EQ(models::train(t, o, cb).size(), 1u);
  ASSERT_TRUE(saved);
  o.stop_after = 0;
  EXPECT_NO_THROW(models::check_resume_state(*saved, o, t.train_size()));
  auto refused = [&](models::TrainState st, models::TrainOptions opts, int64_t n, const char* why) {
    try {
      models::check_resume_state(st, opts, n);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  models::TrainOptions one = o;
  one.epochs = 1;
  refused(*saved, one, t.train_size(), "resumes after epochs 1 to 0");
  models::TrainOptions other_batch = o;
  other_batch.batch = 8;
  refused(*saved, other_batch, t.train_size(), "a different data set or batch size");
  refused(*saved, o, t.train_size() + 16, "this training takes");
  models::TrainState short_order = *saved;
  short_order.order.pop_back();
  refused(short_order, o, t.train_size(), "orders");
  models::TrainState twice = *saved;
  twice.order[0] = twice.order[1];
  refused(twice, o, t.train_size(), "not a permutation");
  models::TrainState no_metrics = *saved;
  no_metrics.history.clear();
  refused(no_metrics, o, t.train_size(), "epochs of metrics");
  models::TrainOptions averaging = o;  // averaging the last 3 of 3 epochs would have begun by now
  averaging.average_last = 3;
  refused(*saved, averaging, t.train_size(), "the saved state averages the weights of 0 epochs");
  EXPECT_THROW(models::train(t, o, {}, &twice), Error);
  models::TrainOptions too_late = o;
  too_late.stop_after = 3;
  EXPECT_THROW(models::train(t, too_late), Error);
}

// The tiny data set (make_tiny_data) with speaker bob held out.
struct TinySpeakerSplit {
  data::Fsdd ds = data::load_fsdd(make_tiny_data().string());
  data::Split split = data::make_split(ds, "speaker:bob");
};

// Trains audio:duet on the tiny task (12 epochs of cosine SGD, optionally with mixup) and
// expects it learnt: pure tones of distinct pitch, so the loss falls and the held-out speaker
// is >= 90% right.
void expect_tiny_task_learnt(const TinySpeakerSplit& tiny, double mixup) {
  models::AudioTask t("audio:duet", tiny.ds, tiny.split.train, tiny.split.test, false, 1);
  t.to(Device::cpu);
  models::TrainOptions o;
  o.epochs = 12;
  o.batch = 10;
  o.sgd.lr = 0.03f;
  o.schedule = "cosine";
  o.mixup = mixup;
  auto h = models::train(t, o);
  EXPECT_LT(h.back().train_loss, h.front().train_loss);
  EXPECT_GE(h.back().test_acc, 0.9) << "pure tones of distinct pitch should be easy (mixup " << mixup << ")";
}

TEST(Training, TinyAudioTaskLearns) { expect_tiny_task_learnt(TinySpeakerSplit{}, 0); }

// mixup: the batch is blended with its partner by the lambda the trainer draws, the loss is
// the lambda-weighted pair of cross-entropies, a fusion batch is refused, and a mixup run
// still learns the tiny task.
TEST(Training, MixupBlendsPairsAndStillLearns) {
  TinySpeakerSplit tiny;
  auto& [ds, split] = tiny;
  models::AudioTask t("audio:duet", ds, split.train, split.test, false, 1);
  t.to(Device::cpu);
  const std::vector<int64_t> idx = {0, 1, 2, 3, 4, 5};
  Rng rng(21), replay(21);
  Rng unused(0);
  models::Batch own = t.train_batch(idx, unused);
  models::Batch b = t.train_batch(idx, unused);
  auto [loss, logits] = models::mixup_loss(t, b, idx, 0.4, rng, 5);
  // What the trainer drew, replayed: the partner order, the partner batch, lambda.
  std::vector<int64_t> partner = idx;
  replay.shuffle(partner);
  models::Batch p = t.train_batch(partner, replay);
  double lambda = replay.beta(0.4, 0.4);
  lambda = std::max(lambda, 1 - lambda);
  ASSERT_GE(lambda, 0.5);
  const auto x = own.audio.to_vector<float>(), y = p.audio.to_vector<float>(), mixed = b.audio.to_vector<float>();
  ASSERT_EQ(mixed.size(), x.size());
  for (size_t i = 0; i < x.size(); i += 97)
    ASSERT_NEAR(mixed[i], lambda * x[i] + (1 - lambda) * y[i], 1e-5) << i;
  {
    NoGrad ng;
    const double expect = lambda * F::cross_entropy(logits, own.labels).item() +
                          (1 - lambda) * F::cross_entropy(logits, p.labels).item();
    EXPECT_NEAR(loss.item(), expect, 1e-5);
  }
  models::Batch fusion_like = t.train_batch(idx, unused);
  fusion_like.audio_missing.assign(idx.size(), 0);
  EXPECT_THROW(models::mixup_loss(t, fusion_like, idx, 0.4, rng, 5), Error);

  models::TrainOptions o;
  o.mixup = -0.1;
  EXPECT_THROW(models::train(t, o), Error);
  expect_tiny_task_learnt(tiny, 0.4);
}

// duet eval --robustness: each modality's rows of the fusion table (its absence left out), and
// an audio or image model evaluated with them: the clean row is the plain evaluation, a
// degradation changes what the network sees, the noise is drawn from the seed, and an effect
// on the other modality is refused.
TEST(Models, UnimodalRobustnessDegradesTheModelsOwnModality) {
  auto names = [](const std::vector<models::Degradation>& v) {
    std::vector<std::string> n;
    for (const auto& d : v) n.push_back(d.name);
    return n;
  };
  const auto audio = models::degradations_of("audio"), image = models::degradations_of("image");
  EXPECT_EQ(names(audio), (std::vector<std::string>{"clean", "audio SNR 20 dB", "audio SNR 10 dB", "audio SNR 0 dB",
                                                     "audio SNR -5 dB", "audio pink SNR 10 dB", "audio pink SNR 0 dB",
                                                     "audio speed 0.87", "audio speed 1.15", "audio room 0.5 s",
                                                     "audio room 1 s", "audio cut start 25%",
                                                     "audio cut end 25%", "audio clipped 12 dB"}));
  EXPECT_EQ(audio.back().audio.overdrive_db, 12);
  EXPECT_EQ(names(image), (std::vector<std::string>{"clean", "image noise 0.5", "image noise 1", "image noise 2",
                                                     "image occluded 14x14", "image photographed",
                                                     "image low-res 8 px", "image fine pen",
                                                     "image thick marker", "image file noise 0.3",
                                                     "image file noise 0.5", "image file salt 0.1"}));
  EXPECT_EQ(image[image.size() - 6].image.lowres, 8);
  EXPECT_DOUBLE_EQ(image[image.size() - 5].image.pen, 1.0 / 80);
  EXPECT_DOUBLE_EQ(image[image.size() - 4].image.pen, 0.25);
  EXPECT_DOUBLE_EQ(image[image.size() - 3].image.file_noise, 0.3);
  EXPECT_DOUBLE_EQ(image[image.size() - 2].image.file_noise, 0.5);
  EXPECT_EQ(image[image.size() - 2].image.noise, 0) << "file noise is not the noise added to the prepared digit";
  EXPECT_DOUBLE_EQ(image.back().image.file_salt, 0.1);
  EXPECT_EQ(image.back().image.file_noise, 0);
  for (const auto& d : models::standard_degradations()) {
    EXPECT_FALSE(d.image.photo) << d.name << ": the fusion table has no photographed row";
    EXPECT_EQ(d.image.lowres, 0) << d.name << ": the fusion table has no low-resolution row";
    EXPECT_EQ(d.image.pen, 0) << d.name << ": the fusion table has no pen rows";
    EXPECT_EQ(d.image.file_noise, 0) << d.name << ": the fusion table has no file-noise rows";
    EXPECT_EQ(d.image.file_salt, 0) << d.name << ": the fusion table has no file-salt rows";
  }
  EXPECT_THROW(models::degradations_of("video"), Error);

  TinySpeakerSplit tiny;
  models::AudioTask a("audio:duet", tiny.ds, tiny.split.train, tiny.split.test, false, 1);
  a.to(Device::cpu);
  const models::EvalResult clean = models::evaluate(a, 7, 3), same = models::evaluate_degraded(a, audio[0], 7, 3);
  EXPECT_EQ(same.predictions, clean.predictions);
  EXPECT_EQ(same.loss, clean.loss);
  const models::Degradation& noisy_row = audio[4];  // -5 dB
  const models::EvalResult noisy = models::evaluate_degraded(a, noisy_row, 7, 3);
  EXPECT_NE(noisy.loss, clean.loss) << "-5 dB of noise did not reach the features";
  EXPECT_EQ(models::evaluate_degraded(a, noisy_row, 7, 3).loss, noisy.loss);
  EXPECT_NE(models::evaluate_degraded(a, noisy_row, 7, 4).loss, noisy.loss);
  // The pink rows: noise of another colour at the same SNR, drawn from the seed too.
  EXPECT_EQ(audio[5].audio.colour, models::NoiseColour::pink);
  EXPECT_EQ(audio[2].audio.colour, models::NoiseColour::white);
  const models::EvalResult pink = models::evaluate_degraded(a, audio[5], 7, 3);  // pink 10 dB
  EXPECT_NE(pink.loss, clean.loss) << "pink noise did not reach the features";
  EXPECT_NE(pink.loss, models::evaluate_degraded(a, audio[2], 7, 3).loss) << "pink 10 dB read as white 10 dB";
  EXPECT_EQ(models::evaluate_degraded(a, audio[5], 7, 3).loss, pink.loss);
  // The speed rows play every clip slower or faster: other features, no noise to draw.
  const models::EvalResult slow = models::evaluate_degraded(a, audio[7], 7, 3);
  EXPECT_NE(slow.loss, clean.loss) << "speed 0.87 did not reach the features";
  EXPECT_EQ(models::evaluate_degraded(a, audio[7], 7, 4).loss, slow.loss);
  EXPECT_NE(models::evaluate_degraded(a, audio[8], 7, 3).loss, clean.loss) << "speed 1.15 did not reach the features";
  for (const auto& d : models::standard_degradations())
    EXPECT_EQ(d.audio.speed, 1.0) << d.name << ": the fusion table has no speed rows";
  // The room rows: reverberation drawn from the seed, the 1 s room further from clean.
  EXPECT_EQ(audio[9].audio.rt60, 0.5);
  EXPECT_EQ(audio[10].audio.rt60, 1.0);
  const models::EvalResult room = models::evaluate_degraded(a, audio[9], 7, 3);
  EXPECT_NE(room.loss, clean.loss) << "the room did not reach the features";
  EXPECT_EQ(models::evaluate_degraded(a, audio[9], 7, 3).loss, room.loss);
  EXPECT_NE(models::evaluate_degraded(a, audio[9], 7, 4).loss, room.loss);
  EXPECT_NE(models::evaluate_degraded(a, audio[10], 7, 3).loss, room.loss);
  for (const auto& d : models::standard_degradations())
    EXPECT_EQ(d.audio.rt60, 0.0) << d.name << ": the fusion table has no room rows";
  // The cut rows: a quarter of each word missing at its start or its end, nothing drawn.
  EXPECT_EQ(audio[11].audio.cut, 0.25);
  EXPECT_TRUE(audio[11].audio.cut_at_start);
  EXPECT_FALSE(audio[12].audio.cut_at_start);
  const models::EvalResult late = models::evaluate_degraded(a, audio[11], 7, 3);
  EXPECT_NE(late.loss, clean.loss) << "the cut did not reach the features";
  EXPECT_EQ(models::evaluate_degraded(a, audio[11], 7, 4).loss, late.loss);
  EXPECT_NE(models::evaluate_degraded(a, audio[12], 7, 3).loss, late.loss);
  for (const auto& d : models::standard_degradations())
    EXPECT_EQ(d.audio.cut, 0.0) << d.name << ": the fusion table has no cut rows";
  EXPECT_THROW(models::evaluate_degraded(a, image[1], 7, 3), Error);

  const std::string root = make_tiny_data().string();
  models::ImageTask im("image:duet", data::load_mnist(root, "train"), data::load_mnist(root, "test"), -1, false, 1);
  im.to(Device::cpu);
  const models::EvalResult iclean = models::evaluate(im, 7, 3);
  for (size_t k = 1; k < image.size(); ++k)
    EXPECT_NE(models::evaluate_degraded(im, image[k], 7, 3).loss, iclean.loss) << image[k].name;
  EXPECT_THROW(models::evaluate_degraded(im, audio[1], 7, 3), Error);
  EXPECT_THROW(models::evaluate_degraded(im, audio[5], 7, 3), Error);
  EXPECT_THROW(models::evaluate_degraded(im, audio[7], 7, 3), Error);
  EXPECT_THROW(models::evaluate_degraded(im, audio[9], 7, 3), Error);
}

// Several digits read at once (predict --number reads every part of touching digits in one batch):
// each row and shifted view as the digit alone makes it; none at all is refused.
TEST(Models, ImageInputForSeveralDigitsStacksTheirViews) {
  const std::string root = make_tiny_data().string();
  models::ImageTask im("image:duet", data::load_mnist(root, "train"), data::load_mnist(root, "test"), -1, false, 1);
  std::vector<float> a(784, 0.0f), b(784, 0.0f);
  for (int i = 300; i < 500; ++i) a[size_t(i)] = 1.0f, b[size_t(783 - i)] = 0.5f;
  const models::Batch both = im.input_for(std::vector<std::vector<float>>{a, b});
  ASSERT_EQ(both.image.shape()[0], 2);
  for (int r = 0; r < 2; ++r) {
    const models::Batch one = im.input_for(r == 0 ? a : b);
    ASSERT_EQ(both.views.size(), one.views.size());
    const std::vector<float> all = both.image.to_vector<float>(), alone = one.image.to_vector<float>();
    EXPECT_TRUE(std::equal(alone.begin(), alone.end(), all.begin() + r * 784));
    for (size_t v = 0; v < one.views.size(); ++v) {
      const std::vector<float> vs = both.views[v].to_vector<float>(), va = one.views[v].to_vector<float>();
      EXPECT_TRUE(std::equal(va.begin(), va.end(), vs.begin() + r * 784));
    }
  }
  EXPECT_THROW(im.input_for(std::vector<std::vector<float>>{}), Error);
  EXPECT_THROW(im.input_for(std::vector<std::vector<float>>{a, std::vector<float>(10)}), Error);
}

// --n-fft: audio:duet's STFT size changes the recipe (the window spans the FFT), keeps the
// network's input shape (the hop sets the frames), travels in config.json, and a size the
// 1 s window cannot hold is refused.
TEST(Models, StftSizeTravelsWithTheRecipe) {
  TinySpeakerSplit tiny;
  auto& [ds, split] = tiny;
  models::RecipeSteps steps;
  steps.n_fft = 512;
  models::AudioTask t("audio:duet", ds, split.train, split.test, false, 1, steps);
  models::AudioTask dflt("audio:duet", ds, split.train, split.test, false, 1);
  EXPECT_EQ(t.recipe().frontend.n_fft, 512);
  EXPECT_EQ(t.recipe().frontend.win(), 512);
  EXPECT_EQ(dflt.recipe().frontend.n_fft, 256);
  EXPECT_EQ(t.recipe().input_shape(), dflt.recipe().input_shape());
  nlohmann::json cfg = t.config();
  EXPECT_EQ(cfg.at("audio").at("frontend").at("n_fft").get<int>(), 512);
  models::AudioTask back(cfg, &ds, split.test);
  EXPECT_EQ(back.recipe().frontend.n_fft, 512);
  Rng r1(0), r2(0);
  const auto a = back.test_batch({0}, r1).audio.to_vector<float>();
  const auto d = dflt.test_batch({0}, r2).audio.to_vector<float>();
  ASSERT_EQ(a.size(), d.size());
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += std::abs(a[i] - d[i]);
  EXPECT_GT(diff / double(a.size()), 1e-3) << "a 512-point STFT should give other features than a 256-point one";
  steps.n_fft = 20000;  // more than twice the 8000-sample window
  EXPECT_THROW(models::AudioTask("audio:duet", ds, split.train, split.test, false, 1, steps), Error);
}

// duet predict and eval --inputs read a file through input_for: the network must see what
// the test batch gives it for the same clip (normalised once, by forward), so a file gets the
// probabilities eval reports for it.
TEST(Models, InputForGivesTheTestBatchLogits) {
  TinySpeakerSplit tiny;
  auto& [ds, split] = tiny;
  models::AudioTask t("audio:duet", ds, split.train, split.test, false, 1);
  t.to(Device::cpu);
  NoGrad ng;
  Rng rng(0);
  const auto want = t.forward(t.test_batch({0}, rng), false, 0).to_vector<float>();
  const dsp::Audio a = dsp::read_wav(ds.recordings[split.test[0]].path);
  const models::Batch b = t.input_for(a.samples, a.sample_rate);
  EXPECT_EQ(b.views.size(), 2u);  // audio:duet's speeds 0.92, 1, 1.08
  const auto got = t.forward(b, false, 0).to_vector<float>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-4) << k;
}

// A recording with no word in it (no samples, digital silence, or nothing above -80 dBFS) is
// refused with a message rather than classified: the network would otherwise name a digit
// for silence. A quiet but real recording (FSDD's quietest peaks at -40 dBFS) passes.
TEST(Models, SilentRecordingsAreRefused) {
  auto message = [](const std::vector<float>& x) {
    try {
      models::check_audible(x);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({}).find("holds no samples"), std::string::npos);
  EXPECT_NE(message(std::vector<float>(8000, 0.0f)).find("silent (every sample is 0)"), std::string::npos);
  std::vector<float> hiss(8000, 0.0f);
  hiss[100] = -3e-5f;  // one step of 16-bit audio: -90 dBFS
  EXPECT_NE(message(hiss).find("loudest sample at -90 dBFS"), std::string::npos) << message(hiss);
  hiss[200] = models::kSilentPeak;  // the threshold itself is loud enough
  EXPECT_EQ(message(hiss), "");
  std::vector<float> quiet(8000);
  for (size_t k = 0; k < quiet.size(); ++k) quiet[k] = 0.01f * std::sin(0.3f * float(k));
  EXPECT_EQ(message(quiet), "");

  TinySpeakerSplit tiny;
  auto& [ds, split] = tiny;
  models::AudioTask t("audio:duet", ds, split.train, split.test, false, 1);
  EXPECT_THROW(t.input_for(std::vector<float>(8000, 0.0f), 8000), Error);
  EXPECT_THROW(t.input_for(std::vector<float>{}, 8000), Error);
  EXPECT_NO_THROW(t.input_for(quiet, 8000));
  // Several recordings at once: each row and view as the recording alone makes it; a silent one
  // among them, or none at all, is refused.
  std::vector<float> word(6000, 0.0f);
  for (size_t k = 2000; k < 4000; ++k) word[k] = 0.3f * std::sin(0.2f * float(k));
  const models::Batch both = t.input_for(std::vector<std::vector<float>>{quiet, word}, 8000);
  ASSERT_EQ(both.audio.shape()[0], 2);
  ASSERT_EQ(both.views.size(), t.input_for(word, 8000).views.size());
  for (int r = 0; r < 2; ++r) {
    const models::Batch one = t.input_for(r == 0 ? quiet : word, 8000);
    const std::vector<float> all = both.audio.to_vector<float>(), alone = one.audio.to_vector<float>();
    EXPECT_TRUE(std::equal(alone.begin(), alone.end(), all.begin() + r * int64_t(alone.size())));
    for (size_t v = 0; v < one.views.size(); ++v) {
      const std::vector<float> vs = both.views[v].to_vector<float>(), va = one.views[v].to_vector<float>();
      EXPECT_TRUE(std::equal(va.begin(), va.end(), vs.begin() + r * int64_t(va.size())));
    }
  }
  EXPECT_THROW(t.input_for(std::vector<std::vector<float>>{word, std::vector<float>(8000, 0.0f)}, 8000), Error);
  EXPECT_THROW(t.input_for(std::vector<std::vector<float>>{}, 8000), Error);
}

// audio:duet's channel counts: one conv block per entry, checked, written to config.json and
// read back (a folder without them holds the default network); fusion's audio encoder alike.
TEST(Models, ChannelCountsShapeAudioDuetAndTravelWithTheModel) {
  {
    Parameters ps;
    auto net = models::build_network("audio:duet", {1, 64, 126}, 0, ps, "", {{8, 16}});
    EXPECT_TRUE(ps.find("conv2.weight").defined());
    EXPECT_FALSE(ps.find("conv3.weight").defined());
    EXPECT_EQ(net->feature_dim(), 16 * (64 / 4) * (126 / 4));
    EXPECT_EQ(ps.find("conv2.weight").shape(), (Shape{16, 8, 3, 3}));
    Rng rng(3);
    Tensor x = Tensor::zeros({2, 1, 64, 126});
    init_uniform(x, 1.0, rng);
    NoGrad ng;
    EXPECT_EQ(net->forward(x, false, 0).shape(), (Shape{2, 10}));
  }
  {
    Parameters ps;
    auto net = models::build_network("audio:duet", {1, 64, 126}, 0, ps);
    EXPECT_EQ(ps.find("conv4.weight").shape(), (Shape{64, 64, 3, 3}));  // the default 16, 32, 64, 64
    EXPECT_FALSE(ps.find("conv5.weight").defined());
    EXPECT_EQ(net->feature_dim(), 64 * (64 / 16) * (126 / 16));  // a 4 x 7 grid of 64 channels
    EXPECT_EQ(ps.count(), 78506);
  }
  auto build = [](const std::string& arch, Shape in, std::vector<int64_t> ch) {
    Parameters ps;
    models::build_network(arch, in, 0, ps, "", {ch});
  };
  EXPECT_THROW(build("audio:duet", {1, 64, 126}, {8, 8, 8, 8, 8, 8}), Error);  // more than 5 blocks
  EXPECT_THROW(build("audio:duet", {1, 64, 126}, {8, 0}), Error);
  EXPECT_THROW(build("audio:duet", {1, 8, 8}, {4, 4, 4, 4}), Error);  // 8 >> 4 leaves nothing
  EXPECT_THROW(build("image:duet", {1, 28, 28}, {8}), Error);

  fs::path root = make_tiny_data();
  data::Fsdd ds = data::load_fsdd(root.string());
  data::Split split = data::make_split(ds, "speaker:bob");
  models::AudioTask t("audio:duet", ds, split.train, split.test, false, 1, {}, {{8, 16}});
  nlohmann::json cfg = t.config();
  EXPECT_EQ(cfg.at("channels").get<std::vector<int64_t>>(), (std::vector<int64_t>{8, 16}));
  models::AudioTask back(cfg, &ds, split.test);
  EXPECT_EQ(back.params().count(), t.params().count());
  cfg.erase("channels");  // a folder from before channel counts were recorded: three blocks
  models::AudioTask old(cfg, &ds, split.test);
  Parameters first, dflt;
  models::build_network("audio:duet", t.recipe().input_shape(), 0, first, "", {{16, 32, 32}});
  models::build_network("audio:duet", t.recipe().input_shape(), 0, dflt);
  EXPECT_EQ(old.params().count(), first.count());
  EXPECT_EQ(old.params().find("conv3.weight").shape(), (Shape{32, 32, 3, 3}));
  EXPECT_FALSE(old.params().find("conv4.weight").defined());
  EXPECT_NE(first.count(), dflt.count());

  models::FusionOptions fo = without_random_effects();
  fo.audio_channels = {8};
  models::FusionTask f("fusion:concat", ds, split, root.string(), false, 1, fo);
  nlohmann::json fc = f.config();
  EXPECT_EQ(fc.at("fusion").at("audio_channels").get<std::vector<int64_t>>(), (std::vector<int64_t>{8}));
  fc["data"] = {{"seed", 1}};
  models::FusionTask fback(fc, &ds, split, root.string());
  EXPECT_EQ(fback.params().count(), f.params().count());
  EXPECT_EQ(fback.params().find("audio.conv1.weight").shape(), (Shape{8, 1, 3, 3}));
  fc["fusion"].erase("audio_channels");  // a fusion folder from before: three-block audio encoder
  models::FusionTask fold(fc, &ds, split, root.string());
  EXPECT_EQ(fold.params().find("audio.conv3.weight").shape(), (Shape{32, 32, 3, 3}));
  EXPECT_FALSE(fold.params().find("audio.conv4.weight").defined());
}

// image:vgg: two stages of two padded 3x3 conv-BN-ReLU layers and a pool each (28 -> 14 -> 7),
// then the image:duet head; every layer's shape, the parameter count, the output, and the inputs
// and options it refuses.
TEST(Models, ImageVggShapes) {
  Parameters ps;
  auto net = models::build_network("image:vgg", {1, 28, 28}, 0, ps);
  EXPECT_EQ(net->arch(), "image:vgg");
  EXPECT_EQ(ps.find("conv1.weight").shape(), (Shape{32, 1, 3, 3}));
  EXPECT_EQ(ps.find("conv2.weight").shape(), (Shape{32, 32, 3, 3}));
  EXPECT_EQ(ps.find("conv3.weight").shape(), (Shape{64, 32, 3, 3}));
  EXPECT_EQ(ps.find("conv4.weight").shape(), (Shape{64, 64, 3, 3}));
  EXPECT_EQ(ps.find("bn4.weight").shape(), (Shape{64}));
  EXPECT_EQ(ps.find("fc1.weight").shape(), (Shape{128, 64 * 7 * 7}));
  EXPECT_EQ(ps.find("fc2.weight").shape(), (Shape{10, 128}));
  EXPECT_EQ(ps.count(), 468202);
  EXPECT_EQ(net->feature_dim(), 128);
  Rng rng(5);
  Tensor x = Tensor::zeros({3, 1, 28, 28});
  init_uniform(x, 1.0, rng);
  {
    NoGrad ng;
    const Tensor y = net->forward(x, false, 0);
    EXPECT_EQ(y.shape(), (Shape{3, 10}));
    for (float v : y.to_vector<float>()) EXPECT_TRUE(std::isfinite(v));
  }
  Parameters small;
  EXPECT_THROW(models::build_network("image:vgg", {1, 3, 3}, 0, small), Error);  // nothing left after two pools
  Parameters ch;
  EXPECT_THROW(models::build_network("image:vgg", {1, 28, 28}, 0, ch, "", {{8}}), Error);  // no channel counts
  const auto& names = models::architectures();
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const auto& a) { return a.first == "image:vgg"; }));
}

TEST(Training, LearningRateSchedules) {
  models::TrainOptions o;
  o.sgd.lr = 0.1f;
  EXPECT_DOUBLE_EQ(models::learning_rate_at(o, 50, 100), double(0.1f));
  o.schedule = "cosine";
  // Warm-up: linear over max(total/30, 100) steps, at most a quarter of the run.
  EXPECT_NEAR(models::learning_rate_at(o, 0, 3000), 0.1 / 100, 1e-6);
  EXPECT_NEAR(models::learning_rate_at(o, 49, 3000), 0.1 / 2, 1e-6);
  EXPECT_NEAR(models::learning_rate_at(o, 100, 3000), 0.1, 1e-4);  // peak, then cosine decay
  EXPECT_NEAR(models::learning_rate_at(o, 24, 100), 0.1, 1e-6);    // short run: a quarter of it
  EXPECT_LT(models::learning_rate_at(o, 2999, 3000), 1e-3);        // decays to ~0
  EXPECT_GT(models::learning_rate_at(o, 1000, 3000), models::learning_rate_at(o, 2000, 3000));
  o.schedule = "bogus";
  EXPECT_THROW(models::learning_rate_at(o, 0, 10), Error);
}

TEST(Params, BuffersTravelWithCheckpointsButNotWithSgd) {
  Parameters ps;
  models::BatchNorm bn(ps, "bn", 3);
  EXPECT_EQ(ps.count(), 6);  // gamma and beta only
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  ps.pack(Device::cpu);
  bn(x, true);
  auto rm = bn.running_mean.to_vector<float>();
  EXPECT_NEAR(rm[0], 0.1 * 2.5, 1e-6);  // momentum 0.1 towards the batch mean
  const duet_test::ScratchFolder folder("duet_bn_");
  fs::path p = folder.path() / "bn.safetensors";
  save_parameters(p.string(), ps);
  Parameters other;
  models::BatchNorm bn2(other, "bn", 3);
  load_parameters(p.string(), other);
  EXPECT_EQ(bn2.running_mean.to_vector<float>(), rm);
}

TEST(Audio, LongClipsKeepTheirLoudestStretch) {
  // 3 s of silence with a 0.4 s tone starting at 0.1 s: the 1 s window must hold the tone,
  // where a centre crop (1 s to 2 s) would hold nothing.
  std::vector<float> x(24000, 0.0f);
  for (int i = 800; i < 4000; ++i) x[i] = float(std::sin(0.3 * i));
  const int64_t start = models::loudest_window(x, 8000);
  EXPECT_LE(start, 800);
  EXPECT_GE(start + 8000, 4000);
  EXPECT_EQ(models::loudest_window(x, 30000), 0);  // not longer than the window
  EXPECT_EQ(models::loudest_window({}, 8000), 0);
  models::AudioRecipe r = models::audio_recipe("duet");
  const std::vector<float> w = models::prepare_wave(x, 8000, r);
  ASSERT_EQ(int64_t(w.size()), r.num_samples);
  double energy = 0;
  for (float v : w) energy += double(v) * v;
  EXPECT_GT(energy, 1000.0);  // the tone's 3200 samples at mean square 0.5
}

TEST(Audio, BandMeansAreRemovedAndTheRecipeRemembersIt) {
  Tensor f = Tensor::empty({2, 1, 3, 5});
  for (int64_t i = 0; i < f.numel(); ++i) f.data<float>()[i] = float(i % 7) + 10.0f * float(i / 5);
  Tensor before = f.clone();
  dsp::subtract_band_means(f);
  for (int64_t row = 0; row < 6; ++row) {
    double mean = 0;
    for (int t = 0; t < 5; ++t) mean += f.data<float>()[row * 5 + t];
    EXPECT_NEAR(mean / 5, 0.0, 1e-5) << "row " << row;
    // Differences within a row are unchanged.
    EXPECT_NEAR(f.data<float>()[row * 5 + 3] - f.data<float>()[row * 5],
                before.data<float>()[row * 5 + 3] - before.data<float>()[row * 5], 1e-5);
  }
  Tensor bad = Tensor::empty({2, 3});
  EXPECT_THROW(dsp::subtract_band_means(bad), Error);
  models::AudioRecipe r = models::audio_recipe("duet");
  EXPECT_TRUE(r.band_norm);
  EXPECT_FALSE(models::audio_recipe("course").band_norm);
  r.band_norm = false;
  EXPECT_FALSE(models::AudioRecipe::from_json(r.to_json()).band_norm);
  nlohmann::json old = models::audio_recipe("duet").to_json();
  old.erase("band_norm");  // model folders written before the option existed
  EXPECT_FALSE(models::AudioRecipe::from_json(old).band_norm);
}

// Training augmentation that only adds noise, at one SNR, to every clip.
static models::AudioAugment noise_only(double snr_db) {
  models::AudioAugment aug;
  aug.enabled = true;
  aug.noise_prob = 1, aug.snr_min_db = aug.snr_max_db = snr_db;
  aug.speed_min = aug.speed_max = 1, aug.gain_db = 0, aug.max_shift = 0;
  aug.time_masks = aug.freq_masks = 0;
  return aug;
}

// The tiny data's first clip with the duet recipe's features in raw dB (no per-band mean
// removal, no standardisation: silence is one floor value in every bin, and what the
// augmentation adds shows as it is), and its training batch for an augmentation.
struct RawDbClip {
  TinySpeakerSplit tiny;
  models::AudioRecipe recipe = raw_db_recipe();
  models::AudioSet set{tiny.ds, {0}, recipe};
  static models::AudioRecipe raw_db_recipe() {
    models::AudioRecipe r = models::audio_recipe("duet");
    r.band_norm = false, r.standardize = false;
    return r;
  }
  Tensor batch(const models::AudioAugment& a) const {  // [1, 1, bins, frames]
    Rng rng(5);
    return set.batch({0}, a, rng, Device::cpu);
  }
};

// Augmentation noise covers the whole window by default (the silence around a short word
// too, as in a noisy recording); with noise_on_window false only the clip is noisy and its
// padding stays silent. Seen in the first frame, which lies in the padding of a centred clip.
TEST(Audio, AugmentationNoiseCoversTheWindow) {
  const RawDbClip clip;
  ASSERT_LT(clip.set.wave(0).size(), size_t(clip.recipe.num_samples) / 2);
  models::AudioAugment aug = noise_only(10);
  EXPECT_TRUE(aug.noise_on_window);
  auto first_frame_spread = [&](const models::AudioAugment& a) {
    Tensor f = clip.batch(a);
    const int64_t bins = f.shape()[2], frames = f.shape()[3];
    const float* p = f.data<float>();
    float lo = p[0], hi = p[0];
    for (int64_t b = 0; b < bins; ++b) lo = std::min(lo, p[b * frames]), hi = std::max(hi, p[b * frames]);
    return hi - lo;
  };
  EXPECT_GT(first_frame_spread(aug), 1.0f) << "no noise in the padding";
  aug.noise_on_window = false;
  EXPECT_LT(first_frame_spread(aug), 1e-4f) << "clip-only noise reached the padding";
}

// Power per octave of a signal at 8 kHz: the octaves of 1024-point FFT bins [4, 8), [8, 16),
// ... [256, 512) (31-62 Hz up to 2-4 kHz), each averaged over the frames.
static std::vector<double> octave_powers(const std::vector<double>& x) {
  dsp::FrontendConfig c;
  c.sample_rate = 8000, c.n_fft = 1024, c.hop_length = 512, c.mel = false, c.to_db = false;
  std::vector<float> xf(x.begin(), x.end());
  const int64_t frames = c.frames(int64_t(x.size()));
  std::vector<float> spec(size_t(c.n_freqs() * frames));
  dsp::frontend_cpu(xf.data(), 1, int64_t(xf.size()), c, spec.data());
  std::vector<double> out;
  for (int lo = 4; lo < 512; lo *= 2) {
    double p = 0;
    for (int f = lo; f < 2 * lo; ++f)
      for (int64_t t = 0; t < frames; ++t) p += spec[size_t(f * frames + t)];
    out.push_back(p);
  }
  return out;
}

// Pink noise has unit power and the same power in every octave (1/f); white noise, for
// contrast, doubles its power from one octave to the next.
TEST(Audio, PinkNoiseHasEqualPowerPerOctave) {
  Rng rng(11);
  const std::vector<double> pink = models::pink_noise(65536, rng);
  double ms = 0;
  for (double v : pink) ms += v * v;
  EXPECT_NEAR(ms / double(pink.size()), 1.0, 1e-9);
  const std::vector<double> p = octave_powers(pink);
  for (size_t k = 1; k < p.size(); ++k)
    EXPECT_NEAR(10 * std::log10(p[k] / p[0]), 0.0, 1.5) << "octave " << k << " against the first";
  std::vector<double> white(65536);
  for (double& v : white) v = rng.normal();
  const std::vector<double> w = octave_powers(white);
  for (size_t k = 1; k < w.size(); ++k)
    EXPECT_NEAR(10 * std::log10(w[k] / w[k - 1]), 3.0, 1.0) << "white octave " << k;
  EXPECT_TRUE(models::pink_noise(0, rng).empty());
}

// --pink-noise: the training's noise is pink for the share asked for. In the padding (noise
// alone) pink noise puts more of its power in the low mel bins than white noise does.
TEST(Audio, AugmentationNoiseCanBePink) {
  const RawDbClip clip;
  const TinySpeakerSplit& tiny = clip.tiny;
  models::AudioAugment aug = noise_only(0);
  EXPECT_EQ(aug.pink_share, 0.0);
  auto batch = [&](const models::AudioAugment& a) { return clip.batch(a); };
  // Mean dB of the lowest 16 mel bins less that of the highest 16, over the first 10 frames.
  auto tilt = [](const Tensor& f) {
    const int64_t bins = f.shape()[2], frames = f.shape()[3];
    const float* p = f.data<float>();
    double low = 0, high = 0;
    for (int64_t t = 0; t < 10; ++t)
      for (int64_t b = 0; b < 16; ++b) low += p[b * frames + t], high += p[(bins - 1 - b) * frames + t];
    return (low - high) / 160;
  };
  const Tensor white = batch(aug);
  aug.pink_share = 1;
  const Tensor pink = batch(aug);
  EXPECT_GT(tilt(pink) - tilt(white), 6.0) << "pink noise not tilted towards the low bins";
  aug.pink_share = 0.5;  // some clips pink, some white: between the two
  Rng rng(9);
  int pinkish = 0;
  for (int k = 0; k < 20; ++k) pinkish += tilt(clip.set.batch({0}, aug, rng, Device::cpu)) - tilt(white) > 6.0;
  EXPECT_GT(pinkish, 2);
  EXPECT_LT(pinkish, 18);

  models::AudioTask t("audio:duet", tiny.ds, tiny.split.train, tiny.split.test, true, 1);
  EXPECT_EQ(t.pink_share(), 0.0);
  t.set_pink_share(0.25);
  EXPECT_EQ(t.pink_share(), 0.25);
  EXPECT_THROW(t.set_pink_share(1.5), Error);
  EXPECT_THROW(t.set_pink_share(-0.1), Error);
}

// A test clip's views (its test-time speeds) hear the same room: the room is drawn from the
// batch's seed and the clip, so reading one view alone gives the features of that view in
// the full batch.
TEST(Audio, TestTimeViewsHearTheSameRoom) {
  TinySpeakerSplit tiny;
  models::AudioRecipe r = models::audio_recipe("duet");
  models::AudioSet set(tiny.ds, {0, 1}, r);
  models::ClipEffects fx;
  fx.rt60 = 1.0, fx.drr_db = 0, fx.room_seed = 99;
  auto features = [&](const models::ClipEffects& e, const std::vector<int64_t>& idx) {
    Rng rng(1);
    return set.batch(idx, models::AudioAugment{}, rng, Device::cpu, std::vector<models::ClipEffects>(idx.size(), e))
        .to_vector<float>();
  };
  const std::vector<float> both = features(fx, {0, 1}), second = features(fx, {1});
  EXPECT_EQ(std::vector<float>(both.begin() + both.size() / 2, both.end()), second)
      << "a clip's room depends on the other clips of its batch";
  models::ClipEffects other = fx;
  other.room_seed = 100;
  EXPECT_NE(features(other, {1}), second);
  EXPECT_NE(features(models::ClipEffects{}, {1}), second) << "no reverberation reached the features";
}

// --reverb: training clips heard in a room carry the word's reverberation after it, so the
// frames after a short clip's word are louder than without rooms; without rooms the draws of
// the rest of the augmentation are unchanged.
TEST(Audio, AugmentationRoomsReverberate) {
  const RawDbClip clip;
  models::AudioAugment aug = noise_only(0);
  aug.noise_prob = 0;
  EXPECT_EQ(aug.reverb_prob, 0.0);
  auto batch = [&](const models::AudioAugment& a) { return clip.batch(a); };
  // The loudest bin (dB) of four frames after the (centred) word: its tone's reverberation.
  const int64_t clip_frames = int64_t(clip.set.wave(0).size()) / clip.recipe.frontend.hop();
  const int64_t frames = batch(aug).shape()[3];
  const int64_t after = (frames + clip_frames) / 2 + 4;
  ASSERT_LT(after + 4, frames);
  auto level_after = [&](const Tensor& f) {
    const int64_t bins = f.shape()[2];
    const float* p = f.data<float>();
    double m = -INFINITY;
    for (int64_t b = 0; b < bins; ++b)
      for (int64_t t = after; t < after + 4; ++t) m = std::max(m, double(p[b * frames + t]));
    return m;
  };
  const Tensor dry = batch(aug);
  models::AudioAugment rooms = aug;
  rooms.reverb_prob = 1, rooms.rt60_min = rooms.rt60_max = 1.0, rooms.drr_min_db = rooms.drr_max_db = 0;
  EXPECT_GT(level_after(batch(rooms)) - level_after(dry), 30.0) << "no reverberation after the word";
  rooms.reverb_prob = 0;
  rooms.rt60_min = 0.3;  // unused without rooms: same draws, same batch
  EXPECT_EQ(batch(rooms).to_vector<float>(), dry.to_vector<float>());

  // audio:duet's default share, and shares outside [0, 1] refused.
  models::AudioTask t("audio:duet", clip.tiny.ds, clip.tiny.split.train, clip.tiny.split.test, true, 1);
  EXPECT_EQ(t.reverb_share(), models::AudioTask::kDefaultReverb);
  t.set_reverb_share(0);
  EXPECT_EQ(t.reverb_share(), 0.0);
  EXPECT_THROW(t.set_reverb_share(1.5), Error);
  EXPECT_THROW(t.set_reverb_share(-0.1), Error);
}

TEST(Audio, SilenceAroundTheWordIsTrimmedSoTheWordIsCentred) {
  // 0.3 s of silence, a 0.4 s tone, 0.5 s of hiss 60 dB below it (a long tail like some
  // speakers' recordings): the trimmed clip is the tone with 0.1 s on each side.
  Rng rng(3);
  std::vector<float> x(9600, 0.0f);
  for (int i = 2400; i < 5600; ++i) x[i] = 0.5f * float(std::sin(0.3 * i));
  for (int i = 5600; i < 9600; ++i) x[i] = float(0.0005 * rng.normal());
  const std::vector<float> t = models::trim_silence(x, 8000);
  // A 32 ms frame that overlaps the tone by a few samples already counts, so the edges may
  // reach up to one frame further out.
  EXPECT_GE(t.size(), size_t(3200 + 2 * 800));
  EXPECT_LE(t.size(), size_t(3200 + 2 * 800 + 2 * 256 + 64));
  double kept = 0, all = 0;
  for (float v : t) kept += double(v) * v;
  for (float v : x) all += double(v) * v;
  EXPECT_GT(kept / all, 0.999);  // nothing of the tone is lost
  // The tone now sits in the middle of the 1 s window: as much of it left of centre as right.
  models::AudioRecipe r = models::audio_recipe("duet");
  EXPECT_TRUE(r.trim);
  const std::vector<float> w = models::prepare_wave(x, 8000, r);
  double left = 0, right = 0;
  for (int i = 0; i < 4000; ++i) left += double(w[i]) * w[i];
  for (int i = 4000; i < 8000; ++i) right += double(w[i]) * w[i];
  EXPECT_NEAR(left / (left + right), 0.5, 0.05);
  r.trim = false;  // untrimmed, the silence and the tail place the tone left of centre
  const std::vector<float> u = models::prepare_wave(x, 8000, r);
  left = right = 0;
  for (int i = 0; i < 4000; ++i) left += double(u[i]) * u[i];
  for (int i = 4000; i < 8000; ++i) right += double(u[i]) * u[i];
  EXPECT_GT(left / (left + right), 0.6);
  // Silence and clips shorter than a frame come back as they are; the course does not trim.
  EXPECT_EQ(models::trim_silence(std::vector<float>(4000, 0.0f), 8000).size(), 4000u);
  EXPECT_EQ(models::trim_silence({0.1f, 0.2f}, 8000).size(), 2u);
  EXPECT_FALSE(models::audio_recipe("course").trim);
  // The choice travels with the model; folders from before it existed did not trim.
  EXPECT_TRUE(models::AudioRecipe::from_json(models::audio_recipe("duet").to_json()).trim);
  nlohmann::json old = models::audio_recipe("duet").to_json();
  old.erase("trim_silence");
  EXPECT_FALSE(models::AudioRecipe::from_json(old).trim);
}

// A click apart from the word (a key pressed to stop the recording), even one holding more
// energy than a quiet word, is silenced before the trimming, so the clip the recipe keeps is the
// word's; the silence inside a word (the closure before the t of "eight") and a word without a
// click are left as they are; the choice travels with the model, and folders from before it
// existed do not remove clicks.
TEST(Audio, ClicksApartFromTheWordAreSilencedBeforeTrimming) {
  auto tone = [](std::vector<float>& x, int from, int to, double amp) {
    for (int i = from; i < to; ++i) x[size_t(i)] = float(amp * std::sin(2 * M_PI * 400 * i / 8000.0));
  };
  std::vector<float> word(12000, 0.0f);
  tone(word, 2000, 6000, 0.05);  // a quiet word of 0.5 s
  std::vector<float> clicked = word;
  for (int i = 0; i < 24; ++i) clicked[size_t(8400 + i)] = (i % 2 ? -0.9f : 0.9f) * float(1 - i / 24.0);  // 3 ms, 0.3 s on
  int clicks = -1;
  EXPECT_EQ(models::without_clicks(clicked, 8000, &clicks), word);
  EXPECT_EQ(clicks, 1);
  EXPECT_EQ(models::without_clicks(word, 8000, &clicks), word);
  EXPECT_EQ(clicks, 0);
  // "eight": the vowel, 80 ms of closure, then the t's 15 ms burst: one stretch, kept whole.
  std::vector<float> eight(12000, 0.0f);
  tone(eight, 2000, 5000, 0.2);
  tone(eight, 5640, 5760, 0.1);
  EXPECT_EQ(models::without_clicks(eight, 8000, &clicks), eight);
  EXPECT_EQ(clicks, 0);
  // The duet recipe keeps the same clip with and without the click; without the step the click
  // is kept, the word off centre in a longer clip.
  const models::AudioRecipe r = models::audio_recipe("duet");
  EXPECT_TRUE(r.declick);
  EXPECT_EQ(models::recipe_clip(clicked, 8000, r), models::recipe_clip(word, 8000, r));
  models::AudioRecipe plain = r;
  plain.declick = false;
  EXPECT_GT(models::recipe_clip(clicked, 8000, plain).size(), models::recipe_clip(word, 8000, plain).size() + 2000);
  EXPECT_FALSE(models::audio_recipe("course").declick);
  EXPECT_TRUE(models::AudioRecipe::from_json(r.to_json()).declick);
  nlohmann::json old = r.to_json();
  old.erase("remove_clicks");
  EXPECT_FALSE(models::AudioRecipe::from_json(old).declick);
}

// A number said digit by digit: word_stretches finds each word (with its silences inside), and
// leaves out a click and a breath; words too close together are one.
TEST(Audio, WordStretchesFindEachWordOfANumber) {
  const int rate = 8000;
  auto tone = [](std::vector<float>& x, int from, int to, double amp) {
    for (int i = from; i < to; ++i) x[size_t(i)] += float(amp * std::sin(2 * M_PI * 400 * i / 8000.0));
  };
  auto near = [](int64_t got, int64_t want) { return std::abs(got - want) <= 80; };  // a hop and a bit
  std::vector<float> x(40000, 0.0f);
  tone(x, 4000, 8000, 0.3);    // word 1: 0.5-1.0 s
  tone(x, 12000, 14400, 0.2);  // word 2: 1.5-1.8 s, 0.1 s closure, 15 ms burst ("eight")
  tone(x, 15200, 15320, 0.1);
  tone(x, 20000, 24000, 0.05);  // word 3: 2.5-3.0 s, 15.6 dB quieter
  for (int i = 0; i < 24; ++i) x[size_t(28000 + i)] = (i % 2 ? -0.9f : 0.9f) * float(1 - i / 24.0);  // a click at 3.5 s
  tone(x, 32000, 34000, 0.005);  // a breath 35.6 dB below word 1
  auto words = models::word_stretches(x, rate);
  ASSERT_EQ(words.size(), 3u);
  const std::vector<std::pair<int64_t, int64_t>> want = {{4000, 8000}, {12000, 15320}, {20000, 24000}};
  for (size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE(k);
    EXPECT_TRUE(near(words[k].first, want[k].first)) << words[k].first;
    EXPECT_TRUE(near(words[k].second, want[k].second)) << words[k].second;
  }
  // Words said with short pauses (0.1 s, under kWordGap) make a stretch longer than a word
  // (kLongWord): it is split at its pauses. A long "eight" (its vowel, a closure, its burst) is
  // not: the burst is shorter than a word (kShortWord). Two short words as close together
  // (0.54 s in all) are not longer than one word: one.
  std::vector<float> close(16000, 0.0f);
  tone(close, 2000, 5200, 0.3);
  tone(close, 6000, 9200, 0.3);
  words = models::word_stretches(close, rate);
  ASSERT_EQ(words.size(), 2u);
  EXPECT_TRUE(near(words[0].second, 5200) && near(words[1].first, 6000)) << words[0].second << " " << words[1].first;
  std::vector<float> long_eight(16000, 0.0f);
  tone(long_eight, 2000, 6400, 0.3);
  tone(long_eight, 7040, 7840, 0.2);
  EXPECT_EQ(models::word_stretches(long_eight, rate).size(), 1u);
  std::vector<float> short_close(16000, 0.0f);
  tone(short_close, 2000, 3760, 0.3);
  tone(short_close, 4560, 6320, 0.3);
  EXPECT_EQ(models::word_stretches(short_close, rate).size(), 1u);
  // With a gap shorter than "eight"'s closure, its burst is a stretch of its own (a click: left out).
  EXPECT_EQ(models::word_stretches(x, rate, 0.05).size(), 3u);
  // The same number in white noise 30 dB below word 1's peak (word 3 about 13 dB above it): the
  // floor rises above the noise, the words reach out to where they fall into it.
  std::vector<float> noisy = x;
  Rng rng(5);
  for (float& v : noisy) v += float(rng.normal() * 0.3 * std::pow(10.0, -30 / 20.0));
  words = models::word_stretches(noisy, rate);
  ASSERT_EQ(words.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE(k);
    EXPECT_TRUE(std::abs(words[k].first - want[k].first) <= 400) << words[k].first;
    EXPECT_TRUE(std::abs(words[k].second - want[k].second) <= 400) << words[k].second;
  }
  // A word with soft ends (20 dB below its middle, about 7 dB above the noise): the word reaches out
  // to them, though they lie under the floor (12 dB above the noise).
  std::vector<float> soft(24000, 0.0f);
  tone(soft, 6000, 8000, 0.03);
  tone(soft, 8000, 10000, 0.3);
  tone(soft, 10000, 12000, 0.03);
  for (float& v : soft) v += float(rng.normal() * 0.0095);
  words = models::word_stretches(soft, rate);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_TRUE(std::abs(words[0].first - 6000) <= 200) << words[0].first;
  EXPECT_TRUE(std::abs(words[0].second - 12000) <= 200) << words[0].second;
  // Noise 16 dB under the loudest word and a word 10.5 dB above the noise: the floor lies halfway
  // from the noise to the loudest frame (8 dB above the noise), not 12 dB above it, and both
  // words are found.
  std::vector<float> loud_noise(32000, 0.0f);
  const double sigma = 0.01;
  tone(loud_noise, 6000, 10000, 8.83 * sigma);
  tone(loud_noise, 18000, 22000, 4.52 * sigma);
  for (float& v : loud_noise) v += float(rng.normal() * sigma);
  EXPECT_EQ(models::word_stretches(loud_noise, rate).size(), 2u);
  // Nothing to hear, one short sound, a bad rate.
  EXPECT_TRUE(models::word_stretches(std::vector<float>(8000, 0.0f), rate).empty());
  EXPECT_TRUE(models::word_stretches({}, rate).empty());
  EXPECT_EQ(models::word_stretches({0.5f, -0.5f}, rate), (std::vector<std::pair<int64_t, int64_t>>{{0, 2}}));
  EXPECT_THROW(models::word_stretches(x, 0), Error);
}

// Each word of a number is heard as a recording of it alone: centred, with the recording's own
// background (not silence) around it.
TEST(Audio, WordInContextSurroundsTheWordWithTheRecordingsBackground) {
  const int rate = 8000;
  std::vector<float> x(24000);
  Rng rng(3);
  for (float& v : x) v = float(rng.normal() * 0.001);  // the background
  for (int i = 4000; i < 8000; ++i) x[size_t(i)] += float(0.3 * std::sin(2 * M_PI * 400 * i / 8000.0));
  for (int i = 14000; i < 18000; ++i) x[size_t(i)] += float(0.3 * std::sin(2 * M_PI * 300 * i / 8000.0));
  const auto words = models::word_stretches(x, rate);
  ASSERT_EQ(words.size(), 2u);
  const std::vector<float> y = models::word_in_context(x, rate, words, 1, 1.5);
  ASSERT_EQ(y.size(), 12000u);
  // The word with its margins, centred.
  const int64_t margin = int64_t(models::kWordMargin * rate);
  const int64_t from = words[1].first - margin, to = words[1].second + margin, left = (12000 - (to - from)) / 2;
  EXPECT_TRUE(std::equal(x.begin() + from, x.begin() + to, y.begin() + left));
  // Around it the background: as loud as x's, never word 1's tone.
  double around = 0, background = 0;
  for (int64_t i = 0; i < left; ++i) around += double(y[size_t(i)]) * y[size_t(i)];
  for (int i = 0; i < 3000; ++i) background += double(x[size_t(i)]) * x[size_t(i)];
  EXPECT_NEAR(around / double(left), background / 3000, 0.3 * background / 3000);
  // The first word: its margin on the left is cut at the recording's start.
  const std::vector<float> first = models::word_in_context(x, rate, words, 0, 0.1);
  EXPECT_EQ(first.size(), size_t(words[0].second + margin - (words[0].first - margin)));
  // A clean recording: silence around the word, as a single-word recording has.
  std::vector<float> clean(24000, 0.0f);
  for (int i = 4000; i < 8000; ++i) clean[size_t(i)] = float(0.3 * std::sin(2 * M_PI * 400 * i / 8000.0));
  const auto one = models::word_stretches(clean, rate);
  ASSERT_EQ(one.size(), 1u);
  const std::vector<float> z = models::word_in_context(clean, rate, one, 0, 2.0);
  EXPECT_EQ(z.size(), 16000u);
  EXPECT_EQ(z.front(), 0.0f);
  EXPECT_EQ(z.back(), 0.0f);
  EXPECT_THROW(models::word_in_context(clean, rate, one, 1, 1.0), Error);
}

// Words said without a pause between them: each rises and falls, so the stretch they make dips
// between them; word_cuts finds the dips (and a syllable's dip inside a word), not a steady
// sound's ripple.
namespace {
// A word of `seconds` at `hz` from sample `at`, rising and falling (sin^2); with a syllable, its
// level dips to a tenth in the middle.
void add_word(std::vector<float>& x, int64_t at, double seconds, double hz, bool syllables = false) {
  const int64_t n = int64_t(seconds * 8000);
  for (int64_t i = 0; i < n; ++i) {
    const double t = double(i) / double(n);
    double level = 0.3 * std::pow(std::sin(M_PI * t), 2);
    if (syllables) level *= 1 - 0.9 * std::exp(-std::pow((t - 0.5) * seconds / 0.02, 2));
    x[size_t(at + i)] += float(level * std::sin(2 * M_PI * hz * double(at + i) / 8000));
  }
}
}  // namespace

TEST(Audio, WordCutsFindTheDipsBetweenWordsSaidWithoutAPause) {
  const int rate = 8000;
  std::vector<float> x(16000, 0.0f);
  for (int k = 0; k < 3; ++k) add_word(x, 2000 + 2400 * k, 0.3, 400 + 300 * k);  // 0.25-1.15 s
  const auto words = models::word_stretches(x, rate);
  ASSERT_EQ(words.size(), 1u);
  const auto cuts = models::word_cuts(x, rate, words[0].first, words[0].second);
  ASSERT_EQ(cuts.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE(k);
    EXPECT_LE(std::abs(cuts[k].at - (4400 + 2400 * int64_t(k))), 64);  // within a hop of where the words meet
    EXPECT_GT(cuts[k].dip_db, 20);
  }
  // A syllable's dip inside a word is a cut too; the model tells them apart (cut_run_together).
  std::vector<float> seven(8000, 0.0f);
  add_word(seven, 1000, 0.6, 400, true);
  const auto inside = models::word_cuts(seven, rate, 1000, 5800);
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_LE(std::abs(inside[0].at - 3400), 64);
  // A steady tone with a 2 dB ripple (less than kCutDip): no cut; none within kShortestWord of the
  // stretch's ends either (the cuts of x, looked for in its first word and a bit).
  std::vector<float> steady(8000, 0.0f);
  for (int i = 0; i < 8000; ++i)
    steady[size_t(i)] = float(0.3 * (1 - 0.2 * (1 + std::sin(2 * M_PI * 5 * i / 8000.0)) / 2) *
                              std::sin(2 * M_PI * 400 * i / 8000.0));
  EXPECT_TRUE(models::word_cuts(steady, rate, 0, 8000).empty());
  EXPECT_TRUE(models::word_cuts(x, rate, 2000, 5100).empty());
  EXPECT_TRUE(models::word_cuts(x, rate, 3000, 3000).empty());
  EXPECT_THROW(models::word_cuts(x, rate, 3000, 2000), Error);
  EXPECT_THROW(models::word_cuts(x, rate, 0, 16001), Error);
  EXPECT_THROW(models::word_cuts(x, 0, 0, 100), Error);
}

// A recording trimmed tight around words said without a pause holds no silence: its quietest
// frames are the soft ends of its words, not a background to stand above. Its sound is one
// stretch, soft ends and all; the same words with silence around them are found as before.
TEST(Audio, WordStretchesOfARecordingWithoutSilenceAreOneStretch) {
  const int rate = 8000;
  std::vector<float> x(7200, 0.0f);
  for (int k = 0; k < 3; ++k) add_word(x, 2400 * k, 0.3, 400 + 300 * k);  // 0.9 s, no pause, no silence
  auto words = models::word_stretches(x, rate);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_LE(words[0].first, 240);  // within 30 ms of the ends: the words' soft starts and ends kept
  EXPECT_GE(words[0].second, 7200 - 240);
  // The same words with 0.5 s of a faint hiss (60 dB below the words' peak) before and after:
  // silence, the background; one stretch, from where the words start to where they end.
  std::vector<float> quiet(15200, 0.0f);
  Rng rng(11);
  for (float& v : quiet) v = float(rng.normal() * 3e-4);
  for (size_t i = 0; i < x.size(); ++i) quiet[4000 + i] += x[i];
  words = models::word_stretches(quiet, rate);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_LE(std::abs(words[0].first - 4000), 240) << words[0].first;
  EXPECT_LE(std::abs(words[0].second - 11200), 240) << words[0].second;
  // Words with pauses of 0.2 s, the first from the recording's first sample: the pauses are silence
  // (steady and quiet, frames spanning the word gap), and each word is found.
  std::vector<float> paused(12000, 0.0f);
  for (float& v : paused) v = float(rng.normal() * 3e-4);
  for (int k = 0; k < 3; ++k) add_word(paused, 4000 * k, 0.3, 400 + 300 * k);  // 0.2 s pauses
  EXPECT_EQ(models::word_stretches(paused, rate).size(), 3u);
}

// cut_run_together cuts a stretch longer than a word where the model reads one digit in each piece,
// keeps it whole where the model reads the whole best, and leaves words of a word's length alone.
TEST(Audio, CutRunTogetherCutsWhereTheModelReadsOneWordInEachPiece) {
  const int rate = 8000;
  auto power_at = [](const std::vector<float>& clip, double hz) {  // the tone's share of the power
    double re = 0, im = 0, all = 1e-12;
    for (size_t i = 0; i < clip.size(); ++i) {
      re += clip[i] * std::cos(2 * M_PI * hz * double(i) / 8000), im += clip[i] * std::sin(2 * M_PI * hz * double(i) / 8000);
      all += double(clip[i]) * clip[i];
    }
    return 2 * (re * re + im * im) / double(clip.size()) / all;
  };
  int calls = 0;
  size_t heard = 0;
  // A model that reads one digit surely in a recording of one tone, and nothing surely in two.
  const models::WordReader one_tone = [&](const std::vector<std::vector<float>>& clips) {
    ++calls, heard += clips.size();
    std::vector<double> log_p;
    for (const auto& c : clips) {
      int tones = 0;
      for (double hz : {400.0, 700.0, 1000.0}) tones += power_at(c, hz) > 0.05;
      log_p.push_back(tones == 1 ? 0.0 : -20.0);
    }
    return log_p;
  };
  // Three words of 0.3 s back to back: cut where they meet, each piece a word.
  std::vector<float> x(16000, 0.0f);
  for (int k = 0; k < 3; ++k) add_word(x, 2000 + 2400 * k, 0.3, 400 + 300 * k);
  const auto stretches = models::word_stretches(x, rate);
  ASSERT_EQ(stretches.size(), 1u);
  int cut = 0;
  auto words = models::cut_run_together(x, rate, stretches, 1.0, one_tone, &cut);
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(cut, 1);
  EXPECT_EQ(words.front().first, stretches[0].first);
  EXPECT_EQ(words.back().second, stretches[0].second);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(words[k].second, words[k + 1].first);
    EXPECT_LE(std::abs(words[k].second - (4400 + 2400 * int64_t(k))), 64);
  }
  EXPECT_EQ(calls, 1);  // all pieces read at once
  EXPECT_EQ(heard, 6u);  // the whole, and pieces between the two cuts and the ends
  // A long word with two syllables (0.6 s) and a short word (0.2 s) after it: the piece that holds
  // the second syllable and the short word reads as two tones, so the cut between the words is
  // taken; a model sure of every piece would have the length of a word decide.
  std::vector<float> y(12000, 0.0f);
  add_word(y, 1000, 0.6, 400, true);
  add_word(y, 5800, 0.2, 1000);
  const auto two = models::word_stretches(y, rate);
  ASSERT_EQ(two.size(), 1u);
  words = models::cut_run_together(y, rate, two, 1.0, one_tone);
  ASSERT_GE(words.size(), 2u);
  EXPECT_LE(std::abs(words[words.size() - 2].second - 5800), 64);
  // A model sure of every piece: the words' lengths decide. With a hum between the words (their
  // dips about 20 dB), the stretch of 0.9 s is three words of 0.3 s (a word's length) rather than one.
  const models::WordReader sure = [](const std::vector<std::vector<float>>& clips) {
    return std::vector<double>(clips.size(), 0.0);
  };
  std::vector<float> hummed = x;
  for (int i = 2000; i < 9200; ++i) hummed[size_t(i)] += float(0.02 * std::sin(2 * M_PI * 2000 * i / 8000.0));
  const auto hum_stretch = models::word_stretches(hummed, rate);
  ASSERT_EQ(hum_stretch.size(), 1u);
  const auto hum_cuts = models::word_cuts(hummed, rate, hum_stretch[0].first, hum_stretch[0].second);
  ASSERT_EQ(hum_cuts.size(), 2u);
  EXPECT_LT(hum_cuts[0].dip_db, 25);
  EXPECT_EQ(models::cut_run_together(hummed, rate, hum_stretch, 1.0, sure).size(), 3u);
  // A model that reads only the whole surely keeps it whole; so does a stretch no longer than
  // kRunTogether (the model is not asked) or one without dips.
  const models::WordReader whole_only = [&](const std::vector<std::vector<float>>& clips) {
    std::vector<double> log_p;
    for (const auto& c : clips)
      log_p.push_back(power_at(c, 400) > 0.05 && power_at(c, 1000) > 0.05 ? 0.0 : -20.0);  // the whole, or not
    return log_p;
  };
  cut = 0;
  EXPECT_EQ(models::cut_run_together(x, rate, stretches, 1.0, whole_only, &cut), stretches);
  EXPECT_EQ(cut, 0);
  calls = 0;
  std::vector<float> short_pair(12000, 0.0f);
  add_word(short_pair, 2000, 0.3, 400);
  add_word(short_pair, 4400, 0.3, 1000);
  const auto pair = models::word_stretches(short_pair, rate);
  ASSERT_EQ(pair.size(), 1u);
  ASSERT_LE(double(pair[0].second - pair[0].first), models::kRunTogether * rate);
  EXPECT_EQ(models::cut_run_together(short_pair, rate, pair, 1.0, one_tone), pair);
  std::vector<float> steady(12000, 0.0f);
  for (int i = 2000; i < 10000; ++i) steady[size_t(i)] = float(0.3 * std::sin(2 * M_PI * 400 * i / 8000.0));
  const auto hum = models::word_stretches(steady, rate);
  EXPECT_EQ(models::cut_run_together(steady, rate, hum, 1.0, one_tone), hum);
  EXPECT_EQ(calls, 0);
  // A reader that gives the wrong number of readings, a bad rate or window.
  const models::WordReader short_reader = [](const std::vector<std::vector<float>>&) { return std::vector<double>{0}; };
  EXPECT_THROW(models::cut_run_together(x, rate, stretches, 1.0, short_reader), Error);
  EXPECT_THROW(models::cut_run_together(x, 0, stretches, 1.0, one_tone), Error);
  EXPECT_THROW(models::cut_run_together(x, rate, stretches, 0, one_tone), Error);
}

// Any recording (bursts of noise of random lengths and levels, silences, a few samples, one
// sample): the words lie in order within it, and each is heard within a window that holds it.
TEST(Audio, WordStretchesOfAnyRecordingAreOrderedAndHeldInTheirWindows) {
  Rng rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE(trial);
    const int rate = trial % 3 == 0 ? 16000 : 8000;
    std::vector<float> x(size_t(rng.randint(trial < 20 ? 300 : 40000)));
    for (size_t i = 0; i < x.size();) {  // stretches of sound and silence
      const size_t len = size_t(1 + rng.randint(4000));
      const double level = rng.uniform(0, 1) < 0.4 ? 0 : std::pow(10.0, rng.uniform(-4, 0));
      for (size_t j = i; j < std::min(x.size(), i + len); ++j) x[j] = float(rng.normal() * level);
      i += len;
    }
    const auto words = models::word_stretches(x, rate);
    int64_t last = 0;
    for (const auto& [from, to] : words) {
      EXPECT_LE(last, from);
      EXPECT_LE(from, to);
      EXPECT_LE(to, int64_t(x.size()));
      last = to;
    }
    for (size_t k = 0; k < words.size(); ++k) {
      const std::vector<float> y = models::word_in_context(x, rate, words, k, 1.0);
      EXPECT_GE(int64_t(y.size()), int64_t(rate));  // a second at least
      EXPECT_GE(int64_t(y.size()), words[k].second - words[k].first);
      EXPECT_TRUE(std::search(y.begin(), y.end(), x.begin() + words[k].first, x.begin() + words[k].second) != y.end());
    }
  }
}

// --clicks: with_click puts a decaying burst after (or before) the clip, a gap of silence
// between; one close to the word is what the click step keeps (the augmentation trains on it).
TEST(Audio, WithClickAddsABurstNearTheWord) {
  std::vector<float> word(4000);
  for (size_t i = 0; i < word.size(); ++i) word[i] = float(0.2 * std::sin(2 * M_PI * 400 * double(i) / 8000.0));
  Rng rng(1);
  const std::vector<float> after = models::with_click(word, 8000, 0.05, true, 0.5, 2.0, rng);
  ASSERT_EQ(after.size(), 4000u + 400u + 16u);  // the word, 0.05 s, 2 ms
  EXPECT_TRUE(std::equal(word.begin(), word.end(), after.begin()));
  EXPECT_TRUE(std::all_of(after.begin() + 4000, after.begin() + 4400, [](float v) { return v == 0; }));
  int loud = 0;
  for (size_t i = 0; i < 16; ++i) {
    const float v = std::abs(after[4400 + i]);
    EXPECT_LE(v, 0.5f * float(1 - i / 16.0) + 1e-6f) << i;  // decaying from the level
    loud += v > 0.05f;
  }
  EXPECT_GE(loud, 8);
  const std::vector<float> before = models::with_click(word, 8000, 0.1, false, 1.0, 1.0, rng);
  ASSERT_EQ(before.size(), 8u + 800u + 4000u);  // 1 ms, 0.1 s, the word
  EXPECT_TRUE(std::equal(word.begin(), word.end(), before.begin() + 808));
  EXPECT_TRUE(std::all_of(before.begin() + 8, before.begin() + 808, [](float v) { return v == 0; }));
  EXPECT_GT(std::abs(before[0]) + std::abs(before[1]), 0.0f);
  // A click this close joins the word's stretch: the click step keeps it.
  int clicks = -1;
  EXPECT_EQ(models::without_clicks(after, 8000, &clicks), after);
  EXPECT_EQ(clicks, 0);
  EXPECT_THROW(models::with_click(word, 8000, -0.1, true, 0.5, 2.0, rng), Error);
  EXPECT_THROW(models::with_click(word, 8000, 0.1, true, 1.5, 2.0, rng), Error);
  EXPECT_THROW(models::with_click(word, 8000, 0.1, true, 0.5, 0.0, rng), Error);
}

// The training's clicks reach the features (with every other augmentation off, the clips the
// network hears differ from the clean ones), and audio:duet trains on a share kDefaultClicks of
// clicked clips unless told otherwise; shares outside [0, 1] refused.
TEST(Audio, ClickAugmentationReachesTheFeaturesAndIsAudioDuetsDefault) {
  TinySpeakerSplit tiny;
  models::AudioSet set(tiny.ds, {0, 1, 2, 3}, models::audio_recipe("duet"));
  auto features = [&](double prob) { return features_with(set, [&](models::AudioAugment& a) { a.click_prob = prob; }); };
  const std::vector<float> plain = features(0);
  EXPECT_EQ(largest_difference(features(0), plain), 0.0);
  EXPECT_GT(largest_difference(features(1), plain), 0.5);

  models::AudioTask t("audio:duet", tiny.ds, tiny.split.train, tiny.split.test, true, 1);
  EXPECT_EQ(t.click_share(), models::AudioTask::kDefaultClicks);
  EXPECT_GT(t.click_share(), 0.0);
  t.set_click_share(0);
  EXPECT_EQ(t.click_share(), 0.0);
  EXPECT_THROW(t.set_click_share(1.5), Error);
  EXPECT_THROW(t.set_click_share(-0.1), Error);
}

// The training's lossy coding reaches the features: with every other augmentation off, the
// clips coded with 0-15 dB in every band differ from the clean ones, by less when the bands keep
// 40 dB; off by default.
TEST(Audio, LossyCodingAugmentationReachesTheFeatures) {
  TinySpeakerSplit tiny;
  models::AudioSet set(tiny.ds, {0, 1, 2, 3}, models::audio_recipe("duet"));
  auto features = [&](double prob, double snr_min, double snr_max) {
    return features_with(set, [&](models::AudioAugment& a) {
      a.lossy_prob = prob, a.lossy_snr_min_db = snr_min, a.lossy_snr_max_db = snr_max;
    });
  };
  const std::vector<float> plain = features(0, 0, 15);
  const double coarse = largest_difference(features(1, 0, 15), plain);
  const double fine = largest_difference(features(1, 40, 40), plain);
  EXPECT_GT(coarse, 0.5);
  EXPECT_LT(fine, coarse);

  models::AudioTask t("audio:duet", tiny.ds, tiny.split.train, tiny.split.test, true, 1);
  EXPECT_EQ(t.lossy_share(), 0.0);
  t.set_lossy_share(0.3);
  EXPECT_EQ(t.lossy_share(), 0.3);
  EXPECT_THROW(t.set_lossy_share(1.5), Error);
  EXPECT_THROW(t.set_lossy_share(-0.1), Error);
}

// The coder hears the window with its noise, as a noisy recording saved at a low bitrate: the
// band above a clip's cut-off is empty in the features, noise included (noise added after the
// coding, as before, filled it to the level it has without coding).
TEST(Audio, LossyCodingCodesTheNoisyWindow) {
  TinySpeakerSplit tiny;
  models::AudioRecipe r = models::audio_recipe("duet");
  r.standardize = r.band_norm = false;  // the features in dB
  models::AudioSet set(tiny.ds, {0, 1, 2, 3}, r);
  auto features = [&](double lossy) {
    return features_with(set, [&](models::AudioAugment& a) {
      a.noise_prob = 1, a.snr_min_db = a.snr_max_db = 0;
      a.lossy_prob = lossy, a.lossy_snr_min_db = a.lossy_snr_max_db = 20;
    });
  };
  const std::vector<float> noisy = features(0), coded = features(1);
  const int64_t bins = r.frontend.bins(), frames = int64_t(noisy.size()) / (4 * bins);
  // The mean level of the top mel band (around 3.9 kHz) in clip b, in dB.
  auto top_band = [&](const std::vector<float>& f, int b) {
    double sum = 0;
    for (int64_t t = 0; t < frames; ++t) sum += f[size_t((b * bins + bins - 1) * frames + t)];
    return sum / double(frames);
  };
  double largest_drop = 0;
  for (int b = 0; b < 4; ++b) largest_drop = std::max(largest_drop, top_band(noisy, b) - top_band(coded, b));
  // Each clip's cut-off is drawn from 2.5 kHz to the Nyquist frequency: with these draws at
  // least one of the four lies below the top band.
  EXPECT_GT(largest_drop, 30.0);
}

// --highpass: the recipe's cut-off filters every clip before trimming (a DC offset and a
// 50 Hz hum under a word are gone from the clip the network hears), travels with the model,
// and folders from before it existed do not filter.
TEST(Audio, HighpassRecipeRemovesDcAndHumBeforeTrimming) {
  models::AudioRecipe r = models::audio_recipe("duet");
  EXPECT_EQ(r.highpass_hz, 0.0);
  std::vector<float> x(12000);
  for (size_t i = 0; i < x.size(); ++i) {
    const bool word = i >= 4000 && i < 8000;  // 0.5 s of a 500 Hz tone between 0.5 s pauses
    x[i] = float(0.1 + 0.02 * std::sin(2 * M_PI * 50 * i / 8000.0) + (word ? 0.3 * std::sin(2 * M_PI * 500 * i / 8000.0) : 0));
  }
  // Unfiltered, the offset and the hum lie within 40 dB of the word: nothing is trimmed.
  EXPECT_EQ(models::recipe_clip(x, 8000, r).size(), x.size());
  r.highpass_hz = 100;
  const std::vector<float> y = models::recipe_clip(x, 8000, r);
  EXPECT_GE(y.size(), 5600u);  // the word and its 0.1 s margins, to the 32 ms frame
  EXPECT_LE(y.size(), 5600u + 512u);
  double mean = 0;
  for (float v : y) mean += v;
  EXPECT_NEAR(mean / double(y.size()), 0.0, 0.01);
  const nlohmann::json j = r.to_json();
  EXPECT_EQ(j.at("highpass_hz"), 100.0);
  EXPECT_EQ(models::AudioRecipe::from_json(j).highpass_hz, 100.0);
  nlohmann::json old = j;
  old.erase("highpass_hz");
  EXPECT_EQ(models::AudioRecipe::from_json(old).highpass_hz, 0.0);
  old["highpass_hz"] = 5000;
  EXPECT_THROW(models::AudioRecipe::from_json(old), Error);
  old["highpass_hz"] = -1;
  EXPECT_THROW(models::AudioRecipe::from_json(old), Error);
}

// cut_word: a recording started late or stopped early. 0.2 s of hiss 60 dB down, a 0.4 s
// tone (the word), 0.2 s of hiss: cutting 25% at the start leaves the last 75% of the tone and
// the hiss after it; at the end, the hiss before and the first 75% of the tone.
TEST(Audio, CutWordDropsPartOfTheWordAtOneEnd) {
  Rng rng(4);
  std::vector<float> x(6400);
  for (int i = 0; i < 6400; ++i) x[i] = float(0.0005 * rng.normal());
  for (int i = 1600; i < 4800; ++i) x[i] = 0.5f * float(std::sin(0.3 * i));
  const auto [first, last] = models::word_bounds(x, 8000);
  // A 32 ms frame (256 samples, hop 64) that overlaps the tone already counts.
  EXPECT_GE(first, 1600 - 256);
  EXPECT_LE(first, 1600);
  EXPECT_GE(last, 4800);
  EXPECT_LE(last, 4800 + 256);
  const int64_t word = last - first, cut = int64_t(0.25 * double(word));
  const std::vector<float> late = models::cut_word(x, 8000, 0.25, true);
  EXPECT_EQ(std::vector<float>(x.begin() + first + cut, x.end()), late);
  const std::vector<float> early = models::cut_word(x, 8000, 0.25, false);
  EXPECT_EQ(std::vector<float>(x.begin(), x.begin() + last - cut), early);
  // Of the tone's 3200 samples, about 800 are gone either way (within a frame of the edges).
  auto tone_left = [](const std::vector<float>& y) {
    int64_t n = 0;
    for (float v : y) n += std::abs(v) > 0.01f;
    return n;
  };
  EXPECT_NEAR(double(tone_left(late)), 0.75 * tone_left(x), 150.0);
  EXPECT_NEAR(double(tone_left(early)), 0.75 * tone_left(x), 150.0);
  EXPECT_EQ(models::cut_word(x, 8000, 0, true).size(), size_t(6400 - first));
  EXPECT_EQ(models::cut_word(x, 8000, 0, false).size(), size_t(last));
  // Silence and clips shorter than a frame count as all word.
  EXPECT_EQ(models::cut_word(std::vector<float>(4000, 0.0f), 8000, 0.5, false).size(), 2000u);
  EXPECT_EQ(models::word_bounds({0.1f, 0.2f}, 8000), (std::pair<int64_t, int64_t>{0, 2}));
  EXPECT_THROW(models::cut_word(x, 8000, 1.0, true), Error);
  EXPECT_THROW(models::cut_word(x, 8000, -0.1, true), Error);
}

// overdrive: a clip amplified past full scale and clipped. A sine of peak 0.25 driven 12 dB
// over (peak 1.0 * 4): every sample scaled by 16 and clipped at +-1, so the share of clipped
// samples is that of |sin| > 1/4, 1 - 2 asin(1/4) / pi = 0.839; 0 dB only scales the peak to 1.
TEST(Audio, OverdriveAmplifiesAndClipsAtFullScale) {
  std::vector<float> x(8000);
  for (int i = 0; i < 8000; ++i) x[i] = 0.25f * float(std::sin(2 * M_PI * 101.3 * i / 8000.0));
  const std::vector<float> y = models::overdrive(x, 20 * std::log10(4.0));
  ASSERT_EQ(y.size(), x.size());
  int64_t clipped = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(y[i], std::clamp(16.0 * x[i], -1.0, 1.0), 1e-5) << i;
    clipped += std::abs(y[i]) == 1.0f;
  }
  EXPECT_NEAR(double(clipped) / 8000, 1 - 2 * std::asin(0.25) / M_PI, 0.01);
  const std::vector<float> unity = models::overdrive(x, 0);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(unity[i], 4 * x[i], 1e-6);
  EXPECT_EQ(models::overdrive(std::vector<float>(100, 0.0f), 12), std::vector<float>(100, 0.0f));
  EXPECT_THROW(models::overdrive(x, -1), Error);
}

// An audio batch's clips are made side by side, each from its own generator: with every
// augmentation drawing (speed, rooms, cut words, overdrive, white and pink noise, placement,
// masks) and with test-time effects (a speed view, a room, noise, a silent clip), the batch is
// the same to the bit on 1, 2 and 3 threads, and the caller's generator moves by one draw.
TEST(Audio, BatchIsTheSameOnAnyNumberOfThreads) {
  TinySpeakerSplit tiny;
  std::vector<int64_t> idx(tiny.ds.recordings.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = int64_t(i);
  idx.resize(24);
  models::AudioSet set(tiny.ds, idx, models::audio_recipe("duet"));
  models::AudioAugment aug;
  aug.enabled = true;
  aug.reverb_prob = aug.cut_prob = aug.overdrive_prob = aug.pink_share = 0.5;
  aug.time_masks = aug.freq_masks = 2;
  std::vector<models::ClipEffects> effects(idx.size());
  for (size_t i = 0; i < effects.size(); ++i) {
    effects[i].speed = i % 3 == 0 ? 1.08 : 1.0;
    effects[i].snr_db = i % 4 == 1 ? 5.0 : INFINITY;
    effects[i].rt60 = i % 5 == 2 ? 0.6 : 0.0;
    effects[i].drr_db = 3, effects[i].room_seed = 9;
    effects[i].silent = i == 7;
  }
  expect_batch_same_on_any_threads(11, [&](bool train, Rng& rng) {
    return train ? set.batch(idx, aug, rng, Device::cpu)
                 : set.batch(idx, models::AudioAugment{}, rng, Device::cpu, effects);
  });
}

// A clip without a word (digital silence) would teach its label to nothing: the set refuses it,
// naming the file (FSDD has none; duet train --extra takes the user's own recordings).
TEST(Audio, SetRefusesASilentClipNamingIt) {
  TinySpeakerSplit tiny;
  const duet_test::ScratchFolder folder("duet_silent_");
  const std::string silent = (folder.path() / "4_quiet_0.wav").string();
  dsp::write_wav(silent, std::vector<float>(4000, 0.0f), 8000);
  data::Fsdd ds = tiny.ds;
  ds.recordings.push_back({silent, 4, "quiet", 0});
  EXPECT_NO_THROW(models::AudioSet(ds, {0, 1}, models::audio_recipe("duet")));
  try {
    models::AudioSet(ds, {0, int64_t(ds.recordings.size()) - 1}, models::audio_recipe("duet"));
    ADD_FAILURE() << "a silent clip was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4_quiet_0.wav: the recording is silent"), std::string::npos) << e.what();
  }
}

// The training's overdrive reaches the features: with every other augmentation off, a clip
// driven 0 dB over (scaled only) reads as the clip itself (the front-end ignores the level),
// one driven up to 40 dB over does not.
TEST(Audio, OverdriveAugmentationReachesTheFeatures) {
  TinySpeakerSplit tiny;
  models::AudioSet set(tiny.ds, {0, 1, 2, 3}, models::audio_recipe("duet"));
  auto features = [&](double prob, double max_db) {
    return features_with(set, [&](models::AudioAugment& a) { a.overdrive_prob = prob, a.overdrive_max_db = max_db; });
  };
  const std::vector<float> plain = features(0, 24);
  EXPECT_LT(largest_difference(features(1, 0), plain), 1e-3);   // scaled only
  EXPECT_GT(largest_difference(features(1, 40), plain), 0.5);   // clipped

  // audio:duet trains on a share kDefaultOverdrive of clipped clips unless told otherwise;
  // shares outside [0, 1] refused.
  models::AudioTask t("audio:duet", tiny.ds, tiny.split.train, tiny.split.test, true, 1);
  EXPECT_EQ(t.overdrive_share(), models::AudioTask::kDefaultOverdrive);
  EXPECT_GT(t.overdrive_share(), 0.0);
  t.set_overdrive_share(0);
  EXPECT_EQ(t.overdrive_share(), 0.0);
  EXPECT_THROW(t.set_overdrive_share(1.5), Error);
  EXPECT_THROW(t.set_overdrive_share(-0.1), Error);
}

// The vocal-tract length perturbation's warp: the identity at 1, a scaling below the knee,
// continuous, fixed at 0 and at the band's edge, monotone; factors outside [0.7, 1.4] refused.
TEST(Audio, VtlpWarpScalesFrequenciesBelowTheKneeAndKeepsTheBandsEdges) {
  for (double alpha : {0.8, 0.9, 1.0, 1.15, 1.3}) {
    SCOPED_TRACE(alpha);
    EXPECT_DOUBLE_EQ(dsp::vtlp_source_hz(0, alpha, 4000), 0.0);
    EXPECT_NEAR(dsp::vtlp_source_hz(4000, alpha, 4000), 4000.0, 1e-9);
    EXPECT_NEAR(dsp::vtlp_source_hz(1000, alpha, 4000), 1000 / alpha, 1e-9);  // below the knee for every alpha
    const double knee = 0.85 * 4000 * std::min(1.0, alpha);  // no jump there
    EXPECT_NEAR(dsp::vtlp_source_hz(knee - 1e-6, alpha, 4000), dsp::vtlp_source_hz(knee + 1e-6, alpha, 4000), 1e-4);
    EXPECT_NEAR(dsp::vtlp_source_hz(knee, alpha, 4000), knee / alpha, 1e-9);
    double last = -1;
    for (double hz = 0; hz <= 4000; hz += 10) {
      const double src = dsp::vtlp_source_hz(hz, alpha, 4000);
      EXPECT_GT(src, last);
      last = src;
    }
  }
  for (double bad : {0.5, 0.69, 1.41, 2.0, double(NAN)}) EXPECT_THROW(dsp::vtlp_source_hz(100, bad, 4000), Error);
  EXPECT_THROW(dsp::vtlp_source_hz(4100, 1.1, 4000), Error);

  const dsp::FrontendConfig c = models::audio_recipe("duet").frontend;
  const std::vector<float> same = dsp::vtlp_positions(c, 1.0);
  for (int m = 0; m < c.bins(); ++m) EXPECT_EQ(same[m], float(m));
  // Up by 20%: every bin reads a lower one, the positions rise and stay within the bins.
  const std::vector<float> up = dsp::vtlp_positions(c, 1.2), down = dsp::vtlp_positions(c, 0.85);
  for (int m = 1; m < c.bins(); ++m) {
    EXPECT_LT(up[m], float(m));
    EXPECT_GE(up[m], up[m - 1]);
    EXPECT_GE(down[m], float(m) - 1e-4f);
    EXPECT_GE(down[m], down[m - 1]);
    EXPECT_LE(down[m], float(c.bins() - 1));
  }
  EXPECT_THROW(dsp::vtlp_positions(c, 1.5), Error);
}

// A tone's peak moves where the same tone alpha times higher lies, within a bin, and a clip
// warped by 1 in the same batch stays bit for bit as it was. Wrong arguments are refused.
TEST(Audio, VtlpMovesATonesPeakToTheWarpedFrequency) {
  const dsp::FrontendConfig c = models::audio_recipe("duet").frontend;
  auto tone = [](double hz) {
    std::vector<float> x(8000);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(0.5 * std::sin(2 * M_PI * hz * double(i) / 8000));
    return x;
  };
  auto peak_bin = [&](const Tensor& f, int64_t clip) {
    const int64_t bins = f.size(2), frames = f.size(3);
    const float* p = f.data<float>() + clip * bins * frames;
    int64_t best = 0;
    double best_sum = -1e30;
    for (int64_t m = 0; m < bins; ++m) {
      double sum = 0;
      for (int64_t t = 0; t < frames; ++t) sum += p[m * frames + t];
      if (sum > best_sum) best_sum = sum, best = m;
    }
    return best;
  };
  for (double hz : {500.0, 1000.0, 2000.0}) {
    SCOPED_TRACE(hz);
    std::vector<float> both = tone(hz), higher = tone(hz * 1.2), lower = tone(hz * 0.85);
    both.insert(both.end(), both.begin(), both.end());
    Tensor f = dsp::melspectrogram_db(Tensor::from_vector<float>(both, {2, 8000}), c);
    const Tensor before = f.clone();
    dsp::warp_bins(f, {1.2, 1.0}, c);
    const Tensor expect_up = dsp::melspectrogram_db(Tensor::from_vector<float>(higher, {1, 8000}), c);
    EXPECT_NEAR(double(peak_bin(f, 0)), double(peak_bin(expect_up, 0)), 1.0);
    EXPECT_GT(peak_bin(f, 0), peak_bin(before, 0));
    const int64_t per_clip = f.numel() / 2;
    for (int64_t i = per_clip; i < 2 * per_clip; ++i) ASSERT_EQ(f.data<float>()[i], before.data<float>()[i]) << i;
    Tensor g = before.clone();
    dsp::warp_bins(g, {0.85, 0.85}, c);
    const Tensor expect_down = dsp::melspectrogram_db(Tensor::from_vector<float>(lower, {1, 8000}), c);
    EXPECT_NEAR(double(peak_bin(g, 1)), double(peak_bin(expect_down, 0)), 1.0);
  }
  Tensor f = Tensor::zeros({2, 1, c.bins(), 5});
  EXPECT_THROW(dsp::warp_bins(f, {1.1}, c), Error);              // one factor per clip
  EXPECT_THROW(dsp::warp_bins(f, {1.1, 1.6}, c), Error);         // outside [0.7, 1.4]
  Tensor wrong_bins = Tensor::zeros({2, 1, c.bins() + 1, 5});
  EXPECT_THROW(dsp::warp_bins(wrong_bins, {1.1, 1.1}, c), Error);
  Tensor flat = Tensor::zeros({2, c.bins()});
  EXPECT_THROW(dsp::warp_bins(flat, {1.1, 1.1}, c), Error);
}

// The training's warp reaches the features: with every other augmentation off, a batch
// warped by one fixed factor equals the plain batch's spectra warped by it and then
// normalised; without warps asked for, nothing is drawn for them (the batch is unchanged).
TEST(Audio, VtlpAugmentationReachesTheFeatures) {
  TinySpeakerSplit tiny;
  const models::AudioRecipe recipe = models::audio_recipe("duet");
  models::AudioSet set(tiny.ds, {0, 1, 2, 3}, recipe);
  auto batch = [&](double lo, double hi) {
    models::AudioAugment w = augmentation_without_draws();
    w.warp_min = lo, w.warp_max = hi;
    Rng rng(5);
    return set.batch({0, 1, 2, 3}, w, rng, Device::cpu).to_vector<float>();
  };
  Tensor waves = Tensor::zeros({4, recipe.num_samples});
  for (int64_t b = 0; b < 4; ++b) {
    const std::vector<float> w = models::fit_to_window(set.wave(b), recipe);
    std::copy(w.begin(), w.end(), waves.data<float>() + b * recipe.num_samples);
  }
  const std::vector<float> plain = models::audio_features(waves, recipe).to_vector<float>();
  const std::vector<float> warped = models::audio_features(waves, recipe, {1.25, 1.25, 1.25, 1.25}).to_vector<float>();
  EXPECT_EQ(batch(1, 1), plain);
  const std::vector<float> got = batch(1.25, 1.25);
  EXPECT_LT(largest_difference(got, warped), 1e-5);
  EXPECT_GT(largest_difference(got, plain), 0.5);
  EXPECT_NE(batch(0.8, 1.3), got);  // drawn per clip

  // audio:duet trains without warps unless told; ranges outside [0.7, 1.4] refused.
  models::AudioTask t("audio:duet", tiny.ds, tiny.split.train, tiny.split.test, true, 1);
  EXPECT_EQ(t.warp_range(), (std::pair{1.0, 1.0}));
  t.set_warp_range(0.9, 1.2);
  EXPECT_EQ(t.warp_range(), (std::pair{0.9, 1.2}));
  EXPECT_THROW(t.set_warp_range(1.2, 0.9), Error);
  EXPECT_THROW(t.set_warp_range(0.6, 1.2), Error);
  EXPECT_THROW(t.set_warp_range(0.9, 1.5), Error);
}

// A per-clip effect of eval --robustness (`apply` sets it in ClipEffects) reaches every
// test-time view, as the same clips changed by hand (`by_hand`; the stored clips are already
// trimmed) and then read whole, and does not leave its mark on the views of the whole clip,
// which are made once and kept.
void expect_effect_reaches_every_view(const std::function<void(models::ClipEffects&)>& apply,
                                      const std::function<std::vector<float>(const std::vector<float>&)>& by_hand,
                                      std::initializer_list<double> speeds) {
  TinySpeakerSplit tiny;
  models::AudioSet set(tiny.ds, {0, 1}, models::audio_recipe("duet"));
  auto features = [&](double speed, bool with_effect) {
    models::ClipEffects fx;
    fx.speed = speed;
    if (with_effect) apply(fx);
    Rng rng(1);
    return set.batch({0, 1}, models::AudioAugment{}, rng, Device::cpu, {fx, fx}).to_vector<float>();
  };
  for (double speed : speeds) {
    const std::vector<float> whole = features(speed, false), changed = features(speed, true);
    EXPECT_NE(changed, whole) << "speed " << speed << ": the effect did not reach the view";
    EXPECT_EQ(features(speed, false), whole) << "speed " << speed << ": the changed clip was kept as the whole clip's view";
    std::vector<float> expected;
    for (int64_t k : {0, 1}) {
      const std::vector<float> x =
          models::fit_to_window(models::at_speed(by_hand(set.wave(k)), speed, 8000), set.recipe());
      expected.insert(expected.end(), x.begin(), x.end());
    }
    const Tensor waves = Tensor::from_vector(expected, {2, set.recipe().num_samples});
    EXPECT_EQ(models::audio_features(waves, set.recipe()).to_vector<float>(), changed) << "speed " << speed;
  }
}

TEST(Audio, CutClipsReachEveryTestTimeView) {
  expect_effect_reaches_every_view([](models::ClipEffects& fx) { fx.cut = 0.25, fx.cut_at_start = true; },
                                   [](const std::vector<float>& x) { return models::cut_word(x, 8000, 0.25, true); },
                                   {1.0, 0.92});
}

// eval --robustness's "audio clipped 12 dB" (ClipEffects::overdrive_db).
TEST(Audio, OverdrivenClipsReachEveryTestTimeView) {
  expect_effect_reaches_every_view([](models::ClipEffects& fx) { fx.overdrive_db = 12; },
                                   [](const std::vector<float>& x) { return models::overdrive(x, 12); }, {1.0, 1.08});
}

// --cut-word: with cut_prob 1 every training clip loses part of its word, so less of the
// word's energy reaches the features; with cut_prob 0 the other draws are unchanged.
TEST(Audio, AugmentationCutsWords) {
  const RawDbClip clip;
  models::AudioAugment aug = noise_only(0);
  aug.noise_prob = 0;
  EXPECT_EQ(aug.cut_prob, 0.0);
  // Energy of the features over the floor (dB above the quietest bin, summed).
  auto energy = [](const Tensor& f) {
    const std::vector<float> v = f.to_vector<float>();
    const float floor = *std::min_element(v.begin(), v.end());
    double e = 0;
    for (float x : v) e += x - floor;
    return e;
  };
  const Tensor whole = clip.batch(aug);
  models::AudioAugment cut = aug;
  cut.cut_prob = 1, cut.cut_max = 0.6;
  double less = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Rng rng(seed);
    less += energy(clip.set.batch({0}, cut, rng, Device::cpu)) < energy(whole) - 1.0;
  }
  EXPECT_GE(less, 6) << "cut words did not lose part of the word";
  cut.cut_prob = 0;  // cut_max unused without cuts: same draws, same batch
  EXPECT_EQ(clip.batch(cut).to_vector<float>(), whole.to_vector<float>());

  models::AudioTask t("audio:duet", clip.tiny.ds, clip.tiny.split.train, clip.tiny.split.test, true, 1);
  EXPECT_EQ(t.cut_share(), 0.0);
  t.set_cut_share(0.4);
  EXPECT_EQ(t.cut_share(), 0.4);
  EXPECT_THROW(t.set_cut_share(1.5), Error);
  EXPECT_THROW(t.set_cut_share(-0.1), Error);
}

// Test-time speeds: audio:duet hears each test clip at 0.92, 1 and 1.08; a view is the clip
// resampled as the training's speed perturbation does it; forward averages the views'
// log-probabilities (so its softmax is their normalised geometric mean); training batches
// carry no views; the speeds travel in config.json (older folders: the clip alone); bad
// lists are refused; fusion reads each clip once.
TEST(Audio, TestTimeSpeedsAverageTheViewsLogProbabilities) {
  EXPECT_EQ(models::audio_recipe("duet").test_speeds, (std::vector<double>{0.92, 1.0, 1.08}));
  EXPECT_TRUE(models::audio_recipe("course").test_speeds.empty());
  nlohmann::json old = models::audio_recipe("duet").to_json();
  EXPECT_EQ(models::AudioRecipe::from_json(old).test_speeds, (std::vector<double>{0.92, 1.0, 1.08}));
  old.erase("test_speeds");
  EXPECT_TRUE(models::AudioRecipe::from_json(old).test_speeds.empty());
  old["test_speeds"] = {0.92, 5.0};
  EXPECT_THROW(models::AudioRecipe::from_json(old), Error);
  EXPECT_THROW(models::check_test_speeds({}), Error);
  EXPECT_THROW(models::check_test_speeds({0.4}), Error);
  EXPECT_THROW(models::check_test_speeds(std::vector<double>(10, 1.0)), Error);
  EXPECT_NO_THROW(models::check_test_speeds({0.5, 2.0}));

  TinySpeakerSplit tiny;
  auto& [ds, split] = tiny;
  models::AudioTask t("audio:duet", ds, split.train, split.test, true, 1);
  t.to(Device::cpu);
  const std::vector<int64_t> idx = {0, 1, 2};
  Rng rng(4);
  const models::Batch b = t.test_batch(idx, rng);
  ASSERT_EQ(b.views.size(), 2u);
  EXPECT_TRUE(t.train_batch(idx, rng).views.empty());
  // The 1.08 view of clip 0 is the clip resampled from 8640 Hz to 8000 Hz, then fitted to
  // the window.
  {
    models::AudioRecipe plain = t.recipe();
    models::AudioSet set(ds, {split.test[0]}, plain);
    models::ClipEffects fast;
    fast.speed = 1.08;
    Rng r(0);
    const auto want = set.batch({0}, models::AudioAugment{}, r, Device::cpu, {fast}).to_vector<float>();
    const std::vector<float> x =
        models::fit_to_window(dsp::resample(set.wave(0), 8640, 8000), plain);
    const auto made =
        models::audio_features(Tensor::from_vector<float>(x, {1, int64_t(x.size())}), plain).to_vector<float>();
    ASSERT_EQ(made.size(), want.size());
    for (size_t k = 0; k < made.size(); k += 31) ASSERT_NEAR(made[k], want[k], 1e-5) << k;
    // Asked again (the view is now kept, not resampled): the same features.
    EXPECT_EQ(set.batch({0}, models::AudioAugment{}, r, Device::cpu, {fast}).to_vector<float>(), want);
    const auto same = set.batch({0}, models::AudioAugment{}, r, Device::cpu).to_vector<float>();
    double diff = 0;
    for (size_t k = 0; k < same.size(); ++k) diff += std::abs(same[k] - want[k]);
    EXPECT_GT(diff / double(same.size()), 1e-3) << "the 1.08 view should differ from the clip";
  }
  // forward = mean over the three views of log softmax(network(view)).
  NoGrad ng;
  const std::vector<float> got = t.forward(b, false, 0).to_vector<float>();
  const std::vector<double> want = mean_log_softmax_of_readings(t, b);
  ASSERT_EQ(got.size(), idx.size() * 10);
  for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-4) << k;
  // Training ignores views (the augmented batch is the input).
  EXPECT_EQ(t.forward(b, true, 0).shape(), (Shape{3, 10}));
  // --test-speeds 1: one view, the clip alone; saved with the model.
  t.set_test_speeds({1.0});
  Rng rng2(4);
  EXPECT_TRUE(t.test_batch(idx, rng2).views.empty());
  EXPECT_EQ(t.config().at("audio").at("test_speeds").get<std::vector<double>>(), (std::vector<double>{1.0}));
  EXPECT_THROW(t.set_test_speeds({0.1}), Error);
  models::RecipeSteps steps;
  steps.test_speeds = std::vector<double>{0.9, 1.1};
  models::AudioTask two("audio:duet", ds, split.train, split.test, false, 1, steps);
  models::AudioTask back(two.config(), &ds, split.test);
  EXPECT_EQ(back.recipe().test_speeds, (std::vector<double>{0.9, 1.1}));
  Rng rng3(4);
  EXPECT_EQ(back.test_batch(idx, rng3).views.size(), 1u);
}

// Image test-time shifts: each view is the picture moved whole pixels, the pixels moved in
// set to the normalised background; test batches carry them (not training batches), forward
// averages the five readings' log-probabilities, and the shift travels with the model (0 for
// folders saved before it existed).
TEST(Images, TestTimeShiftsMoveThePictureAndAverage) {
  // Two pictures with distinct values everywhere, so every moved pixel is recognisable.
  Tensor x = Tensor::empty({2, 1, 28, 28});
  for (int i = 0; i < 2 * 784; ++i) x.data<float>()[i] = float(i + 1);
  const std::vector<Tensor> v = models::shifted_views(x, 2, -0.5f);
  ASSERT_EQ(v.size(), 4u);
  const std::pair<int, int> moves[] = {{2, 0}, {-2, 0}, {0, 2}, {0, -2}};  // right, left, down, up
  for (size_t k = 0; k < 4; ++k) {
    const auto [dx, dy] = moves[k];
    ASSERT_EQ(v[k].shape(), x.shape());
    const float* o = v[k].data<float>();
    for (int b = 0; b < 2; ++b)
      for (int y = 0; y < 28; ++y)
        for (int c = 0; c < 28; ++c) {
          const int sx = c - dx, sy = y - dy;
          const float want = sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? float(b * 784 + sy * 28 + sx + 1) : -0.5f;
          ASSERT_EQ(o[b * 784 + y * 28 + c], want) << "view " << k << " image " << b << " at " << c << "," << y;
        }
  }
  EXPECT_THROW(models::shifted_views(x, 0, 0), Error);
  EXPECT_THROW(models::shifted_views(x, models::kMaxTestShift + 1, 0), Error);
  EXPECT_THROW(models::shifted_views(Tensor::empty({2, 28, 28}), 1, 0), Error);
  EXPECT_NO_THROW(models::check_test_shift(0));
  EXPECT_THROW(models::check_test_shift(-1), Error);

  const std::string root = make_tiny_data().string();
  models::ImageTask t("image:duet", data::load_mnist(root, "train"), data::load_mnist(root, "test"), -1, true, 1);
  EXPECT_EQ(t.test_shift(), models::ImageTask::kDefaultTestShift);
  EXPECT_EQ(t.config().at("image").at("test_shift"), models::ImageTask::kDefaultTestShift);
  const std::vector<int64_t> idx = {0, 1, 2};
  Rng rng(4);
  const models::Batch b = t.test_batch(idx, rng);
  ASSERT_EQ(b.views.size(), 4u);
  EXPECT_TRUE(t.train_batch(idx, rng).views.empty());
  // The tiny test pictures are black on the left, 200 on the right: moved 1 px right, column 14
  // is black (normalised), moved left, column 13 carries the right half's value.
  const float black = -t.pixel_mean() / t.pixel_std(), ink = (200 / 255.0f - t.pixel_mean()) / t.pixel_std();
  EXPECT_NEAR(b.image.data<float>()[5 * 28 + 14], ink, 1e-5);
  EXPECT_NEAR(b.views[0].data<float>()[5 * 28 + 14], black, 1e-5);
  EXPECT_NEAR(b.views[1].data<float>()[5 * 28 + 13], ink, 1e-5);
  EXPECT_NEAR(b.views[1].data<float>()[5 * 28 + 27], black, 1e-5) << "the pixel moved in is background";
  // forward = mean over the five readings of log softmax(network(view)).
  NoGrad ng;
  const std::vector<float> got = t.forward(b, false, 0).to_vector<float>();
  const std::vector<double> want = mean_log_softmax_of_readings(t, b);
  ASSERT_EQ(got.size(), idx.size() * 10);
  for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-4) << k;
  EXPECT_EQ(t.forward(b, true, 0).shape(), (Shape{3, 10})) << "training reads the batch alone";
  // A picture given to predict gets the same views.
  std::vector<uint8_t> bar(40 * 50, 230);
  for (int y = 8; y < 44; ++y)
    for (int c = 18; c < 23; ++c) bar[y * 40 + c] = 20;
  EXPECT_EQ(t.input_for(bar, 40, 50).views.size(), 4u);
  // The parts --number chooses a cutting of digits that touch from are read as they are
  // (cli::part_reader): the log-probability of the likeliest digit without the shifts.
  std::vector<uint8_t> plus(40 * 50, 230);
  for (int k = 8; k < 36; ++k)
    for (int c = 0; c < 5; ++c) plus[(25 + c - 2) * 40 + k] = 20, plus[(k + 5) * 40 + 18 + c] = 20;
  const std::vector<std::vector<float>> parts = {models::to_mnist_form(bar, 40, 50),
                                                 models::to_mnist_form(plus, 40, 50)};
  const std::vector<double> part_lp = cli::part_reader(t)(parts);
  ASSERT_EQ(part_lp.size(), parts.size());
  auto log_most = [&](const models::Batch& in) {
    const std::vector<float> p = F::softmax(t.forward(in, false, 0)).to_vector<float>();
    return std::log(double(*std::max_element(p.begin(), p.end())));
  };
  double moved = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    models::Batch alone = t.input_for(parts[k]);
    alone.views.clear();
    EXPECT_NEAR(part_lp[k], log_most(alone), 1e-6) << k;
    moved = std::max(moved, std::abs(part_lp[k] - log_most(t.input_for(parts[k]))));
  }
  EXPECT_GT(moved, 1e-4) << "the shifts read these pictures otherwise, or the test could not tell";
  // 0: the picture alone; saved with the model and read back; a folder without the key reads 0.
  t.set_test_shift(0);
  Rng rng2(4);
  EXPECT_TRUE(t.test_batch(idx, rng2).views.empty());
  EXPECT_TRUE(t.input_for(bar, 40, 50).views.empty());
  EXPECT_THROW(t.set_test_shift(models::kMaxTestShift + 1), Error);
  t.set_test_shift(3);
  const data::Mnist test = data::load_mnist(root, "test");
  nlohmann::json c = t.config();
  EXPECT_EQ(models::ImageTask(c, &test).test_shift(), 3);
  c["image"].erase("test_shift");
  EXPECT_EQ(models::ImageTask(c, &test).test_shift(), 0);
  c["image"]["test_shift"] = 9;
  EXPECT_THROW(models::ImageTask(c, &test), Error);
}

// --speed-range: the training batches' speed perturbation draws from the range set (the same
// random draws otherwise, so only the speed differs); test batches are untouched; bad
// ranges are refused.
TEST(Audio, SpeedRangeReachesTheTrainingBatches) {
  TinySpeakerSplit tiny;
  auto& [ds, split] = tiny;
  auto batches = [&](double lo, double hi) {
    models::AudioTask t("audio:duet", ds, split.train, split.test, true, 1);
    t.set_speed_range(lo, hi);
    EXPECT_EQ(t.speed_range(), (std::pair<double, double>{lo, hi}));
    Rng r1(11), r2(11);
    return std::pair{t.train_batch({0, 1, 2}, r1).audio.to_vector<float>(),
                     t.test_batch({0, 1, 2}, r2).audio.to_vector<float>()};
  };
  const auto none = batches(1, 1), again = batches(1, 1), fast = batches(1.5, 1.5);
  EXPECT_EQ(none.first, again.first);
  EXPECT_NE(none.first, fast.first) << "the speed range did not reach the training batches";
  EXPECT_EQ(none.second, fast.second) << "test batches must not depend on the training's speed range";
  models::AudioTask t("audio:duet", ds, split.train, split.test, true, 1);
  EXPECT_EQ(t.speed_range(), (std::pair<double, double>{0.85, 1.18}));
  EXPECT_THROW(t.set_speed_range(1.1, 1.0), Error);
  EXPECT_THROW(t.set_speed_range(0.4, 1.0), Error);
  EXPECT_THROW(t.set_speed_range(1.0, 2.5), Error);
}

#ifdef DUET_HAVE_CUDA
TEST(Cuda, ConvAlgorithmFromTheEnvironment) {
  // Host-side only: no GPU needed. A failed read is not cached, so the test can restore it.
  ::setenv("DUET_CONV_ALGO", "winograd", 1);
  try {
    ops::conv_algo_from_env();
    ADD_FAILURE() << "expected an error for DUET_CONV_ALGO=winograd";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("DUET_CONV_ALGO='winograd'"), std::string::npos) << e.what();
  }
  ::unsetenv("DUET_CONV_ALGO");
  EXPECT_EQ(ops::conv_algo_from_env(), ops::ConvAlgo::implicit_gemm);
}
#endif
