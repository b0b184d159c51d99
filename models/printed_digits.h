// Printed digits drawn from strokes: a few hand-made typographic shapes of each digit (the
// printed 1 with its flag and foot, the closed 4, the 7 with a bar, ...), each rendered with a
// random stroke width, slant, width and a small smooth wobble, then fitted into 20x20 and
// centred by mass as duet predict fits a picture. duet train --printed P replaces a share P of the
// training images with one of these of the same class, so that a model trained on handwriting
// also meets the shapes of print (docs/training.md, Printed digits).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/rng.h"

namespace duet::models {

// How many shapes digit d has (>= 1); d in 0..9.
int printed_shapes(int digit);

// One rendering of `digit` in shape `shape` (0 .. printed_shapes(digit) - 1; -1: a shape drawn
// at random), 28x28 bytes in MNIST form (light ink on black, fitted into 20x20, centred by
// mass). All the randomness comes from `rng`.
std::vector<uint8_t> render_printed_digit(int digit, int shape, Rng& rng);

}  // namespace duet::models
