// Pen strokes in a picture of a digit: their centrelines, their width, and the digit redrawn
// along its centrelines with a pen as wide as MNIST's. MNIST's digits, fitted into 20x20, have
// strokes about 2.3 pixels wide (the median over its test set); a digit drawn with a fine pen
// on a large canvas, or in a thin typeface, is a line a fraction of a pixel wide once shrunk
// to that size: faint, broken, unlike anything in training. to_mnist_form redraws such a
// digit; pen_drawing (image_data.h) makes eval --robustness's pen pictures.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace duet::models {

// The bounding box of the pixels of a w x h picture (bytes or floats) above `threshold`:
// columns x0..x1, rows y0..y1 (x1 < x0 when there are none).
struct InkBox {
  int x0, y0, x1, y1;
  int width() const { return x1 - x0 + 1; }
  int height() const { return y1 - y0 + 1; }
  bool empty() const { return x1 < x0; }
};
template <typename T>
InkBox ink_box(const std::vector<T>& v, int w, int h, T threshold) {
  InkBox b{w, h, -1, -1};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (v[size_t(y) * w + x] > threshold)
        b.x0 = std::min(b.x0, x), b.x1 = std::max(b.x1, x), b.y0 = std::min(b.y0, y), b.y1 = std::max(b.y1, y);
  return b;
}

// The strokes of `ink` (w x h values, light ink on black with its peak at 1) count as thin,
// and are redrawn, below this width over the digit's longer side. MNIST's digits lie above
// 0.09 (all but 0.5% of its test set, by stroke_width_ratio); a stroke 1 pixel wide in the
// 20-pixel box is 0.05.
constexpr double kThinStrokeRatio = 0.06;
// The pen that redraws thin strokes: its width in pixels of the 28x28 field (MNIST's median).
constexpr double kPenWidth = 2.3;

// Zhang-Suen thinning of a w x h mask (non-zero: ink): ink pixels are peeled off its edges,
// alternately from the south-east and from the north-west, keeping every stroke connected,
// until only centrelines one pixel wide (8-connected) remain. Values 0 and 1.
std::vector<uint8_t> centrelines(std::vector<uint8_t> mask, int w, int h);

// The 8-connected pieces of a w x h mask (non-zero: ink), in the order of their first pixel
// (row by row): each piece's pixels (indices into the mask) and bounding box.
struct InkPiece {
  std::vector<size_t> pixels;
  InkBox box;
};
std::vector<InkPiece> ink_pieces(const std::vector<uint8_t>& mask, int w, int h);

// The ink of `ink` as a mask (values above 0.2, as fit_to_mnist's box), without specks: the
// 8-connected pieces holding less than `min_share` of the ink's pixels (1%: sensor noise, dust).
std::vector<uint8_t> ink_mask(const std::vector<float>& ink, int w, int h, double min_share = 0.01);

// The mean width of the strokes of a mask over the digit's longer side: its pixels over its
// centrelines' pixels (a stroke's length), over the longer side of its bounding box. 0 for an
// empty mask.
double stroke_width_ratio(const std::vector<uint8_t>& mask, int w, int h);

// Where draw_centrelines puts a centreline pixel (x, y) of the mask: at ((x - x0) * scale + ox,
// (y - y0) * scale + oy) of the drawing (its pixel (i, j) spans [i, i + 1) x [j, j + 1)).
struct Placement {
  int x0 = 0, y0 = 0;
  double scale = 1, ox = 0.5, oy = 0.5;
};
// The centrelines of a w x h mask (centrelines()) drawn with a round pen of `radius` pixels of
// the drawing: each pair of neighbouring centreline pixels joined by a stroke, a lone pixel a
// dot. A dw x dh drawing, each pixel the share of its points * points grid that the pen covers.
std::vector<float> draw_centrelines(const std::vector<uint8_t>& lines, int w, int h, const Placement& at, double radius,
                                    int dw, int dh, int points);

// A digit fitted into MNIST's 20x20 box: w x h values in [0, 1].
struct FittedDigit {
  std::vector<float> pixels;
  int w = 0, h = 0;
};

// When the strokes of `ink` (w x h, light ink on black, peak 1) are thin (stroke_width_ratio of
// its ink_mask below kThinStrokeRatio): the digit redrawn along the mask's centrelines with a
// round pen kPenWidth pixels wide, its longer side, pen included, 20 pixels; each pixel the
// share of its area the pen covers. Otherwise (and for an empty mask) none.
std::optional<FittedDigit> redraw_thin_strokes(const std::vector<float>& ink, int w, int h);

// The side of the pen drawings of eval --robustness (image_data.h: pen_drawing): a 28x28 digit
// enlarged 4x.
constexpr int kPenSide = 112;

}  // namespace duet::models
