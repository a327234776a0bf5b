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

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string format_clock(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%6.2fs", static_cast<double>(ms) / 1000.0);
  return buf;
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
    if (!s.leader.empty() && s.leader != old) {
      ClusterEvent e;
      e.time_ms = now_ms;
      e.leader_change = true;
      e.shard = s.id;
      e.from = old;
      e.to = s.leader;
      e.term = s.term;
      const bool first_sight = !previous_ && old.empty();
      e.leaderless_ms = last_led_ms_.count(s.id) ? now_ms - last_led_ms_[s.id] : 0;
      e.text = "shard " + std::to_string(s.id) + ": leader " + (old.empty() ? "none" : old) +
               " -> " + s.leader + " (term " + std::to_string(s.term) + ")";
      if (!old.empty() || last_led_ms_.count(s.id)) {
        e.text += ", no leader for " + std::to_string(e.leaderless_ms) + " ms";
      }
      if (!first_sight) events.push_back(e);
      leader_[s.id] = s.leader;
    }
    if (!s.leader.empty()) last_led_ms_[s.id] = now_ms;
  }
  previous_ = view;
  return events;
}

std::string render_watch(const ClusterView& view, const std::deque<ClusterEvent>& events,
                         size_t events_max, bool color) {
  auto paint = [color](const std::string& s, const char* c) {
    return color ? std::string(c) + s + kReset : s;
  };
  std::string out;
  const char* hc = view.health == Health::kHealthy    ? kGreen
                   : view.health == Health::kDegraded ? kYellow
                                                      : kRed;
  out += paint("cluster " + view.name, kBold) + "  " + paint(view.health_line(), hc) + "\n";
  std::string nodes_line = "nodes:";
  for (const auto& n : view.nodes) {
    const std::string w = n.state_word();
    nodes_line += " " + n.id + "=" + paint(w, w == "up" ? kGreen : w == "down" ? kRed : kYellow);
  }
  out += nodes_line + "\n\n";

  constexpr size_t kCellWidth = 7;
  std::string header = pad("shard", 6) + pad("term", 6) + pad("commit", 9) + pad("leader", 8);
  for (const auto& n : view.nodes) header += pad(n.id, kCellWidth);
  out += header + "\n";
  for (const auto& s : view.shards) {
    std::string row = pad(std::to_string(s.id), 6) + pad(std::to_string(s.term), 6) +
                      pad(std::to_string(s.commit), 9) +
                      (s.leader.empty() ? paint(pad("-", 8), kRed) : pad(s.leader, 8));
    for (const auto& n : view.nodes) {
      std::string cell = ".";
      const char* c = nullptr;
      for (const auto& r : s.replicas) {
        if (r.node != n.id) continue;
        if (n.liveness != Liveness::kUp) {
          cell = "x";
          c = kRed;
        } else if (r.role == "leader") {
          cell = "L";
          c = kGreen;
        } else if (r.role == "follower") {
          cell = "F";
          if (r.lag_known && r.lag > 0) {
            cell += "+" + std::to_string(r.lag);
            c = kYellow;
          }
        } else if (r.role == "candidate" || r.role == "precandidate" || r.role == "pre-candidate") {
          cell = "C";
          c = kYellow;
        } else {
          cell = r.role == "-" ? "x" : "?";
          c = kRed;
        }
      }
      row += c ? paint(pad(cell, kCellWidth), c) : pad(cell, kCellWidth);
    }
    out += row + "\n";
  }
  out += "\nevents (newest last):\n";
  const size_t first = events.size() > events_max ? events.size() - events_max : 0;
  for (size_t i = first; i < events.size(); ++i) {
    out += "  " + format_clock(events[i].time_ms) + "  " + events[i].text + "\n";
  }
  if (events.empty()) out += "  (none yet)\n";
  return out;
}

}  // namespace mq::playground
