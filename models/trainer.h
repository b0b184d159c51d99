// The training loop and evaluation, for any Task.
//
// One step: batch -> forward -> cross-entropy -> backward (tape) -> one SGD launch. The
// running loss and the count of correct predictions are kept on the device and read once
// per epoch, so a step on the GPU never waits for the host.
#pragma once
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "engine/ops/sgd.h"
#include "engine/profile.h"
#include "models/task.h"

namespace duet::models {

struct TrainOptions {
  int epochs = 10;
  int64_t batch = 32;
  ops::SgdConfig sgd{0.01f, 0.9f, 0.0f, 0.0f, false};
  std::string schedule = "constant";  // constant | cosine (with a short linear warm-up)
  uint64_t seed = 0;
  int64_t eval_batch = 256;
  // mixup (Zhang et al. 2018): when > 0, each training batch is blended with the same
  // examples in another order (their own augmentation) by lambda ~ Beta(mixup, mixup), folded
  // to lambda >= 0.5, and the loss is lambda CE(y) + (1 - lambda) CE(y_partner). Unimodal
  // tasks only (fusion batches carry missing-modality masks).
  double mixup = 0;
  // Weight averaging (stochastic weight averaging, Izmailov et al. 2018): when >= 2, the
  // trained parameters after each of the last `average_last` epochs are averaged, the model
  // ends with that average, and its batch-norm statistics are then recomputed by one pass over
  // the training batches in training mode (no update). The per-epoch test metrics are the
  // trained weights' except the last epoch's, which are the averaged model's. 0: off.
  int average_last = 0;
  // > 0: return after this many epochs (fewer than `epochs`), as if interrupted there; the
  // on_state callback has the state to continue from (duet train --stop-after).
  int stop_after = 0;
};

struct EpochStats {
  int epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, seconds = 0;
};

struct EvalResult {
  double loss = 0, accuracy = 0;
  int64_t count = 0;
  std::vector<int32_t> predictions;
  std::vector<std::array<float, 10>> probabilities;
  std::array<std::array<int64_t, 10>, 10> confusion{};  // [truth][prediction]
};

using BatchFn = std::function<Batch(const std::vector<int64_t>& idx, Rng& rng)>;

// Evaluates `n` test examples made by make_batch (default: the task's clean test batches).
EvalResult evaluate(Task& task, int64_t eval_batch, uint64_t seed, const BatchFn& make_batch = nullptr);

// Where a training stands at the end of an epoch: with the task's parameters and buffers, all
// that train() needs to go on exactly as if it had not stopped (duet train --resume).
struct TrainState {
  int epochs_done = 0;
  int64_t step = 0;        // optimizer steps taken (the learning-rate schedule's position)
  uint64_t rng_state = 0;  // the trainer's generator (shuffling, augmentation, pairing)
  Tensor velocity;         // SGD momentum, one value per parameter scalar (the optimizer's own
                           // tensor: the next step changes it; save or copy it in on_state)
  std::vector<int64_t> order;  // the training examples' order, shuffled again each epoch
  std::vector<EpochStats> history;
  Tensor weight_average;  // TrainOptions::average_last: the average so far (undefined before it starts)
  int averaged = 0;       // how many epochs' weights it holds
};

struct TrainCallbacks {
  std::function<void(int epoch, int64_t done, int64_t total, double seconds)> on_step;  // progress
  std::function<void(const EpochStats&)> on_epoch;
  // Set: receives the test evaluation after the last epoch (what evaluate() would give again),
  // so a caller needing predictions need not evaluate a second time.
  EvalResult* final_eval = nullptr;
  // After every epoch but the last, after on_epoch: the state to continue from.
  std::function<void(const TrainState&)> on_state;
  // Set: the training steps' per-op times are added to it (engine/profile.h): every op's
  // forward and backward, and the stages "batch" (the batch with its augmentation and
  // features), "optimizer" (zeroing the gradients, the SGD step) and "metrics" (the running
  // loss and correct count); total_seconds and steps grow by each step. The evaluations after
  // each epoch are not timed. On a GPU each timed piece waits for the stream.
  profile::Table* profile = nullptr;
};

// Throws when a saved state cannot continue this training (epochs, steps per epoch, the
// number of training examples).
void check_resume_state(const TrainState& st, const TrainOptions& o, int64_t train_size);

// Trains for o.epochs (or o.stop_after) epochs and returns every epoch's statistics; with
// `resume` (a state on_state gave, and the task's parameters and buffers as they were then)
// it continues after resume->epochs_done, drawing the same random numbers as an unbroken run.
std::vector<EpochStats> train(Task& task, const TrainOptions& o, const TrainCallbacks& cb = {},
                              const TrainState* resume = nullptr);

// One mixup step's loss and logits (see TrainOptions::mixup); b is blended in place.
std::pair<Tensor, Tensor> mixup_loss(Task& task, Batch& b, const std::vector<int64_t>& idx, double alpha, Rng& rng,
                                     uint64_t seed);

double learning_rate_at(const TrainOptions& o, int64_t step, int64_t total_steps);

}  // namespace duet::models
