// Tier 1: every differentiable op's backward agrees with finite differences in float64.
#include "gradcheck.h"

using namespace duet;
using namespace duet::testing;

namespace {
constexpr double kTol = 1e-6;

void expect_ok(const GradCheckResult& r) {
  EXPECT_GT(r.checked, 0);
  EXPECT_LE(r.max_rel_error, kTol) << "over " << r.checked << " elements";
}
}  // namespace

TEST(GradCheck, Conv2d) {
  Rng rng(1);
  F::Conv2dOptions o;
  o.stride_h = 2; o.stride_w = 1; o.pad_h = 1; o.pad_w = 2;
  auto f = [&](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], o); };
  expect_ok(gradcheck(f, {random_tensor({2, 3, 7, 6}, rng), random_tensor({4, 3, 3, 2}, rng),
                          random_tensor({4}, rng)}));
}

TEST(GradCheck, Conv2dNoBiasStride3) {
  Rng rng(2);
  F::Conv2dOptions o;
  o.stride_h = 3; o.stride_w = 3;
  auto f = [&](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], Tensor(), o); };
  expect_ok(gradcheck(f, {random_tensor({1, 1, 11, 13}, rng), random_tensor({2, 1, 5, 4}, rng)}));
}

TEST(GradCheck, Conv2dFusedRelu) {
  Rng rng(3);
  F::Conv2dOptions o;
  o.relu = true;
  // A 1x1 kernel with weights of one sign and positive inputs keeps pre-activations away
  // from the kink except where the bias pushes them clearly negative.
  auto f = [&](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], o); };
  expect_ok(gradcheck(f, {random_tensor({2, 2, 3, 3}, rng, 0.5, 1.0), random_tensor({3, 2, 1, 1}, rng, 0.5, 1.0),
                          Tensor::from_vector<double>({0.3, -5.0, 0.1}, {3})}));
}

TEST(GradCheck, Linear) {
  Rng rng(4);
  auto f = [](const std::vector<Tensor>& in) { return F::linear(in[0], in[1], in[2]); };
  expect_ok(gradcheck(f, {random_tensor({5, 7}, rng), random_tensor({3, 7}, rng), random_tensor({3}, rng)}));
}

TEST(GradCheck, Relu) {
  Rng rng(5);
  auto f = [](const std::vector<Tensor>& in) { return F::relu(in[0]); };
  expect_ok(gradcheck(f, {away_from_zero({3, 4, 5}, rng)}));
}

TEST(GradCheck, MaxPool2d) {
  Rng rng(6);
  auto f = [](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], 2, 3, 2, 2); };
  expect_ok(gradcheck(f, {distinct_values({2, 3, 6, 7}, rng)}));
}

TEST(GradCheck, GlobalAvgPool) {
  Rng rng(7);
  auto f = [](const std::vector<Tensor>& in) { return F::global_avg_pool(in[0]); };
  expect_ok(gradcheck(f, {random_tensor({2, 3, 4, 5}, rng)}));
}

TEST(GradCheck, FlattenReshape) {
  Rng rng(8);
  auto f = [](const std::vector<Tensor>& in) { return F::reshape(F::flatten(in[0]), {3, 2, -1}); };
  expect_ok(gradcheck(f, {random_tensor({3, 2, 2, 5}, rng)}));
}

TEST(GradCheck, Concat) {
  Rng rng(9);
  auto f = [](const std::vector<Tensor>& in) { return F::concat({in[0], in[1], in[2]}); };
  expect_ok(gradcheck(f, {random_tensor({2, 3}, rng), random_tensor({2, 1}, rng), random_tensor({2, 4}, rng)}));
}

TEST(GradCheck, ConcatChannels) {
  Rng rng(10);
  auto f = [](const std::vector<Tensor>& in) { return F::concat({in[0], in[1]}); };
  expect_ok(gradcheck(f, {random_tensor({2, 1, 3, 2}, rng), random_tensor({2, 2, 3, 2}, rng)}));
}

TEST(GradCheck, AddPerFeature) {
  Rng rng(11);
  auto f = [](const std::vector<Tensor>& in) { return F::add(in[0], in[1]); };
  expect_ok(gradcheck(f, {random_tensor({4, 5}, rng), random_tensor({5}, rng)}));
}

TEST(GradCheck, AddSameShape) {
  Rng rng(12);
  auto f = [](const std::vector<Tensor>& in) { return F::add(in[0], in[1]); };
  expect_ok(gradcheck(f, {random_tensor({3, 4}, rng), random_tensor({3, 4}, rng)}));
}

TEST(GradCheck, MulPerSample) {
  Rng rng(13);
  auto f = [](const std::vector<Tensor>& in) { return F::mul(in[0], in[1]); };
  expect_ok(gradcheck(f, {random_tensor({4, 6}, rng), random_tensor({4, 1}, rng)}));
}

TEST(GradCheck, MulPerFeature4d) {
  Rng rng(14);
  auto f = [](const std::vector<Tensor>& in) { return F::mul(in[0], in[1]); };
  expect_ok(gradcheck(f, {random_tensor({2, 3, 2, 2}, rng), random_tensor({1, 3, 1, 1}, rng)}));
}

TEST(GradCheck, Scale) {
  Rng rng(15);
  auto f = [](const std::vector<Tensor>& in) { return F::scale(in[0], -2.5); };
  expect_ok(gradcheck(f, {random_tensor({3, 3}, rng)}));
}

TEST(GradCheck, Log) {
  Rng rng(22);
  auto f = [](const std::vector<Tensor>& in) { return F::log(in[0]); };
  expect_ok(gradcheck(f, {random_tensor({4, 5}, rng, 0.2, 3.0)}));
}

TEST(GradCheck, Softmax) {
  Rng rng(16);
  auto f = [](const std::vector<Tensor>& in) { return F::softmax(in[0]); };
  expect_ok(gradcheck(f, {random_tensor({4, 6}, rng, -3, 3)}));
}

TEST(GradCheck, SoftmaxCrossEntropy) {
  Rng rng(17);
  Tensor labels = Tensor::from_vector<int32_t>({0, 3, 2, 3, 1}, {5});
  auto f = [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], labels); };
  expect_ok(gradcheck(f, {random_tensor({5, 4}, rng, -3, 3)}));
}

TEST(GradCheck, Mean) {
  Rng rng(18);
  auto f = [](const std::vector<Tensor>& in) { return F::mean(in[0]); };
  expect_ok(gradcheck(f, {random_tensor({3, 5}, rng)}));
}

TEST(GradCheck, Sum) {
  Rng rng(19);
  auto f = [](const std::vector<Tensor>& in) { return F::sum(in[0]); };
  expect_ok(gradcheck(f, {random_tensor({2, 2, 3}, rng)}));
}

TEST(GradCheck, Dropout) {
  Rng rng(20);
  auto f = [](const std::vector<Tensor>& in) { return F::dropout(in[0], 0.4, true, 1234); };
  expect_ok(gradcheck(f, {random_tensor({6, 7}, rng)}));
}

TEST(GradCheck, SmallCnnEndToEnd) {
  // The whole chain of a CNN: conv -> relu -> pool -> flatten -> linear -> cross-entropy.
  Rng rng(21);
  Tensor labels = Tensor::from_vector<int32_t>({1, 0}, {2});
  auto f = [&](const std::vector<Tensor>& in) {
    Tensor h = F::relu(F::conv2d(in[0], in[1], in[2]));
    h = F::flatten(F::max_pool2d(h, 2, 2));
    return F::cross_entropy(F::linear(h, in[3], in[4]), labels);
  };
  // Biases keep pre-activations positive, so no element sits on the ReLU kink.
  auto r = gradcheck(f, {random_tensor({2, 1, 6, 6}, rng, 0.1, 1), random_tensor({2, 1, 3, 3}, rng, 0.1, 1),
                         random_tensor({2}, rng, 0.1, 0.5), random_tensor({3, 8}, rng), random_tensor({3}, rng)});
  expect_ok(r);
}
