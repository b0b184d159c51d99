#include "models/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/optim.h"
#include "engine/profile.h"

namespace duet::models {

double learning_rate_at(const TrainOptions& o, int64_t step, int64_t total) {
  if (o.schedule == "constant") return o.sgd.lr;
  DUET_CHECK(o.schedule == "cosine", "unknown learning-rate schedule '", o.schedule, "' (constant or cosine)");
  // Linear warm-up over 1/30 of the run, at least 100 steps (capped at a quarter of the run):
  // batch norm statistics and the first layers settle before the full rate.
  const int64_t warmup = std::max<int64_t>(1, std::min(total / 4, std::max<int64_t>(total / 30, 100)));
  if (step < warmup) return o.sgd.lr * double(step + 1) / double(warmup);
  const double t = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
  return o.sgd.lr * 0.5 * (1.0 + std::cos(M_PI * t));
}

EvalResult evaluate(Task& task, int64_t eval_batch, uint64_t seed, const BatchFn& make_batch) {
  NoGrad no_grad;
  EvalResult r;
  const int64_t n = task.test_size();
  DUET_CHECK(n > 0, "evaluate: the test set is empty");
  Rng rng(seed);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += eval_batch) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < std::min(n, start + eval_batch); ++i) idx.push_back(i);
    Batch b = make_batch ? make_batch(idx, rng) : task.test_batch(idx, rng);
    Tensor logits = task.forward(b, false, 0);
    loss_sum += F::cross_entropy(logits, b.labels).item() * double(idx.size());
    const std::vector<float> probs = F::softmax(logits).to_vector<float>();
    const std::vector<int32_t> pred = F::argmax(logits).to_vector<int32_t>();
    for (size_t k = 0; k < idx.size(); ++k) {
      const int32_t truth = task.test_label(idx[k]);
      r.predictions.push_back(pred[k]);
      std::array<float, 10> p{};
      for (int c = 0; c < 10; ++c) p[c] = probs[k * 10 + c];
      r.probabilities.push_back(p);
      r.confusion[truth][pred[k]]++;
      correct += pred[k] == truth;
    }
  }
  r.count = n;
  r.loss = loss_sum / double(n);
  r.accuracy = double(correct) / double(n);
  return r;
}

namespace {

// x * lambda + y * (1 - lambda) for whichever modality the batches carry.
Tensor blend(const Tensor& x, const Tensor& y, double lambda) {
  if (!x.defined()) return x;
  return F::add(F::scale(x, lambda), F::scale(y, 1 - lambda));
}

}  // namespace

std::pair<Tensor, Tensor> mixup_loss(Task& task, Batch& b, const std::vector<int64_t>& idx, double alpha, Rng& rng,
                                     uint64_t seed) {
  DUET_CHECK(b.audio_missing.empty() && b.image_missing.empty(),
             "mixup applies to audio and image models, not to fusion batches");
  std::vector<int64_t> partner = idx;
  rng.shuffle(partner);
  Batch p;
  double lambda;
  {
    profile::Scope timed("batch", profile::Part::stage);  // the partner batch and the blend
    p = task.train_batch(partner, rng);
    lambda = rng.beta(alpha, alpha);
    lambda = std::max(lambda, 1 - lambda);  // the batch's own labels stay the larger part (train accuracy)
    b.audio = blend(b.audio, p.audio, lambda);
    b.image = blend(b.image, p.image, lambda);
  }
  Tensor logits = task.forward(b, true, seed);
  Tensor loss = F::add(F::scale(F::cross_entropy(logits, b.labels), lambda),
                       F::scale(F::cross_entropy(logits, p.labels), 1 - lambda));
  return {loss, logits};
}

namespace {

// The first epoch whose weights TrainOptions::average_last averages (past the end when off).
int first_averaged_epoch(const TrainOptions& o) {
  return o.average_last > 0 ? o.epochs - o.average_last + 1 : o.epochs + 1;
}

// Batch-norm running statistics for the current weights: one pass over the training batches in
// training mode, nothing trained (after weight averaging, whose average the statistics of no
// epoch describe). Models without buffers are left as they are.
void recompute_batch_norm(Task& task, const TrainOptions& o, const std::vector<int64_t>& order, Rng& rng) {
  if (task.params().buffers().empty()) return;
  NoGrad ng;
  const int64_t n = int64_t(order.size());
  for (int64_t start = 0; start < n; start += o.batch) {
    std::vector<int64_t> idx(order.begin() + start, order.begin() + std::min(n, start + o.batch));
    Batch b = task.train_batch(idx, rng);
    task.forward(b, true, splitmix64(o.seed * 1000003u + uint64_t(start) + 0xA5A5ull));
  }
}

}  // namespace

void check_resume_state(const TrainState& st, const TrainOptions& o, int64_t n) {
  const int epochs = o.epochs;
  const int64_t steps_per_epoch = (n + o.batch - 1) / o.batch;
  DUET_CHECK(st.epochs_done >= 1 && st.epochs_done < epochs, "the saved state is after epoch ", st.epochs_done,
             "; a training of ", epochs, " epochs resumes after epochs 1 to ", epochs - 1);
  DUET_CHECK(st.step == steps_per_epoch * st.epochs_done, "the saved state took ", st.step,
             " steps in ", st.epochs_done, " epochs; this training takes ", steps_per_epoch,
             " an epoch (a different data set or batch size?)");
  DUET_CHECK(int64_t(st.history.size()) == st.epochs_done, "the saved state has ",
             st.history.size(), " epochs of metrics for ", st.epochs_done, " epochs done");
  DUET_CHECK(int64_t(st.order.size()) == n, "the saved state orders ", st.order.size(),
             " training examples; this training has ", n);
  std::vector<char> seen(n, 0);
  for (int64_t i : st.order) {
    DUET_CHECK(i >= 0 && i < n && !seen[i], "the saved order of the training examples is not a permutation of ",
               n, " examples");
    seen[i] = 1;
  }
  const int averaged = std::max(0, st.epochs_done - first_averaged_epoch(o) + 1);
  DUET_CHECK(st.averaged == averaged && st.weight_average.defined() == (averaged > 0),
             "the saved state averages the weights of ", st.averaged, " epochs; this training (averaging the last ",
             o.average_last, " of ", o.epochs, ") would have averaged ", averaged, " after epoch ", st.epochs_done);
}

std::vector<EpochStats> train(Task& task, const TrainOptions& o, const TrainCallbacks& cb, const TrainState* resume) {
  DUET_CHECK(o.epochs >= 1, "train: epochs must be >= 1");
  DUET_CHECK(o.mixup >= 0, "train: mixup must be >= 0 (0 turns it off)");
  DUET_CHECK(o.batch >= 1, "train: batch must be >= 1");
  DUET_CHECK(o.average_last == 0 || (o.average_last >= 2 && o.average_last <= o.epochs),
             "train: average_last must be 0 (off) or 2 to the epochs (", o.epochs, "), got ", o.average_last);
  DUET_CHECK(o.stop_after >= 0 && o.stop_after < o.epochs, "train: stop_after (", o.stop_after,
             ") must be below the epochs (", o.epochs, "); 0: do not stop early");
  const int64_t n = task.train_size();
  DUET_CHECK(n > 0, "train: the training set is empty");
  Parameters& params = task.params();
  SGD opt(params, o.sgd);
  Rng rng(o.seed ^ 0x9E3779B97F4A7C15ull);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  const int64_t steps_per_epoch = (n + o.batch - 1) / o.batch, total_steps = steps_per_epoch * o.epochs;
  int64_t step = 0;
  std::vector<EpochStats> history;
  int first_epoch = 1;
  Tensor average;  // TrainOptions::average_last
  int averaged = 0;
  if (resume) {
    check_resume_state(*resume, o, n);
    first_epoch = resume->epochs_done + 1;
    step = resume->step;
    rng.set_state(resume->rng_state);
    opt.set_velocity(resume->velocity);
    history = resume->history;
    order = resume->order;
    averaged = resume->averaged;
    if (averaged > 0) {
      DUET_CHECK(resume->weight_average.numel() == params.values().numel(), "the saved weight average has ",
                 resume->weight_average.numel(), " values for ", params.values().numel(), " parameters");
      average = resume->weight_average.to(task.device());
    }
  }
  const Device dev = task.device();
  for (int epoch = first_epoch; epoch <= o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    task.begin_epoch(epoch, rng);
    rng.shuffle(order);
    Tensor loss_sum = Tensor::zeros({}, DType::f32, dev), correct = Tensor::zeros({}, DType::f32, dev);
    std::optional<profile::Recording> recording;  // the training steps only, not the evaluation
    if (cb.profile) recording.emplace(*cb.profile, dev == Device::cuda);
    for (int64_t start = 0; start < n; start += o.batch, ++step) {
      const auto step_start = std::chrono::steady_clock::now();
      std::vector<int64_t> idx(order.begin() + start, order.begin() + std::min(n, start + o.batch));
      Batch b = [&] {
        profile::Scope timed("batch", profile::Part::stage);
        return task.train_batch(idx, rng);
      }();
      opt.config().lr = float(learning_rate_at(o, step, total_steps));
      {
        profile::Scope timed("optimizer", profile::Part::stage);
        params.zero_grad();
      }
      const uint64_t step_seed = splitmix64(o.seed * 1000003u + uint64_t(step));
      auto [loss, logits] = o.mixup > 0 ? mixup_loss(task, b, idx, o.mixup, rng, step_seed) : task.loss(b, step_seed);
      backward(loss);
      {
        profile::Scope timed("optimizer", profile::Part::stage);
        opt.step();
      }
      {
        NoGrad ng;
        profile::Scope timed("metrics", profile::Part::stage);
        F::accumulate(loss_sum, F::scale(loss, double(idx.size())));
        F::count_correct(logits.detach(), b.labels, correct);
      }
      if (cb.profile) {  // the last stage waited for the GPU, so the step's work is done
        cb.profile->total_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
        ++cb.profile->steps;
      }
      if (cb.on_step)
        cb.on_step(epoch, std::min(n, start + o.batch), n,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    recording.reset();
    EpochStats s;
    s.epoch = epoch;
    s.train_loss = loss_sum.item() / double(n);
    s.train_acc = correct.item() / double(n);
    DUET_CHECK(std::isfinite(s.train_loss), "training diverged in epoch ", epoch,
               " (loss is not finite); try a smaller --lr");
    if (epoch >= first_averaged_epoch(o)) {
      NoGrad ng;
      ++averaged;
      const double w = 1.0 / averaged;  // a running mean: average += (weights - average) / averaged
      average = averaged == 1 ? params.values().clone()
                              : F::add(F::scale(average, 1.0 - w), F::scale(params.values(), w));
      if (epoch == o.epochs) {
        params.values().copy_(average);
        recompute_batch_norm(task, o, order, rng);
      }
    }
    if (epoch == o.epochs) task.end_training(o.seed);
    EvalResult ev = evaluate(task, o.eval_batch, o.seed);
    if (epoch == o.epochs && cb.final_eval) *cb.final_eval = ev;
    s.test_loss = ev.loss;
    s.test_acc = ev.accuracy;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    history.push_back(s);
    if (cb.on_epoch) cb.on_epoch(s);
    if (epoch < o.epochs && cb.on_state)
      cb.on_state(TrainState{epoch, step, rng.state(), opt.velocity(), order, history, average, averaged});
    if (epoch == o.stop_after) break;
  }
  return history;
}

}  // namespace duet::models
