#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace mq::bench {

namespace {

constexpr uint64_t kExactLimit = 1ull << LatencyHistogram::kSubBucketBits;
constexpr int kSubBucketsPerOctave = 1 << (LatencyHistogram::kSubBucketBits - 1);
// Octaves above the exact range: [2^7, 2^8), ..., [2^35, 2^36).
constexpr int kOctaves = 36 - LatencyHistogram::kSubBucketBits;
constexpr size_t kBucketCount = kExactLimit + static_cast<size_t>(kOctaves) * kSubBucketsPerOctave;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

size_t LatencyHistogram::bucket_of(uint64_t value_us) {
  if (value_us < kExactLimit) return static_cast<size_t>(value_us);
  const int octave_bit = 63 - std::countl_zero(value_us);  // >= kSubBucketBits
  const int shift = octave_bit - (kSubBucketBits - 1);
  const uint64_t sub = (value_us >> shift) - kSubBucketsPerOctave;  // 0..63
  return kExactLimit + static_cast<size_t>(octave_bit - kSubBucketBits) * kSubBucketsPerOctave +
         static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::bucket_high_us(size_t bucket) {
  if (bucket < kExactLimit) return bucket;
  const size_t above = bucket - kExactLimit;
  const int octave_bit = static_cast<int>(above / kSubBucketsPerOctave) + kSubBucketBits;
  const uint64_t sub = above % kSubBucketsPerOctave;
  const int shift = octave_bit - (kSubBucketBits - 1);
  return ((sub + kSubBucketsPerOctave + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t value_us, uint64_t count) {
  if (count == 0) return;
  value_us = std::min(value_us, kValueUsMax);
  counts_[bucket_of(value_us)] += count;
  count_ += count;
  sum_us_ += value_us * count;
  min_us_ = std::min(min_us_, value_us);
  max_us_ = std::max(max_us_, value_us);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_us_ += other.sum_us_;
  min_us_ = std::min(min_us_, other.min_us_);
  max_us_ = std::max(max_us_, other.max_us_);
}

void LatencyHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_us_ = 0;
  min_us_ = UINT64_MAX;
  max_us_ = 0;
}

uint64_t LatencyHistogram::percentile_us(double quantile) const {
  if (count_ == 0) return 0;
  quantile = std::clamp(quantile, 0.0, 1.0);
  // Rank of the sample that answers: at least 1, at most count_.
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_high_us(i), min_us_, max_us_);
  }
  return max_us_;
}

}  // namespace mq::bench
