// ReadIndex bookkeeping on the leader (Ongaro's dissertation, 6.4): a read
// remembers the commit index when it arrived and is released once a quorum
// of voters has answered a heartbeat sent after it, proving that no newer
// leader could have committed anything the read would miss.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "node/raft/types.h"

namespace mq::raft {

// A read may be served once the state machine has applied `index`.
struct ReadState {
  uint64_t index = 0;
  std::string context;
};

class ReadOnly {
 public:
  struct Request {
    std::string context;
    uint64_t index = 0;
    std::set<NodeId> acks;
  };

  bool contains(const std::string& context) const;
  void add(std::string context, uint64_t index, NodeId self);
  // Records `from` acknowledging the round of `context`; returns the acks so far.
  const std::set<NodeId>* ack(const std::string& context, NodeId from);
  // Removes and returns every request up to and including `context`: a
  // heartbeat round proves leadership for all reads that came before it.
  std::vector<Request> release_through(const std::string& context);
  // Context of the newest request, for the next heartbeat to carry.
  const std::string* last_context() const;
  size_t size() const { return queue_.size(); }
  void clear() { queue_.clear(); }

 private:
  std::deque<Request> queue_;
};

}  // namespace mq::raft
