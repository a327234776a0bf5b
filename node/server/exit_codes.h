// Every exit code of `mq node`, in one place (the README lists them).
// Storage maps its own failures onto these (node/storage/status.h).
#pragma once

namespace mq::server {

enum NodeExit : int {
  kNodeExitOk = 0,            // stopped by SIGTERM/SIGINT after a clean shutdown
  kNodeExitUsage = 2,         // bad flags or configuration
  kNodeExitCannotStart = 5,   // port in use, data dir unusable or locked by another process
  kNodeExitCorruptData = 10,  // a data dir record failed its checksum (not a torn tail)
  kNodeExitForeignData = 11,  // the data dir belongs to another node or cluster
  kNodeExitStorageFailed = 12,  // a write or fsync failed (e.g. disk full): stopped unacknowledged
  // The data dir is empty but the node is told it joins an existing cluster
  // (--initial-cluster-state existing): its log and its votes are lost, and
  // a node that forgot whom it voted for and what it acknowledged cannot
  // take part again without a membership change.
  kNodeExitDataLost = 13,
  // The node was removed from its cluster (mq member remove): its data dir
  // holds a member that no longer exists; a new member joins empty.
  kNodeExitRemoved = 14,
};

}  // namespace mq::server
