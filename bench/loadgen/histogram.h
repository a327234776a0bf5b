// A latency histogram for the load generator: HDR-style log-linear buckets
// at microsecond resolution. Values below 2^kSubBucketBits us are counted
// exactly; above, every power of two is split in 2^(kSubBucketBits-1)
// equal sub-buckets, so a percentile is within 1/64 (about 1.6%) of the
// true value at any magnitude while the whole range (1 us .. ~19 hours)
// fits in about two thousand counters. Recording is O(1) and allocation
// free; merging two histograms adds their counters.
//
// Not thread-safe: each polling thread owns one and hands it over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mq::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;              // exact below 128 us
  static constexpr uint64_t kValueUsMax = (1ull << 36) - 1;  // larger values are clamped

  LatencyHistogram();

  // Adds `count` samples of `value_us` (clamped to kValueUsMax).
  void record(uint64_t value_us, uint64_t count = 1);
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min_us() const { return count_ ? min_us_ : 0; }
  uint64_t max_us() const { return max_us_; }
  double mean_us() const { return count_ ? static_cast<double>(sum_us_) / count_ : 0.0; }

  // The smallest recorded value v (to bucket precision) such that at least
  // `quantile` of the samples are <= v; quantile in [0, 1]. 0 when empty.
  // The answer never exceeds max_us(), so p100 is the exact maximum.
  uint64_t percentile_us(double quantile) const;

 private:
  static size_t bucket_of(uint64_t value_us);
  static uint64_t bucket_high_us(size_t bucket);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_us_ = 0;
  uint64_t min_us_ = UINT64_MAX;
  uint64_t max_us_ = 0;
};

}  // namespace mq::bench
