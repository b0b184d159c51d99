// duet fonts: the digits 0-9 rendered in every TrueType/OpenType font of a folder, as
// pictures named for duet eval --inputs: printed digits a model trained on handwriting has
// never seen.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/rng.h"
#include "models/printed_digits.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/plot.h"

#define STB_TRUETYPE_IMPLEMENTATION
#include <stb_truetype.h>

namespace fs = std::filesystem;

namespace duet::cli {
namespace {

std::vector<fs::path> font_files(const std::string& root) {
  DUET_CHECK(fs::exists(root), "--font-dir ", root, ": does not exist");
  std::vector<fs::path> v;
  auto consider = [&](const fs::path& p) {
    if (has_extension(p, {".ttf", ".otf"})) v.push_back(p);
  };
  if (fs::is_regular_file(root)) {
    consider(root);
  } else {
    for (const auto& e : fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied))
      if (e.is_regular_file()) consider(e.path());
  }
  std::sort(v.begin(), v.end());
  return v;
}

// The font's file name without '_' and '-', so it stays one field of an --inputs name.
std::string font_tag(const fs::path& p) {
  std::string t;
  for (char c : p.stem().string())
    if (std::isalnum(static_cast<unsigned char>(c))) t += c;
  return t.empty() ? "font" : t;
}

// One digit, dark on a light background (the opposite polarity to MNIST, as on paper), the
// glyph's longer side `px` pixels, with a margin of px/4 around it. False when the font has
// no glyph for the digit or its glyph draws nothing.
bool render_digit(const stbtt_fontinfo& font, int digit, int px, plot::Image* out) {
  const int cp = '0' + digit;
  if (stbtt_FindGlyphIndex(&font, cp) == 0) return false;
  int x0, y0, x1, y1;
  if (!stbtt_GetCodepointBox(&font, cp, &x0, &y0, &x1, &y1) || y1 <= y0 || x1 <= x0) return false;
  const float scale = float(px) / float(std::max(y1 - y0, x1 - x0));
  int w = 0, h = 0, xo = 0, yo = 0;
  unsigned char* bm = stbtt_GetCodepointBitmap(&font, scale, scale, cp, &w, &h, &xo, &yo);
  if (!bm || w <= 0 || h <= 0) {
    if (bm) stbtt_FreeBitmap(bm, nullptr);
    return false;
  }
  const int margin = px / 4;
  *out = plot::Image(w + 2 * margin, h + 2 * margin, plot::kWhite);
  int ink = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t v = uint8_t(255 - bm[y * w + x]);
      ink += bm[y * w + x] > 127;
      out->set(x + margin, y + margin, {v, v, v});
    }
  stbtt_FreeBitmap(bm, nullptr);
  return ink > 0;
}

// --strokes N: a sheet of duet's own stroke-drawn printed digits (what duet train --printed
// mixes into the training), N renderings per digit, one row per digit, in MNIST form as the
// network sees them before the affine augmentation, magnified 3x.
void write_stroke_sheet(const std::string& out, int n, uint64_t seed) {
  const int cell = 28 * 3 + 4;
  plot::Image sheet(n * cell + 4, 10 * cell + 4, plot::kBlack);
  Rng rng(seed);
  for (int d = 0; d < 10; ++d)
    for (int k = 0; k < n; ++k) {
      const std::vector<uint8_t> img = models::render_printed_digit(d, -1, rng);
      for (int y = 0; y < 84; ++y)
        for (int x = 0; x < 84; ++x) {
          const uint8_t v = img[(y / 3) * 28 + x / 3];
          sheet.set(4 + k * cell + x, 4 + d * cell + y, {v, v, v});
        }
    }
  make_output_folder(out);
  const std::string path = (fs::path(out) / "strokes.png").string();
  sheet.save_png(path);
  std::printf("wrote %s: %d stroke-drawn renderings of each digit (rows 0-9), as duet train --printed draws them\n",
              path.c_str(), n);
}

}  // namespace

int cmd_fonts(const Argv& argv) {
  Args args(argv, {"font-dir", "out", "size", "strokes", "seed"}, {"help"}, "fonts");
  if (args.flag("help")) {
    std::printf(
        "usage: duet fonts --out DIR [--font-dir DIR|FILE] [--size PX]\n"
        "Renders the digits 0-9 in every TrueType/OpenType font (.ttf, .otf) under --font-dir\n"
        "(default /usr/share/fonts) as DIR/D_FONT.png: dark on light, the glyph's longer side PX\n"
        "pixels (default 64). Fonts without all ten digits are skipped. Then\n"
        "  duet eval --model-dir IMAGE_MODEL --inputs DIR\n"
        "measures a handwriting model on printed digits, per font.\n"
        "       duet fonts --out DIR --strokes N [--seed S]\n"
        "Draws N of duet's own stroke-drawn printed digits per digit (what duet train --printed\n"
        "mixes into the training) on one sheet, DIR/strokes.png.\n");
    return 0;
  }
  DUET_CHECK(args.has("out"), "fonts: --out DIR is required");
  DUET_CHECK(args.has("strokes") || !args.has("seed"), "--seed applies to --strokes (the fonts are not random)");
  if (args.has("strokes")) {
    DUET_CHECK(!args.has("font-dir") && !args.has("size"), "--strokes draws duet's own digits; drop --font-dir and --size");
    write_stroke_sheet(args.str("out", ""), int(args.integer("strokes", 12, 1, 100)),
                       uint64_t(args.integer("seed", 0, 0, INT64_MAX)));
    return 0;
  }
  const std::string root = args.str("font-dir", "/usr/share/fonts"), out = args.str("out", "");
  const int px = int(args.integer("size", 64, 16, 512));
  const std::vector<fs::path> files = font_files(root);
  DUET_CHECK(!files.empty(), "--font-dir ", root,
             ": no fonts (.ttf, .otf) found (on Debian: apt-get install fonts-dejavu-core)");
  make_output_folder(out);
  int fonts = 0;
  std::vector<std::string> skipped;
  std::set<std::string> tags;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const int offset = bytes.size() >= 12 ? stbtt_GetFontOffsetForIndex(bytes.data(), 0) : -1;
    stbtt_fontinfo font;
    if (offset < 0 || !stbtt_InitFont(&font, bytes.data(), offset)) {
      skipped.push_back(f.filename().string() + " (not a font duet can read)");
      continue;
    }
    std::vector<plot::Image> digits;
    for (int d = 0; d < 10; ++d) {
      plot::Image img(1, 1);
      if (!render_digit(font, d, px, &img)) break;
      digits.push_back(std::move(img));
    }
    if (digits.size() < 10) {
      skipped.push_back(f.filename().string() + " (no glyph for " + std::to_string(digits.size()) + ")");
      continue;
    }
    std::string tag = font_tag(f);
    for (int k = 2; tags.count(tag); ++k) tag = font_tag(f) + std::to_string(k);  // same name, other folder
    tags.insert(tag);
    for (int d = 0; d < 10; ++d) digits[d].save_png((fs::path(out) / (std::to_string(d) + "_" + tag + ".png")).string());
    ++fonts;
  }
  for (const std::string& s : skipped) std::printf("skipped %s\n", s.c_str());
  DUET_CHECK(fonts > 0, "--font-dir ", root, ": none of its ", files.size(), " font files has all ten digits");
  std::printf("wrote %d pictures of %d fonts to %s (duet eval --model-dir MODEL --inputs %s)\n", 10 * fonts, fonts,
              out.c_str(), out.c_str());
  return 0;
}

}  // namespace duet::cli
