#include "tools/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/error.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace duet::plot {
namespace {

// Classic 5x7 font, ASCII 32..126, five column bytes per glyph, bit 0 = top row.
const uint8_t kFont[95][5] = {
    {0x00, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x5F, 0x00, 0x00}, {0x00, 0x07, 0x00, 0x07, 0x00},
    {0x14, 0x7F, 0x14, 0x7F, 0x14}, {0x24, 0x2A, 0x7F, 0x2A, 0x12}, {0x23, 0x13, 0x08, 0x64, 0x62},
    {0x36, 0x49, 0x55, 0x22, 0x50}, {0x00, 0x05, 0x03, 0x00, 0x00}, {0x00, 0x1C, 0x22, 0x41, 0x00},
    {0x00, 0x41, 0x22, 0x1C, 0x00}, {0x08, 0x2A, 0x1C, 0x2A, 0x08}, {0x08, 0x08, 0x3E, 0x08, 0x08},
    {0x00, 0x50, 0x30, 0x00, 0x00}, {0x08, 0x08, 0x08, 0x08, 0x08}, {0x00, 0x60, 0x60, 0x00, 0x00},
    {0x20, 0x10, 0x08, 0x04, 0x02}, {0x3E, 0x51, 0x49, 0x45, 0x3E}, {0x00, 0x42, 0x7F, 0x40, 0x00},
    {0x42, 0x61, 0x51, 0x49, 0x46}, {0x21, 0x41, 0x45, 0x4B, 0x31}, {0x18, 0x14, 0x12, 0x7F, 0x10},
    {0x27, 0x45, 0x45, 0x45, 0x39}, {0x3C, 0x4A, 0x49, 0x49, 0x30}, {0x01, 0x71, 0x09, 0x05, 0x03},
    {0x36, 0x49, 0x49, 0x49, 0x36}, {0x06, 0x49, 0x49, 0x29, 0x1E}, {0x00, 0x36, 0x36, 0x00, 0x00},
    {0x00, 0x56, 0x36, 0x00, 0x00}, {0x08, 0x14, 0x22, 0x41, 0x00}, {0x14, 0x14, 0x14, 0x14, 0x14},
    {0x00, 0x41, 0x22, 0x14, 0x08}, {0x02, 0x01, 0x51, 0x09, 0x06}, {0x32, 0x49, 0x79, 0x41, 0x3E},
    {0x7E, 0x11, 0x11, 0x11, 0x7E}, {0x7F, 0x49, 0x49, 0x49, 0x36}, {0x3E, 0x41, 0x41, 0x41, 0x22},
    {0x7F, 0x41, 0x41, 0x22, 0x1C}, {0x7F, 0x49, 0x49, 0x49, 0x41}, {0x7F, 0x09, 0x09, 0x01, 0x01},
    {0x3E, 0x41, 0x41, 0x51, 0x32}, {0x7F, 0x08, 0x08, 0x08, 0x7F}, {0x00, 0x41, 0x7F, 0x41, 0x00},
    {0x20, 0x40, 0x41, 0x3F, 0x01}, {0x7F, 0x08, 0x14, 0x22, 0x41}, {0x7F, 0x40, 0x40, 0x40, 0x40},
    {0x7F, 0x02, 0x04, 0x02, 0x7F}, {0x7F, 0x04, 0x08, 0x10, 0x7F}, {0x3E, 0x41, 0x41, 0x41, 0x3E},
    {0x7F, 0x09, 0x09, 0x09, 0x06}, {0x3E, 0x41, 0x51, 0x21, 0x5E}, {0x7F, 0x09, 0x19, 0x29, 0x46},
    {0x46, 0x49, 0x49, 0x49, 0x31}, {0x01, 0x01, 0x7F, 0x01, 0x01}, {0x3F, 0x40, 0x40, 0x40, 0x3F},
    {0x1F, 0x20, 0x40, 0x20, 0x1F}, {0x7F, 0x20, 0x18, 0x20, 0x7F}, {0x63, 0x14, 0x08, 0x14, 0x63},
    {0x03, 0x04, 0x78, 0x04, 0x03}, {0x61, 0x51, 0x49, 0x45, 0x43}, {0x00, 0x7F, 0x41, 0x41, 0x00},
    {0x02, 0x04, 0x08, 0x10, 0x20}, {0x00, 0x41, 0x41, 0x7F, 0x00}, {0x04, 0x02, 0x01, 0x02, 0x04},
    {0x40, 0x40, 0x40, 0x40, 0x40}, {0x00, 0x01, 0x02, 0x04, 0x00}, {0x20, 0x54, 0x54, 0x54, 0x78},
    {0x7F, 0x48, 0x44, 0x44, 0x38}, {0x38, 0x44, 0x44, 0x44, 0x20}, {0x38, 0x44, 0x44, 0x48, 0x7F},
    {0x38, 0x54, 0x54, 0x54, 0x18}, {0x08, 0x7E, 0x09, 0x01, 0x02}, {0x08, 0x14, 0x54, 0x54, 0x3C},
    {0x7F, 0x08, 0x04, 0x04, 0x78}, {0x00, 0x44, 0x7D, 0x40, 0x00}, {0x20, 0x40, 0x44, 0x3D, 0x00},
    {0x00, 0x7F, 0x10, 0x28, 0x44}, {0x00, 0x41, 0x7F, 0x40, 0x00}, {0x7C, 0x04, 0x18, 0x04, 0x78},
    {0x7C, 0x08, 0x04, 0x04, 0x78}, {0x38, 0x44, 0x44, 0x44, 0x38}, {0x7C, 0x14, 0x14, 0x14, 0x08},
    {0x08, 0x14, 0x14, 0x18, 0x7C}, {0x7C, 0x08, 0x04, 0x04, 0x08}, {0x48, 0x54, 0x54, 0x54, 0x20},
    {0x04, 0x3F, 0x44, 0x40, 0x20}, {0x3C, 0x40, 0x40, 0x20, 0x7C}, {0x1C, 0x20, 0x40, 0x20, 0x1C},
    {0x3C, 0x40, 0x30, 0x40, 0x3C}, {0x44, 0x28, 0x10, 0x28, 0x44}, {0x0C, 0x50, 0x50, 0x50, 0x3C},
    {0x44, 0x64, 0x54, 0x4C, 0x44}, {0x00, 0x08, 0x36, 0x41, 0x00}, {0x00, 0x00, 0x7F, 0x00, 0x00},
    {0x00, 0x41, 0x36, 0x08, 0x00}, {0x02, 0x01, 0x02, 0x04, 0x02}};

// "Nice" tick positions covering [lo, hi] with about n steps.
std::vector<double> ticks(double lo, double hi, int n) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  std::vector<double> out;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::string fmt_tick(double v) {
  char buf[32];
  if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) std::snprintf(buf, sizeof buf, "%.0e", v);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

Rgb palette(int i) {
  static const Rgb p[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                          {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
  return p[((i % 8) + 8) % 8];
}

Rgb viridis(double t) {
  static const double k[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                                 {39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 8;
  const int i = std::min(7, int(t));
  const double f = t - i;
  auto c = [&](int j) { return uint8_t(std::lround(k[i][j] * (1 - f) + k[i + 1][j] * f)); };
  return {c(0), c(1), c(2)};
}

Image::Image(int w, int h, Rgb bg) : w_(w), h_(h), px_(size_t(w) * h * 3) {
  DUET_CHECK(w > 0 && h > 0 && w <= 16384 && h <= 16384, "image size ", w, "x", h, " out of range");
  fill({0, 0, w, h}, bg);
}

void Image::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  uint8_t* p = &px_[(size_t(y) * w_ + x) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

Rgb Image::get(int x, int y) const {
  const uint8_t* p = &px_[(size_t(y) * w_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void Image::fill(Rect r, Rgb c) {
  for (int y = r.y; y < r.y + r.h; ++y)
    for (int x = r.x; x < r.x + r.w; ++x) set(x, y, c);
}

void Image::line(double x0, double y0, double x1, double y1, Rgb c, int thickness) {
  const double len = std::max(std::abs(x1 - x0), std::abs(y1 - y0));
  const int steps = std::max(1, int(std::ceil(len)));
  for (int i = 0; i <= steps; ++i) {
    const double x = x0 + (x1 - x0) * i / steps, y = y0 + (y1 - y0) * i / steps;
    for (int dy = -(thickness - 1) / 2; dy <= thickness / 2; ++dy)
      for (int dx = -(thickness - 1) / 2; dx <= thickness / 2; ++dx) set(int(std::lround(x)) + dx, int(std::lround(y)) + dy, c);
  }
}

void Image::rect_outline(Rect r, Rgb c) {
  line(r.x, r.y, r.x + r.w - 1, r.y, c);
  line(r.x, r.y + r.h - 1, r.x + r.w - 1, r.y + r.h - 1, c);
  line(r.x, r.y, r.x, r.y + r.h - 1, c);
  line(r.x + r.w - 1, r.y, r.x + r.w - 1, r.y + r.h - 1, c);
}

int text_width(const std::string& s, int scale) { return int(s.size()) * 6 * scale - scale; }

void Image::text(int x, int y, const std::string& s, Rgb c, int scale, int align) {
  if (align == 1) x -= text_width(s, scale) / 2;
  if (align == 2) x -= text_width(s, scale);
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned ch = static_cast<unsigned char>(s[i]);
    const uint8_t* g = kFont[(ch >= 32 && ch < 127) ? ch - 32 : '?' - 32];
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < 7; ++row)
        if (g[col] >> row & 1) fill({x + int(i) * 6 * scale + col * scale, y + row * scale, scale, scale}, c);
  }
}

void Image::text_vertical(int x, int y, const std::string& s, Rgb c, int scale) {
  const int len = text_width(s, scale);
  int y_start = y + len / 2;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned ch = static_cast<unsigned char>(s[i]);
    const uint8_t* g = kFont[(ch >= 32 && ch < 127) ? ch - 32 : '?' - 32];
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < 7; ++row)
        if (g[col] >> row & 1) fill({x + row * scale, y_start - int(i) * 6 * scale - col * scale, scale, scale}, c);
  }
}

void Image::save_png(const std::string& path) const {
  DUET_CHECK(stbi_write_png(path.c_str(), w_, h_, 3, px_.data(), w_ * 3) != 0, path, ": cannot write PNG");
}

void line_chart(Image& img, Rect area, const Axes& ax, const std::vector<Series>& series) {
  double xmin = ax.xmin, xmax = ax.xmax, ymin = ax.ymin, ymax = ax.ymax;
  if (xmin == xmax || ymin == ymax) {
    double lx = 1e300, hx = -1e300, ly = 1e300, hy = -1e300;
    for (const auto& s : series)
      for (size_t i = 0; i < s.x.size(); ++i) {
        if (!std::isfinite(s.y[i])) continue;
        lx = std::min(lx, s.x[i]);
        hx = std::max(hx, s.x[i]);
        ly = std::min(ly, s.y[i]);
        hy = std::max(hy, s.y[i]);
      }
    if (lx > hx) lx = 0, hx = 1, ly = 0, hy = 1;
    if (xmin == xmax) xmin = lx, xmax = hx > lx ? hx : lx + 1;
    if (ymin == ymax) {
      const double pad = (hy - ly) * 0.05 + (hy == ly ? 0.5 : 0);
      ymin = ly - pad, ymax = hy + pad;
    }
  }
  const Rect plot{area.x + 60, area.y + 26, area.w - 75, area.h - 66};
  img.text(area.x + area.w / 2, area.y + 6, ax.title, kBlack, 2, 1);
  img.text(plot.x + plot.w / 2, area.y + area.h - 14, ax.xlabel, kBlack, 1, 1);
  img.text_vertical(area.x + 4, plot.y + plot.h / 2, ax.ylabel, kBlack, 1);
  auto X = [&](double v) { return plot.x + (v - xmin) / (xmax - xmin) * (plot.w - 1); };
  auto Y = [&](double v) { return plot.y + plot.h - 1 - (v - ymin) / (ymax - ymin) * (plot.h - 1); };
  for (double t : ticks(ymin, ymax, 6)) {
    img.line(plot.x, Y(t), plot.x + plot.w - 1, Y(t), {235, 235, 235});
    img.text(plot.x - 5, int(Y(t)) - 3, fmt_tick(t), kDark, 1, 2);
  }
  if (!ax.xtick_labels.empty()) {
    for (size_t i = 0; i < ax.xtick_labels.size(); ++i) {
      img.line(X(double(i)), plot.y + plot.h, X(double(i)), plot.y + plot.h + 3, kDark);
      img.text(int(X(double(i))), plot.y + plot.h + 6, ax.xtick_labels[i], kDark, 1, 1);
    }
  } else {
    for (double t : ticks(xmin, xmax, 8)) {
      img.line(X(t), plot.y + plot.h, X(t), plot.y + plot.h + 3, kDark);
      img.text(int(X(t)), plot.y + plot.h + 6, fmt_tick(t), kDark, 1, 1);
    }
  }
  img.rect_outline(plot, kDark);
  for (const auto& s : series) {
    for (size_t i = 0; i + 1 < s.x.size(); ++i)
      if (std::isfinite(s.y[i]) && std::isfinite(s.y[i + 1]))
        img.line(X(s.x[i]), Y(std::clamp(s.y[i], ymin, ymax)), X(s.x[i + 1]), Y(std::clamp(s.y[i + 1], ymin, ymax)),
                 s.color, 2);
    if (s.markers || s.x.size() == 1)
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i])) img.fill({int(X(s.x[i])) - 2, int(Y(std::clamp(s.y[i], ymin, ymax))) - 2, 5, 5}, s.color);
  }
  for (const auto& l : ax.labels)
    if (std::isfinite(l.x) && std::isfinite(l.y))
      img.text(int(X(l.x)), int(Y(std::clamp(l.y, ymin, ymax))) - 11, l.text, kBlack, 1, 1);
  if (ax.legend && !series.empty()) {
    int w = 0;
    for (const auto& s : series) w = std::max(w, text_width(s.label));
    const int h = int(series.size()) * 12 + 6;
    const Rect box{plot.x + plot.w - w - 34, ax.legend_bottom ? plot.y + plot.h - h - 6 : plot.y + 6, w + 28, h};
    img.fill(box, kWhite);
    img.rect_outline(box, kGrey);
    for (size_t i = 0; i < series.size(); ++i) {
      const int y = box.y + 6 + int(i) * 12;
      img.line(box.x + 4, y + 3, box.x + 18, y + 3, series[i].color, 2);
      img.text(box.x + 22, y, series[i].label, kBlack);
    }
  }
}

void heatmap(Image& img, Rect area, const Heatmap& h) {
  DUET_CHECK(int64_t(h.values.size()) == int64_t(h.rows) * h.cols && h.rows > 0 && h.cols > 0,
             "heatmap: ", h.values.size(), " values for ", h.rows, "x", h.cols);
  double lo = h.vmin, hi = h.vmax;
  if (lo == hi) {
    lo = *std::min_element(h.values.begin(), h.values.end());
    hi = *std::max_element(h.values.begin(), h.values.end());
    if (hi == lo) hi = lo + 1;
  }
  const Rect plot{area.x + 60, area.y + 26, area.w - 150, area.h - 66};
  img.text(area.x + area.w / 2 - 45, area.y + 6, h.title, kBlack, 2, 1);
  img.text(plot.x + plot.w / 2, area.y + area.h - 14, h.xlabel, kBlack, 1, 1);
  img.text_vertical(area.x + 4, plot.y + plot.h / 2, h.ylabel, kBlack, 1);
  for (int py = 0; py < plot.h; ++py) {
    int r = int(int64_t(py) * h.rows / plot.h);
    if (h.origin_lower) r = h.rows - 1 - r;
    for (int px = 0; px < plot.w; ++px) {
      const int c = int(int64_t(px) * h.cols / plot.w);
      img.set(plot.x + px, plot.y + py, viridis((h.values[size_t(r) * h.cols + c] - lo) / (hi - lo)));
    }
  }
  img.rect_outline({plot.x - 1, plot.y - 1, plot.w + 2, plot.h + 2}, kDark);
  const double cw = double(plot.w) / h.cols, rh = double(plot.h) / h.rows;
  if (h.annotate)
    for (int r = 0; r < h.rows; ++r)
      for (int c = 0; c < h.cols; ++c) {
        const float v = h.values[size_t(r) * h.cols + c];
        char buf[16];
        std::snprintf(buf, sizeof buf, "%g", double(v));
        const double t = (v - lo) / (hi - lo);
        img.text(int(plot.x + (c + 0.5) * cw), int(plot.y + (r + 0.5) * rh) - 3, buf, t > 0.6 ? kBlack : kWhite, 1, 1);
      }
  // Axis ticks: labels when given, else value ranges (or indices).
  auto axis_value = [](double a, double b, int n, double frac) { return a == b ? frac * n : a + (b - a) * frac; };
  if (!h.col_labels.empty()) {
    for (int c = 0; c < h.cols && c < int(h.col_labels.size()); ++c)
      img.text(int(plot.x + (c + 0.5) * cw), plot.y + plot.h + 6, h.col_labels[c], kDark, 1, 1);
  } else {
    const double a = axis_value(h.x0, h.x1, h.cols, 0), b = axis_value(h.x0, h.x1, h.cols, 1);
    for (double t : ticks(a, b, 8)) {
      const double px = plot.x + (t - a) / (b - a) * plot.w;
      img.line(px, plot.y + plot.h, px, plot.y + plot.h + 3, kDark);
      img.text(int(px), plot.y + plot.h + 6, fmt_tick(t), kDark, 1, 1);
    }
  }
  if (!h.row_labels.empty()) {
    for (int r = 0; r < h.rows && r < int(h.row_labels.size()); ++r) {
      const int rr = h.origin_lower ? h.rows - 1 - r : r;
      img.text(plot.x - 5, int(plot.y + (rr + 0.5) * rh) - 3, h.row_labels[r], kDark, 1, 2);
    }
  } else {
    const double a = axis_value(h.y0, h.y1, h.rows, 0), b = axis_value(h.y0, h.y1, h.rows, 1);
    for (double t : ticks(a, b, 6)) {
      const double frac = (t - a) / (b - a);
      const double py = h.origin_lower ? plot.y + plot.h - frac * plot.h : plot.y + frac * plot.h;
      img.line(plot.x - 3, py, plot.x - 1, py, kDark);
      img.text(plot.x - 5, int(py) - 3, fmt_tick(t), kDark, 1, 2);
    }
  }
  // Colour bar.
  const Rect bar{plot.x + plot.w + 14, plot.y, 14, plot.h};
  for (int py = 0; py < bar.h; ++py) img.fill({bar.x, bar.y + py, bar.w, 1}, viridis(1.0 - double(py) / (bar.h - 1)));
  img.rect_outline(bar, kDark);
  for (double t : ticks(lo, hi, 6)) {
    const double py = bar.y + bar.h - 1 - (t - lo) / (hi - lo) * (bar.h - 1);
    img.line(bar.x + bar.w, py, bar.x + bar.w + 3, py, kDark);
    img.text(bar.x + bar.w + 6, int(py) - 3, fmt_tick(t), kDark);
  }
  img.text_vertical(bar.x + bar.w + 48, bar.y + bar.h / 2, h.colorbar_label, kBlack);
}

}  // namespace duet::plot
