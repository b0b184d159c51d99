// Reductions to one scalar: sum(x) and mean(x) over all n elements.
// Gradient (accumulated): dx[i] += dy * scale, with scale 1 (sum) or 1/n (mean).
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

template <class T>
void sum_forward_cpu(int64_t n, const T* x, T scale, T* y);  // *y = scale * sum(x)
template <class T>
void sum_backward_cpu(int64_t n, const T* dy, T scale, T* dx);

void sum_forward_cuda(int64_t n, const float* x, float scale, float* y, Stream s);
void sum_backward_cuda(int64_t n, const float* dy, float scale, float* dx, Stream s);

}  // namespace duet::ops
