#include "models/networks.h"

#include <algorithm>

#include "engine/error.h"

namespace duet::models {
namespace {

class AudioSeed : public Network {
 public:
  AudioSeed(const Shape& in, uint64_t seed, Parameters& ps, const std::string& p) {
    arch_ = "audio:seed";
    Rng rng(seed);
    conv1_ = Conv2d(ps, p + "conv1", in[0], 10, 7, 3, 0, rng);
    conv2_ = Conv2d(ps, p + "conv2", 10, 10, 5, 2, 0, rng);
    const int64_t h = conv2_.out_size(conv1_.out_size(in[1], 0), 0), w = conv2_.out_size(conv1_.out_size(in[2], 1), 1);
    DUET_CHECK(h > 0 && w > 0, "audio:seed needs an input of at least 19x19, got ", shape_str(in));
    dim_ = 10 * h * w;
    fc_ = Linear(ps, p + "fc", dim_, 10, rng);
  }
  Tensor features(const Tensor& x, bool, uint64_t) override { return F::flatten(conv2_(conv1_(x, true), true)); }
  Tensor forward(const Tensor& x, bool training, uint64_t seed) override { return fc_(features(x, training, seed)); }
  int64_t feature_dim() const override { return dim_; }

 private:
  Conv2d conv1_, conv2_;
  Linear fc_;
  int64_t dim_;
};

// 3x3 conv (stride 1, padding 1) -> BatchNorm -> ReLU layers, one per channel count, registered
// as conv1/bn1, conv2/bn2, ...: the layers of audio:duet's blocks and of image:vgg's stages.
struct ConvBnRelu {
  std::vector<Conv2d> conv;
  std::vector<BatchNorm> bn;
  ConvBnRelu() = default;
  ConvBnRelu(Parameters& ps, const std::string& p, int64_t in, const std::vector<int64_t>& channels, Rng& rng) {
    for (size_t i = 0; i < channels.size(); ++i) {
      conv.push_back(Conv2d(ps, p + "conv" + std::to_string(i + 1), in, channels[i], 3, 1, 1, rng));
      bn.push_back(BatchNorm(ps, p + "bn" + std::to_string(i + 1), channels[i]));
      in = channels[i];
    }
  }
  size_t size() const { return conv.size(); }
  Tensor operator()(size_t i, const Tensor& x, bool training) { return F::relu(bn[i](conv[i](x), training)); }
};

class AudioDuet : public Network {
 public:
  AudioDuet(const Shape& in, uint64_t seed, Parameters& ps, const std::string& p, std::vector<int64_t> ch) {
    arch_ = "audio:duet";
    if (ch.empty()) ch = default_channels("audio:duet");
    DUET_CHECK(ch.size() >= 1 && ch.size() <= 5, "audio:duet takes 1 to 5 conv blocks, got ", ch.size(), " channel counts");
    for (int64_t c : ch) DUET_CHECK(c >= 1 && c <= 1024, "audio:duet channel counts must lie in 1..1024, got ", c);
    const int64_t h = in[1] >> ch.size(), w = in[2] >> ch.size();
    DUET_CHECK(h >= 1 && w >= 1, "audio:duet with ", ch.size(), " blocks needs an input of at least ", 1 << ch.size(),
               "x", 1 << ch.size(), ", got ", shape_str(in));
    Rng rng(seed);
    blocks_ = ConvBnRelu(ps, p, in[0], ch, rng);
    dim_ = ch.back() * h * w;
    fc_ = Linear(ps, p + "fc", dim_, 10, rng);
  }
  Tensor features(const Tensor& x, bool training, uint64_t seed) override {
    Tensor h = x;
    for (size_t i = 0; i < blocks_.size(); ++i) h = F::max_pool2d(blocks_(i, h, training), 2, 2);
    return F::dropout(F::flatten(h), 0.2, training, seed);
  }
  Tensor forward(const Tensor& x, bool training, uint64_t seed) override { return fc_(features(x, training, seed)); }
  int64_t feature_dim() const override { return dim_; }

 private:
  ConvBnRelu blocks_;
  Linear fc_;
  int64_t dim_;
};

class ImageDuet : public Network {
 public:
  ImageDuet(const Shape& in, uint64_t seed, Parameters& ps, const std::string& p) {
    arch_ = "image:duet";
    Rng rng(seed);
    conv1_ = Conv2d(ps, p + "conv1", in[0], 32, 3, 1, 0, rng);
    conv2_ = Conv2d(ps, p + "conv2", 32, 64, 3, 1, 0, rng);
    const int64_t h = (in[1] - 4) / 2, w = (in[2] - 4) / 2;
    DUET_CHECK(h > 0 && w > 0, "image:duet needs an input of at least 6x6, got ", shape_str(in));
    fc1_ = Linear(ps, p + "fc1", 64 * h * w, 128, rng);
    fc2_ = Linear(ps, p + "fc2", 128, 10, rng);
  }
  Tensor features(const Tensor& x, bool training, uint64_t seed) override {
    Tensor h = F::max_pool2d(conv2_(conv1_(x, true), true), 2, 2);
    h = F::dropout(F::flatten(h), 0.25, training, seed);
    return F::dropout(F::relu(fc1_(h)), 0.5, training, seed ^ 0x5bd1e995u);
  }
  Tensor forward(const Tensor& x, bool training, uint64_t seed) override { return fc2_(features(x, training, seed)); }
  int64_t feature_dim() const override { return 128; }

 private:
  Conv2d conv1_, conv2_;
  Linear fc1_, fc2_;
};

// Two stages of two 3x3 conv-BatchNorm-ReLU layers (32, then 64 channels, padded so that
// 28x28 stays 28x28 within a stage), each stage ending in a 2x2 max-pool: 28 -> 14 -> 7.
// Then dropout 0.25, Linear 3136 -> 128, ReLU, dropout 0.5, Linear 128 -> 10, as image:duet.
// Deeper than image:duet (four conv layers against two, each unit of the last one seeing 14x14
// pixels against 5x5) with fewer parameters (468k against 1.2M: the first linear layer reads a
// 7x7 grid, not 12x12).
class ImageVgg : public Network {
 public:
  ImageVgg(const Shape& in, uint64_t seed, Parameters& ps, const std::string& p) {
    arch_ = "image:vgg";
    DUET_CHECK(in[1] >= 4 && in[2] >= 4, "image:vgg needs an input of at least 4x4, got ", shape_str(in));
    Rng rng(seed);
    layers_ = ConvBnRelu(ps, p, in[0], {32, 32, 64, 64}, rng);
    fc1_ = Linear(ps, p + "fc1", 64 * (in[1] / 4) * (in[2] / 4), 128, rng);
    fc2_ = Linear(ps, p + "fc2", 128, 10, rng);
  }
  Tensor features(const Tensor& x, bool training, uint64_t seed) override {
    Tensor h = x;
    for (size_t i = 0; i < layers_.size(); ++i) {
      h = layers_(i, h, training);
      if (i % 2 == 1) h = F::max_pool2d(h, 2, 2);
    }
    h = F::dropout(F::flatten(h), 0.25, training, seed);
    return F::dropout(F::relu(fc1_(h)), 0.5, training, seed ^ 0x5bd1e995u);
  }
  Tensor forward(const Tensor& x, bool training, uint64_t seed) override { return fc2_(features(x, training, seed)); }
  int64_t feature_dim() const override { return 128; }

 private:
  ConvBnRelu layers_;
  Linear fc1_, fc2_;
};

}  // namespace

const std::vector<std::pair<std::string, std::string>>& architectures() {
  static const std::vector<std::pair<std::string, std::string>> a = {
      {"audio:seed", "the course CNN: conv 7x7/3, conv 5x5/2, linear (torchaudio-default features)"},
      {"audio:duet", "4 conv-BN-ReLU-pool blocks, 8 kHz mels, augmentation (default for audio)"},
      {"image:duet", "conv32-conv64-pool-fc128-fc10 with dropout"},
      {"image:vgg", "2 x (conv-BN-ReLU x2, pool) with 32/64 channels, fc128-fc10 with dropout (default for image)"},
  };
  return a;
}

std::string architecture_names(const std::string& prefix) {
  std::string names;
  for (const auto& [n, d] : architectures())
    if (n.rfind(prefix, 0) == 0) names += (names.empty() ? "" : ", ") + n;
  return names;
}

bool known_architecture(const std::string& arch) {
  const auto& a = architectures();
  return std::any_of(a.begin(), a.end(), [&](const auto& e) { return e.first == arch; });
}

std::vector<int64_t> default_channels(const std::string& arch) {
  if (arch == "audio:duet") return {16, 32, 64, 64};
  return {};
}

std::vector<int64_t> unrecorded_channels(const std::string& arch) {
  if (arch == "audio:duet") return {16, 32, 32};
  return {};
}

std::unique_ptr<Network> build_network(const std::string& arch, const Shape& in, uint64_t seed, Parameters& ps,
                                       const std::string& prefix, const NetworkOptions& opts) {
  DUET_CHECK(in.size() == 3, "network input shape must be [C, H, W], got ", shape_str(in));
  DUET_CHECK(opts.channels.empty() || arch == "audio:duet", "channel counts apply to audio:duet only, not ", arch);
  if (arch == "audio:seed") return std::make_unique<AudioSeed>(in, seed, ps, prefix);
  if (arch == "audio:duet") return std::make_unique<AudioDuet>(in, seed, ps, prefix, opts.channels);
  if (arch == "image:duet") return std::make_unique<ImageDuet>(in, seed, ps, prefix);
  if (arch == "image:vgg") return std::make_unique<ImageVgg>(in, seed, ps, prefix);
  fail("unknown architecture '", arch, "' (known: ", architecture_names(), ")");
}

}  // namespace duet::models
