#include "engine/ops/metrics.h"

namespace duet::ops {

template <class T>
void argmax_rows_cpu(int64_t N, int64_t C, const T* logits, int32_t* pred) {
  for (int64_t n = 0; n < N; ++n) {
    int32_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (logits[n * C + c] > logits[n * C + best]) best = int32_t(c);
    pred[n] = best;
  }
}

template <class T>
void count_correct_add_cpu(int64_t N, int64_t C, const T* logits, const int32_t* labels, T* count) {
  int64_t correct = 0;
  for (int64_t n = 0; n < N; ++n) {
    int32_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (logits[n * C + c] > logits[n * C + best]) best = int32_t(c);
    correct += best == labels[n];
  }
  *count += T(correct);
}

template void argmax_rows_cpu<float>(int64_t, int64_t, const float*, int32_t*);
template void argmax_rows_cpu<double>(int64_t, int64_t, const double*, int32_t*);
template void count_correct_add_cpu<float>(int64_t, int64_t, const float*, const int32_t*, float*);
template void count_correct_add_cpu<double>(int64_t, int64_t, const double*, const int32_t*, double*);

}  // namespace duet::ops
