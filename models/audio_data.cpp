#include "models/audio_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dsp/filter.h"
#include "dsp/lossy.h"
#include "dsp/resample.h"
#include "dsp/room.h"
#include "dsp/wav.h"
#include "engine/error.h"
#include "models/cutting.h"
#include "models/examples.h"

namespace duet::models {

Shape AudioRecipe::input_shape() const {
  return {1, frontend.bins(), frontend.frames(num_samples)};
}

nlohmann::json AudioRecipe::to_json() const {
  const auto& f = frontend;
  return {{"sample_rate", sample_rate},
          {"num_samples", num_samples},
          {"centre", centre},
          {"band_norm", band_norm},
          {"trim_silence", trim},
          {"remove_clicks", declick},
          {"highpass_hz", highpass_hz},
          {"standardize", standardize},
          {"test_speeds", test_speeds},
          {"frontend",
           {{"sample_rate", f.sample_rate}, {"n_fft", f.n_fft}, {"win_length", f.win()}, {"hop_length", f.hop()},
            {"n_mels", f.n_mels}, {"f_min", f.f_min}, {"f_max", f.fmax()}, {"power", f.power},
            {"mel_scale", f.mel_scale}, {"norm", f.norm}, {"mel", f.mel}, {"to_db", f.to_db}, {"amin", f.amin},
            {"ref", f.ref}, {"top_db", f.top_db}}}};
}

AudioRecipe AudioRecipe::from_json(const nlohmann::json& j) {
  AudioRecipe r;
  try {
    r.sample_rate = j.at("sample_rate");
    r.num_samples = j.at("num_samples");
    r.centre = j.at("centre");
    r.standardize = j.at("standardize");
    r.band_norm = j.value("band_norm", false);
    r.trim = j.value("trim_silence", false);  // models saved before trimming existed did not trim
    r.declick = j.value("remove_clicks", false);  // nor remove clicks, before that existed
    r.highpass_hz = j.value("highpass_hz", 0.0);  // nor before the high-pass existed
    // Models saved before test-time views existed were evaluated on the clip alone.
    r.test_speeds = j.value("test_speeds", std::vector<double>{});
    const auto& f = j.at("frontend");
    auto& c = r.frontend;
    c.sample_rate = f.at("sample_rate");
    c.n_fft = f.at("n_fft");
    c.win_length = f.at("win_length");
    c.hop_length = f.at("hop_length");
    c.n_mels = f.at("n_mels");
    c.f_min = f.at("f_min");
    c.f_max = f.at("f_max");
    c.power = f.at("power");
    c.mel_scale = f.at("mel_scale");
    c.norm = f.at("norm");
    c.mel = f.at("mel");
    c.to_db = f.at("to_db");
    c.amin = f.at("amin");
    c.ref = f.at("ref");
    c.top_db = f.at("top_db");
  } catch (const nlohmann::json::exception& e) {
    fail("audio recipe in config.json is incomplete: ", e.what());
  }
  DUET_CHECK(r.sample_rate > 0 && r.num_samples > 0, "audio recipe: bad sample_rate/num_samples");
  DUET_CHECK(r.highpass_hz >= 0 && r.highpass_hz <= r.sample_rate / 4.0, "audio recipe: highpass_hz ", r.highpass_hz,
             " is outside [0, ", r.sample_rate / 4.0, "]");
  r.frontend.validate(r.num_samples);
  if (!r.test_speeds.empty()) check_test_speeds(r.test_speeds);
  return r;
}

void check_test_speeds(const std::vector<double>& speeds) {
  DUET_CHECK(!speeds.empty() && speeds.size() <= 9, "test-time speeds: 1 to 9 factors, got ", speeds.size());
  for (double s : speeds)
    DUET_CHECK(std::isfinite(s) && s >= 0.5 && s <= 2.0, "test-time speeds: each factor in [0.5, 2], got ", s);
}

void check_speed_range(double lo, double hi) {
  DUET_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo >= 0.5 && lo <= hi && hi <= 2.0,
             "speed perturbation range: 0.5 <= min <= max <= 2, got ", lo, " to ", hi);
}

void check_warp_range(double lo, double hi) {
  DUET_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo >= dsp::kVtlpMin && lo <= hi && hi <= dsp::kVtlpMax,
             "vocal-tract length perturbation range: ", dsp::kVtlpMin, " <= min <= max <= ", dsp::kVtlpMax, ", got ", lo,
             " to ", hi);
}

AudioRecipe audio_recipe(const std::string& name) {
  AudioRecipe r;
  if (name == "course") {
    r.sample_rate = 8000;  // the clips' own rate: nothing is resampled
    r.num_samples = 48000;
    r.frontend = dsp::FrontendConfig{};  // torchaudio defaults: 16000, n_fft 400, 128 mels
    r.centre = false;
    r.standardize = false;
  } else if (name == "duet") {
    r.sample_rate = 8000;
    r.num_samples = 8000;
    r.frontend.sample_rate = 8000;
    r.frontend.n_fft = 256;
    r.frontend.hop_length = 64;
    r.frontend.n_mels = 64;
    r.frontend.top_db = 80;
    r.band_norm = true;
    r.trim = true;
    r.declick = true;
    r.standardize = true;
    r.test_speeds = {0.92, 1.0, 1.08};  // the ends of the training's speed range, and the clip
  } else {
    fail("unknown audio recipe '", name, "' (course or duet)");
  }
  return r;
}

// prefix[i] = energy of x[0, i): the energy of any stretch [a, b) is prefix[b] - prefix[a].
static std::vector<double> energy_prefix(const std::vector<float>& x) {
  std::vector<double> prefix(x.size() + 1, 0.0);
  for (size_t i = 0; i < x.size(); ++i) prefix[i + 1] = prefix[i] + double(x[i]) * x[i];
  return prefix;
}

// The energies of x's 32 ms frames, a quarter frame apart (what word_bounds and without_clicks
// read), with the energy prefix of x; no frames when x is not longer than one.
struct Frames {
  int64_t frame = 1, hop = 1;
  std::vector<double> prefix, energy;
};
static Frames frame_energies(const std::vector<float>& x, int rate) {
  Frames f;
  f.frame = std::max<int64_t>(1, rate * 32 / 1000), f.hop = std::max<int64_t>(1, f.frame / 4);
  const int64_t n = int64_t(x.size());
  if (n <= f.frame) return f;
  f.prefix = energy_prefix(x);
  for (int64_t s = 0; s + f.frame <= n; s += f.hop) f.energy.push_back(f.prefix[s + f.frame] - f.prefix[s]);
  return f;
}

int64_t loudest_window(const std::vector<float>& x, int64_t length) {
  const int64_t n = int64_t(x.size());
  if (length <= 0 || n <= length) return 0;
  const std::vector<double> prefix = energy_prefix(x);
  int64_t best = 0;
  for (int64_t s = 1; s + length <= n; ++s)
    if (prefix[s + length] - prefix[s] > prefix[best + length] - prefix[best]) best = s;
  return best;
}

std::pair<int64_t, int64_t> word_bounds(const std::vector<float>& x, int rate, double floor_db) {
  const int64_t n = int64_t(x.size());
  const auto [frame, hop, prefix, energy] = frame_energies(x, rate);
  if (energy.empty()) return {0, n};
  const double peak = *std::max_element(energy.begin(), energy.end());
  if (peak <= 0) return {0, n};
  const double floor = peak * std::pow(10.0, -floor_db / 10.0);
  int64_t first = 0, last = int64_t(energy.size()) - 1;
  while (energy[first] < floor) ++first;
  while (energy[last] < floor) --last;
  return {first * hop, std::min(n, last * hop + frame)};
}

std::vector<float> without_clicks(const std::vector<float>& x, int rate, int* clicks) {
  if (clicks) *clicks = 0;
  const int64_t n = int64_t(x.size());
  const auto [frame, hop, prefix, energy] = frame_energies(x, rate);
  if (energy.empty()) return x;
  const double peak = *std::max_element(energy.begin(), energy.end());
  if (peak <= 0) return x;
  const double floor = peak * 1e-4;  // 40 dB below the loudest frame, as word_bounds
  // The stretches of sound: runs of frames above the floor, those less than kClickGap apart
  // joined (the silences inside a word, such as the closure before the t of "eight").
  struct Stretch {
    int64_t from, to;  // samples
    double energy = 0;
  };
  std::vector<Stretch> stretches;
  const int64_t join = int64_t(kClickGap * rate);
  for (size_t f = 0; f < energy.size(); ++f) {
    if (energy[f] < floor) continue;
    const int64_t from = int64_t(f) * hop, to = std::min(n, from + frame);
    if (!stretches.empty() && from - stretches.back().to < join) stretches.back().to = to;
    else stretches.push_back({from, to});
  }
  if (stretches.size() < 2) return x;
  // The word is the longest stretch (a click can hold more energy than a quiet word).
  for (Stretch& s : stretches) s.energy = prefix[s.to] - prefix[s.from];
  const auto word = std::max_element(stretches.begin(), stretches.end(), [](const Stretch& a, const Stretch& b) {
    return std::pair(a.to - a.from, a.energy) < std::pair(b.to - b.from, b.energy);
  });
  std::vector<float> y = x;
  for (auto s = stretches.begin(); s != stretches.end(); ++s) {
    if (s == word || double(s->to - s->from - frame) > kClickLength * rate) continue;  // its frames' starts' span
    std::fill(y.begin() + s->from, y.begin() + s->to, 0.0f);
    if (clicks) ++*clicks;
  }
  return y;
}

std::vector<std::pair<int64_t, int64_t>> word_stretches(const std::vector<float>& x, int rate, double gap_s) {
  DUET_CHECK(rate > 0 && gap_s >= 0, "word_stretches: rate ", rate, ", gap ", gap_s,
             " s: expected a positive rate and a gap >= 0");
  const int64_t n = int64_t(x.size());
  const auto [frame, hop, prefix, energy] = frame_energies(x, rate);
  std::vector<std::pair<int64_t, int64_t>> words;
  if (energy.empty()) {  // too short to frame: one word, if it holds anything
    if (dsp::peak_level(x) > 0) words.push_back({0, n});
    return words;
  }
  const double peak = *std::max_element(energy.begin(), energy.end());
  if (peak <= 0) return words;
  std::vector<double> sorted = energy;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 10, sorted.end());
  double background = sorted[sorted.size() / 10];
  const double silent = background * std::pow(10.0, kSilentSpread / 10);  // silence lies below it
  int64_t run = 0, longest = 0;  // the longest run of frames as quiet as silence
  for (double e : energy) {
    run = e <= silent ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const bool silence = longest > 0 && double((longest - 1) * hop + frame) >= gap_s * rate;
  if (!silence) background = *std::min_element(energy.begin(), energy.end());
  const double floor =  // a word reaches above it
      std::max(peak * 1e-4,
               std::min(background * std::pow(10.0, kWordFloorAboveNoise / 10), std::sqrt(background * peak)));
  const double edge = std::min(floor, std::max(peak * 1e-4, background * std::pow(10.0, kWordEdgeAboveNoise / 10)));
  // A stretch runs from its first frame above `edge` to its last; its sound starts in the last hop
  // of its first frame (the frame before, a hop earlier, is below) and ends in the first hop of its
  // last frame, so the gap between two stretches is the silence between them.
  struct Stretch {
    int64_t first, last;  // frames
    double loudest;       // its loudest frame's energy
  };
  const int64_t frames = int64_t(energy.size());
  auto start = [&](int64_t f) { return f == 0 ? 0 : f * hop + frame - hop; };
  auto end = [&](int64_t f) { return f + 1 == frames ? n : f * hop + hop; };
  std::vector<Stretch> runs;  // runs of frames above the edge
  for (int64_t f = 0; f < frames; ++f) {
    if (energy[f] < edge) continue;
    if (!runs.empty() && f == runs.back().last + 1)
      runs.back().last = f, runs.back().loudest = std::max(runs.back().loudest, energy[f]);
    else
      runs.push_back({f, f, energy[f]});
  }
  std::vector<Stretch> kept;  // the runs that reach the floor
  for (const Stretch& r : runs)
    if (r.loudest >= floor) kept.push_back(r);
  using Group = std::pair<size_t, size_t>;  // kept[first..last]
  auto joined = [&](size_t from, size_t to, double gap) {  // kept[from, to) joined where less than `gap` s apart
    std::vector<Group> out;
    for (size_t i = from; i < to; ++i) {
      if (!out.empty() && double(start(kept[i].first) - end(kept[out.back().second].last)) < gap * rate)
        out.back().second = i;
      else
        out.push_back({i, i});
    }
    return out;
  };
  auto seconds = [&](Group g) { return double(end(kept[g.second].last) - start(kept[g.first].first)) / rate; };
  // A stretch longer than a word (kLongWord) is words said with short pauses: it is split at the
  // first of kSplitGaps that leaves parts all at least kShortWord long.
  std::vector<Group> groups;
  for (const Group& g : joined(0, kept.size(), gap_s)) {
    std::vector<Group> parts;
    if (seconds(g) > kLongWord)
      for (double split : kSplitGaps) {
        parts = joined(g.first, g.second + 1, split);
        if (parts.size() >= 2 &&
            std::all_of(parts.begin(), parts.end(), [&](const Group& q) { return seconds(q) >= kShortWord; }))
          break;
        parts.clear();
      }
    if (parts.empty()) parts.push_back(g);
    groups.insert(groups.end(), parts.begin(), parts.end());
  }
  std::vector<Stretch> stretches;
  for (auto [a, b] : groups) {
    Stretch st{kept[a].first, kept[b].last, 0};
    for (size_t i = a; i <= b; ++i) st.loudest = std::max(st.loudest, kept[i].loudest);
    stretches.push_back(st);
  }
  const double quiet = peak * std::pow(10.0, -kWordQuiet / 10);
  for (const Stretch& s : stretches)  // a click: its frames all start within kClickLength
    if (double((s.last - s.first) * hop) > kClickLength * rate && s.loudest >= quiet)
      words.push_back({start(s.first), std::max(start(s.first), end(s.last))});
  if (words.empty() && !stretches.empty()) {  // only short sounds: the loudest is the word
    const auto loudest = std::max_element(stretches.begin(), stretches.end(),
                                          [](const Stretch& a, const Stretch& b) { return a.loudest < b.loudest; });
    words.push_back({start(loudest->first), std::max(start(loudest->first), end(loudest->last))});
  }
  if (!silence && words.size() > 1) return {{words.front().first, words.back().second}};
  return words;
}

std::vector<float> word_in_context(const std::vector<float>& x, int rate,
                                   const std::vector<std::pair<int64_t, int64_t>>& words, size_t k, double seconds) {
  const int64_t n = int64_t(x.size());
  DUET_CHECK(k < words.size() && rate > 0 && seconds >= 0, "word_in_context: word ", k, " of ", words.size(),
             ", rate ", rate, ", ", seconds, " s");
  const int64_t margin = int64_t(kWordMargin * rate);
  const int64_t lo = k == 0 ? 0 : (words[k - 1].second + words[k].first) / 2;
  const int64_t hi = k + 1 == words.size() ? n : (words[k].second + words[k + 1].first) / 2;
  const int64_t from = std::clamp<int64_t>(words[k].first - margin, lo, n);
  const int64_t to = std::clamp<int64_t>(words[k].second + margin, from, std::max(from, hi));
  std::vector<float> background;  // x outside every word and its margins
  int64_t next = 0;
  for (const auto& [a, b] : words) {
    const int64_t quiet_to = std::clamp<int64_t>(a - margin, next, n);
    background.insert(background.end(), x.begin() + next, x.begin() + quiet_to);
    next = std::clamp<int64_t>(b + margin, next, n);
  }
  background.insert(background.end(), x.begin() + next, x.end());
  const int64_t length = std::max<int64_t>(to - from, std::llround(seconds * rate));
  const int64_t left = (length - (to - from)) / 2;
  std::vector<float> y(size_t(length), 0.0f);
  for (int64_t i = 0; !background.empty() && i < length; ++i) y[i] = background[size_t(i) % background.size()];
  std::copy(x.begin() + from, x.begin() + to, y.begin() + left);
  return y;
}

std::vector<WordCut> word_cuts(const std::vector<float>& x, int rate, int64_t from, int64_t to) {
  const int64_t n = int64_t(x.size());
  DUET_CHECK(rate > 0 && 0 <= from && from <= to && to <= n, "word_cuts: stretch ", from, "-", to, " of ", n,
             " samples at ", rate, " Hz");
  const auto [frame, hop, prefix, energy] = frame_energies(x, rate);
  std::vector<WordCut> cuts;
  const int64_t frames = int64_t(energy.size());
  const int64_t spacing = std::max<int64_t>(1, std::llround(kCutSpacing * rate / hop));
  const int64_t reach = std::max<int64_t>(1, std::llround(kCutReach * rate / hop));
  const int64_t inside = std::llround(kShortestWord * rate);
  for (int64_t f = 0; f < frames; ++f) {
    const int64_t at = f * hop + frame / 2;  // the frame's middle
    if (at - from < inside || to - at < inside) continue;
    bool lowest = true;
    double left = 0, right = 0;  // the loudest frames within reach on each side
    for (int64_t g = std::max<int64_t>(0, f - reach); g <= std::min(frames - 1, f + reach); ++g) {
      if (std::abs(g - f) <= spacing && (energy[g] < energy[f] || (energy[g] == energy[f] && g < f))) lowest = false;
      if (g < f) left = std::max(left, energy[g]);
      if (g > f) right = std::max(right, energy[g]);
    }
    const double dip_db = 10 * std::log10(std::min(left, right) / std::max(energy[f], 1e-30));
    if (lowest && dip_db >= kCutDip) cuts.push_back({at, dip_db});
  }
  return cuts;
}

std::vector<std::pair<int64_t, int64_t>> cut_run_together(const std::vector<float>& x, int rate,
                                                          std::vector<std::pair<int64_t, int64_t>> words,
                                                          double seconds, const WordReader& log_p, int* cut) {
  DUET_CHECK(rate > 0 && seconds > 0, "cut_run_together: rate ", rate, ", ", seconds, " s");
  for (size_t k = 0; k < words.size(); ++k) {
    const auto [from, to] = words[k];
    if (double(to - from) <= kRunTogether * rate) continue;
    const std::vector<WordCut> cuts = word_cuts(x, rate, from, to);
    if (cuts.empty()) continue;
    std::vector<int64_t> at{from};  // the stretch's ends and its cuts
    for (const WordCut& c : cuts) at.push_back(c.at);
    at.push_back(to);
    const size_t m = at.size() - 1;
    // Every piece [at[i], at[j]) a cutting can hold, heard as word_in_context hears it among the
    // other pieces of the stretch (its margins stop at a cut; the background is the same).
    std::vector<std::pair<size_t, size_t>> pieces;
    std::vector<std::vector<float>> clips;
    for (size_t i = 0; i < m; ++i)
      for (size_t j = i + 1; j <= m; ++j) {
        const double length = double(at[j] - at[i]) / rate;
        if (!(i == 0 && j == m) && (length < kShortestWord || length > seconds)) continue;
        std::vector<std::pair<int64_t, int64_t>> around(words.begin(), words.begin() + k);
        if (i > 0) around.push_back({from, at[i]});
        around.push_back({at[i], at[j]});
        if (j < m) around.push_back({at[j], to});
        around.insert(around.end(), words.begin() + k + 1, words.end());
        clips.push_back(word_in_context(x, rate, around, k + (i > 0), seconds));
        pieces.push_back({i, j});
      }
    const std::vector<double> lp = log_p(clips);
    DUET_CHECK(lp.size() == clips.size(), "cut_run_together: the reader gave ", lp.size(), " readings for ",
               clips.size(), " recordings");
    std::vector<double> scores;
    for (size_t p = 0; p < pieces.size(); ++p) {
      const auto [i, j] = pieces[p];
      const double length_term = std::log(double(at[j] - at[i]) / rate / kTypicalWord);
      scores.push_back(lp[p] - kWordCost - kLengthCost * length_term * length_term +
                       (i > 0 ? kDipWorth * cuts[i - 1].dip_db : 0.0));
    }
    std::vector<std::pair<int64_t, int64_t>> found;
    for (const auto& [i, j] : best_cutting(m, pieces, scores)) found.push_back({at[i], at[j]});
    if (found.size() < 2) continue;
    if (cut) ++*cut;
    words.erase(words.begin() + k);
    words.insert(words.begin() + k, found.begin(), found.end());
    k += found.size() - 1;
  }
  return words;
}

std::vector<float> trim_silence(const std::vector<float>& x, int rate, double floor_db, double margin_s) {
  const auto [first, last] = word_bounds(x, rate, floor_db);
  const int64_t margin = int64_t(margin_s * rate);
  const int64_t from = std::max<int64_t>(0, first - margin), to = std::min<int64_t>(int64_t(x.size()), last + margin);
  return std::vector<float>(x.begin() + from, x.begin() + to);
}

std::vector<float> cut_word(const std::vector<float>& x, int rate, double fraction, bool at_start) {
  DUET_CHECK(fraction >= 0 && fraction < 1, "cut_word: fraction must be in [0, 1), got ", fraction);
  const auto [first, last] = word_bounds(x, rate);
  const int64_t cut = int64_t(fraction * double(last - first));
  return at_start ? std::vector<float>(x.begin() + first + cut, x.end())
                  : std::vector<float>(x.begin(), x.begin() + last - cut);
}

std::vector<float> overdrive(const std::vector<float>& x, double db) {
  DUET_CHECK(db >= 0 && db <= 60, "overdrive: the peak's level above full scale must be in [0, 60] dB, got ", db);
  float peak = 0;
  for (float v : x) peak = std::max(peak, std::abs(v));
  if (peak == 0) return x;
  const double gain = std::pow(10.0, db / 20.0) / peak;
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = float(std::clamp(double(x[i]) * gain, -1.0, 1.0));
  return y;
}

std::vector<float> with_click(const std::vector<float>& x, int rate, double gap_s, bool after, double level, double ms,
                              Rng& rng) {
  DUET_CHECK(rate > 0 && gap_s >= 0 && level > 0 && level <= 1 && ms > 0, "with_click: rate ", rate, ", gap ", gap_s,
             " s, level ", level, ", ", ms, " ms: expected a positive rate and length, a gap >= 0 and a level in (0, 1]");
  const size_t gap = size_t(std::lround(gap_s * rate)), n = std::max<size_t>(1, size_t(std::lround(ms * rate / 1000)));
  std::vector<float> burst(n);
  for (size_t i = 0; i < n; ++i) burst[i] = float(rng.uniform(-1.0, 1.0) * level * (1.0 - double(i) / double(n)));
  std::vector<float> y;
  y.reserve(x.size() + gap + n);
  if (after) {  // the word, the gap, the burst
    y = x;
    y.resize(x.size() + gap, 0.0f);
    y.insert(y.end(), burst.begin(), burst.end());
  } else {  // the burst, the gap, the word
    y = burst;
    y.resize(n + gap, 0.0f);
    y.insert(y.end(), x.begin(), x.end());
  }
  return y;
}

void check_audible(const std::vector<float>& samples) {
  DUET_CHECK(!samples.empty(), "the recording holds no samples: no word to hear");
  const double peak = dsp::peak_level(samples);
  if (peak >= kSilentPeak) return;
  char loudest[64] = "every sample is 0";
  if (peak > 0) std::snprintf(loudest, sizeof loudest, "its loudest sample at %.0f dBFS", 20 * std::log10(peak));
  throw Error(std::string("the recording is silent (") + loudest + "): no word to hear");
}

std::vector<float> recipe_clip(const std::vector<float>& samples, int rate, const AudioRecipe& r) {
  std::vector<float> x = rate == r.sample_rate ? samples : dsp::resample(samples, rate, r.sample_rate);
  if (r.highpass_hz > 0) x = dsp::highpass(x, r.sample_rate, r.highpass_hz);
  if (!r.trim) return x;
  return trim_silence(r.declick ? without_clicks(x, r.sample_rate) : x, r.sample_rate);
}

std::vector<float> fit_to_window(const std::vector<float>& x, const AudioRecipe& r) {
  std::vector<float> out(r.num_samples, 0.0f);
  const int64_t n = std::min<int64_t>(int64_t(x.size()), r.num_samples);
  // The course pads at the end; duet centres short clips, so a spoken digit sits in the
  // middle of its window during training (after random shifts) and evaluation alike.
  const int64_t offset = r.centre ? (r.num_samples - n) / 2 : 0;
  const int64_t from = loudest_window(x, r.num_samples);
  std::copy(x.begin() + from, x.begin() + from + n, out.begin() + offset);
  return out;
}

std::vector<float> prepare_wave(const std::vector<float>& samples, int rate, const AudioRecipe& r) {
  return fit_to_window(recipe_clip(samples, rate, r), r);
}

Tensor audio_features(const Tensor& waves, const AudioRecipe& r, const std::vector<double>& warps) {
  Tensor f = dsp::melspectrogram_db(waves, r.frontend);
  if (!warps.empty()) dsp::warp_bins(f, warps, r.frontend);
  if (r.band_norm) dsp::subtract_band_means(f);
  if (r.standardize) dsp::standardize_per_clip(f);
  return f;
}

std::vector<float> at_speed(const std::vector<float>& clip, double speed, int rate) {
  if (std::abs(speed - 1.0) < 1e-3) return clip;
  return dsp::resample(clip, int(std::lround(rate * speed)), rate);
}

std::vector<float> in_room(const std::vector<float>& clip, double rt60, double drr_db, const AudioRecipe& r, Rng& rng) {
  std::vector<float> y = dsp::convolve(clip, dsp::room_response(rt60, drr_db, r.sample_rate, rng));
  return r.trim ? trim_silence(y, r.sample_rate) : y;
}

std::vector<double> pink_noise(size_t n, Rng& rng) {
  // White noise through seven first-order sections whose sum follows 1/f within 0.05 dB from
  // 0.0002 of the sample rate up (P. Kellet's "refined" pink filter). The first 4096 outputs
  // are dropped so that the slowest section (time constant about 880 samples) has settled.
  constexpr size_t warm = 4096;
  double b[7] = {};
  std::vector<double> white(warm + n), out(n);
  rng.normals(white.data(), white.size());
  double power = 0;
  for (size_t i = 0; i < warm + n; ++i) {
    const double w = white[i];
    b[0] = 0.99886 * b[0] + w * 0.0555179;
    b[1] = 0.99332 * b[1] + w * 0.0750759;
    b[2] = 0.96900 * b[2] + w * 0.1538520;
    b[3] = 0.86650 * b[3] + w * 0.3104856;
    b[4] = 0.55000 * b[4] + w * 0.5329522;
    b[5] = -0.7616 * b[5] - w * 0.0168980;
    const double y = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
    b[6] = w * 0.115926;
    if (i >= warm) {
      out[i - warm] = y;
      power += y * y;
    }
  }
  const double scale = power > 0 ? std::sqrt(double(n) / power) : 0.0;
  for (double& v : out) v *= scale;
  return out;
}

void add_noise(float* x, size_t n, double snr_db, Rng& rng, NoiseColour colour) {
  // Signal power over the loudest 50% of samples, so silence padding does not count (the
  // loudest half found by a partition, not a sort).
  std::vector<float> sq(n);
  for (size_t i = 0; i < n; ++i) sq[i] = x[i] * x[i];
  std::nth_element(sq.begin(), sq.begin() + std::ptrdiff_t(n / 2), sq.end());
  double p = 0;
  for (size_t i = sq.size() / 2; i < sq.size(); ++i) p += sq[i];
  p /= std::max<size_t>(1, sq.size() - sq.size() / 2);
  if (p <= 0) p = 1e-6;
  const double sigma = std::sqrt(p / std::pow(10.0, snr_db / 10.0));
  if (colour == NoiseColour::pink) {
    const std::vector<double> v = pink_noise(n, rng);
    for (size_t i = 0; i < n; ++i) x[i] += float(sigma * v[i]);
    return;
  }
  for (size_t i = 0; i < n; i += 2) {  // the same draws as rng.normals, without a buffer
    double c, s;
    rng.normal_pair(c, s);
    x[i] += float(sigma * c);
    if (i + 1 < n) x[i + 1] += float(sigma * s);
  }
}

AudioSet::AudioSet(const data::Fsdd& ds, const std::vector<int64_t>& indices, const AudioRecipe& recipe)
    : recipe_(recipe) {
  waves_.resize(indices.size());
  labels_.resize(indices.size());
  speakers_.resize(indices.size());
  paths_.resize(indices.size());
  std::vector<std::string> errors(indices.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t k = 0; k < int64_t(indices.size()); ++k) {
    const auto& rec = ds.recordings[indices[k]];
    try {
      dsp::Audio a = dsp::read_audio(rec.path);
      try {
        check_audible(a.samples);  // a silent clip would teach its label to nothing
      } catch (const Error& e) {
        throw Error(rec.path + ": " + e.what());
      }
      waves_[k] = recipe_clip(a.samples, a.sample_rate, recipe);
    } catch (const Error& e) {
      errors[k] = e.what();
    }
    labels_[k] = rec.digit;
    speakers_[k] = rec.speaker;
    paths_[k] = rec.path;
  }
  for (const auto& e : errors) DUET_CHECK(e.empty(), e);
}

Tensor AudioSet::batch(const std::vector<int64_t>& idx, const AudioAugment& aug, Rng& rng, Device device,
                       const std::vector<ClipEffects>& effects) const {
  const int64_t B = int64_t(idx.size()), L = recipe_.num_samples;
  DUET_CHECK(effects.empty() || int64_t(effects.size()) == B, "AudioSet::batch: ", effects.size(), " effects for ", B,
             " clips");
  Tensor waves = Tensor::zeros({B, L});
  float* w = waves.data<float>();
  std::vector<std::vector<dsp::Band>> bands(B);
  std::vector<double> warps(aug.enabled && aug.warps() ? B : 0, 1.0);
  const int bins = recipe_.frontend.bins(), frames = int(recipe_.frontend.frames(L));
  // The clips are made side by side (make_examples), each drawing from its own generator,
  // seeded from one draw of rng and the clip's place in the batch.
  const uint64_t batch_seed = rng.next_u64();
  // The test-time views of this batch's speeds exist before the threads look them up.
  if (!aug.enabled)
    for (const ClipEffects& fx : effects)
      if (std::abs(fx.speed - 1.0) >= 1e-3) views_[std::lround(fx.speed * 10000)].resize(waves_.size());
  // One clip of the batch into row b of w, its masks into bands[b], its warp into warps[b].
  // Its rng is the clip's own generator (and hides the batch's).
  auto make_clip = [&](int64_t b, Rng& rng) {
    const ClipEffects fx = effects.empty() ? ClipEffects{} : effects[b];
    if (fx.silent) return;  // stays all zeros
    std::vector<float> cut_clip;
    if (fx.cut > 0) cut_clip = cut_word(waves_[idx[b]], recipe_.sample_rate, fx.cut, fx.cut_at_start);
    const std::vector<float>& src = fx.cut > 0 ? cut_clip : waves_[idx[b]];
    std::vector<float> x;
    int64_t offset = 0, from = 0;
    double aug_snr = INFINITY;  // augmentation noise over the whole window (noise_on_window)
    struct {
      double cutoff_hz = 0, snr_db = 0;
      int hop = 0;  // 0: not coded
    } coding;  // the lossy coding drawn for this clip
    NoiseColour aug_colour = NoiseColour::white;
    const int rate = recipe_.sample_rate;
    // A room of the effects: drawn from its seed and the clip, the same for every view.
    auto room_of = [&](const std::vector<float>& clip) {
      Rng room(splitmix64(fx.room_seed ^ splitmix64(uint64_t(idx[b]))));
      return in_room(clip, fx.rt60, fx.drr_db, recipe_, room);
    };
    // The effects' room, then their overdrive, on the (cut) clip.
    auto heard = [&]() {
      std::vector<float> y = fx.rt60 > 0 ? room_of(src) : src;
      return fx.overdrive_db > 0 ? overdrive(y, fx.overdrive_db) : y;
    };
    if (!aug.enabled && (fx.rt60 > 0 || fx.cut > 0 || fx.overdrive_db > 0)) {  // not the stored clip: not cached
      x = fit_to_window(at_speed(heard(), fx.speed, rate), recipe_);
    } else if (!aug.enabled && std::abs(fx.speed - 1.0) < 1e-3) {
      x = fit_to_window(src, recipe_);  // src is already the recipe's clip
    } else if (!aug.enabled) {  // a test-time view of the whole clip, made once
      std::vector<float>& cached = views_.at(std::lround(fx.speed * 10000))[idx[b]];
      bool made;
#pragma omp critical(duet_audio_views)
      {
        made = !cached.empty();
        if (made) x = cached;
      }
      if (!made) {
        x = fit_to_window(at_speed(src, fx.speed, rate), recipe_);
#pragma omp critical(duet_audio_views)
        if (cached.empty()) cached = x;
      }
    } else {
      const double f = rng.uniform(aug.speed_min, aug.speed_max) * fx.speed;
      x = at_speed(heard(), f, rate);
      // Drawn only when rooms are asked for, so that training without them keeps its draws.
      if (aug.reverb_prob > 0 && rng.uniform() < aug.reverb_prob) {
        const double rt60 = rng.uniform(aug.rt60_min, aug.rt60_max), drr = rng.uniform(aug.drr_min_db, aug.drr_max_db);
        x = in_room(x, rt60, drr, recipe_, rng);
      }
      // Drawn only when cut words are asked for, so that training without them keeps its draws.
      if (aug.cut_prob > 0 && rng.uniform() < aug.cut_prob) {
        const double fraction = rng.uniform(0.0, aug.cut_max);
        x = cut_word(x, rate, fraction, rng.uniform() < 0.5);
      }
      // Drawn only when overdrive is asked for, so that training without it keeps its draws.
      if (aug.overdrive_prob > 0 && rng.uniform() < aug.overdrive_prob)
        x = overdrive(x, rng.uniform(0.0, aug.overdrive_max_db));
      // Drawn only when clicks are asked for, so that training without them keeps its draws.
      if (aug.click_prob > 0 && rng.uniform() < aug.click_prob) {
        const double gap = rng.uniform(0.0, aug.click_max_gap), ms = rng.uniform(1.0, 6.0);
        const bool after = rng.uniform() < 0.5;
        const double level = std::min(1.0, dsp::peak_level(x) * std::exp(rng.uniform(std::log(0.5), std::log(4.0))));
        if (level > 0) x = with_click(x, rate, gap, after, level, ms, rng);
      }
      // Drawn only when lossy coding is asked for, so that training without it keeps its draws.
      if (aug.lossy_prob > 0 && rng.uniform() < aug.lossy_prob) {
        const double hop_s = std::exp(rng.uniform(std::log(aug.lossy_hop_min_s), std::log(aug.lossy_hop_max_s)));
        const int hop = 32 * std::max(1, int(std::lround(hop_s * rate / 32)));  // a few transform sizes
        const double snr = rng.uniform(aug.lossy_snr_min_db, aug.lossy_snr_max_db);
        const double cutoff = rng.uniform(std::min(aug.lossy_cutoff_min_hz, rate / 2.0), rate / 2.0);
        coding = {cutoff, snr, hop};  // applied to the window, after the noise
      }
      const double gain = std::pow(10.0, rng.uniform(-aug.gain_db, aug.gain_db) / 20.0);
      for (float& v : x) v = float(v * gain);
      if (rng.uniform() < aug.noise_prob) {
        const double snr = rng.uniform(aug.snr_min_db, aug.snr_max_db);
        // Drawn only when pink noise is asked for, so that white-only training keeps its draws.
        if (aug.pink_share > 0 && rng.uniform() < aug.pink_share) aug_colour = NoiseColour::pink;
        if (aug.noise_on_window) aug_snr = snr;
        else add_noise(x.data(), x.size(), snr, rng, aug_colour);
      }
      // Place the clip at a random offset around the centre of the window.
      const int64_t n = std::min<int64_t>(int64_t(x.size()), L);
      const int64_t centre = (L - n) / 2, jitter = int64_t(aug.max_shift * L);
      if (int64_t(x.size()) > L)  // long clip: its loudest stretch, shifted like a short one
        from = std::clamp<int64_t>(loudest_window(x, L) + rng.randint(2 * jitter + 1) - jitter, 0,
                                   int64_t(x.size()) - L);
      offset = std::clamp<int64_t>(centre + rng.randint(2 * jitter + 1) - jitter, 0, L - n);
      for (int k = 0; k < aug.time_masks; ++k) {
        const int width = int(rng.randint(aug.max_time_mask + 1)), start = int(rng.randint(std::max(1, frames - width)));
        bands[b].push_back({1, start, std::min(frames, start + width)});
      }
      for (int k = 0; k < aug.freq_masks; ++k) {
        const int width = int(rng.randint(aug.max_freq_mask + 1)), start = int(rng.randint(std::max(1, bins - width)));
        bands[b].push_back({0, start, std::min(bins, start + width)});
      }
      // Drawn only when warps are asked for, so that training without them keeps its draws.
      if (aug.warps()) warps[b] = rng.uniform(aug.warp_min, aug.warp_max);
    }
    const int64_t n = std::min<int64_t>(int64_t(x.size()) - from, L - offset);
    std::copy(x.begin() + from, x.begin() + from + n, w + b * L + offset);
    for (auto [snr, colour] : {std::pair{aug_snr, aug_colour}, {fx.snr_db, fx.colour}})
      if (std::isfinite(snr)) add_noise(w + b * L, size_t(L), snr, rng, colour);
    // The coder hears the window as it was recorded, noise and all: a noisy recording saved at a
    // low bitrate (coding the clean clip before the noise cost 2.4 points at -5 dB SNR).
    if (coding.hop > 0) {
      const std::vector<float> coded = dsp::lossy_coded(std::vector<float>(w + b * L, w + (b + 1) * L), rate,
                                                        coding.cutoff_hz, coding.snr_db, coding.hop);
      std::copy(coded.begin(), coded.end(), w + b * L);
    }
  };
  make_examples(B, batch_seed, make_clip);
  Tensor feats = audio_features(waves.to(device), recipe_, warps);
  if (aug.enabled) dsp::mask_bands(feats, bands);
  return feats;
}

}  // namespace duet::models
