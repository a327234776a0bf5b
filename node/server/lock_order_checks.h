// gRPC locks absl::Mutex on every call. Unless absl is built with NDEBUG
// (Debian's is not), each lock also records lock-order edges in a global
// graph to detect deadlocks: about 4% of a loaded node's CPU, measured with
// perf (GraphCycles::GetId and friends). mq's own code uses std::mutex, so
// the detector guards nothing of ours; the processes that serve or drive
// load turn it off at start.
#pragma once

#include <absl/synchronization/mutex.h>

namespace mq::server {

inline void disable_lock_order_checks() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace mq::server
