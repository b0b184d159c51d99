// The differentiable ops: what models are written in. Each checks its arguments, runs the
// forward on the tensors' device (CPU: float32 or float64; CUDA: float32), and records its
// backward rule on the tape (autograd.h). The rules all live in functional.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace duet::F {

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  bool relu = false;  // fuse ReLU into the forward (same result as relu(conv2d(...)))
};

// x [N,C,H,W], w [K,C,R,S], b [K] or undefined -> [N,K,P,Q]
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o = {});
// x [N,I], w [O,I], b [O] or undefined -> [N,O]
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);
Tensor relu(const Tensor& x);
// x [N,C,H,W] -> [N,C,P,Q], window kh x kw, stride sh x sw (defaults to the window)
Tensor max_pool2d(const Tensor& x, int64_t kh, int64_t kw, int64_t sh = 0, int64_t sw = 0);
// x [N,C,H,W] -> [N,C]
Tensor global_avg_pool(const Tensor& x);
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x);  // [N, ...] -> [N, prod(...)]
// Concatenation along axis 1 (features / channels) of tensors that agree on every other dim.
Tensor concat(const std::vector<Tensor>& xs);
// Element-wise with NumPy broadcasting.
Tensor add(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double alpha);
Tensor log(const Tensor& x);  // natural logarithm, element-wise (x > 0)
Tensor softmax(const Tensor& x);  // over the last axis of a 2-D tensor
// logits [N,C], labels int32 [N] -> scalar mean cross-entropy
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);
Tensor sum(const Tensor& x);   // -> scalar
Tensor mean(const Tensor& x);  // -> scalar
// Batch normalisation over channels of [N, C, H, W] (or [N, C]), as BatchNorm2d/1d.
// running_mean/var [C] are updated in place in training mode and used in evaluation.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
// Inverted dropout with probability p; the identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training, uint64_t seed);

}  // namespace duet::F

namespace duet::F {
// Not differentiable (no tape): argmax per row of [N, C] -> int32 [N].
Tensor argmax(const Tensor& logits);
// count (a one-element tensor on the logits' device) += number of rows whose argmax equals
// the label. Nothing is copied to the host.
void count_correct(const Tensor& logits, const Tensor& labels, Tensor& count);
// dst += src, element-wise, same shape, no tape (running sums of losses).
void accumulate(Tensor& dst, const Tensor& src);
}  // namespace duet::F
