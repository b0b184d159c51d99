// Per-op timings (engine/profile.h): what a Recording collects from the ops, the tape and the
// trainer's stages, and what it leaves alone.
#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "engine/profile.h"
#include "engine/rng.h"

using namespace duet;

namespace {

const profile::Entry* find(const profile::Table& t, const std::string& name, bool stage = false) {
  for (const profile::Entry& e : t.entries)
    if (e.name == name && e.stage == stage) return &e;
  return nullptr;
}

// conv2d (ReLU fused) -> max-pool -> flatten -> linear -> cross-entropy, forward and backward.
void small_step(Rng& rng) {
  Tensor x = Tensor::zeros({2, 1, 6, 6}, DType::f32, Device::cpu);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = float(rng.uniform());
  Tensor cw = Tensor::full({3, 1, 3, 3}, 0.1, DType::f32, Device::cpu), cb = Tensor::zeros({3}, DType::f32, Device::cpu);
  Tensor fw = Tensor::full({4, 12}, 0.05, DType::f32, Device::cpu), fb = Tensor::zeros({4}, DType::f32, Device::cpu);
  for (Tensor* t : {&cw, &cb, &fw, &fb}) t->set_requires_grad(true);
  Tensor labels = Tensor::from_vector<int32_t>({1, 3}, {2});
  Tensor h = F::max_pool2d(F::conv2d(x, cw, cb, {1, 1, 0, 0, true}), 2, 2);
  backward(F::cross_entropy(F::linear(F::flatten(h), fw, fb), labels));
}

}  // namespace

TEST(Profile, EveryOpsForwardAndBackwardAreTimedOnce) {
  Rng rng(3);
  profile::Table t;
  {
    profile::Recording rec(t, false);
    EXPECT_TRUE(profile::recording());
    small_step(rng);
    small_step(rng);
  }
  EXPECT_FALSE(profile::recording());
  for (const char* op : {"conv2d", "max_pool2d", "reshape", "linear", "cross_entropy"}) {
    const profile::Entry* e = find(t, op);
    ASSERT_NE(e, nullptr) << op;
    EXPECT_EQ(e->forward_calls, 2) << op;
    EXPECT_EQ(e->backward_calls, 2) << op;
    EXPECT_GE(e->forward_seconds, 0.0) << op;
    EXPECT_GT(e->seconds(), 0.0) << op;
  }
  // flatten is reshape: one entry under the tape's name, not two.
  EXPECT_EQ(find(t, "flatten"), nullptr);
  EXPECT_EQ(t.entries.size(), 5u);
  // sorted(): longest first.
  const auto rows = t.sorted();
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_GE(rows[i - 1].seconds(), rows[i].seconds());
}

TEST(Profile, OpsInsideAStageCountInTheStageAlone) {
  Rng rng(4);
  profile::Table t;
  {
    profile::Recording rec(t, false);
    profile::Scope stage("metrics", profile::Part::stage);
    NoGrad ng;
    Tensor a = Tensor::full({3}, 2.0, DType::f32, Device::cpu);
    F::accumulate(a, F::scale(a, 0.5));
  }
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(t.entries[0].name, "metrics");
  EXPECT_TRUE(t.entries[0].stage);
  EXPECT_EQ(t.entries[0].forward_calls, 1);
}

TEST(Profile, NothingIsRecordedWithoutARecording) {
  Rng rng(5);
  profile::Table t;
  small_step(rng);  // no Recording: the ops run untimed
  {
    profile::Recording rec(t, false);
  }
  EXPECT_TRUE(t.entries.empty());
}

TEST(Profile, AFailedOpLeavesTheNextOneTimed) {
  profile::Table t;
  profile::Recording rec(t, false);
  Tensor x = Tensor::zeros({2, 3}, DType::f32, Device::cpu), w = Tensor::zeros({4, 5}, DType::f32, Device::cpu);
  EXPECT_THROW(F::linear(x, w, Tensor()), Error);  // 3 features, weight expects 5
  EXPECT_EQ(find(t, "linear"), nullptr);            // it did not finish: no time
  F::relu(x);
  const profile::Entry* relu = find(t, "relu");
  ASSERT_NE(relu, nullptr);  // the failed op's scope closed: the next op is outermost again
  EXPECT_EQ(relu->forward_calls, 1);
}

TEST(Profile, RecordingsDoNotNest) {
  profile::Table a, b;
  profile::Recording rec(a, false);
  EXPECT_THROW(profile::Recording(b, false), Error);
}
