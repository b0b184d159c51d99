// Inverted dropout: y[i] = x[i] * keep[i] / (1 - p), keep[i] = uniform_hash(seed, i) >= p.
// The mask is a pure function of (seed, i) (engine/rng.h), so the backward regenerates it
// instead of storing it, and the CPU and GPU draw the same mask for the same seed.
// Gradient (accumulated): dx[i] += dy[i] * keep[i] / (1 - p). In evaluation it is the identity.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

template <class T>
void dropout_forward_cpu(int64_t n, float p, uint64_t seed, const T* x, T* y);
template <class T>
void dropout_backward_cpu(int64_t n, float p, uint64_t seed, const T* dy, T* dx);

void dropout_forward_cuda(int64_t n, float p, uint64_t seed, const float* x, float* y, Stream s);
void dropout_backward_cuda(int64_t n, float p, uint64_t seed, const float* dy, float* dx, Stream s);

}  // namespace duet::ops
