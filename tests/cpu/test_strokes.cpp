// Pen strokes (models/strokes.h): centrelines, stroke width, thin digits redrawn at MNIST's
// width, and the fine-pen pictures of eval --robustness.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "engine/error.h"
#include "models/datasets.h"
#include "models/image_data.h"
#include "models/strokes.h"

using namespace duet;
namespace fs = std::filesystem;

namespace {

// A w x h mask with an elliptic ring of centre (cx, cy), radii rx, ry (to the middle of the
// stroke) and a stroke `width` pixels wide.
std::vector<uint8_t> ring_mask(int w, int h, double rx, double ry, double width) {
  std::vector<uint8_t> m(size_t(w) * h, 0);
  const double cx = w / 2.0, cy = h / 2.0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // Distance to the ellipse, approximately: the radial offset scaled by the local radius.
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy, t = std::atan2(dy / ry, dx / rx);
      const double r = std::hypot(rx * std::cos(t), ry * std::sin(t)), d = std::hypot(dx, dy);
      m[size_t(y) * w + x] = std::abs(d - r) <= width / 2;
    }
  return m;
}

// A w x h mask with a vertical bar `width` pixels wide and `length` tall, centred.
std::vector<uint8_t> bar_mask(int w, int h, int width, int length) {
  std::vector<uint8_t> m(size_t(w) * h, 0);
  for (int y = (h - length) / 2; y < (h - length) / 2 + length; ++y)
    for (int x = (w - width) / 2; x < (w - width) / 2 + width; ++x) m[size_t(y) * w + x] = 1;
  return m;
}

std::vector<float> as_ink(const std::vector<uint8_t>& m) { return std::vector<float>(m.begin(), m.end()); }

// Dark ink on light paper, as a picture of the mask would come in.
std::vector<uint8_t> on_paper(const std::vector<uint8_t>& m) {
  std::vector<uint8_t> g(m.size());
  for (size_t i = 0; i < m.size(); ++i) g[i] = m[i] ? 30 : 235;
  return g;
}

// The pieces of a w x h mask, 8-connected (4-connected with `four`: the background around a
// line that is 8-connected).
int pieces(std::vector<uint8_t> m, int w, int h, bool four = false) {
  int n = 0;
  for (size_t start = 0; start < m.size(); ++start) {
    if (!m[start]) continue;
    ++n;
    std::vector<size_t> stack{start};
    m[start] = 0;
    while (!stack.empty()) {
      const size_t i = stack.back();
      stack.pop_back();
      const int x = int(i % size_t(w)), y = int(i / size_t(w));
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (four && dx != 0 && dy != 0) continue;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h || !m[size_t(yy) * w + xx]) continue;
          m[size_t(yy) * w + xx] = 0;
          stack.push_back(size_t(yy) * w + xx);
        }
    }
  }
  return n;
}

std::vector<uint8_t> inverted(std::vector<uint8_t> m) {
  for (uint8_t& v : m) v = !v;
  return m;
}

double cosine(const std::vector<float>& u, const std::vector<float>& v) {
  double dot = 0, a = 0, b = 0;
  for (size_t i = 0; i < u.size(); ++i) dot += u[i] * v[i], a += u[i] * u[i], b += v[i] * v[i];
  return dot / std::sqrt(a * b);
}

// The stroke width of a 28x28 digit in pixels: twice its ink over its outline's length (the
// pixel edges between values above and below a half, times pi/4 for the staircase).
double stroke_width_px(const std::vector<float>& d) {
  double ink = 0, edges = 0;
  auto on = [&](int x, int y) { return x >= 0 && y >= 0 && x < 28 && y < 28 && d[size_t(y) * 28 + x] > 0.5f; };
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      ink += d[size_t(y) * 28 + x];
      edges += (on(x, y) != on(x + 1, y)) + (on(x, y) != on(x, y + 1)) + (x == 0 && on(x, y)) + (y == 0 && on(x, y));
    }
  return 2 * ink / (edges * M_PI / 4);
}

}  // namespace

// A bar thins to its middle column, a ring to a closed loop one pixel wide (one piece, and the
// hole stays a hole); a line already one pixel wide, and an empty mask, stay as they are.
TEST(Strokes, CentrelinesKeepTheShapeOnePixelWide) {
  const std::vector<uint8_t> bar = models::centrelines(bar_mask(40, 80, 9, 60), 40, 80);
  int count = 0;
  for (int y = 0; y < 80; ++y)
    for (int x = 0; x < 40; ++x)
      if (bar[size_t(y) * 40 + x]) {
        ++count;
        EXPECT_GE(x, 16) << "row " << y;  // the bar spans columns 15-23
        EXPECT_LE(x, 22) << "row " << y;
      }
  EXPECT_GE(count, 50);
  EXPECT_LE(count, 64);
  EXPECT_EQ(pieces(bar, 40, 80), 1);

  const std::vector<uint8_t> ring = models::centrelines(ring_mask(120, 160, 40, 60, 12), 120, 160);
  EXPECT_EQ(pieces(ring, 120, 160), 1);
  EXPECT_EQ(pieces(inverted(ring), 120, 160, true), 2) << "the ring's hole closed up or opened";
  // One pixel wide: no 2x2 block of ink.
  for (int y = 0; y + 1 < 160; ++y)
    for (int x = 0; x + 1 < 120; ++x)
      EXPECT_FALSE(ring[size_t(y) * 120 + x] && ring[size_t(y) * 120 + x + 1] && ring[size_t(y + 1) * 120 + x] &&
                   ring[size_t(y + 1) * 120 + x + 1])
          << "at " << x << "," << y;
  // Its pixels lie on the ring's middle (within a pixel and a half).
  for (int y = 0; y < 160; ++y)
    for (int x = 0; x < 120; ++x)
      if (ring[size_t(y) * 120 + x]) EXPECT_TRUE(ring_mask(120, 160, 40, 60, 3)[size_t(y) * 120 + x]) << x << "," << y;

  const std::vector<uint8_t> line = bar_mask(20, 30, 1, 20);
  EXPECT_EQ(models::centrelines(line, 20, 30), line);
  EXPECT_EQ(models::centrelines(std::vector<uint8_t>(600, 0), 20, 30), std::vector<uint8_t>(600, 0));
  EXPECT_THROW(models::centrelines(line, 20, 29), Error);
}

// The width measure reads a thin bar's width over its length, whatever the bar's size, and a
// ring's stroke over its height. A short fat stroke reads wider than it is (its centreline is
// shorter than the stroke), never thinner.
TEST(Strokes, WidthRatioReadsTheStrokeOverTheDigit) {
  for (int width : {1, 2, 5, 10})
    EXPECT_NEAR(models::stroke_width_ratio(bar_mask(60, 120, width, 100), 60, 120), width / 100.0, 0.2 * width / 100.0)
        << "a bar " << width << " pixels wide";
  EXPECT_GE(models::stroke_width_ratio(bar_mask(60, 120, 20, 100), 60, 120), 0.2);
  for (double width : {2.0, 6.0, 15.0})
    EXPECT_NEAR(models::stroke_width_ratio(ring_mask(160, 200, 50, 80, width), 160, 200), width / 160, 0.25 * width / 160)
        << "a ring " << width << " pixels wide";
  EXPECT_EQ(models::stroke_width_ratio(std::vector<uint8_t>(600, 0), 20, 30), 0.0);
}

// The ink mask drops specks (pieces under 1% of the ink) and keeps every real piece of a digit,
// the small flag of a 5 included.
TEST(Strokes, InkMaskDropsSpecksAndKeepsPieces) {
  std::vector<uint8_t> m = bar_mask(60, 120, 4, 100);  // 400 pixels
  for (int x = 40; x < 55; ++x) m[size_t(5) * 60 + x] = 1;  // a flag of 15 pixels, apart from the bar
  std::vector<float> ink = as_ink(m);
  ink[size_t(110) * 60 + 5] = 1.0f;  // a speck of 2 pixels
  ink[size_t(110) * 60 + 6] = 0.9f;
  ink[size_t(100) * 60 + 50] = 0.15f;  // faint: not ink
  EXPECT_EQ(models::ink_mask(ink, 60, 120), m);
  EXPECT_THROW(models::ink_mask(ink, 60, 119), Error);
  // A larger share drops the flag too (15 of 417 ink pixels: 3.6%), as noisy pictures' grain
  // is dropped (to_mnist_form's pieces under 10%); the speck stays at a share of 0.
  const std::vector<uint8_t> bar = bar_mask(60, 120, 4, 100);
  EXPECT_EQ(models::ink_mask(ink, 60, 120, 0.05), bar);
  std::vector<uint8_t> all = m;
  all[size_t(110) * 60 + 5] = all[size_t(110) * 60 + 6] = 1;
  EXPECT_EQ(models::ink_mask(ink, 60, 120, 0.0), all);
}

// A ring drawn with a pen one pixel wide on a large canvas is redrawn: its longer side 20 pixels,
// strokes as wide as MNIST's, the same shape as the ring drawn at MNIST's width. A ring of
// MNIST-like strokes is left as it is.
TEST(Strokes, ThinDigitIsRedrawnAtMnistWidth) {
  const std::vector<uint8_t> thin = ring_mask(200, 240, 60, 90, 1.5);
  const std::optional<models::FittedDigit> d = models::redraw_thin_strokes(as_ink(thin), 200, 240);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->h, 20);
  // The centrelines' extents, 120 by 180 pixels, shrunk to 20 pixels less the pen's width.
  EXPECT_NEAR(d->w, 120 * (20 - models::kPenWidth) / 180 + models::kPenWidth, 1.0);
  float peak = 0;
  for (float v : d->pixels) {
    EXPECT_GE(v, 0.0f);
    peak = std::max(peak, v);
  }
  EXPECT_FLOAT_EQ(peak, 1.0f);
  EXPECT_FALSE(models::redraw_thin_strokes(as_ink(ring_mask(200, 240, 60, 90, 20)), 200, 240).has_value());
  EXPECT_FALSE(models::redraw_thin_strokes(std::vector<float>(600, 0.0f), 20, 30).has_value());

  const std::vector<float> redrawn = models::to_mnist_form(on_paper(thin), 200, 240);
  const std::vector<float> marker = models::to_mnist_form(on_paper(ring_mask(200, 240, 60, 90, 24)), 200, 240);
  EXPECT_NEAR(stroke_width_px(redrawn), models::kPenWidth, 0.5);
  EXPECT_GT(cosine(redrawn, marker), 0.85);
  // Kept as they are, the thin ring's strokes would be a faint fraction of a pixel.
  std::vector<float> kept_ink(thin.size());
  for (size_t i = 0; i < thin.size(); ++i) kept_ink[i] = thin[i];
  const std::vector<float> kept = models::fit_to_mnist(kept_ink, 200, 240, models::ThinStrokes::kKeep);
  EXPECT_LT(*std::max_element(kept.begin(), kept.end()), 0.5f);
  EXPECT_EQ(models::fit_to_mnist(kept_ink, 200, 240, models::ThinStrokes::kRedraw), redrawn);
  // A picture of MNIST-like strokes gives the same digit with or without redrawing.
  std::vector<float> bold(marker.size());
  const std::vector<uint8_t> ring28 = ring_mask(28, 28, 6, 9, 2.5);
  for (size_t i = 0; i < bold.size(); ++i) bold[i] = ring28[i];
  EXPECT_EQ(models::fit_to_mnist(bold, 28, 28, models::ThinStrokes::kRedraw),
            models::fit_to_mnist(bold, 28, 28, models::ThinStrokes::kKeep));
}

// eval --robustness's pen drawings: with a fine pen, the digit's centrelines one pixel wide as
// dark ink on white paper, 4x MNIST's size; with a thick marker, strokes a quarter of the
// digit's height wide. to_mnist_form reads both back as the digit. A pen width outside
// (0, 0.5] is refused.
TEST(Strokes, PenDrawingsRedrawTheDigitAtTheirWidth) {
  std::vector<float> digit(784, 0.0f);
  const std::vector<uint8_t> ring = ring_mask(28, 28, 6, 9, 2.5);
  for (size_t i = 0; i < 784; ++i) digit[i] = ring[i];
  const int side = models::kPenSide;
  const std::vector<uint8_t> pen = models::pen_drawing(digit.data(), 1.0 / 80);
  ASSERT_EQ(pen.size(), size_t(side) * side);
  std::vector<uint8_t> lines(pen.size());
  for (size_t i = 0; i < pen.size(); ++i) {
    EXPECT_TRUE(pen[i] == 40 || pen[i] == 230) << i;
    lines[i] = pen[i] == 40;
  }
  EXPECT_EQ(models::centrelines(lines, side, side), lines);
  EXPECT_EQ(pieces(lines, side, side), 1);
  const std::vector<float> clean = models::fit_to_mnist(digit, 28, 28);
  EXPECT_GT(cosine(models::to_mnist_form(pen, side, side), clean), 0.85);

  const std::vector<uint8_t> marker = models::pen_drawing(digit.data(), 0.25);
  std::vector<uint8_t> ink(marker.size());
  for (size_t i = 0; i < marker.size(); ++i) ink[i] = marker[i] < 135;
  EXPECT_NEAR(models::stroke_width_ratio(ink, side, side), 0.25, 0.06);
  EXPECT_EQ(pieces(inverted(ink), side, side, true), 2) << "the marker filled the ring's hole";
  EXPECT_GT(cosine(models::to_mnist_form(marker, side, side), clean), 0.7);  // thicker than the clean ring
  // A faint digit (its peak 0.4) is drawn as the same lines; a blank one as blank paper.
  std::vector<float> faint = digit;
  for (float& v : faint) v *= 0.4f;
  EXPECT_EQ(models::pen_drawing(faint.data(), 1.0 / 80), pen);
  EXPECT_EQ(models::pen_drawing(std::vector<float>(784, 0.0f).data(), 1.0 / 80), std::vector<uint8_t>(pen.size(), 230));
  for (double bad : {0.0, -0.1, 0.6, std::nan("")}) EXPECT_THROW(models::pen_drawing(digit.data(), bad), Error) << bad;
}

// MNIST's own digits are not thin by this measure (so a picture of one is fitted as before): at
// most 1% of the first 2000 test digits.
TEST(Strokes, MnistDigitsAreNotThin) {
  const std::string root = std::getenv("DUET_DATA") ? std::getenv("DUET_DATA")
                                                    : std::string(DUET_SOURCE_DIR) + "/../shared/data";
  if (!fs::exists(root + "/mnist")) GTEST_SKIP() << "no data at " << root;
  const data::Mnist test = data::load_mnist(root, "test");
  int thin = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    std::vector<float> ink(784);
    float peak = 0;
    for (int j = 0; j < 784; ++j) peak = std::max(peak, ink[j] = test.pixels[size_t(i) * 784 + j] / 255.0f);
    for (float& v : ink) v /= peak;
    thin += models::stroke_width_ratio(models::ink_mask(ink, 28, 28), 28, 28) < models::kThinStrokeRatio;
  }
  EXPECT_LE(thin, 20);
}
