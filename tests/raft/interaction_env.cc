#include "tests/raft/interaction_env.h"

#include <algorithm>
#include <stdexcept>

#include "node/raft/conf_change.h"

namespace mq::raft::testing {
namespace {

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

uint64_t num(const std::string& s) { return std::stoull(s); }

std::string describe_entries(const std::vector<Entry>& entries) {
  std::string out;
  for (const Entry& e : entries) {
    out += out.empty() ? "" : " ";
    out += std::to_string(e.term) + "/" + std::to_string(e.index);
    if (e.type == EntryType::kConfChange) {
      auto cc = decode_conf_change(e.data);
      out += cc ? " (" + describe(*cc) + ")" : " (bad conf)";
    } else if (!e.data.empty()) {
      out += " " + e.data;
    }
  }
  return out;
}

}  // namespace

InteractionEnv::InteractionEnv() {
  base_config.election_tick = 10;
  base_config.heartbeat_tick = 1;
  base_config.max_inflight_msgs = 8;
  base_config.max_entries_per_msg = 8;
  base_config.snapshot_chunk_bytes = 16;
}

void InteractionEnv::add_node(NodeId id, const std::vector<NodeId>& bootstrap_voters) {
  Node n;
  n.storage = std::make_unique<MemoryStorage>();
  if (!bootstrap_voters.empty()) bootstrap(*n.storage, bootstrap_voters);
  nodes_[id] = std::move(n);
  restart(id);
}

void InteractionEnv::restart(NodeId id) {
  Node& n = nodes_.at(id);
  Config c = base_config;
  c.id = id;
  c.random_seed = id * 1000 + ++restart_count_;
  // The state machine is rebuilt from the snapshot: anything applied after it
  // is applied again from the log.
  c.applied = n.storage->snapshot().meta.index;
  n.applied.erase(std::remove_if(n.applied.begin(), n.applied.end(),
                                 [&](const Entry& e) { return e.index > c.applied; }),
                  n.applied.end());
  n.raw = std::make_unique<RawNode>(c, *n.storage);
  n.down = false;
}

bool InteractionEnv::deliverable(const Message& m) const {
  auto to = nodes_.find(m.to);
  if (to == nodes_.end() || to->second.down) return false;
  return !cut_.count({m.from, m.to});
}

void InteractionEnv::send_before_persist(NodeId id, Ready& rd, std::ostringstream& out) {
  if (rd.soft_state) {
    out << "  " << id << " soft-state " << to_string(rd.soft_state->role) << " term:" << rd.soft_state->term
        << " lead:" << rd.soft_state->lead << "\n";
  }
  for (Message& m : rd.messages_before_persist) in_flight_.push_back(Flight{std::move(m), true});
}

void InteractionEnv::crash_before_persist(NodeId id, std::ostringstream& out) {
  Node& n = nodes_.at(id);
  if (n.down || !n.raw->has_ready()) throw std::runtime_error("crash-before-persist: no Ready");
  Ready rd = n.raw->ready();
  send_before_persist(id, rd, out);
  if (rd.hard_state) {
    out << "  " << id << " lost term:" << rd.hard_state->term << " vote:" << rd.hard_state->vote
        << " commit:" << rd.hard_state->commit << "\n";
  }
  if (!rd.entries.empty()) out << "  " << id << " lost " << describe_entries(rd.entries) << "\n";
  for (const Message& m : rd.messages) out << "  " << id << " never sent " << describe(m) << "\n";
  n.down = true;
}

bool InteractionEnv::handle_ready(NodeId id, std::ostringstream& out) {
  Node& n = nodes_.at(id);
  if (n.down || !n.raw->has_ready()) return false;
  Ready rd = n.raw->ready();
  send_before_persist(id, rd, out);
  if (rd.hard_state) {
    n.storage->set_hard_state(*rd.hard_state);
    out << "  " << id << " persist term:" << rd.hard_state->term << " vote:" << rd.hard_state->vote
        << " commit:" << rd.hard_state->commit << (rd.must_sync ? "" : " (no sync)") << "\n";
  }
  if (rd.snapshot) {
    n.storage->apply_snapshot(*rd.snapshot);
    n.applied.clear();
    out << "  " << id << " install snapshot " << rd.snapshot->meta.term << "/" << rd.snapshot->meta.index
        << " data:" << rd.snapshot->data << "\n";
  }
  if (!rd.entries.empty()) {
    n.storage->append(rd.entries);
    out << "  " << id << " append " << describe_entries(rd.entries) << "\n";
  }
  if (!rd.committed_entries.empty()) {
    n.applied.insert(n.applied.end(), rd.committed_entries.begin(), rd.committed_entries.end());
    out << "  " << id << " apply " << describe_entries(rd.committed_entries) << "\n";
  }
  for (const ReadState& rs : rd.read_states) {
    out << "  " << id << " read-state index:" << rs.index << " ctx:" << rs.context << "\n";
  }
  for (Message& m : rd.messages) in_flight_.push_back(Flight{std::move(m), false});
  n.raw->advance(rd);
  return true;
}

bool InteractionEnv::round(std::ostringstream& out) {
  bool any = false;
  for (auto& [id, n] : nodes_) any |= handle_ready(id, out);
  std::vector<Flight> batch;
  batch.swap(in_flight_);
  for (const auto& [m, before_persist] : batch) {
    any = true;
    const char* when = before_persist ? " (before persist)" : "";
    if (!deliverable(m)) {
      out << "  dropped " << describe(m) << when << "\n";
      continue;
    }
    out << "  " << describe(m) << when << "\n";
    nodes_.at(m.to).raw->step(m);
  }
  return any;
}

std::string InteractionEnv::deliver_round() {
  std::ostringstream out;
  round(out);
  return out.str();
}

std::string InteractionEnv::stabilize() {
  std::ostringstream out;
  // Bounded: a scenario that does not settle in this many rounds is a bug.
  for (int i = 0; i < 200; ++i) {
    if (!round(out)) return out.str();
  }
  throw std::runtime_error("stabilize: cluster did not settle in 200 rounds");
}

std::string InteractionEnv::run(const std::string& line) {
  const std::vector<std::string> w = split(line);
  if (w.empty()) return "";
  std::ostringstream out;
  const std::string& cmd = w[0];
  if (cmd == "nodes") {
    std::vector<NodeId> ids;
    for (size_t i = 1; i < w.size(); ++i) ids.push_back(num(w[i]));
    for (NodeId id : ids) add_node(id, ids);
    // Apply the bootstrap membership quietly: every scenario starts there.
    stabilize();
  } else if (cmd == "add-empty-node") {
    add_node(num(w[1]), {});
  } else if (cmd == "log-terms") {
    // log-terms <id> <term>...: replace the node's log by entries of these
    // terms (membership from a snapshot at index 0), for divergent-log scenarios.
    const NodeId id = num(w[1]);
    Snapshot s;
    for (auto& [other, n] : nodes_) s.meta.voters.push_back(other);
    Node& n = nodes_.at(id);
    n.storage = std::make_unique<MemoryStorage>();
    n.storage->apply_snapshot(s);
    std::vector<Entry> entries;
    uint64_t max_term = 0;
    for (size_t i = 2; i < w.size(); ++i) {
      Entry e;
      e.term = num(w[i]);
      e.index = entries.size() + 1;
      e.data = "t" + std::to_string(e.term) + "i" + std::to_string(e.index);
      max_term = std::max(max_term, e.term);
      entries.push_back(e);
    }
    n.storage->append(entries);
    n.storage->set_hard_state(HardState{max_term, kNoNode, 0});
    n.applied.clear();
    restart(id);
  } else if (cmd == "campaign") {
    node(num(w[1])).campaign();
  } else if (cmd == "tick") {
    const uint64_t times = w.size() > 2 ? num(w[2]) : 1;
    for (uint64_t i = 0; i < times; ++i) node(num(w[1])).tick();
  } else if (cmd == "tick-all") {
    const uint64_t times = w.size() > 1 ? num(w[1]) : 1;
    for (uint64_t i = 0; i < times; ++i) {
      for (auto& [id, n] : nodes_) {
        if (!n.down) n.raw->tick();
      }
    }
  } else if (cmd == "stabilize") {
    out << stabilize();
  } else if (cmd == "deliver") {
    // One round: every node's Ready, then the messages sent so far.
    out << deliver_round();
  } else if (cmd == "set") {
    // set <field> <value>: before "nodes", changes the config of every node.
    const std::string& field = w[1];
    const uint64_t v = num(w[2]);
    if (field == "max_entries_per_msg") base_config.max_entries_per_msg = v;
    else if (field == "heartbeat_tick") base_config.heartbeat_tick = static_cast<int>(v);
    else if (field == "max_inflight_msgs") base_config.max_inflight_msgs = v;
    else if (field == "pre_vote") base_config.pre_vote = v != 0;
    else if (field == "check_quorum") base_config.check_quorum = v != 0;
    else if (field == "split_messages_before_persist") base_config.split_messages_before_persist = v != 0;
    else throw std::runtime_error("unknown field: " + field);
  } else if (cmd == "set-term") {
    const NodeId id = num(w[1]);
    HardState hs = storage(id).hard_state();
    hs.term = num(w[2]);
    hs.vote = kNoNode;
    storage(id).set_hard_state(hs);
    restart(id);
  } else if (cmd == "propose") {
    out << "  " << to_string(node(num(w[1])).propose(w.size() > 2 ? w[2] : "")) << "\n";
  } else if (cmd == "read-index") {
    out << "  " << to_string(node(num(w[1])).read_index(w[2])) << "\n";
  } else if (cmd == "transfer") {
    out << "  " << to_string(node(num(w[1])).transfer_leader(num(w[2]))) << "\n";
  } else if (cmd == "add-learner" || cmd == "add-voter" || cmd == "remove") {
    ConfChange cc;
    cc.type = cmd == "add-learner" ? ConfChangeType::kAddLearner
              : cmd == "add-voter" ? ConfChangeType::kAddVoter
                                   : ConfChangeType::kRemoveNode;
    cc.node = num(w[2]);
    out << "  " << to_string(node(num(w[1])).propose_conf_change(cc)) << "\n";
  } else if (cmd == "snapshot") {
    // snapshot <id>: the node's state machine hands a snapshot at its applied
    // index (data: the applied payloads) and the log is compacted to it.
    const NodeId id = num(w[1]);
    Node& n = nodes_.at(id);
    const uint64_t index = n.raw->status().applied;
    std::string data;
    for (const Entry& e : n.applied) {
      if (e.type == EntryType::kNormal && !e.data.empty()) data += e.data + ";";
    }
    const bool made = n.storage->create_snapshot(index, n.raw->voters(), n.raw->learners(), data) &&
                      n.storage->compact(index);
    out << "  " << (made ? "snapshot at " + std::to_string(index) : std::string("no snapshot")) << "\n";
  } else if (cmd == "isolate") {
    const NodeId id = num(w[1]);
    for (auto& [other, n] : nodes_) {
      if (other == id) continue;
      cut_.insert({id, other});
      cut_.insert({other, id});
    }
  } else if (cmd == "cut") {
    // cut <from> <to>: one-way loss.
    cut_.insert({num(w[1]), num(w[2])});
  } else if (cmd == "heal") {
    cut_.clear();
  } else if (cmd == "crash") {
    nodes_.at(num(w[1])).down = true;
  } else if (cmd == "crash-before-persist") {
    // crash-before-persist <id>: the node takes its Ready and crashes before
    // writing it; what it sent ahead of the write is still delivered.
    crash_before_persist(num(w[1]), out);
  } else if (cmd == "restart") {
    restart(num(w[1]));
  } else if (cmd == "wipe") {
    // wipe <id>: the node comes back with an empty disk (no log, no term, no
    // membership), as after a lost or replaced drive.
    const NodeId id = num(w[1]);
    Node& n = nodes_.at(id);
    n.storage = std::make_unique<MemoryStorage>();
    n.applied.clear();
    restart(id);
  } else if (cmd == "status") {
    for (size_t i = 1; i < w.size(); ++i) {
      const Status s = node(num(w[i])).status();
      out << "  " << s.id << " " << to_string(s.role) << " term:" << s.term << " lead:" << s.lead
          << " commit:" << s.commit << " applied:" << s.applied << " last:" << s.last_index
          << " voters:";
      for (NodeId v : s.voters) out << v << (v == s.voters.back() ? "" : ",");
      if (!s.learners.empty()) {
        out << " learners:";
        for (NodeId v : s.learners) out << v << (v == s.learners.back() ? "" : ",");
      }
      out << "\n";
      for (const auto& [peer, p] : s.progress) {
        out << "    " << peer << " match:" << p.match << " next:" << p.next << " "
            << to_string(p.state) << "\n";
      }
    }
  } else if (cmd == "log") {
    const NodeId id = num(w[1]);
    const Status s = node(id).status();
    std::vector<Entry> entries;
    storage(id).entries(storage(id).first_index(), storage(id).last_index() + 1, UINT64_MAX, &entries);
    out << "  " << id << " first:" << storage(id).first_index() << " " << describe_entries(entries)
        << "\n";
  } else {
    throw std::runtime_error("unknown command: " + cmd);
  }
  return out.str();
}

}  // namespace mq::raft::testing
