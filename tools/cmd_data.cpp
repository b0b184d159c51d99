// Data commands: info (data set or one recording), show (waveform + mel spectrogram picture),
// split (train/test CSV files).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "dsp/features.h"
#include "dsp/wav.h"
#include "engine/error.h"
#include "models/audio_data.h"
#include "models/datasets.h"
#include "tools/args.h"
#include "tools/common.h"
#include "tools/commands.h"
#include "tools/plot.h"

namespace fs = std::filesystem;

namespace duet::cli {
namespace {

int info_wav(const std::string& path) {
  dsp::WavInfo w;
  const dsp::Audio a = dsp::read_audio(path, &w);
  std::printf("file:        %s\n", path.c_str());
  std::printf("sample rate: %d Hz\n", w.sample_rate);
  std::printf("channels:    %d\n", w.channels);
  if (w.bits_per_sample > 0)
    std::printf("encoding:    %s, %d bits\n", w.encoding.c_str(), w.bits_per_sample);
  else
    std::printf("encoding:    %s\n", w.encoding.c_str());  // MP3 and AAC have no bit depth
  std::printf("samples:     %lld per channel\n", (long long)w.frames);
  std::printf("duration:    %.3f s\n", w.seconds());
  if (!w.note.empty()) std::printf("header:      %s\n", w.note.c_str());
  // The level, a DC offset (which --highpass removes) and clipping (docs/dsp.md).
  const dsp::Level l = dsp::measure_level(a.samples, a.sample_rate);
  if (a.samples.empty()) {
    std::printf("level:       no samples\n");
  } else if (l.peak == 0) {
    std::printf("level:       silent (every sample is 0)\n");
  } else {
    std::printf("level:       peak %.1f dBFS, DC offset %.2f%% of full scale (%.1f%% of the peak)\n",
                20 * std::log10(l.peak), 100 * l.mean, 100 * std::abs(l.mean) / l.peak);
    if (l.clipped())
      std::printf("clipping:    %lld samples (%.1f ms in all) lie within 1%% of the peak: the recording is clipped\n",
                  (long long)l.near_peak, 1000 * l.near_peak_seconds());
  }
  return 0;
}

}  // namespace

int cmd_info(const Argv& argv) {
  Args args(argv, {"data"}, {"help"}, "info");
  if (args.flag("help")) {
    std::printf(
        "usage: duet info [--data DIR]     summary of the data sets (loads and checks every file)\n"
        "       duet info FILE             one recording's format, level and DC offset (WAV/AIFF/CAF/FLAC/MP3/M4A/Ogg)\n");
    return 0;
  }
  if (!args.positional().empty()) {
    DUET_CHECK(args.positional().size() == 1, "info: give one recording (WAV, AIFF, CAF, FLAC, MP3, M4A/AAC or Ogg Vorbis), got ",
               args.positional().size());
    return info_wav(args.positional()[0]);
  }
  const std::string root = data::resolve_data_dir(args.str("data", ""));
  data::Fsdd ds = data::load_fsdd(root);
  std::map<std::string, std::array<int, 10>> per_speaker;
  std::map<int, int> rates;
  std::vector<double> seconds;
  std::vector<std::string> header_notes;
  for (const auto& r : ds.recordings) {
    dsp::WavInfo w = dsp::read_wav_info(r.path);
    if (!w.note.empty()) header_notes.push_back(r.path + ": " + w.note);
    rates[w.sample_rate]++;
    seconds.push_back(w.seconds());
    per_speaker[r.speaker][r.digit]++;
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("FSDD: %s\n", ds.root.c_str());
  std::printf("  recordings: %zu, speakers: %zu\n", ds.recordings.size(), per_speaker.size());
  std::printf("  %-10s", "speaker");
  for (int d = 0; d < 10; ++d) std::printf(" %4d", d);
  std::printf("  total\n");
  for (const auto& [sp, counts] : per_speaker) {
    int total = 0;
    std::printf("  %-10s", sp.c_str());
    for (int d = 0; d < 10; ++d) {
      std::printf(" %4d", counts[d]);
      total += counts[d];
    }
    std::printf("  %5d\n", total);
  }
  std::printf("  duration: min %.3f s, median %.3f s, max %.3f s\n", seconds.front(), seconds[seconds.size() / 2],
              seconds.back());
  std::printf("  sample rates:");
  for (auto [rate, n] : rates) std::printf(" %d Hz (%d files)", rate, n);
  std::printf("\n");
  if (!header_notes.empty()) {
    std::printf("  %zu file%s whose header gives a wrong data size (read to the end of the file):\n",
                header_notes.size(), header_notes.size() == 1 ? "" : "s");
    for (size_t i = 0; i < header_notes.size() && i < 10; ++i) std::printf("    %s\n", header_notes[i].c_str());
  }
  if (!ds.skipped.empty()) {
    std::printf("  skipped %zu .wav files not named {digit}_{speaker}_{index}.wav:\n", ds.skipped.size());
    for (size_t i = 0; i < ds.skipped.size() && i < 10; ++i) std::printf("    %s\n", ds.skipped[i].c_str());
  }
  for (const char* which : {"train", "test"}) {
    data::Mnist m = data::load_mnist(root, which);
    std::array<int, 10> hist{};
    for (uint8_t l : m.labels) hist[l]++;
    std::printf("MNIST %-5s: %lld images of %lldx%lld; per digit:", which, (long long)m.count, (long long)m.rows,
                (long long)m.cols);
    for (int d = 0; d < 10; ++d) std::printf(" %d", hist[d]);
    std::printf("\n");
  }
  return 0;
}

int cmd_split(const Argv& argv) {
  Args args(argv, {"data", "split", "seed", "test-fraction", "out"}, {"help"}, "split");
  if (args.flag("help")) {
    std::printf(
        "usage: duet split [--data DIR] --split random|official|speaker:NAME [--seed N]\n"
        "                  [--test-fraction F] -o|--out DIR\n"
        "Writes DIR/train.csv and DIR/test.csv (path,label) and prints the label balance.\n"
        "random: shuffled with --seed (default 0), --test-fraction of clips to test (0.25)\n"
        "official: takes 0-4 of every speaker and digit to test (FSDD's README)\n"
        "speaker:NAME: all of NAME's clips to test\n");
    return 0;
  }
  DUET_CHECK(args.has("split"), "split: --split is required (random, official or speaker:NAME)");
  DUET_CHECK(args.has("out"), "split: -o DIR is required");
  const std::string root = data::resolve_data_dir(args.str("data", ""));
  data::Fsdd ds = data::load_fsdd(root);
  data::Split s = data::make_split(ds, args.str("split", ""), args.number("test-fraction", 0.25, 1e-9, 1 - 1e-9),
                                   uint64_t(args.integer("seed", 0, 0, INT64_MAX)));
  const std::string out = args.str("out", "");
  make_output_folder(out);
  for (auto [name, idx] : {std::pair{"train", &s.train}, {"test", &s.test}}) {
    const std::string path = out + "/" + name + ".csv";
    std::ofstream f(path);
    DUET_CHECK(f, path, ": cannot open for writing");
    f << "path,label\n";
    std::array<int, 10> counts{};
    std::set<std::string> speakers;
    for (int64_t i : *idx) {
      const auto& r = ds.recordings[i];
      f << r.path << ',' << r.digit << '\n';
      counts[r.digit]++;
      speakers.insert(r.speaker);
    }
    DUET_CHECK(f.good(), path, ": write failed");
    std::printf("%s: %zu clips, %zu speakers -> %s\n", name, idx->size(), speakers.size(), path.c_str());
    std::printf("  label:");
    for (int d = 0; d < 10; ++d) std::printf(" %5d", d);
    std::printf("\n  count:");
    for (int d = 0; d < 10; ++d) std::printf(" %5d", counts[d]);
    std::printf("\n  share:");
    for (int d = 0; d < 10; ++d) std::printf(" %5.3f", idx->empty() ? 0.0 : double(counts[d]) / idx->size());
    std::printf("\n");
  }
  return 0;
}

int cmd_show(const Argv& argv) {
  Args args(argv, {"out", "sample-rate", "n-fft", "hop", "n-mels"}, {"help", "fbank", "words"}, "show");
  if (args.flag("help") || args.positional().size() != 1) {
    std::printf(
        "usage: duet show FILE.wav|flac|mp3|m4a [-o|--out OUT.png] [--fbank] [--words] [--sample-rate HZ] [--n-fft N]\n"
        "                 [--hop N] [--n-mels N]\n"
        "Draws the waveform and its mel spectrogram in dB (default: torchaudio's MelSpectrogram()\n"
        "defaults, as the course). --fbank draws the mel filterbank instead of the spectrogram.\n"
        "--words lists the words duet predict --number would read and marks them above the waveform.\n"
        "--sample-rate defaults to the file's rate.\n");
    return args.flag("help") ? 0 : 2;
  }
  const std::string path = args.positional()[0];
  dsp::WavInfo info;
  dsp::Audio a = dsp::read_audio(path, &info);
  dsp::FrontendConfig c;
  c.sample_rate = int(args.integer("sample-rate", a.sample_rate, 1, 1000000));
  c.n_fft = int(args.integer("n-fft", 400, 2, 65536));
  c.hop_length = int(args.integer("hop", 0, 0, 65536));
  c.n_mels = int(args.integer("n-mels", 128, 1, 1024));
  const std::string out = args.str("out", fs::path(path).stem().string() + ".png");

  Tensor wave = Tensor::from_vector<float>(a.samples, {1, int64_t(a.samples.size())});
  Tensor spec = dsp::melspectrogram_db(wave, c);
  const int64_t M = spec.size(2), T = spec.size(3);
  std::printf("file:         %s\n", path.c_str());
  std::printf("sample rate:  %d Hz\n", a.sample_rate);
  std::printf("waveform:     [1, %zu]\n", a.samples.size());
  std::printf("spectrogram:  [1, %lld, %lld]  (%s)\n", (long long)M, (long long)T, c.describe().c_str());
  std::printf("duration:     %.3f s\n", info.seconds());
  if (!info.note.empty()) std::printf("header:       %s\n", info.note.c_str());
  std::vector<std::pair<int64_t, int64_t>> words;
  if (args.flag("words")) {
    words = models::word_stretches(a.samples, a.sample_rate);
    std::printf("words:        %zu", words.size());
    for (const auto& [from, to] : words)
      std::printf("%s %.2f-%.2f s", &from == &words.front().first ? ":" : ",", double(from) / a.sample_rate,
                  double(to) / a.sample_rate);
    std::printf("\n");
  }

  plot::Image img(900, 640);
  plot::Series wave_series("waveform", plot::palette(0));
  const size_t n = a.samples.size(), step = std::max<size_t>(1, n / 4000);
  for (size_t i = 0; i < n; i += step) {
    wave_series.x.push_back(double(i) / a.sample_rate);
    wave_series.y.push_back(a.samples[i]);
  }
  std::vector<plot::Series> shown = {wave_series};
  const double top = 1.05 * std::max(1e-6, dsp::peak_level(a.samples));
  for (const auto& [from, to] : words) {  // a bar above each word
    plot::Series w("word", plot::palette(1));
    w.x = {double(from) / a.sample_rate, double(to) / a.sample_rate};
    w.y = {top, top};
    shown.push_back(w);
  }
  plot::Axes ax;
  ax.title = "Waveform: " + fs::path(path).filename().string() + (args.flag("words") ? " (words found: bars)" : "");
  ax.xlabel = "time (s)";
  ax.ylabel = "amplitude";
  ax.legend = false;
  plot::line_chart(img, {0, 0, 900, 240}, ax, shown);
  plot::Heatmap h;
  if (args.flag("fbank")) {
    auto fb = dsp::mel_filterbank(c);
    h.title = "Mel filterbank";
    h.rows = c.n_mels;
    h.cols = c.n_freqs();
    h.values.resize(fb.size());
    for (int f = 0; f < h.cols; ++f)
      for (int m = 0; m < h.rows; ++m) h.values[size_t(m) * h.cols + f] = fb[size_t(f) * c.n_mels + m];
    h.xlabel = "frequency (Hz)";
    h.x0 = 0;
    h.x1 = c.sample_rate / 2.0;
    h.ylabel = "mel filter";
    h.colorbar_label = "weight";
  } else {
    h.title = "Mel spectrogram (dB)";
    h.rows = int(M);
    h.cols = int(T);
    h.values = spec.to_vector<float>();
    h.xlabel = "time (s)";
    h.x0 = 0;
    h.x1 = double(T * c.hop()) / a.sample_rate;
    h.ylabel = "mel bin";
    h.colorbar_label = "dB";
  }
  h.origin_lower = true;
  plot::heatmap(img, {0, 250, 900, 390}, h);
  img.save_png(out);
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace duet::cli
