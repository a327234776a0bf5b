// The copy of the host's counters that /metrics formats (host_metrics.h):
// taken on the loop thread, in one go, so that one scrape's numbers agree.
#include "node/server/node_host.h"

namespace mq::server {

void NodeHost::report_metrics(HostMetricsReport* report) const {
  report->node = topology().self_info().id;
  report->shards.clear();
  report->shards.reserve(groups_.size());
  for (const auto& gp : groups_) {
    if (!gp || is_meta(*gp)) continue;
    const ShardGroup& g = *gp;
    HostMetricsReport::Shard& s = report->shards.emplace_back();
    s.shard = g.shard;
    s.has_leader = g.lead != raft::kNoNode;
    s.is_leader = g.role == raft::Role::kLeader;
    s.term = g.term;
    s.commit_index = g.node->committed();
    s.applied_index = g.sm.applied_index();
    s.proposals_pending = g.writes.size();
    s.lease_reads = g.lease_reads.load(std::memory_order_relaxed);
    s.keys = g.sm.key_count();
    s.key_value_bytes = g.sm.key_value_bytes();
    s.counters = g.counters;
  }
  report->peers.clear();
  for (const PeerInfo& p : topology().nodes) {
    if (p.raft_id == topology().self || p.removed || p.raft_id >= metrics_.peers.size()) continue;
    const PeerCounters& c = metrics_.peers[p.raft_id];
    HostMetricsReport::Peer& r = report->peers.emplace_back();
    r.id = p.id;
    r.messages_sent = c.messages_sent;
    r.bytes_sent = c.bytes_sent;
    r.messages_received = c.messages_received;
    r.bytes_received = c.bytes_received;
    r.round_trip = c.round_trip;
  }
  report->wal_bytes_written = disk_->wal_bytes_written();
  report->wal_segments = disk_->wal_segment_count();
  report->memory_in_use_bytes = memory_in_use_;
  report->memory_limit_bytes = options_.max_memory_bytes;
  report->memory_full = memory_full_;
  report->wal_fsync = metrics_.wal_fsync;
  report->snapshot_save = metrics_.snapshot_save;
  report->snapshot_install = metrics_.snapshot_install;
}

}  // namespace mq::server
