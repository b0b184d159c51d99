#include "models/printed_digits.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "models/image_data.h"

namespace duet::models {
namespace {

struct Pt {
  double x, y;
};
using Stroke = std::vector<Pt>;

// A pen that draws one stroke: straight lines and elliptic arcs. Glyph coordinates: x from
// 0 to about 0.6, y from 0 (top) to 1 (baseline), y pointing down.
class Pen {
 public:
  Pen(double x, double y) { s_.push_back({x, y}); }
  Pen& to(double x, double y) {
    s_.push_back({x, y});
    return *this;
  }
  // Elliptic arc about (cx, cy) with radii (rx, ry) from angle a0 to a1 in degrees (0: right,
  // 90: down), joined to the stroke so far by a straight line.
  Pen& arc(double cx, double cy, double rx, double ry, double a0, double a1) {
    const int n = std::max(2, int(std::ceil(std::abs(a1 - a0) / 10)));
    for (int i = 0; i <= n; ++i) {
      const double a = (a0 + (a1 - a0) * i / n) * M_PI / 180;
      s_.push_back({cx + rx * std::cos(a), cy + ry * std::sin(a)});
    }
    return *this;
  }
  Stroke done() const { return s_; }

 private:
  Stroke s_;
};

Stroke ellipse(double cx, double cy, double rx, double ry) {
  return Pen(cx, cy - ry).arc(cx, cy, rx, ry, -90, 270).done();
}

// The shapes of each digit, as a typesetter would draw them.
std::vector<std::vector<Stroke>> shapes_of(int digit) {
  switch (digit) {
    case 0:
      return {{ellipse(0.3, 0.5, 0.28, 0.5)},
              {ellipse(0.3, 0.5, 0.28, 0.5), Pen(0.2, 0.64).to(0.4, 0.36).done()}};  // slashed zero
    case 1: {
      const Stroke flagged = Pen(0.06, 0.24).to(0.32, 0).to(0.32, 1).done();
      return {{Pen(0.3, 0).to(0.3, 1).done()},                  // a bare stem
              {flagged},                                        // stem and flag (sans)
              {flagged, Pen(0.06, 1).to(0.58, 1).done()}};      // flag and foot serif
    }
    case 2:
      return {{Pen(0.03, 0.19).arc(0.3, 0.28, 0.27, 0.27, 200, 390).to(0.02, 1).to(0.6, 1).done()},
              {Pen(0.03, 0.19).arc(0.3, 0.28, 0.27, 0.27, 200, 365).to(0.34, 0.62).to(0.02, 1).to(0.6, 1).done()}};
    case 3:
      return {{Pen(0.06, 0.17).arc(0.3, 0.26, 0.25, 0.25, 200, 450).arc(0.3, 0.74, 0.28, 0.26, -90, 160).done()},
              {Pen(0.04, 0).to(0.56, 0).to(0.22, 0.42).arc(0.3, 0.7, 0.29, 0.3, -110, 160).done()}};  // flat top
    case 4: {
      const Stroke closed = Pen(0.46, 1).to(0.46, 0).to(0, 0.7).to(0.6, 0.7).done();
      return {{closed},
              {Pen(0.14, 0).to(0.04, 0.66).to(0.6, 0.66).done(), Pen(0.46, 0.28).to(0.46, 1).done()},  // open top
              {closed, Pen(0.3, 1).to(0.6, 1).done()}};                                               // foot serif
    }
    case 5:
      return {{Pen(0.54, 0).to(0.12, 0).to(0.08, 0.46).arc(0.3, 0.7, 0.28, 0.3, -140, 150).done()}};
    case 6:
      return {{Pen(0.6, 0.03).arc(0.52, 0.7, 0.49, 0.68, -80, -180).arc(0.3, 0.72, 0.27, 0.27, 180, -180).done()},
              {Pen(0.5, 0).to(0.04, 0.68).arc(0.3, 0.72, 0.27, 0.27, 180, -180).done()}};  // straight stem
    case 7:
      return {{Pen(0, 0).to(0.6, 0).to(0.2, 1).done()},
              {Pen(0, 0).to(0.6, 0).to(0.2, 1).done(), Pen(0.14, 0.52).to(0.52, 0.52).done()},  // crossed
              {Pen(0, 0.16).to(0, 0).to(0.6, 0).to(0.24, 1).done()}};                       // beak serif
    case 8:
      return {{ellipse(0.3, 0.25, 0.22, 0.24), ellipse(0.3, 0.74, 0.28, 0.26)}};
    case 9:
      return {{ellipse(0.3, 0.3, 0.27, 0.29), Pen(0.57, 0.3).arc(0.08, 0.3, 0.49, 0.68, 0, 100).done()},  // curved tail
              {ellipse(0.3, 0.3, 0.27, 0.29), Pen(0.57, 0.3).to(0.57, 1).done()},                       // straight stem
              {ellipse(0.3, 0.3, 0.27, 0.29), Pen(0.57, 0.3).to(0.38, 1).done()}};                      // slanted stem
    default:
      fail("printed digits: digit ", digit, " is not in 0..9");
  }
}

// Distance from p to the segment a-b.
double segment_distance(Pt p, Pt a, Pt b) {
  const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
  return std::sqrt(ex * ex + ey * ey);
}

}  // namespace

int printed_shapes(int digit) { return int(shapes_of(digit).size()); }

std::vector<uint8_t> render_printed_digit(int digit, int shape, Rng& rng) {
  std::vector<std::vector<Stroke>> all = shapes_of(digit);
  DUET_CHECK(shape >= -1 && shape < int(all.size()), "printed digits: digit ", digit, " has shapes 0..",
             all.size() - 1, ", got ", shape);
  std::vector<Stroke> strokes = all[shape < 0 ? size_t(rng.randint(int64_t(all.size()))) : size_t(shape)];
  // One face: width, slant (italic leans right), stroke weight from hairline to bold, and a
  // smooth wobble so that no two renderings are the same.
  const double width = rng.uniform(0.75, 1.3), slant = rng.uniform(-0.1, 0.3);
  const double weight = std::exp(rng.uniform(std::log(0.035), std::log(0.2)));
  const double ax = rng.uniform(0, 0.025), ay = rng.uniform(0, 0.025);
  const double fx = rng.uniform(0.5, 1.5), fy = rng.uniform(0.5, 1.5);
  const double px = rng.uniform(0, 2 * M_PI), py = rng.uniform(0, 2 * M_PI);
  const double H = 36;  // glyph height in pixels
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  for (Stroke& s : strokes)
    for (Pt& p : s) {
      const double x = p.x * width + slant * (0.5 - p.y) + ax * std::sin(2 * M_PI * fx * p.y + px);
      const double y = p.y + ay * std::sin(2 * M_PI * fy * p.x + py);
      p = {x * H, y * H};
      x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
  const double half = std::max(0.6, weight * H / 2), margin = half + 3;
  const int w = int(std::ceil(x1 - x0 + 2 * margin)), h = int(std::ceil(y1 - y0 + 2 * margin));
  std::vector<float> canvas(size_t(w) * h, 0.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const Pt p{x + 0.5 + x0 - margin, y + 0.5 + y0 - margin};
      double d = 1e9;
      for (const Stroke& s : strokes)
        for (size_t i = 0; i + 1 < s.size(); ++i) d = std::min(d, segment_distance(p, s[i], s[i + 1]));
      // Anti-aliased coverage, kept to 256 levels as in a picture file.
      canvas[size_t(y) * w + x] = float(std::lround(255 * std::clamp(half + 0.5 - d, 0.0, 1.0))) / 255.0f;
    }
  const std::vector<float> mnist = fit_to_mnist(std::move(canvas), w, h);  // the canvas is evenly black
  std::vector<uint8_t> out(784);
  for (int i = 0; i < 784; ++i) out[i] = uint8_t(std::lround(255 * std::clamp(mnist[i], 0.0f, 1.0f)));
  return out;
}

}  // namespace duet::models
