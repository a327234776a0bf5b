// The core's only source of randomness. Seeded by the caller so that a run is
// a pure function of its seed: the simulator replays any failure from it.
// xoshiro256** seeded through splitmix64 (both public-domain algorithms).
#pragma once

#include <cstdint>

namespace mq::raft {

class Prng {
 public:
  explicit Prng(uint64_t seed = 1) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& word : state_) word = splitmix(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound); bound 0 yields 0. The modulo bias is below 2^-40
  // for the small bounds used here, far under anything a test could notice.
  uint64_t uniform(uint64_t bound) { return bound == 0 ? 0 : next() % bound; }

  // True with probability per_million / 1e6.
  bool chance(uint32_t per_million) { return uniform(1'000'000) < per_million; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace mq::raft
