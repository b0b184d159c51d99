#include "models/task.h"

#include <cmath>
#include <cstdio>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"

namespace duet::models {

namespace {

// The mean over the views' logits of log(softmax + 1e-30): the averaged log-probabilities,
// whose softmax is the normalised geometric mean of the views' probabilities. A probability
// that underflows to 0 counts as e^-69, not -inf. `tiny` caches the constant on the device, so
// it is not uploaded for every batch.
Tensor mean_log_probs(const std::vector<Tensor>& logits, Tensor& tiny) {
  if (!tiny.defined() || tiny.device() != logits[0].device())
    tiny = Tensor::from_vector<float>({1e-30f}, {1, 1}, logits[0].device());
  Tensor sum;
  for (const Tensor& z : logits) {
    Tensor lp = F::log(F::add(F::softmax(z), tiny));
    sum = sum.defined() ? F::add(sum, lp) : lp;
  }
  return F::scale(sum, 1.0 / double(logits.size()));
}

}  // namespace

Tensor labels_tensor(const std::vector<int32_t>& labels, Device d) {
  return Tensor::from_vector<int32_t>(labels, {int64_t(labels.size())}, d);
}

std::string Task::test_name(int64_t i) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "#%lld", (long long)i);
  return buf;
}

std::string ImageTask::test_name(int64_t i) const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "MNIST test #%lld", (long long)i);
  return buf;
}

std::pair<Tensor, Tensor> Task::loss(const Batch& b, uint64_t seed) {
  Tensor logits = forward(b, true, seed);
  return {F::cross_entropy(logits, b.labels), logits};
}

void Task::to(Device d) {
  device_ = d;
  params_.pack(d);
}

// ---- Normalizer ---------------------------------------------------------------------------

Tensor Normalizer::apply(const Tensor& x) const {
  if (mean.empty()) return x;
  if (!mean_t.defined() || mean_t.device() != x.device()) {
    std::vector<float> neg(mean.size()), inv(std.size());
    for (size_t i = 0; i < mean.size(); ++i) neg[i] = -mean[i], inv[i] = 1.0f / std[i];
    const Shape s = {1, 1, int64_t(mean.size()), 1};
    mean_t = Tensor::from_vector<float>(neg, s, x.device());
    scale_t = Tensor::from_vector<float>(inv, s, x.device());
  }
  return F::mul(F::add(x, mean_t), scale_t);
}

Normalizer Normalizer::from_json(const nlohmann::json& j) {
  Normalizer n;
  n.mean = j.at("mean").get<std::vector<float>>();
  n.std = j.at("std").get<std::vector<float>>();
  DUET_CHECK(n.mean.size() == n.std.size(), "normaliser: mean and std sizes differ");
  for (float s : n.std) DUET_CHECK(s > 0, "normaliser: std must be positive");
  return n;
}

Normalizer Normalizer::fit(const Tensor& features) {
  check_ndim(features, 4, "Normalizer::fit");
  Tensor h = features.to(Device::cpu);
  const int64_t B = h.size(0), M = h.size(2), T = h.size(3);
  Normalizer n;
  n.mean.assign(M, 0);
  n.std.assign(M, 0);
  const float* p = h.data<float>();
  for (int64_t m = 0; m < M; ++m) {
    double s = 0, q = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        const double v = p[(b * M + m) * T + t];
        s += v, q += v * v;
      }
    const double cnt = double(B * T), mu = s / cnt;
    n.mean[m] = float(mu);
    n.std[m] = float(std::sqrt(std::max(q / cnt - mu * mu, 1e-6)));
  }
  return n;
}

// ---- audio ----------------------------------------------------------------------------------

static AudioRecipe recipe_for_arch(const std::string& arch) {
  if (arch == "audio:seed") return audio_recipe("course");
  if (arch == "audio:duet") return audio_recipe("duet");
  fail("unknown audio architecture '", arch, "' (audio:seed or audio:duet)");
}

AudioTask::AudioTask(const std::string& arch, const data::Fsdd& ds, const std::vector<int64_t>& train,
                     const std::vector<int64_t>& test, bool augment, uint64_t seed, RecipeSteps steps,
                     const NetworkOptions& net)
    : arch_(arch), net_options_(net), recipe_(recipe_for_arch(arch)) {
  if (net_options_.channels.empty()) net_options_.channels = default_channels(arch);
  if (!steps.band_norm) recipe_.band_norm = false;
  if (!steps.trim) recipe_.trim = false;
  if (steps.highpass_hz >= 0) recipe_.highpass_hz = steps.highpass_hz;
  if (steps.test_speeds) set_test_speeds(*steps.test_speeds);
  if (steps.n_fft > 0) {
    recipe_.frontend.n_fft = steps.n_fft;
    recipe_.frontend.win_length = 0;
    recipe_.frontend.validate(recipe_.num_samples);
  }
  augment_.enabled = augment;
  augment_.reverb_prob = kDefaultReverb;
  augment_.overdrive_prob = kDefaultOverdrive;
  augment_.click_prob = kDefaultClicks;
  train_ = std::make_unique<AudioSet>(ds, train, recipe_);
  test_ = std::make_unique<AudioSet>(ds, test, recipe_);
  net_ = build_network(arch, recipe_.input_shape(), seed, params_, "", net_options_);
  if (recipe_.standardize) {
    // Per-mel-bin statistics of the (clean) training features.
    Rng rng(seed);
    std::vector<int64_t> all(train_->size());
    for (int64_t i = 0; i < train_->size(); ++i) all[i] = i;
    norm_ = Normalizer::fit(train_->batch(all, AudioAugment{}, rng, Device::cpu));
  }
}

AudioTask::AudioTask(const nlohmann::json& c, const data::Fsdd* ds, const std::vector<int64_t>& test) {
  arch_ = c.at("arch");
  recipe_ = AudioRecipe::from_json(c.at("audio"));
  if (c.contains("normalizer")) norm_ = Normalizer::from_json(c.at("normalizer"));
  // Folders written before channel counts were configurable hold the first default network.
  net_options_.channels = c.value("channels", unrecorded_channels(arch_));
  if (ds) test_ = std::make_unique<AudioSet>(*ds, test, recipe_);
  net_ = build_network(arch_, recipe_.input_shape(), 0, params_, "", net_options_);
}

Batch AudioTask::train_batch(const std::vector<int64_t>& idx, Rng& rng) {
  std::vector<int32_t> y(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) y[i] = train_->label(idx[i]);
  return {train_->batch(idx, augment_, rng, device_), Tensor(), labels_tensor(y, device_), {}, {}, {}};
}

Batch AudioTask::test_batch(const std::vector<int64_t>& idx, Rng& rng) { return degraded_test_batch(idx, rng, {}); }

void AudioTask::set_test_speeds(const std::vector<double>& speeds) {
  check_test_speeds(speeds);
  recipe_.test_speeds = speeds;
}

// A training augmentation's share of the training examples, checked: 0 to 1 (`what` names it).
static double checked_share(double share, const char* what) {
  DUET_CHECK(share >= 0 && share <= 1, what, ": a share of the training examples from 0 to 1, got ", share);
  return share;
}

void AudioTask::set_speed_range(double lo, double hi) {
  check_speed_range(lo, hi);
  augment_.speed_min = lo, augment_.speed_max = hi;
}

void AudioTask::set_warp_range(double lo, double hi) {
  check_warp_range(lo, hi);
  augment_.warp_min = lo, augment_.warp_max = hi;
}

void AudioTask::set_pink_share(double share) {
  augment_.pink_share = checked_share(share, "pink noise share");
}

void AudioTask::set_reverb_share(double share) {
  augment_.reverb_prob = checked_share(share, "reverberation share");
}

void AudioTask::set_cut_share(double share) {
  augment_.cut_prob = checked_share(share, "cut-word share");
}

void AudioTask::set_overdrive_share(double share) {
  augment_.overdrive_prob = checked_share(share, "overdrive share");
}

void AudioTask::set_click_share(double share) {
  augment_.click_prob = checked_share(share, "click share");
}

void AudioTask::set_lossy_share(double share) {
  augment_.lossy_prob = checked_share(share, "lossy-coding share");
}

// The recipe's test-time speeds, or the clip alone.
static std::vector<double> view_speeds(const AudioRecipe& r) {
  return r.test_speeds.empty() ? std::vector<double>{1.0} : r.test_speeds;
}

Batch AudioTask::degraded_test_batch(const std::vector<int64_t>& idx, Rng& rng, const ClipEffects& fx) {
  std::vector<int32_t> y(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) y[i] = test_->label(idx[i]);
  Batch b{Tensor(), Tensor(), labels_tensor(y, device_), {}, {}, {}};
  // One room per clip for all views (drawn only when there is a room: other rows keep their draws).
  const uint64_t room_seed = fx.rt60 > 0 ? rng.next_u64() : 0;
  for (double speed : view_speeds(recipe_)) {
    ClipEffects view = fx;
    view.room_seed = room_seed;
    view.speed = fx.speed * speed;  // a degradation's speed, then the view's
    Tensor x = test_->batch(idx, AudioAugment{}, rng, device_, std::vector<ClipEffects>(idx.size(), view));
    if (!b.audio.defined()) b.audio = x;
    else b.views.push_back(x);
  }
  return b;
}

Tensor AudioTask::forward(const Batch& b, bool training, uint64_t seed) {
  Tensor logits = net_->forward(norm_.apply(b.audio), training, seed);
  if (training || b.views.empty()) return logits;
  std::vector<Tensor> all{logits};
  for (const Tensor& v : b.views) all.push_back(net_->forward(norm_.apply(v), false, seed));
  return mean_log_probs(all, tiny_);
}

nlohmann::json AudioTask::config() const {
  nlohmann::json c = {{"model", "audio"}, {"arch", arch_}, {"audio", recipe_.to_json()},
                      {"input_shape", recipe_.input_shape()}, {"classes", 10}};
  if (!norm_.mean.empty()) c["normalizer"] = norm_.to_json();
  if (!net_options_.channels.empty()) c["channels"] = net_options_.channels;
  return c;
}

Batch AudioTask::input_for(const std::vector<float>& samples, int rate) const {
  return input_for(std::vector<std::vector<float>>{samples}, rate);
}

Batch AudioTask::input_for(const std::vector<std::vector<float>>& samples, int rate) const {
  DUET_CHECK(!samples.empty(), "input_for: no waveforms");
  std::vector<std::vector<float>> clips;
  for (const std::vector<float>& s : samples) {
    check_audible(s);
    clips.push_back(recipe_clip(s, rate, recipe_));
  }
  Batch b;
  for (double speed : view_speeds(recipe_)) {
    std::vector<float> x;
    for (const std::vector<float>& clip : clips) {
      const std::vector<float> one = fit_to_window(at_speed(clip, speed, recipe_.sample_rate), recipe_);
      x.insert(x.end(), one.begin(), one.end());
    }
    const int64_t n = int64_t(clips.size());
    Tensor w = Tensor::from_vector<float>(x, {n, int64_t(x.size()) / n}, device_);
    Tensor f = audio_features(w, recipe_);  // forward() applies the training-set normalisation
    if (!b.audio.defined()) b.audio = f;
    else b.views.push_back(f);
  }
  return b;
}

// ---- image ------------------------------------------------------------------------------------

ImageTask::ImageTask(const std::string& arch, data::Mnist train, data::Mnist test, int64_t train_limit, bool augment,
                     uint64_t seed, double noise)
    : arch_(arch) {
  DUET_CHECK(arch.rfind("image:", 0) == 0 && known_architecture(arch), "unknown image architecture '", arch, "' (",
             architecture_names("image:"), ")");
  DUET_CHECK(noise >= 0 && noise <= 1, "image noise augmentation: a share in [0, 1], got ", noise);
  augment_.enabled = augment;
  augment_.noise_prob = noise;
  augment_.occlude_prob = noise / 2;
  augment_.printed_prob = kDefaultPrinted;
  augment_.widen_prob = kDefaultWiden;
  augment_.thicken_prob = kDefaultThicken;
  std::tie(mean_, std_) = ImageSet::pixel_stats(train, train_limit);
  train_ = std::make_unique<ImageSet>(std::move(train), train_limit, mean_, std_);
  test_ = std::make_unique<ImageSet>(std::move(test), -1, mean_, std_);
  net_ = build_network(arch, {1, 28, 28}, seed, params_);
  test_shift_ = kDefaultTestShift;
}

ImageTask::ImageTask(const nlohmann::json& c, const data::Mnist* test) {
  arch_ = c.at("arch");
  mean_ = c.at("image").at("mean");
  std_ = c.at("image").at("std");
  // Folders saved before test-time shifts existed were evaluated on the picture alone.
  set_test_shift(c.at("image").value("test_shift", 0));
  if (test) test_ = std::make_unique<ImageSet>(*test, -1, mean_, std_);
  net_ = build_network(arch_, {1, 28, 28}, 0, params_);
}

void ImageTask::set_printed_share(double p) {
  augment_.printed_prob = checked_share(p, "printed digits");
}

void ImageTask::set_test_shift(int px) {
  check_test_shift(px);
  test_shift_ = px;
}

void ImageTask::set_lowres_share(double p) {
  augment_.lowres_prob = checked_share(p, "low-resolution digits");
}

void ImageTask::set_widen_share(double p) {
  augment_.widen_prob = checked_share(p, "wider digits");
}

void ImageTask::set_noise_max(double sigma) {
  DUET_CHECK(sigma >= kMinNoiseMax && sigma <= kMaxNoiseMax, "training pixel noise: a largest sigma in [", kMinNoiseMax,
             ", ", kMaxNoiseMax, "], got ", sigma);
  augment_.max_noise = sigma;
}

void ImageTask::set_thicken_share(double p) {
  augment_.thicken_prob = checked_share(p, "thicker strokes");
}

Batch ImageTask::train_batch(const std::vector<int64_t>& idx, Rng& rng) {
  std::vector<int32_t> y(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) y[i] = train_->label(idx[i]);
  return {Tensor(), train_->batch(idx, augment_, rng, device_), labels_tensor(y, device_), {}, {}, {}};
}

Batch ImageTask::test_batch(const std::vector<int64_t>& idx, Rng& rng) { return degraded_test_batch(idx, rng, {}); }

Batch ImageTask::degraded_test_batch(const std::vector<int64_t>& idx, Rng& rng, const ImageEffects& fx) {
  std::vector<int32_t> y(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) y[i] = test_->label(idx[i]);
  Batch b;
  b.labels = labels_tensor(y, device_);
  // The views move the degraded picture: what a reader of that picture could do.
  add_views(b, test_->batch(idx, ImageAugment{}, rng, Device::cpu, std::vector<ImageEffects>(idx.size(), fx)));
  return b;
}

void ImageTask::add_views(Batch& b, Tensor x, bool shifted) const {
  if (shifted && test_shift_ > 0)
    for (const Tensor& v : shifted_views(x, test_shift_, -mean_ / std_)) b.views.push_back(v.to(device_));
  b.image = x.to(device_);
}

Tensor ImageTask::forward(const Batch& b, bool training, uint64_t seed) {
  Tensor logits = net_->forward(b.image, training, seed);
  if (training || b.views.empty()) return logits;
  std::vector<Tensor> all{logits};
  for (const Tensor& v : b.views) all.push_back(net_->forward(v, false, seed));
  return mean_log_probs(all, tiny_);
}

nlohmann::json ImageTask::config() const {
  return {{"model", "image"}, {"arch", arch_}, {"image", {{"mean", mean_}, {"std", std_}, {"test_shift", test_shift_}}},
          {"input_shape", {1, 28, 28}}, {"classes", 10}};
}

Batch ImageTask::input_for(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes) const {
  return input_for(to_mnist_form(gray, w, h, notes));
}

Batch ImageTask::input_for(const std::vector<float>& digit28) const {
  Batch b;
  add_views(b, image_input(digit28, mean_, std_, Device::cpu));
  return b;
}

Batch ImageTask::input_for(const std::vector<std::vector<float>>& digits28, bool shifted) const {
  DUET_CHECK(!digits28.empty(), "input_for: no digits");
  std::vector<float> v;
  for (const std::vector<float>& d : digits28) {
    const std::vector<float> one = image_input(d, mean_, std_, Device::cpu).to_vector<float>();
    v.insert(v.end(), one.begin(), one.end());
  }
  Batch b;
  add_views(b, Tensor::from_vector<float>(v, {int64_t(digits28.size()), 1, 28, 28}, Device::cpu), shifted);
  return b;
}

}  // namespace duet::models
