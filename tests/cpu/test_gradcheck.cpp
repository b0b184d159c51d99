// Tier 1: every differentiable op's backward agrees with finite differences in float64.
// The checks themselves live in engine/gradcheck.cpp (shared with `duet gradcheck`); here
// each is a named test, and a guard makes sure none is forgotten.
#include <set>

#include "engine/error.h"
#include "engine/functional.h"
#include "gradcheck.h"

using namespace duet;

namespace {
void expect_ok(const std::string& name) {
  GradCheckResult r = run_gradcheck(name);
  EXPECT_FALSE(r.missing_gradient) << name << ": an input received no gradient";
  EXPECT_GT(r.checked, 0) << name;
  EXPECT_LE(r.max_rel_error, kGradCheckTolerance) << name << " over " << r.checked << " elements";
}
}  // namespace

#define DUET_GRADCHECK_TEST(Name) \
  TEST(GradCheck, Name) { expect_ok(#Name); }

DUET_GRADCHECK_TEST(Conv2d)
DUET_GRADCHECK_TEST(Conv2dNoBiasStride3)
DUET_GRADCHECK_TEST(Conv2dFusedRelu)
DUET_GRADCHECK_TEST(Linear)
DUET_GRADCHECK_TEST(Relu)
DUET_GRADCHECK_TEST(MaxPool2d)
DUET_GRADCHECK_TEST(GlobalAvgPool)
DUET_GRADCHECK_TEST(FlattenReshape)
DUET_GRADCHECK_TEST(Concat)
DUET_GRADCHECK_TEST(ConcatChannels)
DUET_GRADCHECK_TEST(AddPerFeature)
DUET_GRADCHECK_TEST(AddSameShape)
DUET_GRADCHECK_TEST(MulPerSample)
DUET_GRADCHECK_TEST(MulPerFeature4d)
DUET_GRADCHECK_TEST(Scale)
DUET_GRADCHECK_TEST(Log)
DUET_GRADCHECK_TEST(Softmax)
DUET_GRADCHECK_TEST(SoftmaxCrossEntropy)
DUET_GRADCHECK_TEST(Mean)
DUET_GRADCHECK_TEST(Sum)
DUET_GRADCHECK_TEST(Dropout)
DUET_GRADCHECK_TEST(BatchNormTraining)
DUET_GRADCHECK_TEST(BatchNormEvaluation)
DUET_GRADCHECK_TEST(BatchNorm1d)
DUET_GRADCHECK_TEST(SmallCnnEndToEnd)

TEST(GradCheck, EveryCaseOfTheSuiteHasATest) {
  const std::set<std::string> tested = {"Conv2d", "Conv2dNoBiasStride3", "Conv2dFusedRelu", "Linear", "Relu",
                                        "MaxPool2d", "GlobalAvgPool", "FlattenReshape", "Concat", "ConcatChannels",
                                        "AddPerFeature", "AddSameShape", "MulPerSample", "MulPerFeature4d", "Scale",
                                        "Log", "Softmax", "SoftmaxCrossEntropy", "Mean", "Sum", "Dropout",
                                        "BatchNormTraining", "BatchNormEvaluation", "BatchNorm1d", "SmallCnnEndToEnd"};
  for (const auto& c : gradcheck_suite()) EXPECT_TRUE(tested.count(c.name)) << c.name << " has no GradCheck test";
  EXPECT_THROW(run_gradcheck("NoSuchOp"), Error);
}

TEST(GradCheck, DetectsAWrongGradient) {
  // The checker itself must be able to fail: scale's backward is right for alpha, so
  // comparing against a function whose forward differs from what the tape differentiates
  // (a detached factor) must report an error.
  Rng rng(99);
  Tensor c = random_tensor({4}, rng, 1.0, 2.0);
  auto f = [&](const std::vector<Tensor>& in) { return F::mul(in[0], F::add(in[0].detach(), c)); };
  GradCheckResult r = gradcheck(f, {random_tensor({4}, rng, 1.0, 2.0)});
  EXPECT_GT(r.max_rel_error, 0.1);
}
