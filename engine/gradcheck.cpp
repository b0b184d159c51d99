#include "engine/gradcheck.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"

namespace duet {

Tensor random_tensor(const Shape& shape, Rng& rng, double lo, double hi, DType dtype) {
  Tensor t = Tensor::empty(shape, DType::f64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = rng.uniform(lo, hi);
  return t.to(dtype);
}

Tensor away_from_zero(const Shape& shape, Rng& rng, double margin) {
  Tensor t = random_tensor(shape, rng);
  for (int64_t i = 0; i < t.numel(); ++i) {
    double& v = t.data<double>()[i];
    v = (v < 0 ? -1 : 1) * (margin + std::abs(v));
  }
  return t;
}

Tensor distinct_values(const Shape& shape, Rng& rng, double gap) {
  Tensor t = Tensor::empty(shape, DType::f64);
  std::vector<double> v(t.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i) * gap - double(v.size()) * gap / 2;
  rng.shuffle(v);
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}

GradCheckResult gradcheck(const TensorFn& f, std::vector<Tensor> inputs, uint64_t seed, double h) {
  for (Tensor& t : inputs) {
    t.set_grad(Tensor());
    t.set_requires_grad(t.dtype() != DType::i32);
  }
  Rng rng(seed);
  Tensor probe = f(inputs);
  Tensor R = random_tensor(probe.shape(), rng);
  clear_tape();
  auto loss_of = [&](const std::vector<Tensor>& in) { return F::sum(F::mul(f(in), R)); };
  backward(loss_of(inputs));
  GradCheckResult res;
  for (Tensor& t : inputs) {
    if (t.dtype() == DType::i32) continue;
    Tensor analytic = t.grad();
    if (!analytic.defined()) {
      res.missing_gradient = true;
      continue;
    }
    double* x = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double saved = x[i];
      double lp, lm;
      {
        NoGrad ng;
        x[i] = saved + h;
        lp = loss_of(inputs).item();
        x[i] = saved - h;
        lm = loss_of(inputs).item();
      }
      x[i] = saved;
      const double numeric = (lp - lm) / (2 * h);
      const double a = analytic.data<double>()[i];
      res.max_rel_error = std::max(res.max_rel_error, std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), 1.0}));
      ++res.checked;
    }
  }
  return res;
}

namespace {

GradCheckResult check(const TensorFn& f, std::vector<Tensor> in) { return gradcheck(f, std::move(in)); }

std::vector<GradCheckCase> make_suite() {
  std::vector<GradCheckCase> s;
  auto add = [&](std::string name, std::function<GradCheckResult()> run) { s.push_back({std::move(name), std::move(run)}); };
  add("Conv2d", [] {
    Rng rng(1);
    F::Conv2dOptions o{2, 1, 1, 2, false};
    return check([=](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], o); },
                 {random_tensor({2, 3, 7, 6}, rng), random_tensor({4, 3, 3, 2}, rng), random_tensor({4}, rng)});
  });
  add("Conv2dNoBiasStride3", [] {
    Rng rng(2);
    F::Conv2dOptions o{3, 3, 0, 0, false};
    return check([=](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], Tensor(), o); },
                 {random_tensor({1, 1, 11, 13}, rng), random_tensor({2, 1, 5, 4}, rng)});
  });
  add("Conv2dFusedRelu", [] {
    // Weights and inputs of one sign keep pre-activations clear of the kink, except where
    // the bias pushes a channel clearly negative.
    Rng rng(3);
    F::Conv2dOptions o{1, 1, 0, 0, true};
    return check([=](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in[2], o); },
                 {random_tensor({2, 2, 3, 3}, rng, 0.5, 1.0), random_tensor({3, 2, 1, 1}, rng, 0.5, 1.0),
                  Tensor::from_vector<double>({0.3, -5.0, 0.1}, {3})});
  });
  add("Linear", [] {
    Rng rng(4);
    return check([](const std::vector<Tensor>& in) { return F::linear(in[0], in[1], in[2]); },
                 {random_tensor({5, 7}, rng), random_tensor({3, 7}, rng), random_tensor({3}, rng)});
  });
  add("Relu", [] {
    Rng rng(5);
    return check([](const std::vector<Tensor>& in) { return F::relu(in[0]); }, {away_from_zero({3, 4, 5}, rng)});
  });
  add("MaxPool2d", [] {
    Rng rng(6);
    return check([](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], 2, 3, 2, 2); },
                 {distinct_values({2, 3, 6, 7}, rng)});
  });
  add("GlobalAvgPool", [] {
    Rng rng(7);
    return check([](const std::vector<Tensor>& in) { return F::global_avg_pool(in[0]); }, {random_tensor({2, 3, 4, 5}, rng)});
  });
  add("FlattenReshape", [] {
    Rng rng(8);
    return check([](const std::vector<Tensor>& in) { return F::reshape(F::flatten(in[0]), {3, 2, -1}); },
                 {random_tensor({3, 2, 2, 5}, rng)});
  });
  add("Concat", [] {
    Rng rng(9);
    return check([](const std::vector<Tensor>& in) { return F::concat({in[0], in[1], in[2]}); },
                 {random_tensor({2, 3}, rng), random_tensor({2, 1}, rng), random_tensor({2, 4}, rng)});
  });
  add("ConcatChannels", [] {
    Rng rng(10);
    return check([](const std::vector<Tensor>& in) { return F::concat({in[0], in[1]}); },
                 {random_tensor({2, 1, 3, 2}, rng), random_tensor({2, 2, 3, 2}, rng)});
  });
  add("AddPerFeature", [] {
    Rng rng(11);
    return check([](const std::vector<Tensor>& in) { return F::add(in[0], in[1]); },
                 {random_tensor({4, 5}, rng), random_tensor({5}, rng)});
  });
  add("AddSameShape", [] {
    Rng rng(12);
    return check([](const std::vector<Tensor>& in) { return F::add(in[0], in[1]); },
                 {random_tensor({3, 4}, rng), random_tensor({3, 4}, rng)});
  });
  add("MulPerSample", [] {
    Rng rng(13);
    return check([](const std::vector<Tensor>& in) { return F::mul(in[0], in[1]); },
                 {random_tensor({4, 6}, rng), random_tensor({4, 1}, rng)});
  });
  add("MulPerFeature4d", [] {
    Rng rng(14);
    return check([](const std::vector<Tensor>& in) { return F::mul(in[0], in[1]); },
                 {random_tensor({2, 3, 2, 2}, rng), random_tensor({1, 3, 1, 1}, rng)});
  });
  add("Scale", [] {
    Rng rng(15);
    return check([](const std::vector<Tensor>& in) { return F::scale(in[0], -2.5); }, {random_tensor({3, 3}, rng)});
  });
  add("Log", [] {
    Rng rng(22);
    return check([](const std::vector<Tensor>& in) { return F::log(in[0]); }, {random_tensor({4, 5}, rng, 0.2, 3.0)});
  });
  add("Softmax", [] {
    Rng rng(16);
    return check([](const std::vector<Tensor>& in) { return F::softmax(in[0]); }, {random_tensor({4, 6}, rng, -3, 3)});
  });
  add("SoftmaxCrossEntropy", [] {
    Rng rng(17);
    Tensor labels = Tensor::from_vector<int32_t>({0, 3, 2, 3, 1}, {5});
    return check([=](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], labels); },
                 {random_tensor({5, 4}, rng, -3, 3)});
  });
  add("Mean", [] {
    Rng rng(18);
    return check([](const std::vector<Tensor>& in) { return F::mean(in[0]); }, {random_tensor({3, 5}, rng)});
  });
  add("Sum", [] {
    Rng rng(19);
    return check([](const std::vector<Tensor>& in) { return F::sum(in[0]); }, {random_tensor({2, 2, 3}, rng)});
  });
  add("Dropout", [] {
    Rng rng(20);
    return check([](const std::vector<Tensor>& in) { return F::dropout(in[0], 0.4, true, 1234); }, {random_tensor({6, 7}, rng)});
  });
  add("BatchNormTraining", [] {
    Rng rng(23);
    Tensor rm = Tensor::zeros({3}, DType::f64), rv = Tensor::full({3}, 1.0, DType::f64);
    return check([=](const std::vector<Tensor>& in) mutable { return F::batch_norm(in[0], in[1], in[2], rm, rv, true); },
                 {random_tensor({4, 3, 2, 3}, rng), random_tensor({3}, rng, 0.5, 1.5), random_tensor({3}, rng)});
  });
  add("BatchNormEvaluation", [] {
    Rng rng(24);
    Tensor rm = random_tensor({3}, rng), rv = random_tensor({3}, rng, 0.5, 2.0);
    return check([=](const std::vector<Tensor>& in) mutable { return F::batch_norm(in[0], in[1], in[2], rm, rv, false); },
                 {random_tensor({2, 3, 2, 2}, rng), random_tensor({3}, rng), random_tensor({3}, rng)});
  });
  add("BatchNorm1d", [] {
    Rng rng(25);
    Tensor rm = Tensor::zeros({4}, DType::f64), rv = Tensor::full({4}, 1.0, DType::f64);
    return check([=](const std::vector<Tensor>& in) mutable { return F::batch_norm(in[0], in[1], in[2], rm, rv, true); },
                 {random_tensor({5, 4}, rng), random_tensor({4}, rng), random_tensor({4}, rng)});
  });
  add("SmallCnnEndToEnd", [] {
    // conv -> relu -> pool -> flatten -> linear -> cross-entropy; positive biases keep every
    // pre-activation clear of the ReLU kink.
    Rng rng(21);
    Tensor labels = Tensor::from_vector<int32_t>({1, 0}, {2});
    return check(
        [=](const std::vector<Tensor>& in) {
          Tensor h = F::relu(F::conv2d(in[0], in[1], in[2]));
          h = F::flatten(F::max_pool2d(h, 2, 2));
          return F::cross_entropy(F::linear(h, in[3], in[4]), labels);
        },
        {random_tensor({2, 1, 6, 6}, rng, 0.1, 1), random_tensor({2, 1, 3, 3}, rng, 0.1, 1),
         random_tensor({2}, rng, 0.1, 0.5), random_tensor({3, 8}, rng), random_tensor({3}, rng)});
  });
  return s;
}

}  // namespace

const std::vector<GradCheckCase>& gradcheck_suite() {
  static const std::vector<GradCheckCase> suite = make_suite();
  return suite;
}

GradCheckResult run_gradcheck(const std::string& name) {
  for (const auto& c : gradcheck_suite())
    if (c.name == name) return c.run();
  fail("no gradient check named '", name, "'");
}

}  // namespace duet
