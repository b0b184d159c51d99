// duet train: the training loop of any model, its outputs, and leave-one-speaker-out runs.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "engine/error.h"
#include "models/datasets.h"
#include "models/fusion.h"
#include "models/image_data.h"
#include "models/trainer.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/model_dir.h"
#include "tools/progress.h"
#include "tools/report.h"
#include "tools/resume.h"

namespace fs = std::filesystem;

namespace duet::cli {
namespace {

struct Defaults {
  std::string arch;
  int epochs;
  int64_t batch;
  double lr, momentum, weight_decay;
  std::string schedule;
  bool augment;
};

Defaults defaults_for(const std::string& model, const std::string& arch_flag) {
  const std::string arch = !arch_flag.empty() ? arch_flag
                           : model == "audio" ? "audio:duet"
                           : model == "image" ? "image:vgg"
                                              : "fusion:attention";
  DUET_CHECK(arch.rfind(model + ":", 0) == 0, "--arch ", arch, model == "fusion" ? " is not a " : " is not an ", model,
             " architecture");
  if (arch == "audio:seed") return {arch, 30, 32, 0.001, 0.9, 0.0, "constant", false};  // the course's recipe
  if (arch == "audio:duet") return {arch, 40, 32, 0.03, 0.9, 5e-4, "cosine", true};
  // One image recipe; image:vgg's learning rate is half image:duet's: at 0.05 one short epoch can miss the CPU floor
  // (docs/training.md, A deeper image network).
  if (model == "image" && models::known_architecture(arch))
    return {arch, 20, 64, arch == "image:vgg" ? 0.025 : 0.05, 0.9, 5e-4, "cosine", true};
  if (model == "fusion") {
    const std::string strategy = arch.substr(7);
    DUET_CHECK(strategy == "early" || strategy == "concat" || strategy == "attention" || strategy == "late",
               "unknown fusion strategy '", strategy, "' (early, concat, attention or late)");
    return {arch, 15, 32, 0.03, 0.9, 5e-4, "cosine", true};
  }
  fail("unknown architecture '", arch, "'");
}

const char* kUsage =
    "usage: duet train --model audio|image|fusion [--arch NAME] [--split random|official|speaker:NAME|loso]\n"
    "                  [--epochs N] [--batch N] [--lr X] [--momentum X] [--weight-decay X] [--nesterov]\n"
    "                  [--schedule constant|cosine] [--no-augment] [--device cuda|cpu] [--seed N]\n"
    "                  [--average-last N] (end with the average of the weights after each of the last N\n"
    "                  epochs, N >= 2, batch-norm statistics recomputed; default 0: off)\n"
    "                  audio and image: [--mixup A] (blend pairs of examples, lambda ~ Beta(A, A); 0: off)\n"
    "                  [--extra FOLDER] (your own labelled recordings or pictures added to the training\n"
    "                  set, named as for duet eval --inputs: 7_mine_1.wav, 3_me.png; after --train-limit)\n"
    "                  image: [--augment-noise P] (share of training images given pixel noise, sigma 0-1,\n"
    "                  and half as many a 4-14 px square blanked; default 0)\n"
    "                  [--augment-noise-max SIGMA] (with --augment-noise: the noise's sigma drawn from\n"
    "                  0-SIGMA instead, 0.05-2; default 1)\n"
    "                  [--printed P] (share of training images replaced by a stroke-drawn printed\n"
    "                  digit of the same class: duet fonts --strokes N shows them; default 0.1)\n"
    "                  [--lowres P] (share of training images seen at low resolution, the digit 6-14\n"
    "                  pixels along its longer side, enlarged again; default 0)\n"
    "                  [--widen P] (share of training digits narrower than tall stretched across, part\n"
    "                  of the way to a square box, as sets that fill each digit's box store them; default 0.1)\n"
    "                  [--thicken P] (share of training digits drawn with strokes up to 3 px wider, as a\n"
    "                  marker draws them; default 0.3)\n"
    "                  [--test-shift PX] (evaluate each picture also moved PX pixels right, left, down\n"
    "                  and up and average the log-probabilities; default 1, 0: the picture alone)\n"
    "                  audio only: [--no-band-norm] [--no-trim] (leave out per-band mean removal or\n"
    "                  silence trimming: ablations of those steps); audio:duet: [--n-fft N] (STFT size, 64-2048)\n"
    "                  [--highpass HZ] (remove each clip's DC offset and what lies below HZ Hz, 0-1000, before\n"
    "                  anything else; default 0: off)\n"
    "                  audio:duet and fusion: [--channels C1,C2,...] (one 3x3 conv block per count, 1 to 5;\n"
    "                  default 16,32,64,64)\n"
    "                  audio: [--test-speeds LIST] (evaluate each clip at these speeds and average the\n"
    "                  log-probabilities; audio:duet default 0.92,1,1.08, audio:seed 1: the clip alone)\n"
    "                  [--speed-range MIN,MAX] (the training's speed perturbation; default 0.85,1.18)\n"
    "                  [--vtlp MIN,MAX] (vocal-tract length perturbation: each training clip's spectrum\n"
    "                  warped along the frequency axis by a factor from MIN-MAX, 0.7-1.4; default off)\n"
    "                  [--pink-noise P] (share of the noisy training clips whose noise is pink, 1/f,\n"
    "                  rather than white; default 0)\n"
    "                  [--reverb P] (share of training clips heard in a random room: reverberation\n"
    "                  time 0.2-1 s, direct-to-reverberant ratio -3 to 12 dB; audio:duet default 0.3)\n"
    "                  [--cut-word P] (share of training clips whose word loses up to 30% at its start\n"
    "                  or end, as a recording started late or stopped early; default 0)\n"
    "                  [--overdrive P] (share of training clips amplified until their peak lies 0-24 dB\n"
    "                  above full scale, and clipped there, as an input turned up too far; audio:duet default 0.3)\n"
    "                  [--clicks P] (share of training clips with a click of 1-6 ms up to 0.15 s before or after\n"
    "                  the word, as a key that starts or stops a recording; audio:duet default 0.3)\n"
    "                  [--lossy P] (share of training clips heard as a low-bitrate coder (MP3, AAC at\n"
    "                  8-16 kbit/s) returns them: coarse quantisation in frames of 16-128 ms, no top band; default 0)\n"
    "                  [--train-limit N] [--test-fraction F] [--data DIR] [--out DIR]\n"
    "                  fusion only: [--fusion early|concat|attention|late] [--init-audio DIR] [--init-image DIR]\n"
    "                  [--modality-dropout P] [--hard [--hard-snr DB] [--hard-energy F]]\n"
    "                  [--stop-after N] (stop after epoch N, as if interrupted, to go on later with --resume)\n"
    "                  [--profile] (time every op's forward and backward, and the batch and optimizer, over\n"
    "                  the training steps: a table at the end and OUT/profile.csv; on a GPU each op waits\n"
    "                  for the GPU, so a profiled training runs slower)\n"
    "       duet train --resume DIR [--device cuda|cpu] [--data DIR] [--stop-after N]\n"
    "                  (go on with the interrupted training in DIR from its last finished epoch; the\n"
    "                  flags come from DIR/run.json; on the CPU the result equals an unbroken run's)\n"
    "architectures: audio:seed (the course CNN and recipe), audio:duet (default), image:vgg (default: four\n"
    "               conv layers with batch norm, lr 0.025), image:duet (two conv layers, lr 0.05: faster),\n"
    "               fusion:early|concat|attention|late (default attention)\n"
    "Writes OUT/metrics.csv, curves.png, confusion.png, errors.csv (misclassified test examples),\n"
    "predictions.csv (every test example's class probabilities), model.safetensors and config.json\n"
    "(default OUT: runs/<model>; with --profile also profile.csv). --split loso trains the 6\n"
    "leave-one-speaker-out folds in OUT/loso-<speaker>.\n"
    "--hard (fusion): the AV-MNIST-style benchmark: images keep 25% of their PCA energy (--hard-energy),\n"
    "clips carry white noise at -10 dB SNR (--hard-snr).\n";

struct RunSpec {
  std::string model, arch, split, data_dir, out;
  double test_fraction;
  int64_t train_limit;
  bool augment;
  double augment_noise;  // image: share of training images given pixel noise (and half as many an occlusion)
  std::optional<double> augment_noise_max;  // image: --augment-noise-max SIGMA
  models::RecipeSteps steps;
  std::optional<std::pair<double, double>> speed_range;  // audio: --speed-range MIN,MAX
  std::optional<std::pair<double, double>> vtlp;         // audio: --vtlp MIN,MAX
  double pink_noise = 0;                                  // audio: --pink-noise P
  std::optional<double> reverb;                           // audio: --reverb P
  double cut_word = 0;                                    // audio: --cut-word P
  std::optional<double> overdrive;                        // audio: --overdrive P
  std::optional<double> clicks;                           // audio: --clicks P
  double lossy = 0;                                       // audio: --lossy P
  std::optional<double> printed;                          // image: --printed P
  double lowres = 0;                                      // image: --lowres P
  std::optional<double> widen;                            // image: --widen P
  std::optional<double> thicken;                          // image: --thicken P
  std::string extra;                                      // audio, image: --extra FOLDER (absolute)
  std::optional<int> test_shift;                          // image: --test-shift PX
  models::NetworkOptions net;
  uint64_t seed;
  Device device;
  models::TrainOptions opts;
  models::FusionOptions fusion;
  Argv args;            // the command's flags without --out, --resume and --stop-after (OUT/run.json)
  std::string resume_dir;  // the folder --resume goes on with after an interrupt (LOSO: the root)
  bool resume = false;  // continue from OUT/resume.safetensors (or from the start when it has none)
  bool profile = false;  // --profile: per-op times of the training steps (OUT/profile.csv)
};

// --extra FOLDER, audio: the folder's labelled recordings join the training set after FSDD's
// (and after --train-limit), read as FSDD's are (resampled, trimmed; a silent one is an error
// naming it). Their speaker is "extra" (they are never test clips). Returns how many joined.
int64_t add_extra_clips(data::Fsdd& ds, data::Split& s, const std::string& folder) {
  const std::vector<LabelledInput> inputs = labelled_inputs(folder, "audio", "--extra", false);  // noted when checked
  for (const LabelledInput& in : inputs) {
    s.train.push_back(int64_t(ds.recordings.size()));
    ds.recordings.push_back({in.path, in.label, "extra", 0});
  }
  return int64_t(inputs.size());
}

// --extra FOLDER, image: the folder's labelled pictures, each brought to MNIST form as duet
// predict brings a picture (a blank one is an error naming it), join MNIST's training images
// (the first `limit` of them when limit >= 0). Returns how many joined.
int64_t add_extra_pictures(data::Mnist& m, int64_t limit, const std::string& folder) {
  DUET_CHECK(m.rows == 28 && m.cols == 28, "--extra: the training images are ", m.rows, "x", m.cols,
             ", not MNIST's 28x28");
  if (limit >= 0 && limit < m.count) {
    m.count = limit;
    m.pixels.resize(size_t(limit) * 28 * 28);
    m.labels.resize(size_t(limit));
  }
  const std::vector<LabelledInput> inputs = labelled_inputs(folder, "image", "--extra", false);  // noted when checked
  for (const LabelledInput& in : inputs) {
    std::vector<float> digit;
    try {
      int w = 0, h = 0;
      const std::vector<uint8_t> gray = models::load_gray_image(in.path, &w, &h);
      digit = models::to_mnist_form(gray, w, h);
    } catch (const Error& e) {
      fail("--extra: ", in.path, ": ", e.what());
    }
    for (float v : digit) m.pixels.push_back(uint8_t(std::lround(255 * std::clamp(v, 0.0f, 1.0f))));
    m.labels.push_back(uint8_t(in.label));
    ++m.count;
  }
  return int64_t(inputs.size());
}

std::unique_ptr<models::Task> make_task(const RunSpec& r, nlohmann::json& split_info) {
  if (r.model == "image") {
    DUET_CHECK(r.split == "random" || r.split == "mnist", "--split applies to audio and fusion; image models use "
               "MNIST's own train/test sets");
    split_info = {{"split", "mnist"}};
    data::Mnist train = data::load_mnist(r.data_dir, "train");
    int64_t limit = r.train_limit;
    if (!r.extra.empty()) {
      const int64_t added = add_extra_pictures(train, limit, r.extra);
      limit = -1;  // applied to MNIST's images, not to the extra ones
      split_info["extra"] = r.extra;
      split_info["extra_size"] = added;
    }
    auto t = std::make_unique<models::ImageTask>(r.arch, std::move(train), data::load_mnist(r.data_dir, "test"), limit,
                                                 r.augment, r.seed, r.augment_noise);
    if (r.printed) t->set_printed_share(*r.printed);
    t->set_lowres_share(r.lowres);
    if (r.widen) t->set_widen_share(*r.widen);
    if (r.thicken) t->set_thicken_share(*r.thicken);
    if (r.augment_noise_max) t->set_noise_max(*r.augment_noise_max);
    if (r.test_shift) t->set_test_shift(*r.test_shift);
    return t;
  }
  data::Fsdd ds = data::load_fsdd(r.data_dir);
  data::Split s = data::make_split(ds, r.split, r.test_fraction, r.seed);
  if (r.train_limit >= 0 && r.train_limit < int64_t(s.train.size())) s.train.resize(r.train_limit);
  const int64_t added = r.extra.empty() ? 0 : add_extra_clips(ds, s, r.extra);
  split_info = {{"split", r.split}, {"test_fraction", r.test_fraction}, {"seed", r.seed},
                {"train_size", s.train.size()}, {"test_size", s.test.size()}};
  if (!r.extra.empty()) {
    split_info["extra"] = r.extra;
    split_info["extra_size"] = added;
  }
  if (r.model == "audio") {
    auto t = std::make_unique<models::AudioTask>(r.arch, ds, s.train, s.test, r.augment, r.seed, r.steps, r.net);
    if (r.speed_range) t->set_speed_range(r.speed_range->first, r.speed_range->second);
    if (r.vtlp) t->set_warp_range(r.vtlp->first, r.vtlp->second);
    t->set_pink_share(r.pink_noise);
    if (r.reverb) t->set_reverb_share(*r.reverb);
    t->set_cut_share(r.cut_word);
    if (r.overdrive) t->set_overdrive_share(*r.overdrive);
    if (r.clicks) t->set_click_share(*r.clicks);
    t->set_lossy_share(r.lossy);
    return t;
  }
  return models::make_fusion_task(r.arch, ds, s, r.data_dir, r.augment, r.seed, r.fusion);
}

// config.json's "train": how r trains `task` (optimiser, schedule, augmentation, seed, device).
nlohmann::json train_config(const RunSpec& r, const models::Task& task) {
  nlohmann::json t = {{"epochs", r.opts.epochs},      {"batch", r.opts.batch},
                      {"lr", r.opts.sgd.lr},          {"momentum", r.opts.sgd.momentum},
                      {"weight_decay", r.opts.sgd.weight_decay}, {"nesterov", r.opts.sgd.nesterov},
                      {"schedule", r.opts.schedule},  {"augment", r.augment},
                      {"augment_noise", r.augment_noise}, {"mixup", r.opts.mixup},
                      {"average_last", r.opts.average_last}, {"seed", r.seed},
                      {"device", to_string(r.device)}, {"train_limit", r.train_limit}};
  if (const auto* a = dynamic_cast<const models::AudioTask*>(&task); a && r.augment) {
    t["speed_range"] = {a->speed_range().first, a->speed_range().second};
    t["pink_noise"] = a->pink_share();
    t["reverb"] = a->reverb_share();
    t["cut_word"] = a->cut_share();
    t["overdrive"] = a->overdrive_share();
    // Written when in use only, as vtlp: with --clicks 0 the recipe is that of a training
    // started before --clicks existed.
    if (a->click_share() > 0) t["clicks"] = a->click_share();
    if (a->lossy_share() > 0) {
      t["lossy"] = a->lossy_share();  // likewise, before --lossy
      // The coder hears the noise too: a --lossy training started when it coded the clean clip
      // (no lossy_after_noise in its recipe) is not resumed with this duet's.
      t["lossy_after_noise"] = true;
    }
    // Written when in use only (absent means none): the recipe of a training started before
    // --vtlp existed still matches its flags on --resume.
    if (a->warps()) t["vtlp"] = {a->warp_range().first, a->warp_range().second};
  }
  if (const auto* i = dynamic_cast<const models::ImageTask*>(&task); i && r.augment) {
    t["printed"] = i->printed_share();
    t["lowres"] = i->lowres_share();
    // Written when in use only (absent means 0): with --widen 0 the recipe of a training
    // started before --widen existed still matches its flags on --resume.
    if (i->widen_share() > 0) t["widen"] = i->widen_share();
    if (i->thicken_share() > 0) t["thicken"] = i->thicken_share();  // likewise, before --thicken
    // Likewise, before --augment-noise-max: written when it differs from the default.
    if (i->noise_max() != models::ImageAugment{}.max_noise) t["augment_noise_max"] = i->noise_max();
  }
  return t;
}

// run.json's "recipe": what the model r trains depends on besides the data and the seed, as this
// duet makes it from r's flags (defaults included): the model's configuration without what is
// measured from the training data (normalisation statistics, the hard benchmark's PCA basis) and
// the training block without the device, which --resume may change.
nlohmann::json run_recipe(const RunSpec& r, const models::Task& task) {
  nlohmann::json model = task.config();
  for (const char* measured : {"normalizer", "late_weight"}) model.erase(measured);
  if (model.contains("image")) {
    model["image"].erase("mean");
    model["image"].erase("std");
  }
  if (model.contains("fusion")) {
    model["fusion"].erase("pca_basis");
    model["fusion"].erase("pca_mean");
  }
  nlohmann::json train = train_config(r, task);
  train.erase("device");
  return {{"model", model}, {"train", train}};
}

// Trains r into r.out and returns the final test evaluation; nothing when --stop-after stopped
// the training first (r.out then holds what --resume continues from).
std::optional<models::EvalResult> run_one(const RunSpec& r, const std::string& label) {
  nlohmann::json split_info;
  std::unique_ptr<models::Task> task = make_task(r, split_info);
  task->to(r.device);
  const nlohmann::json recipe = run_recipe(r, *task);
  std::optional<models::TrainState> state;
  if (r.resume) {
    if (saved_epochs(r.out) > 0) check_same_recipe(r.out, read_run_record(r.out).recipe, recipe);
    state = load_train_state(r.out, *task);
    if (state) try {
        models::check_resume_state(*state, r.opts, task->train_size());
      } catch (const Error& e) {
        fail(r.out, "/resume.safetensors: ", e.what());
      }
  } else {
    if (const int done = saved_epochs(r.out); done > 0)
      std::printf("%s: %s held an unfinished training (%d epoch%s done); starting a new one over it\n", label.c_str(),
                  r.out.c_str(), done, done == 1 ? "" : "s");
    else if (done < 0)
      std::printf("%s: %s/resume.safetensors could not be read; starting a new training over it\n", label.c_str(),
                  r.out.c_str());
    remove_train_state(r.out);
  }
  write_run_record(r.out, {r.args, false, recipe});
  const auto* audio_task = dynamic_cast<const models::AudioTask*>(task.get());
  const auto* image_task = dynamic_cast<const models::ImageTask*>(task.get());
  std::printf("%s: %s on %s, %lld train / %lld test, %lld parameters, %d epochs, batch %lld, lr %g (%s), momentum %g\n",
              label.c_str(), r.arch.c_str(), to_string(r.device).c_str(), (long long)task->train_size(),
              (long long)task->test_size(), (long long)task->params().count(), r.opts.epochs, (long long)r.opts.batch,
              double(r.opts.sgd.lr), r.opts.schedule.c_str(), double(r.opts.sgd.momentum));
  if (!r.extra.empty())
    std::printf("  extra: %lld %s from %s added to the training set\n",
                (long long)split_info.value("extra_size", int64_t(0)), r.model == "audio" ? "recordings" : "pictures",
                r.extra.c_str());
  if (r.opts.mixup > 0)
    std::printf("  mixup: each batch blended with a partner, lambda ~ Beta(%g, %g)\n", r.opts.mixup, r.opts.mixup);
  if (r.opts.average_last > 0)
    std::printf("  weights averaged over the last %d epochs (batch-norm statistics recomputed); the last epoch's "
                "test metrics are the averaged model's\n", r.opts.average_last);
  if (audio_task && audio_task->recipe().highpass_hz > 0)
    std::printf("  high-pass: each clip's DC offset and what lies below %g Hz removed\n",
                audio_task->recipe().highpass_hz);
  if (r.speed_range)
    std::printf("  speed perturbation: %g-%g\n", r.speed_range->first, r.speed_range->second);
  if (audio_task && r.augment && audio_task->warps())
    std::printf("  vocal-tract length perturbation: each clip's spectrum warped by a factor from %g-%g\n",
                audio_task->warp_range().first, audio_task->warp_range().second);
  if (r.pink_noise > 0)
    std::printf("  noise: %g%% of the noisy clips get pink noise, the rest white\n", 100 * r.pink_noise);
  if (audio_task && r.augment && audio_task->reverb_share() > 0)
    std::printf("  rooms: %g%% of the training clips heard in a random room\n", 100 * audio_task->reverb_share());
  if (audio_task && r.augment && audio_task->cut_share() > 0)
    std::printf("  cut words: %g%% of the training clips lose up to 30%% of the word at its start or end\n",
                100 * audio_task->cut_share());
  if (audio_task && r.augment && audio_task->overdrive_share() > 0)
    std::printf("  overdrive: %g%% of the training clips amplified until their peak lies 0-24 dB above full scale, "
                "clipped\n",
                100 * audio_task->overdrive_share());
  if (audio_task && r.augment && audio_task->click_share() > 0)
    std::printf("  clicks: %g%% of the training clips with a click of 1-6 ms up to 0.15 s before or after the word\n",
                100 * audio_task->click_share());
  if (audio_task && r.augment && audio_task->lossy_share() > 0)
    std::printf("  lossy coding: %g%% of the training clips heard as a low-bitrate coder returns them\n",
                100 * audio_task->lossy_share());
  if (audio_task && !audio_task->recipe().test_speeds.empty() &&
      audio_task->recipe().test_speeds != std::vector<double>{1.0})
    std::printf("  test clips heard at speeds %s\n", describe_test_speeds(audio_task->recipe().test_speeds).c_str());
  if (image_task && r.augment_noise > 0)
    std::printf("  noise: %g%% of training images get pixel noise (sigma 0-%g), %g%% a 4-14 px square blanked\n",
                100 * r.augment_noise, image_task->noise_max(), 50 * r.augment_noise);
  if (image_task && r.augment && image_task->printed_share() > 0)
    std::printf("  printed digits: %g%% of training images replaced by a stroke-drawn printed digit\n",
                100 * image_task->printed_share());
  if (image_task && r.augment && image_task->lowres_share() > 0)
    std::printf("  low resolution: %g%% of training images seen with the digit %d-%d px along its longer side\n",
                100 * image_task->lowres_share(), models::ImageAugment{}.lowres_min, models::ImageAugment{}.lowres_max);
  if (image_task && r.augment && image_task->widen_share() > 0)
    std::printf("  wider digits: %g%% of training digits narrower than tall stretched across, up to a square box\n",
                100 * image_task->widen_share());
  if (image_task && r.augment && image_task->thicken_share() > 0)
    std::printf("  thicker strokes: %g%% of training digits drawn with strokes up to 3 px wider\n",
                100 * image_task->thicken_share());
  if (image_task && image_task->test_shift() > 0)
    std::printf("  test %s\n", describe_test_shift(image_task->test_shift()).c_str());
  if (r.resume)
    std::printf(state ? "  resuming after epoch %d of %d (%s/resume.safetensors)\n"
                      : "  resuming: no epoch had finished; training from the start\n",
                state ? state->epochs_done : 0, r.opts.epochs, r.out.c_str());
  Progress progress("  epoch");
  models::TrainCallbacks cb;
  cb.on_step = [&](int epoch, int64_t done, int64_t total, double s) {
    (void)epoch;
    progress.update(done, total, s);
  };
  std::vector<models::EpochStats> history = state ? state->history : std::vector<models::EpochStats>{};
  cb.on_epoch = [&](const models::EpochStats& s) {
    progress.finish();
    history.push_back(s);
    std::printf("  epoch %3d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  %.1fs\n", s.epoch,
                r.opts.epochs, s.train_loss, 100 * s.train_acc, s.test_loss, 100 * s.test_acc, s.seconds);
    std::fflush(stdout);
    write_metrics_csv(r.out + "/metrics.csv", history);  // after every epoch: an interrupted run keeps its log
  };
  // What Ctrl-C or SIGTERM prints: the command that goes on from the last saved epoch.
  const std::string again = "duet train --resume " + r.resume_dir;
  const auto on_interrupt = [&](int epochs_done) {
    say_on_interrupt(epochs_done > 0 ? "interrupted; " + again + " goes on after epoch " + std::to_string(epochs_done) +
                                           " of " + std::to_string(r.opts.epochs)
                                     : "interrupted before the first epoch ended; " + again + " starts this training again");
  };
  on_interrupt(state ? state->epochs_done : 0);
  cb.on_state = [&](const models::TrainState& st) {
    save_train_state(r.out, *task, st);
    on_interrupt(st.epochs_done);
  };
  models::EvalResult ev;  // the test evaluation after the last epoch
  cb.final_eval = &ev;
  profile::Table times;
  if (r.profile) cb.profile = &times;
  models::train(*task, r.opts, cb, state ? &*state : nullptr);
  say_on_interrupt("");
  if (r.profile) {
    print_profile(times, r.device == Device::cuda
                             ? "cuda, " + cuda::device_name() + "; every timed piece waits for the GPU"
                             : "cpu, " + std::to_string(omp_get_max_threads()) + " OpenMP threads");
    write_profile_csv(r.out + "/profile.csv", times);
  }
  if (int(history.size()) < r.opts.epochs) {
    std::printf("%s: stopped after epoch %d of %d as asked; continue with: duet train --resume %s\n", label.c_str(),
                int(history.size()), r.opts.epochs, r.out.c_str());
    return std::nullopt;
  }
  draw_curves(r.out + "/curves.png", history, r.arch);
  draw_confusion(r.out + "/confusion.png", ev.confusion, r.arch + " test confusion");
  print_per_class(ev.confusion);
  print_per_group(per_group_counts(*task, ev));
  write_errors_csv(r.out + "/errors.csv", *task, ev);
  write_predictions_csv(r.out + "/predictions.csv", *task, ev);
  auto pc = per_class_accuracy(ev.confusion);
  const nlohmann::json extra = {
      {"train", train_config(r, *task)},
      {"data", split_info},
      {"results", {{"test_accuracy", ev.accuracy}, {"test_loss", ev.loss}, {"per_class_accuracy", pc}}}};
  save_model_dir(r.out, *task, extra);
  remove_train_state(r.out);
  write_run_record(r.out, {r.args, true, recipe});
  std::printf("%s: test accuracy %.2f%% (%lld examples); results in %s/\n", label.c_str(), 100 * ev.accuracy,
              (long long)ev.count, r.out.c_str());
  return ev;
}

// "MIN,MAX" for a range flag: two numbers that `check` (a models::check_*_range) accepts; a
// pair it refuses, or anything else, is reported against the flag with `expected`.
std::pair<double, double> parse_range(const std::string& text, void (*check)(double, double),
                                      const std::string& expected) {
  if (const auto v = parse_numbers(text); v && v->size() == 2) try {
      check((*v)[0], (*v)[1]);
      return {(*v)[0], (*v)[1]};
    } catch (const Error&) {
    }
  fail(expected, "; got '", text, "'");
}

// "32,64,64" -> {32, 64, 64}, within audio:duet's limits (1 to 5 blocks of 1..1024 channels,
// models/networks.cpp), so that a wrong value is reported against the flag.
std::vector<int64_t> parse_channels(const std::string& text) {
  const auto v = parse_numbers(text);
  bool ok = v && v->size() <= 5;
  std::vector<int64_t> out;
  for (double c : v ? *v : std::vector<double>{}) {
    ok = ok && c >= 1 && c <= 1024 && c == std::floor(c);
    if (ok) out.push_back(int64_t(c));
  }
  DUET_CHECK(ok, "--channels expects 1 to 5 comma-separated channel counts in 1..1024, such as 32,64,64; got '", text,
             "'");
  return out;
}

// Why a run has no augmentation, for the flags that set some.
std::string no_augmentation_reason(const RunSpec& r) {
  return r.arch == "audio:seed" ? "audio:seed trains without any, as the course does" : "drop --no-augment";
}

// A training augmentation's share of the training examples (--reverb P, a fraction 0-1): none when the
// flag is absent; given, it must apply to r's model (`what` it does, for the message) with augmentation on.
std::optional<double> augment_share(const Args& args, const RunSpec& r, const std::string& flag,
                                    const std::string& model, const std::string& what) {
  if (!args.has(flag)) return std::nullopt;
  DUET_CHECK(r.model == model, "--", flag, " applies to --model ", model, " (", what, "), not ", r.model);
  DUET_CHECK(r.augment, "--", flag, " is training augmentation; ", no_augmentation_reason(r));
  return args.number(flag, 0, 0, 1);
}

int resume_training(const Args& args);

// duet train: argv's run, or with `resume` the continuation of the one in argv's --out folder.
int train_command(const Argv& argv, bool resume) {
  Args args(argv,
            {"model", "arch", "split", "epochs", "batch", "lr", "momentum", "weight-decay", "schedule", "device", "seed",
             "train-limit", "test-fraction", "data", "out", "fusion", "init-audio", "init-image", "modality-dropout",
             "hard-snr", "hard-energy", "channels", "mixup", "average-last", "n-fft", "augment-noise",
             "augment-noise-max", "test-speeds", "speed-range", "pink-noise", "printed", "reverb", "cut-word", "lowres",
             "widen", "thicken", "test-shift", "resume", "stop-after", "highpass", "overdrive", "vtlp", "extra", "clicks",
             "lossy"},
            {"help", "nesterov", "no-augment", "no-band-norm", "no-trim", "hard", "profile"}, "train");
  if (args.flag("help")) {
    std::printf("%s", kUsage);
    return 0;
  }
  DUET_CHECK(args.positional().empty(), "train: unexpected argument '", args.positional().empty() ? "" : args.positional()[0], "'");
  if (!resume && args.has("resume")) return resume_training(args);
  RunSpec r;
  r.model = args.str("model", "audio");
  DUET_CHECK(r.model == "audio" || r.model == "image" || r.model == "fusion", "--model expects audio, image or fusion, got '",
             r.model, "'");
  std::string arch_flag = args.str("arch", "");
  if (r.model == "fusion" && args.has("fusion")) {
    DUET_CHECK(arch_flag.empty(), "give --fusion or --arch, not both");
    arch_flag = "fusion:" + args.str("fusion", "");
  }
  DUET_CHECK(r.model == "fusion" || !args.has("fusion"), "--fusion applies to --model fusion");
  const Defaults d = defaults_for(r.model, arch_flag);
  r.arch = d.arch;
  r.split = args.str("split", "random");
  r.test_fraction = args.number("test-fraction", 0.25, 0.01, 0.99);
  r.train_limit = args.integer("train-limit", -1, 1, INT64_MAX);
  r.augment = d.augment && !args.flag("no-augment");
  r.augment_noise = args.number("augment-noise", 0, 0, 1);
  DUET_CHECK(!args.has("augment-noise") || r.model == "image",
             "--augment-noise applies to --model image (audio:duet adds noise to half of its clips, --pink-noise sets "
             "its colour; fusion adds its own)");
  DUET_CHECK(r.augment || r.augment_noise == 0, "--augment-noise is training augmentation; ", no_augmentation_reason(r));
  if (args.has("augment-noise-max")) {
    DUET_CHECK(r.model == "image" && r.augment_noise > 0,
               "--augment-noise-max sets the largest sigma of --augment-noise's pixel noise: give --model image "
               "--augment-noise P (P > 0) with it");
    r.augment_noise_max = args.number("augment-noise-max", models::ImageAugment{}.max_noise,
                                      models::ImageTask::kMinNoiseMax, models::ImageTask::kMaxNoiseMax);
  }
  r.steps.band_norm = !args.flag("no-band-norm");
  r.steps.trim = !args.flag("no-trim");
  DUET_CHECK(r.model == "audio" || (r.steps.band_norm && r.steps.trim), "--no-band-norm and --no-trim apply to --model audio");
  DUET_CHECK(!args.has("n-fft") || r.arch == "audio:duet",
             "--n-fft applies to audio:duet (the course recipe's front-end is fixed), not ", r.arch);
  r.steps.n_fft = int(args.integer("n-fft", 0, 64, 2048));  // 0 (absent): the recipe's own
  if (args.has("highpass")) {
    DUET_CHECK(r.model == "audio", "--highpass applies to --model audio (it filters the recordings), not ", r.model);
    r.steps.highpass_hz = args.number("highpass", 0, 0, 1000);
  }
  if (args.has("test-speeds")) {
    DUET_CHECK(r.model == "audio", "--test-speeds applies to --model audio, not ", r.model);
    r.steps.test_speeds = parse_test_speeds(args.str("test-speeds", ""));
  }
  if (args.has("speed-range")) {
    DUET_CHECK(r.model == "audio", "--speed-range applies to --model audio (the training's speed perturbation), not ",
               r.model);
    DUET_CHECK(r.augment, "--speed-range is training augmentation; ", no_augmentation_reason(r));
    r.speed_range = parse_range(args.str("speed-range", ""), models::check_speed_range,
                                "--speed-range expects MIN,MAX with 0.5 <= MIN <= MAX <= 2, such as 0.85,1.18 (1,1: no "
                                "speed perturbation)");
  }
  if (args.has("vtlp")) {
    DUET_CHECK(r.model == "audio", "--vtlp applies to --model audio (it warps training clips' spectra), not ", r.model);
    DUET_CHECK(r.augment, "--vtlp is training augmentation; ", no_augmentation_reason(r));
    std::ostringstream expected;
    expected << "--vtlp expects MIN,MAX with " << dsp::kVtlpMin << " <= MIN <= MAX <= " << dsp::kVtlpMax
             << ", such as 0.9,1.2 (1,1: no warp)";
    r.vtlp = parse_range(args.str("vtlp", ""), models::check_warp_range, expected.str());
  }
  r.pink_noise = augment_share(args, r, "pink-noise", "audio", "the training's noise").value_or(0);
  r.reverb = augment_share(args, r, "reverb", "audio", "the training's rooms");
  r.cut_word = augment_share(args, r, "cut-word", "audio", "it cuts training clips").value_or(0);
  r.overdrive = augment_share(args, r, "overdrive", "audio", "it clips training clips");
  r.clicks = augment_share(args, r, "clicks", "audio", "it adds clicks to training clips");
  r.lossy = augment_share(args, r, "lossy", "audio", "it codes training clips").value_or(0);
  r.printed = augment_share(args, r, "printed", "image", "it mixes printed digits into the handwriting");
  r.lowres = augment_share(args, r, "lowres", "image", "it shows digits at low resolution").value_or(0);
  r.widen = augment_share(args, r, "widen", "image", "it stretches training digits");
  r.thicken = augment_share(args, r, "thicken", "image", "it thickens training digits' strokes");
  if (args.has("test-shift")) {
    DUET_CHECK(r.model == "image", "--test-shift applies to --model image (fusion reads each picture once), not ", r.model);
    r.test_shift = int(args.integer("test-shift", 0, 0, models::kMaxTestShift));
  }
  if (args.has("extra")) {
    DUET_CHECK(r.model == "audio" || r.model == "image", "--extra applies to --model audio and image (fusion pairs ",
               "FSDD's clips with MNIST's pictures), not ", r.model);
    r.extra = fs::absolute(args.str("extra", "")).lexically_normal().string();
    labelled_inputs(r.extra, r.model, "--extra");  // a wrong folder fails before the data loads
  }
  if (args.has("channels")) {
    DUET_CHECK(r.arch == "audio:duet" || r.model == "fusion", "--channels applies to audio:duet and fusion models, not ",
               r.arch);
    (r.model == "fusion" ? r.fusion.audio_channels : r.net.channels) = parse_channels(args.str("channels", ""));
  }
  r.seed = uint64_t(args.integer("seed", 0, 0, INT64_MAX));
  r.device = choose_device(args.str("device", ""));
  r.data_dir = data::resolve_data_dir(args.str("data", ""));
  r.out = args.str("out", "runs/" + r.model);
  r.opts.epochs = int(args.integer("epochs", d.epochs, 1, 100000));
  r.opts.batch = args.integer("batch", d.batch, 1, 65536);
  r.opts.sgd.lr = float(args.number("lr", d.lr, 1e-8, 100));
  r.opts.sgd.momentum = float(args.number("momentum", d.momentum, 0, 0.999));
  r.opts.sgd.weight_decay = float(args.number("weight-decay", d.weight_decay, 0, 1));
  r.opts.sgd.nesterov = args.flag("nesterov");
  DUET_CHECK(!r.opts.sgd.nesterov || r.opts.sgd.momentum > 0, "--nesterov needs --momentum > 0");
  r.opts.schedule = args.str("schedule", d.schedule);
  DUET_CHECK(r.opts.schedule == "constant" || r.opts.schedule == "cosine", "--schedule expects constant or cosine, got '",
             r.opts.schedule, "'");
  r.opts.seed = r.seed;
  r.opts.mixup = args.number("mixup", 0, 0, 10);
  r.opts.average_last = int(args.integer("average-last", 0, 0, 100000));
  DUET_CHECK(r.opts.average_last == 0 || (r.opts.average_last >= 2 && r.opts.average_last <= r.opts.epochs),
             "--average-last must be 0 (off) or 2 to --epochs (", r.opts.epochs, "), got ", r.opts.average_last);
  DUET_CHECK(r.model != "fusion" || r.opts.mixup == 0, "--mixup applies to --model audio and image, not fusion");
  r.fusion.init_audio = args.str("init-audio", "");
  r.fusion.init_image = args.str("init-image", "");
  r.fusion.modality_dropout = args.number("modality-dropout", r.model == "fusion" ? 0.3 : 0.0, 0, 0.9);
  r.fusion.hard = args.flag("hard");
  DUET_CHECK(r.model == "fusion" || !r.fusion.hard, "--hard applies to --model fusion");
  DUET_CHECK(r.fusion.hard || (!args.has("hard-snr") && !args.has("hard-energy")),
             "--hard-snr and --hard-energy set the --hard benchmark; add --hard (with --model fusion)");
  r.fusion.hard_snr_db = args.number("hard-snr", r.fusion.hard_snr_db, -30, 60);
  r.fusion.hard_energy = args.number("hard-energy", r.fusion.hard_energy, 0.01, 1);
  DUET_CHECK(r.model == "fusion" || (!args.has("init-audio") && !args.has("init-image") && !args.has("modality-dropout")),
             "--init-audio, --init-image and --modality-dropout apply to --model fusion");
  for (const std::string& dir : {r.fusion.init_audio, r.fusion.init_image})
    if (!dir.empty()) read_config(dir);  // fail before any training when a folder is wrong
  DUET_CHECK(!args.has("stop-after") || r.opts.epochs >= 2, "--stop-after needs a training of at least 2 epochs (",
             "it stops before the last one)");
  r.opts.stop_after = int(args.integer("stop-after", 0, 1, r.opts.epochs - 1));
  DUET_CHECK(r.split != "loso" || r.opts.stop_after == 0, "--stop-after applies to one training, not to --split loso ",
             "(stop that with Ctrl-C: duet train --resume OUT goes on with the fold it was training)");
  r.args = without_flag(without_flag(argv, "out"), "stop-after");
  if (!r.extra.empty()) {  // recorded as an absolute path: --resume may run from another folder
    r.args = without_flag(r.args, "extra");
    r.args.insert(r.args.end(), {"--extra", r.extra});
  }
  r.resume = resume;
  r.resume_dir = r.out;
  r.profile = args.flag("profile");

  if (r.split != "loso") {
    run_one(r, "train");
    return 0;
  }
  DUET_CHECK(r.model != "image", "--split loso applies to audio and fusion");
  data::Fsdd ds = data::load_fsdd(r.data_dir);
  const std::string root = r.out;
  write_run_record(root, {r.args, false, nullptr});
  std::ofstream csv(root + "/loso.csv");
  DUET_CHECK(csv, root, "/loso.csv: cannot open for writing");
  csv << "speaker,test_accuracy,test_loss\n";
  double sum = 0;
  std::vector<std::pair<std::string, double>> folds;
  for (const std::string& sp : ds.speakers()) {
    RunSpec f = r;
    f.split = "speaker:" + sp;
    f.out = root + "/loso-" + sp;
    f.args = without_flag(r.args, "split");
    f.args.insert(f.args.end(), {"--split", f.split});
    // Resuming: a finished fold is read back, an unfinished one continues, a missing one starts.
    f.resume = r.resume && has_run_record(f.out);
    double accuracy, loss;
    if (f.resume && read_run_record(f.out).finished) {
      const nlohmann::json results = read_config(f.out).value("results", nlohmann::json::object());
      accuracy = results.value("test_accuracy", 0.0);
      loss = results.value("test_loss", 0.0);
      std::printf("fold %s: finished before: test accuracy %.2f%% (%s/)\n", sp.c_str(), 100 * accuracy, f.out.c_str());
    } else {
      const models::EvalResult ev = *run_one(f, "fold " + sp);
      accuracy = ev.accuracy;
      loss = ev.loss;
    }
    csv << sp << ',' << accuracy << ',' << loss << '\n';
    csv.flush();
    folds.emplace_back(sp, accuracy);
    sum += accuracy;
  }
  std::printf("leave-one-speaker-out (%s):\n", r.arch.c_str());
  for (auto& [sp, acc] : folds) std::printf("  %-10s %.2f%%\n", sp.c_str(), 100 * acc);
  std::printf("  mean       %.2f%%\n", 100 * sum / double(folds.size()));
  csv << "mean," << sum / double(folds.size()) << ",\n";
  write_run_record(root, {r.args, true, nullptr});
  return 0;
}

// duet train --resume DIR [--device D] [--data DIR] [--stop-after N]: the command DIR/run.json
// records, with those flags given anew, continued from DIR's saved state.
int resume_training(const Args& args) {
  const std::string dir = args.str("resume", "");
  for (const std::string& name : args.given())
    DUET_CHECK(name == "resume" || name == "device" || name == "data" || name == "stop-after", "--resume goes on with ",
               "the training ", dir, "/run.json records; only --device, --data and --stop-after may be given with ",
               "it, not --", name);
  const RunRecord record = read_run_record(dir);
  DUET_CHECK(!record.finished, dir, ": this training finished (its model is ", dir,
             "/model.safetensors); there is nothing to resume");
  Argv merged = record.args;
  for (const char* name : {"device", "data", "stop-after"})
    if (args.has(name)) {
      merged = without_flag(merged, name);
      merged.insert(merged.end(), {std::string("--") + name, args.str(name, "")});
    }
  merged.insert(merged.end(), {"--out", dir});
  return train_command(merged, true);
}

}  // namespace

int cmd_train(const Argv& argv) { return train_command(argv, false); }

}  // namespace duet::cli
