#include "node/server/metrics_export.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "node/http/request_metrics.h"
#include "node/server/host_metrics.h"
#include "node/server/raft_backend.h"

#ifndef MQ_VERSION_STRING
#define MQ_VERSION_STRING "unknown"
#endif

namespace mq::server {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

ClientMetric& add(MetricFamily& f, std::string label, std::string value) {
  ClientMetric& m = f.metric.emplace_back();
  m.label.push_back({std::move(label), std::move(value)});
  return m;
}

void set_histogram(ClientMetric& m, const DurationHistogram& h) {
  const auto& bounds = h.upper_bounds_seconds();
  const auto counts = h.counts();
  uint64_t cumulative = 0;
  m.histogram.bucket.reserve(bounds.size() + 1);
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts[i];
    m.histogram.bucket.push_back({cumulative, bounds[i]});
  }
  cumulative += counts[bounds.size()];
  m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = h.sum_seconds();
}

MetricFamily histogram(std::string name, std::string help, const DurationHistogram& h) {
  MetricFamily f = family(std::move(name), std::move(help), MetricType::Histogram);
  set_histogram(f.metric.emplace_back(), h);
  return f;
}

// One family per per-shard value: `value` picks it out of a shard's report.
template <typename Value>
void add_shard_family(std::vector<MetricFamily>* out, const HostMetricsReport& host,
                      const std::vector<std::string>& shard_labels, std::string name, std::string help,
                      MetricType type, Value value) {
  MetricFamily f = family(std::move(name), std::move(help), type);
  f.metric.reserve(host.shards.size());
  for (size_t i = 0; i < host.shards.size(); ++i) {
    ClientMetric& m = add(f, "shard", shard_labels[i]);
    const double v = static_cast<double>(value(host.shards[i]));
    if (type == MetricType::Counter) {
      m.counter.value = v;
    } else {
      m.gauge.value = v;
    }
  }
  out->push_back(std::move(f));
}

void add_shard_families(std::vector<MetricFamily>* out, const HostMetricsReport& host) {
  using Shard = HostMetricsReport::Shard;
  std::vector<std::string> labels;
  labels.reserve(host.shards.size());
  for (const Shard& s : host.shards) labels.push_back(std::to_string(s.shard));
  auto shard_family = [&](std::string name, std::string help, MetricType type, auto value) {
    add_shard_family(out, host, labels, std::move(name), std::move(help), type, value);
  };
  const MetricType gauge = MetricType::Gauge, counter = MetricType::Counter;
  shard_family("mq_server_has_leader",
               "Whether this replica of the shard knows a leader (1) or not (0).", gauge,
               [](const Shard& s) { return s.has_leader; });
  shard_family("mq_server_is_leader", "Whether this node leads the shard (1) or not (0).", gauge,
               [](const Shard& s) { return s.is_leader; });
  shard_family("mq_raft_term", "The Raft term this replica of the shard is in.", gauge,
               [](const Shard& s) { return s.term; });
  shard_family("mq_raft_commit_index", "The highest log index this replica knows to be committed.",
               gauge, [](const Shard& s) { return s.commit_index; });
  shard_family("mq_raft_applied_index", "The highest log index applied to this replica's map.",
               gauge, [](const Shard& s) { return s.applied_index; });
  shard_family("mq_server_leader_changes_seen_total",
               "Times this replica saw a new leader of the shard (from none or another node).",
               counter, [](const Shard& s) { return s.counters.leader_changes_seen; });
  shard_family("mq_server_proposals_committed_total",
               "Writes proposed by this node that committed and applied.", counter,
               [](const Shard& s) { return s.counters.proposals_committed; });
  shard_family("mq_server_proposals_failed_total",
               "Writes proposed by this node that did not apply as far as it knows: refused by "
               "Raft, or abandoned with an unknown outcome when the leadership moved.",
               counter, [](const Shard& s) { return s.counters.proposals_failed; });
  shard_family("mq_server_proposals_pending",
               "Writes proposed by this node that have not applied or failed yet.", gauge,
               [](const Shard& s) { return s.proposals_pending; });
  shard_family("mq_server_read_index_rounds_total",
               "ReadIndex rounds this node issued as the shard's leader (lease renewals included).",
               counter, [](const Shard& s) { return s.counters.read_index_rounds; });
  shard_family("mq_server_lease_reads_total",
               "Linearizable reads this node answered under its leader lease, without a round.",
               counter, [](const Shard& s) { return s.lease_reads; });
  shard_family("mq_kv_keys", "Keys this replica of the shard holds.", gauge,
               [](const Shard& s) { return s.keys; });
  shard_family("mq_kv_key_value_bytes",
               "Bytes of the keys and values this replica of the shard holds.", gauge,
               [](const Shard& s) { return s.key_value_bytes; });
}

void add_peer_families(std::vector<MetricFamily>* out, const HostMetricsReport& host) {
  using Peer = HostMetricsReport::Peer;
  auto peer_counter = [&](std::string name, std::string help, uint64_t Peer::*field) {
    MetricFamily f = family(std::move(name), std::move(help), MetricType::Counter);
    for (const Peer& p : host.peers) add(f, "peer", p.id).counter.value = static_cast<double>(p.*field);
    out->push_back(std::move(f));
  };
  peer_counter("mq_network_peer_sent_messages_total",
               "Raft messages this node handed to its transport for the peer.", &Peer::messages_sent);
  peer_counter("mq_network_peer_sent_bytes_total",
               "Bytes of encoded Raft messages this node handed to its transport for the peer "
               "(before the transport's framing).",
               &Peer::bytes_sent);
  peer_counter("mq_network_peer_received_messages_total",
               "Raft messages this node received from the peer.", &Peer::messages_received);
  peer_counter("mq_network_peer_received_bytes_total",
               "Bytes of encoded Raft messages this node received from the peer.",
               &Peer::bytes_received);
  MetricFamily rtt = family(
      "mq_network_peer_round_trip_time_seconds",
      "Time from this node sending a heartbeat to the peer until its loop takes the peer's "
      "answer: both network legs, both transports' queues and the peer's loop iteration "
      "(which may hold an fsync). One heartbeat at a time per shard and peer is timed.",
      MetricType::Histogram);
  for (const Peer& p : host.peers) set_histogram(add(rtt, "peer", p.id), p.round_trip);
  out->push_back(std::move(rtt));
}

void add_transport_families(std::vector<MetricFamily>* out, const HostMetricsReport& host) {
  using Transport = HostMetricsReport::Transport;
  auto counter = [&](std::string name, std::string help, uint64_t Transport::*field) {
    MetricFamily f = family(std::move(name), std::move(help), MetricType::Counter);
    f.metric.emplace_back().counter.value = static_cast<double>(host.transport.*field);
    out->push_back(std::move(f));
  };
  counter("mq_network_peer_connections_accepted_total",
          "Connections accepted on this node's peer listener.", &Transport::accepted);
  counter("mq_network_peer_connections_refused_total",
          "Peer connections refused at their hello: another cluster, or a node this node's map "
          "does not list.",
          &Transport::refused);
  counter("mq_network_peer_bad_streams_total",
          "Peer connections closed for bytes that are not well-formed frames.", &Transport::bad_streams);
  counter("mq_network_peer_dials_total", "Connections this node established to its peers.",
          &Transport::connected);
  counter("mq_network_peer_batches_dropped_total",
          "Batches of Raft messages dropped because a peer's queue was full (Raft resends).",
          &Transport::dropped);
}

void add_host_families(std::vector<MetricFamily>* out, const HostMetricsReport& host) {
  add_shard_families(out, host);
  out->push_back(histogram(
      "mq_disk_wal_fsync_duration_seconds",
      "Time of one loop iteration's WAL append: the write and its fdatasync (with fsync "
      "always, one per group written), an injected slow disk included. Not observed with "
      "fsync none.",
      host.wal_fsync));
  MetricFamily wal_bytes =
      family("mq_disk_wal_write_bytes_total",
             "Bytes written to WAL segments: batches, segment headers and checkpoints.",
             MetricType::Counter);
  wal_bytes.metric.emplace_back().counter.value = static_cast<double>(host.wal_bytes_written);
  out->push_back(std::move(wal_bytes));
  auto node_gauge = [out](std::string name, std::string help, double value) {
    MetricFamily f = family(std::move(name), std::move(help), MetricType::Gauge);
    f.metric.emplace_back().gauge.value = value;
    out->push_back(std::move(f));
  };
  node_gauge("mq_disk_wal_segments", "WAL segment files on disk, the one being written included.",
             static_cast<double>(host.wal_segments));
  node_gauge("mq_memory_in_use_bytes",
             "Memory in use as --max-memory counts it (the allocator's bytes), at the last check.",
             static_cast<double>(host.memory_in_use_bytes));
  node_gauge("mq_memory_limit_bytes", "This node's --max-memory; 0: no limit.",
             static_cast<double>(host.memory_limit_bytes));
  node_gauge("mq_memory_full",
             "Whether this node refuses writes for memory (1), having reached --max-memory.",
             host.memory_full ? 1 : 0);
  out->push_back(histogram("mq_snapshot_save_duration_seconds",
                           "Time to take a snapshot of a shard's map and write it to disk; the "
                           "count is the number of snapshots this node saved.",
                           host.snapshot_save));
  out->push_back(histogram("mq_snapshot_install_duration_seconds",
                           "Time to write a snapshot received from a leader to disk and restore "
                           "a shard's map from it; the count is the number installed.",
                           host.snapshot_install));
  add_peer_families(out, host);
  add_transport_families(out, host);
}

}  // namespace

MetricsExporter::MetricsExporter(RaftBackend* backend, http::RequestMetrics* requests)
    : backend_(backend), requests_(requests) {}

void MetricsExporter::render(std::function<void(std::string text)> done) const {
  backend_->report_metrics(
      [this, done = std::move(done)](const HostMetricsReport* host) { done(format(host)); });
}

std::string MetricsExporter::format(const HostMetricsReport* host) const {
  std::vector<MetricFamily> families;
  families.reserve(40);
  if (requests_) requests_->collect(&families);
  if (host) add_host_families(&families, *host);
  process_.collect(&families);
  MetricFamily build = family("mq_build_info", "Always 1; the labels say which mq this node runs.",
                              MetricType::Gauge);
  add(build, "version", MQ_VERSION_STRING).gauge.value = 1;
  families.push_back(std::move(build));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace mq::server
