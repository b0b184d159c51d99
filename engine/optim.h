// SGD with momentum over a packed Parameters set (torch.optim.SGD semantics; ops/sgd.h).
#pragma once
#include "engine/ops/sgd.h"
#include "engine/params.h"

namespace duet {

class SGD {
 public:
  SGD(Parameters& params, ops::SgdConfig config);
  void step();  // one update of every parameter (one kernel launch on the GPU)
  void zero_grad() { params_.zero_grad(); }
  ops::SgdConfig& config() { return config_; }
  Tensor velocity() const { return velocity_; }  // undefined before the first step
  // Continues from a saved velocity (one value per parameter scalar, any device): the next
  // step is not a first step.
  void set_velocity(const Tensor& v);

 private:
  Parameters& params_;
  ops::SgdConfig config_;
  Tensor velocity_;
  bool first_step_ = true;
};

}  // namespace duet
