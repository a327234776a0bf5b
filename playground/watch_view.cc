#include "playground/watch_view.h"

#include <algorithm>
#include <cstdio>

namespace mq::playground {

namespace {

constexpr const char* kReset = "\x1b[0m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kBold = "\x1b[1m";

// Rows the events keep at least before the full grid gives way to the
// compact one: fewer would hide the failover the user is watching for.
constexpr size_t kEventRowsMin = 3;
constexpr size_t kCellWidth = 7;           // a node's cell in the full grid
constexpr size_t kCompactGap = 3;          // between shards on a compact row

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// "4.2s", "3m05s", "2h07m": how long ago, in at most 6 columns for a day.
std::string format_age(int64_t ms) {
  ms = std::max<int64_t>(ms, 0);
  char buf[32];
  if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms / 60'000 % 60));
  }
  return buf;
}

// Cuts a line to width visible columns, keeping colour sequences whole
// and closing a colour left open.
std::string truncate_visible(const std::string& line, size_t width) {
  std::string out;
  size_t cols = 0;
  bool coloured = false;
  for (size_t i = 0; i < line.size();) {
    if (line[i] == '\x1b') {
      const size_t end = line.find('m', i);
      if (end == std::string::npos) break;
      const std::string seq = line.substr(i, end + 1 - i);
      coloured = seq != kReset;
      out += seq;
      i = end + 1;
      continue;
    }
    if (cols == width) break;
    out += line[i++];
    ++cols;
  }
  if (coloured) out += kReset;
  return out;
}

struct Painter {
  bool color;
  std::string operator()(const std::string& s, const char* c) const {
    return color && c ? std::string(c) + s + kReset : s;
  }
};

// One node's role in one shard: the full cell text ("F+3") and the colour.
struct RoleCell {
  std::string text;
  const char* color = nullptr;
  char letter = '.';  // for the compact layout
};

RoleCell role_cell(const ShardView& s, const NodeView& n) {
  for (const auto& r : s.replicas) {
    if (r.node != n.id) continue;
    if (n.liveness != Liveness::kUp) return {"x", kRed, 'x'};
    if (r.role == "leader") return {"L", kGreen, 'L'};
    if (r.role == "follower") {
      if (r.lag_known && r.lag > 0) return {"F+" + std::to_string(r.lag), kYellow, 'f'};
      return {"F", nullptr, 'F'};
    }
    if (r.role == "candidate" || r.role == "pre-candidate") return {"C", kYellow, 'C'};
    if (r.role == "-") return {"x", kRed, 'x'};
    return {"?", kRed, '?'};
  }
  return {".", nullptr, '.'};
}

size_t full_row_width(size_t nodes) { return 6 + 6 + 9 + 8 + kCellWidth * nodes; }

std::vector<std::string> full_grid(const ClusterView& view, const Painter& paint) {
  std::vector<std::string> rows;
  std::string header = pad("shard", 6) + pad("term", 6) + pad("commit", 9) + pad("leader", 8);
  for (const auto& n : view.nodes) header += pad(n.id, kCellWidth);
  rows.push_back(header);
  for (const auto& s : view.shards) {
    std::string row = pad(std::to_string(s.id), 6) + pad(std::to_string(s.term), 6) +
                      pad(std::to_string(s.commit), 9) +
                      (s.leader.empty() ? paint(pad("-", 8), kRed) : pad(s.leader, 8));
    for (const auto& n : view.nodes) {
      const RoleCell c = role_cell(s, n);
      row += paint(pad(c.text, kCellWidth), c.color);
    }
    rows.push_back(row);
  }
  return rows;
}

// Shards column by column (0..k-1 down the first, and so on), each cell
// "id leader term letters"; rows_max bounds the rows of shards, the last
// of which then says how many did not fit.
std::vector<std::string> compact_grid(const ClusterView& view, const Painter& paint, size_t width,
                                      size_t rows_max) {
  size_t id_w = 2, leader_w = 1, term_w = 2;
  for (const auto& s : view.shards) {
    id_w = std::max(id_w, std::to_string(s.id).size());
    leader_w = std::max(leader_w, s.leader.size());
    term_w = std::max(term_w, std::to_string(s.term).size() + 1);
  }
  const size_t cell_w = id_w + 1 + leader_w + 1 + term_w + 1 + view.nodes.size();
  const size_t columns = std::max<size_t>(1, (width + kCompactGap) / (cell_w + kCompactGap));
  const size_t shards = view.shards.size();
  size_t rows = (shards + columns - 1) / columns;
  size_t shown = shards;
  if (rows > rows_max) {
    // The last row says what is missing.
    rows = rows_max > 0 ? rows_max - 1 : 0;
    shown = rows * columns;
  }
  std::vector<std::string> out;
  std::string node_order;
  for (const auto& n : view.nodes) node_order += (node_order.empty() ? "" : " ") + n.id;
  out.push_back("roles on " + node_order + ": L leader F follower f behind C candidate x down ? no answer");
  for (size_t r = 0; r < rows; ++r) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const size_t i = c * rows + r;
      if (i >= shown) break;
      const ShardView& s = view.shards[i];
      std::string cell = pad_left(std::to_string(s.id), id_w) + " ";
      cell += s.leader.empty() ? paint(pad("-", leader_w), kRed) : pad(s.leader, leader_w);
      cell += " " + pad("t" + std::to_string(s.term), term_w) + " ";
      for (const auto& n : view.nodes) {
        const RoleCell rc = role_cell(s, n);
        cell += paint(std::string(1, rc.letter), rc.color);
      }
      line += (c ? std::string(kCompactGap, ' ') : "") + cell;
    }
    out.push_back(line);
  }
  if (shown < shards) {
    out.push_back("... shards " + std::to_string(view.shards[shown].id) + "-" +
                  std::to_string(view.shards.back().id) + " do not fit (a taller or wider terminal shows them)");
  }
  return out;
}

}  // namespace

std::vector<ClusterEvent> EventTracker::observe(const ClusterView& view, int64_t now_ms) {
  std::vector<ClusterEvent> events;
  if (previous_) {
    if (previous_->health != view.health || previous_->health_reason != view.health_reason) {
      events.push_back({now_ms, "cluster " + view.health_line()});
    }
    for (const auto& n : view.nodes) {
      for (const auto& p : previous_->nodes) {
        if (p.id == n.id && p.state_word() != n.state_word()) {
          events.push_back({now_ms, n.id + " " + p.state_word() + " -> " + n.state_word()});
        }
      }
    }
  }
  for (const auto& s : view.shards) {
    const std::string old = leader_.count(s.id) ? leader_[s.id] : "";
    const uint64_t old_term = leader_term_.count(s.id) ? leader_term_[s.id] : 0;
    // A leader elected again in a new term is a change too: the shard
    // went through an election (its writes stalled meanwhile).
    if (!s.leader.empty() && (s.leader != old || s.term != old_term)) {
      ClusterEvent e;
      e.time_ms = now_ms;
      e.leader_change = true;
      e.shard = s.id;
      e.from = old;
      e.to = s.leader;
      e.term = s.term;
      const bool first_sight = !previous_ && old.empty();
      e.leaderless_ms = last_led_ms_.count(s.id) ? now_ms - last_led_ms_[s.id] : 0;
      e.text = "shard " + std::to_string(s.id) + ": leader " +
               (old == s.leader ? s.leader + " re-elected" : (old.empty() ? "none" : old) + " -> " + s.leader) +
               " (term " + std::to_string(s.term) + ")";
      if (!old.empty() || last_led_ms_.count(s.id)) {
        e.text += ", no leader for " + std::to_string(e.leaderless_ms) + " ms";
      }
      if (!first_sight) events.push_back(e);
      leader_[s.id] = s.leader;
      leader_term_[s.id] = s.term;
    }
    if (s.leader.empty() && previous_) {
      for (const auto& p : previous_->shards) {
        if (p.id != s.id || p.leader.empty()) continue;
        ClusterEvent e;
        e.time_ms = now_ms;
        e.leader_lost = true;
        e.shard = s.id;
        e.from = p.leader;
        e.term = p.term;
        e.text = "shard " + std::to_string(s.id) + ": no leader (" + p.leader + " led in term " +
                 std::to_string(p.term) + ")";
        events.push_back(e);
      }
    }
    if (!s.leader.empty()) last_led_ms_[s.id] = now_ms;
  }
  previous_ = view;
  return events;
}

std::vector<std::string> render_watch(const ClusterView& view, const std::vector<ClusterEvent>& events,
                                      const WatchLayout& layout) {
  const Painter paint{layout.color};
  const size_t width = std::max<size_t>(layout.width, 1);
  std::vector<std::string> lines;
  const char* hc = view.health == Health::kHealthy    ? kGreen
                   : view.health == Health::kDegraded ? kYellow
                                                      : kRed;
  std::string title = paint("cluster " + view.name, kBold) + "  " + paint(view.health_line(), hc);
  if (!layout.hint.empty() && visible_width(title) + 2 + layout.hint.size() <= width) {
    title += "  " + layout.hint;
  }
  lines.push_back(title);
  std::string nodes_line = "nodes:";
  for (const auto& n : view.nodes) {
    const std::string w = n.state_word();
    nodes_line += " " + n.id + "=" + paint(w, w == "up" ? kGreen : w == "down" ? kRed : kYellow);
  }
  lines.push_back(nodes_line);
  lines.push_back("");

  // Below the grid: a blank line and the events' title, then the events.
  constexpr size_t kFixedAbove = 3, kFixedBelow = 2;
  const size_t budget = layout.height > kFixedAbove + kFixedBelow ? layout.height - kFixedAbove - kFixedBelow : 0;
  const size_t events_wanted = std::min(layout.events_max, std::max<size_t>(events.size(), 1));
  const size_t events_min = std::min(events_wanted, kEventRowsMin);
  const size_t grid_rows_max = budget > events_min ? budget - events_min : 0;
  std::vector<std::string> grid;
  if (full_row_width(view.nodes.size()) <= width && view.shards.size() + 1 <= grid_rows_max) {
    grid = full_grid(view, paint);
  } else {
    grid = compact_grid(view, paint, width, grid_rows_max > 0 ? grid_rows_max - 1 : 0);
  }
  lines.insert(lines.end(), grid.begin(), grid.end());

  const size_t used = lines.size() + kFixedBelow;
  const size_t event_rows = layout.height > used ? std::min(layout.height - used, events_wanted) : 0;
  if (layout.height > lines.size() + 1) {
    lines.push_back("");
    lines.push_back("events (newest last):");
    if (events.empty() && event_rows > 0) lines.push_back("  (none yet)");
    const size_t first = events.size() > event_rows ? events.size() - event_rows : 0;
    for (size_t i = first; i < events.size(); ++i) {
      lines.push_back(pad_left(format_age(layout.now_ms - events[i].time_ms), 8) + " ago  " + events[i].text);
    }
  }
  if (lines.size() > layout.height) lines.resize(layout.height);
  for (auto& l : lines) {
    if (visible_width(l) > width) l = truncate_visible(l, width);
  }
  return lines;
}

std::string redraw_frame(const std::vector<std::string>& lines) {
  std::string out = "\x1b[H";
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i] + "\x1b[K";
    // No newline after the last line: on a full screen it would scroll.
    if (i + 1 < lines.size()) out += "\n";
  }
  return out + "\x1b[J";
}

size_t visible_width(const std::string& line) {
  size_t cols = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      const size_t end = line.find('m', i);
      if (end == std::string::npos) break;
      i = end;
      continue;
    }
    ++cols;
  }
  return cols;
}

}  // namespace mq::playground
