#include "engine/params.h"

#include "engine/error.h"

namespace duet {

Tensor Parameters::create(const std::string& name, const Shape& shape) {
  DUET_CHECK(!find(name).defined(), "parameter '", name, "' is registered twice");
  DUET_CHECK(!packed(), "parameter '", name, "' registered after the parameters were packed");
  Tensor t = Tensor::zeros(shape, DType::f32, Device::cpu);
  t.set_requires_grad(true);
  items_.emplace_back(name, t);
  return t;
}

Tensor Parameters::create_buffer(const std::string& name, const Shape& shape, float value) {
  DUET_CHECK(!find(name).defined(), "buffer '", name, "' is registered twice");
  DUET_CHECK(!packed(), "buffer '", name, "' registered after the parameters were packed");
  Tensor t = Tensor::full(shape, value, DType::f32, Device::cpu);
  buffers_.emplace_back(name, t);
  return t;
}

Device Parameters::device() const { return packed() ? values_.device() : Device::cpu; }

void Parameters::pack(Device device) {
  const int64_t n = count();
  Tensor values = Tensor::empty({n}, DType::f32, device);
  Tensor grads = Tensor::zeros({n}, DType::f32, device);
  int64_t offset = 0;
  for (auto& [name, t] : items_) {
    const int64_t k = t.numel();
    // A view of the new arena, then point the parameter's own impl at it, so every handle
    // to this parameter (held by the model) sees the move.
    auto view = std::make_shared<TensorImpl>(*values.impl());
    view->offset = offset;
    view->shape = t.shape();
    Tensor(view).copy_(t);
    auto gview = std::make_shared<TensorImpl>(*grads.impl());
    gview->offset = offset;
    gview->shape = t.shape();
    TensorImpl* impl = t.impl().get();
    impl->storage = view->storage;
    impl->offset = offset;
    impl->grad = gview;
    offset += k;
  }
  values_ = values;
  grads_ = grads;
  for (auto& [name, t] : buffers_) {
    if (t.device() == device) continue;
    Tensor moved = t.to(device);
    TensorImpl* impl = t.impl().get();  // re-point the shared impl: every handle follows
    impl->storage = moved.impl()->storage;
    impl->offset = moved.impl()->offset;
  }
}

void Parameters::zero_grad() {
  if (grads_.defined()) {
    grads_.zero_();
    return;
  }
  for (auto& [name, t] : items_)
    if (t.grad().defined()) t.grad().zero_();
}

int64_t Parameters::count() const {
  int64_t n = 0;
  for (const auto& [name, t] : items_) n += t.numel();
  return n;
}

Tensor Parameters::find(const std::string& name) const {
  for (const auto& [n, t] : items_)
    if (n == name) return t;
  for (const auto& [n, t] : buffers_)
    if (n == name) return t;
  return Tensor();
}

}  // namespace duet
