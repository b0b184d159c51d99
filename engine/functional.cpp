// Forward computation and backward rule of every differentiable op, side by side.
//
// Pattern of each op: time it (profile::Scope, `duet train --profile`) -> check arguments ->
// allocate the output -> run the forward on the tensors' device -> record(name, inputs,
// output, backward). A backward closure receives dy (the gradient of the output) and adds
// into grad_buffer(input) for each input that requires a gradient (an undefined buffer
// means "not wanted").
#include "engine/functional.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops/activation.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/dropout.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linear.h"
#include "engine/ops/pool.h"
#include "engine/ops/reduce.h"
#include "engine/ops/softmax.h"
#include "engine/profile.h"

namespace duet::F {
namespace {

// Runs f(T{}) with T the tensor's CPU floating type.
template <class Fn>
void on_cpu(const Tensor& t, const char* op, Fn&& f) {
  switch (t.dtype()) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    default: fail(op, ": expected a float32 or float64 tensor, got ", to_string(t.dtype()));
  }
}

template <class T>
T* ptr(const Tensor& t) {  // null for an undefined tensor (optional bias, unwanted grad)
  return t.defined() ? const_cast<Tensor&>(t).data<T>() : nullptr;
}
[[maybe_unused]] float* fptr(const Tensor& t) { return ptr<float>(t); }

Tensor like(const Tensor& x, const Shape& shape) { return Tensor::empty(shape, x.dtype(), x.device()); }

void same_device(std::initializer_list<Tensor> ts, const char* op) {
  const Tensor* first = nullptr;
  for (const Tensor& t : ts) {
    if (!t.defined()) continue;
    if (!first) first = &t;
    check_same_device(*first, t, op);
    DUET_CHECK(t.dtype() == first->dtype(), op, ": mixed dtypes ", to_string(first->dtype()), " and ",
               to_string(t.dtype()));
  }
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o) {
  profile::Scope timed("conv2d", profile::Part::forward);
  check_ndim(x, 4, "conv2d input");
  check_ndim(w, 4, "conv2d weight");
  same_device({x, w, b}, "conv2d");
  DUET_CHECK(w.size(1) == x.size(1), "conv2d: input has ", x.size(1), " channels, weight expects ", w.size(1));
  if (b.defined()) check_shape(b, {w.size(0)}, "conv2d bias");
  ops::Conv2dShape s{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3),
                     o.stride_h, o.stride_w, o.pad_h, o.pad_w};
  s.validate();
  Tensor y = like(x, {s.N, s.K, s.P(), s.Q()});
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::conv2d_forward_cuda(s, fptr(x), fptr(w), fptr(b), fptr(y), o.relu, cuda::stream()));
  } else {
    on_cpu(x, "conv2d", [&](auto t) {
      using T = decltype(t);
      ops::conv2d_forward_cpu<T>(s, ptr<T>(x), ptr<T>(w), ptr<T>(b), ptr<T>(y));
      if (o.relu) ops::relu_forward_cpu<T>(y.numel(), ptr<T>(y), ptr<T>(y));
    });
  }
  record("conv2d", {x, w, b}, y, [x, w, b, y, s, relu = o.relu](const Tensor& dy_in) {
    Tensor dy = dy_in;
    if (relu) {  // d(relu(z))/dz = [y > 0]
      dy = Tensor::zeros(dy_in.shape(), dy_in.dtype(), dy_in.device());
      if (dy.is_cuda())
        DUET_CUDA_CALL(ops::relu_backward_cuda(dy.numel(), fptr(dy_in), fptr(y), fptr(dy), cuda::stream()));
      else
        on_cpu(dy, "conv2d", [&](auto t) {
          using T = decltype(t);
          ops::relu_backward_cpu<T>(dy.numel(), ptr<T>(dy_in), ptr<T>(y), ptr<T>(dy));
        });
    }
    Tensor dx = grad_buffer(x), dw = grad_buffer(w), db = grad_buffer(b);
    if (dy.is_cuda()) {
      if (dx.defined()) DUET_CUDA_CALL(ops::conv2d_backward_data_cuda(s, fptr(dy), fptr(w), fptr(dx), cuda::stream()));
      if (dw.defined() || db.defined())
        DUET_CUDA_CALL(ops::conv2d_backward_weight_cuda(s, fptr(dy), fptr(x), fptr(dw), fptr(db), cuda::stream()));
      return;
    }
    on_cpu(dy, "conv2d", [&](auto t) {
      using T = decltype(t);
      if (dx.defined()) ops::conv2d_backward_data_cpu<T>(s, ptr<T>(dy), ptr<T>(w), ptr<T>(dx));
      if (dw.defined() || db.defined())
        ops::conv2d_backward_weight_cpu<T>(s, ptr<T>(dy), ptr<T>(x), ptr<T>(dw), ptr<T>(db));
    });
  });
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  profile::Scope timed("linear", profile::Part::forward);
  check_ndim(x, 2, "linear input");
  check_ndim(w, 2, "linear weight");
  same_device({x, w, b}, "linear");
  const int64_t N = x.size(0), I = x.size(1), O = w.size(0);
  DUET_CHECK(w.size(1) == I, "linear: input has ", I, " features, weight ", shape_str(w.shape()), " expects ",
             w.size(1));
  if (b.defined()) check_shape(b, {O}, "linear bias");
  Tensor y = like(x, {N, O});
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::linear_forward_cuda(N, I, O, fptr(x), fptr(w), fptr(b), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, "linear", [&](auto t) {
      using T = decltype(t);
      ops::linear_forward_cpu<T>(N, I, O, ptr<T>(x), ptr<T>(w), ptr<T>(b), ptr<T>(y));
    });
  }
  record("linear", {x, w, b}, y, [x, w, b, N, I, O](const Tensor& dy) {
    Tensor dx = grad_buffer(x), dw = grad_buffer(w), db = grad_buffer(b);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::linear_backward_cuda(N, I, O, fptr(dy), fptr(x), fptr(w), fptr(dx), fptr(dw), fptr(db),
                                               cuda::stream()));
      return;
    }
    on_cpu(dy, "linear", [&](auto t) {
      using T = decltype(t);
      ops::linear_backward_cpu<T>(N, I, O, ptr<T>(dy), ptr<T>(x), ptr<T>(w), ptr<T>(dx), ptr<T>(dw), ptr<T>(db));
    });
  });
  return y;
}

Tensor relu(const Tensor& x) {
  profile::Scope timed("relu", profile::Part::forward);
  Tensor y = like(x, x.shape());
  const int64_t n = x.numel();
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::relu_forward_cuda(n, fptr(x), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, "relu", [&](auto t) {
      using T = decltype(t);
      ops::relu_forward_cpu<T>(n, ptr<T>(x), ptr<T>(y));
    });
  }
  record("relu", {x}, y, [x, y, n](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::relu_backward_cuda(n, fptr(dy), fptr(y), fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dy, "relu", [&](auto t) {
      using T = decltype(t);
      ops::relu_backward_cpu<T>(n, ptr<T>(dy), ptr<T>(y), ptr<T>(dx));
    });
  });
  return y;
}

Tensor max_pool2d(const Tensor& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw) {
  profile::Scope timed("max_pool2d", profile::Part::forward);
  check_ndim(x, 4, "max_pool2d input");
  ops::Pool2dShape s{x.size(0), x.size(1), x.size(2), x.size(3), kh, kw, sh ? sh : kh, sw ? sw : kw};
  s.validate();
  Tensor y = like(x, {s.N, s.C, s.P(), s.Q()});
  Tensor argmax = Tensor::empty(y.shape(), DType::i32, x.device());
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::max_pool2d_forward_cuda(s, fptr(x), fptr(y), argmax.data<int32_t>(), cuda::stream()));
  } else {
    on_cpu(x, "max_pool2d", [&](auto t) {
      using T = decltype(t);
      ops::max_pool2d_forward_cpu<T>(s, ptr<T>(x), ptr<T>(y), argmax.data<int32_t>());
    });
  }
  record("max_pool2d", {x}, y, [x, argmax, s](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::max_pool2d_backward_cuda(s, fptr(dy), argmax.data<int32_t>(), fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dy, "max_pool2d", [&](auto t) {
      using T = decltype(t);
      ops::max_pool2d_backward_cpu<T>(s, ptr<T>(dy), argmax.data<int32_t>(), ptr<T>(dx));
    });
  });
  return y;
}

Tensor global_avg_pool(const Tensor& x) {
  profile::Scope timed("global_avg_pool", profile::Part::forward);
  check_ndim(x, 4, "global_avg_pool input");
  const int64_t NC = x.size(0) * x.size(1), HW = x.size(2) * x.size(3);
  DUET_CHECK(HW > 0, "global_avg_pool: empty plane in ", shape_str(x.shape()));
  Tensor y = like(x, {x.size(0), x.size(1)});
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::global_avg_pool_forward_cuda(NC, HW, fptr(x), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, "global_avg_pool", [&](auto t) {
      using T = decltype(t);
      ops::global_avg_pool_forward_cpu<T>(NC, HW, ptr<T>(x), ptr<T>(y));
    });
  }
  record("global_avg_pool", {x}, y, [x, NC, HW](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::global_avg_pool_backward_cuda(NC, HW, fptr(dy), fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dy, "global_avg_pool", [&](auto t) {
      using T = decltype(t);
      ops::global_avg_pool_backward_cpu<T>(NC, HW, ptr<T>(dy), ptr<T>(dx));
    });
  });
  return y;
}

// y = alpha * x, or dst += alpha * src in the accumulate form used by backward rules.
static void scale_into(const Tensor& src, double alpha, Tensor dst, bool accumulate) {
  if (src.is_cuda()) {
    DUET_CUDA_CALL(ops::scale_cuda(src.numel(), float(alpha), fptr(src), fptr(dst), accumulate, cuda::stream()));
    return;
  }
  on_cpu(src, "scale", [&](auto t) {
    using T = decltype(t);
    ops::scale_cpu<T>(src.numel(), T(alpha), ptr<T>(src), ptr<T>(dst), accumulate);
  });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  profile::Scope timed("reshape", profile::Part::forward);
  Tensor y = x.detach().reshape(shape);  // a view: no copy
  record("reshape", {x}, y, [x](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dx.defined()) scale_into(dy.reshape(x.shape()), 1.0, dx, true);
  });
  return y;
}

Tensor flatten(const Tensor& x) {
  DUET_CHECK(x.ndim() >= 1, "flatten: needs a batch axis, got a scalar");
  return reshape(x, {x.size(0), -1});
}

Tensor concat(const std::vector<Tensor>& xs) {
  profile::Scope timed("concat", profile::Part::forward);
  DUET_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs[0];
  DUET_CHECK(first.ndim() >= 2, "concat: tensors need a batch and a feature axis, got ", shape_str(first.shape()));
  const int64_t outer = first.size(0);
  const int64_t rest = first.numel() / std::max<int64_t>(1, outer * first.size(1));  // dims after axis 1
  int64_t total = 0;
  for (const Tensor& t : xs) {
    check_same_device(first, t, "concat");
    DUET_CHECK(t.ndim() == first.ndim() && t.size(0) == outer, "concat: ", shape_str(t.shape()),
               " does not match ", shape_str(first.shape()), " outside axis 1");
    for (int d = 2; d < t.ndim(); ++d)
      DUET_CHECK(t.size(d) == first.size(d), "concat: ", shape_str(t.shape()), " does not match ",
                 shape_str(first.shape()), " outside axis 1");
    DUET_CHECK(t.dtype() == first.dtype(), "concat: mixed dtypes");
    total += t.size(1);
  }
  Shape out_shape = first.shape();
  out_shape[1] = total;
  Tensor y = like(first, out_shape);
  const int64_t out_inner = total * rest;
  auto blocks = [&](auto&& fn) {  // fn(tensor, inner, offset) for each input block
    int64_t offset = 0;
    for (const Tensor& t : xs) {
      fn(t, t.size(1) * rest, offset);
      offset += t.size(1) * rest;
    }
  };
  blocks([&](const Tensor& t, int64_t inner, int64_t offset) {
    if (t.is_cuda()) {
      DUET_CUDA_CALL(ops::copy_block_cuda(outer, inner, fptr(t), inner, fptr(y), out_inner, offset, false,
                                          cuda::stream()));
      return;
    }
    on_cpu(t, "concat", [&](auto tag) {
      using T = decltype(tag);
      ops::copy_block_cpu<T>(outer, inner, ptr<T>(t), inner, ptr<T>(y), out_inner, offset, false);
    });
  });
  record("concat", xs, y, [xs, outer, rest, out_inner](const Tensor& dy) {
    int64_t offset = 0;
    for (const Tensor& t : xs) {
      const int64_t inner = t.size(1) * rest;
      Tensor dx = grad_buffer(t);
      if (dx.defined()) {
        // dx[o, i] += dy[o, offset + i]: a block copy read from dy at an offset.
        if (dy.is_cuda()) {
          DUET_CUDA_CALL(ops::copy_block_cuda(outer, inner, fptr(dy) + offset, out_inner, fptr(dx), inner, 0, true,
                                              cuda::stream()));
        } else {
          on_cpu(dy, "concat", [&](auto tag) {
            using T = decltype(tag);
            ops::copy_block_cpu<T>(outer, inner, ptr<T>(dy) + offset, out_inner, ptr<T>(dx), inner, 0, true);
          });
        }
      }
      offset += inner;
    }
  });
  return y;
}

static Tensor binary(ops::BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  profile::Scope timed(name, profile::Part::forward);
  same_device({a, b}, name);
  ops::Broadcast bc = ops::make_broadcast(a.shape(), b.shape());
  Tensor y = like(a, ops::broadcast_shape(bc));
  if (a.is_cuda()) {
    DUET_CUDA_CALL(ops::binary_forward_cuda(op, bc, fptr(a), fptr(b), fptr(y), cuda::stream()));
  } else {
    on_cpu(a, name, [&](auto t) {
      using T = decltype(t);
      ops::binary_forward_cpu<T>(op, bc, ptr<T>(a), ptr<T>(b), ptr<T>(y));
    });
  }
  record(name, {a, b}, y, [op, bc, a, b, name](const Tensor& dy) {
    Tensor da = grad_buffer(a), db = grad_buffer(b);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::binary_backward_cuda(op, bc, fptr(dy), fptr(a), fptr(b), fptr(da), fptr(db), cuda::stream()));
      return;
    }
    on_cpu(dy, name, [&](auto t) {
      using T = decltype(t);
      ops::binary_backward_cpu<T>(op, bc, ptr<T>(dy), ptr<T>(a), ptr<T>(b), ptr<T>(da), ptr<T>(db));
    });
  });
  return y;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(ops::BinaryOp::add, "add", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(ops::BinaryOp::mul, "mul", a, b); }

Tensor scale(const Tensor& x, double alpha) {
  profile::Scope timed("scale", profile::Part::forward);
  Tensor y = like(x, x.shape());
  scale_into(x, alpha, y, false);
  record("scale", {x}, y, [x, alpha](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dx.defined()) scale_into(dy, alpha, dx, true);
  });
  return y;
}

Tensor log(const Tensor& x) {
  profile::Scope timed("log", profile::Part::forward);
  const int64_t n = x.numel();
  Tensor y = like(x, x.shape());
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::log_forward_cuda(n, fptr(x), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, "log", [&](auto t) {
      using T = decltype(t);
      ops::log_forward_cpu<T>(n, ptr<T>(x), ptr<T>(y));
    });
  }
  record("log", {x}, y, [x, n](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::log_backward_cuda(n, fptr(dy), fptr(x), fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dy, "log", [&](auto t) {
      using T = decltype(t);
      ops::log_backward_cpu<T>(n, ptr<T>(dy), ptr<T>(x), ptr<T>(dx));
    });
  });
  return y;
}

Tensor softmax(const Tensor& x) {
  profile::Scope timed("softmax", profile::Part::forward);
  check_ndim(x, 2, "softmax input");
  const int64_t M = x.size(0), C = x.size(1);
  Tensor y = like(x, x.shape());
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::softmax_forward_cuda(M, C, fptr(x), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, "softmax", [&](auto t) {
      using T = decltype(t);
      ops::softmax_forward_cpu<T>(M, C, ptr<T>(x), ptr<T>(y));
    });
  }
  record("softmax", {x}, y, [x, y, M, C](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::softmax_backward_cuda(M, C, fptr(dy), fptr(y), fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dy, "softmax", [&](auto t) {
      using T = decltype(t);
      ops::softmax_backward_cpu<T>(M, C, ptr<T>(dy), ptr<T>(y), ptr<T>(dx));
    });
  });
  return y;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  profile::Scope timed("cross_entropy", profile::Part::forward);
  check_ndim(logits, 2, "cross_entropy logits");
  check_ndim(labels, 1, "cross_entropy labels");
  check_same_device(logits, labels, "cross_entropy");
  DUET_CHECK(labels.dtype() == DType::i32, "cross_entropy: labels must be int32, got ", to_string(labels.dtype()));
  const int64_t N = logits.size(0), C = logits.size(1);
  DUET_CHECK(labels.size(0) == N, "cross_entropy: ", N, " rows of logits but ", labels.size(0), " labels");
  DUET_CHECK(N > 0, "cross_entropy: empty batch");
  Tensor probs = like(logits, logits.shape());
  Tensor loss = like(logits, {});
  if (logits.is_cuda()) {
    DUET_CUDA_CALL(ops::softmax_xent_forward_cuda(N, C, fptr(logits), labels.data<int32_t>(), fptr(probs),
                                                  fptr(loss), cuda::stream()));
  } else {
    on_cpu(logits, "cross_entropy", [&](auto t) {
      using T = decltype(t);
      ops::softmax_xent_forward_cpu<T>(N, C, ptr<T>(logits), labels.data<int32_t>(), ptr<T>(probs), ptr<T>(loss));
    });
  }
  record("cross_entropy", {logits}, loss, [logits, labels, probs, N, C](const Tensor& dloss) {
    Tensor dx = grad_buffer(logits);
    if (dloss.is_cuda()) {
      DUET_CUDA_CALL(ops::softmax_xent_backward_cuda(N, C, fptr(dloss), fptr(probs), labels.data<int32_t>(),
                                                     fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dloss, "cross_entropy", [&](auto t) {
      using T = decltype(t);
      ops::softmax_xent_backward_cpu<T>(N, C, ptr<T>(dloss), ptr<T>(probs), labels.data<int32_t>(), ptr<T>(dx));
    });
  });
  return loss;
}

static Tensor reduce_all(const Tensor& x, double scale_by, const char* name) {
  profile::Scope timed(name, profile::Part::forward);
  const int64_t n = x.numel();
  Tensor y = like(x, {});
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::sum_forward_cuda(n, fptr(x), float(scale_by), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, name, [&](auto t) {
      using T = decltype(t);
      ops::sum_forward_cpu<T>(n, ptr<T>(x), T(scale_by), ptr<T>(y));
    });
  }
  record(name, {x}, y, [x, n, scale_by, name](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::sum_backward_cuda(n, fptr(dy), float(scale_by), fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dy, name, [&](auto t) {
      using T = decltype(t);
      ops::sum_backward_cpu<T>(n, ptr<T>(dy), T(scale_by), ptr<T>(dx));
    });
  });
  return y;
}

Tensor sum(const Tensor& x) { return reduce_all(x, 1.0, "sum"); }
Tensor mean(const Tensor& x) {
  DUET_CHECK(x.numel() > 0, "mean of an empty tensor ", shape_str(x.shape()));
  return reduce_all(x, 1.0 / double(x.numel()), "mean");
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum, double eps) {
  profile::Scope timed("batch_norm", profile::Part::forward);
  DUET_CHECK(x.ndim() == 2 || x.ndim() == 4, "batch_norm: expected [N, C] or [N, C, H, W], got ",
             shape_str(x.shape()));
  const int64_t C = x.size(1);
  for (const Tensor* t : {&gamma, &beta, static_cast<const Tensor*>(&running_mean), static_cast<const Tensor*>(&running_var)})
    check_shape(*t, {C}, "batch_norm parameter");
  same_device({x, gamma, beta, running_mean, running_var}, "batch_norm");
  const ops::BatchNormShape s{x.size(0), C, x.ndim() == 4 ? x.size(2) * x.size(3) : 1, eps, momentum};
  DUET_CHECK(!training || s.N * s.HW > 1, "batch_norm: training needs more than one value per channel, got ",
             shape_str(x.shape()));
  Tensor y = like(x, x.shape()), mean = like(x, {C}), invstd = like(x, {C});
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::batchnorm_forward_cuda(s, training, fptr(x), fptr(gamma), fptr(beta), fptr(running_mean),
                                               fptr(running_var), fptr(mean), fptr(invstd), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, "batch_norm", [&](auto t) {
      using T = decltype(t);
      ops::batchnorm_forward_cpu<T>(s, training, ptr<T>(x), ptr<T>(gamma), ptr<T>(beta), ptr<T>(running_mean),
                                    ptr<T>(running_var), ptr<T>(mean), ptr<T>(invstd), ptr<T>(y));
    });
  }
  record("batch_norm", {x, gamma, beta}, y, [x, gamma, beta, mean, invstd, s, training](const Tensor& dy) {
    Tensor dx = grad_buffer(x), dg = grad_buffer(gamma), db = grad_buffer(beta);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::batchnorm_backward_cuda(s, training, fptr(dy), fptr(x), fptr(gamma), fptr(mean), fptr(invstd),
                                                  fptr(dx), fptr(dg), fptr(db), cuda::stream()));
      return;
    }
    on_cpu(dy, "batch_norm", [&](auto t) {
      using T = decltype(t);
      ops::batchnorm_backward_cpu<T>(s, training, ptr<T>(dy), ptr<T>(x), ptr<T>(gamma), ptr<T>(mean), ptr<T>(invstd),
                                     ptr<T>(dx), ptr<T>(dg), ptr<T>(db));
    });
  });
  return y;
}

Tensor dropout(const Tensor& x, double p, bool training, uint64_t seed) {
  profile::Scope timed("dropout", profile::Part::forward);
  DUET_CHECK(p >= 0.0 && p < 1.0, "dropout: probability must be in [0, 1), got ", p);
  if (!training || p == 0.0) return x;
  const int64_t n = x.numel();
  Tensor y = like(x, x.shape());
  if (x.is_cuda()) {
    DUET_CUDA_CALL(ops::dropout_forward_cuda(n, float(p), seed, fptr(x), fptr(y), cuda::stream()));
  } else {
    on_cpu(x, "dropout", [&](auto t) {
      using T = decltype(t);
      ops::dropout_forward_cpu<T>(n, float(p), seed, ptr<T>(x), ptr<T>(y));
    });
  }
  record("dropout", {x}, y, [x, n, p, seed](const Tensor& dy) {
    Tensor dx = grad_buffer(x);
    if (dy.is_cuda()) {
      DUET_CUDA_CALL(ops::dropout_backward_cuda(n, float(p), seed, fptr(dy), fptr(dx), cuda::stream()));
      return;
    }
    on_cpu(dy, "dropout", [&](auto t) {
      using T = decltype(t);
      ops::dropout_backward_cpu<T>(n, float(p), seed, ptr<T>(dy), ptr<T>(dx));
    });
  });
  return y;
}

}  // namespace duet::F

#include "engine/ops/metrics.h"

namespace duet::F {

Tensor argmax(const Tensor& logits) {
  profile::Scope timed("argmax", profile::Part::forward);
  check_ndim(logits, 2, "argmax input");
  const int64_t N = logits.size(0), C = logits.size(1);
  Tensor pred = Tensor::empty({N}, DType::i32, logits.device());
  if (logits.is_cuda()) {
    DUET_CUDA_CALL(ops::argmax_rows_cuda(N, C, fptr(logits), pred.data<int32_t>(), cuda::stream()));
  } else {
    on_cpu(logits, "argmax", [&](auto t) {
      using T = decltype(t);
      ops::argmax_rows_cpu<T>(N, C, ptr<T>(logits), pred.data<int32_t>());
    });
  }
  return pred;
}

void count_correct(const Tensor& logits, const Tensor& labels, Tensor& count) {
  profile::Scope timed("count_correct", profile::Part::forward);
  check_ndim(logits, 2, "count_correct logits");
  check_shape(labels, {logits.size(0)}, "count_correct labels");
  check_same_device(logits, labels, "count_correct");
  check_same_device(logits, count, "count_correct");
  DUET_CHECK(count.numel() == 1 && count.dtype() == logits.dtype(), "count_correct: count must be one element of ",
             to_string(logits.dtype()));
  const int64_t N = logits.size(0), C = logits.size(1);
  if (logits.is_cuda()) {
    DUET_CUDA_CALL(ops::count_correct_add_cuda(N, C, fptr(logits), labels.data<int32_t>(), fptr(count), cuda::stream()));
  } else {
    on_cpu(logits, "count_correct", [&](auto t) {
      using T = decltype(t);
      ops::count_correct_add_cpu<T>(N, C, ptr<T>(logits), labels.data<int32_t>(), ptr<T>(count));
    });
  }
}

void accumulate(Tensor& dst, const Tensor& src) {
  profile::Scope timed("accumulate", profile::Part::forward);
  check_shape(src, dst.shape(), "accumulate");
  check_same_device(dst, src, "accumulate");
  scale_into(src, 1.0, dst, true);
}

}  // namespace duet::F
