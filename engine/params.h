// Parameters of a model, by name, packed into arenas (GUIDE §4).
//
// After pack(), every parameter is a view into one contiguous `values` buffer and its
// gradient a view into one `grads` buffer, in registration order. The optimizer then
// updates all parameters in one pass (one kernel launch on the GPU), zero_grad() is one
// memset, and moving a model between devices is one copy per arena.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace duet {

class Parameters {
 public:
  // Registers a float32 CPU parameter (zero-filled, requires grad) and returns it. Names
  // are unique; "conv1.weight" style, as in a PyTorch state_dict.
  Tensor create(const std::string& name, const Shape& shape);

  // Registers a buffer: state that is saved with the model but not trained (batch-norm
  // running statistics). Filled with `value`.
  Tensor create_buffer(const std::string& name, const Shape& shape, float value);

  // Packs all parameters into arenas on `device` (values kept) and moves the buffers there;
  // callable again to move.
  void pack(Device device);
  bool packed() const { return values_.defined(); }
  Device device() const;

  void zero_grad();
  int64_t count() const;  // number of scalars
  const std::vector<std::pair<std::string, Tensor>>& items() const { return items_; }
  const std::vector<std::pair<std::string, Tensor>>& buffers() const { return buffers_; }
  Tensor find(const std::string& name) const;  // a parameter or buffer; undefined when absent
  Tensor values() const { return values_; }    // the flat arena [count]
  Tensor grads() const { return grads_; }

 private:
  std::vector<std::pair<std::string, Tensor>> items_, buffers_;
  Tensor values_, grads_;
};

}  // namespace duet
