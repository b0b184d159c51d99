// Handwritten digits as model inputs: MNIST in memory, training augmentation (small random
// affine transforms), and bringing any picture of a digit to MNIST form.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"
#include "models/datasets.h"
#include "models/strokes.h"

namespace duet::models {

struct ImageAugment {
  bool enabled = false;
  double max_rotate_deg = 12, scale_min = 0.9, scale_max = 1.1, max_shift_px = 2.5, max_shear = 0.15;
  // Pixel noise: with this chance an image gets Gaussian noise of a sigma drawn from
  // [0, max_noise] (pixel units, as ImageEffects::noise and duet eval --robustness).
  // Off by default; duet train --augment-noise P sets it (docs/training.md).
  double noise_prob = 0, max_noise = 1.0;
  // Occlusion (cutout): with this chance a square of side drawn from [min_occlude,
  // max_occlude] pixels is blanked at a random place (--augment-noise P: P/2).
  double occlude_prob = 0;
  int min_occlude = 4, max_occlude = 14;
  // Printed digits: with this chance an image is replaced by a stroke-drawn printed digit of
  // the same class (models/printed_digits.h) before the affine transform. Off by default;
  // duet train --printed P sets it (docs/training.md, Printed digits).
  double printed_prob = 0;
  // Low resolution: with this chance the digit is seen as a coarse picture, its longer side
  // drawn from [lowres_min, lowres_max] pixels (ImageEffects::lowres). Off by default;
  // duet train --lowres P sets it (docs/training.md, Low resolution).
  double lowres_prob = 0;
  int lowres_min = 6, lowres_max = 14;
  // Wider digits: with this chance a digit narrower than it is tall is stretched across,
  // part of the way (drawn uniformly) to a square ink box, as data sets that scale each
  // digit to fill its box store a 1 or a 7 (widen). Off here; image:duet trains with
  // ImageTask::kDefaultWiden, duet train --widen P sets it.
  double widen_prob = 0;
  // Thicker strokes: with this chance a digit's strokes are made wider on each side by a
  // radius drawn uniformly from [0, max_thicken] pixels (thicken), as a marker or a felt-tip
  // draws them. Off here; image:duet trains with ImageTask::kDefaultThicken, duet train
  // --thicken P sets it (docs/training.md, Pen width).
  double thicken_prob = 0, max_thicken = 1.5;
};

struct ImageEffects {
  double noise = 0;   // Gaussian noise, sigma in pixel units (1 = black to white)
  int occlude = 0;    // side of a square blanked at a random place
  bool blank = false; // an empty (black) picture: a missing modality
  bool photo = false; // photographed: dark ink on paper under uneven light, with sensor noise,
                      // then brought back to MNIST form as duet predict brings a picture
  int lowres = 0;     // seen at low resolution: the digit's longer side this many pixels
                      // (low_resolution), then brought back to MNIST form
  double pen = 0;     // drawn with a pen this share of the digit's height wide (pen_drawing),
                      // then brought back to MNIST form as duet predict brings a picture
  double file_noise = 0;  // stored as a 28x28 8-bit picture with Gaussian noise of this sigma (clipped
                          // to 0-255), then brought to MNIST form as duet predict brings a picture
  double file_salt = 0;   // stored so with this share of its pixels set to black or white
                          // (salt-and-pepper noise), then brought to MNIST form the same way
};

// A 28x28 digit in [0, 1] (light ink on black) as a photograph of it (kPhotoSide x kPhotoSide
// bytes): enlarged twice, dark ink (20-70 where the light is brightest) on paper (200-245
// there), the light falling off across the picture in a random direction, the paper by 40-110
// levels (ink and paper both reflect a share of it), Gaussian sensor noise of sigma 4. All
// randomness from `rng`.
constexpr int kPhotoSide = 72;
std::vector<uint8_t> photograph(const float* digit28, Rng& rng);

// A 28x28 digit in [0, 1] as it comes out of a coarse picture of it: shrunk by area averaging
// until the ink's longer side spans `side` pixels (on a grid at a random offset drawn from
// `rng`), enlarged 4x again (bilinear, as a viewer shows a small picture) and brought to MNIST
// form by fit_to_mnist, as duet predict brings a picture. A digit already that small, or
// blank, comes back unchanged. side >= 2.
std::vector<float> low_resolution(const float* digit28, int side, Rng& rng);

// A 28x28 digit in [0, 1] stretched across: the ink's box, narrower than tall, made wider by
// `amount` (0: as it is, 1: as wide as tall), then brought to MNIST form by fit_to_mnist. A
// digit already as wide as tall, or blank, comes back unchanged. 0 <= amount <= 1.
std::vector<float> widen(const float* digit28, double amount);

// A 28x28 digit in [0, 1] with thicker strokes: every pixel within `radius` pixels of the
// stroke (the pixels at least half inked) inked, as a round pen that much wider on each side
// would draw it (its edge a 1-pixel ramp), then brought to MNIST form by fit_to_mnist (the
// thicker digit fitted into 20x20 again). A blank digit comes back unchanged. 0 <= radius <= 3.
std::vector<float> thicken(const float* digit28, double radius);

// A 28x28 digit in [0, 1] (light ink on black) drawn again with a round pen `width` of the
// digit's height wide (0 < width <= 0.5): the digit enlarged 4x (bilinear) to kPenSide x
// kPenSide (models/strokes.h), its ink (above half its peak) thinned to centrelines, drawn along them as
// dark ink (40) on white paper (230), the pen's edge anti-aliased; a pen no wider than a pixel
// draws the centrelines themselves. MNIST's strokes are about 0.11 of the height; 1/80 is a
// ballpoint on a sheet of paper or a 1-pixel brush on a large canvas, 0.25 a thick marker.
std::vector<uint8_t> pen_drawing(const float* digit28, double width);

class ImageSet {
 public:
  // limit: keep the first `limit` images. mean/std: the normalisation (training-set pixel
  // statistics in [0, 1] units).
  ImageSet(data::Mnist m, int64_t limit, float mean, float std);
  // Mean and standard deviation of all pixels (in [0, 1] units).
  static std::pair<float, float> pixel_stats(const data::Mnist& m, int64_t limit);
  int64_t size() const { return count_; }
  int32_t label(int64_t i) const { return labels_[i]; }
  const uint8_t* pixels(int64_t i) const { return pixels_.data() + i * 784; }
  // [B, 1, 28, 28], normalised with the training mean/std; `effects` (empty, or one per
  // image) degrades images for robustness evaluation and fusion training.
  Tensor batch(const std::vector<int64_t>& idx, const ImageAugment& aug, Rng& rng, Device device,
               const std::vector<ImageEffects>& effects = {}) const;
  // Hard mode: images are replaced by their projection onto these principal components
  // ([k, 784] orthonormal rows) around `mean` before any effect.
  void set_projection(std::vector<float> basis, std::vector<float> mean);
  // Top principal components of the first `max_images` images holding `energy` of the variance.
  void principal_components(int64_t max_images, double energy, std::vector<float>* basis,
                            std::vector<float>* mean) const;

 private:
  int64_t count_;
  float mean_, std_;
  std::vector<float> basis_, basis_mean_;
  std::vector<uint8_t> pixels_;
  std::vector<int32_t> labels_;
};

// Any grayscale picture (w x h, values 0-255) to a 28x28 MNIST-style digit in [0, 1]:
// polarity fixed to a light digit on a dark background (judged from the border), pictures
// over 256 pixels a side shrunk first, salt-and-pepper specks replaced by local medians
// (kImpulsePicture), noisy pictures smoothed (kNoisyPicture), uneven light evened out (the
// paper's local level subtracted; for dark ink on light paper, also divided out), a
// notebook's ruled lines and squares taken out (kMinLinedPicture), the ink's bounding box
// scaled to fit 20x20 keeping its aspect (a digit of thin strokes redrawn with a pen of
// MNIST's width instead: models/strokes.h), placed so its centre of mass is at the centre of
// the 28x28 field. Throws when the picture is blank. `notes`, when given, is set to what was
// done beyond that (duet predict notes it).
struct PictureNotes {
  bool redrawn = false;  // thin strokes redrawn with a pen as wide as MNIST's
  float noise = 0;       // the noise's estimated sigma where the picture was smoothed, else 0
  int lines = 0;         // ruled lines (rows and columns) taken out
  double impulses = 0;   // the share of the pixels replaced as salt-and-pepper noise, else 0
  int strays = 0;        // marks apart from the digit cleared (clear_stray_marks)
  int side_by_side = 0;  // digit-sized pieces of ink side by side (a number, not one digit), else 0
};
std::vector<float> to_mnist_form(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes = nullptr);
// The picture as to_mnist_form and number_digits have it before they look for the digits: light
// ink on an even dark background in [0, 1] (polarity fixed, shrunk to at most 256 pixels a side,
// specks and noise taken out, light evened, ruled lines removed), w x h; `scale`: the given
// picture's pixels per pixel here (a pixel (x, y) here covers the given picture's [x * scale,
// (x + 1) * scale) across, likewise down). `notes` as to_mnist_form sets them, but for the strays
// and the digits side by side (found later). Throws when the size is wrong. (duet show draws it.)
struct CleanPicture {
  std::vector<float> ink;
  int w, h, scale;
};
CleanPicture clean_picture(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes = nullptr);
// A picture of a number (digits written side by side: 12, 305, a PIN) as its digits, left to right:
// each brought to MNIST form as to_mnist_form brings a picture of one digit, with the same cleaning
// (polarity, noise, light, ruled lines) done once for the whole picture. The digits are the row
// clear_stray_marks notes (`side_by_side`), but counting pieces from kNumberMass of the heaviest's
// ink (a 1 drawn thin beside bold digits), each taking the smaller pieces near it (a 5's flag, a
// 4's second stroke) as clear_stray_marks grows a digit; marks near no digit are left out
// (notes->strays). A picture without such a row is one digit, read exactly as to_mnist_form reads it.
// Digits that touch are one piece: with `read` (a model), a piece wider than a digit is cut where
// the model reads one digit in each part (cut_touching); without, it reads as one. `box`: the
// digit's ink in the picture's pixels. Throws when the picture is blank.
constexpr double kNumberMass = 0.1;
struct WrittenDigit {
  std::vector<float> pixels;  // 28x28 in [0, 1]
  InkBox box;
  bool redrawn = false;       // thin strokes redrawn with a pen as wide as MNIST's
  bool cut = false;           // cut from digits that touch (cut_touching)
};
// For 28x28 digits in [0, 1], the log-probability of the digit a model reads in each.
using DigitReader = std::function<std::vector<double>(const std::vector<std::vector<float>>&)>;
std::vector<WrittenDigit> number_digits(const std::vector<uint8_t>& gray, int w, int h, PictureNotes* notes = nullptr,
                                        const DigitReader& read = {});
// One digit of a piece of ink that cut_touching cut: in each row y of the piece, the columns
// [from[y], to[y]) (a row may hold none of it).
struct InkCut {
  std::vector<int> from, to;
  int x0() const;  // the first column any row holds
  int x1() const;  // one past the last
};
// The part of `ink` (dw x dh) that `cut` holds, cropped to its columns [x0(), x1()); every pixel
// outside the part set to `bg`.
std::vector<float> cut_out(const std::vector<float>& ink, int dw, int dh, const InkCut& cut, float bg);
// Where digits that touch, written as one piece of ink (light on dark, dw x dh), part: each
// digit's columns per row, left to right; the whole ink box when the piece is not wider than
// kTouchingAspect times its height or no cutting reads better. Cuts start every tenth of the
// height and at each column with the least ink within a tenth of the height, at least
// kNarrowestDigit times the height from the ink's ends; from each start there are two cuts, one
// straight down its column and one along the path from top to bottom through the least ink (a
// column to either side per row, at most kCutBend times the height from the start): digits whose
// strokes reach past each other part along a bent line, where a straight cut would leave a piece
// of one in the other. A part lies between two cuts, the second nowhere left of the first; it is
// at least kNarrowestDigit times the height wide, at most kWidestDigit times (the whole always
// counts; widths between the cuts' mean columns, the ink's no wider either), and its ink at least
// kSideBySideHeight of the height tall (a 2's foot or a 5's flag cut off alone is not a digit). A
// cutting scores, per part (its ink brought to MNIST form), the model's log-probability, minus
// kWideCost * ln(width / height)^2 for a part wider than tall (few digits are much wider than
// tall), minus kCutInkCost times the ink each cut goes through (the pixel right of it in each row,
// as a share of the inkiest column's); the best-scoring cutting is kept. Every part is read in one
// call of `read`.
constexpr double kTouchingAspect = 1.25, kNarrowestDigit = 0.15, kWidestDigit = 1.6, kCutBend = 0.1;
constexpr double kWideCost = 3, kCutInkCost = 2;
std::vector<InkCut> cut_touching(const std::vector<float>& ink, int dw, int dh, const DigitReader& read);
// Marks apart from the digit (an ink blot, part of a neighbouring character cut by the crop, a
// stray stroke) would count as ink: the box would reach them, and the digit come out small and off
// centre. In a w x h picture of light ink on a dark background, the digit is the 8-connected piece
// of ink (above a fifth of the peak over the background, what fit_to_mnist's box counts) holding
// the most of it, joined by every piece whose box comes within kStrayGap of that piece's longer
// side of the digit's box so far (a broken stroke, a 5's flag, a 4 drawn in two strokes), or that
// holds at least kStrayMass of the first piece's ink; everything outside the digit's box, grown by
// a pixel of MNIST's 28-pixel field, is set to the background. Returns how many pieces were left
// out (0: the picture is unchanged).
//
// `side_by_side` (when given) is set to how many of the kept pieces look like digits written
// side by side (a number such as 12 or 305, which duet reads as one digit), else 0: pieces
// holding at least kStrayMass of the first piece's ink and at least kSideBySideHeight of the
// tallest such piece's height, standing in a row (each overlapping the first piece vertically
// by half its height) with gaps of at least kSideBySideGap of that height between them. A
// digit in one piece, a 4 drawn in two strokes or a 5 with its flag apart is not such a row.
constexpr double kStrayGap = 0.2, kStrayMass = 0.2, kSideBySideHeight = 0.5, kSideBySideGap = 0.1;
int clear_stray_marks(std::vector<float>& ink, int w, int h, int* side_by_side = nullptr);
// The sigma of white noise in a w x h picture (values 0-1): the median absolute response of a
// 3x3 Laplacian (Immerkaer's mask 1 -2 1 / -2 4 -2 / 1 -2 1, whose response to white noise of
// sigma s spreads 6 s) over 0.6745 (a normal value's median absolute deviation) x 6. Even paper,
// smooth light and the inside of strokes answer 0 and the strokes' edges are a minority of the
// pixels, so a clean picture reads about 0. Noise clipped at black or white (a noisy 8-bit file)
// reads about 0.6 of its sigma. 0 for a picture narrower or lower than 3 pixels.
float estimate_noise_sigma(const std::vector<float>& v, int w, int h);
// to_mnist_form smooths a picture whose estimate_noise_sigma is above this before it looks for
// the ink; a photograph (its sensor noise of sigma 4 levels reads 0.015-0.017) and a clean
// picture stay as they are.
constexpr float kNoisyPicture = 0.025f;
// to_mnist_form replaces salt-and-pepper noise (single pixels unlike all 8 neighbours) in a
// picture where more than this share of the pixels are such; clean pictures, photographs and
// pen drawings have next to none (docs/training.md, Salt-and-pepper noise).
constexpr double kImpulsePicture = 0.003;
// to_mnist_form looks for ruled lines and grids (a notebook's page) in pictures at least this
// many pixels a side (twice MNIST's: a picture with room for lines around the digit).
constexpr int kMinLinedPicture = 56;
// to_mnist_form follows ruled lines at every slope of up to this many degrees (a page
// photographed askew).
constexpr double kSteepestLine = 15;
// In a picture smoothed for its noise, a ruled line spreads over the lines this many times the
// smoothing's sigma beyond the run of lines found: to_mnist_form takes those out too, each at its
// own level.
constexpr double kLineSpread = 2;
// A noisy picture whose estimate_noise_sigma is at most this has its ruled lines taken out before
// to_mnist_form smooths it (Gaussian noise of sigma 0.3 on white paper, half of it clipped, reads
// about 0.18: such pictures are smoothed first, their lines looked for after).
constexpr float kLinedNoise = 0.15f;
// There, a pixel of a line is told from ink crossing it by the median of this many pixels along
// the line around it.
constexpr int kLineWindow = 5;
// What fit_to_mnist does with a digit of thin strokes: shrinks it as it is, or redraws it
// (redraw_thin_strokes). Pictures from outside take kRedraw; the digits duet makes from
// MNIST's for training and tests keep theirs.
enum class ThinStrokes { kKeep, kRedraw };
// The last steps of to_mnist_form, for a picture already light ink on an even dark background
// (w x h values in [0, 1]): the remaining background level removed, the ink's bounding box
// fitted into 20x20 and centred by mass in 28x28. Throws when the picture is blank. `redrawn`,
// when given, says whether thin strokes were redrawn (kRedraw only).
std::vector<float> fit_to_mnist(std::vector<float> ink, int w, int h, ThinStrokes thin = ThinStrokes::kKeep,
                                bool* redrawn = nullptr);
// What load_gray_image did to a picture beyond decoding it: its transparency flattened
// (flatten_alpha), its EXIF orientation applied (upright).
struct PictureFile {
  double transparent = 0;  // the share of the picture's area that is transparent (mean of 1 - alpha); 0: opaque
  int background = -1;     // the grey (0-255) its transparent part was read as; -1: the picture is opaque
  bool strokes = false;    // its opaque pixels were read as a pen's strokes (else as a picture with its own paper)
  int orientation = 1;     // the EXIF orientation it was turned upright by (1-8; 1: read as stored)
};
// Reads PNG, JPEG, BMP, GIF, TGA or PGM/PPM (stb_image) as grayscale; a picture with
// transparency is flattened onto a background first (flatten_alpha), and one transparent
// everywhere is refused; a photo whose EXIF orientation says it is stored turned or mirrored
// (exif_orientation) is turned upright, as a viewer shows it. A picture of more than
// kMaxPicturePixels (more than any camera but the largest takes), or a JPEG whose Huffman
// tables would make stb_image 2.27 write past its arrays, is refused before decoding; a picture
// in a format stb_image does not read is named (picture_format_of).
constexpr int64_t kMaxPicturePixels = 100'000'000;
std::vector<uint8_t> load_gray_image(const std::string& path, int* w, int* h, PictureFile* file = nullptr);
// What kind of picture stb_image does not read the bytes start like ("a HEIC picture (an
// iPhone's photo)", an AVIF, WebP, TIFF, JPEG XL or JPEG 2000 picture, an SVG drawing, a PDF),
// or "" when none: load_gray_image names it in its error, with how to convert it.
std::string picture_format_of(const std::vector<uint8_t>& bytes);
// A w x h picture of grey and alpha pairs (2 bytes a pixel, stb_image's grey + alpha) as grey:
// each pixel composited onto a background grey, chosen as a viewer would need it to see the
// digit. Drawing apps and web canvases export a digit's strokes on a transparent background
// whose stored colour is anything, often black like a black pen's ink. The opaque pixels (alpha
// at least half the picture's highest) decide: where at least kUniformInk of them lie within
// 48 grey levels of their median, they are one colour shaped by the alpha channel, the strokes
// of a pen, and the background is white behind dark strokes and black behind light ones;
// otherwise they hold a picture of their own (a cut-out of paper with a digit on it), and the
// background is the median grey of its opaque pixels next to transparent ones, its edge. An
// opaque picture comes back as its grey, unchanged. `file` (when given) says what was done
// (background -1 for an opaque picture); a picture with no opaque pixel at all is an error.
constexpr double kUniformInk = 0.98;
// The EXIF orientation (1-8, TIFF tag 0x0112) of a JPEG (APP1 "Exif" segment before the scan)
// or PNG (eXIf chunk) file's bytes: how the stored pixels must be turned or mirrored to show the
// picture upright. A phone stores a photo as its sensor saw it and says in this tag how it was
// held. 1 (as stored) for other formats, a file without the tag, or one whose EXIF block cannot
// be read (viewers show such a file as stored, too).
int exif_orientation(const std::vector<uint8_t>& file);
// A w x h picture shown as EXIF `orientation` (1-8) says: 2 mirrored left to right, 3 turned
// 180 degrees, 4 mirrored top to bottom, 5 mirrored along its main diagonal, 6 turned 90
// degrees clockwise, 7 mirrored along its other diagonal, 8 turned 90 degrees anticlockwise;
// w and h are swapped for 5-8.
std::vector<uint8_t> upright(const std::vector<uint8_t>& grey, int* w, int* h, int orientation);
std::vector<uint8_t> flatten_alpha(const std::vector<uint8_t>& grey_alpha, int w, int h, PictureFile* file = nullptr);
// Test-time views of a batch of pictures x [B, 1, 28, 28] (on the CPU, any values): the batch
// moved by `px` pixels right, left, down and up, in that order, the pixels moved in set to
// `background` (what an empty pixel is after normalisation). Whole-pixel moves copy pixels
// exactly: noise in a degraded picture stays as it was. 1 <= px <= kMaxTestShift.
constexpr int kMaxTestShift = 4;
std::vector<Tensor> shifted_views(const Tensor& x, int px, float background);
// Throws unless 0 <= px <= kMaxTestShift (an image model's test_shift; 0: no views).
void check_test_shift(int64_t px);
// [1, 1, 28, 28] normalised input from a 28x28 [0, 1] digit.
Tensor image_input(const std::vector<float>& digit28, float mean, float std, Device device);

}  // namespace duet::models
