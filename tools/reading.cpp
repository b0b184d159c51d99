// Reading inputs as duet predict reads them: see tools/reading.h.
#include "tools/reading.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/autograd.h"
#include "engine/functional.h"
#include "models/audio_data.h"

namespace duet::cli {
namespace {

// How predict names the background a transparent picture is read on.
std::string background_name(const models::PictureFile& f) {
  if (f.strokes) return f.background == 255 ? "white, behind its dark strokes" : "black, behind its light strokes";
  return "the grey of its opaque part's edge (" + std::to_string(f.background) + " of 255)";
}

// What showing a picture upright does to its stored pixels, for EXIF orientations 2-8.
const char* orientation_name(int orientation) {
  static constexpr const char* kNames[] = {"as stored", "as stored", "mirrored left to right", "turned 180 degrees",
                                           "mirrored top to bottom", "mirrored along its main diagonal",
                                           "turned 90 degrees clockwise", "mirrored along its other diagonal",
                                           "turned 90 degrees anticlockwise"};
  return orientation >= 1 && orientation <= 8 ? kNames[orientation] : "as stored";
}

}  // namespace

void note_picture(const std::string& image_path, const models::PictureFile& file, const models::PictureNotes& notes,
                  bool number, bool can_number) {
  if (file.background >= 0)
    std::fprintf(stderr, "duet: note: %s: %.0f%% of the picture is transparent; it is read on %s\n",
                 image_path.c_str(), 100 * file.transparent, background_name(file).c_str());
  if (file.orientation != 1)
    std::fprintf(stderr, "duet: note: %s: its EXIF orientation is %d; it is read %s, upright as a viewer shows it\n",
                 image_path.c_str(), file.orientation, orientation_name(file.orientation));
  if (notes.impulses > 0)
    std::fprintf(stderr, "duet: note: %s: %.1f%% of the pixels are specks unlike their neighbours (salt-and-pepper "
                 "noise); they are read as their neighbourhood's median\n", image_path.c_str(), 100 * notes.impulses);
  if (notes.noise > 0)
    std::fprintf(stderr, "duet: note: %s: the picture is noisy (noise estimate %.2f); it is read smoothed\n",
                 image_path.c_str(), notes.noise);
  if (notes.lines > 0)
    std::fprintf(stderr, "duet: note: %s: %d ruled line%s taken out before the digit was looked for\n",
                 image_path.c_str(), notes.lines, notes.lines == 1 ? "" : "s");
  if (notes.strays > 0)
    std::fprintf(stderr, "duet: note: %s: %d mark%s apart from the digit%s (an ink blot, part of another character) "
                 "left out\n", image_path.c_str(), notes.strays, notes.strays == 1 ? "" : "s", number ? "s" : "");
  if (notes.redrawn)
    std::fprintf(stderr, "duet: note: %s: the %s strokes are thin; %s read redrawn with a pen as wide as MNIST's\n",
                 image_path.c_str(), number ? "digits'" : "digit's", number ? "they are" : "it is");
  if (notes.side_by_side > 0 && !number)
    std::fprintf(stderr, "duet: note: %s: the picture seems to hold %d digits side by side; duet reads one digit "
                 "per picture, and reads these together as one (crop the picture to one digit%s)\n",
                 image_path.c_str(), notes.side_by_side, can_number ? ", or give --number to read each" : "");
}

NumberDigit read_digit(models::Task& task, const models::Batch& b, nlohmann::json where) {
  std::vector<float> p = F::softmax(task.forward(b, false, 0)).to_vector<float>();
  const int prediction = int(std::max_element(p.begin(), p.end()) - p.begin());
  return {prediction, std::move(p), std::move(where), {}};
}

std::vector<double> likeliest_digits(models::Task& task, size_t count,
                                     const std::function<models::Batch(size_t, size_t)>& inputs) {
  constexpr size_t kBatch = 64;
  std::vector<double> log_p;
  for (size_t s = 0; s < count; s += kBatch) {
    const size_t n = std::min(count - s, kBatch);
    const std::vector<float> p = F::softmax(task.forward(inputs(s, s + n), false, 0)).to_vector<float>();
    for (size_t r = 0; r < n; ++r)
      log_p.push_back(std::log(std::max(double(*std::max_element(p.begin() + r * 10, p.begin() + r * 10 + 10)), 1e-30)));
  }
  return log_p;
}

std::vector<NumberDigit> said_number(models::AudioTask& task, const dsp::Audio& audio, const std::string& path) {
  const double window = double(task.recipe().num_samples) / task.recipe().sample_rate;
  const int rate = audio.sample_rate;
  const auto stretches = models::word_stretches(audio.samples, rate);
  DUET_CHECK(!stretches.empty(), path, ": no word found (the recording holds no stretch of sound)");
  int cut = 0;
  const auto words = models::cut_run_together(
      audio.samples, rate, stretches, window,
      [&](const auto& clips) {
        return likeliest_digits(task, clips.size(), [&](size_t from, size_t to) {
          return task.input_for(std::vector<std::vector<float>>(clips.begin() + from, clips.begin() + to), rate);
        });
      },
      &cut);
  if (cut > 0)
    std::fprintf(stderr, "duet: note: %s: %d stretch%s of sound longer than a word %s cut into the %zu words said "
                 "without a pause where the model reads them best (a pause of %.1f s between digits reads surer)\n",
                 path.c_str(), cut, cut == 1 ? "" : "es", cut == 1 ? "is" : "are", words.size() - stretches.size() + cut,
                 models::kWordGap);
  std::vector<NumberDigit> digits;
  for (size_t k = 0; k < words.size(); ++k) {
    const double seconds = double(words[k].second - words[k].first) / audio.sample_rate;
    if (seconds > window)
      std::fprintf(stderr, "duet: note: %s: word %zu lasts %.2f s, longer than the model hears (%.2f s): it is "
                   "read as one digit (pause %.1f s between digits)\n", path.c_str(), k + 1, seconds, window,
                   models::kWordGap);
    // One word: the recording read as predict reads it (a recording with little silence around the
    // word, such as FSDD's, has no background word_in_context could trust).
    const models::Batch b = words.size() == 1
                                ? task.input_for(audio.samples, rate)
                                : task.input_for(models::word_in_context(audio.samples, rate, words, k, window), rate);
    digits.push_back(read_digit(task, b, {{"start_s", double(words[k].first) / audio.sample_rate},
                                          {"end_s", double(words[k].second) / audio.sample_rate}}));
  }
  return digits;
}

models::DigitReader part_reader(models::ImageTask& task) {
  return [&task](const std::vector<std::vector<float>>& pictures) {
    return likeliest_digits(task, pictures.size(), [&](size_t from, size_t to) {
      return task.input_for(std::vector<std::vector<float>>(pictures.begin() + from, pictures.begin() + to), false);
    });
  };
}

std::vector<NumberDigit> written_number(models::ImageTask& task, const std::vector<uint8_t>& gray, int w, int h,
                                        const std::string& path, models::PictureNotes* notes) {
  const auto written = about_file(path, [&] { return models::number_digits(gray, w, h, notes, part_reader(task)); });
  if (const auto cut = std::count_if(written.begin(), written.end(), [](const auto& d) { return d.cut; }); cut > 0)
    std::fprintf(stderr, "duet: note: %s: ink that holds digits that touch is cut into %d digits where the model "
                 "reads them best (digits written apart read surer)\n", path.c_str(), int(cut));
  std::vector<NumberDigit> digits;
  for (const models::WrittenDigit& d : written) {
    digits.push_back(read_digit(task, task.input_for(d.pixels), {{"box", {d.box.x0, d.box.y0, d.box.x1, d.box.y1}}}));
    digits.back().pixels = d.pixels;
  }
  return digits;
}

std::string number_of(const std::vector<NumberDigit>& digits) {
  std::string n;
  for (const NumberDigit& d : digits) n += char('0' + d.prediction);
  return n;
}

}  // namespace duet::cli
