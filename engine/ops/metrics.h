// Classification metrics that stay on the device, so a training step need not synchronise
// with the host to keep score:
//   argmax_rows:        pred[n] = argmax_c logits[n, c] (first maximum on ties)
//   count_correct_add:  *count += #{n : argmax_c logits[n, c] == labels[n]}
#pragma once
#include <cstdint>

#include "engine/device.h"

namespace duet::ops {

template <class T>
void argmax_rows_cpu(int64_t N, int64_t C, const T* logits, int32_t* pred);
template <class T>
void count_correct_add_cpu(int64_t N, int64_t C, const T* logits, const int32_t* labels, T* count);

void argmax_rows_cuda(int64_t N, int64_t C, const float* logits, int32_t* pred, Stream s);
void count_correct_add_cuda(int64_t N, int64_t C, const float* logits, const int32_t* labels, float* count, Stream s);

}  // namespace duet::ops
