// The nodes' HTTP listeners as a Prometheus file_sd target list, kept in
// the cluster's state directory so a Prometheus pointed at it
// (examples/monitoring/prometheus.yml) scrapes whatever nodes the cluster
// has, on whatever ports they got, without being edited or restarted:
//
//   [{"targets": ["127.0.0.1:8001", "127.0.0.1:8002"], "labels": {"cluster": "local"}}]
//
// Prometheus re-reads the file when it changes. It is replaced by a rename,
// so a reader sees the old list or the new one, never half of it; nodes
// without an HTTP port are left out.
#pragma once

#include <string>

#include "playground/cluster_state.h"

namespace mq::playground {

constexpr const char* kPrometheusTargetsFileName = "prometheus_targets.json";

// The file's content for this state.
std::string prometheus_targets_json(const ClusterState& state);

// Writes DIR/prometheus_targets.json when its content differs from what is
// there (an unchanged file is not touched, so Prometheus has nothing to
// reload). "" on success, else a one-line reason.
std::string write_prometheus_targets(const std::string& dir, const ClusterState& state);

}  // namespace mq::playground
