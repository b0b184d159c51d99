// Fusion of the written and the spoken digit.
//
// Each training clip of FSDD is paired with an MNIST *training* image of the same digit,
// each test clip with an MNIST *test* image (pairing never crosses train and test), by a
// seeded draw; training pairs are drawn anew every epoch (augmentation).
//
// Strategies (--fusion):
//   early      the image, resampled onto the spectrogram's grid, is a second input channel
//              of one audio-style CNN.
//   concat     audio encoder features (64) ++ image encoder features (128) -> MLP head.
//   attention  each modality's features are projected to 64-d (linearly: with a ReLU there,
//              a branch whose 64 units all go negative stays dead for good; the audio
//              branch of one --hard run on a GPU ended answering one class for every
//              input, which is what that looks like); a scorer gives each a score,
//              a softmax over the two scores gives per-sample weights (alpha_audio +
//              alpha_image = 1), and the head sees alpha_a h_a + alpha_i h_i.
//   late       one classifier per modality; their class probabilities are combined by the
//              mean, by a weight fitted on held-out training pairs, or by a confidence rule
//              (follow the more confident modality when they disagree). A modality known to
//              be missing contributes nothing.
// concat and attention also train a small head per modality (auxiliary losses), which gives
// per-modality predictions for the disagreement analysis; early fusion gets them by blanking
// the other input. Modality dropout blanks one input (silence / an empty image) at random
// during training so that a missing modality is survivable; training also adds random noise
// to either modality so that the fusion learns which one to trust.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "models/task.h"
#include "models/trainer.h"

namespace duet::models {

struct FusionOptions {
  std::string init_audio, init_image;  // model folders of trained unimodal models (optional)
  double modality_dropout = 0.3;       // probability that one of the two inputs is blanked
  double noise_prob = 0.25;            // probability of random noise on each modality in training
  int pairs_per_clip = 3;              // an epoch pairs every training clip with this many images
  bool repair_each_epoch = true;
  bool hard = false;                   // the AV-MNIST-style benchmark (see Degradation::hard)
  double hard_energy = 0.25;           // hard: images keep this share of their PCA energy
  double hard_snr_db = -10.0;          // hard: white noise at this SNR on every clip
  // Channel counts of the audio encoder's conv blocks (audio:duet's, see NetworkOptions); empty:
  // those of the --init-audio model, else audio:duet's default.
  std::vector<int64_t> audio_channels;
  // The image encoder's network: the --init-image model's (image:duet or image:vgg), else
  // image:duet. Models written before it was recorded load as image:duet, as they were trained.
  std::string image_arch;
  // attention: a ReLU after the 64-d projections. Models written before the projection became
  // linear say nothing in config.json and load with it, as they were trained.
  bool relu_projection = false;
};

// For every label in `labels`, the index of an image with the same label in `image_labels`,
// drawn without replacement until a digit's images run out (then reused).
std::vector<int64_t> pair_by_label(const std::vector<int32_t>& labels, const std::vector<uint8_t>& image_labels,
                                   Rng& rng);

// Degradations applied to test pairs (robustness evaluation).
struct Degradation {
  std::string name = "clean";
  ImageEffects image;
  ClipEffects audio;
};
std::vector<Degradation> standard_degradations();
// The rows of standard_degradations() that degrade one modality ("audio" or "image") without
// removing it, clean first: what a model of that modality alone is evaluated under
// (duet eval --robustness). Audio adds rows of its own: pink noise at 10 and 0 dB SNR, and
// every clip played at speed 0.87 and 1.15 (slower and lower, faster and higher: a stand-in
// for voices with longer or shorter vocal tracts than the training speakers'), and every clip
// recorded in a room (reverberation time 0.5 s at 6 dB direct-to-reverberant ratio, and 1 s at
// 0 dB), and recordings that start late or stop early, a quarter of the word cut off at its
// start or at its end (cut_word). Image adds a photograph of the digit under uneven light and
// the digit at low resolution (8 pixels along its longer side).
std::vector<Degradation> degradations_of(const std::string& modality);
// Accuracy of an audio or image model on its test set with every example degraded by `d`
// (the effects of d's own modality; an effect on the other one is an error). The noise and
// occlusions are drawn from `seed`, so a result is reproducible.
EvalResult evaluate_degraded(Task& task, const Degradation& d, int64_t eval_batch, uint64_t seed);

struct FusionOutputs {
  Tensor fused;         // logits (or log-probabilities) [B, 10]
  Tensor audio, image;  // per-modality logits [B, 10]
  Tensor alpha;         // attention weights [B, 2] (audio, image); attention only
  std::vector<std::pair<std::string, Tensor>> late;  // late: each rule's log-probabilities
};

class FusionTask : public Task {
 public:
  FusionTask(const std::string& arch, const data::Fsdd& ds, const data::Split& split, const std::string& data_dir,
             bool augment, uint64_t seed, const FusionOptions& opts);
  // From config.json; with ds (and data_dir) the test pairs are rebuilt, else only single() works.
  FusionTask(const nlohmann::json& config, const data::Fsdd* ds, const data::Split& split, const std::string& data_dir);

  int64_t train_size() const override { return int64_t(train_clips_.size()) * int64_t(train_pairs_.size()); }
  int64_t test_size() const override { return int64_t(test_pairs_.size()); }
  int32_t test_label(int64_t i) const override { return test_audio_->label(i); }
  std::string test_name(int64_t i) const override;  // "CLIP.wav + MNIST test #J"
  std::string test_group(int64_t i) const override { return test_audio_->speaker(i); }
  Batch train_batch(const std::vector<int64_t>& idx, Rng& rng) override;
  Batch test_batch(const std::vector<int64_t>& idx, Rng& rng) override;
  Tensor forward(const Batch& b, bool training, uint64_t seed) override;
  std::pair<Tensor, Tensor> loss(const Batch& b, uint64_t seed) override;
  void begin_epoch(int epoch, Rng& rng) override;
  void end_training(uint64_t seed) override;
  nlohmann::json config() const override;

  const std::string& strategy() const { return strategy_; }
  const AudioRecipe& recipe() const { return recipe_; }
  bool hard() const { return opts_.hard; }
  Batch degraded_test_batch(const std::vector<int64_t>& idx, Rng& rng, const Degradation& d);
  FusionOutputs outputs(const Batch& b, bool training = false, uint64_t seed = 0);
  double late_weight() const { return late_weight_; }
  // Inputs for one recording and/or one picture; a null pointer is a missing modality.
  Batch single(const std::vector<float>* samples, int rate, const std::vector<uint8_t>* gray, int w, int h);
  const std::vector<int64_t>& test_pairs() const { return test_pairs_; }

 private:
  void build(uint64_t seed);
  void init_from(const std::string& dir, const std::string& prefix);
  // clips[k] (an index into `audio`) is paired with images[k] (an index into `image_set`).
  Batch make_batch(const AudioSet& audio, const ImageSet& image_set, const std::vector<int64_t>& clips,
                   const std::vector<int64_t>& images, Rng& rng, bool train, const Degradation& d);
  void pair_training_clips(Rng& rng);
  Batch assemble(Tensor audio_features, Tensor images_cpu, const std::vector<int32_t>& labels,
                 std::vector<char> audio_missing, std::vector<char> image_missing);
  std::vector<std::pair<std::string, Tensor>> late_rules(const Tensor& la, const Tensor& li, const Batch& b);
  void setup_hard(const ImageSet& reference);

  std::string strategy_;
  FusionOptions opts_;
  AudioRecipe recipe_;
  AudioAugment audio_aug_;
  ImageAugment image_aug_;
  Normalizer norm_;
  float pixel_mean_ = 0, pixel_std_ = 1;
  std::vector<float> pca_basis_, pca_mean_;  // hard mode
  uint64_t seed_ = 0;
  std::unique_ptr<AudioSet> train_audio_, test_audio_;
  std::unique_ptr<ImageSet> train_images_, test_images_;
  std::vector<std::vector<int64_t>> train_pairs_;  // [round][clip]: image paired with each training clip
  std::vector<int64_t> test_pairs_;                // image paired with each test clip
  std::vector<int64_t> train_clips_, heldout_;     // late fusion fits its weight on held-out clips
  double late_weight_ = 0.5;                       // weight of the audio probabilities

  std::unique_ptr<Network> audio_net_, image_net_, early_net_;
  Linear proj_a_, proj_i_, score_a_, score_i_, head1_, head2_, aux_a_, aux_i_;
  mutable Tensor pick_audio_, pick_image_;  // constant [1, 2] selectors of alpha's columns
};

std::unique_ptr<Task> make_fusion_task(const std::string& arch, const data::Fsdd& ds, const data::Split& split,
                                       const std::string& data_dir, bool augment, uint64_t seed,
                                       const FusionOptions& opts);
std::unique_ptr<Task> load_fusion_task(const nlohmann::json& config, const data::Fsdd* ds, const data::Split& split,
                                       const std::string& data_dir);

}  // namespace duet::models
