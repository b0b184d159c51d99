#include "engine/tensor.h"

#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <sstream>
#include <vector>

#include "engine/error.h"

namespace duet {

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
  }
  return 0;
}

std::string to_string(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
  }
  return "?";
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

namespace {

// Host memory of CPU tensors. A training step allocates the same large activations and
// gradients every step; taken fresh from the system each time, every page of them faults on
// first touch (several MB a tensor: a ReLU's backward, which zeroes its gradient buffer,
// cost three times its forward). Blocks of kMinCached bytes and more are therefore kept in
// per-size free lists when freed and handed out again, up to kMaxCached bytes in all (a block
// beyond that goes back to the system). Smaller blocks go straight to the C++ allocator.
class HostCache {
 public:
  static constexpr std::size_t kMinCached = std::size_t(1) << 17, kMaxCached = std::size_t(1) << 30;

  void* allocate(std::size_t n) {
    if (n >= kMinCached) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(n);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= n;
        return p;
      }
    }
    return ::operator new(n == 0 ? 1 : n, std::align_val_t(64));
  }

  void deallocate(void* p, std::size_t n) {
    if (n >= kMinCached) {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + n <= kMaxCached) {
        free_[n].push_back(p);
        cached_ += n;
        return;
      }
    }
    ::operator delete(p, std::align_val_t(64));
  }

 private:
  std::mutex mu_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_ = 0;
};

HostCache& host_cache() {
  static auto* c = new HostCache();  // never destroyed: tensors may outlive other statics
  return *c;
}

}  // namespace

Storage::Storage(std::size_t n, Device d) : bytes(n), device(d) {
  if (d == Device::cuda) {
    data = cuda::allocate(n);
  } else {
    data = host_cache().allocate(n);
  }
}

Storage::~Storage() {
  if (device == Device::cuda) cuda::deallocate(data, bytes);
  else host_cache().deallocate(data, bytes);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape)
    DUET_CHECK(d >= 0, "tensor shape ", shape_str(shape), " has a negative dimension");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, Device::cpu);
  int64_t n = t.numel();
  switch (dtype) {
    case DType::f32: for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = float(value); break;
    case DType::f64: for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = value; break;
    case DType::i32: for (int64_t i = 0; i < n; ++i) t.data<int32_t>()[i] = int32_t(value); break;
  }
  return t.to(device);
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  DUET_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
             " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>(), Device::cpu);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t.to(device);
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, Device);

void Tensor::require_defined() const {
  if (!impl_) fail("use of an undefined tensor");
}

const Shape& Tensor::shape() const {
  require_defined();
  return impl_->shape;
}

int64_t Tensor::size(int axis) const {
  int n = ndim();
  int a = axis < 0 ? axis + n : axis;
  DUET_CHECK(a >= 0 && a < n, "axis ", axis, " is out of range for a tensor of shape ", shape_str(shape()));
  return shape()[a];
}

DType Tensor::dtype() const {
  require_defined();
  return impl_->dtype;
}

Device Tensor::device() const {
  require_defined();
  return impl_->storage->device;
}

void* Tensor::raw_data() const {
  require_defined();
  return static_cast<char*>(impl_->storage->data) + impl_->offset * dtype_size(impl_->dtype);
}

template <class T>
T* Tensor::data() {
  DUET_CHECK(dtype() == dtype_of<T>(), "tensor holds ", to_string(dtype()), ", accessed as ",
             to_string(dtype_of<T>()));
  return static_cast<T*>(raw_data());
}
template <class T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}
template float* Tensor::data<float>();
template double* Tensor::data<double>();
template int32_t* Tensor::data<int32_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const int32_t* Tensor::data<int32_t>() const;

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  Tensor out = empty(shape(), dtype(), d);
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(DType t) const {
  if (dtype() == t) return *this;
  DUET_CHECK(device() == Device::cpu, "dtype conversion runs on the CPU; move the tensor first");
  Tensor out = empty(shape(), t, Device::cpu);
  int64_t n = numel();
  auto get = [&](int64_t i) -> double {
    switch (dtype()) {
      case DType::f32: return data<float>()[i];
      case DType::f64: return data<double>()[i];
      case DType::i32: return data<int32_t>()[i];
    }
    return 0;
  };
  for (int64_t i = 0; i < n; ++i) {
    switch (t) {
      case DType::f32: out.data<float>()[i] = float(get(i)); break;
      case DType::f64: out.data<double>()[i] = get(i); break;
      case DType::i32: out.data<int32_t>()[i] = int32_t(get(i)); break;
    }
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::reshape(const Shape& s) const {
  Shape ns = s;
  int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    if (ns[i] == -1) {
      DUET_CHECK(infer < 0, "reshape to ", shape_str(s), ": only one -1 allowed");
      infer = int64_t(i);
    } else {
      known *= ns[i];
    }
  }
  if (infer >= 0) {
    DUET_CHECK(known > 0 && numel() % known == 0, "cannot reshape ", shape_str(shape()), " to ", shape_str(s));
    ns[infer] = numel() / known;
  }
  DUET_CHECK(shape_numel(ns) == numel(), "cannot reshape ", shape_str(shape()), " (", numel(),
             " elements) to ", shape_str(s));
  auto impl = std::make_shared<TensorImpl>(*impl_);
  impl->shape = ns;
  impl->grad = nullptr;
  impl->requires_grad = false;
  return Tensor(impl);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>(*impl_);
  impl->grad = nullptr;
  impl->requires_grad = false;
  return Tensor(impl);
}

void Tensor::zero_() {
  std::size_t bytes = numel() * dtype_size(dtype());
  if (bytes == 0) return;
  if (is_cuda()) cuda::memset_zero(raw_data(), bytes);
  else std::memset(raw_data(), 0, bytes);
}

void Tensor::copy_(const Tensor& src) {
  DUET_CHECK(src.shape() == shape(), "copy: shape ", shape_str(src.shape()), " into ", shape_str(shape()));
  DUET_CHECK(src.dtype() == dtype(), "copy: dtype ", to_string(src.dtype()), " into ", to_string(dtype()));
  std::size_t bytes = numel() * dtype_size(dtype());
  if (bytes == 0) return;
  Device s = src.device(), d = device();
  if (s == Device::cpu && d == Device::cpu) std::memcpy(raw_data(), src.raw_data(), bytes);
  else if (s == Device::cpu) cuda::copy_host_to_device(raw_data(), src.raw_data(), bytes);
  else if (d == Device::cpu) cuda::copy_device_to_host(raw_data(), src.raw_data(), bytes);
  else cuda::copy_device_to_device(raw_data(), src.raw_data(), bytes);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor h = to(Device::cpu);
  const T* p = h.data<T>();
  return std::vector<T>(p, p + numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;

double Tensor::item() const {
  DUET_CHECK(numel() == 1, "item() needs a single element, tensor has shape ", shape_str(shape()));
  Tensor h = to(Device::cpu);
  switch (dtype()) {
    case DType::f32: return h.data<float>()[0];
    case DType::f64: return h.data<double>()[0];
    case DType::i32: return h.data<int32_t>()[0];
  }
  return 0;
}

bool Tensor::requires_grad() const {
  require_defined();
  return impl_->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool r) {
  require_defined();
  DUET_CHECK(!r || dtype() != DType::i32, "an int32 tensor cannot require a gradient");
  impl_->requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const {
  require_defined();
  return Tensor(impl_->grad);
}

void Tensor::set_grad(const Tensor& g) {
  require_defined();
  if (g.defined()) {
    DUET_CHECK(g.shape() == shape() && g.dtype() == dtype() && g.device() == device(),
               "gradient of shape ", shape_str(g.shape()), " does not match tensor ", shape_str(shape()));
  }
  impl_->grad = g.impl();
}

Tensor Tensor::grad_or_zeros() {
  require_defined();
  if (!impl_->grad) impl_->grad = Tensor::zeros(shape(), dtype(), device()).impl();
  return Tensor(impl_->grad);
}

void check_shape(const Tensor& t, const Shape& expected, const char* what) {
  DUET_CHECK(t.shape() == expected, what, ": expected shape ", shape_str(expected), ", got ",
             shape_str(t.shape()));
}

void check_ndim(const Tensor& t, int ndim, const char* what) {
  DUET_CHECK(t.ndim() == ndim, what, ": expected a ", ndim, "-d tensor, got shape ", shape_str(t.shape()));
}

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  DUET_CHECK(a.device() == b.device(), what, ": tensors on different devices (", to_string(a.device()),
             " and ", to_string(b.device()), ")");
}

}  // namespace duet
