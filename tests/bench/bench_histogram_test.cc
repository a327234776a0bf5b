#include <catch2/catch.hpp>

#include "bench/loadgen/histogram.h"

using mq::bench::LatencyHistogram;

namespace {

// The histogram promises 1/64 relative precision above the exact range.
bool near(uint64_t actual, uint64_t expected) {
  const double tolerance = static_cast<double>(expected) / 64.0 + 1.0;
  return static_cast<double>(actual) >= static_cast<double>(expected) - tolerance &&
         static_cast<double>(actual) <= static_cast<double>(expected) + tolerance;
}

}  // namespace

TEST_CASE("an empty histogram answers zero", "[bench][histogram]") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile_us(0.5) == 0);
  CHECK(h.percentile_us(0.99) == 0);
  CHECK(h.max_us() == 0);
  CHECK(h.min_us() == 0);
}

TEST_CASE("small values are exact", "[bench][histogram]") {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.percentile_us(0.5) == 50);
  CHECK(h.percentile_us(0.9) == 90);
  CHECK(h.percentile_us(0.99) == 99);
  CHECK(h.percentile_us(1.0) == 100);
  CHECK(h.percentile_us(0.0) == 1);
  CHECK(h.mean_us() == Approx(50.5));
}

TEST_CASE("percentiles of a uniform distribution are within bucket precision",
          "[bench][histogram]") {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100000; ++v) h.record(v);
  CHECK(near(h.percentile_us(0.5), 50000));
  CHECK(near(h.percentile_us(0.9), 90000));
  CHECK(near(h.percentile_us(0.99), 99000));
  CHECK(near(h.percentile_us(0.999), 99900));
  CHECK(h.percentile_us(1.0) == 100000);
  CHECK(h.max_us() == 100000);
  CHECK(h.min_us() == 1);
}

TEST_CASE("a constant distribution answers the constant at every percentile",
          "[bench][histogram]") {
  LatencyHistogram h;
  h.record(1234, 5000);
  CHECK(h.count() == 5000);
  CHECK(h.percentile_us(0.01) == 1234);
  CHECK(h.percentile_us(0.5) == 1234);
  CHECK(h.percentile_us(0.999) == 1234);
}

TEST_CASE("a rare slow tail shows at p99.9 but not at p99", "[bench][histogram]") {
  LatencyHistogram h;
  h.record(200, 9950);    // 99.5% fast
  h.record(50000, 50);    // 0.5% slow
  CHECK(near(h.percentile_us(0.5), 200));
  CHECK(near(h.percentile_us(0.99), 200));
  CHECK(near(h.percentile_us(0.999), 50000));
  CHECK(h.max_us() == 50000);
}

TEST_CASE("merging equals recording everything in one", "[bench][histogram]") {
  LatencyHistogram a, b, all;
  for (uint64_t v = 1; v <= 5000; ++v) {
    (v % 3 == 0 ? a : b).record(v * 7);
    all.record(v * 7);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.min_us() == all.min_us());
  CHECK(a.max_us() == all.max_us());
  CHECK(a.mean_us() == Approx(all.mean_us()));
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) CHECK(a.percentile_us(q) == all.percentile_us(q));
}

TEST_CASE("huge values are clamped, not lost", "[bench][histogram]") {
  LatencyHistogram h;
  h.record(UINT64_MAX);
  h.record(10);
  CHECK(h.count() == 2);
  CHECK(h.max_us() == LatencyHistogram::kValueUsMax);
  CHECK(h.percentile_us(1.0) == LatencyHistogram::kValueUsMax);
  h.reset();
  CHECK(h.count() == 0);
  CHECK(h.percentile_us(0.5) == 0);
}
