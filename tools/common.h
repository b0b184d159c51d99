// Helpers shared by the subcommands.
#pragma once
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "engine/device.h"

namespace duet::cli {

// "" picks cuda when a GPU is present (and says so), else cpu; "cuda" without a GPU is an
// error; anything else but "cpu" is an error.
Device choose_device(const std::string& requested);

// "a,b,c" -> the numbers a, b, c; nullopt when an item is empty or not a number (the
// comma-separated flags: --test-speeds, --speed-range, --channels).
std::optional<std::vector<double>> parse_numbers(const std::string& text);

// --test-speeds "0.92,1,1.08" -> {0.92, 1, 1.08}: 1 to 9 comma-separated factors in [0.5, 2];
// anything else is an error naming the flag.
std::vector<double> parse_test_speeds(const std::string& text);
// "0.92, 1, 1.08 (log-probabilities averaged)" ("1 (the clip alone)" when empty), for messages.
std::string describe_test_speeds(const std::vector<double>& speeds);
// "pictures read as they are and moved 1 px right, left, down and up (...)" for an image
// model's test_shift (0: as they are).
std::string describe_test_shift(int px);

// Creates the output folder `dir` and its parents (nothing when it exists); an error naming it
// and the reason when it cannot (a file in the way, no permission).
void make_output_folder(const std::string& dir);

// Whether p's extension, in lower case, is one of `exts` (".wav", ".png", ...).
bool has_extension(const std::filesystem::path& p, std::initializer_list<const char*> exts);

// One labelled file of a user's folder: the digit is the first character of its name,
// followed by '_', '-' or the extension (7_mine_1.wav, 3-dejavu-sans.png, 5.jpg); the group
// is the name's second field (FSDD's speaker, a font's name), if there is one.
struct LabelledInput {
  std::string path, group;
  int label = -1;
  std::string number;  // with `number`: the digits the name starts with (427_mine.wav: "427")
};
// The .wav, .aiff, .caf, .flac, .mp3, .m4a, .aac and Ogg Vorbis (.ogg, .oga) files (kind "audio") or pictures (kind
// "image") of `folder`, sorted by path; other files are ignored. A file of that kind whose name does not start
// with its digit, a folder that is not one or holds none are errors naming `flag` (the option that gave the
// folder). Files in formats duet does not read (Ogg Opus, .amr, ...; .heic, .webp, .tiff, ...)
// are counted and named, with how to convert them: in the error when the folder holds nothing
// else, else (with `note`) in a note on stderr. With `number`, a name starts with a number of any length instead
// of one digit (427_mine.wav; eval --inputs --number): `number` holds it, `label` its first digit.
std::vector<LabelledInput> labelled_inputs(const std::string& folder, const std::string& kind, const std::string& flag,
                                           bool note = true, bool number = false);

}  // namespace duet::cli
