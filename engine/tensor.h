// Tensor: a dense, contiguous, row-major array of float32 / float64 / int32 on the CPU or
// a CUDA device. A Tensor is a handle: copies share the same storage (and gradient), like
// a torch.Tensor. Views (reshape, slices of an arena) share storage at an element offset.
//
// float64 exists so gradient checks can run the real ops in double on the CPU; CUDA ops
// are float32 (labels are int32).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"

namespace duet {

enum class DType { f32, f64, i32 };
std::size_t dtype_size(DType t);
std::string to_string(DType t);

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[32, 1, 128, 241]"
int64_t shape_numel(const Shape& s);

struct Storage {
  void* data = nullptr;
  std::size_t bytes = 0;
  Device device = Device::cpu;
  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // same shape/device; set by backward or by an arena
};

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu);
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return static_cast<int>(shape().size()); }
  int64_t size(int axis) const;  // negative axes count from the end
  int64_t numel() const { return shape_numel(shape()); }
  DType dtype() const;
  Device device() const;
  bool is_cuda() const { return device() == Device::cuda; }

  // Typed access to the elements (host or device pointer); throws on a dtype mismatch.
  template <class T> T* data();
  template <class T> const T* data() const;
  void* raw_data() const;

  Tensor to(Device d) const;           // a copy on d (or *this when already there)
  Tensor to(DType t) const;            // CPU conversion between f32/f64/i32
  Tensor clone() const;                // deep copy, no grad
  Tensor reshape(const Shape& s) const;  // a view; one -1 allowed
  Tensor detach() const;               // shares storage, no grad history
  void zero_();
  void copy_(const Tensor& src);       // same shape and dtype; any devices
  template <class T> std::vector<T> to_vector() const;  // host copy
  double item() const;                 // the single element, as double

  bool requires_grad() const;
  Tensor& set_requires_grad(bool r);
  Tensor grad() const;                 // undefined until a backward pass reaches it
  void set_grad(const Tensor& g);
  Tensor grad_or_zeros();              // allocates a zero gradient when missing

  TensorImpl* id() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

 private:
  void require_defined() const;
  std::shared_ptr<TensorImpl> impl_;
};

// Throws unless the tensor has exactly these dims; what names the argument in the message.
void check_shape(const Tensor& t, const Shape& expected, const char* what);
void check_ndim(const Tensor& t, int ndim, const char* what);
void check_same_device(const Tensor& a, const Tensor& b, const char* what);

}  // namespace duet
