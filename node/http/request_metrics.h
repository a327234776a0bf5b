// Requests served by a node, by API ("grpc", "rest"), method ("set", "get",
// "delete", "list", "batch", "status", "health", ...) and outcome ("ok",
// "not_found", "invalid_argument", "unavailable", "unknown_outcome",
// "overloaded", "permission_denied", "internal"), with a latency histogram
// per API and method. Both the gRPC services and the REST API record here;
// the /metrics exporter collects it. Every method is thread-safe.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace mq::http {

class RequestMetrics {
 public:
  RequestMetrics();
  ~RequestMetrics();
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  void observe(std::string_view api, std::string_view method, std::string_view outcome,
               double seconds);
  // Appends mq_requests_total and mq_request_duration_seconds.
  void collect(std::vector<prometheus::MetricFamily>* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::http
