// The standard process_* families every Prometheus client library exports
// (CPU, memory, file descriptors, start time), read from /proc and
// getrusage on Linux, so that a node's dashboards work like any other
// process's.
#pragma once

#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace mq::server {

class ProcessMetrics {
 public:
  // Reads the process's start time once: it never changes.
  ProcessMetrics();

  // Appends process_cpu_seconds_total, process_resident_memory_bytes,
  // process_virtual_memory_bytes, process_open_fds, process_max_fds and
  // process_start_time_seconds. Any thread. A value the system does not
  // give is left out rather than reported as zero.
  void collect(std::vector<prometheus::MetricFamily>* out) const;

 private:
  double start_time_seconds_ = -1;  // since the epoch; negative: unknown
};

}  // namespace mq::server
