#include <cmath>

#include "engine/error.h"
#include "engine/ops/elementwise.h"

namespace duet::ops {

Broadcast make_broadcast(const Shape& a, const Shape& b) {
  Broadcast bc;
  const int n = int(std::max(a.size(), b.size()));
  DUET_CHECK(n <= kMaxDims, "broadcast: at most ", kMaxDims, " dims, got ", shape_str(a), " and ", shape_str(b));
  bc.ndim = n;
  bc.same_shape = a == b;
  int64_t sa = 1, sb = 1;
  for (int d = n - 1; d >= 0; --d) {
    const int ia = d - (n - int(a.size())), ib = d - (n - int(b.size()));
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    DUET_CHECK(da == db || da == 1 || db == 1, "shapes ", shape_str(a), " and ", shape_str(b),
               " do not broadcast (dim ", d, ": ", da, " vs ", db, ")");
    bc.out_shape[d] = std::max(da, db);
    if (da == 0 || db == 0) bc.out_shape[d] = 0;
    bc.a_stride[d] = da == 1 ? 0 : sa;
    bc.b_stride[d] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
    bc.numel *= bc.out_shape[d];
  }
  return bc;
}

Shape broadcast_shape(const Broadcast& bc) { return Shape(bc.out_shape, bc.out_shape + bc.ndim); }


namespace {

// out[i] = a[i * sa] op b[i * sb] for i < n; each stride is 0 (one value for the whole run) or
// 1, so every case is a plain loop the compiler vectorises.
template <class T>
void binary_run(BinaryOp op, int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out) {
  const bool add = op == BinaryOp::add;
  if (sa == 1 && sb == 1) {
    if (add)
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
    else
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
  } else if (sa == 1) {
    const T v = b[0];
    if (add)
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] + v;
    else
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] * v;
  } else if (sb == 1) {
    const T v = a[0];
    if (add)
      for (int64_t i = 0; i < n; ++i) out[i] = v + b[i];
    else
      for (int64_t i = 0; i < n; ++i) out[i] = v * b[i];
  } else {
    const T v = add ? a[0] + b[0] : a[0] * b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

}  // namespace

// The output is walked row by row along its last dimension (where each input's stride is 0 or
// 1): the offsets of a row's start are worked out once, and rows are shared among the threads
// (each writes its own outputs, so the result does not depend on them).
template <class T>
void binary_forward_cpu(BinaryOp op, const Broadcast& bc, const T* a, const T* b, T* y) {
  if (bc.numel == 0) return;
  if (bc.same_shape || bc.ndim == 0) {
    binary_run(op, bc.numel, a, 1, b, 1, y);
    return;
  }
  const int last = bc.ndim - 1;
  const int64_t inner = bc.out_shape[last], rows = bc.numel / inner;
#pragma omp parallel for if (bc.numel > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    int64_t oa, ob;
    broadcast_offsets(bc, r * inner, oa, ob);
    binary_run(op, inner, a + oa, bc.a_stride[last], b + ob, bc.b_stride[last], y + r * inner);
  }
}

template <class T>
void binary_backward_cpu(BinaryOp op, const Broadcast& bc, const T* dy, const T* a, const T* b, T* da, T* db) {
  for (int64_t i = 0; i < bc.numel; ++i) {
    int64_t oa = i, ob = i;
    if (!bc.same_shape) broadcast_offsets(bc, i, oa, ob);
    if (da) da[oa] += op == BinaryOp::add ? dy[i] : dy[i] * b[ob];
    if (db) db[ob] += op == BinaryOp::add ? dy[i] : dy[i] * a[oa];
  }
}

template <class T>
void copy_block_cpu(int64_t outer, int64_t inner, const T* src, int64_t src_stride, T* dst, int64_t dst_stride,
                    int64_t dst_offset, bool accumulate) {
  for (int64_t o = 0; o < outer; ++o) {
    const T* s = src + o * src_stride;
    T* d = dst + o * dst_stride + dst_offset;
    if (accumulate)
      for (int64_t i = 0; i < inner; ++i) d[i] += s[i];
    else
      for (int64_t i = 0; i < inner; ++i) d[i] = s[i];
  }
}

template <class T>
void scale_cpu(int64_t n, T alpha, const T* x, T* y, bool accumulate) {
  if (accumulate)
    for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
  else
    for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}

template <class T>
void log_forward_cpu(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
}

template <class T>
void log_backward_cpu(int64_t n, const T* dy, const T* x, T* dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] / x[i];
}

#define DUET_INSTANTIATE(T)                                                                              \
  template void binary_forward_cpu<T>(BinaryOp, const Broadcast&, const T*, const T*, T*);               \
  template void binary_backward_cpu<T>(BinaryOp, const Broadcast&, const T*, const T*, const T*, T*, T*); \
  template void copy_block_cpu<T>(int64_t, int64_t, const T*, int64_t, T*, int64_t, int64_t, bool);     \
  template void scale_cpu<T>(int64_t, T, const T*, T*, bool);                                          \
  template void log_forward_cpu<T>(int64_t, const T*, T*);                                              \
  template void log_backward_cpu<T>(int64_t, const T*, const T*, T*);
DUET_INSTANTIATE(float)
DUET_INSTANTIATE(double)
#undef DUET_INSTANTIATE

}  // namespace duet::ops
