// The request metrics the gRPC services and the REST API share: every
// request counted once under its labels, its time in the right bucket,
// whichever thread recorded it.
#include "node/http/request_metrics.h"

#include <catch2/catch.hpp>
#include <prometheus/metric_family.h>

#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace mq::http {
namespace {

using Labels = std::map<std::string, std::string>;

const prometheus::MetricFamily& family(const std::vector<prometheus::MetricFamily>& families,
                                       const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return f;
  }
  FAIL("no family " << name);
  throw std::logic_error("unreachable");
}

const prometheus::ClientMetric* series(const prometheus::MetricFamily& f, const Labels& labels) {
  for (const auto& m : f.metric) {
    Labels have;
    for (const auto& l : m.label) have[l.name] = l.value;
    if (have == labels) return &m;
  }
  return nullptr;
}

double requests(const RequestMetrics& metrics, const Labels& labels) {
  std::vector<prometheus::MetricFamily> families;
  metrics.collect(&families);
  const auto* m = series(family(families, "mq_requests_total"), labels);
  return m ? m->counter.value : 0;
}

prometheus::ClientMetric::Histogram durations(const RequestMetrics& metrics, const Labels& labels) {
  std::vector<prometheus::MetricFamily> families;
  metrics.collect(&families);
  const auto* m = series(family(families, "mq_request_duration_seconds"), labels);
  REQUIRE(m);
  return m->histogram;
}

uint64_t cumulative_at(const prometheus::ClientMetric::Histogram& h, double upper_bound) {
  for (const auto& b : h.bucket) {
    if (b.upper_bound == upper_bound) return b.cumulative_count;
  }
  FAIL("no bucket with bound " << upper_bound);
  return 0;
}

}  // namespace

TEST_CASE("requests are counted by api, method and outcome", "[request_metrics]") {
  RequestMetrics metrics;
  for (int i = 0; i < 3; ++i) metrics.observe("grpc", "set", "ok", 0.001);
  metrics.observe("grpc", "set", "not_leader", 0.001);
  metrics.observe("rest", "set", "ok", 0.001);
  metrics.observe("grpc", "get", "ok", 0.001);

  CHECK(requests(metrics, {{"api", "grpc"}, {"method", "set"}, {"outcome", "ok"}}) == 3);
  CHECK(requests(metrics, {{"api", "grpc"}, {"method", "set"}, {"outcome", "not_leader"}}) == 1);
  CHECK(requests(metrics, {{"api", "rest"}, {"method", "set"}, {"outcome", "ok"}}) == 1);
  CHECK(requests(metrics, {{"api", "grpc"}, {"method", "get"}, {"outcome", "ok"}}) == 1);
  CHECK(requests(metrics, {{"api", "rest"}, {"method", "get"}, {"outcome", "ok"}}) == 0);

  // Latency is per api and method: both outcomes of grpc set are in it.
  CHECK(durations(metrics, {{"api", "grpc"}, {"method", "set"}}).sample_count == 4);
  CHECK(durations(metrics, {{"api", "rest"}, {"method", "set"}}).sample_count == 1);
}

TEST_CASE("request durations land in buckets from 100 us to 10 s", "[request_metrics]") {
  RequestMetrics metrics;
  const Labels labels{{"api", "grpc"}, {"method", "get"}};
  metrics.observe("grpc", "get", "ok", 0.00005);  // below the lowest bound
  metrics.observe("grpc", "get", "ok", 0.0001);   // on a bound: in that bucket
  metrics.observe("grpc", "get", "ok", 0.003);
  metrics.observe("grpc", "get", "ok", 0.7);
  metrics.observe("grpc", "get", "unavailable", 12.0);  // above the highest

  const auto h = durations(metrics, labels);
  CHECK(h.sample_count == 5);
  CHECK(h.sample_sum == Approx(0.00005 + 0.0001 + 0.003 + 0.7 + 12.0));
  REQUIRE(h.bucket.size() == 17);
  CHECK(h.bucket.front().upper_bound == 0.0001);
  CHECK(h.bucket[h.bucket.size() - 2].upper_bound == 10.0);
  CHECK(h.bucket.back().upper_bound == std::numeric_limits<double>::infinity());
  CHECK(cumulative_at(h, 0.0001) == 2);
  CHECK(cumulative_at(h, 0.0025) == 2);
  CHECK(cumulative_at(h, 0.005) == 3);
  CHECK(cumulative_at(h, 0.5) == 3);
  CHECK(cumulative_at(h, 1.0) == 4);
  CHECK(cumulative_at(h, 10.0) == 4);
  CHECK(h.bucket.back().cumulative_count == 5);
}

TEST_CASE("two request metrics never share series, even from one thread", "[request_metrics]") {
  // The calling thread caches series per instance: switching between
  // instances, and a new one at a freed one's address, must not mix them.
  const Labels ok{{"api", "grpc"}, {"method", "set"}, {"outcome", "ok"}};
  RequestMetrics a;
  {
    RequestMetrics b;
    a.observe("grpc", "set", "ok", 0.001);
    b.observe("grpc", "set", "ok", 0.001);
    b.observe("grpc", "set", "ok", 0.001);
    a.observe("grpc", "set", "ok", 0.001);
    CHECK(requests(a, ok) == 2);
    CHECK(requests(b, ok) == 2);
  }
  for (int i = 0; i < 10; ++i) {
    RequestMetrics c;
    c.observe("grpc", "set", "ok", 0.001);
    CHECK(requests(c, ok) == 1);
  }
  CHECK(requests(a, ok) == 2);
}

TEST_CASE("requests recorded on many threads are all counted", "[request_metrics]") {
  RequestMetrics metrics;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      const char* outcome = t % 2 == 0 ? "ok" : "overloaded";
      for (int i = 0; i < kPerThread; ++i) metrics.observe("grpc", "set", outcome, 0.0002);
    });
  }
  for (auto& th : threads) th.join();
  CHECK(requests(metrics, {{"api", "grpc"}, {"method", "set"}, {"outcome", "ok"}}) ==
        kThreads / 2 * kPerThread);
  CHECK(requests(metrics, {{"api", "grpc"}, {"method", "set"}, {"outcome", "overloaded"}}) ==
        kThreads / 2 * kPerThread);
  const auto h = durations(metrics, {{"api", "grpc"}, {"method", "set"}});
  CHECK(h.sample_count == kThreads * kPerThread);
  CHECK(cumulative_at(h, 0.00025) == kThreads * kPerThread);
  CHECK(cumulative_at(h, 0.0001) == 0);
}

}  // namespace mq::http
