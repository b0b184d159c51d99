// Data commands: info (data set or one recording), show (a recording's waveform and mel spectrogram, or a
// picture as prepared for the model; with a model, what it reads), split (train/test CSV files).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "dsp/features.h"
#include "dsp/wav.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "models/audio_data.h"
#include "models/datasets.h"
#include "models/image_data.h"
#include "models/task.h"
#include "tools/args.h"
#include "tools/common.h"
#include "tools/commands.h"
#include "tools/model_dir.h"
#include "tools/plot.h"
#include "tools/reading.h"

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

namespace {

// show --model-dir: the model, refused unless it reads this kind of input.
std::unique_ptr<models::Task> model_for_show(const Args& args, const std::string& kind, const std::string& path) {
  const std::string dir = args.str("model-dir", "");
  const std::string model = read_config(dir).at("model");
  DUET_CHECK(model == kind, "show: --model-dir ", dir, " holds ", model == "fusion" ? "a " : "an ", model, " model; ",
             path, " is ", kind == "audio" ? "a recording: give an audio model" : "a picture: give an image model");
  return load_model_dir(dir, choose_device(args.str("device", "")), "");
}

std::string reading_of(const NumberDigit& d) {
  char s[32];
  std::snprintf(s, sizeof s, "%d (%.2f)", d.prediction, d.probabilities[size_t(d.prediction)]);
  return s;
}

int show_recording(const Args& args, const std::string& path, const std::string& out) {
  dsp::WavInfo info;
  dsp::Audio a = dsp::read_audio(path, &info);
  dsp::FrontendConfig c;
  c.sample_rate = int(args.integer("sample-rate", a.sample_rate, 1, 1000000));
  c.n_fft = int(args.integer("n-fft", 400, 2, 65536));
  c.hop_length = int(args.integer("hop", 0, 0, 65536));
  c.n_mels = int(args.integer("n-mels", 128, 1, 1024));
  const bool words_asked = args.flag("words") || args.flag("number");
  std::unique_ptr<models::Task> task;
  if (args.has("model-dir")) {
    about_file(path, [&] { models::check_audible(a.samples); });
    task = model_for_show(args, "audio", path);
  }

  Tensor wave = Tensor::from_vector<float>(a.samples, {1, int64_t(a.samples.size())});
  Tensor spec = dsp::melspectrogram_db(wave, c);
  const int64_t M = spec.size(2), T = spec.size(3);
  std::printf("file:         %s\n", path.c_str());
  std::printf("sample rate:  %d Hz\n", a.sample_rate);
  std::printf("waveform:     [1, %zu]\n", a.samples.size());
  std::printf("spectrogram:  [1, %lld, %lld]  (%s)\n", (long long)M, (long long)T, c.describe().c_str());
  std::printf("duration:     %.3f s\n", info.seconds());
  if (!info.note.empty()) std::printf("header:       %s\n", info.note.c_str());
  // The words (--words): where word_stretches finds them, or, with a model, as predict --number reads
  // them (stretches said without a pause cut where the model reads one word in each piece).
  std::vector<std::pair<int64_t, int64_t>> words;
  std::vector<NumberDigit> digits;
  NoGrad ng;
  if (words_asked && task) {
    digits = said_number(dynamic_cast<models::AudioTask&>(*task), a, path);
    for (const NumberDigit& d : digits)
      words.emplace_back(std::llround(d.where.at("start_s").get<double>() * a.sample_rate),
                         std::llround(d.where.at("end_s").get<double>() * a.sample_rate));
  } else if (words_asked) {
    words = models::word_stretches(a.samples, a.sample_rate);
  } else if (task) {
    auto& audio_task = dynamic_cast<models::AudioTask&>(*task);
    digits.push_back(read_digit(audio_task, audio_task.input_for(a.samples, a.sample_rate), {}));
  }
  if (words_asked) {
    std::printf("words:        %zu", words.size());
    for (size_t k = 0; k < words.size(); ++k)
      std::printf("%s %.2f-%.2f s%s", k == 0 ? ":" : ",", double(words[k].first) / a.sample_rate,
                  double(words[k].second) / a.sample_rate, task ? (" read " + reading_of(digits[k])).c_str() : "");
    std::printf("\n");
  }
  if (task) std::printf("read:         %s\n", words_asked ? number_of(digits).c_str() : reading_of(digits[0]).c_str());

  plot::Image img(900, 640);
  plot::Series wave_series("waveform", plot::palette(0));
  const size_t n = a.samples.size(), step = std::max<size_t>(1, n / 4000);
  for (size_t i = 0; i < n; i += step) {
    wave_series.x.push_back(double(i) / a.sample_rate);
    wave_series.y.push_back(a.samples[i]);
  }
  std::vector<plot::Series> shown = {wave_series};
  plot::Axes ax;
  const double top = 1.05 * std::max(1e-6, dsp::peak_level(a.samples));
  for (size_t k = 0; k < words.size(); ++k) {  // a bar above each word; words that meet in two colours
    plot::Series w("word", plot::palette(k % 2 == 0 ? 1 : 2));
    w.x = {double(words[k].first) / a.sample_rate, double(words[k].second) / a.sample_rate};
    w.y = {top, top};
    shown.push_back(w);
    if (task) ax.labels.push_back({(w.x[0] + w.x[1]) / 2, top, reading_of(digits[k])});
  }
  if (task)  // room above the bars for their digits
    ax.ymin = -top * 1.1, ax.ymax = top * 1.25, ax.xmin = 0, ax.xmax = std::max(1e-6, double(n) / a.sample_rate);
  ax.title = "Waveform: " + fs::path(path).filename().string() +
             (!words_asked ? (task ? ", read " + reading_of(digits[0]) : "")
                           : task ? ", read " + number_of(digits) + " (bars: words)" : " (words found: bars)");
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

// Draws v (w x h, 0-1 or 0-255 as `full`) fitted into `r` keeping its aspect (nearest pixel);
// returns where it lies and how many drawn pixels one of v's pixels spans.
std::pair<plot::Rect, double> draw_gray(plot::Image& img, plot::Rect r, const std::vector<float>& v, int w, int h,
                                        float full) {
  const double k = std::min(double(r.w) / w, double(r.h) / h);
  const int dw = std::max(1, int(w * k)), dh = std::max(1, int(h * k));
  const plot::Rect at{r.x + (r.w - dw) / 2, r.y + (r.h - dh) / 2, dw, dh};
  for (int y = 0; y < dh; ++y)
    for (int x = 0; x < dw; ++x) {
      const float g = v[size_t(std::min(h - 1, int(y / k))) * w + std::min(w - 1, int(x / k))] / full;
      const auto level = uint8_t(std::lround(255 * std::clamp(g, 0.0f, 1.0f)));
      img.set(at.x + x, at.y + y, {level, level, level});
    }
  img.rect_outline({at.x - 1, at.y - 1, at.w + 2, at.h + 2}, plot::kGrey);
  return {at, k};
}

// A box of v's pixels [x0, x1] x [y0, y1] drawn where draw_gray put v, two pixels wide.
void draw_box(plot::Image& img, const std::pair<plot::Rect, double>& at, const models::InkBox& b, plot::Rgb c) {
  const auto [r, k] = at;
  const plot::Rect box{r.x + int(b.x0 * k) - 1, r.y + int(b.y0 * k) - 1, int((b.x1 + 1 - b.x0) * k) + 2,
                       int((b.y1 + 1 - b.y0) * k) + 2};
  img.rect_outline(box, c);
  img.rect_outline({box.x - 1, box.y - 1, box.w + 2, box.h + 2}, c);
}

int show_picture(const Args& args, const std::string& path, const std::string& out) {
  for (const char* audio_only : {"sample-rate", "n-fft", "hop", "n-mels"})
    DUET_CHECK(!args.has(audio_only), "show: --", audio_only, " is for recordings; ", path, " is a picture");
  DUET_CHECK(!args.flag("fbank"), "show: --fbank is for recordings; ", path, " is a picture");
  DUET_CHECK(!args.flag("words"), "show: --words is for recordings; for the digits of a picture give --number");
  const bool number = args.flag("number");
  int w = 0, h = 0;
  models::PictureFile file;
  const std::vector<uint8_t> gray = models::load_gray_image(path, &w, &h, &file);
  const models::CleanPicture clean = about_file(path, [&] { return models::clean_picture(gray, w, h); });
  // The digits as predict reads them: one (to_mnist_form), or with --number those number_digits
  // finds, found before the model loads (a blank picture fails fast); given a model, --number's
  // digits are found with it (digits that touch cut where the model reads them best).
  models::PictureNotes notes;
  std::vector<std::vector<float>> pixels;
  std::vector<models::InkBox> boxes;
  const std::vector<models::WrittenDigit> found = about_file(path, [&] {
    if (number) return models::number_digits(gray, w, h, &notes);
    models::WrittenDigit one;  // the whole picture read as one digit (no box drawn)
    one.pixels = models::to_mnist_form(gray, w, h, &notes);
    return std::vector<models::WrittenDigit>{std::move(one)};
  });
  std::unique_ptr<models::Task> task;
  if (args.has("model-dir")) task = model_for_show(args, "image", path);
  std::vector<NumberDigit> digits;
  NoGrad ng;
  if (number && task) {
    digits = written_number(dynamic_cast<models::ImageTask&>(*task), gray, w, h, path, &notes);
    for (const NumberDigit& d : digits) {
      pixels.push_back(d.pixels);
      const auto b = d.where.at("box").get<std::vector<int>>();
      boxes.push_back({b[0], b[1], b[2], b[3]});
    }
  } else {
    for (const models::WrittenDigit& d : found) {
      pixels.push_back(d.pixels);
      if (number) boxes.push_back(d.box);
    }
    if (task) {
      auto& image_task = dynamic_cast<models::ImageTask&>(*task);
      digits.push_back(read_digit(image_task, image_task.input_for(pixels[0]), {}));
    }
  }
  note_picture(path, file, notes, number, true);
  std::printf("file:         %s\n", path.c_str());
  std::printf("picture:      %d x %d pixels\n", w, h);
  std::printf("cleaned:      %d x %d pixels (%d x %d of the picture's each), light ink on dark\n", clean.w, clean.h,
              clean.scale, clean.scale);
  if (number) {
    std::printf("digits:       %zu", boxes.size());
    for (size_t k = 0; k < boxes.size(); ++k)
      std::printf("%s x %d-%d, y %d-%d%s", k == 0 ? ":" : ",", boxes[k].x0, boxes[k].x1, boxes[k].y0, boxes[k].y1,
                  task ? (" read " + reading_of(digits[k])).c_str() : "");
    std::printf("\n");
  }
  if (task) std::printf("read:         %s\n", number ? number_of(digits).c_str() : reading_of(digits[0]).c_str());

  // The picture as read and as cleaned (the digits' boxes on both), then each digit as the model
  // reads it: 28 x 28, enlarged four times.
  constexpr int kWidth = 900, kCell = 112, kPitch = 124, kPerRow = 7;
  const int rows = int((pixels.size() + kPerRow - 1) / kPerRow);
  plot::Image img(kWidth, 410 + rows * (kCell + 34));
  std::string title = "Picture: " + fs::path(path).filename().string();
  if (task) title += ", read " + (number ? number_of(digits) : reading_of(digits[0]));
  img.text(kWidth / 2, 8, title, plot::kBlack, 2, 1);
  std::vector<float> as_read(gray.begin(), gray.end());
  img.text(225, 40, "as read (" + std::to_string(w) + " x " + std::to_string(h) + ", grey)", plot::kBlack, 1, 1);
  const auto left = draw_gray(img, {15, 56, 420, 320}, as_read, w, h, 255.0f);
  img.text(675, 40,
           "cleaned: light ink on dark (" + std::to_string(clean.w) + " x " + std::to_string(clean.h) + ")",
           plot::kBlack, 1, 1);
  const float peak = std::max(1e-6f, *std::max_element(clean.ink.begin(), clean.ink.end()));
  const auto right = draw_gray(img, {465, 56, 420, 320}, clean.ink, clean.w, clean.h, peak);
  for (size_t k = 0; k < boxes.size(); ++k) {
    const models::InkBox& b = boxes[k];
    draw_box(img, left, b, plot::palette(int(k % 2) + 1));
    draw_box(img, right, {b.x0 / clean.scale, b.y0 / clean.scale, b.x1 / clean.scale, b.y1 / clean.scale},
             plot::palette(int(k % 2) + 1));
  }
  img.text(kWidth / 2, 392,
           number ? "each digit as the model reads it (28 x 28: its ink fitted into 20 x 20, centred by mass)"
                  : "the digit as the model reads it (28 x 28: its ink fitted into 20 x 20, centred by mass)",
           plot::kBlack, 1, 1);
  for (size_t k = 0; k < pixels.size(); ++k) {
    const int row = int(k) / kPerRow, col = int(k) % kPerRow;
    const int in_row = std::min<int>(kPerRow, int(pixels.size()) - row * kPerRow);
    const int x = (kWidth - in_row * kPitch) / 2 + col * kPitch + (kPitch - kCell) / 2, y = 410 + row * (kCell + 34);
    draw_gray(img, {x, y, kCell, kCell}, pixels[k], 28, 28, 1.0f);
    const std::string label = task ? reading_of(digits[k]) : number ? "digit " + std::to_string(k + 1) : "";
    img.text(x + kCell / 2, y + kCell + 6, label, number ? plot::palette(int(k % 2) + 1) : plot::kBlack, 1, 1);
  }
  img.save_png(out);
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace

int cmd_show(const Argv& argv) {
  Args args(argv, {"out", "sample-rate", "n-fft", "hop", "n-mels", "model-dir", "device"},
            {"help", "fbank", "words", "number"}, "show");
  if (args.flag("help") || args.positional().size() != 1) {
    std::printf(
        "usage: duet show FILE.wav|flac|mp3|m4a|... [-o|--out OUT.png] [--words] [--fbank] [--sample-rate HZ]\n"
        "                 [--n-fft N] [--hop N] [--n-mels N] [--model-dir DIR] [--device cuda|cpu]\n"
        "       duet show PICTURE.png|jpg|... [-o|--out OUT.png] [--number] [--model-dir DIR] [--device cuda|cpu]\n"
        "A recording: draws the waveform and its mel spectrogram in dB (default: torchaudio's\n"
        "MelSpectrogram() defaults, as the course); --fbank draws the mel filterbank instead of the spectrogram.\n"
        "--words (or --number) lists the words duet predict --number would read and marks them above the\n"
        "waveform. --sample-rate defaults to the file's rate. OUT defaults to FILE's name with .png (here).\n"
        "A picture (.png, .jpg, .jpeg, .bmp, .gif, .pgm, .ppm, .tga): draws it as read, as cleaned (light\n"
        "ink on dark: polarity, noise, light and ruled lines dealt with) and the 28 x 28 digit the model\n"
        "reads; --number: each digit duet predict --number finds, boxed. OUT defaults to FILE's name\n"
        "with _show.png (here).\n"
        "--model-dir DIR (an audio model for a recording, an image model for a picture): also the digit\n"
        "the model reads, or with --words/--number each word's or digit's, as duet predict reads them\n"
        "(words said without a pause and digits that touch cut where the model reads them best).\n");
    return args.flag("help") ? 0 : 2;
  }
  const std::string path = args.positional()[0];
  DUET_CHECK(!args.has("device") || args.has("model-dir"),
             "show: --device is where the model runs: give --model-dir DIR with it");
  const fs::path p(path);
  const bool picture = has_extension(p, {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tga", ".heic",
                                         ".heif", ".webp", ".tif", ".tiff", ".avif", ".svg", ".jxl", ".jp2"});
  const std::string out = args.str("out", p.stem().string() + (picture ? "_show.png" : ".png"));
  std::error_code ec;
  DUET_CHECK(!fs::equivalent(out, path, ec), "show: the picture would be written over ", path,
             " (the file shown); give another -o OUT.png");
  return picture ? show_picture(args, path, out) : show_recording(args, path, out);
}

}  // namespace duet::cli
