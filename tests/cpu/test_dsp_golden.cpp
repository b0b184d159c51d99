// Tier 3: the audio front-end against torchaudio's MelSpectrogram + AmplitudeToDB on real
// FSDD clips (fixtures from tests/fixtures/make_dsp_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "dsp/features.h"
#include "engine/checkpoint.h"

using namespace duet;

namespace {

const std::string kFixture = std::string(DUET_SOURCE_DIR) + "/tests/fixtures/dsp_golden.safetensors";

dsp::FrontendConfig config_from(const nlohmann::json& j) {
  dsp::FrontendConfig c;
  c.sample_rate = j.value("sample_rate", 16000);
  c.n_fft = j.value("n_fft", 400);
  c.win_length = j.value("win_length", 0);
  c.hop_length = j.value("hop_length", 0);
  c.n_mels = j.value("n_mels", 128);
  c.f_min = j.value("f_min", 0.0);
  c.f_max = j.value("f_max", 0.0);
  c.power = j.value("power", 2.0);
  c.norm = j.contains("norm") && !j["norm"].is_null() ? j["norm"].get<std::string>() : "none";
  c.mel_scale = j.value("mel_scale", std::string("htk"));
  c.top_db = j.contains("db_top_db") && !j["db_top_db"].is_null() ? j["db_top_db"].get<double>() : -1.0;
  return c;
}

void check_case(const std::string& name) {
  Metadata meta;
  TensorMap m = load_safetensors(kFixture, &meta);
  ASSERT_TRUE(meta.count(name)) << name;
  dsp::FrontendConfig c = config_from(nlohmann::json::parse(meta[name]));
  Tensor wave = m.at(name + ".wave"), expected = m.at(name + ".expected");
  Tensor ours = dsp::melspectrogram_db(wave, c);
  ASSERT_EQ(ours.shape(), expected.shape()) << c.describe();
  auto a = ours.to_vector<float>(), e = expected.to_vector<float>();
  const double mult = c.power == 2.0 ? 10.0 : 20.0;
  const double amin_db = mult * std::log10(c.amin);
  // torchaudio computes the STFT in float32, whose rounding noise is about 1e-7 of a
  // frame's largest amplitude. In bins more than 70 dB below the clip's maximum that noise
  // alone exceeds 1e-3 dB, so there the reference itself is only good to ~0.05 dB; duet's
  // CPU front-end works in float64. Bins at the amin (or top_db) floor are clamped values
  // on both sides.
  const int64_t per_clip = ours.numel() / ours.size(0);
  int64_t compared = 0, deep = 0, clamped = 0, bad = 0;
  double worst = 0, worst_deep = 0;
  for (int64_t clip = 0; clip < ours.size(0); ++clip) {
    const float* ec = e.data() + clip * per_clip;
    const float* ac = a.data() + clip * per_clip;
    const float mx = *std::max_element(ec, ec + per_clip);
    const float floor_db = std::max(float(amin_db), c.top_db >= 0 ? mx - float(c.top_db) : -1e30f);
    for (int64_t i = 0; i < per_clip; ++i) {
      if (ec[i] <= floor_db + 0.5f) {
        ++clamped;
        EXPECT_LE(ac[i], floor_db + 1.0f) << name << " clip " << clip << " bin " << i;
        continue;
      }
      const double err = std::abs(double(ac[i]) - ec[i]);
      if (ec[i] < mx - 70.0f) {
        ++deep;
        worst_deep = std::max(worst_deep, err);
        if (err > 0.05) ++bad;
      } else {
        ++compared;
        worst = std::max(worst, err);
        if (err > 1e-3) ++bad;
      }
    }
  }
  EXPECT_EQ(bad, 0) << name << ": max error " << worst << " dB within 70 dB of the max (" << compared
                    << " bins), " << worst_deep << " dB deeper (" << deep << " bins)";
  std::printf("  %s: %lld bins, max |error| %.2e dB; %lld bins >70 dB down, max %.2e dB; %lld at the floor\n",
              name.c_str(), (long long)compared, worst, (long long)deep, worst_deep, (long long)clamped);
  // The course pads clips to 48000 samples, so most of its frames are silence at the floor.
  EXPECT_GT(compared, 2000) << name << ": too few bins compared (" << clamped << " clamped)";
  ::testing::Test::RecordProperty(name + "_max_abs_db_error", std::to_string(worst));
}

}  // namespace

TEST(DspGolden, CourseDefaultsMatchTorchaudio) { check_case("course"); }
TEST(DspGolden, Correct8kHzSettingsMatchTorchaudio) { check_case("khz8"); }
TEST(DspGolden, SlaneyMagnitudeShortWindowMatchTorchaudio) { check_case("slaney_mag"); }

TEST(DspGolden, FilterbanksMatchTorchaudio) {
  TensorMap m = load_safetensors(kFixture);
  for (std::string scale : {"htk", "slaney"})
    for (std::string norm : {"none", "slaney"}) {
      dsp::FrontendConfig c;
      c.sample_rate = 8000;
      c.n_fft = 256;
      c.n_mels = 40;
      c.mel_scale = scale;
      c.norm = norm;
      auto ours = dsp::mel_filterbank(c);
      auto theirs = m.at("fbank." + scale + "." + norm).to_vector<float>();
      ASSERT_EQ(ours.size(), theirs.size());
      double worst = 0;
      for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, double(std::abs(ours[i] - theirs[i])));
      // torch.linspace's vectorised float32 arithmetic rounds the mel points slightly
      // differently (1 ulp), which moves weights by a few 1e-6.
      EXPECT_LT(worst, 1e-5) << scale << "/" << norm << " max " << *std::max_element(theirs.begin(), theirs.end());
    }
}
