// The CUDA front-end (framing kernel + cuFFT + our SGEMM mel projection + dB kernel) against
// the CPU reference, on the real clips of the golden fixture. Skipped without a GPU.
#include <nlohmann/json.hpp>

#include "dsp/features.h"
#include "engine/checkpoint.h"
#include "parity.h"

using namespace duet;

TEST(Parity, FrontendCudaMatchesCpu) {
  DUET_REQUIRE_GPU();
  TensorMap m = load_safetensors(std::string(DUET_SOURCE_DIR) + "/tests/fixtures/dsp_golden.safetensors");
  std::vector<dsp::FrontendConfig> configs(4);
  configs[1].sample_rate = 8000, configs[1].n_fft = 256, configs[1].hop_length = 64, configs[1].n_mels = 64,
  configs[1].top_db = 80;
  configs[2].sample_rate = 8000, configs[2].n_fft = 512, configs[2].win_length = 400, configs[2].power = 1.0,
  configs[2].mel_scale = "slaney", configs[2].norm = "slaney", configs[2].n_mels = 40;
  configs[3].mel = false;  // linear-frequency spectrogram
  Tensor wave = m.at("khz8.wave");
  for (const auto& c : configs) {
    SCOPED_TRACE(c.describe());
    Tensor cpu = dsp::melspectrogram_db(wave, c);
    Tensor gpu = dsp::melspectrogram_db(wave.to(Device::cuda), c);
    cuda::synchronize();
    ASSERT_EQ(gpu.shape(), cpu.shape());
    auto a = gpu.to_vector<float>(), e = cpu.to_vector<float>();
    const int64_t per_clip = cpu.numel() / cpu.size(0);
    int64_t bad = 0;
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const size_t clip = i / per_clip;
      const float mx = *std::max_element(e.begin() + clip * per_clip, e.begin() + (clip + 1) * per_clip);
      // float32 cuFFT against the float64 CPU reference: 1e-3 dB within 60 dB of the
      // clip's maximum, float32 noise allowed below that.
      const double tol = e[i] > mx - 60 ? 1e-3 : 0.1 + 0.01 * std::abs(e[i] - (mx - 60));
      const double err = std::abs(double(a[i]) - e[i]);
      worst = std::max(worst, err);
      if (err > tol) ++bad;
    }
    EXPECT_EQ(bad, 0) << "max error " << worst << " dB";
  }
}

TEST(Parity, FeatureNormalisationCudaMatchesCpu) {
  DUET_REQUIRE_GPU();
  Rng rng(4);
  Tensor f = duet::testing::random_input({3, 1, 64, 126}, rng, -80, 20).to(DType::f32);
  Tensor cpu = f.clone(), gpu = f.to(Device::cuda);
  dsp::subtract_band_means(cpu);
  dsp::standardize_per_clip(cpu);
  dsp::subtract_band_means(gpu);
  dsp::standardize_per_clip(gpu);
  duet::testing::expect_close(gpu, cpu, 1e-4, 1e-4, "band means + standardisation");
}

TEST(Parity, VtlpWarpCudaMatchesCpu) {
  DUET_REQUIRE_GPU();
  Rng rng(6);
  dsp::FrontendConfig c;
  c.sample_rate = 8000, c.n_fft = 256, c.hop_length = 64, c.n_mels = 64;
  Tensor f = duet::testing::random_input({3, 1, 64, 126}, rng, -80, 20).to(DType::f32);
  Tensor cpu = f.clone(), gpu = f.to(Device::cuda);
  const std::vector<double> alphas = {0.8, 1.0, 1.25};
  dsp::warp_bins(cpu, alphas, c);
  dsp::warp_bins(gpu, alphas, c);
  duet::testing::expect_close(gpu, cpu, 1e-5, 1e-5, "vtlp warp");
}
