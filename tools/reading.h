// Reading inputs as duet predict reads them (predict, eval --inputs, show): what the preparation of a
// picture did, and several digits (--number): the words of a recording or the digits of a picture,
// each read as one input is, and where each lies.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dsp/wav.h"
#include "engine/error.h"
#include "models/image_data.h"
#include "models/task.h"

namespace duet::cli {

// Runs fn(); an error it throws (a silent recording, a blank picture) comes back with the
// file it is about in front.
template <class Fn>
auto about_file(const std::string& path, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

// What the preparation of a picture did beyond fitting it (load_gray_image's `file`, to_mnist_form's or
// number_digits' `notes`), as notes on stderr naming `image_path`; `number`: the picture was read
// as several digits; `can_number`: the command could have (a note on digits side by side says so).
void note_picture(const std::string& image_path, const models::PictureFile& file, const models::PictureNotes& notes,
                  bool number, bool can_number);

// One digit of a number, read as one input is, and where it lies.
struct NumberDigit {
  int prediction;
  std::vector<float> probabilities;
  nlohmann::json where;       // a word's {"start_s", "end_s"}, a written digit's {"box"}
  std::vector<float> pixels;  // a written digit: 28x28 in [0, 1] as the model reads it (written_number)
};

// The model's reading of one input (a batch of one).
NumberDigit read_digit(models::Task& task, const models::Batch& b, nlohmann::json where);

// The log-probability of the digit the model reads in each of `count` inputs (--number's cuttings),
// `inputs(from, to)` making the batch of inputs [from, to).
std::vector<double> likeliest_digits(models::Task& task, size_t count,
                                     const std::function<models::Batch(size_t, size_t)>& inputs);

// The words of a recording (models::word_stretches; stretches longer than a word cut where the model
// reads the words said in them best, models::cut_run_together), each heard in the recording's own
// background (models::word_in_context); one word is the recording read as predict reads it. A cut and
// a word longer than the model's window are noted on stderr. A recording without sound is an error
// naming `path`.
std::vector<NumberDigit> said_number(models::AudioTask& task, const dsp::Audio& audio, const std::string& path);

// How models::cut_touching reads the parts it chooses a cutting from (hundreds for a few digits that
// touch): the log-probability of the digit `task` reads in each picture as it is, without the task's
// test-time shifts, which would read each part five times. The digits found are read with them.
models::DigitReader part_reader(models::ImageTask& task);

// The digits of a picture (models::number_digits; digits that touch cut where the model reads them
// best, models::cut_touching), each read as a picture of one digit is; a cut is noted on stderr.
// `notes`, when given, is set to what the preparation did (models::PictureNotes).
std::vector<NumberDigit> written_number(models::ImageTask& task, const std::vector<uint8_t>& gray, int w, int h,
                                        const std::string& path, models::PictureNotes* notes);

// The digits read, as a string ("427").
std::string number_of(const std::vector<NumberDigit>& digits);

}  // namespace duet::cli
