// ReLU: y = max(0, x). Gradient (accumulated): dx += dy * [y > 0].
// The backward reads y (not x): y > 0 exactly where x > 0, and y is what the tape keeps.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

template <class T>
void relu_forward_cpu(int64_t n, const T* x, T* y);
template <class T>
void relu_backward_cpu(int64_t n, const T* dy, const T* y, T* dx);

void relu_forward_cuda(int64_t n, const float* x, float* y, Stream stream);
void relu_backward_cuda(int64_t n, const float* dy, const float* y, float* dx, Stream stream);

}  // namespace duet::ops
