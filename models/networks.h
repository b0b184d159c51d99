// The digit networks. Each reads as the script of its forward pass; see docs/training.md
// for why each is shaped the way it is.
//
//   audio:seed  the course CNN exactly: Conv 1->10 7x7/3, ReLU, Conv 10->10 5x5/2, ReLU,
//               Flatten, Linear -> 10 (on torchaudio-default mel-dB features).
//   audio:duet  blocks of 3x3 conv, batch norm, ReLU and 2x2 max-pooling (by default four,
//               with 16, 32, 64, 64 channels), dropout, Linear -> 10.
//   image:duet  Conv 1->32 3x3, Conv 32->64 3x3, max-pool 2, dropout, Linear 9216 -> 128,
//               dropout, Linear 128 -> 10 (PyTorch's classic MNIST example).
//   image:vgg   (the default for image) two stages of two padded 3x3 conv-BN-ReLU layers (32,
//               then 64 channels), each ending in max-pool 2, dropout, Linear 3136 -> 128,
//               dropout, Linear 128 -> 10.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/params.h"
#include "models/layers.h"

namespace duet::models {

class Network {
 public:
  virtual ~Network() = default;
  // x [N, C, H, W] -> logits [N, 10]. `seed` draws this call's dropout masks.
  virtual Tensor forward(const Tensor& x, bool training, uint64_t seed) = 0;
  // The penultimate features [N, D] (the input of the last linear layer): what fusion
  // networks combine.
  virtual Tensor features(const Tensor& x, bool training, uint64_t seed) = 0;
  virtual int64_t feature_dim() const = 0;
  const std::string& arch() const { return arch_; }

 protected:
  std::string arch_;
};

// Names accepted by build_network, with a line each for --help.
const std::vector<std::pair<std::string, std::string>>& architectures();
// The names of architectures() that begin with `prefix` ("image:" for the image networks),
// joined by ", "; empty when none does.
std::string architecture_names(const std::string& prefix = "");
// Whether `arch` is one of architectures().
bool known_architecture(const std::string& arch);

// Choices a network takes beyond its name. Empty means the architecture's default.
struct NetworkOptions {
  std::vector<int64_t> channels;  // audio:duet: output channels of each conv block, one block per entry
};

// The default channel counts of an architecture that has them (audio:duet), else empty.
std::vector<int64_t> default_channels(const std::string& arch);

// The channel counts of a model folder whose config.json does not record them: folders written
// before the counts were recorded hold audio:duet's first default, three blocks of 16, 32, 32
// (not today's default). Empty for architectures without channel counts.
std::vector<int64_t> unrecorded_channels(const std::string& arch);

// input_shape is [C, H, W] of one example. The network's parameters are registered in `ps`
// under `prefix` (fusion nests encoders as "audio." / "image."). Throws for unknown names or
// inputs too small for the network.
std::unique_ptr<Network> build_network(const std::string& arch, const Shape& input_shape, uint64_t seed,
                                       Parameters& ps, const std::string& prefix = "",
                                       const NetworkOptions& options = {});

}  // namespace duet::models
