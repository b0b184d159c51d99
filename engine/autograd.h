// The autograd tape (reverse-mode automatic differentiation).
//
// Every differentiable op in functional.cpp computes its output, then, when gradients are
// wanted, appends a Node: the inputs, the output, and a closure holding what the backward
// needs (saved tensors). backward(loss) sets d loss/d loss = 1 and walks the tape in reverse;
// each node reads its output's gradient and ADDS its inputs' gradients into their buffers,
// so a tensor used twice (fan-in) receives the sum. Leaf tensors that require grad
// (parameters) keep their gradients, which accumulate until zeroed.
#pragma once
#include <functional>
#include <vector>

#include "engine/tensor.h"

namespace duet {

struct Node {
  const char* name;
  std::vector<Tensor> inputs;
  Tensor output;
  std::function<void(const Tensor& grad_output)> backward;
};

// Whether ops record onto the tape (true unless inside a NoGrad scope). Thread-local.
bool grad_enabled();

// Evaluation scope: while alive, no op records, so no activations are kept for backward.
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

// True when grad is enabled and any input requires a gradient.
bool any_requires_grad(std::initializer_list<Tensor> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Appends a node when any input requires grad; marks the output as requiring grad.
void record(const char* name, std::vector<Tensor> inputs, Tensor& output,
            std::function<void(const Tensor&)> backward);

// Back-propagates from a one-element tensor and clears the tape.
void backward(const Tensor& loss);

// Drops every recorded node (e.g. after a forward pass whose result was not differentiated).
void clear_tape();
std::size_t tape_size();

// The gradient buffer of t when t requires grad (allocated as zeros on first use), else an
// undefined tensor: backward rules write into it only when it is defined.
Tensor grad_buffer(Tensor t);

}  // namespace duet
