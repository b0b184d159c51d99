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

}  // namespace duet::cli
