#include "tools/common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "dsp/vorbis.h"
#include "engine/error.h"
#include "models/audio_data.h"

namespace duet::cli {

Device choose_device(const std::string& requested) {
  if (requested.empty()) {
    if (cuda::available()) return Device::cuda;
    std::fprintf(stderr, "duet: no GPU found%s; running on the CPU\n",
                 cuda::built_with_cuda() ? "" : " (built without CUDA)");
    return Device::cpu;
  }
  Device d;
  try {
    d = parse_device(requested);
  } catch (const Error&) {
    fail("--device expects cpu or cuda, got '", requested, "'");
  }
  if (d == Device::cuda && !cuda::available())
    fail("--device cuda: ", cuda::built_with_cuda() ? "no CUDA device is available" : "this duet was built without CUDA",
         " (use --device cpu)");
  return d;
}

std::optional<std::vector<double>> parse_numbers(const std::string& text) {
  std::vector<double> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, end - pos);
    char* stop = nullptr;
    const double v = item.empty() ? 0 : std::strtod(item.c_str(), &stop);
    if (item.empty() || *stop != '\0' || !std::isfinite(v)) return std::nullopt;
    out.push_back(v);
    pos = end + 1;
  }
  return out;
}

std::vector<double> parse_test_speeds(const std::string& text) {
  // The rules are models::check_test_speeds'; a list that breaks them is reported against the flag.
  if (const auto v = parse_numbers(text)) try {
      models::check_test_speeds(*v);
      return *v;
    } catch (const Error&) {
    }
  fail("--test-speeds expects 1 to 9 comma-separated speed factors in [0.5, 2], such as 0.92,1,1.08 ",
       "(1: the clip alone); got '", text, "'");
}

std::string describe_test_speeds(const std::vector<double>& speeds) {
  if (speeds.empty()) return "1 (the clip alone)";
  std::string s;
  char buf[32];
  for (double v : speeds) {
    std::snprintf(buf, sizeof buf, "%s%g", s.empty() ? "" : ", ", v);
    s += buf;
  }
  return speeds.size() > 1 ? s + " (log-probabilities averaged)" : s;
}

std::string describe_test_shift(int px) {
  if (px == 0) return "pictures read as they are (no test-time shifts)";
  return "pictures read as they are and moved " + std::to_string(px) + " px right, left, down and up (" +
         "log-probabilities of the 5 readings averaged)";
}

void make_output_folder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  DUET_CHECK(!ec, "output folder '", dir, "': cannot create it (", ec.message(), ")");  // a file in the way too
}

std::string lower_extension(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  for (char& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

bool has_extension(const std::filesystem::path& p, std::initializer_list<const char*> exts) {
  const std::string e = lower_extension(p);
  for (const char* x : exts)
    if (e == x) return true;
  return false;
}

// The codec of an Ogg file's first stream (dsp::ogg_codec on its first bytes): "" when the file
// cannot be opened or its first page read.
static std::string ogg_codec_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<uint8_t> head(4096);
  in.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
  head.resize(size_t(in.gcount()));
  return dsp::ogg_codec(head);
}

std::vector<LabelledInput> labelled_inputs(const std::string& folder, const std::string& kind, const std::string& flag,
                                           bool note, bool number) {
  DUET_CHECK(std::filesystem::is_directory(folder), flag, " ", folder, ": not a folder");
  std::vector<LabelledInput> v;
  int64_t ignored = 0;
  // Recordings and pictures in formats duet does not read (an Ogg file, a phone's HEIC): counted by
  // extension, so that the user hears why they were left out and how to convert them.
  std::map<std::string, int64_t> foreign;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    if (!e.is_regular_file()) continue;
    const std::filesystem::path p = e.path();
    // An Ogg file is read when its first stream is Vorbis; Opus (a voice note's usual codec) and
    // the others are named with their codec. One whose first page cannot be read is read anyway,
    // so that the reader says what is wrong with it.
    const std::string codec = kind == "audio" && has_extension(p, {".ogg", ".oga", ".opus"}) ? ogg_codec_of(p) : "";
    const bool audio_ours =
        has_extension(p, {".wav", ".aif", ".aiff", ".aifc", ".caf", ".flac", ".mp3", ".m4a", ".aac"}) ||
        (has_extension(p, {".ogg", ".oga", ".opus"}) && (codec.empty() || codec == "Vorbis"));
    const bool image_ours = has_extension(p, {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tga"});
    const bool ours = kind == "audio" ? audio_ours : image_ours;
    if (!ours) {
      ++ignored;
      const bool other = kind == "audio" ? has_extension(p, {".ogg", ".opus", ".oga", ".amr", ".3gp", ".webm", ".wma"})
                                         : has_extension(p, {".heic", ".heif", ".webp", ".tif", ".tiff", ".avif",
                                                             ".svg", ".jxl", ".jp2"});
      if (other) ++foreign[lower_extension(p) + (codec.empty() ? "" : " (" + codec + ")")];
      continue;
    }
    const std::string stem = p.stem().string();
    size_t digits = 0;  // the label's length: 1, or with `number` every digit the name starts with
    while (digits < stem.size() && (digits < 1 || number) && std::isdigit(static_cast<unsigned char>(stem[digits])))
      ++digits;
    const bool labelled = digits > 0 && (stem.size() == digits || stem[digits] == '_' || stem[digits] == '-');
    DUET_CHECK(labelled, flag, ": ", p.string(),
               number ? ": the name must start with its number and '_' (like 427_mine_1"
                      : ": the name must start with its digit and '_' (like 7_mine_1",
               p.extension().string(), ")");
    LabelledInput in;
    in.path = p.string();
    in.label = stem[0] - '0';
    if (number) in.number = stem.substr(0, digits);
    // The group: the name's second field (FSDD's speaker, a font's name), if there is one.
    if (stem.size() > digits + 1) in.group = stem.substr(digits + 1, stem.find_first_of("_-", digits + 1) - digits - 1);
    v.push_back(in);
  }
  std::string others;  // "3 .ogg and 1 .amr files"
  int64_t foreign_count = 0;
  for (const auto& [ext, n] : foreign) {
    others += (others.empty() ? "" : " and ") + std::to_string(n) + " " + ext;
    foreign_count += n;
  }
  if (!others.empty()) others += foreign_count == 1 ? " file" : " files";
  const std::string advice = std::string(foreign.size() == 1 ? "a format" : "formats") + " duet does not read; convert " +
                             (foreign_count == 1 ? "it" : "them") +
                             (kind == "audio" ? " to WAV first (e.g. ffmpeg -i IN -ac 1 OUT.wav)" : " to PNG or JPEG first");
  DUET_CHECK(!v.empty(), flag, " ", folder, ": no ",
             kind == "audio" ? ".wav, .aiff, .caf, .flac, .mp3, .m4a, .aac or .ogg (Vorbis) files"
                             : "images (.png, .jpg, ...)",
             " named like 7_anything",
             !others.empty() ? " (" + others + ": " + advice + ")" : ignored ? " (other files are ignored)" : "");
  if (note && !others.empty())
    std::fprintf(stderr, "duet: note: %s %s: %s left out: %s\n", flag.c_str(), folder.c_str(), others.c_str(),
                 advice.c_str());
  std::sort(v.begin(), v.end(), [](const LabelledInput& a, const LabelledInput& b) { return a.path < b.path; });
  return v;
}

}  // namespace duet::cli
