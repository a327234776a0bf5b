// Disk follows the data: WAL segments are shared by every group and go only
// once every group has compacted past its entries in them, so one group
// that snapshots rarely (little traffic since its last snapshot) would keep
// every segment written after its last one. When the WAL holds more than
// its budget (storage.h: about the size of the snapshots), the groups
// holding back its oldest segment are snapshotted early and compacted
// through their entries in it, keeping the data dir near twice the live
// data plus the segment being written.
#include "node/server/node_host.h"

namespace mq::server {

void NodeHost::release_wal() {
  if (!disk_->wal_over_budget()) return;
  for (const auto& [storage_id, index] : disk_->oldest_segment_pins()) {
    ShardGroup* g = group(slot_of_group(storage_id));
    // Entries not applied yet cannot be covered; the group's own snapshot
    // will, once they are.
    if (g == nullptr || g->storage_id != storage_id || g->sm.applied_index() < index) continue;
    if (g->log.snapshot_meta().index < index && !take_snapshot(*g)) continue;
    if (g->log.first_index() <= index && !g->log.compact(index)) continue;
    compact_disk_later(*g, index);
  }
}

}  // namespace mq::server
