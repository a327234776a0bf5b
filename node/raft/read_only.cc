#include "node/raft/read_only.h"

namespace mq::raft {

bool ReadOnly::contains(const std::string& context) const {
  for (const Request& r : queue_) {
    if (r.context == context) return true;
  }
  return false;
}

void ReadOnly::add(std::string context, uint64_t index, NodeId self) {
  if (contains(context)) return;
  Request r;
  r.context = std::move(context);
  r.index = index;
  r.acks.insert(self);
  queue_.push_back(std::move(r));
}

const std::set<NodeId>* ReadOnly::ack(const std::string& context, NodeId from) {
  for (Request& r : queue_) {
    if (r.context == context) {
      r.acks.insert(from);
      return &r.acks;
    }
  }
  return nullptr;
}

std::vector<ReadOnly::Request> ReadOnly::release_through(const std::string& context) {
  std::vector<Request> out;
  size_t n = 0;
  for (; n < queue_.size(); ++n) {
    if (queue_[n].context == context) break;
  }
  if (n == queue_.size()) return out;
  for (size_t i = 0; i <= n; ++i) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return out;
}

const std::string* ReadOnly::last_context() const {
  return queue_.empty() ? nullptr : &queue_.back().context;
}

}  // namespace mq::raft
