// Test-side helpers around engine/gradcheck.h.
#pragma once
#include <gtest/gtest.h>

#include "engine/gradcheck.h"

namespace duet::testing {
using duet::away_from_zero;
using duet::distinct_values;
using duet::gradcheck;
using duet::random_tensor;
}  // namespace duet::testing
