#include "models/strokes.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace duet::models {

namespace {

// The 8 neighbours of a pixel, clockwise from north (Zhang and Suen's P2..P9).
constexpr int kDx[8] = {0, 1, 1, 1, 0, -1, -1, -1};
constexpr int kDy[8] = {-1, -1, 0, 1, 1, 1, 0, -1};

double width_ratio(const std::vector<uint8_t>& mask, const std::vector<uint8_t>& lines, int w, int h) {
  const InkBox b = ink_box(mask, w, h, uint8_t(0));
  if (b.empty()) return 0;
  size_t area = 0, length = 0;
  for (size_t i = 0; i < mask.size(); ++i) area += mask[i] != 0, length += lines[i] != 0;
  return double(area) / double(std::max<size_t>(1, length)) / std::max(b.width(), b.height());
}

}  // namespace

std::vector<uint8_t> centrelines(std::vector<uint8_t> m, int w, int h) {
  DUET_CHECK(int64_t(m.size()) == int64_t(w) * h && w > 0 && h > 0, "centrelines: bad mask size");
  for (uint8_t& v : m) v = v != 0;
  auto at = [&](int x, int y) -> int { return (x < 0 || y < 0 || x >= w || y >= h) ? 0 : m[size_t(y) * w + x]; };
  std::vector<size_t> peel;
  for (bool changed = true; changed;) {
    changed = false;
    for (int pass = 0; pass < 2; ++pass) {
      peel.clear();
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          if (!m[size_t(y) * w + x]) continue;
          int p[8], neighbours = 0, rises = 0;
          for (int k = 0; k < 8; ++k) neighbours += p[k] = at(x + kDx[k], y + kDy[k]);
          for (int k = 0; k < 8; ++k) rises += !p[k] && p[(k + 1) % 8];
          // An edge pixel (2-6 neighbours) whose neighbours form one run (removing it keeps
          // the stroke connected), on the south-east edge (pass 0) or the north-west (pass 1).
          if (neighbours < 2 || neighbours > 6 || rises != 1) continue;
          const bool edge = pass == 0 ? (!p[0] || !p[2] || !p[4]) && (!p[2] || !p[4] || !p[6])
                                      : (!p[0] || !p[2] || !p[6]) && (!p[0] || !p[4] || !p[6]);
          if (edge) peel.push_back(size_t(y) * w + x);
        }
      for (size_t i : peel) m[i] = 0;
      changed = changed || !peel.empty();
    }
  }
  return m;
}

std::vector<InkPiece> ink_pieces(const std::vector<uint8_t>& mask, int w, int h) {
  DUET_CHECK(int64_t(mask.size()) == int64_t(w) * h && w > 0 && h > 0, "ink_pieces: bad mask size");
  std::vector<InkPiece> pieces;
  std::vector<uint8_t> seen(mask.size(), 0);
  std::vector<size_t> stack;
  for (size_t start = 0; start < mask.size(); ++start) {  // flood fill from each unseen ink pixel
    if (!mask[start] || seen[start]) continue;
    InkPiece piece{{}, InkBox{w, h, -1, -1}};
    stack.assign(1, start);
    seen[start] = 1;
    while (!stack.empty()) {
      const size_t i = stack.back();
      stack.pop_back();
      piece.pixels.push_back(i);
      const int x = int(i % size_t(w)), y = int(i / size_t(w));
      InkBox& b = piece.box;
      b.x0 = std::min(b.x0, x), b.x1 = std::max(b.x1, x), b.y0 = std::min(b.y0, y), b.y1 = std::max(b.y1, y);
      for (int k = 0; k < 8; ++k) {
        const int xx = x + kDx[k], yy = y + kDy[k];
        if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
        const size_t j = size_t(yy) * w + xx;
        if (mask[j] && !seen[j]) seen[j] = 1, stack.push_back(j);
      }
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

std::vector<uint8_t> ink_mask(const std::vector<float>& ink, int w, int h, double min_share) {
  DUET_CHECK(int64_t(ink.size()) == int64_t(w) * h && w > 0 && h > 0, "ink_mask: bad picture size");
  std::vector<uint8_t> mask(ink.size());
  size_t total = 0;
  for (size_t i = 0; i < ink.size(); ++i) total += mask[i] = ink[i] > 0.2f;
  for (const InkPiece& piece : ink_pieces(mask, w, h))  // the small pieces dropped
    if (double(piece.pixels.size()) < min_share * double(total))
      for (size_t i : piece.pixels) mask[i] = 0;
  return mask;
}

double stroke_width_ratio(const std::vector<uint8_t>& mask, int w, int h) {
  return width_ratio(mask, centrelines(mask, w, h), w, h);
}

std::vector<float> draw_centrelines(const std::vector<uint8_t>& lines, int w, int h, const Placement& at, double radius,
                                    int dw, int dh, int points) {
  DUET_CHECK(int64_t(lines.size()) == int64_t(w) * h && w > 0 && h > 0, "draw_centrelines: bad mask size");
  DUET_CHECK(dw > 0 && dh > 0 && points >= 1 && radius > 0, "draw_centrelines: bad drawing");
  const int gw = dw * points, gh = dh * points;
  std::vector<uint8_t> covered(size_t(gw) * gh, 0);
  const double r2 = radius * radius;
  // Every point within `radius` of the segment a-b (pixel units of the drawing) is covered.
  auto draw = [&](double ax, double ay, double bx, double by) {
    const int sx0 = std::max(0, int(std::floor((std::min(ax, bx) - radius) * points)));
    const int sx1 = std::min(gw - 1, int(std::ceil((std::max(ax, bx) + radius) * points)));
    const int sy0 = std::max(0, int(std::floor((std::min(ay, by) - radius) * points)));
    const int sy1 = std::min(gh - 1, int(std::ceil((std::max(ay, by) + radius) * points)));
    const double ux = bx - ax, uy = by - ay, len2 = ux * ux + uy * uy;
    for (int sy = sy0; sy <= sy1; ++sy)
      for (int sx = sx0; sx <= sx1; ++sx) {
        const double px = (sx + 0.5) / points - ax, py = (sy + 0.5) / points - ay;
        const double t = len2 > 0 ? std::clamp((px * ux + py * uy) / len2, 0.0, 1.0) : 0.0;
        const double ex = px - t * ux, ey = py - t * uy;
        if (ex * ex + ey * ey <= r2) covered[size_t(sy) * gw + sx] = 1;
      }
  };
  auto place = [&](int x, int y) { return std::pair{(x - at.x0) * at.scale + at.ox, (y - at.y0) * at.scale + at.oy}; };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (!lines[size_t(y) * w + x]) continue;
      const auto [ax, ay] = place(x, y);
      bool joined = false;
      // Each pair of neighbouring centreline pixels once: to the east, south-east, south and
      // south-west (kDx/kDy entries 2-5).
      for (int k = 2; k <= 5; ++k) {
        const int xx = x + kDx[k], yy = y + kDy[k];
        if (xx < 0 || yy >= h || xx >= w || !lines[size_t(yy) * w + xx]) continue;
        const auto [bx, by] = place(xx, yy);
        draw(ax, ay, bx, by);
        joined = true;
      }
      if (!joined) draw(ax, ay, ax, ay);  // a dot, or the end of a line drawn from its neighbour
    }
  std::vector<float> out(size_t(dw) * dh, 0.0f);
  for (int y = 0; y < dh; ++y)
    for (int x = 0; x < dw; ++x) {
      int n = 0;
      for (int sy = y * points; sy < (y + 1) * points; ++sy)
        for (int sx = x * points; sx < (x + 1) * points; ++sx) n += covered[size_t(sy) * gw + sx];
      out[size_t(y) * dw + x] = float(n) / float(points * points);
    }
  return out;
}

std::optional<FittedDigit> redraw_thin_strokes(const std::vector<float>& ink, int w, int h) {
  const std::vector<uint8_t> mask = ink_mask(ink, w, h), lines = centrelines(mask, w, h);
  const double ratio = width_ratio(mask, lines, w, h);
  if (ratio <= 0 || ratio >= kThinStrokeRatio) return std::nullopt;
  const InkBox b = ink_box(lines, w, h, uint8_t(0));
  // The centrelines' longer extent (pixel centre to pixel centre) plus the pen's width spans
  // 20 pixels; a single dot is drawn at its own size.
  const double r = kPenWidth / 2;
  const int extent = std::max(b.x1 - b.x0, b.y1 - b.y0);
  const Placement at{b.x0, b.y0, extent > 0 ? (20.0 - kPenWidth) / extent : 1.0, r, r};
  FittedDigit d;
  d.w = std::max(1, int(std::ceil((b.x1 - b.x0) * at.scale + kPenWidth)));
  d.h = std::max(1, int(std::ceil((b.y1 - b.y0) * at.scale + kPenWidth)));
  d.pixels = draw_centrelines(lines, w, h, at, r, d.w, d.h, 4);
  return d;
}

}  // namespace duet::models
