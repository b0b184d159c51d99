#include "models/fusion.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <tuple>

#include "engine/autograd.h"
#include "engine/checkpoint.h"
#include "engine/error.h"
#include "engine/functional.h"

namespace duet::models {

std::vector<int64_t> pair_by_label(const std::vector<int32_t>& labels, const std::vector<uint8_t>& image_labels,
                                   Rng& rng) {
  std::array<std::vector<int64_t>, 10> pools;
  for (int64_t i = 0; i < int64_t(image_labels.size()); ++i) {
    DUET_CHECK(image_labels[i] <= 9, "pairing: image label ", int(image_labels[i]), " is not a digit");
    pools[image_labels[i]].push_back(i);
  }
  std::array<size_t, 10> next{};
  for (auto& p : pools) rng.shuffle(p);
  std::vector<int64_t> out(labels.size());
  for (size_t k = 0; k < labels.size(); ++k) {
    const int32_t d = labels[k];
    DUET_CHECK(d >= 0 && d <= 9 && !pools[d].empty(), "pairing: no image of digit ", d);
    if (next[d] == pools[d].size()) {  // every image of this digit used: start another round
      rng.shuffle(pools[d]);
      next[d] = 0;
    }
    out[k] = pools[d][next[d]++];
  }
  return out;
}

namespace {

// Every audio clip with noise of `colour` at `snr` dB ("audio SNR 10 dB", "audio pink SNR 0 dB").
Degradation audio_noise_row(double snr, NoiseColour colour) {
  Degradation x;
  x.name = std::string("audio ") + (colour == NoiseColour::pink ? "pink " : "") + "SNR " + std::to_string(int(snr)) +
           " dB";
  x.audio.snr_db = snr;
  x.audio.colour = colour;
  return x;
}

bool degrades_audio(const Degradation& d) {
  return std::isfinite(d.audio.snr_db) || d.audio.silent || std::abs(d.audio.speed - 1.0) > 1e-9 || d.audio.rt60 > 0;
}
bool degrades_image(const Degradation& d) {
  return d.image.noise > 0 || d.image.occlude > 0 || d.image.blank || d.image.photo || d.image.lowres > 0 ||
         d.image.pen > 0 || d.image.file_noise > 0 || d.image.file_salt > 0;
}

}  // namespace

std::vector<Degradation> standard_degradations() {
  std::vector<Degradation> d(1);
  for (auto [name, sigma] : {std::pair{"image noise 0.5", 0.5}, {"image noise 1", 1.0}, {"image noise 2", 2.0}}) {
    Degradation x;
    x.name = name;
    x.image.noise = sigma;
    d.push_back(x);
  }
  Degradation occ;
  occ.name = "image occluded 14x14";
  occ.image.occlude = 14;
  d.push_back(occ);
  Degradation im;
  im.name = "image missing";
  im.image.blank = true;
  d.push_back(im);
  for (double snr : {20.0, 10.0, 0.0, -5.0}) d.push_back(audio_noise_row(snr, NoiseColour::white));
  Degradation am;
  am.name = "audio missing";
  am.audio.silent = true;
  d.push_back(am);
  return d;
}

std::vector<Degradation> degradations_of(const std::string& modality) {
  DUET_CHECK(modality == "audio" || modality == "image", "degradations_of: expected audio or image, got '", modality,
             "'");
  std::vector<Degradation> out;
  for (const Degradation& d : standard_degradations()) {
    const bool audio = degrades_audio(d), image = degrades_image(d);
    const bool removes = d.audio.silent || d.image.blank;
    const bool own = modality == "audio" ? audio && !image : image && !audio;
    if ((!audio && !image) || (own && !removes)) out.push_back(d);
  }
  if (modality == "image") {
    Degradation x;
    x.name = "image photographed";
    x.image.photo = true;
    out.push_back(x);
    // A picture so small that the digit spans 8 pixels (a thumbnail, a distant photograph).
    Degradation low;
    low.name = "image low-res 8 px";
    low.image.lowres = 8;
    out.push_back(low);
    // Drawn again along the strokes' centrelines: with a fine pen on a large canvas (strokes
    // 1/80 of the digit's height) and with a thick marker (a quarter of it).
    for (auto [name, width] : {std::pair{"image fine pen", 1.0 / 80}, {"image thick marker", 0.25}}) {
      Degradation x;
      x.name = name;
      x.image.pen = width;
      out.push_back(x);
    }
    // Noise in the picture file itself, before duet predict's preparation finds the digit
    // (the noise rows above add it to the prepared digit, as training's --augment-noise does).
    for (auto [name, sigma] : {std::pair{"image file noise 0.3", 0.3}, {"image file noise 0.5", 0.5}}) {
      Degradation x;
      x.name = name;
      x.image.file_noise = sigma;
      out.push_back(x);
    }
    // A tenth of the file's pixels black or white (salt-and-pepper noise).
    Degradation salt;
    salt.name = "image file salt 0.1";
    salt.image.file_salt = 0.1;
    out.push_back(salt);
  }
  if (modality == "audio") {
    for (double snr : {10.0, 0.0}) out.push_back(audio_noise_row(snr, NoiseColour::pink));
    for (auto [name, speed] : {std::pair{"audio speed 0.87", 0.87}, {"audio speed 1.15", 1.15}}) {
      Degradation x;
      x.name = name;
      x.audio.speed = speed;
      out.push_back(x);
    }
    // A room where the talker is near the microphone, and a more reverberant one across which
    // the room's sound is as loud as the voice's.
    for (auto [name, rt60, drr] : {std::tuple{"audio room 0.5 s", 0.5, 6.0}, {"audio room 1 s", 1.0, 0.0}}) {
      Degradation x;
      x.name = name;
      x.audio.rt60 = rt60, x.audio.drr_db = drr;
      out.push_back(x);
    }
    // Recordings started late or stopped early, a quarter of the word missing (the first
    // consonant of "six" or "seven", the end of "eight").
    for (auto [name, at_start] : {std::pair{"audio cut start 25%", true}, {"audio cut end 25%", false}}) {
      Degradation x;
      x.name = name;
      x.audio.cut = 0.25, x.audio.cut_at_start = at_start;
      out.push_back(x);
    }
    // A loud voice recorded with the input turned up too far: peaks 12 dB past full scale,
    // clipped (tools/mic.py's over12 folder does the same to the files).
    Degradation od;
    od.name = "audio clipped 12 dB";
    od.audio.overdrive_db = 12;
    out.push_back(od);
  }
  return out;
}

EvalResult evaluate_degraded(Task& task, const Degradation& d, int64_t eval_batch, uint64_t seed) {
  if (auto* a = dynamic_cast<AudioTask*>(&task)) {
    DUET_CHECK(!degrades_image(d), "'", d.name, "' degrades images; an audio model has none");
    return evaluate(task, eval_batch, seed, [&](const std::vector<int64_t>& idx, Rng& rng) {
      return a->degraded_test_batch(idx, rng, d.audio);
    });
  }
  if (auto* im = dynamic_cast<ImageTask*>(&task)) {
    DUET_CHECK(!degrades_audio(d), "'", d.name, "' degrades audio; an image model has none");
    return evaluate(task, eval_batch, seed, [&](const std::vector<int64_t>& idx, Rng& rng) {
      return im->degraded_test_batch(idx, rng, d.image);
    });
  }
  throw Error("evaluate_degraded: an audio or image model was expected (fusion models have their own table)");
}

namespace {

// Bilinear resize of normalised images [B, 1, 28, 28] (CPU) onto a spectrogram grid
// [B, 1, H, W]; the image's top row lands on the highest mel bins.
Tensor images_on_grid(const Tensor& x, int64_t H, int64_t W) {
  const int64_t B = x.size(0);
  Tensor out = Tensor::empty({B, 1, H, W});
  const float* s = x.data<float>();
  float* o = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    const float* p = s + b * 784;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t xx = 0; xx < W; ++xx) {
        const double sy = (double(H - 1 - y) + 0.5) * 28.0 / H - 0.5, sx = (xx + 0.5) * 28.0 / W - 0.5;
        const int y0 = std::clamp(int(std::floor(sy)), 0, 27), x0 = std::clamp(int(std::floor(sx)), 0, 27);
        const int y1 = std::min(y0 + 1, 27), x1 = std::min(x0 + 1, 27);
        const double fy = std::clamp(sy - y0, 0.0, 1.0), fx = std::clamp(sx - x0, 0.0, 1.0);
        o[(b * H + y) * W + xx] = float((p[y0 * 28 + x0] * (1 - fx) + p[y0 * 28 + x1] * fx) * (1 - fy) +
                                        (p[y1 * 28 + x0] * (1 - fx) + p[y1 * 28 + x1] * fx) * fy);
      }
  }
  return out;
}

std::vector<int32_t> labels_of(const AudioSet& a) {
  std::vector<int32_t> y(a.size());
  for (int64_t i = 0; i < a.size(); ++i) y[i] = a.label(i);
  return y;
}

std::vector<uint8_t> labels_of(const ImageSet& s) {
  std::vector<uint8_t> y(s.size());
  for (int64_t i = 0; i < s.size(); ++i) y[i] = uint8_t(s.label(i));
  return y;
}

// Independent, reproducible streams for the two pairings: evaluation rebuilds the test
// pairs from the seed alone.
constexpr uint64_t kTrainPairStream = 0x7261696eull, kTestPairStream = 0x74657374ull;

// The image networks fusion can take as its image encoder (FusionOptions::image_arch).
bool is_image_encoder(const std::string& arch) { return arch == "image:duet" || arch == "image:vgg"; }

}  // namespace

// ---- construction ---------------------------------------------------------------------------------

void FusionTask::build(uint64_t seed) {
  DUET_CHECK(strategy_ == "early" || strategy_ == "concat" || strategy_ == "attention" || strategy_ == "late",
             "unknown fusion strategy '", strategy_, "' (early, concat, attention or late)");
  Rng rng(seed ^ 0xF00Dull);
  const Shape ain = recipe_.input_shape();
  auto linear = [&](const std::string& name, int64_t in, int64_t out) { return Linear(params_, name, in, out, rng); };
  if (opts_.audio_channels.empty()) opts_.audio_channels = default_channels("audio:duet");
  const NetworkOptions audio_options{opts_.audio_channels};
  if (opts_.image_arch.empty()) opts_.image_arch = "image:duet";
  if (strategy_ == "early") {
    early_net_ = build_network("audio:duet", {2, ain[1], ain[2]}, seed, params_, "early.", audio_options);
    return;
  }
  audio_net_ = build_network("audio:duet", ain, seed, params_, "audio.", audio_options);
  image_net_ = build_network(opts_.image_arch, {1, 28, 28}, seed + 1, params_, "image.");
  const int64_t da = audio_net_->feature_dim(), di = image_net_->feature_dim();
  if (strategy_ == "concat") {
    head1_ = linear("head.fc1", da + di, 64);
    head2_ = linear("head.fc2", 64, 10);
    aux_a_ = linear("aux_audio.fc", da, 10);
    aux_i_ = linear("aux_image.fc", di, 10);
  } else if (strategy_ == "attention") {
    proj_a_ = linear("attn.proj_audio", da, 64);
    proj_i_ = linear("attn.proj_image", di, 64);
    score_a_ = linear("attn.score_audio", 64, 1);
    score_i_ = linear("attn.score_image", 64, 1);
    head2_ = linear("head.fc", 64, 10);
    aux_a_ = linear("aux_audio.fc", 64, 10);
    aux_i_ = linear("aux_image.fc", 64, 10);
  } else {  // late
    aux_a_ = linear("late_audio.fc", da, 10);
    aux_i_ = linear("late_image.fc", di, 10);
  }
}

void FusionTask::init_from(const std::string& dir, const std::string& prefix) {
  // Copies a unimodal model's encoder weights and batch-norm statistics (its own classifier is
  // left out: different names) into the encoder registered under `prefix`.
  TensorMap m = load_safetensors(dir + "/model.safetensors");
  int copied = 0;
  for (const auto* tensors : {&params_.items(), &params_.buffers()})
    for (const auto& [name, t] : *tensors) {
      if (name.rfind(prefix, 0) != 0) continue;
      auto it = m.find(name.substr(prefix.size()));
      if (it == m.end()) continue;
      DUET_CHECK(it->second.shape() == t.shape(), dir, "/model.safetensors: '", it->first, "' has shape ",
                 shape_str(it->second.shape()), ", the fusion encoder expects ", shape_str(t.shape()));
      Tensor(t).copy_(it->second);
      copied += tensors == &params_.items();
    }
  DUET_CHECK(copied > 0, dir, ": no weights match the fusion's ", prefix, " encoder");
}

void FusionTask::setup_hard(const ImageSet& reference) {
  if (pca_basis_.empty()) reference.principal_components(10000, opts_.hard_energy, &pca_basis_, &pca_mean_);
  for (ImageSet* s : {train_images_.get(), test_images_.get()})
    if (s) s->set_projection(pca_basis_, pca_mean_);
}

FusionTask::FusionTask(const std::string& arch, const data::Fsdd& ds, const data::Split& split,
                       const std::string& data_dir, bool augment, uint64_t seed, const FusionOptions& opts)
    : strategy_(arch.rfind("fusion:", 0) == 0 ? arch.substr(7) : arch), opts_(opts), recipe_(audio_recipe("duet")),
      seed_(seed) {
  DUET_CHECK(arch.rfind("fusion:", 0) == 0, "unknown fusion architecture '", arch, "'");
  recipe_.test_speeds.clear();  // fusion reads each clip once (test-time views are audio:duet's)
  audio_aug_.enabled = augment;
  // Fusion adds its own noise to either modality (noise_prob, audio at -5 to 20 dB over the
  // window); on top of it the audio keeps the lighter clip-only noise it was measured with
  // (docs/fusion.md).
  audio_aug_.noise_prob = 0.3;
  audio_aug_.snr_min_db = 15, audio_aug_.snr_max_db = 40;
  audio_aug_.noise_on_window = false;
  audio_aug_.speed_min = 0.92, audio_aug_.speed_max = 1.08;  // the speed range fusion was measured with
  image_aug_.enabled = augment;
  // An initialising audio model: its config.json, read once; its recordings were high-passed as
  // its recipe says, so fusion's are too.
  nlohmann::json init_cfg;
  if (!opts.init_audio.empty()) {
    std::ifstream f(opts.init_audio + "/config.json");
    try {
      f >> init_cfg;
      DUET_CHECK(init_cfg.value("arch", "") == "audio:duet", "--init-audio needs an audio:duet model, got ",
                 init_cfg.value("arch", "?"));
      recipe_.highpass_hz = AudioRecipe::from_json(init_cfg.at("audio")).highpass_hz;
    } catch (const std::exception& e) {  // unreadable JSON, a missing key, an invalid recipe
      fail(opts.init_audio, "/config.json: ", e.what());
    }
  }
  train_audio_ = std::make_unique<AudioSet>(ds, split.train, recipe_);
  test_audio_ = std::make_unique<AudioSet>(ds, split.test, recipe_);
  data::Mnist mtrain = data::load_mnist(data_dir, "train"), mtest = data::load_mnist(data_dir, "test");
  std::tie(pixel_mean_, pixel_std_) = ImageSet::pixel_stats(mtrain, -1);
  train_images_ = std::make_unique<ImageSet>(std::move(mtrain), -1, pixel_mean_, pixel_std_);
  test_images_ = std::make_unique<ImageSet>(std::move(mtest), -1, pixel_mean_, pixel_std_);
  if (opts_.hard) setup_hard(*train_images_);
  DUET_CHECK(opts_.pairs_per_clip >= 1, "fusion: pairs per clip must be >= 1");
  Rng train_rng(seed ^ kTrainPairStream), test_rng(seed ^ kTestPairStream);
  pair_training_clips(train_rng);
  test_pairs_ = pair_by_label(labels_of(*test_audio_), labels_of(*test_images_), test_rng);
  // Audio normalisation: the initialising audio model's, else from the training clips.
  if (!opts.init_audio.empty()) {
    const nlohmann::json& c = init_cfg;
    try {
      norm_ = Normalizer::from_json(c.at("normalizer"));
      const auto init_channels = c.value("channels", unrecorded_channels("audio:duet"));
      DUET_CHECK(opts_.audio_channels.empty() || opts_.audio_channels == init_channels, opts.init_audio,
                 ": --channels differs from the channel counts of the --init-audio model");
      opts_.audio_channels = init_channels;
    } catch (const nlohmann::json::exception& e) {
      fail(opts.init_audio, "/config.json: ", e.what());
    }
  } else {
    std::vector<int64_t> all(train_audio_->size());
    for (int64_t i = 0; i < train_audio_->size(); ++i) all[i] = i;
    Rng r(seed);
    norm_ = Normalizer::fit(train_audio_->batch(all, AudioAugment{}, r, Device::cpu));
  }
  // Late fusion keeps 10% of the training clips out of training to fit its weight on them.
  train_clips_.resize(train_audio_->size());
  for (int64_t i = 0; i < train_audio_->size(); ++i) train_clips_[i] = i;
  if (strategy_ == "late") {
    Rng r(seed ^ 0x1a7eull);
    r.shuffle(train_clips_);
    const size_t h = std::max<size_t>(1, train_clips_.size() / 10);
    heldout_.assign(train_clips_.begin(), train_clips_.begin() + h);
    train_clips_.erase(train_clips_.begin(), train_clips_.begin() + h);
  }
  DUET_CHECK(strategy_ != "early" || (opts.init_audio.empty() && opts.init_image.empty()),
             "--init-audio/--init-image do not apply to early fusion (one network sees both inputs from the first layer)");
  if (!opts.init_image.empty()) {  // the image encoder is the initialising model's network
    std::ifstream f(opts.init_image + "/config.json");
    nlohmann::json c = nlohmann::json::parse(f, nullptr, false);
    const std::string image_arch = c.is_object() && c.contains("arch") && c["arch"].is_string() ? c["arch"] : "";
    DUET_CHECK(is_image_encoder(image_arch), opts.init_image, ": --init-image needs an image:duet or image:vgg model",
               image_arch.empty() ? std::string() : ", got " + image_arch);
    opts_.image_arch = image_arch;
  }
  build(seed);
  if (!opts.init_audio.empty()) init_from(opts.init_audio, "audio.");
  if (!opts.init_image.empty()) init_from(opts.init_image, "image.");
}

FusionTask::FusionTask(const nlohmann::json& c, const data::Fsdd* ds, const data::Split& split,
                       const std::string& data_dir) {
  const std::string arch = c.at("arch");
  strategy_ = arch.substr(arch.find(':') + 1);
  recipe_ = AudioRecipe::from_json(c.at("audio"));
  norm_ = Normalizer::from_json(c.at("normalizer"));
  pixel_mean_ = c.at("image").at("mean");
  pixel_std_ = c.at("image").at("std");
  late_weight_ = c.value("late_weight", 0.5);
  seed_ = c.at("data").value("seed", uint64_t(0));
  const auto& fz = c.at("fusion");
  opts_.hard = fz.value("hard", false);
  opts_.hard_energy = fz.value("hard_energy", 0.25);
  opts_.hard_snr_db = fz.value("hard_snr_db", 0.0);
  opts_.audio_channels = fz.value("audio_channels", unrecorded_channels("audio:duet"));
  opts_.image_arch = fz.value("image_arch", std::string("image:duet"));  // absent: written before image:vgg encoders
  DUET_CHECK(is_image_encoder(opts_.image_arch),
             "config.json: fusion.image_arch expects image:duet or image:vgg, got '", opts_.image_arch, "'");
  const std::string projection = fz.value("projection", std::string("relu"));  // absent: written before "linear"
  DUET_CHECK(projection == "relu" || projection == "linear", "config.json: fusion.projection expects relu or linear, got '",
             projection, "'");
  opts_.relu_projection = strategy_ == "attention" && projection == "relu";
  if (opts_.hard) {
    pca_basis_ = fz.at("pca_basis").get<std::vector<float>>();
    pca_mean_ = fz.at("pca_mean").get<std::vector<float>>();
  }
  if (ds) {
    test_audio_ = std::make_unique<AudioSet>(*ds, split.test, recipe_);
    test_images_ = std::make_unique<ImageSet>(data::load_mnist(data_dir, "test"), -1, pixel_mean_, pixel_std_);
    if (opts_.hard) test_images_->set_projection(pca_basis_, pca_mean_);
    Rng test_rng(seed_ ^ kTestPairStream);
    test_pairs_ = pair_by_label(labels_of(*test_audio_), labels_of(*test_images_), test_rng);
  }
  build(0);
}

nlohmann::json FusionTask::config() const {
  nlohmann::json fz = {{"strategy", strategy_},
                       {"modality_dropout", opts_.modality_dropout},
                       {"pairs_per_clip", opts_.pairs_per_clip},
                       {"noise_prob", opts_.noise_prob},
                       {"hard", opts_.hard},
                       {"hard_energy", opts_.hard_energy},
                       {"hard_snr_db", opts_.hard_snr_db},
                       {"audio_channels", opts_.audio_channels},
                       {"init_audio", opts_.init_audio},
                       {"init_image", opts_.init_image}};
  // Written when not image:duet only (early fusion has no image encoder): a training started
  // before the image encoder was recorded then resumes (duet train --resume compares recipes).
  if (strategy_ != "early" && opts_.image_arch != "image:duet") fz["image_arch"] = opts_.image_arch;
  if (strategy_ == "attention") fz["projection"] = opts_.relu_projection ? "relu" : "linear";
  if (opts_.hard) fz["pca_basis"] = pca_basis_, fz["pca_mean"] = pca_mean_;
  return {{"model", "fusion"},
          {"arch", "fusion:" + strategy_},
          {"audio", recipe_.to_json()},
          {"normalizer", norm_.to_json()},
          {"image", {{"mean", pixel_mean_}, {"std", pixel_std_}}},
          {"late_weight", late_weight_},
          {"fusion", fz},
          {"classes", 10}};
}

std::string FusionTask::test_name(int64_t i) const {
  char buf[48];
  std::snprintf(buf, sizeof buf, " + MNIST test #%lld", (long long)test_pairs_[i]);
  return test_audio_->path(i) + buf;
}

// ---- batches --------------------------------------------------------------------------------------

Batch FusionTask::assemble(Tensor audio_features, Tensor images_cpu, const std::vector<int32_t>& labels,
                           std::vector<char> audio_missing, std::vector<char> image_missing) {
  Batch b;
  b.audio = norm_.apply(audio_features.to(device_));
  b.image = strategy_ == "early" ? images_on_grid(images_cpu, b.audio.size(2), b.audio.size(3)).to(device_)
                                 : images_cpu.to(device_);
  b.labels = labels_tensor(labels, device_);
  b.audio_missing = std::move(audio_missing);
  b.image_missing = std::move(image_missing);
  return b;
}

void FusionTask::pair_training_clips(Rng& rng) {
  train_pairs_.clear();
  for (int r = 0; r < opts_.pairs_per_clip; ++r)
    train_pairs_.push_back(pair_by_label(labels_of(*train_audio_), labels_of(*train_images_), rng));
}

Batch FusionTask::make_batch(const AudioSet& audio, const ImageSet& image_set, const std::vector<int64_t>& clips,
                             const std::vector<int64_t>& img, Rng& rng, bool train, const Degradation& d) {
  const size_t B = clips.size();
  std::vector<ClipEffects> afx(B, d.audio);
  std::vector<ImageEffects> ifx(B, d.image);
  std::vector<int32_t> y(B);
  for (size_t k = 0; k < B; ++k) {
    y[k] = audio.label(clips[k]);
    if (opts_.hard && !std::isfinite(afx[k].snr_db)) afx[k].snr_db = opts_.hard_snr_db;
    if (train) {
      // Modality dropout, and random noise that teaches the fusion whom to trust.
      if (rng.uniform() < opts_.modality_dropout) (rng.uniform() < 0.5 ? afx[k].silent : ifx[k].blank) = true;
      if (rng.uniform() < opts_.noise_prob) afx[k].snr_db = std::min(afx[k].snr_db, rng.uniform(-5.0, 20.0));
      if (rng.uniform() < opts_.noise_prob) ifx[k].noise = rng.uniform(0.0, 2.0);
    }
  }
  std::vector<char> am(B), im(B);
  for (size_t k = 0; k < B; ++k) am[k] = afx[k].silent, im[k] = ifx[k].blank;
  Tensor a = audio.batch(clips, train ? audio_aug_ : AudioAugment{}, rng, device_, afx);
  Tensor i = image_set.batch(img, train ? image_aug_ : ImageAugment{}, rng, Device::cpu, ifx);
  return assemble(a, i, y, am, im);
}

void FusionTask::begin_epoch(int epoch, Rng& rng) {
  if (epoch == 1 || !opts_.repair_each_epoch) return;
  pair_training_clips(rng);
}

Batch FusionTask::train_batch(const std::vector<int64_t>& idx, Rng& rng) {
  // Example i is training clip i % n paired by round i / n.
  const int64_t n = int64_t(train_clips_.size());
  std::vector<int64_t> clips(idx.size()), images(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) {
    clips[k] = train_clips_[idx[k] % n];
    images[k] = train_pairs_[idx[k] / n][clips[k]];
  }
  return make_batch(*train_audio_, *train_images_, clips, images, rng, true, Degradation{});
}

Batch FusionTask::test_batch(const std::vector<int64_t>& idx, Rng& rng) {
  return degraded_test_batch(idx, rng, Degradation{});
}

Batch FusionTask::degraded_test_batch(const std::vector<int64_t>& idx, Rng& rng, const Degradation& d) {
  DUET_CHECK(test_audio_, "this fusion model was loaded without data (give --data)");
  std::vector<int64_t> images(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) images[k] = test_pairs_[idx[k]];
  return make_batch(*test_audio_, *test_images_, idx, images, rng, false, d);
}

Batch FusionTask::single(const std::vector<float>* samples, int rate, const std::vector<uint8_t>* gray, int w, int h) {
  DUET_CHECK(samples || gray, "fusion predict needs --audio, --image or both");
  Tensor wave = Tensor::zeros({1, recipe_.num_samples});
  if (samples) {
    check_audible(*samples);
    std::vector<float> x = prepare_wave(*samples, rate, recipe_);
    std::copy(x.begin(), x.end(), wave.data<float>());
  }
  std::vector<float> digit(784, 0.0f);
  if (gray) digit = to_mnist_form(*gray, w, h);
  Tensor image = Tensor::empty({1, 1, 28, 28});
  for (int i = 0; i < 784; ++i) image.data<float>()[i] = (digit[i] - pixel_mean_) / pixel_std_;
  return assemble(audio_features(wave.to(device_), recipe_), image, {0}, {char(!samples)}, {char(!gray)});
}

// ---- forward ----------------------------------------------------------------------------------------

std::vector<std::pair<std::string, Tensor>> FusionTask::late_rules(const Tensor& la, const Tensor& li, const Batch& b) {
  NoGrad ng;
  const int64_t B = la.size(0);
  std::vector<float> pa = F::softmax(la).to_vector<float>(), pi = F::softmax(li).to_vector<float>();
  // A modality known to be missing says nothing: uniform probabilities.
  for (int64_t k = 0; k < B; ++k) {
    if (!b.audio_missing.empty() && b.audio_missing[k]) std::fill(pa.begin() + k * 10, pa.begin() + k * 10 + 10, 0.1f);
    if (!b.image_missing.empty() && b.image_missing[k]) std::fill(pi.begin() + k * 10, pi.begin() + k * 10 + 10, 0.1f);
  }
  std::vector<float> mean(B * 10), weighted(B * 10), confident(B * 10);
  for (int64_t k = 0; k < B; ++k) {
    const float* a = pa.data() + k * 10;
    const float* i = pi.data() + k * 10;
    const float ca = *std::max_element(a, a + 10), ci = *std::max_element(i, i + 10);
    for (int c = 0; c < 10; ++c) {
      mean[k * 10 + c] = std::log(std::max(1e-12f, 0.5f * (a[c] + i[c])));
      weighted[k * 10 + c] =
          std::log(std::max(1e-12, late_weight_ * a[c] + (1 - late_weight_) * i[c]));
      // Agreeing modalities: their mean. Disagreeing: the more confident one.
      const bool agree = std::max_element(a, a + 10) - a == std::max_element(i, i + 10) - i;
      const float p = agree ? 0.5f * (a[c] + i[c]) : (ca >= ci ? a[c] : i[c]);
      confident[k * 10 + c] = std::log(std::max(1e-12f, p));
    }
  }
  const Shape s = {B, 10};
  return {{"late-mean", Tensor::from_vector<float>(mean, s, la.device())},
          {"late-weighted", Tensor::from_vector<float>(weighted, s, la.device())},
          {"late-confidence", Tensor::from_vector<float>(confident, s, la.device())}};
}

FusionOutputs FusionTask::outputs(const Batch& b, bool training, uint64_t seed) {
  FusionOutputs o;
  if (strategy_ == "early") {
    o.fused = early_net_->forward(F::concat({b.audio, b.image}), training, seed);
    if (!training) {
      NoGrad ng;
      // Per-modality answers of the one network: show it one input and a blank other.
      const float blank_pixel = (0.0f - pixel_mean_) / pixel_std_;
      Tensor blank_image = Tensor::full(b.image.shape(), blank_pixel, DType::f32, b.image.device());
      Tensor blank_audio = norm_.apply(Tensor::zeros(b.audio.shape(), DType::f32, b.audio.device()));
      o.audio = early_net_->forward(F::concat({b.audio, blank_image}), false, 0);
      o.image = early_net_->forward(F::concat({blank_audio, b.image}), false, 0);
    }
    return o;
  }
  Tensor fa = audio_net_->features(b.audio, training, seed);
  Tensor fi = image_net_->features(b.image, training, seed ^ 0xABCDull);
  if (strategy_ == "concat") {
    Tensor h = F::dropout(F::relu(head1_(F::concat({fa, fi}))), 0.3, training, seed ^ 0x77ull);
    o.fused = head2_(h);
    o.audio = aux_a_(fa);
    o.image = aux_i_(fi);
  } else if (strategy_ == "attention") {
    Tensor ha = proj_a_(fa), hi = proj_i_(fi);
    if (opts_.relu_projection) ha = F::relu(ha), hi = F::relu(hi);
    o.alpha = F::softmax(F::concat({score_a_(ha), score_i_(hi)}));  // [B, 2]
    if (!pick_audio_.defined() || pick_audio_.device() != o.alpha.device()) {
      pick_audio_ = Tensor::from_vector<float>({1, 0}, {1, 2}, o.alpha.device());
      pick_image_ = Tensor::from_vector<float>({0, 1}, {1, 2}, o.alpha.device());
    }
    Tensor wa = F::linear(o.alpha, pick_audio_, Tensor()), wi = F::linear(o.alpha, pick_image_, Tensor());  // [B, 1]
    Tensor fused = F::add(F::mul(ha, wa), F::mul(hi, wi));
    o.fused = head2_(F::dropout(fused, 0.2, training, seed ^ 0x99ull));
    o.audio = aux_a_(ha);
    o.image = aux_i_(hi);
  } else {  // late
    o.audio = aux_a_(fa);
    o.image = aux_i_(fi);
    if (training) {
      // Bookkeeping only: training optimises each modality on its own (loss()).
      NoGrad ng;
      o.fused = F::log(F::scale(F::add(F::softmax(o.audio), F::softmax(o.image)), 0.5));
    } else {
      o.late = late_rules(o.audio, o.image, b);
      o.fused = o.late[1].second;  // the fitted weighting is the model's answer
    }
  }
  return o;
}

Tensor FusionTask::forward(const Batch& b, bool training, uint64_t seed) { return outputs(b, training, seed).fused; }

std::pair<Tensor, Tensor> FusionTask::loss(const Batch& b, uint64_t seed) {
  FusionOutputs o = outputs(b, true, seed);
  if (strategy_ == "early") return {F::cross_entropy(o.fused, b.labels), o.fused};
  Tensor la = F::cross_entropy(o.audio, b.labels), li = F::cross_entropy(o.image, b.labels);
  if (strategy_ == "late") return {F::add(la, li), o.fused};
  // Fused loss plus half-weighted per-modality losses: each branch stays a classifier in
  // its own right, which is what lets the fusion lean on either one.
  return {F::add(F::cross_entropy(o.fused, b.labels), F::scale(F::add(la, li), 0.5)), o.fused};
}

void FusionTask::end_training(uint64_t seed) {
  if (strategy_ != "late" || heldout_.empty()) return;
  // The audio weight w maximising the held-out log-likelihood of w p_audio + (1-w) p_image.
  NoGrad ng;
  Rng rng(seed ^ 0x4e1dull);
  std::vector<float> pa, pi;
  std::vector<int32_t> y;
  for (size_t s = 0; s < heldout_.size(); s += 256) {
    std::vector<int64_t> clips(heldout_.begin() + s, heldout_.begin() + std::min(heldout_.size(), s + 256));
    std::vector<int64_t> images(clips.size());
    for (size_t k = 0; k < clips.size(); ++k) images[k] = train_pairs_[0][clips[k]];
    Batch b = make_batch(*train_audio_, *train_images_, clips, images, rng, false, Degradation{});
    auto a = F::softmax(aux_a_(audio_net_->features(b.audio, false, 0))).to_vector<float>();
    auto i = F::softmax(aux_i_(image_net_->features(b.image, false, 0))).to_vector<float>();
    pa.insert(pa.end(), a.begin(), a.end());
    pi.insert(pi.end(), i.begin(), i.end());
    for (int64_t c : clips) y.push_back(train_audio_->label(c));
  }
  double best_w = 0.5, best_ll = -1e300;
  for (int step = 0; step <= 100; ++step) {
    const double w = step / 100.0;
    double ll = 0;
    for (size_t k = 0; k < y.size(); ++k) ll += std::log(std::max(1e-12, w * pa[k * 10 + y[k]] + (1 - w) * pi[k * 10 + y[k]]));
    if (ll > best_ll) best_ll = ll, best_w = w;
  }
  late_weight_ = best_w;
}

std::unique_ptr<Task> make_fusion_task(const std::string& arch, const data::Fsdd& ds, const data::Split& split,
                                       const std::string& data_dir, bool augment, uint64_t seed,
                                       const FusionOptions& opts) {
  return std::make_unique<FusionTask>(arch, ds, split, data_dir, augment, seed, opts);
}

std::unique_ptr<Task> load_fusion_task(const nlohmann::json& config, const data::Fsdd* ds, const data::Split& split,
                                       const std::string& data_dir) {
  return std::make_unique<FusionTask>(config, ds, split, data_dir);
}

}  // namespace duet::models
