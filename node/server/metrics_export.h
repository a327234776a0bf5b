// The node's /metrics page: the Prometheus text of the node host's
// counters and gauges (host_metrics.h), the requests its services answered
// (node/http/request_metrics.h), the process (process_metrics.h) and the
// build. The HTTP listener serves what render() produces.
//
// Names follow etcd's where etcd has a metric of the same meaning, with
// an mq_ prefix (mq_server_has_leader, mq_disk_wal_fsync_duration_seconds,
// mq_network_peer_sent_bytes_total, ...); per-shard series carry a `shard`
// label, per-peer series a `peer` label (the peer's node id).
#pragma once

#include <functional>
#include <string>

#include "node/server/process_metrics.h"

namespace mq::http {
class RequestMetrics;
}

namespace mq::server {

class RaftBackend;
struct HostMetricsReport;

class MetricsExporter {
 public:
  // Both must outlive the exporter and every render() in progress;
  // requests may be null (no request families then).
  MetricsExporter(RaftBackend* backend, http::RequestMetrics* requests);

  // Takes the host's numbers on its loop thread and calls done with the
  // whole page, on the loop thread (or on the caller's, when the loop has
  // stopped: the page then holds no host families). Formatting 16 shards
  // took about 0.12 ms of the loop's time (0.2 ms for the whole render) on
  // the 2-core test machine: a scrape a second costs the loop 0.01%.
  void render(std::function<void(std::string text)> done) const;

  // The page for a given report (null: no host families); what render()
  // sends once it has the report.
  std::string format(const HostMetricsReport* host) const;

 private:
  RaftBackend* backend_;
  http::RequestMetrics* requests_;
  ProcessMetrics process_;
};

}  // namespace mq::server
