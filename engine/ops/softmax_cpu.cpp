#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops/softmax.h"

namespace duet::ops {

template <class T>
void softmax_forward_cpu(int64_t M, int64_t C, const T* x, T* y) {
  for (int64_t m = 0; m < M; ++m) {
    const T* r = x + m * C;
    T* o = y + m * C;
    T mx = *std::max_element(r, r + C);
    T sum = T(0);
    for (int64_t c = 0; c < C; ++c) sum += (o[c] = std::exp(r[c] - mx));
    for (int64_t c = 0; c < C; ++c) o[c] /= sum;
  }
}

template <class T>
void softmax_backward_cpu(int64_t M, int64_t C, const T* dy, const T* y, T* dx) {
  for (int64_t m = 0; m < M; ++m) {
    T dot = T(0);
    for (int64_t c = 0; c < C; ++c) dot += dy[m * C + c] * y[m * C + c];
    for (int64_t c = 0; c < C; ++c) dx[m * C + c] += y[m * C + c] * (dy[m * C + c] - dot);
  }
}

template <class T>
void softmax_xent_forward_cpu(int64_t N, int64_t C, const T* logits, const int32_t* labels, T* probs, T* loss) {
  T total = T(0);
  for (int64_t n = 0; n < N; ++n) {
    DUET_CHECK(labels[n] >= 0 && labels[n] < C, "cross_entropy: label ", labels[n], " at row ", n,
               " is outside [0, ", C, ")");
    const T* r = logits + n * C;
    T mx = *std::max_element(r, r + C);
    T sum = T(0);
    for (int64_t c = 0; c < C; ++c) sum += (probs[n * C + c] = std::exp(r[c] - mx));
    for (int64_t c = 0; c < C; ++c) probs[n * C + c] /= sum;
    total += (mx + std::log(sum)) - r[labels[n]];
  }
  *loss = total / T(N);
}

template <class T>
void softmax_xent_backward_cpu(int64_t N, int64_t C, const T* dloss, const T* probs, const int32_t* labels,
                               T* dlogits) {
  const T g = *dloss / T(N);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      dlogits[n * C + c] += g * (probs[n * C + c] - (c == labels[n] ? T(1) : T(0)));
}

#define DUET_INSTANTIATE(T)                                                                                \
  template void softmax_forward_cpu<T>(int64_t, int64_t, const T*, T*);                                    \
  template void softmax_backward_cpu<T>(int64_t, int64_t, const T*, const T*, T*);                         \
  template void softmax_xent_forward_cpu<T>(int64_t, int64_t, const T*, const int32_t*, T*, T*);           \
  template void softmax_xent_backward_cpu<T>(int64_t, int64_t, const T*, const T*, const int32_t*, T*);
DUET_INSTANTIATE(float)
DUET_INSTANTIATE(double)
#undef DUET_INSTANTIATE

}  // namespace duet::ops
