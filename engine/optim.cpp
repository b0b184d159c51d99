#include "engine/optim.h"

#include "engine/error.h"

namespace duet {

SGD::SGD(Parameters& params, ops::SgdConfig config) : params_(params), config_(config) {
  DUET_CHECK(config.lr > 0, "SGD: learning rate must be > 0, got ", config.lr);
  DUET_CHECK(config.momentum >= 0, "SGD: momentum must be >= 0, got ", config.momentum);
  DUET_CHECK(config.weight_decay >= 0, "SGD: weight decay must be >= 0, got ", config.weight_decay);
  DUET_CHECK(!config.nesterov || (config.momentum > 0 && config.dampening == 0),
             "SGD: Nesterov momentum needs momentum > 0 and dampening 0");
}

void SGD::step() {
  DUET_CHECK(params_.packed(), "SGD: pack() the parameters before the first step");
  Tensor p = params_.values(), g = params_.grads();
  if (!velocity_.defined() || velocity_.device() != p.device())
    velocity_ = Tensor::zeros(p.shape(), DType::f32, p.device());
  const int64_t n = p.numel();
  if (p.is_cuda()) {
    DUET_CUDA_CALL(ops::sgd_step_cuda(n, config_, first_step_, p.data<float>(), g.data<float>(),
                                      velocity_.data<float>(), cuda::stream()));
  } else {
    ops::sgd_step_cpu<float>(n, config_, first_step_, p.data<float>(), g.data<float>(), velocity_.data<float>());
  }
  first_step_ = false;
}

void SGD::set_velocity(const Tensor& v) {
  DUET_CHECK(params_.packed(), "SGD: pack() the parameters before setting the velocity");
  DUET_CHECK(v.dtype() == DType::f32 && v.shape() == params_.values().shape(), "SGD: the velocity has shape ",
             shape_str(v.shape()), " (", to_string(v.dtype()), "), the parameters need ",
             shape_str(params_.values().shape()), " (float32)");
  velocity_ = Tensor::zeros(v.shape(), DType::f32, params_.values().device());
  velocity_.copy_(v);
  first_step_ = false;
}

}  // namespace duet
