// The key space of a bench run and the choice of each next operation.
//
// Key index k in [0, keys) is record (user "user<k % users>", key "key<k>"),
// so every run with the same --keys/--users touches the same records, and a
// get run after a set run (or after --preload) finds them. Keys are drawn
// uniformly. For pipelined runs the indices are also grouped by shard: a
// batch takes all its keys from one shard so that it goes to one leader in
// one call, as a batching client of a sharded store would do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/options.h"

namespace mq::bench {

// A small, fast, per-client generator (splitmix64): the driver draws a few
// numbers per request and must not share state between threads.
class BenchRng {
 public:
  explicit BenchRng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

class KeySpace {
 public:
  // Precondition: validate_bench_options(o) == "".
  explicit KeySpace(const BenchOptions& o);

  std::string user(uint64_t index) const;
  std::string key(uint64_t index) const;
  uint32_t shard(uint64_t index) const { return user_shard_[index % users_]; }
  uint64_t size() const { return keys_; }

  uint64_t random_index(BenchRng& rng) const { return rng.below(keys_); }
  // A random index in the same shard as `index` (uniform within the shard).
  uint64_t random_index_in_shard_of(uint64_t index, BenchRng& rng) const;

 private:
  uint64_t keys_;
  uint32_t users_;
  std::vector<uint32_t> user_shard_;               // shard of each user
  std::vector<std::vector<uint32_t>> shard_users_;  // users of each shard
};

// True when the next operation of a run should be a get.
bool next_is_get(const BenchOptions& o, BenchRng& rng);

}  // namespace mq::bench
