// A training task: a network, its data, and how a batch becomes logits. The trainer
// (trainer.h) runs any task; unimodal tasks are here, fusion tasks in models/fusion.h.
#pragma once
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/params.h"
#include "models/audio_data.h"
#include "models/image_data.h"
#include "models/networks.h"

namespace duet::models {

struct Batch {
  Tensor audio, image;  // either may be undefined for a unimodal task
  Tensor labels;        // int32 [B] on the device
  std::vector<char> audio_missing, image_missing;  // fusion: inputs known to be absent
  // Test-time views of a unimodal task's input (audio: the clip at the other speeds of
  // AudioRecipe::test_speeds; image: the picture shifted, ImageTask::test_shift): the task's
  // forward averages the log-probabilities over the input and these when not training.
  std::vector<Tensor> views;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual int64_t train_size() const = 0;
  virtual int64_t test_size() const = 0;
  virtual int32_t test_label(int64_t i) const = 0;
  // What test example i is (a file path, "MNIST test #i") and the group it belongs to (audio: the
  // speaker; empty when there are no groups), for per-group accuracy and the list of errors.
  virtual std::string test_name(int64_t i) const;
  virtual std::string test_group(int64_t i) const { return (void)i, std::string(); }
  virtual Batch train_batch(const std::vector<int64_t>& idx, Rng& rng) = 0;
  virtual Batch test_batch(const std::vector<int64_t>& idx, Rng& rng) = 0;
  virtual Tensor forward(const Batch& b, bool training, uint64_t seed) = 0;  // logits [B, 10]
  // The training loss and the logits it was computed from (accuracy bookkeeping). By
  // default cross-entropy of forward(); fusion tasks add terms.
  virtual std::pair<Tensor, Tensor> loss(const Batch& b, uint64_t seed);
  // Called by the trainer before each epoch (fusion re-pairs its examples here).
  virtual void begin_epoch(int epoch, Rng& rng) { (void)epoch, (void)rng; }
  // Called once after the last epoch (late fusion fits its combination weight here).
  virtual void end_training(uint64_t seed) { (void)seed; }
  Parameters& params() { return params_; }
  // Everything needed to rebuild the model and its input pipeline (config.json).
  virtual nlohmann::json config() const = 0;
  Device device() const { return device_; }
  void to(Device d);  // packs the parameters into arenas on d (see Parameters::pack)

 protected:
  Device device_ = Device::cpu;
  Parameters params_;
};

// Per-feature-bin affine normalisation from training-set statistics: x -> (x - mean[m]) / std[m]
// for features [B, 1, M, T] (audio: per mel bin) or one scalar pair (images).
struct Normalizer {
  std::vector<float> mean, std;  // size M (or 1)
  Tensor apply(const Tensor& x) const;
  nlohmann::json to_json() const { return {{"mean", mean}, {"std", std}}; }
  static Normalizer from_json(const nlohmann::json& j);
  // Statistics over a batch of features [B, 1, M, T] per bin M.
  static Normalizer fit(const Tensor& features);
  mutable Tensor mean_t, scale_t;  // cached device tensors [1, 1, M, 1]
};

// Changes training can make to an audio recipe, for ablations and experiments: steps left out
// (--no-band-norm, --no-trim: false turns the step off where the recipe has it), the STFT
// size (--n-fft) and the high-pass cut-off (--highpass). The changed recipe is saved with the
// model, so eval and predict follow it.
struct RecipeSteps {
  bool band_norm = true;  // per-band mean removal
  bool trim = true;       // silence trimming
  int n_fft = 0;          // > 0: STFT size (the window spans it); 0: the recipe's own
  double highpass_hz = -1;  // >= 0: the high-pass cut-off (0: none) instead of the recipe's own
  std::optional<std::vector<double>> test_speeds;  // set: test-time speeds instead of the recipe's
};

class AudioTask : public Task {
 public:
  // train/test are indices into ds.recordings.
  AudioTask(const std::string& arch, const data::Fsdd& ds, const std::vector<int64_t>& train,
            const std::vector<int64_t>& test, bool augment, uint64_t seed, RecipeSteps steps = {},
            const NetworkOptions& net = {});
  // Rebuilds from config.json for evaluation/prediction (test set from the given indices).
  AudioTask(const nlohmann::json& config, const data::Fsdd* ds, const std::vector<int64_t>& test);
  int64_t train_size() const override { return train_ ? train_->size() : 0; }
  int64_t test_size() const override { return test_ ? test_->size() : 0; }
  int32_t test_label(int64_t i) const override { return test_->label(i); }
  std::string test_name(int64_t i) const override { return test_->path(i); }
  std::string test_group(int64_t i) const override { return test_->speaker(i); }
  Batch train_batch(const std::vector<int64_t>& idx, Rng& rng) override;
  Batch test_batch(const std::vector<int64_t>& idx, Rng& rng) override;
  // Logits [B, 10]; with test-time views (not training), the mean over the views of the
  // log-probabilities, whose softmax is the normalised geometric mean of their probabilities.
  Tensor forward(const Batch& b, bool training, uint64_t seed) override;
  nlohmann::json config() const override;
  Network& network() { return *net_; }
  const AudioRecipe& recipe() const { return recipe_; }
  // Model input for one waveform (any rate): features [1, 1, bins, frames] on the task's
  // device, with the test-time views, as test_batch makes them (forward normalises them).
  Batch input_for(const std::vector<float>& samples, int rate) const;
  // The same for several waveforms at once (features [N, 1, bins, frames], one forward for all).
  Batch input_for(const std::vector<std::vector<float>>& clips, int rate) const;
  // Evaluation and prediction play clips at these speeds (check_test_speeds; {1}: the clip
  // alone) instead of the recipe's; saved with the model when set before training ends.
  void set_test_speeds(const std::vector<double>& speeds);
  // The training's speed perturbation draws from [lo, hi] (0.5 <= lo <= hi <= 2; default
  // 0.85-1.18; 1, 1: none).
  void set_speed_range(double lo, double hi);
  std::pair<double, double> speed_range() const { return {augment_.speed_min, augment_.speed_max}; }
  // The training's vocal-tract length perturbation draws each clip's warp factor from
  // [lo, hi] (check_warp_range; default 1, 1: none).
  void set_warp_range(double lo, double hi);
  std::pair<double, double> warp_range() const { return {augment_.warp_min, augment_.warp_max}; }
  bool warps() const { return augment_.warps(); }
  // The share (0..1) of the training's noisy clips whose noise is pink rather than white
  // (default 0: all white).
  void set_pink_share(double share);
  double pink_share() const { return augment_.pink_share; }
  // The share (0..1) of training clips heard in a room drawn at random (AudioAugment::reverb_prob;
  // only with augment). audio:duet's default is kDefaultReverb (docs/training.md, Rooms).
  static constexpr double kDefaultReverb = 0.3;
  void set_reverb_share(double share);
  double reverb_share() const { return augment_.reverb_prob; }
  // The share (0..1) of training clips whose word is cut at its start or end (AudioAugment::
  // cut_prob; only with augment; default 0).
  void set_cut_share(double share);
  double cut_share() const { return augment_.cut_prob; }
  // The share (0..1) of training clips overdriven into clipping (AudioAugment::overdrive_prob;
  // only with augment). audio:duet's default is kDefaultOverdrive (docs/training.md, Clipping).
  static constexpr double kDefaultOverdrive = 0.3;
  void set_overdrive_share(double share);
  double overdrive_share() const { return augment_.overdrive_prob; }
  // The share (0..1) of training clips with a click near the word (AudioAugment::click_prob;
  // only with augment). audio:duet's default is kDefaultClicks (docs/training.md, Clicks).
  static constexpr double kDefaultClicks = 0.3;
  void set_click_share(double share);
  double click_share() const { return augment_.click_prob; }
  // The share (0..1) of training clips heard as a low-bitrate coder returns them
  // (AudioAugment::lossy_prob; only with augment; default 0).
  void set_lossy_share(double share);
  double lossy_share() const { return augment_.lossy_prob; }
  // Test batch with per-clip effects (robustness evaluation).
  Batch degraded_test_batch(const std::vector<int64_t>& idx, Rng& rng, const ClipEffects& fx);
  Normalizer& normalizer() { return norm_; }

 private:
  std::string arch_;
  NetworkOptions net_options_;  // resolved (audio:duet's channel counts filled in)
  AudioRecipe recipe_;
  AudioAugment augment_;
  Normalizer norm_;
  std::unique_ptr<AudioSet> train_, test_;
  std::unique_ptr<Network> net_;
  Tensor tiny_;  // 1e-30 on the device, for forward's average of the views' log-probabilities
};

class ImageTask : public Task {
 public:
  // noise: the share of training images that get pixel noise (sigma 0-1); half as many get a
  // 4-14 px square blanked (ImageAugment; only with augment).
  ImageTask(const std::string& arch, data::Mnist train, data::Mnist test, int64_t train_limit, bool augment,
            uint64_t seed, double noise = 0);
  ImageTask(const nlohmann::json& config, const data::Mnist* test);
  int64_t train_size() const override { return train_ ? train_->size() : 0; }
  int64_t test_size() const override { return test_ ? test_->size() : 0; }
  int32_t test_label(int64_t i) const override { return test_->label(i); }
  std::string test_name(int64_t i) const override;
  Batch train_batch(const std::vector<int64_t>& idx, Rng& rng) override;
  Batch test_batch(const std::vector<int64_t>& idx, Rng& rng) override;
  Tensor forward(const Batch& b, bool training, uint64_t seed) override;
  nlohmann::json config() const override;
  Network& network() { return *net_; }
  float pixel_mean() const { return mean_; }
  float pixel_std() const { return std_; }
  Batch degraded_test_batch(const std::vector<int64_t>& idx, Rng& rng, const ImageEffects& fx);
  // The share of training images replaced by a stroke-drawn printed digit of the same class
  // (ImageAugment::printed_prob, 0 to 1; only with augment). image:duet's default is
  // kDefaultPrinted (docs/training.md, Printed digits in training).
  static constexpr double kDefaultPrinted = 0.1;
  void set_printed_share(double p);
  double printed_share() const { return augment_.printed_prob; }
  // The share of training images seen at low resolution, the digit 6-14 pixels along its
  // longer side (ImageAugment::lowres_prob, 0 to 1; only with augment).
  void set_lowres_share(double p);
  double lowres_share() const { return augment_.lowres_prob; }
  // The share of training digits drawn wider, up to a square ink box (ImageAugment::widen_prob,
  // 0 to 1; only with augment). image:duet's default is kDefaultWiden (docs/training.md,
  // Wider digits).
  static constexpr double kDefaultWiden = 0.1;
  void set_widen_share(double p);
  double widen_share() const { return augment_.widen_prob; }
  // The share of training digits drawn with thicker strokes (ImageAugment::thicken_prob, 0 to
  // 1; only with augment). image:duet's default is kDefaultThicken (docs/training.md, Pen width).
  static constexpr double kDefaultThicken = 0.3;
  void set_thicken_share(double p);
  double thicken_share() const { return augment_.thicken_prob; }
  // The largest sigma of the training pixel noise (ImageAugment::max_noise, pixel units, in
  // [kMinNoiseMax, kMaxNoiseMax]; default 1; each noisy image draws its sigma from 0 to this).
  static constexpr double kMinNoiseMax = 0.05, kMaxNoiseMax = 2;
  void set_noise_max(double sigma);
  double noise_max() const { return augment_.max_noise; }
  // Model input for one picture of a digit (any size, any polarity), with the test-time views,
  // as test_batch makes them; `notes`, when given, says what the preparation did (to_mnist_form).
  Batch input_for(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes = nullptr) const;
  // The same for a digit already in MNIST form (28x28 in [0, 1]: one of number_digits' digits).
  Batch input_for(const std::vector<float>& digit28) const;
  // The same for several digits at once ([N, 1, 28, 28], one forward for all); without `shifted`,
  // each picture alone (no test-time views: cut_touching's candidate parts, cli::part_reader).
  Batch input_for(const std::vector<std::vector<float>>& digits28, bool shifted = true) const;
  // Evaluation and prediction also read each picture moved by this many pixels right, left,
  // down and up (shifted_views) and average the five readings' log-probabilities; 0: the
  // picture alone. Saved with the model; new trainings use kDefaultTestShift, folders saved
  // before it existed read 0. check_test_shift says what is accepted.
  static constexpr int kDefaultTestShift = 1;
  void set_test_shift(int px);
  int test_shift() const { return test_shift_; }

 private:
  std::string arch_;
  float mean_ = 0, std_ = 1;
  int test_shift_ = 0;
  ImageAugment augment_;
  std::unique_ptr<ImageSet> train_, test_;
  std::unique_ptr<Network> net_;
  Tensor tiny_;  // as AudioTask's
  // The input (a CPU batch [B, 1, 28, 28]) and its test-time views, on the task's device.
  void add_views(Batch& b, Tensor x, bool shifted = true) const;
};

// Shared by tasks: labels of a batch as an int32 tensor on the device.
Tensor labels_tensor(const std::vector<int32_t>& labels, Device d);

}  // namespace duet::models
