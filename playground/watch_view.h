// `mq cluster watch`: a live terminal view of a local cluster. The pieces
// here are pure (no terminal, no clock): an event tracker that turns
// successive views into events (leader changes with how long the shard had
// no leader, nodes going down or coming back, health changes), and the
// rendering of a shard-by-node grid with the newest events under it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "playground/cluster_view.h"

namespace mq::playground {

struct ClusterEvent {
  int64_t time_ms = 0;  // on the caller's clock
  std::string text;
  // Leader changes only.
  bool leader_change = false;
  uint32_t shard = 0;
  std::string from, to;   // "" = none
  uint64_t term = 0;
  int64_t leaderless_ms = 0;  // since the old leader was last seen leading
};

class EventTracker {
 public:
  // Events between the previous view and this one (none for the first).
  std::vector<ClusterEvent> observe(const ClusterView& view, int64_t now_ms);

 private:
  std::optional<ClusterView> previous_;
  std::map<uint32_t, std::string> leader_;          // last known leader per shard
  std::map<uint32_t, int64_t> last_led_ms_;         // when it was last seen leading
};

// The grid: one row per shard (term, commit, leader, one cell per node:
// L = leader, F = follower with its lag when not 0, C = candidate,
// ? = no answer, x = node down, . = no replica there), the node line, the
// health line and up to events_max newest events. color: ANSI colours.
std::string render_watch(const ClusterView& view, const std::deque<ClusterEvent>& events,
                         size_t events_max, bool color);

}  // namespace mq::playground
