// `mq cluster watch`: a live terminal view of a local cluster. The pieces
// here are pure (no terminal, no clock): an event tracker that turns
// successive views into events (leader changes with how long the shard had
// no leader, shards losing their leader, nodes going down or coming back,
// health changes), and the rendering of a shard-by-node grid with the
// newest events under it, sized to the terminal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "playground/cluster_view.h"

namespace mq::playground {

struct ClusterEvent {
  int64_t time_ms = 0;  // on the caller's clock
  std::string text;
  // Leader changes (a new leader, or the same one in a new term) and
  // losses (a shard seen with no leader after having one).
  bool leader_change = false;
  bool leader_lost = false;
  uint32_t shard = 0;
  std::string from, to;   // "" = none; a loss has only `from`
  uint64_t term = 0;      // the new leader's; for a loss, the lost one's
  int64_t leaderless_ms = 0;  // since the old leader was last seen leading
};

class EventTracker {
 public:
  // Events between the previous view and this one (none for the first).
  std::vector<ClusterEvent> observe(const ClusterView& view, int64_t now_ms);

 private:
  std::optional<ClusterView> previous_;
  std::map<uint32_t, std::string> leader_;          // last known leader per shard
  std::map<uint32_t, uint64_t> leader_term_;        // and its term
  std::map<uint32_t, int64_t> last_led_ms_;         // when it was last seen leading
};

struct WatchLayout {
  // The terminal: no line is wider than width columns, and there are no
  // more lines than height.
  size_t width = 80, height = 24;
  size_t events_max = 12;  // newest events shown, when there is room
  bool color = false;      // ANSI colours (they take no columns)
  int64_t now_ms = 0;      // events are shown by age: now_ms - time_ms
  std::string hint;        // put after the title when it fits: "Ctrl-C to leave"
};

// The grid is one row per shard (term, commit, leader, then a cell per
// node: L leader, F follower, F+N N entries behind, C candidate, ? no
// answer, x node down, . no replica there) when that fits the width and
// leaves at least three rows of events; otherwise the compact layout puts
// several shards on a row, each as "id leader term" and one letter per
// node (f: a follower behind). Shards that fit neither are summarized in
// one line. Then the newest events, as many as the height allows.
std::vector<std::string> render_watch(const ClusterView& view, const std::vector<ClusterEvent>& events,
                                      const WatchLayout& layout);

// A terminal frame that overwrites the previous one in place: cursor home,
// each line followed by erase-to-end-of-line, erase below the last one.
// Nothing blanks the screen between frames, so nothing flickers.
std::string redraw_frame(const std::vector<std::string>& lines);

// Columns a line takes on a terminal: ANSI colour sequences take none.
size_t visible_width(const std::string& line);

}  // namespace mq::playground
