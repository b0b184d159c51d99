#include "models/image_data.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

#include "engine/error.h"
#include "engine/ops/gemm.h"
#include "models/cutting.h"
#include "models/examples.h"
#include "models/printed_digits.h"
#include "models/strokes.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
// The formats a digit comes in (PNG, JPEG, BMP, GIF, TGA, PGM/PPM); stb_image's decoders of
// HDR, Photoshop and Softimage files are left out of the binary, as are their bugs.
#define STBI_NO_HDR
#define STBI_NO_PSD
#define STBI_NO_PIC
#include <stb_image.h>

namespace duet::models {

std::pair<float, float> ImageSet::pixel_stats(const data::Mnist& m, int64_t limit) {
  const int64_t n = (limit >= 0 ? std::min(limit, m.count) : m.count) * m.rows * m.cols;
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = m.pixels[i] / 255.0;
    sum += v, sq += v * v;
  }
  const double mean = sum / double(n);
  return {float(mean), float(std::sqrt(std::max(1e-12, sq / double(n) - mean * mean)))};
}

ImageSet::ImageSet(data::Mnist m, int64_t limit, float mean, float std) : mean_(mean), std_(std) {
  DUET_CHECK(m.rows == 28 && m.cols == 28, "MNIST images must be 28x28, got ", m.rows, "x", m.cols);
  DUET_CHECK(std > 0, "image normalisation: std must be positive");
  count_ = limit >= 0 ? std::min(limit, m.count) : m.count;
  pixels_.assign(m.pixels.begin(), m.pixels.begin() + count_ * 784);
  labels_.assign(m.labels.begin(), m.labels.begin() + count_);
}

namespace {

// Bilinear sample of a w x h image (bytes or floats; 28x28 unless said) at (x, y), zero outside.
template <typename T>
double sample(const T* img, double x, double y, int w = 28, int h = 28) {
  const int x0 = int(std::floor(x)), y0 = int(std::floor(y));
  const double fx = x - x0, fy = y - y0;
  auto at = [&](int xx, int yy) -> double {
    return (xx < 0 || yy < 0 || xx >= w || yy >= h) ? 0.0 : img[size_t(yy) * w + xx];
  };
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}

// A tw x th picture whose pixel (tx, ty) is the mean of the w x h picture `src` over the
// source square [x0 + tx / scale, x0 + (tx + 1) / scale) x [y0 + ty / scale, ...) where it
// lies inside `src` (0 where none of it does): area averaging, to shrink a picture by any
// factor (scale < 1).
std::vector<float> area_resize(const std::vector<float>& src, int w, int h, double x0, double y0, double scale, int tw,
                               int th) {
  std::vector<float> out(size_t(tw) * th, 0.0f);
  for (int ty = 0; ty < th; ++ty)
    for (int tx = 0; tx < tw; ++tx) {
      const double sx0 = x0 + tx / scale, sx1 = x0 + (tx + 1) / scale, sy0 = y0 + ty / scale, sy1 = y0 + (ty + 1) / scale;
      double acc = 0, area = 0;
      for (int sy = int(std::floor(sy0)); sy < int(std::ceil(sy1)); ++sy)
        for (int sx = int(std::floor(sx0)); sx < int(std::ceil(sx1)); ++sx) {
          if (sx < 0 || sy < 0 || sx >= w || sy >= h) continue;
          const double ox = std::min(sx1, sx + 1.0) - std::max(sx0, double(sx));
          const double oy = std::min(sy1, sy + 1.0) - std::max(sy0, double(sy));
          if (ox <= 0 || oy <= 0) continue;
          acc += src[size_t(sy) * w + sx] * ox * oy;
          area += ox * oy;
        }
      out[size_t(ty) * tw + tx] = area > 0 ? float(acc / area) : 0.0f;
    }
  return out;
}

// The ink box of a 28x28 digit in [0, 1], as fit_to_mnist finds it (pixels above a fifth of
// the peak); none for a blank picture (peak 0.1 or less).
std::optional<InkBox> digit_box(const std::vector<float>& digit) {
  const float peak = *std::max_element(digit.begin(), digit.end());
  if (peak <= 0.1f) return std::nullopt;
  return ink_box(digit, 28, 28, 0.2f * peak);
}

// A separable filter over a w x h picture: `line(in, out, n, step)` filters one line of n
// values (`step` apart) into `out`, along every row and then along every column.
template <typename LineFilter>
std::vector<float> separable(const std::vector<float>& v, int w, int h, LineFilter line) {
  std::vector<float> tmp(v.size()), out(v.size());
  for (int y = 0; y < h; ++y) line(v.data() + size_t(y) * w, tmp.data() + size_t(y) * w, w, size_t(1));
  for (int x = 0; x < w; ++x) line(tmp.data() + x, out.data() + x, h, size_t(w));
  return out;
}

// Separable sliding-window filter over a w x h picture: each value becomes the minimum
// (kMin) or the mean (kMean) of the (2r+1) x (2r+1) window around it, clipped at the edges.
enum class Window { kMin, kMean };
std::vector<float> window_filter(const std::vector<float>& v, int w, int h, int r, Window kind) {
  std::vector<double> prefix(size_t(std::max(w, h)) + 1);
  return separable(v, w, h, [&](const float* line, float* dst, int n, size_t step) {
    if (kind == Window::kMean) {
      for (int i = 0; i < n; ++i) prefix[size_t(i) + 1] = prefix[size_t(i)] + line[size_t(i) * step];
      for (int i = 0; i < n; ++i) {
        const int a = std::max(0, i - r), b = std::min(n - 1, i + r);
        dst[size_t(i) * step] = float((prefix[size_t(b) + 1] - prefix[size_t(a)]) / (b - a + 1));
      }
    } else {
      for (int i = 0; i < n; ++i) {
        float m = line[size_t(i) * step];
        for (int j = std::max(0, i - r); j <= std::min(n - 1, i + r); ++j) m = std::min(m, line[size_t(j) * step]);
        dst[size_t(i) * step] = m;
      }
    }
  });
}

// The paper's level, refined: pixels more than half of the largest excess above the first
// estimate `first` are ink; the level is the median of the other pixels in each cell of an
// 8x8 grid with its neighbours (the minimum that made `first` is pulled down by sensor noise
// and by the slope of the light; a median is not), placed at the centre of the window it came
// from and interpolated bilinearly between those places, linearly extended beyond them to
// the picture's edges (so a ramp of light is followed into the corners).
std::vector<float> paper_median(const std::vector<float>& v, const std::vector<float>& first, int w, int h) {
  float peak = 0;
  for (size_t i = 0; i < v.size(); ++i) peak = std::max(peak, v[i] - first[i]);
  const int gx = std::min(8, w), gy = std::min(8, h);
  auto lo = [](int c, int g, int n) { return std::max(0, c - 1) * n / g; };
  auto hi = [](int c, int g, int n) { return std::min(g, c + 2) * n / g; };
  std::vector<double> px(static_cast<size_t>(gx)), py(static_cast<size_t>(gy));  // the windows' centres
  for (int c = 0; c < gx; ++c) px[size_t(c)] = 0.5 * (lo(c, gx, w) + hi(c, gx, w));
  for (int c = 0; c < gy; ++c) py[size_t(c)] = 0.5 * (lo(c, gy, h) + hi(c, gy, h));
  std::vector<double> level(size_t(gx) * gy);
  std::vector<float> pool;
  for (int cy = 0; cy < gy; ++cy)
    for (int cx = 0; cx < gx; ++cx) {
      pool.clear();
      double fallback = 0;
      int n = 0;
      for (int y = lo(cy, gy, h); y < hi(cy, gy, h); ++y)
        for (int x = lo(cx, gx, w); x < hi(cx, gx, w); ++x, ++n) {
          const size_t i = size_t(y) * w + x;
          fallback += first[i];
          if (v[i] - first[i] <= 0.5f * peak) pool.push_back(v[i]);
        }
      double m = fallback / n;
      if (!pool.empty()) {
        std::nth_element(pool.begin(), pool.begin() + pool.size() / 2, pool.end());
        m = pool[pool.size() / 2];
      }
      level[size_t(cy) * gx + cx] = m;
    }
  // Where position p falls among the centres c: the segment to use and the weight of its end.
  auto locate = [](const std::vector<double>& c, double p, int* a, double* t) {
    const int n = int(c.size());
    if (n == 1) {
      *a = 0, *t = 0;
      return;
    }
    int k = 0;
    while (k < n - 2 && p > c[size_t(k) + 1]) ++k;
    *a = k;
    *t = (p - c[size_t(k)]) / (c[size_t(k) + 1] - c[size_t(k)]);  // below 0 or above 1 beyond the ends
  };
  std::vector<float> out(v.size());
  for (int y = 0; y < h; ++y) {
    int a;
    double u;
    locate(py, y + 0.5, &a, &u);
    const int b = std::min(a + 1, gy - 1);
    for (int x = 0; x < w; ++x) {
      int c;
      double t;
      locate(px, x + 0.5, &c, &t);
      const int d = std::min(c + 1, gx - 1);
      const double top = level[size_t(a) * gx + c] * (1 - t) + level[size_t(a) * gx + d] * t;
      const double bottom = level[size_t(b) * gx + c] * (1 - t) + level[size_t(b) * gx + d] * t;
      out[size_t(y) * w + x] = float(top * (1 - u) + bottom * u);
    }
  }
  return out;
}

// The cw x ch pixels of a w-pixel-wide picture whose top left corner lies at (x0, y0).
std::vector<float> crop(const std::vector<float>& v, int w, int x0, int y0, int cw, int ch) {
  std::vector<float> out(size_t(cw) * ch);
  for (int y = 0; y < ch; ++y) std::copy_n(v.begin() + size_t(y0 + y) * w + x0, cw, out.begin() + size_t(y) * cw);
  return out;
}

// A w x h picture blurred by a Gaussian of `sigma` pixels (separable, its kernel cut at 3
// sigma and renormalised where it meets the picture's edges).
std::vector<float> gaussian_blur(const std::vector<float>& v, int w, int h, double sigma) {
  const int r = std::max(1, int(std::ceil(3 * sigma)));
  std::vector<double> k(size_t(2 * r + 1));
  for (int i = -r; i <= r; ++i) k[size_t(i + r)] = std::exp(-0.5 * i * i / (sigma * sigma));
  return separable(v, w, h, [&](const float* line, float* dst, int n, size_t step) {
    for (int i = 0; i < n; ++i) {
      double acc = 0, wsum = 0;
      for (int j = std::max(0, i - r); j <= std::min(n - 1, i + r); ++j) {
        acc += k[size_t(j - i + r)] * line[size_t(j) * step];
        wsum += k[size_t(j - i + r)];
      }
      dst[size_t(i) * step] = float(acc / wsum);
    }
  });
}

// Every pixel of a w x h picture further than `margin` pixels outside `box` set to `value`.
void clear_outside(std::vector<float>& ink, int w, int h, const InkBox& box, int margin, float value) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x < box.x0 - margin || x > box.x1 + margin || y < box.y0 - margin || y > box.y1 + margin)
        ink[size_t(y) * w + x] = value;
}

// What is left of the noise of a smoothed picture (w x h, light ink on an even dark
// background) is blobs a few pixels wide (of salt-and-pepper noise after the medians, the
// clusters of specks they missed): everything outside the bounding box of the ink's
// pieces (ink_mask, values above a fifth of the peak) that hold at least 10% of its pixels,
// grown by `margin` pixels, is cleared, so the box fit_to_mnist finds is the digit's.
void clear_specks(std::vector<float>& ink, int w, int h, double margin) {
  const float peak = *std::max_element(ink.begin(), ink.end());
  if (peak <= 0) return;
  std::vector<float> unit(ink.size());
  for (size_t i = 0; i < ink.size(); ++i) unit[i] = ink[i] / peak;
  const InkBox box = ink_box(ink_mask(unit, w, h, 0.1), w, h, uint8_t(0));
  if (box.empty()) return;
  clear_outside(ink, w, h, box, int(std::ceil(margin)), 0.0f);
}

// Salt-and-pepper noise (dust on a scan, dead pixels, a file's bit errors) is single pixels at
// the far end of the range from everything around them; the noise estimate, a median, does not
// see it below a tenth of the pixels, and each speck would count as ink. A pixel that differs by
// more than half the range from each of its 8 neighbours is isolated; a clean picture has next
// to none. Where more than kImpulsePicture of the pixels (w x h, values 0-1) are isolated, the
// picture is returned with every pixel further than a third of the range from the median of its
// 3x3 window (clamped at the edges) replaced by that median, and `replaced` says how many: the
// impulses and the pairs they form by chance go, while a stroke two or more pixels wide stays (a
// window on a stroke is mostly stroke). Otherwise nothing is returned.
std::optional<std::vector<float>> without_impulses(const std::vector<float>& v, int w, int h, int* replaced) {
  if (w < 3 || h < 3) return std::nullopt;
  auto px = [&](int x, int y) { return v[size_t(std::clamp(y, 0, h - 1)) * w + std::clamp(x, 0, w - 1)]; };
  int isolated = 0;
  for (int y = 1; y + 1 < h; ++y)
    for (int x = 1; x + 1 < w; ++x) {
      bool alone = true;
      for (int k = 0; k < 9 && alone; ++k)
        if (k != 4) alone = std::abs(px(x, y) - px(x + k % 3 - 1, y + k / 3 - 1)) > 0.5f;
      isolated += alone;
    }
  if (isolated <= kImpulsePicture * (w - 2) * (h - 2)) return std::nullopt;
  std::vector<float> out = v;
  *replaced = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::array<float, 9> window;
      for (int k = 0; k < 9; ++k) window[size_t(k)] = px(x + k % 3 - 1, y + k / 3 - 1);
      std::nth_element(window.begin(), window.begin() + 4, window.end());
      if (float& o = out[size_t(y) * w + x]; std::abs(o - window[4]) > 1.0f / 3) o = window[4], ++*replaced;
    }
  return out;
}

// Ruled lines and grids (a page of a notebook, squared paper) cross the whole picture: taken for
// ink, they make the ink's bounding box as wide (or tall) as the picture and shrink the digit to a
// smudge. `seen` is the picture (w x h, light ink on a dark background) before the paper's level
// was taken off, `ink` after. Lines are followed at every slope of up to kSteepestLine degrees (a page
// photographed askew), and at the slope that finds the most, a line is a ridge in `seen`: all but a
// third of its pixels stand above the darker of the lines `gap` before and after them by more than
// a fifth of the peak of `ink` (what fit_to_mnist's box would count as ink), the median of a
// sixteenth of it, a sixteenth in from each end, stands above a tenth of the peak and half of that
// (a ruled line runs from edge to edge and a printed box's line nearly so; a digit's stroke seldom
// does), in a run of such lines no thicker than a sixteenth of the picture (a digit's bar drawn
// across a close crop is thicker). Along the run and the line on each side of it (what the rounding
// of the slope leaves), each line's level (its median) is taken out of `ink`, the ink crossing it
// kept: v -> (v - level) / (1 - level), in units of the peak, so a "line" as dark as the darkest
// ink (the one stroke of a 1 cropped close) stays. In a picture smoothed with a Gaussian of
// `spread` pixels (0: not smoothed), each line also spread over the kLineSpread x spread lines
// beyond: those are taken out too, each at its own level (its median above the darker of the
// lines `gap` away). Then the same for columns. Pictures under
// kMinLinedPicture pixels a side are left as they are. Returns how many lines (runs of rows or
// columns) were taken out.
//
// Without `seen` (nullptr), `ink` is a picture still on its paper (a noisy picture before it is
// smoothed, where a thin line stands out at its full darkness and the ink crossing it is the
// ink's own): lines are looked for in `ink` itself (the columns after the rows are taken out),
// and each line of the run and the line each side is taken out at its own level above the paper,
// the median along it of how far it stands above the mean of the lines `gap` before and after it
// (the darker of the two, which the search reads, stands below noisy paper by about half the
// noise); the ink crossing a line, darker than the line around it, is kept (below).
int remove_ruled_lines(std::vector<float>& ink, const std::vector<float>* seen_or_null, int w, int h, double spread) {
  if (std::min(w, h) < kMinLinedPicture) return 0;
  const bool on_paper = seen_or_null == nullptr;
  const std::vector<float>& seen = on_paper ? ink : *seen_or_null;
  const float peak = *std::max_element(ink.begin(), ink.end());
  if (peak <= 0) return 0;
  int taken = 0;
  for (bool rows : {true, false}) {
    const int n = rows ? h : w, len = rows ? w : h;  // lines, and the pixels along one
    const int thickest = std::max(2, n / 16), gap = thickest + 1, edge = std::max(2, len / 16);
    const int reach = int(std::ceil(kLineSpread * spread));  // lines a smoothed line spreads to beyond its run
    const int most = int(std::lround(len * std::tan(kSteepestLine * M_PI / 180)));  // the largest drift along a line
    auto index = [&](int line, int i) { return rows ? size_t(line) * w + i : size_t(i) * w + line; };
    std::vector<float> values(static_cast<size_t>(len));
    auto quantile = [&](int first, int count, int k) {
      std::nth_element(values.begin() + first, values.begin() + first + k, values.begin() + first + count);
      return values[size_t(first + k)];
    };
    // Line l drifting by `drift` pixels from one end to the other: its pixel i lies on line
    // at(l, drift, i) (outside the picture where that is below 0 or n or more).
    auto at = [&](int l, int drift, int i) { return l + int(std::lround(double(drift) * (i - len / 2) / len)); };
    // How far pixel i of line k stands above the darker of the lines `gap` before and after it
    // (worked out once: every slope reads it).
    // On paper, how far it stands above their mean too (the line's level).
    std::vector<float> ridges(size_t(n) * len), rises(on_paper ? ridges.size() : 0);
    for (int k = 0; k < n; ++k)
      for (int i = 0; i < len; ++i) {
        const bool has_before = k >= gap, has_after = k + gap < n;
        const float before = has_before ? seen[index(k - gap, i)] : 1e9f;
        const float after = has_after ? seen[index(k + gap, i)] : 1e9f;
        ridges[size_t(k) * len + i] = (seen[index(k, i)] - std::min(before, after)) / peak;
        if (on_paper)
          rises[size_t(k) * len + i] =
              (seen[index(k, i)] - (has_before && has_after ? 0.5f * (before + after) : std::min(before, after))) /
              peak;
      }
    auto ridge = [&](int k, int i) { return ridges[size_t(k) * len + i]; };
    // The level of each line at one drift (0: none), and how many lines were found.
    std::vector<int> shift(static_cast<size_t>(len));  // at(0, drift, i) for one drift
    auto levels = [&](int drift, std::vector<float>& level) {
      level.assign(size_t(n), 0.0f);
      for (int i = 0; i < len; ++i) shift[size_t(i)] = at(0, drift, i);
      int count = 0;
      for (int l = 0; l < n; ++l) {
        // The pixels of the line inside the picture, i0..i1 (at() moves one way along i); near
        // its ends it is looked at first, and most lines of a picture without ruled lines stop
        // there.
        auto inside = [&](int i) { return l + shift[size_t(i)] >= 0 && l + shift[size_t(i)] < n; };
        int i0 = 0, i1 = len - 1;
        while (i0 < len && !inside(i0)) ++i0;
        while (i1 >= i0 && !inside(i1)) --i1;
        const int valid = i1 - i0 + 1;
        if (valid < 4 * edge) continue;
        // The lower of the medians of what `read` gives over `stretch` pixels a sixteenth in from
        // each end.
        auto ends = [&](auto read, int stretch) {
          float lo = 1e9f;
          for (int first : {i0 + edge, i1 - edge - stretch + 1}) {
            for (int j = 0; j < stretch; ++j) values[size_t(j)] = read(first + j);
            lo = std::min(lo, quantile(0, stretch, stretch / 2));
          }
          return lo;
        };
        const float lo = ends([&](int i) { return ridge(l + shift[size_t(i)], i); }, edge);
        if (lo <= 0.1f) continue;
        for (int i = i0; i <= i1; ++i) values[size_t(i - i0)] = ridge(l + shift[size_t(i)], i);
        const float q = quantile(0, valid, valid / 3);
        if (q <= 0.2f || lo < 0.5f * q) continue;
        level[size_t(l)] = std::min(quantile(0, valid, valid / 2), 0.99f);
        if (on_paper) {
          // Noise lifts the ridge over the darker side (the paper's grain, the more so where it is
          // clipped at white); over the mean it does not: the line must stand above the mean of
          // the lines beside it as well, along it and near both ends (there over twice the stretch,
          // a sixteenth to three sixteenths in: over a short one, the noise's chance highs are
          // many among the strokes tried).
          auto rise = [&](int i) { return rises[size_t(l + shift[size_t(i)]) * len + i]; };
          const float rise_lo = ends(rise, 2 * edge);
          for (int i = i0; i <= i1; ++i) values[size_t(i - i0)] = rise(i);
          const float along = quantile(0, valid, valid / 2);
          if (along <= 0.2f || rise_lo <= 0.1f || rise_lo < 0.5f * along) {
            level[size_t(l)] = 0;
            continue;
          }
        }
        ++count;
      }
      return count;
    };
    std::vector<float> level, best_level;
    int best = 0, best_drift = 0;
    for (int d = 0; d <= most; d = d > 0 ? -d : 1 - d) {  // 0, 1, -1, 2, -2, ...
      const int count = levels(d, level);
      if (count > best) best = count, best_drift = d, best_level = level;
    }
    if (best == 0) continue;
    // The median along line m (at the best drift) of what `of` reads at each of its pixels.
    auto median_along = [&](int m, auto of) {
      int count = 0;
      for (int i = 0; i < len; ++i)
        if (const int k = at(m, best_drift, i); k >= 0 && k < n) values[size_t(count++)] = of(k, i);
      return count > 0 ? quantile(0, count, count / 2) : 0.0f;
    };
    std::vector<char> spread_done(size_t(n), 0);
    std::vector<float> local(static_cast<size_t>(len));  // on paper: the median around each pixel of one line (below)
    for (int l = 0; l < n;) {
      int end = l;
      while (end < n && best_level[size_t(end)] > 0) ++end;
      if (end > l && end - l <= thickest) {
        ++taken;
        // The run and a line each side, and in a smoothed picture the lines it spread to (once, and
        // none of another run's), each at its own level.
        for (int m = std::max(0, l - 1 - reach); m < std::min(n, end + 1 + reach); ++m) {
          float q = best_level[size_t(std::clamp(m, l, end - 1))];
          if (on_paper) {  // each line once (the line beside one run can be the line beside the next)
            if (spread_done[size_t(m)]) continue;
            spread_done[size_t(m)] = 1;
            q = std::clamp(median_along(m, [&](int k, int i) { return rises[size_t(k) * len + i]; }), 0.0f, 0.99f);
          } else if (m < l - 1 || m > end) {
            if (spread_done[size_t(m)] || best_level[size_t(m)] > 0) continue;
            spread_done[size_t(m)] = 1;
            q = std::clamp(median_along(m, ridge), 0.0f, 0.99f);
          }
          if (q <= 0) continue;
          if (!on_paper) {
            for (int i = 0; i < len; ++i)
              if (const int k = at(m, best_drift, i); k >= 0 && k < n) {
                float& v = ink[index(k, i)];
                v = peak * std::max(0.0f, v / peak - q) / (1 - q);
              }
            continue;
          }
          // On noisy paper: what each pixel's neighbourhood along the line reads (the median of
          // kLineWindow pixels: a pixel beside a stroke still reads as line, one at the stroke's
          // edge as ink) tells the line from ink crossing it. Up to the line's median of those and
          // twice their spread (1.4826 x their median absolute deviation), a pixel is line and
          // loses the line's level whole (its noise kept as it is); from twice as far it is ink and
          // is kept; between, it loses a share.
          std::array<float, kLineWindow> window;
          int count = 0;
          for (int i = 0; i < len; ++i) {
            const int k = at(m, best_drift, i);
            if (k < 0 || k >= n) continue;
            int inside = 0;
            for (int j = std::max(0, i - kLineWindow / 2); j <= std::min(len - 1, i + kLineWindow / 2); ++j)
              if (const int kj = at(m, best_drift, j); kj >= 0 && kj < n) window[size_t(inside++)] = seen[index(kj, j)];
            std::nth_element(window.begin(), window.begin() + inside / 2, window.begin() + inside);
            local[size_t(i)] = window[size_t(inside / 2)];
            values[size_t(count++)] = local[size_t(i)];
          }
          const float a = quantile(0, count, count / 2);
          for (int c = 0; c < count; ++c) values[size_t(c)] = std::abs(values[size_t(c)] - a);
          const float spread = 1.4826f * quantile(0, count, count / 2) + 1e-6f;
          const float line_to = a + 2 * spread, ink_from = a + 4 * spread;
          for (int i = 0; i < len; ++i)
            if (const int k = at(m, best_drift, i); k >= 0 && k < n) {
              float& v = ink[index(k, i)];
              const float share = std::clamp((ink_from - local[size_t(i)]) / (ink_from - line_to), 0.0f, 1.0f);
              v = std::max(0.0f, v - peak * q * share);
            }
        }
      }
      l = std::max(end, l + 1);
    }
  }
  return taken;
}

// Otsu's threshold between the two classes of values in v (dark and light): the level that
// makes the variance between the classes largest, on a 256-bin histogram of v's range.
float two_class_threshold(const std::vector<float>& v) {
  const auto [lo_it, hi_it] = std::minmax_element(v.begin(), v.end());
  const double lo = *lo_it, hi = *hi_it;
  if (hi <= lo) return float(hi);
  constexpr int kBins = 256;
  std::vector<double> count(kBins, 0.0);
  for (float x : v) count[std::min(kBins - 1, int((x - lo) / (hi - lo) * kBins))] += 1;
  double total = 0, sum = 0;
  for (int b = 0; b < kBins; ++b) total += count[b], sum += b * count[b];
  double below = 0, below_sum = 0, best = -1;
  int cut = 0;
  for (int b = 0; b < kBins - 1; ++b) {
    below += count[b], below_sum += b * count[b];
    const double above = total - below;
    if (below == 0 || above == 0) continue;
    const double m0 = below_sum / below, m1 = (sum - below_sum) / above;
    const double between = below * above * (m0 - m1) * (m0 - m1);
    if (between > best) best = between, cut = b;
  }
  return float(lo + (cut + 1) * (hi - lo) / kBins);
}

// The background level of light ink on a dark background: the median pixel, where the
// background is most of the picture; the median of the dark class (two_class_threshold) where
// the ink is, as in a bold digit cropped close.
float background_level(const std::vector<float>& ink) {
  std::vector<float> values = ink;
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  const float median = values[values.size() / 2];
  // Half the picture or more at its darkest level (any digit on a clean background, every
  // digit training makes from MNIST's): the dark class holds at least that half, so the
  // median is the answer without the histogram.
  if (median <= *std::min_element(ink.begin(), ink.end())) return median;
  const float cut = two_class_threshold(ink);
  std::vector<float> dark;
  for (float x : ink)
    if (x < cut) dark.push_back(x);
  if (2 * dark.size() >= ink.size() || dark.empty()) return median;
  std::nth_element(dark.begin(), dark.begin() + dark.size() / 2, dark.end());
  return dark[dark.size() / 2];
}

// The segments of a JPEG (bytes starting with its start-of-image marker), walked as stb_image
// walks them: any byte that does not start a marker is passed over one at a time (padding,
// damage, entropy-coded data, whose 0xFF bytes are followed by 0 or a restart marker); a
// segment is skipped by its length field; the walk ends at the end-of-image marker or the end
// of the file. `visit(marker, at, length)` sees each segment with a length field (`at`: the
// field's offset; bytes past the end of the file read as 0) and returns false to stop.
template <typename Visit>
void walk_jpeg_segments(const std::vector<uint8_t>& b, Visit visit) {
  const size_t n = b.size();
  auto at = [&](size_t i) -> size_t { return i < n ? b[i] : 0; };
  size_t pos = 2;
  while (pos < n) {
    if (b[pos++] != 0xFF) continue;
    while (pos < n && b[pos] == 0xFF) ++pos;  // fill bytes before a marker
    if (pos >= n) return;
    const uint8_t marker = b[pos++];
    if (marker == 0xD9) return;                                                            // end of image
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no segment
    const size_t length = at(pos) << 8 | at(pos + 1);
    if (!visit(marker, pos, length)) return;
    pos += std::max<size_t>(length, 2);
  }
}

bool is_jpeg(const std::vector<uint8_t>& b) { return b.size() >= 4 && b[0] == 0xFF && b[1] == 0xD8; }

// stb_image 2.27 (Debian's libstb-dev) writes past a Huffman table of a JPEG whose table
// segment declares more than 256 codes (stb_image 2.28 refuses it): every such segment of a
// JPEG is checked first, and the file refused naming `path`. Other files pass.
void check_jpeg_tables(const std::vector<uint8_t>& b, const std::string& path) {
  if (!is_jpeg(b)) return;
  auto at = [&](size_t i) -> uint32_t { return i < b.size() ? b[i] : 0; };
  walk_jpeg_segments(b, [&](uint8_t marker, size_t pos, size_t length) {
    if (marker == 0xC4) {  // DHT: tables of (class/id, 16 code counts, the codes)
      for (int64_t left = int64_t(length) - 2, q = int64_t(pos) + 2; left > 0;) {
        int codes = 0;
        for (int i = 1; i <= 16; ++i) codes += int(at(size_t(q) + i));
        DUET_CHECK(codes <= 256, path, ": corrupt JPEG (a Huffman table of ", codes, " codes; at most 256)");
        q += 17 + codes, left -= 17 + codes;
      }
    }
    return true;
  });
}

}  // namespace

Tensor ImageSet::batch(const std::vector<int64_t>& idx, const ImageAugment& aug, Rng& rng, Device device,
                       const std::vector<ImageEffects>& effects) const {
  const int64_t B = int64_t(idx.size());
  DUET_CHECK(effects.empty() || int64_t(effects.size()) == B, "ImageSet::batch: ", effects.size(), " effects for ", B,
             " images");
  Tensor x = Tensor::empty({B, 1, 28, 28});
  float* out = x.data<float>();
  DUET_CHECK(aug.min_occlude >= 1 && aug.min_occlude <= aug.max_occlude && aug.max_occlude <= 28,
             "ImageAugment: occlusion sides ", aug.min_occlude, "..", aug.max_occlude,
             " (expected 1 <= min <= max <= 28)");
  DUET_CHECK(aug.lowres_min >= 2 && aug.lowres_min <= aug.lowres_max, "ImageAugment: low-resolution sides ",
             aug.lowres_min, "..", aug.lowres_max, " (expected 2 <= min <= max)");
  const int64_t K = int64_t(basis_.size() / 784);
  // The pictures are made side by side (make_examples), each drawing from its own generator,
  // seeded from one draw of rng and the picture's place in the batch.
  const uint64_t batch_seed = rng.next_u64();
  // One picture of the batch into out[b]. Its rng is the picture's own generator (and hides
  // the batch's).
  auto make_picture = [&](int64_t b, Rng& rng) {
    ImageEffects fx = effects.empty() ? ImageEffects{} : effects[b];
    if (aug.enabled) {  // training noise and occlusion join any effect asked for (the stronger wins)
      if (aug.noise_prob > 0 && rng.uniform() < aug.noise_prob)
        fx.noise = std::max(fx.noise, rng.uniform(0.0, aug.max_noise));
      if (aug.occlude_prob > 0 && rng.uniform() < aug.occlude_prob)
        fx.occlude = std::max(fx.occlude, aug.min_occlude + int(rng.randint(aug.max_occlude - aug.min_occlude + 1)));
      if (aug.lowres_prob > 0 && rng.uniform() < aug.lowres_prob) {
        const int side = aug.lowres_min + int(rng.randint(aug.lowres_max - aug.lowres_min + 1));
        fx.lowres = fx.lowres > 0 ? std::min(fx.lowres, side) : side;
      }
    }
    const uint8_t* img = pixels(idx[b]);
    std::vector<uint8_t> printed;
    if (aug.enabled && aug.printed_prob > 0 && rng.uniform() < aug.printed_prob) {
      printed = render_printed_digit(label(idx[b]), -1, rng);
      img = printed.data();
    }
    float* o = out + b * 784;
    if (aug.enabled) {
      // Inverse map: output pixel -> source pixel through rotation, scale, shear, shift about the centre.
      const double a = rng.uniform(-aug.max_rotate_deg, aug.max_rotate_deg) * M_PI / 180;
      const double s = rng.uniform(aug.scale_min, aug.scale_max), sh = rng.uniform(-aug.max_shear, aug.max_shear);
      const double tx = rng.uniform(-aug.max_shift_px, aug.max_shift_px), ty = rng.uniform(-aug.max_shift_px, aug.max_shift_px);
      const double c = std::cos(a) / s, sn = std::sin(a) / s;
      for (int y = 0; y < 28; ++y)
        for (int xx = 0; xx < 28; ++xx) {
          const double u = xx - 13.5 - tx, v = y - 13.5 - ty;
          const double sx = c * u + sn * v + sh * v + 13.5, sy = -sn * u + c * v + 13.5;
          o[y * 28 + xx] = float(sample(img, sx, sy)) / 255.0f;
        }
    } else {
      for (int i = 0; i < 784; ++i) o[i] = img[i] / 255.0f;
    }
    if (aug.enabled && aug.widen_prob > 0 && rng.uniform() < aug.widen_prob) {
      const std::vector<float> wide = widen(o, rng.uniform());
      std::copy(wide.begin(), wide.end(), o);
    }
    if (aug.enabled && aug.thicken_prob > 0 && rng.uniform() < aug.thicken_prob) {
      const std::vector<float> bold = thicken(o, rng.uniform(0.0, aug.max_thicken));
      std::copy(bold.begin(), bold.end(), o);
    }
    if (fx.lowres > 0) {  // a coarse picture, enlarged and prepared as duet predict prepares one
      const std::vector<float> back = low_resolution(o, fx.lowres, rng);
      std::copy(back.begin(), back.end(), o);
    }
    if (fx.pen > 0 && *std::max_element(o, o + 784) > 0.1f) {  // drawn with a pen (a blank stays blank), then
                                                                // prepared as duet predict prepares a picture
      const std::vector<float> back = to_mnist_form(pen_drawing(o, fx.pen), kPenSide, kPenSide);
      std::copy(back.begin(), back.end(), o);
    }
    if (fx.photo) {  // photographed, then prepared as duet predict prepares a picture
      const std::vector<float> back = to_mnist_form(photograph(o, rng), kPhotoSide, kPhotoSide);
      std::copy(back.begin(), back.end(), o);
    }
    if (fx.file_noise > 0 || fx.file_salt > 0) {  // a noisy or speckled 8-bit file, read as predict reads one
      std::vector<uint8_t> file(784);
      for (int i = 0; i < 784; ++i) {
        double v = o[i] + (fx.file_noise > 0 ? fx.file_noise * rng.normal() : 0.0);
        if (fx.file_salt > 0 && rng.uniform() < fx.file_salt) v = rng.uniform() < 0.5 ? 0 : 1;
        file[size_t(i)] = uint8_t(std::lround(std::clamp(v * 255.0, 0.0, 255.0)));
      }
      std::vector<float> back(784, 0.0f);
      try {
        back = to_mnist_form(file, 28, 28);
      } catch (const Error&) {  // found blank (duet predict would refuse it): read as an empty picture
      }
      std::copy(back.begin(), back.end(), o);
    }
    if (K > 0) {  // keep only the coarse shape: the projection onto the top components
      std::vector<double> rec(basis_mean_.begin(), basis_mean_.end());
      for (int64_t c = 0; c < K; ++c) {
        const float* v = basis_.data() + c * 784;
        double dot = 0;
        for (int i = 0; i < 784; ++i) dot += (o[i] - basis_mean_[i]) * v[i];
        for (int i = 0; i < 784; ++i) rec[i] += dot * v[i];
      }
      for (int i = 0; i < 784; ++i) o[i] = float(rec[i]);
    }
    if (fx.occlude > 0) {
      const int x0 = int(rng.randint(28 - fx.occlude + 1)), y0 = int(rng.randint(28 - fx.occlude + 1));
      for (int y = y0; y < y0 + fx.occlude; ++y)
        for (int xx = x0; xx < x0 + fx.occlude; ++xx) o[y * 28 + xx] = 0.0f;
    }
    for (int i = 0; i < 784; ++i) {
      if (fx.blank) o[i] = 0.0f;
      else if (fx.noise > 0) o[i] += float(fx.noise * rng.normal());
      o[i] = (o[i] - mean_) / std_;
    }
  };
  make_examples(B, batch_seed, make_picture);
  return x.to(device);
}

void ImageSet::set_projection(std::vector<float> basis, std::vector<float> mean) {
  DUET_CHECK(basis.size() % 784 == 0 && mean.size() == 784, "ImageSet: bad projection");
  basis_ = std::move(basis);
  basis_mean_ = std::move(mean);
}

void ImageSet::principal_components(int64_t max_images, double energy, std::vector<float>* basis,
                                    std::vector<float>* mean) const {
  const int64_t n = std::min(max_images, count_);
  std::vector<double> X(size_t(n) * 784), mu(784, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < 784; ++j) mu[j] += pixels(i)[j] / 255.0 / double(n);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < 784; ++j) X[size_t(i) * 784 + j] = pixels(i)[j] / 255.0 - mu[j];
  std::vector<double> C(784 * 784);  // covariance, then deflated as components are found
  ops::gemm_cpu<double>(true, false, 784, 784, n, 1.0 / double(n), X.data(), 784, X.data(), 784, 0.0, C.data(), 784);
  double total = 0;
  for (int j = 0; j < 784; ++j) total += C[j * 785];
  basis->clear();
  mean->assign(mu.begin(), mu.end());
  Rng rng(11);
  double kept = 0;
  while (kept < energy * total && basis->size() < 784 * 64) {
    std::vector<double> v(784), w(784);
    for (auto& e : v) e = rng.normal();
    double lambda = 0;
    for (int it = 0; it < 300; ++it) {  // power iteration
      for (int r = 0; r < 784; ++r) {
        double acc = 0;
        for (int c = 0; c < 784; ++c) acc += C[r * 784 + c] * v[c];
        w[r] = acc;
      }
      double norm = 0;
      for (double e : w) norm += e * e;
      norm = std::sqrt(norm);
      if (norm == 0) break;
      for (int r = 0; r < 784; ++r) v[r] = w[r] / norm;
      lambda = norm;
    }
    for (int r = 0; r < 784; ++r)
      for (int c = 0; c < 784; ++c) C[r * 784 + c] -= lambda * v[r] * v[c];
    kept += lambda;
    for (double e : v) basis->push_back(float(e));
  }
}

std::vector<uint8_t> photograph(const float* digit28, Rng& rng) {
  const int scale = 2, pad = (kPhotoSide - 28 * scale) / 2, n = kPhotoSide;
  const double paper = rng.uniform(200, 245), ink = rng.uniform(20, 70);
  const double angle = rng.uniform(0, 2 * M_PI), ramp = rng.uniform(40, 110);
  std::vector<uint8_t> out(size_t(n) * n);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      // The digit's ink at this pixel's centre.
      const double v = std::clamp(sample(digit28, (x - pad + 0.5) / scale - 0.5, (y - pad + 0.5) / scale - 0.5), 0.0, 1.0);
      // The light falls off along a random direction, the paper by `ramp` levels across the
      // picture (a little more in the far corner); ink and paper reflect their share of it.
      const double u = ((x + 0.5) / n - 0.5) * std::cos(angle) + ((y + 0.5) / n - 0.5) * std::sin(angle);
      const double light = 1 - ramp / paper * (u + 0.5);
      const double value = light * (paper * (1 - v) + ink * v) + 4 * rng.normal();
      out[size_t(y) * n + x] = uint8_t(std::lround(std::clamp(value, 0.0, 255.0)));
    }
  return out;
}

std::vector<float> low_resolution(const float* digit28, int side, Rng& rng) {
  DUET_CHECK(side >= 2, "low resolution: a digit needs at least 2 pixels a side, got ", side);
  std::vector<float> digit(digit28, digit28 + 784);
  // The ink's bounding box says how far to shrink.
  const std::optional<InkBox> box = digit_box(digit);
  if (!box) return digit;  // no digit to shrink (a blank picture)
  const double scale = double(side) / std::max(box->width(), box->height());
  if (scale >= 1) return digit;  // already that coarse
  // The coarse grid lies at a random offset to the digit (where a camera's pixels fall).
  const double gx = -rng.uniform(0.0, 1.0 / scale), gy = -rng.uniform(0.0, 1.0 / scale);
  const int lw = int(std::ceil((28 - gx) * scale)), lh = int(std::ceil((28 - gy) * scale));
  const std::vector<float> coarse = area_resize(digit, 28, 28, gx, gy, scale, lw, lh);
  // Enlarged 4x (bilinear), as a viewer shows a small picture, then brought to MNIST form.
  const int W = 4 * lw, H = 4 * lh;
  std::vector<float> big(size_t(W) * H);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      big[size_t(y) * W + x] = float(sample(coarse.data(), (x + 0.5) / 4 - 0.5, (y + 0.5) / 4 - 0.5, lw, lh));
  if (*std::max_element(big.begin(), big.end()) <= 0.1f) return digit;  // too faint to find again
  return fit_to_mnist(std::move(big), W, H);
}

std::vector<float> widen(const float* digit28, double amount) {
  DUET_CHECK(amount >= 0 && amount <= 1, "widen: an amount in [0, 1], got ", amount);
  std::vector<float> digit(digit28, digit28 + 784);
  const std::optional<InkBox> box = digit_box(digit);
  if (!box || box->width() >= box->height()) return digit;  // blank, or already as wide as tall
  const double f = 1 + amount * (double(box->height()) / box->width() - 1);
  if (f <= 1.0) return digit;  // amount 0
  // Sampled onto a canvas f times as wide (bilinear), then fitted as duet predict fits a picture.
  const int W = int(std::ceil(28 * f));
  std::vector<float> wide(size_t(W) * 28);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < W; ++x) wide[size_t(y) * W + x] = float(sample(digit.data(), (x + 0.5) / f - 0.5, y, 28, 28));
  return fit_to_mnist(std::move(wide), W, 28);
}

std::vector<float> thicken(const float* digit28, double radius) {
  DUET_CHECK(radius >= 0 && radius <= 3, "thicken: a radius in [0, 3] pixels, got ", radius);
  std::vector<float> digit(digit28, digit28 + 784);
  if (!digit_box(digit) || radius == 0) return digit;  // blank, or nothing to do
  // Drawn on a canvas with room around the field, so that strokes near its edge can grow, and
  // so that the background is most of the canvas however bold the digit (fit_to_mnist's
  // background level is then the median pixel, 0).
  constexpr int kMargin = 6, kSide = 28 + 2 * kMargin;
  std::vector<float> canvas(size_t(kSide) * kSide, 0.0f);
  std::vector<std::pair<int, int>> ink;  // the stroke: pixels at least half inked
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      canvas[size_t(y + kMargin) * kSide + x + kMargin] = digit[y * 28 + x];
      if (digit[y * 28 + x] >= 0.5f) ink.emplace_back(x + kMargin, y + kMargin);
    }
  if (ink.empty()) return digit;
  // The squared distance to the nearest stroke pixel, where the pen reaches. The pen covers a
  // pixel less than radius + 1 from a stroke pixel's centre, so at most ceil(radius) pixels
  // away along each axis: each stroke pixel looks only that far around it.
  const int reach = int(std::ceil(radius));
  std::vector<int> dist2(size_t(kSide) * kSide, std::numeric_limits<int>::max());
  for (const auto& [ix, iy] : ink)
    for (int y = std::max(0, iy - reach); y <= std::min(kSide - 1, iy + reach); ++y)
      for (int x = std::max(0, ix - reach); x <= std::min(kSide - 1, ix + reach); ++x) {
        int& d2 = dist2[size_t(y) * kSide + x];
        d2 = std::min(d2, (x - ix) * (x - ix) + (y - iy) * (y - iy));
      }
  for (size_t i = 0; i < canvas.size(); ++i) {
    if (dist2[i] == std::numeric_limits<int>::max()) continue;
    // The share of this pixel the pen covers, across the stroke's direction: the stroke's
    // edge lies half a pixel beyond the nearest stroke pixel's centre, the pen `radius`
    // beyond that, and this pixel spans d - 0.5 .. d + 0.5 from that centre.
    const double pen = std::clamp(radius + 1 - std::sqrt(double(dist2[i])), 0.0, 1.0);
    canvas[i] = std::max(canvas[i], float(pen));
  }
  return fit_to_mnist(std::move(canvas), kSide, kSide);
}

std::vector<uint8_t> pen_drawing(const float* digit28, double width) {
  DUET_CHECK(width > 0 && width <= 0.5, "pen drawing: a pen width in (0, 0.5] of the digit's height, got ", width);
  constexpr int k = kPenSide / 28;
  const float half = 0.5f * *std::max_element(digit28, digit28 + 784);  // a faint digit has strokes too
  std::vector<uint8_t> mask(size_t(kPenSide) * kPenSide);
  for (int y = 0; y < kPenSide; ++y)
    for (int x = 0; x < kPenSide; ++x)
      mask[size_t(y) * kPenSide + x] = half > 0 && sample(digit28, (x + 0.5) / k - 0.5, (y + 0.5) / k - 0.5) > half;
  const std::vector<uint8_t> lines = centrelines(mask, kPenSide, kPenSide);
  std::vector<uint8_t> out(lines.size(), 230);
  // The pen's width in pixels: `width` of the longer side of the digit's ink.
  const InkBox box = ink_box(mask, kPenSide, kPenSide, uint8_t(0));
  const double px = width * std::max(box.width(), box.height());
  if (px <= 1) {  // a pen no wider than a pixel: the centrelines themselves
    for (size_t i = 0; i < out.size(); ++i)
      if (lines[i]) out[i] = 40;
    return out;
  }
  const std::vector<float> cover = draw_centrelines(lines, kPenSide, kPenSide, Placement{}, px / 2, kPenSide, kPenSide, 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(std::lround(230 - 190 * cover[i]));
  return out;
}

std::vector<uint8_t> flatten_alpha(const std::vector<uint8_t>& grey_alpha, int w, int h, PictureFile* file) {
  const size_t n = size_t(w) * h;
  DUET_CHECK(w > 0 && h > 0 && grey_alpha.size() == 2 * n, "flatten_alpha: expected ", w, "x", h,
             " grey and alpha pairs, got ", grey_alpha.size(), " bytes");
  if (file) *file = PictureFile{};
  std::vector<uint8_t> grey(n);
  int top = 0;  // the highest alpha
  bool opaque_everywhere = true;
  for (size_t i = 0; i < n; ++i) {
    grey[i] = grey_alpha[2 * i];
    top = std::max<int>(top, grey_alpha[2 * i + 1]);
    opaque_everywhere = opaque_everywhere && grey_alpha[2 * i + 1] == 255;
  }
  if (opaque_everywhere) return grey;
  DUET_CHECK(top > 0, "the picture is transparent everywhere: no digit to read");
  auto opaque = [&](size_t i) { return 2 * int(grey_alpha[2 * i + 1]) >= top; };
  auto median = [](std::vector<uint8_t> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return int(v[v.size() / 2]);
  };
  std::vector<uint8_t> tones, edge;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = size_t(y) * w + x;
      if (!opaque(i)) continue;
      tones.push_back(grey[i]);
      const bool by_transparent = (x > 0 && !opaque(i - 1)) || (x + 1 < w && !opaque(i + 1)) ||
                                  (y > 0 && !opaque(i - w)) || (y + 1 < h && !opaque(i + w));
      if (by_transparent) edge.push_back(grey[i]);
    }
  const int m = median(tones);
  const auto near = std::count_if(tones.begin(), tones.end(), [&](uint8_t t) { return std::abs(t - m) <= 48; });
  const bool strokes = double(near) >= kUniformInk * double(tones.size());
  const int bg = strokes ? (m < 128 ? 255 : 0) : median(edge.empty() ? tones : edge);
  double clear = 0;
  for (size_t i = 0; i < n; ++i) {
    const int a = grey_alpha[2 * i + 1];
    grey[i] = uint8_t((grey[i] * a + bg * (255 - a) + 127) / 255);
    clear += 255 - a;
  }
  if (file) *file = PictureFile{clear / 255 / double(n), bg, strokes};
  return grey;
}

namespace {

// The orientation tag of an EXIF block that starts with its TIFF header (byte order, 42, the
// first directory's offset): the first directory's entry 0x0112, a SHORT of 1-8; 1 when the
// block holds none or cannot be read. Every offset is checked against the block.
int tiff_orientation(const uint8_t* t, size_t n) {
  if (n < 8) return 1;
  const bool little = t[0] == 'I' && t[1] == 'I';
  if (!little && !(t[0] == 'M' && t[1] == 'M')) return 1;
  auto u16 = [&](size_t i) -> uint32_t { return little ? t[i] | t[i + 1] << 8 : t[i] << 8 | t[i + 1]; };
  auto u32 = [&](size_t i) -> uint32_t { return little ? u16(i) | u16(i + 2) << 16 : u16(i) << 16 | u16(i + 2); };
  if (u16(2) != 42) return 1;
  const size_t directory = u32(4);
  if (directory > n - 2) return 1;
  const size_t entries = u16(directory);
  for (size_t k = 0; k < entries; ++k) {
    const size_t e = directory + 2 + 12 * k;
    if (e > n - 12) return 1;
    if (u16(e) != 0x0112) continue;
    const uint32_t type = u16(e + 2), count = u32(e + 4), value = u16(e + 8);  // a SHORT sits in the value field
    return type == 3 && count == 1 && value >= 1 && value <= 8 ? int(value) : 1;
  }
  return 1;
}

}  // namespace

int exif_orientation(const std::vector<uint8_t>& b) {
  const size_t n = b.size();
  auto be16 = [&](size_t i) { return size_t(b[i]) << 8 | b[i + 1]; };
  if (is_jpeg(b)) {  // JPEG: an APP1 "Exif" segment before the first scan
    int orientation = 1;
    walk_jpeg_segments(b, [&](uint8_t marker, size_t pos, size_t length) {
      if (marker == 0xDA || length < 2 || length > n - pos) return false;  // the scan, or a segment past the end
      static constexpr uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
      const uint8_t* data = b.data() + pos + 2;
      if (marker != 0xE1 || length < 2 + 6 || !std::equal(kExif, kExif + 6, data)) return true;
      orientation = tiff_orientation(data + 6, length - 2 - 6);
      return false;
    });
    return orientation;
  }
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (n >= 8 && std::equal(kPng, kPng + 8, b.begin())) {  // PNG: an eXIf chunk (raw TIFF), before IEND
    size_t pos = 8;
    while (pos + 12 <= n) {
      const size_t length = be16(pos) << 16 | be16(pos + 2);
      const std::string type(b.begin() + long(pos + 4), b.begin() + long(pos + 8));
      if (type == "IEND" || length > n - pos - 12) return 1;
      if (type == "eXIf") return tiff_orientation(b.data() + pos + 8, length);
      pos += 12 + length;
    }
  }
  return 1;
}

std::vector<uint8_t> upright(const std::vector<uint8_t>& grey, int* w, int* h, int orientation) {
  const int sw = *w, sh = *h;
  DUET_CHECK(sw > 0 && sh > 0 && grey.size() == size_t(sw) * sh, "upright: expected ", sw, "x", sh, " pixels, got ",
             grey.size());
  DUET_CHECK(orientation >= 1 && orientation <= 8, "upright: an EXIF orientation is 1-8, got ", orientation);
  if (orientation == 1) return grey;
  const bool swap = orientation >= 5;
  const int ow = swap ? sh : sw, oh = swap ? sw : sh;
  std::vector<uint8_t> out(grey.size());
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      int sx = x, sy = y;  // the stored pixel shown at (x, y)
      switch (orientation) {
        case 2: sx = sw - 1 - x; break;
        case 3: sx = sw - 1 - x, sy = sh - 1 - y; break;
        case 4: sy = sh - 1 - y; break;
        case 5: sx = y, sy = x; break;
        case 6: sx = y, sy = sh - 1 - x; break;
        case 7: sx = sw - 1 - y, sy = sh - 1 - x; break;
        case 8: sx = sw - 1 - y, sy = x; break;
      }
      out[size_t(y) * ow + x] = grey[size_t(sy) * sw + sx];
    }
  *w = ow, *h = oh;
  return out;
}

std::string picture_format_of(const std::vector<uint8_t>& b) {
  auto starts = [&](size_t at, const char* magic, size_t n) {
    return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
  };
  if (starts(4, "ftyp", 4) && b.size() >= 12) {
    const std::string brand(b.begin() + 8, b.begin() + 12);
    if (brand == "avif" || brand == "avis") return "an AVIF picture";
    if (brand.rfind("he", 0) == 0 || brand == "mif1" || brand == "msf1") return "a HEIC picture (an iPhone's photo)";
  }
  if (starts(0, "RIFF", 4) && starts(8, "WEBP", 4)) return "a WebP picture";
  if (starts(0, "II*\0", 4) || starts(0, "MM\0*", 4)) return "a TIFF picture";
  if (starts(0, "\xFF\x0A", 2) || starts(0, "\0\0\0\x0CJXL \r\n\x87\n", 12)) return "a JPEG XL picture";
  if (starts(0, "\0\0\0\x0CjP  \r\n\x87\n", 12) || starts(0, "\xFF\x4F\xFF\x51", 4)) return "a JPEG 2000 picture";
  const std::string head(b.begin(), b.begin() + long(std::min<size_t>(b.size(), 256)));
  if (head.find("<svg") != std::string::npos) return "an SVG drawing";
  if (starts(0, "%PDF", 4)) return "a PDF document";
  return "";
}

std::vector<uint8_t> load_gray_image(const std::string& path, int* w, int* h, PictureFile* file) {
  DUET_CHECK(!std::filesystem::is_directory(path), path, ": is a folder, not a picture");
  std::ifstream in(path, std::ios::binary);
  DUET_CHECK(in, path, ": cannot open the picture");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  DUET_CHECK(!in.bad(), path, ": read failed");
  DUET_CHECK(bytes.size() < (size_t(1) << 31), path, ": ", bytes.size(), " bytes is too large for a picture");
  check_jpeg_tables(bytes, path);
  // A damaged header can claim a picture far larger than its file (a 2 KB BMP "40 x 15
  // million"), which the decoder would allocate and fill; the size is checked first.
  int channels = 0;
  if (stbi_info_from_memory(bytes.data(), int(bytes.size()), w, h, &channels)) {
    const int64_t width = std::abs(int64_t(*w)), height = std::abs(int64_t(*h));  // a top-down BMP's height is < 0
    DUET_CHECK(width > 0 && height > 0, path, ": the picture's header gives it no pixels (", *w, "x", *h, ")");
    DUET_CHECK(width * height <= kMaxPicturePixels, path, ": the picture is ", width, "x", height, " pixels (",
               width * height / 1000000, " megapixels); duet reads pictures of up to ", kMaxPicturePixels / 1000000,
               " megapixels (shrink it first)");
  }
  // Grey and alpha: every format stb_image reads comes as that (alpha 255 where it has none), a
  // PNG's transparent colour (tRNS) included.
  unsigned char* p = stbi_load_from_memory(bytes.data(), int(bytes.size()), w, h, &channels, 2);
  if (!p) {
    const std::string other = picture_format_of(bytes);
    DUET_CHECK(other.empty(), path, ": ", other, ", a format duet does not read; convert it to PNG or JPEG first");
  }
  DUET_CHECK(p, path, ": cannot read image (", stbi_failure_reason(), ")");
  const std::vector<uint8_t> grey_alpha(p, p + 2 * size_t(*w) * *h);
  stbi_image_free(p);
  DUET_CHECK(*w >= 4 && *h >= 4, path, ": image ", *w, "x", *h, " is too small for a digit");
  std::vector<uint8_t> grey;
  try {
    grey = flatten_alpha(grey_alpha, *w, *h, file);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  const int orientation = exif_orientation(bytes);
  if (file) file->orientation = orientation;
  return upright(grey, w, h, orientation);
}

float estimate_noise_sigma(const std::vector<float>& v, int w, int h) {
  if (w < 3 || h < 3) return 0;
  std::vector<float> r;
  r.reserve(size_t(w - 2) * (h - 2));
  for (int y = 1; y + 1 < h; ++y)
    for (int x = 1; x + 1 < w; ++x) {
      auto at = [&](int dx, int dy) { return v[size_t(y + dy) * w + x + dx]; };
      const float corners = at(-1, -1) + at(1, -1) + at(-1, 1) + at(1, 1);
      const float sides = at(0, -1) + at(-1, 0) + at(1, 0) + at(0, 1);
      r.push_back(std::abs(corners - 2 * sides + 4 * at(0, 0)));
    }
  std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
  return r[r.size() / 2] / (0.6745f * 6);
}

namespace {

// The pieces holding at least `row_mass` of the heaviest's ink that stand in a row as digits written side
// by side, grouped into digits left to right (a piece that starts less than kSideBySideGap of the
// tallest heavy piece's height right of everything left of it belongs to the digit before it); fewer
// than 2 groups: not a row.
std::vector<std::vector<size_t>> side_by_side_row(const std::vector<InkPiece>& pieces, const std::vector<double>& mass,
                                                  size_t main, double row_mass = kStrayMass) {
  int tallest = 0;
  for (size_t p = 0; p < pieces.size(); ++p)
    if (mass[p] >= kStrayMass * mass[main]) tallest = std::max(tallest, pieces[p].box.height());
  const InkBox& first = pieces[main].box;
  std::vector<size_t> row;  // tall heavy pieces on the first piece's line
  for (size_t p = 0; p < pieces.size(); ++p) {
    const InkBox& b = pieces[p].box;
    const int overlap = std::min(b.y1, first.y1) - std::max(b.y0, first.y0) + 1;
    if (mass[p] >= row_mass * mass[main] && b.height() >= kSideBySideHeight * tallest &&
        2 * overlap >= std::min(b.height(), first.height()))
      row.push_back(p);
  }
  std::sort(row.begin(), row.end(), [&](size_t a, size_t b) { return pieces[a].box.x0 < pieces[b].box.x0; });
  std::vector<std::vector<size_t>> digits;
  int right = 0;  // the right edge of the pieces so far
  for (size_t p : row) {
    if (digits.empty() || pieces[p].box.x0 - right - 1 >= kSideBySideGap * tallest) digits.emplace_back();
    digits.back().push_back(p);  // apart from everything left of it: a new digit
    right = std::max(right, pieces[p].box.x1);
  }
  return digits;
}

// The 8-connected pieces of a picture's ink (above a fifth of the peak over the background level: what
// fit_to_mnist's box counts) and the ink each holds over the background; no pieces in a blank picture.
struct WeighedPieces {
  float bg = 0, peak = 0;
  std::vector<InkPiece> pieces;
  std::vector<double> mass;
  size_t heaviest() const { return size_t(std::max_element(mass.begin(), mass.end()) - mass.begin()); }
};
WeighedPieces weighed_pieces(const std::vector<float>& ink, int w, int h) {
  WeighedPieces wp;
  wp.bg = background_level(ink);
  for (float v : ink) wp.peak = std::max(wp.peak, v - wp.bg);
  if (wp.peak <= 0) return wp;
  std::vector<uint8_t> mask(ink.size());
  for (size_t i = 0; i < ink.size(); ++i) mask[i] = ink[i] - wp.bg > 0.2f * wp.peak;
  wp.pieces = ink_pieces(mask, w, h);
  wp.mass.assign(wp.pieces.size(), 0.0);
  for (size_t p = 0; p < wp.pieces.size(); ++p)
    for (size_t i : wp.pieces[p].pixels) wp.mass[p] += ink[i] - wp.bg;
  return wp;
}

}  // namespace

int clear_stray_marks(std::vector<float>& ink, int w, int h, int* side_by_side) {
  DUET_CHECK(int64_t(ink.size()) == int64_t(w) * h && w > 0 && h > 0, "clear_stray_marks: bad picture size");
  if (side_by_side) *side_by_side = 0;
  const WeighedPieces weighed = weighed_pieces(ink, w, h);
  const std::vector<InkPiece>& pieces = weighed.pieces;
  const std::vector<double>& mass = weighed.mass;
  const float bg = weighed.bg;
  if (pieces.size() < 2) return 0;
  const size_t main = weighed.heaviest();
  if (side_by_side) {
    const size_t row = side_by_side_row(pieces, mass, main).size();
    *side_by_side = row >= 2 ? int(row) : 0;
  }
  std::vector<bool> kept(pieces.size(), false);
  kept[main] = true;
  InkBox digit = pieces[main].box;
  const int gap = std::max(1, int(std::lround(kStrayGap * std::max(digit.width(), digit.height()))));
  for (bool grew = true; grew;) {  // pieces near the digit join it, and the digit grows
    grew = false;
    for (size_t p = 0; p < pieces.size(); ++p) {
      const InkBox& b = pieces[p].box;
      const bool near = b.x0 <= digit.x1 + gap && b.x1 >= digit.x0 - gap && b.y0 <= digit.y1 + gap &&
                        b.y1 >= digit.y0 - gap;
      if (kept[p] || !(near || mass[p] >= kStrayMass * mass[main])) continue;
      kept[p] = grew = true;
      digit = {std::min(digit.x0, b.x0), std::min(digit.y0, b.y0), std::max(digit.x1, b.x1), std::max(digit.y1, b.y1)};
    }
  }
  const int cleared = int(std::count(kept.begin(), kept.end(), false));
  if (cleared == 0) return 0;
  // Everything outside the digit's box, grown by a pixel of MNIST's field (or the gap, if less),
  // is cleared: the marks and the faint edges around them.
  clear_outside(ink, w, h, digit, std::min(gap, int(std::ceil(std::max(w, h) / 28.0))), bg);
  return cleared;
}

CleanPicture clean_picture(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes) {
  DUET_CHECK(int64_t(gray.size()) == int64_t(w) * h && w > 0 && h > 0, "to_mnist_form: bad image size");
  if (notes) *notes = PictureNotes{};
  // Polarity from the border: MNIST digits are light ink on a dark background. A dark border
  // around light paper (a printed box drawn along the picture's edge) is not the background:
  // where the ring of pixels a sixteenth of the picture inside the border is light, that ring
  // decides.
  auto ring_mean = [&](int d) {  // the mean of the pixels d from the picture's edge
    if (2 * d >= std::min(w, h)) return -1.0;
    double sum = 0;
    int count = 0;
    for (int x = d; x < w - d; ++x) sum += gray[size_t(d) * w + x] + gray[size_t(h - 1 - d) * w + x], count += 2;
    for (int y = d + 1; y < h - 1 - d; ++y)
      sum += gray[size_t(y) * w + d] + gray[size_t(y) * w + w - 1 - d], count += 2;
    return sum / count;
  };
  const bool invert = ring_mean(0) > 127 || ring_mean(std::max(2, std::min(w, h) / 16)) > 127;
  // Large pictures (a phone photo) are first area-averaged down to at most 256 pixels a side:
  // the digit ends up 20 pixels tall anyway.
  const int f = (std::max(w, h) + 255) / 256;
  const int sw = (w + f - 1) / f, sh = (h + f - 1) / f;
  std::vector<float> ink(size_t(sw) * sh, 0.0f);
  for (int y = 0; y < sh; ++y)
    for (int x = 0; x < sw; ++x) {
      double acc = 0;
      int n = 0;
      for (int yy = y * f; yy < std::min(h, (y + 1) * f); ++yy)
        for (int xx = x * f; xx < std::min(w, (x + 1) * f); ++xx, ++n) {
          const uint8_t g = gray[size_t(yy) * w + xx];
          acc += invert ? 255 - g : g;
        }
      ink[size_t(y) * sw + x] = float(acc / n / 255.0);
    }
  w = sw, h = sh;
  // Salt-and-pepper noise is replaced by local medians where that leaves a picture without noise;
  // where noise remains (Gaussian noise has isolated pixels too), the smoothing below reads it.
  int replaced = 0;
  bool specks = false;  // noise was taken out: what is left of it away from the digit is cleared below
  if (auto cleared = without_impulses(ink, w, h, &replaced);
      cleared && estimate_noise_sigma(*cleared, w, h) <= kNoisyPicture) {
    ink = std::move(*cleared);
    specks = true;
    if (notes) notes->impulses = double(replaced) / ink.size();
  }
  // Noise (a grainy scan, a photograph taken in poor light, noise added to a file) would be
  // read as ink: the ink's bounding box would span the picture and shrink the digit, and the
  // grain would stay on its background. A picture whose noise (estimate_noise_sigma) is above
  // kNoisyPicture is smoothed with a Gaussian of (0.6 + 2 x the noise) pixels of MNIST's
  // 28-pixel field, scaled to the picture's size, and 1.5 times the noise the smoothing leaves
  // is taken off with the paper's level below. (Chosen on noisy MNIST test pictures:
  // docs/training.md, Noisy pictures.)
  float residual = 0;
  double blur = 0;
  int lines = 0;
  if (const float sigma = estimate_noise_sigma(ink, w, h); sigma > kNoisyPicture) {
    // A notebook's lines are taken out first: smoothed, a thin line would fade into a low wide
    // ridge hard to tell from the paper, and the ink crossing it would be smoothed with it. (Under
    // heavier noise than kLinedNoise, the ends of a stroke read as a line's too often: those
    // pictures are smoothed first, as before.)
    if (sigma <= kLinedNoise) lines = remove_ruled_lines(ink, nullptr, w, h, 0);
    blur = (0.6 + 2.0 * sigma) * std::max(w, h) / 28.0;
    ink = gaussian_blur(ink, w, h, blur);
    residual = float(1.5 * sigma / (2 * std::sqrt(M_PI) * blur));  // 1.5 x white noise's sigma after the blur
    if (notes) notes->noise = sigma;
  }
  // Uneven light (a shadow, a lamp to one side) makes the paper brighter in one place than in
  // another. A first estimate of the paper's local level is the smallest value within a fifth
  // of the picture's size on each side (any ink stroke is thinner than that), smoothed over the
  // same window; the median of the pixels that estimate does not call ink refines it.
  // Subtracting it leaves the ink on an even background. Dark ink on light paper reflects a
  // share of the light that falls on it, so where the paper is in shadow the ink's contrast
  // is smaller too: dividing by the paper's brightness evens that out (flat-field correction).
  const int r = std::max(1, std::max(w, h) / 5);
  const std::vector<float> paper =
      paper_median(ink, window_filter(window_filter(ink, w, h, r, Window::kMin), w, h, r, Window::kMean), w, h);
  const std::vector<float> seen = ink;
  for (size_t i = 0; i < ink.size(); ++i)
    ink[i] = std::max(0.0f, ink[i] - paper[i] - residual) / (invert ? std::max(0.05f, 1.0f - paper[i]) : 1.0f);
  // A notebook's lines and squares, then what is left of noise or lines (a corner's end of a
  // tilted line too short to be followed) away from the digit, then marks apart from it.
  lines += remove_ruled_lines(ink, &seen, w, h, blur);
  if (notes) notes->lines = lines;
  if (lines > 0 || residual > 0 || specks) clear_specks(ink, w, h, std::max(w, h) / 28.0);
  return {std::move(ink), w, h, f};
}

std::vector<float> to_mnist_form(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes) {
  auto [ink, cw, ch, scale] = clean_picture(gray, w, h, notes);
  int side_by_side = 0;
  const int strays = clear_stray_marks(ink, cw, ch, &side_by_side);
  if (notes) notes->strays = strays, notes->side_by_side = side_by_side;
  return fit_to_mnist(std::move(ink), cw, ch, ThinStrokes::kRedraw, notes ? &notes->redrawn : nullptr);
}

std::vector<WrittenDigit> number_digits(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes,
                                        const DigitReader& read) {
  auto [ink, cw, ch, scale] = clean_picture(gray, w, h, notes);
  auto in_picture = [&](const InkBox& b) {  // a box here as a box of the picture's pixels
    return InkBox{b.x0 * scale, b.y0 * scale, std::min(w - 1, (b.x1 + 1) * scale - 1),
                  std::min(h - 1, (b.y1 + 1) * scale - 1)};
  };
  const WeighedPieces weighed = weighed_pieces(ink, cw, ch);
  const std::vector<InkPiece>& pieces = weighed.pieces;
  const float bg = weighed.bg, peak = weighed.peak;
  const std::vector<std::vector<size_t>> row =
      pieces.empty() ? std::vector<std::vector<size_t>>{}
                     : side_by_side_row(pieces, weighed.mass, weighed.heaviest(), kNumberMass);
  // The digits of a crop of the cleaned picture whose top left corner lies at (x0, y0): one, or
  // where read is given and they touch, the parts cut_touching finds.
  auto cut_digits = [&](const std::vector<float>& piece, int dw, int dh, int x0, int y0) {
    std::vector<WrittenDigit> parts;
    const std::vector<InkCut> cut = cut_touching(piece, dw, dh, read);
    if (cut.size() < 2) return parts;
    const float piece_bg = background_level(piece);
    for (const InkCut& c : cut) {
      const int from = c.x0(), pw = c.x1() - from;
      std::vector<float> part = cut_out(piece, dw, dh, c, piece_bg);
      const float part_bg = background_level(part);
      const InkBox b = ink_box(part, pw, dh, part_bg + 0.2f * (*std::max_element(part.begin(), part.end()) - part_bg));
      WrittenDigit d;
      d.pixels = fit_to_mnist(std::move(part), pw, dh, ThinStrokes::kRedraw, &d.redrawn);
      d.box = in_picture({x0 + from + b.x0, y0 + b.y0, x0 + from + b.x1, y0 + b.y1});
      d.cut = true;
      parts.push_back(std::move(d));
    }
    return parts;
  };
  if (row.size() < 2) {  // one digit: read as to_mnist_form reads it (unless it is digits that touch)
    int side_by_side = 0;
    const int strays = clear_stray_marks(ink, cw, ch, &side_by_side);
    if (notes) notes->strays = strays, notes->side_by_side = 0;
    const InkBox box = ink_box(ink, cw, ch, bg + 0.2f * peak);
    if (read) {
      std::vector<WrittenDigit> parts = cut_digits(ink, cw, ch, 0, 0);
      if (parts.size() >= 2) {
        if (notes) {
          notes->side_by_side = int(parts.size());
          for (const WrittenDigit& d : parts) notes->redrawn = notes->redrawn || d.redrawn;
        }
        return parts;
      }
    }
    WrittenDigit d;
    d.pixels = fit_to_mnist(std::move(ink), cw, ch, ThinStrokes::kRedraw, &d.redrawn);
    d.box = in_picture(box);
    if (notes) notes->redrawn = d.redrawn;
    return {d};
  }
  // Each digit of the row takes the other pieces near it (a 5's flag, a 4's second stroke, the dot
  // of a broken stroke), as clear_stray_marks grows one digit: the piece's box within kStrayGap of
  // the digit's longer side of the digit's box; a piece near two digits goes to the one it overlaps
  // more across. Pieces near none are marks apart from the number.
  std::vector<int> digit_of(pieces.size(), -1);
  std::vector<InkBox> boxes;
  for (size_t g = 0; g < row.size(); ++g) {
    InkBox b = pieces[row[g][0]].box;
    for (size_t p : row[g]) {
      digit_of[p] = int(g);
      const InkBox& q = pieces[p].box;
      b = {std::min(b.x0, q.x0), std::min(b.y0, q.y0), std::max(b.x1, q.x1), std::max(b.y1, q.y1)};
    }
    boxes.push_back(b);
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t p = 0; p < pieces.size(); ++p) {
      if (digit_of[p] >= 0) continue;
      const InkBox& q = pieces[p].box;
      int best = -1, best_overlap = 0;
      for (size_t g = 0; g < boxes.size(); ++g) {
        const InkBox& b = boxes[g];
        const int gap = std::max(1, int(std::lround(kStrayGap * std::max(b.width(), b.height()))));
        if (q.x0 > b.x1 + gap || q.x1 < b.x0 - gap || q.y0 > b.y1 + gap || q.y1 < b.y0 - gap) continue;
        const int overlap = std::min(q.x1, b.x1) - std::max(q.x0, b.x0);  // negative: apart across
        if (best < 0 || overlap > best_overlap) best = int(g), best_overlap = overlap;
      }
      if (best < 0) continue;
      digit_of[p] = best, grew = true;
      InkBox& b = boxes[best];
      b = {std::min(b.x0, q.x0), std::min(b.y0, q.y0), std::max(b.x1, q.x1), std::max(b.y1, q.y1)};
    }
  }
  if (notes) notes->strays = int(std::count(digit_of.begin(), digit_of.end(), -1));
  // Each digit: its box, grown by a pixel of the 20-pixel box it is fitted into, with the ink of
  // every other piece in it set to the background, fitted into MNIST's field.
  std::vector<WrittenDigit> digits;
  for (size_t g = 0; g < boxes.size(); ++g) {
    const InkBox& b = boxes[g];
    const int m = std::max(1, int(std::lround(std::max(b.width(), b.height()) / 20.0)));
    const int x0 = std::max(0, b.x0 - m), y0 = std::max(0, b.y0 - m);
    const int x1 = std::min(cw - 1, b.x1 + m), y1 = std::min(ch - 1, b.y1 + m);
    std::vector<float> other = ink;
    for (size_t p = 0; p < pieces.size(); ++p)
      if (digit_of[p] != int(g))
        for (size_t i : pieces[p].pixels) other[i] = bg;
    const int dw = x1 - x0 + 1, dh = y1 - y0 + 1;
    std::vector<float> piece = crop(other, cw, x0, y0, dw, dh);
    std::vector<WrittenDigit> parts;
    if (read) parts = cut_digits(piece, dw, dh, x0, y0);
    if (parts.size() < 2) {
      WrittenDigit d;
      d.pixels = fit_to_mnist(std::move(piece), dw, dh, ThinStrokes::kRedraw, &d.redrawn);
      d.box = in_picture(b);
      parts = {std::move(d)};
    }
    for (WrittenDigit& d : parts) {
      if (notes) notes->redrawn = notes->redrawn || d.redrawn;
      digits.push_back(std::move(d));
    }
  }
  if (notes) notes->side_by_side = int(digits.size());
  return digits;
}

int InkCut::x0() const {
  int x = std::numeric_limits<int>::max();
  for (size_t y = 0; y < from.size(); ++y)
    if (from[y] < to[y]) x = std::min(x, from[y]);
  return x == std::numeric_limits<int>::max() ? 0 : x;
}

int InkCut::x1() const {
  int x = 0;
  for (size_t y = 0; y < from.size(); ++y)
    if (from[y] < to[y]) x = std::max(x, to[y]);
  return std::max(x, x0());
}

std::vector<float> cut_out(const std::vector<float>& ink, int dw, int dh, const InkCut& cut, float bg) {
  DUET_CHECK(int64_t(ink.size()) == int64_t(dw) * dh && dw > 0 && dh > 0 && cut.from.size() == size_t(dh) &&
                 cut.to.size() == size_t(dh),
             "cut_out: bad picture or cut size");
  const int x0 = cut.x0(), pw = cut.x1() - x0;
  std::vector<float> part(size_t(pw) * dh, bg);
  for (int y = 0; y < dh; ++y)
    for (int x = std::max(cut.from[y], x0); x < std::min(cut.to[y], x0 + pw); ++x)
      part[size_t(y) * pw + (x - x0)] = ink[size_t(y) * dw + x];
  return part;
}

std::vector<InkCut> cut_touching(const std::vector<float>& ink, int dw, int dh, const DigitReader& read) {
  DUET_CHECK(int64_t(ink.size()) == int64_t(dw) * dh && dw > 0 && dh > 0, "cut_touching: bad picture size");
  const float bg = background_level(ink);
  float peak = 0;
  for (float v : ink) peak = std::max(peak, v - bg);
  const InkBox box = ink_box(ink, dw, dh, bg + 0.2f * peak);
  auto straight = [&](int from, int to) {
    return InkCut{std::vector<int>(size_t(dh), from), std::vector<int>(size_t(dh), to)};
  };
  if (peak <= 0 || box.empty()) return {straight(0, dw)};
  const std::vector<InkCut> whole = {straight(box.x0, box.x1 + 1)};
  const int height = box.height();
  if (!read || box.width() <= kTouchingAspect * height) return whole;
  // Each pixel's ink as ink_box counts it, and each column's.
  std::vector<float> counted(ink.size(), 0.0f);
  std::vector<double> mass(size_t(dw), 0.0);
  for (int y = 0; y < dh; ++y)
    for (int x = 0; x < dw; ++x)
      if (const float v = ink[size_t(y) * dw + x] - bg; v > 0.2f * peak)
        counted[size_t(y) * dw + x] = v, mass[size_t(x)] += v;
  const double most = *std::max_element(mass.begin(), mass.end());
  const int reach = std::max(1, int(std::lround(height / 10.0)));
  const int narrow = std::max(1, int(std::lround(kNarrowestDigit * height)));
  // Where the cuts start (a cut at x parts [.., x) from [x, ..)): every `reach` columns (digits may
  // touch where their strokes are heavy), and the columns with the least ink within `reach`.
  std::vector<int> at;
  const int first = box.x0 + narrow, last = box.x1 + 1 - narrow;
  for (int x = first; x <= last; ++x) {
    bool lowest = true;
    for (int y = std::max(first, x - reach); lowest && y <= std::min(last, x + reach); ++y)
      lowest = mass[size_t(y)] > mass[size_t(x)] || (mass[size_t(y)] == mass[size_t(x)] && y >= x);
    if ((x - first) % reach == 0 || lowest) at.push_back(x);
  }
  if (at.empty()) return whole;
  // Each cut: the straight one down its column, and the path from top to bottom through the least
  // ink (the pixel right of the cut in each row), a column to either side per row, no further than
  // `bend` from where it starts and inside the ink's box, found by dynamic programming; a tiny cost
  // per column away from the start keeps it straight across empty rows. Many paths end up the
  // same: each is kept once. The ink's ends bound the first part and the last.
  struct Cut {
    std::vector<int> x;  // its column per row
    double ink = 0;      // the ink it goes through
    double mean = 0;     // its mean column
  };
  auto make_cut = [&](std::vector<int> x) {
    Cut c{std::move(x), 0, 0};
    for (int y = 0; y < dh; ++y)
      c.ink += counted[size_t(y) * dw + c.x[size_t(y)]], c.mean += double(c.x[size_t(y)]) / dh;
    return c;
  };
  const int bend = int(std::lround(kCutBend * height));
  const double away = 1e-3 * peak;
  std::vector<Cut> cuts{make_cut(std::vector<int>(size_t(dh), box.x0)),
                        make_cut(std::vector<int>(size_t(dh), box.x1 + 1))};
  for (const int x : at) {
    cuts.push_back(make_cut(std::vector<int>(size_t(dh), x)));
    const int lo = std::max(box.x0 + 1, x - bend), hi = std::min(box.x1, x + bend), n = hi - lo + 1;
    std::vector<double> cost(static_cast<size_t>(n)), next(static_cast<size_t>(n));
    std::vector<int> back(size_t(dh) * n, 0);
    for (int y = 0; y < dh; ++y) {
      for (int k = 0; k < n; ++k) {
        int from = k;
        for (int d = -1; y > 0 && d <= 1; d += 2)
          if (k + d >= 0 && k + d < n && cost[size_t(k + d)] < cost[size_t(from)]) from = k + d;
        back[size_t(y) * n + k] = from;
        next[size_t(k)] =
            (y > 0 ? cost[size_t(from)] : 0.0) + counted[size_t(y) * dw + lo + k] + away * std::abs(lo + k - x);
      }
      std::swap(cost, next);
    }
    std::vector<int> path(static_cast<size_t>(dh));
    int k = int(std::min_element(cost.begin(), cost.end()) - cost.begin());
    for (int y = dh - 1; y >= 0; --y) path[size_t(y)] = lo + k, k = back[size_t(y) * n + k];
    if (std::none_of(cuts.begin(), cuts.end(), [&](const Cut& c) { return c.x == path; }))
      cuts.push_back(make_cut(std::move(path)));
  }
  std::stable_sort(cuts.begin(), cuts.end(), [](const Cut& a, const Cut& b) { return a.mean < b.mean; });
  const size_t m = cuts.size() - 1;
  // Every part between two cuts, the second nowhere left of the first (so that the parts of a
  // cutting share no pixel and leave none out), with ink, brought to MNIST form and read together.
  auto part_of = [&](size_t i, size_t j) { return InkCut{cuts[i].x, cuts[j].x}; };
  std::vector<std::pair<size_t, size_t>> parts;
  std::vector<std::vector<float>> digits;
  for (size_t i = 0; i < m; ++i)
    for (size_t j = i + 1; j <= m; ++j) {
      const double pw = cuts[j].mean - cuts[i].mean;
      if (pw < narrow || (pw > kWidestDigit * height && !(i == 0 && j == m))) continue;
      bool ordered = true;
      for (int y = 0; ordered && y < dh; ++y) ordered = cuts[j].x[size_t(y)] >= cuts[i].x[size_t(y)];
      if (!ordered) continue;
      const InkCut cut = part_of(i, j);
      const int cw = cut.x1() - cut.x0();
      if (cw <= 0) continue;
      std::vector<float> part = cut_out(ink, dw, dh, cut, bg);
      float part_peak = 0;
      for (float& v : part) part_peak = std::max(part_peak, v = std::max(0.0f, v - bg));
      if (part_peak <= 0.1f * peak) continue;  // no ink: no part a cutting can hold
      // A digit of a number is at least kSideBySideHeight of the tallest digit's height (a 2's
      // foot, a 5's flag cut off alone is not one), and its ink no wider than kWidestDigit times it.
      const InkBox part_box = ink_box(part, cw, dh, 0.2f * peak);
      if (part_box.height() < kSideBySideHeight * height) continue;
      if (part_box.width() > kWidestDigit * height && !(i == 0 && j == m)) continue;
      try {
        digits.push_back(fit_to_mnist(std::move(part), cw, dh, ThinStrokes::kRedraw));
      } catch (const Error&) {  // too faint to fit: no part either
        continue;
      }
      parts.push_back({i, j});
    }
  const std::vector<double> lp = read(digits);
  DUET_CHECK(lp.size() == digits.size(), "cut_touching: the reader gave ", lp.size(), " readings for ", digits.size(),
             " digits");
  std::vector<double> scores;
  for (size_t p = 0; p < parts.size(); ++p) {
    const auto [i, j] = parts[p];
    const double aspect = (cuts[j].mean - cuts[i].mean) / height;
    const double wide = aspect > 1 ? std::log(aspect) : 0.0;
    scores.push_back(lp[p] - kWideCost * wide * wide - (i > 0 ? kCutInkCost * cuts[i].ink / most : 0.0));
  }
  std::vector<InkCut> cut;
  for (const auto& [i, j] : best_cutting(m, parts, scores)) cut.push_back(part_of(i, j));
  return cut;
}

std::vector<float> fit_to_mnist(std::vector<float> ink, int w, int h, ThinStrokes thin, bool* redrawn) {
  DUET_CHECK(int64_t(ink.size()) == int64_t(w) * h && w > 0 && h > 0, "fit_to_mnist: bad image size");
  // Remove what is left of the background level and find the ink's bounding box.
  const float bg = background_level(ink);
  float peak = 0;
  for (float& v : ink) peak = std::max(peak, v = std::max(0.0f, v - bg));
  DUET_CHECK(peak > 0.1f, "the image is blank: no digit found");
  for (float& v : ink) v /= peak;
  std::vector<float> small;
  int tw = 0, th = 0;
  std::optional<FittedDigit> pen = thin == ThinStrokes::kRedraw ? redraw_thin_strokes(ink, w, h) : std::nullopt;
  if (redrawn) *redrawn = pen.has_value();
  if (pen) {
    small = std::move(pen->pixels), tw = pen->w, th = pen->h;
  } else {
    const InkBox box = ink_box(ink, w, h, 0.2f);
    const int x0 = box.x0, y0 = box.y0, bw = box.width(), bh = box.height();
    // Scale the box so its longer side is 20 px, area-averaging each target pixel.
    const double scale = 20.0 / std::max(bw, bh);
    tw = std::max(1, int(std::lround(bw * scale))), th = std::max(1, int(std::lround(bh * scale)));
    small = area_resize(ink, w, h, x0, y0, scale, tw, th);
  }
  // Centre of mass to (14, 14) of the 28x28 field (pixel centres at i + 0.5).
  double mass = 0, cx = 0, cy = 0;
  for (int y = 0; y < th; ++y)
    for (int x = 0; x < tw; ++x) {
      const double v = small[size_t(y) * tw + x];
      mass += v, cx += v * (x + 0.5), cy += v * (y + 0.5);
    }
  cx /= mass, cy /= mass;
  const int ox = int(std::lround(14 - cx)), oy = int(std::lround(14 - cy));
  std::vector<float> out(784, 0.0f);
  for (int y = 0; y < th; ++y)
    for (int x = 0; x < tw; ++x) {
      const int X = x + ox, Y = y + oy;
      if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[Y * 28 + X] = std::min(1.0f, small[size_t(y) * tw + x]);
    }
  return out;
}

std::vector<Tensor> shifted_views(const Tensor& x, int px, float background) {
  check_test_shift(px);
  DUET_CHECK(px >= 1, "shifted_views: a shift of at least 1 pixel, got ", px);
  DUET_CHECK(x.device() == Device::cpu && x.ndim() == 4 && x.size(1) == 1 && x.size(2) == 28 && x.size(3) == 28,
             "shifted_views: expected a CPU batch [B, 1, 28, 28], got ", shape_str(x.shape()));
  const int64_t B = x.size(0);
  const float* in = x.data<float>();
  std::vector<Tensor> views;
  for (const auto& [dx, dy] : {std::pair{px, 0}, {-px, 0}, {0, px}, {0, -px}}) {
    Tensor v = Tensor::empty({B, 1, 28, 28});
    float* out = v.data<float>();
    for (int64_t b = 0; b < B; ++b)
      for (int y = 0; y < 28; ++y)
        for (int xx = 0; xx < 28; ++xx) {
          const int sx = xx - dx, sy = y - dy;  // the pixel that lands here
          out[b * 784 + y * 28 + xx] =
              sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? in[b * 784 + sy * 28 + sx] : background;
        }
    views.push_back(v);
  }
  return views;
}

void check_test_shift(int64_t px) {
  DUET_CHECK(px >= 0 && px <= kMaxTestShift, "test-time shift: 0 to ", kMaxTestShift,
             " pixels (0: the picture alone), got ", px);
}

Tensor image_input(const std::vector<float>& digit28, float mean, float std, Device device) {
  DUET_CHECK(digit28.size() == 784, "image_input: expected 784 pixels, got ", digit28.size());
  std::vector<float> v(784);
  for (int i = 0; i < 784; ++i) v[i] = (digit28[i] - mean) / std;
  return Tensor::from_vector<float>(v, {1, 1, 28, 28}, device);
}

}  // namespace duet::models
