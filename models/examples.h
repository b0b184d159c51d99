// Making a batch's examples side by side.
#pragma once
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/rng.h"

namespace duet::models {

// Runs make(b, rng) for every example b in [0, n) on the OpenMP threads, each with its own
// generator seeded by `seed` and b, so a batch does not depend on which thread made which
// example. An example that throws does not stop the others; the first error (by example) is
// thrown once all have run.
template <class Make>
void make_examples(int64_t n, uint64_t seed, Make&& make) {
  std::vector<std::string> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic)
  for (int64_t b = 0; b < n; ++b) {
    try {
      Rng rng(splitmix64(seed ^ splitmix64(uint64_t(b))));
      make(b, rng);
    } catch (const std::exception& e) {
      errors[size_t(b)] = e.what();
    }
  }
  for (const std::string& e : errors) DUET_CHECK(e.empty(), e);
}

}  // namespace duet::models
