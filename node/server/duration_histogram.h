// A latency histogram for the node host: fixed upper bounds in seconds,
// plain counts, no locks and no clock. The loop thread observes into it;
// the /metrics exporter copies it on the loop and formats the copy
// elsewhere. Counts are per bucket, not cumulative: the exporter sums them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mq::server {

// Sixteen bounds from 100 us to 10 s in 1-2.5-5 steps: an fsync on a fast
// disk, a peer on the same rack, and everything up to an election.
inline constexpr std::array<double, 16> kLatencyBoundsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,   2.5,   5.0,   10.0};
// Snapshots copy a shard's whole map: from a millisecond for a small one
// to minutes for gigabytes.
inline constexpr std::array<double, 16> kSnapshotBoundsSeconds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
    0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0, 300.0};

class DurationHistogram {
 public:
  static constexpr size_t kBoundsCount = 16;
  using Bounds = std::array<double, kBoundsCount>;

  explicit DurationHistogram(const Bounds& upper_bounds_seconds) : bounds_(&upper_bounds_seconds) {}

  void observe(double seconds) {
    size_t i = 0;
    while (i < kBoundsCount && seconds > (*bounds_)[i]) ++i;
    ++counts_[i];
    sum_seconds_ += seconds;
  }

  const Bounds& upper_bounds_seconds() const { return *bounds_; }
  // counts()[i] observations fell in (bound[i-1], bound[i]]; the last one
  // counts those above every bound.
  std::span<const uint64_t, kBoundsCount + 1> counts() const { return counts_; }
  double sum_seconds() const { return sum_seconds_; }
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t c : counts_) n += c;
    return n;
  }

 private:
  const Bounds* bounds_;
  std::array<uint64_t, kBoundsCount + 1> counts_{};
  double sum_seconds_ = 0;
};

}  // namespace mq::server
