#include "node/http/request_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

namespace mq::http {

namespace {

// From a cached read (100 us) to a write stuck behind a slow disk or an
// election (10 s): the range where a node's latency means something.
const prometheus::Histogram::BucketBoundaries kDurationBucketsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,   2.5,   5.0,   10.0};

// The three label values of one request series, looked up by views so that
// a cache hit builds no string.
struct SeriesKey {
  std::string api, method, outcome;
};
struct SeriesKeyView {
  std::string_view api, method, outcome;
};

struct SeriesKeyHash {
  using is_transparent = void;
  size_t operator()(const SeriesKeyView& k) const {
    const std::hash<std::string_view> h;
    size_t seed = h(k.api);
    seed = seed * 31 + h(k.method);
    return seed * 31 + h(k.outcome);
  }
  size_t operator()(const SeriesKey& k) const { return (*this)(SeriesKeyView{k.api, k.method, k.outcome}); }
};

struct SeriesKeyEqual {
  using is_transparent = void;
  static SeriesKeyView view(const SeriesKey& k) { return {k.api, k.method, k.outcome}; }
  static SeriesKeyView view(const SeriesKeyView& k) { return k; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    const SeriesKeyView x = view(a), y = view(b);
    return x.api == y.api && x.method == y.method && x.outcome == y.outcome;
  }
};

struct Series {
  prometheus::Counter* requests = nullptr;
  prometheus::Histogram* duration = nullptr;
};

// Every RequestMetrics gets an id never used again, so a thread's cache
// can tell whether its pointers belong to the instance it is asked about
// (a later instance may be allocated at a destroyed one's address).
std::atomic<uint64_t> next_instance_id{1};

// Each thread remembers the series it has recorded to, for the one
// instance it last used (a node has one): a hit costs a hash lookup and no
// lock shared with other threads. A miss goes to the families, which lock.
struct ThreadCache {
  uint64_t instance_id = 0;
  std::unordered_map<SeriesKey, Series, SeriesKeyHash, SeriesKeyEqual> series;
};
thread_local ThreadCache thread_cache;

}  // namespace

struct RequestMetrics::Impl {
  const uint64_t id = next_instance_id.fetch_add(1, std::memory_order_relaxed);
  // The families hold the series and lock only to add one or collect; the
  // series' own updates are atomic (counter) or locked per series
  // (histogram), never across series.
  prometheus::Family<prometheus::Counter> requests{
      "mq_requests_total",
      "Requests this node answered, by API (grpc, rest), method and outcome.", {}};
  prometheus::Family<prometheus::Histogram> duration{
      "mq_request_duration_seconds",
      "Time from a request's arrival at its service to its answer, by API and method.", {}};

  Series find_or_add(std::string_view api, std::string_view method, std::string_view outcome) {
    Series s;
    s.requests = &requests.Add(
        {{"api", std::string(api)}, {"method", std::string(method)}, {"outcome", std::string(outcome)}});
    s.duration = &duration.Add({{"api", std::string(api)}, {"method", std::string(method)}},
                               kDurationBucketsSeconds);
    return s;
  }
};

RequestMetrics::RequestMetrics() : impl_(std::make_unique<Impl>()) {}
RequestMetrics::~RequestMetrics() = default;

void RequestMetrics::observe(std::string_view api, std::string_view method,
                             std::string_view outcome, double seconds) {
  ThreadCache& cache = thread_cache;
  if (cache.instance_id != impl_->id) {
    cache.series.clear();
    cache.instance_id = impl_->id;
  }
  auto it = cache.series.find(SeriesKeyView{api, method, outcome});
  if (it == cache.series.end()) {
    it = cache.series
             .emplace(SeriesKey{std::string(api), std::string(method), std::string(outcome)},
                      impl_->find_or_add(api, method, outcome))
             .first;
  }
  it->second.requests->Increment();
  it->second.duration->Observe(seconds);
}

void RequestMetrics::collect(std::vector<prometheus::MetricFamily>* out) const {
  for (auto& f : impl_->requests.Collect()) out->push_back(std::move(f));
  for (auto& f : impl_->duration.Collect()) out->push_back(std::move(f));
}

}  // namespace mq::http
