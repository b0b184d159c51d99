// Random numbers. Two kinds:
//  * Rng: a seeded sequential generator (splitmix64) for initialisation, shuffling and
//    augmentation on the host. Same seed, same numbers, on every machine.
//  * uniform_hash(seed, counter): counter-based, a pure function usable in CUDA kernels and
//    on the CPU alike, so dropout masks are identical on both devices and can be
//    regenerated in the backward pass instead of stored.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define DUET_HD __host__ __device__
#else
#define DUET_HD
#endif

namespace duet {

DUET_HD inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A uniform float in [0, 1) from (seed, counter): 24 random bits.
DUET_HD inline float uniform_hash(uint64_t seed, uint64_t counter) {
  uint64_t h = splitmix64(seed ^ splitmix64(counter));
  return float(h >> 40) * (1.0f / 16777216.0f);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}
  // The whole generator is one counter: saving it and setting it back continues the same
  // sequence (a resumed training draws what the uninterrupted one would have).
  uint64_t state() const { return state_; }
  void set_state(uint64_t s) { state_ = s; }
  uint64_t next_u64() { return splitmix64(state_++); }
  double uniform() { return double(next_u64() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t randint(int64_t n) { return int64_t(next_u64() % uint64_t(n)); }  // [0, n)
  double normal() {  // Box-Muller
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Both draws of one Box-Muller pair: the cosine (normal()'s draw from the same uniforms) and
  // the sine of the same angle, for half the logarithms and angles of two calls to normal().
  void normal_pair(double& c, double& s) {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
    c = r * std::cos(a);
    s = r * std::sin(a);
  }
  // n standard normal draws into out, a pair at a time (an odd n drops the last sine).
  void normals(double* out, size_t n) {
    for (size_t i = 0; i < n; i += 2) {
      double s;
      normal_pair(out[i], i + 1 < n ? out[i + 1] : s);
    }
  }
  // Gamma(shape, 1), shape > 0: Marsaglia and Tsang's squeeze method; a shape below 1 is
  // boosted to shape + 1 and scaled by U^(1/shape).
  double gamma(double shape) {
    if (shape < 1) {
      double u = uniform();
      if (u < 1e-300) u = 1e-300;
      return gamma(shape + 1) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const double u = uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (u > 0 && std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
    }
  }
  // Beta(a, b) from two gamma variates.
  double beta(double a, double b) {
    const double x = gamma(a), y = gamma(b);
    return x + y > 0 ? x / (x + y) : 0.5;
  }
  template <class V>
  void shuffle(V& v) {  // Fisher-Yates
    for (int64_t i = int64_t(v.size()) - 1; i > 0; --i) {
      int64_t j = randint(i + 1);
      std::swap(v[i], v[j]);
    }
  }

 private:
  uint64_t state_;
};

}  // namespace duet
