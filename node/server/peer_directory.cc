#include "node/server/peer_directory.h"

#include <chrono>

namespace mq::server {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void PeerDirectory::learn(const std::vector<PeerInfo>& nodes) {
  std::lock_guard lock(mutex_);
  for (const PeerInfo& p : nodes) {
    if (!p.id.empty()) ids_[p.id] = p.raft_id;
  }
}

std::optional<raft::NodeId> PeerDirectory::id_of(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void PeerDirectory::set_blocked(std::set<std::string> outbound, std::set<std::string> inbound) {
  std::lock_guard lock(mutex_);
  blocked_out_ = std::move(outbound);
  blocked_in_ = std::move(inbound);
}

std::set<std::string> PeerDirectory::blocked_outbound() const {
  std::lock_guard lock(mutex_);
  return blocked_out_;
}

std::set<std::string> PeerDirectory::blocked_inbound() const {
  std::lock_guard lock(mutex_);
  return blocked_in_;
}

bool PeerDirectory::outbound_blocked(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return blocked_out_.count(name) > 0;
}

bool PeerDirectory::inbound_blocked(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return blocked_in_.count(name) > 0;
}

void PeerDirectory::note_heard(raft::NodeId from) {
  std::lock_guard lock(mutex_);
  last_heard_ms_[from] = now_ms();
}

bool PeerDirectory::recently_heard(raft::NodeId peer, int64_t within_ms) const {
  if (peer == self_) return true;
  std::lock_guard lock(mutex_);
  auto it = last_heard_ms_.find(peer);
  return it != last_heard_ms_.end() && now_ms() - it->second <= within_ms;
}

}  // namespace mq::server
