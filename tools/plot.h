// Minimal raster plotting for duet's pictures: line charts (training curves, robustness),
// heat maps with colour bars (spectrograms, confusion matrices) and a built-in 5x7 font,
// written as PNG through stb_image_write. No plotting library needed.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace duet::plot {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};
constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrey{200, 200, 200}, kDark{60, 60, 60};
// A qualitative palette for series (blue, orange, green, red, purple, brown, pink, grey).
Rgb palette(int i);
Rgb viridis(double t);  // t in [0, 1]

struct Rect {
  int x, y, w, h;
};

class Image {
 public:
  Image(int w, int h, Rgb background = kWhite);
  int width() const { return w_; }
  int height() const { return h_; }
  void set(int x, int y, Rgb c);
  Rgb get(int x, int y) const;
  void fill(Rect r, Rgb c);
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness = 1);
  void rect_outline(Rect r, Rgb c);
  // Text at (x, y) = top-left, scale 1 = 6 px per character; align: 0 left, 1 centre, 2 right.
  void text(int x, int y, const std::string& s, Rgb c = kBlack, int scale = 1, int align = 0);
  void text_vertical(int x, int y, const std::string& s, Rgb c = kBlack, int scale = 1);  // bottom-to-top, centred on y
  void save_png(const std::string& path) const;  // throws naming the path on failure

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

int text_width(const std::string& s, int scale = 1);

struct Series {
  Series(std::string label_, Rgb color_, bool markers_ = false) : label(std::move(label_)), color(color_), markers(markers_) {}
  std::string label;
  std::vector<double> x, y;
  Rgb color;
  bool markers = false;
};

struct Axes {
  Axes(std::string title_ = "", std::string xlabel_ = "", std::string ylabel_ = "")
      : title(std::move(title_)), xlabel(std::move(xlabel_)), ylabel(std::move(ylabel_)) {}
  std::string title, xlabel, ylabel;
  double xmin = 0, xmax = 0, ymin = 0, ymax = 0;  // xmin == xmax: from the data
  bool legend = true;
  bool legend_bottom = false;  // the legend in the lower right corner instead of the upper right
  std::vector<std::string> xtick_labels;  // when set: categorical ticks at x = 0, 1, ...
  struct Label {
    double x, y;
    std::string text;
  };
  std::vector<Label> labels;  // text centred just above the point (x, y) of the data
};

void line_chart(Image& img, Rect area, const Axes& axes, const std::vector<Series>& series);

struct Heatmap {
  std::string title, xlabel, ylabel, colorbar_label;
  int rows = 0, cols = 0;
  std::vector<float> values;  // rows * cols, row 0 drawn at the top (or bottom when origin_lower)
  bool origin_lower = false;
  double vmin = 0, vmax = 0;  // equal: from the data
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;  // axis value ranges for tick labels (equal: indices)
  bool annotate = false;       // write each cell's value (confusion matrices)
  std::vector<std::string> row_labels, col_labels;
};

void heatmap(Image& img, Rect area, const Heatmap& h);

}  // namespace duet::plot
