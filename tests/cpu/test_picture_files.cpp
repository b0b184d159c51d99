// Picture files as drawing apps, web canvases and phones write them: a digit's strokes on a
// transparent background (RGBA, grey + alpha, a palette or a colour key with transparency), a
// cut-out of paper on a transparent canvas, photos stored turned with an EXIF orientation, and
// opaque pictures, which must read exactly as before.
#include <gtest/gtest.h>
#include <stb_image.h>
#include <stb_image_write.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/error.h"
#include "models/image_data.h"
#include "tests/cpu/scratch.h"

using namespace duet;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

const duet_test::ScratchFolder kScratch("duet_picture_files_");
constexpr int kSide = 64;

void collect(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

fs::path write_file(const std::string& name, const Bytes& b) {
  const fs::path p = kScratch.path() / name;
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  return p;
}

// A "0" as a pen leaves it on a 64x64 canvas: how much of each pixel the stroke covers (0-255),
// an ellipse ring with soft (anti-aliased) edges.
std::vector<uint8_t> pen_cover() {
  std::vector<uint8_t> cover(size_t(kSide) * kSide);
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x) {
      const double d = std::hypot((x - 31.5) / 14.0, (y - 31.5) / 22.0);
      cover[size_t(y) * kSide + x] = uint8_t(std::lround(255 * std::clamp(1.5 - std::abs(d - 1.0) * 12.0, 0.0, 1.0)));
    }
  return cover;
}

// A PNG written by hand (8 bits a sample, no interlace): stb_image_write writes no palette and
// no transparent colour (tRNS). `rows` holds each row's samples without the filter byte;
// `chunks` (type, data) go between the header and the pixels.
Bytes a_png(int w, int h, int colour_type, const Bytes& rows,
            const std::vector<std::pair<std::string, Bytes>>& chunks) {
  Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto chunk = [&](const std::string& type, const Bytes& data) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(data.size() >> s));
    Bytes body(type.begin(), type.end());
    body.insert(body.end(), data.begin(), data.end());
    out.insert(out.end(), body.begin(), body.end());
    const uLong crc = crc32(0, body.data(), uInt(body.size()));
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(crc >> s));
  };
  Bytes header;
  for (uint32_t v : {uint32_t(w), uint32_t(h)})
    for (int s = 24; s >= 0; s -= 8) header.push_back(uint8_t(v >> s));
  header.insert(header.end(), {8, uint8_t(colour_type), 0, 0, 0});
  chunk("IHDR", header);
  for (const auto& [type, data] : chunks) chunk(type, data);
  const size_t stride = rows.size() / size_t(h);
  Bytes raw;
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);  // no filter
    raw.insert(raw.end(), rows.begin() + long(y * stride), rows.begin() + long((y + 1) * stride));
  }
  uLongf size = compressBound(uLong(raw.size()));
  Bytes packed(size);
  EXPECT_EQ(compress(packed.data(), &size, raw.data(), uLong(raw.size())), Z_OK);
  packed.resize(size);
  chunk("IDAT", packed);
  chunk("IEND", {});
  return out;
}

// A picture of `comp` samples a pixel, each pixel given by `pixel(i)` (i: its index), as a
// PNG written by stb_image_write.
Bytes a_stb_png(int w, int h, int comp, const std::function<std::vector<uint8_t>(size_t)>& pixel) {
  Bytes px;
  for (size_t i = 0; i < size_t(w) * h; ++i) {
    const std::vector<uint8_t> p = pixel(i);
    px.insert(px.end(), p.begin(), p.end());
  }
  Bytes out;
  EXPECT_NE(stbi_write_png_to_func(collect, &out, w, h, comp, px.data(), w * comp), 0);
  return out;
}

// The digit as duet reads it (to_mnist_form), each value divided by the largest: pictures of
// the same strokes at another contrast compare equal.
std::vector<float> read_digit(const std::vector<uint8_t>& grey, int w, int h) {
  std::vector<float> d = models::to_mnist_form(grey, w, h);
  const float top = *std::max_element(d.begin(), d.end());
  for (float& v : d) v /= top;
  return d;
}

double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
  return m;
}

}  // namespace

// The strokes of a pen on a transparent canvas, whatever colour the file stores in the
// untouched pixels, are read as the same pen on paper: on white behind dark strokes, on black
// behind light ones. (Read without the alpha channel, a black pen on a canvas of transparent
// black is a black picture, which duet refused as blank.)
TEST(PictureFiles, StrokesOnATransparentCanvasAreReadOnPaper) {
  const std::vector<uint8_t> cover = pen_cover();
  std::vector<uint8_t> on_paper(cover.size());  // the same strokes in black on white paper
  for (size_t i = 0; i < cover.size(); ++i) on_paper[i] = uint8_t(255 - cover[i]);
  const std::vector<float> expected = read_digit(on_paper, kSide, kSide);
  double ink_share = 0;
  for (uint8_t c : cover) ink_share += c / 255.0 / double(cover.size());
  // The stroke's colour and what is stored where nothing was drawn.
  struct Canvas {
    std::string name;
    std::vector<uint8_t> pen, untouched;  // RGB
    int background;                       // the background it must be read on
  };
  const std::vector<Canvas> canvases = {
      {"black-pen", {0, 0, 0}, {0, 0, 0}, 255},
      {"black-pen-white-canvas", {0, 0, 0}, {255, 255, 255}, 255},
      {"blue-pen", {0, 0, 255}, {0, 0, 0}, 255},
      {"red-pen-pen-coloured-canvas", {200, 0, 0}, {200, 0, 0}, 255},
      {"white-pen", {255, 255, 255}, {0, 0, 0}, 0},
      {"white-pen-white-canvas", {255, 255, 255}, {255, 255, 255}, 0},
  };
  std::vector<std::pair<std::string, Bytes>> files;
  for (const Canvas& c : canvases)
    files.emplace_back(c.name + ".png", a_stb_png(kSide, kSide, 4, [&](size_t i) {
                         const std::vector<uint8_t>& rgb = cover[i] ? c.pen : c.untouched;
                         return std::vector<uint8_t>{rgb[0], rgb[1], rgb[2], cover[i]};
                       }));
  // Grey + alpha PNG, and an RGBA TGA.
  files.emplace_back("grey-alpha.png", a_stb_png(kSide, kSide, 2, [&](size_t i) {
                       return std::vector<uint8_t>{0, cover[i]};
                     }));
  Bytes tga, rgba;
  for (uint8_t c : cover) rgba.insert(rgba.end(), {0, 0, 0, c});
  EXPECT_NE(stbi_write_tga_to_func(collect, &tga, kSide, kSide, 4, rgba.data()), 0);
  files.emplace_back("black-pen.tga", tga);
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    const Canvas* c = nullptr;
    for (const Canvas& k : canvases)
      if (name == k.name + ".png") c = &k;
    int w = 0, h = 0;
    models::PictureFile file;
    std::vector<uint8_t> grey;
    ASSERT_NO_THROW(grey = models::load_gray_image(write_file(name, bytes).string(), &w, &h, &file));
    ASSERT_EQ(w, kSide);
    ASSERT_EQ(h, kSide);
    EXPECT_EQ(file.background, c ? c->background : 255);
    EXPECT_TRUE(file.strokes);
    EXPECT_NEAR(file.transparent, 1 - ink_share, 1e-9);
    std::vector<float> digit;
    ASSERT_NO_THROW(digit = read_digit(grey, w, h));
    EXPECT_LT(largest_difference(digit, expected), 0.05);
  }
}

// Transparency from a palette (PNG tRNS over PLTE) and from a transparent colour (tRNS in a
// grey PNG): a dark stroke over a background stored as black but marked transparent.
TEST(PictureFiles, PaletteAndColourKeyTransparencyAreRead) {
  const std::vector<uint8_t> cover = pen_cover();
  std::vector<uint8_t> on_paper(cover.size());
  for (size_t i = 0; i < cover.size(); ++i) on_paper[i] = cover[i] > 127 ? 30 : 255;  // one grey, no soft edge
  const std::vector<float> expected = read_digit(on_paper, kSide, kSide);
  Bytes index(cover.size()), key(cover.size());
  for (size_t i = 0; i < cover.size(); ++i) index[i] = cover[i] > 127, key[i] = cover[i] > 127 ? 30 : 0;
  const Bytes palette = {0, 0, 0, 30, 30, 30};  // 0: black, transparent; 1: the stroke's grey
  const Bytes paletted = a_png(kSide, kSide, 3, index, {{"PLTE", palette}, {"tRNS", {0, 255}}});
  const Bytes keyed = a_png(kSide, kSide, 0, key, {{"tRNS", {0, 0}}});  // grey 0 is transparent
  for (const auto& [name, bytes] : {std::pair<std::string, Bytes>{"paletted.png", paletted},
                                    std::pair<std::string, Bytes>{"keyed.png", keyed}}) {
    SCOPED_TRACE(name);
    int w = 0, h = 0;
    models::PictureFile file;
    std::vector<uint8_t> grey;
    ASSERT_NO_THROW(grey = models::load_gray_image(write_file(name, bytes).string(), &w, &h, &file));
    EXPECT_EQ(file.background, 255);
    EXPECT_TRUE(file.strokes);
    EXPECT_EQ(grey, on_paper);
    EXPECT_EQ(read_digit(grey, w, h), expected);
  }
}

// A cut-out of paper with a digit on it, on a transparent canvas: the opaque part is a picture
// of its own, and the transparent part is read as its paper, so the digit reads as it does on
// the whole sheet, however large the canvas around it.
TEST(PictureFiles, ACutOutIsReadOnItsOwnPaper) {
  const std::vector<uint8_t> cover = pen_cover();
  constexpr uint8_t kPaper = 230;
  std::vector<uint8_t> sheet(cover.size());  // the digit on paper filling the picture
  for (size_t i = 0; i < cover.size(); ++i) sheet[i] = uint8_t(kPaper - cover[i] * 200 / 255);
  const std::vector<float> expected = models::to_mnist_form(sheet, kSide, kSide);
  // The cut-out with a transparent margin of 3 pixels, then in the middle of a canvas three
  // times its size.
  for (const int canvas : {kSide, 3 * kSide}) {
    SCOPED_TRACE(canvas);
    const int off = (canvas - kSide) / 2;
    const Bytes png = a_stb_png(canvas, canvas, 4, [&](size_t i) {
      const int x = int(i % canvas) - off, y = int(i / canvas) - off;
      const bool inside = x >= 3 && y >= 3 && x < kSide - 3 && y < kSide - 3;
      const uint8_t g = inside ? sheet[size_t(y) * kSide + x] : 0;
      return std::vector<uint8_t>{g, g, g, uint8_t(inside ? 255 : 0)};
    });
    int w = 0, h = 0;
    models::PictureFile file;
    std::vector<uint8_t> grey;
    ASSERT_NO_THROW(grey = models::load_gray_image(write_file("cut-out.png", png).string(), &w, &h, &file));
    EXPECT_EQ(file.background, kPaper);
    EXPECT_FALSE(file.strokes);
    EXPECT_NEAR(file.transparent, 1 - double(kSide - 6) * (kSide - 6) / (double(canvas) * canvas), 1e-9);
    if (canvas == kSide) {
      EXPECT_EQ(grey, sheet);  // the margin holds paper only
      EXPECT_EQ(models::to_mnist_form(grey, w, h), expected);
    } else {
      std::vector<float> digit;
      ASSERT_NO_THROW(digit = models::to_mnist_form(grey, w, h));
      EXPECT_LT(largest_difference(digit, expected), 0.05);
    }
  }
}

// Opaque pictures (no alpha channel, or one at 255 everywhere) read exactly as stb_image's own
// grey conversion reads them, in every format, and are said to be opaque.
TEST(PictureFiles, OpaquePicturesReadAsBefore) {
  const std::vector<uint8_t> cover = pen_cover();
  std::vector<std::pair<std::string, Bytes>> files;
  for (const int comp : {1, 3, 4}) {
    auto pixel = [&](size_t i) {
      const uint8_t g = uint8_t(255 - cover[i]);
      std::vector<uint8_t> p = {g, uint8_t(g / 2 + 100), uint8_t(255 - g / 3), 255};  // coloured ink and paper
      p.resize(size_t(comp));
      return p;
    };
    files.emplace_back("opaque" + std::to_string(comp) + ".png", a_stb_png(kSide, kSide, comp, pixel));
    if (comp == 3) {
      Bytes px, jpg, bmp;
      for (size_t i = 0; i < cover.size(); ++i) {
        const std::vector<uint8_t> p = pixel(i);
        px.insert(px.end(), p.begin(), p.end());
      }
      EXPECT_NE(stbi_write_jpg_to_func(collect, &jpg, kSide, kSide, 3, px.data(), 90), 0);
      EXPECT_NE(stbi_write_bmp_to_func(collect, &bmp, kSide, kSide, 3, px.data()), 0);
      files.emplace_back("opaque.jpg", jpg);
      files.emplace_back("opaque.bmp", bmp);
    }
  }
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    int w = 0, h = 0, sw = 0, sh = 0, channels = 0;
    models::PictureFile file;
    const std::vector<uint8_t> grey = models::load_gray_image(write_file(name, bytes).string(), &w, &h, &file);
    unsigned char* p = stbi_load_from_memory(bytes.data(), int(bytes.size()), &sw, &sh, &channels, 1);
    ASSERT_NE(p, nullptr);
    const std::vector<uint8_t> direct(p, p + size_t(sw) * sh);
    stbi_image_free(p);
    EXPECT_EQ(grey, direct);
    EXPECT_EQ(file.background, -1);
    EXPECT_EQ(file.transparent, 0);
  }
}

TEST(PictureFiles, APictureTransparentEverywhereIsRefused) {
  const fs::path path = write_file("clear.png", a_stb_png(kSide, kSide, 4, [](size_t i) {
                                     return std::vector<uint8_t>{uint8_t(i % 256), 0, 0, 0};  // colours, all invisible
                                   }));
  int w = 0, h = 0;
  try {
    models::load_gray_image(path.string(), &w, &h);
    ADD_FAILURE() << "a picture transparent everywhere was read";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": the picture is transparent everywhere: no digit to read");
  }
  EXPECT_THROW(models::flatten_alpha(Bytes(10), 2, 3), Error);  // 10 bytes for 2x3 grey + alpha pairs
}

namespace {

// An EXIF block (its TIFF header first) whose first directory holds one entry: `tag` of
// `type` and `count` with `value` in its value field, in little- or big-endian order.
Bytes a_tiff(bool little, uint16_t value, uint16_t tag = 0x0112, uint16_t type = 3, uint32_t count = 1) {
  Bytes t;
  auto put = [&](uint32_t v, int bytes) {
    for (int k = 0; k < bytes; ++k) t.push_back(uint8_t(v >> (8 * (little ? k : bytes - 1 - k))));
  };
  t.insert(t.end(), {uint8_t(little ? 'I' : 'M'), uint8_t(little ? 'I' : 'M')});
  put(42, 2), put(8, 4);  // the first directory at 8
  put(1, 2);              // one entry
  put(tag, 2), put(type, 2), put(count, 4), put(value, 2), put(0, 2);
  put(0, 4);  // no next directory
  return t;
}

// The JPEG with an APP1 segment holding `tiff` ("Exif\0\0" first) right after its start.
Bytes with_exif(const Bytes& jpeg, const Bytes& tiff) {
  const size_t length = 2 + 6 + tiff.size();  // the segment's length field counts itself
  const Bytes head = {0xFF, 0xD8, 0xFF, 0xE1, uint8_t(length >> 8), uint8_t(length), 'E', 'x', 'i', 'f', 0, 0};
  Bytes out(head.size() + tiff.size() + jpeg.size() - 2);
  std::copy(head.begin(), head.end(), out.begin());
  std::copy(tiff.begin(), tiff.end(), out.begin() + long(head.size()));
  std::copy(jpeg.begin() + 2, jpeg.end(), out.begin() + long(head.size() + tiff.size()));  // after its start of image
  return out;
}

// A 40x24 picture no turn or mirror leaves unchanged (every pixel its own value), as a
// grey JPEG and as stb_image decodes it (the pixels as stored).
struct StoredPhoto {
  Bytes jpeg;
  std::vector<uint8_t> pixels;
  int w = 40, h = 24;
};
StoredPhoto a_stored_photo() {
  StoredPhoto p;
  std::vector<uint8_t> px(size_t(p.w) * p.h);
  for (int y = 0; y < p.h; ++y)
    for (int x = 0; x < p.w; ++x) px[size_t(y) * p.w + x] = uint8_t(x < 8 || y < 4 ? 20 : 200 + (x * 7 + y * 3) % 50);
  EXPECT_NE(stbi_write_jpg_to_func(collect, &p.jpeg, p.w, p.h, 1, px.data(), 100), 0);
  int w = 0, h = 0, c = 0;
  unsigned char* d = stbi_load_from_memory(p.jpeg.data(), int(p.jpeg.size()), &w, &h, &c, 1);
  EXPECT_NE(d, nullptr);
  p.pixels.assign(d, d + size_t(w) * h);
  stbi_image_free(d);
  return p;
}

// Where a viewer shows the stored pixel (x, y) of a w x h picture of EXIF `orientation`, and
// the shown picture's width.
std::pair<int, int> shown_at(int x, int y, int w, int h, int orientation) {
  switch (orientation) {
    case 2: return {w - 1 - x, y};
    case 3: return {w - 1 - x, h - 1 - y};
    case 4: return {x, h - 1 - y};
    case 5: return {y, x};
    case 6: return {h - 1 - y, x};  // turned clockwise: the top row becomes the right column
    case 7: return {h - 1 - y, w - 1 - x};
    case 8: return {y, w - 1 - x};
    default: return {x, y};
  }
}

}  // namespace

// A photo stored as the sensor saw it, with the EXIF orientation a phone writes, is read as a
// viewer shows it: each of the eight orientations, in either byte order, in a JPEG's APP1
// segment and in a PNG's eXIf chunk.
TEST(PictureFiles, PhotosAreTurnedUprightAsTheirExifSays) {
  const StoredPhoto stored = a_stored_photo();
  for (const bool little : {true, false})
    for (int o = 1; o <= 8; ++o) {
      SCOPED_TRACE("orientation " + std::to_string(o) + (little ? ", II" : ", MM"));
      std::vector<uint8_t> expected(stored.pixels.size());
      const int ew = o >= 5 ? stored.h : stored.w, eh = o >= 5 ? stored.w : stored.h;
      for (int y = 0; y < stored.h; ++y)
        for (int x = 0; x < stored.w; ++x) {
          const auto [sx, sy] = shown_at(x, y, stored.w, stored.h, o);
          expected[size_t(sy) * ew + sx] = stored.pixels[size_t(y) * stored.w + x];
        }
      const Bytes jpeg = with_exif(stored.jpeg, a_tiff(little, uint16_t(o)));
      EXPECT_EQ(models::exif_orientation(jpeg), o);
      int w = 0, h = 0;
      models::PictureFile file;
      const std::vector<uint8_t> grey = models::load_gray_image(write_file("exif.jpg", jpeg).string(), &w, &h, &file);
      EXPECT_EQ(file.orientation, o);
      EXPECT_EQ(w, ew);
      EXPECT_EQ(h, eh);
      EXPECT_EQ(grey, expected);
      // The same pixels as a grey PNG with an eXIf chunk.
      const Bytes png = a_png(stored.w, stored.h, 0, stored.pixels, {{"eXIf", a_tiff(little, uint16_t(o))}});
      EXPECT_EQ(models::exif_orientation(png), o);
      EXPECT_EQ(models::load_gray_image(write_file("exif.png", png).string(), &w, &h), expected);
    }
  // Turned clockwise (6), a dark top band becomes a dark right-hand band.
  int w = 0, h = 0;
  const std::vector<uint8_t> six =
      models::load_gray_image(write_file("six.jpg", with_exif(stored.jpeg, a_tiff(true, 6))).string(), &w, &h);
  EXPECT_LT(six[size_t(20) * w + (w - 2)], 60);  // the band
  EXPECT_GT(six[size_t(20) * w + 10], 150);      // the rest
}

// An EXIF block duet cannot use leaves the picture as stored, as viewers leave it: no
// orientation tag, a value outside 1-8, another type, a damaged header, offsets past the block,
// a block cut short; and pictures of other kinds have no orientation.
TEST(PictureFiles, UnusableExifLeavesThePictureAsStored) {
  const StoredPhoto stored = a_stored_photo();
  Bytes bad_order = a_tiff(true, 6), bad_magic = a_tiff(true, 6), far_directory = a_tiff(true, 6),
        many_entries = a_tiff(true, 6), cut_short = a_tiff(true, 6);
  cut_short.resize(12);  // the directory's first entry cut off
  bad_order[0] = bad_order[1] = 'X';
  bad_magic[2] = 43;
  far_directory[4] = 200;   // the directory at 200, past the 26-byte block
  many_entries[8] = 5;      // five entries, but one fits
  many_entries[10] = 0x13;  // and the one there is not the orientation
  const std::vector<std::pair<std::string, Bytes>> blocks = {
      {"another tag", a_tiff(true, 6, 0x0110)},
      {"orientation 0", a_tiff(true, 0)},
      {"orientation 9", a_tiff(false, 9)},
      {"a LONG", a_tiff(true, 6, 0x0112, 4)},
      {"two values", a_tiff(true, 6, 0x0112, 3, 2)},
      {"bad byte order", bad_order},
      {"not TIFF", bad_magic},
      {"directory past the block", far_directory},
      {"entries past the block", many_entries},
      {"cut short", cut_short},
      {"empty", {}},
  };
  for (const auto& [what, tiff] : blocks) {
    SCOPED_TRACE(what);
    const Bytes jpeg = with_exif(stored.jpeg, tiff);
    EXPECT_EQ(models::exif_orientation(jpeg), 1);
    int w = 0, h = 0;
    models::PictureFile file;
    EXPECT_EQ(models::load_gray_image(write_file("bad-exif.jpg", jpeg).string(), &w, &h, &file), stored.pixels);
    EXPECT_EQ(file.orientation, 1);
  }
  // "Exif" missing from the segment, and an APP1 segment whose length runs past the file.
  Bytes unnamed = with_exif(stored.jpeg, a_tiff(true, 6));
  unnamed[4] = 'X';
  EXPECT_EQ(models::exif_orientation(unnamed), 1);
  Bytes cut = with_exif(stored.jpeg, a_tiff(true, 6));
  cut.resize(20);
  EXPECT_EQ(models::exif_orientation(cut), 1);
  EXPECT_EQ(models::exif_orientation(stored.jpeg), 1);  // no EXIF
  EXPECT_EQ(models::exif_orientation(a_png(4, 4, 0, Bytes(16, 9), {})), 1);
  EXPECT_EQ(models::exif_orientation(Bytes{'P', '5', '\n'}), 1);
  EXPECT_EQ(models::exif_orientation({}), 1);
  int w = 4, h = 4;
  EXPECT_THROW(models::upright(Bytes(16), &w, &h, 9), Error);
  EXPECT_THROW(models::upright(Bytes(15), &w, &h, 6), Error);
}

// A picture in a format duet does not read (an iPhone's HEIC, a WebP from a web page, a TIFF
// scan) is named, with how to convert it, rather than called an unknown or corrupt image.
TEST(PictureFiles, OtherPictureFormatsAreNamed) {
  const std::vector<std::pair<Bytes, std::string>> files = {
      {{0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0}, "a HEIC picture (an iPhone's photo)"},
      {{0, 0, 0, 24, 'f', 't', 'y', 'p', 'm', 'i', 'f', '1', 0, 0, 0, 0}, "a HEIC picture (an iPhone's photo)"},
      {{0, 0, 0, 28, 'f', 't', 'y', 'p', 'a', 'v', 'i', 'f', 0, 0, 0, 0}, "an AVIF picture"},
      {{'R', 'I', 'F', 'F', 16, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '}, "a WebP picture"},
      {{'I', 'I', '*', 0, 8, 0, 0, 0}, "a TIFF picture"},
      {{'M', 'M', 0, '*', 0, 0, 0, 8}, "a TIFF picture"},
      {{0xFF, 0x0A, 0xFA, 0x7F}, "a JPEG XL picture"},
      {{0, 0, 0, 0x0C, 'J', 'X', 'L', ' ', '\r', '\n', 0x87, '\n'}, "a JPEG XL picture"},
      {{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', '\r', '\n', 0x87, '\n'}, "a JPEG 2000 picture"},
      {{'<', '?', 'x', 'm', 'l', ' ', '?', '>', '<', 's', 'v', 'g', '>'}, "an SVG drawing"},
      {{'%', 'P', 'D', 'F', '-', '1', '.', '7'}, "a PDF document"},
  };
  for (const auto& [bytes, kind] : files) {
    SCOPED_TRACE(kind);
    EXPECT_EQ(models::picture_format_of(bytes), kind);
    const fs::path path = write_file("other", bytes);
    int w = 0, h = 0;
    try {
      models::load_gray_image(path.string(), &w, &h);
      ADD_FAILURE() << "read";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                path.string() + ": " + kind + ", a format duet does not read; convert it to PNG or JPEG first");
    }
  }
  // The formats it reads are not taken for others.
  const StoredPhoto stored = a_stored_photo();
  EXPECT_EQ(models::picture_format_of(stored.jpeg), "");
  EXPECT_EQ(models::picture_format_of(a_png(4, 4, 0, Bytes(16, 9), {})), "");
  EXPECT_EQ(models::picture_format_of({}), "");
}
