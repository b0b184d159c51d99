// Softmax over the last axis of x [M, C]:  y[m,c] = exp(x[m,c] - max_m) / sum_c' exp(x[m,c'] - max_m)
// Gradient (accumulated): dx[m,c] += y[m,c] * (dy[m,c] - sum_c' dy[m,c'] y[m,c']).
//
// Softmax cross-entropy with mean reduction, as torch.nn.functional.cross_entropy:
//   logits [N, C], labels int32 [N] in [0, C)
//   loss = (1/N) sum_n (logsumexp(logits[n,:]) - logits[n, labels[n]])
// The forward also writes probs [N, C] (the softmax), which is all the backward needs:
//   dlogits[n,c] += dloss * (probs[n,c] - [c == labels[n]]) / N
// On the GPU one kernel does a row per block: max, sum, loss term and probabilities.
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

template <class T>
void softmax_forward_cpu(int64_t M, int64_t C, const T* x, T* y);
template <class T>
void softmax_backward_cpu(int64_t M, int64_t C, const T* dy, const T* y, T* dx);
template <class T>  // writes *loss (one scalar) and probs; throws on a label outside [0, C)
void softmax_xent_forward_cpu(int64_t N, int64_t C, const T* logits, const int32_t* labels, T* probs, T* loss);
template <class T>
void softmax_xent_backward_cpu(int64_t N, int64_t C, const T* dloss, const T* probs, const int32_t* labels,
                               T* dlogits);

void softmax_forward_cuda(int64_t M, int64_t C, const float* x, float* y, Stream s);
void softmax_backward_cuda(int64_t M, int64_t C, const float* dy, const float* y, float* dx, Stream s);
// Labels outside [0, C) contribute nothing on the GPU (checking would need a host sync);
// data loaders validate labels before they reach the device.
void softmax_xent_forward_cuda(int64_t N, int64_t C, const float* logits, const int32_t* labels, float* probs,
                               float* loss, Stream s);
void softmax_xent_backward_cuda(int64_t N, int64_t C, const float* dloss, const float* probs,
                                const int32_t* labels, float* dlogits, Stream s);

}  // namespace duet::ops
