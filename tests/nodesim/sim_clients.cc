// The simulated clients: each runs one operation at a time against the
// cluster, follows redirects, gives up at its deadline, and records what it
// saw in the history; then the checks of a finished run.
#include <algorithm>

#include "tests/nodesim/simulation_internals.h"

namespace mq::nodesim::internal {

// ---- clients -------------------------------------------------------------------

void Simulation::client_start(Client& c) {
  if (c.busy) return;
  if (!faults_on_ && c.wrote_after_heal && c.read_after_heal) {
    bool all_done = true;
    for (int i = 0; i < kClients; ++i) {
      all_done = all_done && clients_[i].wrote_after_heal && clients_[i].read_after_heal;
    }
    if (all_done && !finals_started_) final_reads();
    return;
  }
  lc::Operation o;
  o.client = static_cast<uint64_t>(c.id);
  o.key = "k" + std::to_string(prng_.uniform(kKeys));
  const uint64_t r = prng_.uniform(100);
  o.kind = r < 45 ? lc::OpKind::kSet : r < 90 ? lc::OpKind::kGet : lc::OpKind::kDelete;
  c.stale_read = o.kind == lc::OpKind::kGet && faults_on_ && prng_.chance(150'000);
  if (o.kind == lc::OpKind::kSet) {
    o.value = "v" + std::to_string(history_.size());
    written_values_.insert(o.value);
  }
  // Only reads are impatient: a read that gives up is simply not in the
  // history, while every write that gives up is one more unknown outcome
  // for the checker to place (its search grows quickly with them).
  const bool impatient = c.id % 2 == 1 && o.kind == lc::OpKind::kGet;
  begin(c, std::move(o), impatient ? kImpatientDeadlineUs : kClientDeadlineUs);
  client_send(c);
}

// Records the operation as invoked now (its outcome unknown until known)
// and makes it the client's current one.
void Simulation::begin(Client& c, lc::Operation o, int64_t deadline_us) {
  o.invoke_time = now_;
  o.outcome = lc::Outcome::kUnknown;
  c.op = history_.size();
  history_.push_back(std::move(o));
  history_client_.push_back(c.id);
  c.busy = true;
  c.redirects = 0;
  c.deadline_us = now_ + deadline_us;
}

void Simulation::client_send(Client& c) {
  const uint32_t shard = shard_of_key(history_[c.op].key);
  auto it = c.leader_of_shard.find(shard);
  int target = it != c.leader_of_shard.end() ? it->second : -1;
  if (target < 0) {
    std::vector<int> candidates;
    // Clients know the nodes that were ever started (an operator tells
    // them of a new one).
    std::vector<int> known;
    for (const auto& np : nodes_) {
      if (np->incarnation > 0) known.push_back(np->index);
    }
    for (int i : known) {
      if (c.avoid_until_us[i] <= now_) candidates.push_back(i);
    }
    target = candidates.empty() ? known[prng_.uniform(known.size())]
                                : candidates[prng_.uniform(candidates.size())];
  }
  c.target = target;
  const uint64_t attempt = ++c.attempt;
  const int client = c.id;
  const uint64_t op = c.op;
  at(now_ + 100 + static_cast<int64_t>(prng_.uniform(400)),
     [this, client, attempt, target, op] { client_deliver(client, attempt, target, op); });
  at(c.deadline_us, [this, client] { client_timeout(client); });
}

void Simulation::client_deliver(int client, uint64_t attempt, int node_index, uint64_t op) {
  SimNode& n = *nodes_[node_index];
  if (!n.host) return;  // the client's deadline answers for it
  const lc::Operation o = history_[op];
  const std::string user = user_of(o.key);
  const uint32_t shard = shard_of_key(o.key);
  const bool stale = clients_[client].stale_read;
  auto reply_later = [this, &n, client, attempt](const Outcome& outcome, bool found, std::string value) {
    const int64_t at_us = now_ + n.busy_us + 100 + static_cast<int64_t>(prng_.uniform(400));
    at(at_us, [this, client, attempt, outcome, found, value] {
      client_reply(client, attempt, outcome, found, value);
    });
  };
  if (o.kind == lc::OpKind::kGet && !stale) {
    // A gRPC thread first tries the lease, whatever the loop is doing.
    bool found = false;
    std::string value;
    const bool served = n.host->try_lease_read(shard, [&](const server::ShardGroup& g) {
      if (auto v = g.sm.get(user, "k")) {
        found = true;
        value = *v;
      }
    });
    if (served) {
      ++result_.lease_reads;
      reply_later(Outcome::success(), found, value);
      return;
    }
  }
  const std::string value = o.value;
  const lc::OpKind kind = o.kind;
  n.inbox.push_back([this, &n, kind, user, value, shard, stale, reply_later] {
    if (kind == lc::OpKind::kGet) {
      n.host->read(shard, stale, [&n, shard, user, reply_later](const Outcome& outcome) {
        bool found = false;
        std::string v;
        if (outcome.ok()) {
          if (auto got = n.host->group(shard)->sm.get(user, "k")) {
            found = true;
            v = *got;
          }
        }
        reply_later(outcome, found, v);
      });
      return;
    }
    // The command views these strings until it is proposed (this call).
    auto user_copy = std::make_shared<std::string>(user);
    auto value_copy = std::make_shared<std::string>(value);
    const kv::CommandView command{kind == lc::OpKind::kSet ? kv::Op::kSet : kv::Op::kDelete, *user_copy, "k",
                                  *value_copy};
    n.host->propose_write(shard, command,
                          [reply_later, user_copy, value_copy](const Outcome& outcome, const kv::ApplyResult& r) {
                            reply_later(outcome, r.existed, "");
                          });
  });
  wake(n, now_ + static_cast<int64_t>(prng_.uniform(100)));
}

void Simulation::client_reply(int client, uint64_t attempt, const Outcome& outcome, bool found,
                              const std::string& value) {
  Client& c = clients_[client];
  if (!c.busy || c.attempt != attempt) return;
  lc::Operation& o = history_[c.op];
  const uint32_t shard = shard_of_key(o.key);
  switch (outcome.code) {
    case Outcome::Code::kOk:
      if (o.kind == lc::OpKind::kGet) {
        o.found = found;
        o.value = found ? value : "";
        if (c.stale_read) {
          if (found && !written_values_.count(value)) violation("a stale read returned " + value + ", never written");
          // Stale reads promise no recency: they stay out of the history.
          o.outcome = lc::Outcome::kFail;
          o.complete_time = now_;
          c.busy = false;
          at(now_ + static_cast<int64_t>(prng_.uniform(20'000)), [this, client] { client_start(clients_[client]); });
          return;
        }
      } else if (o.kind == lc::OpKind::kDelete) {
        o.found = found;
      }
      finish(c, lc::Outcome::kOk);
      return;
    case Outcome::Code::kNotLeader: {
      c.leader_of_shard.erase(shard);
      if (!outcome.hint.leader.empty()) c.leader_of_shard[shard] = std::stoi(outcome.hint.leader.substr(1)) - 1;
      if (++c.redirects > kRedirectsMax || outcome.hint.leader.empty()) {
        // No leader known: try again a little later, somewhere.
        const uint64_t a = ++c.attempt;
        at(now_ + 20'000, [this, client, a] {
          Client& cc = clients_[client];
          if (cc.busy && cc.attempt == a && now_ < cc.deadline_us) client_send(cc);
        });
        return;
      }
      client_send(c);
      return;
    }
    case Outcome::Code::kUnavailable:
    case Outcome::Code::kOverloaded: {
      c.leader_of_shard.erase(shard);
      const uint64_t a = ++c.attempt;
      at(now_ + 20'000, [this, client, a] {
        Client& cc = clients_[client];
        if (cc.busy && cc.attempt == a && now_ < cc.deadline_us) client_send(cc);
      });
      return;
    }
    case Outcome::Code::kMemoryFull:
      // A definite refusal: the write must never show up in any read.
      ++result_.memory_refusals;
      finish(c, lc::Outcome::kFail);
      return;
    case Outcome::Code::kOutcomeUnknown:
      c.leader_of_shard.erase(shard);
      finish(c, o.kind == lc::OpKind::kGet ? lc::Outcome::kFail : lc::Outcome::kUnknown);
      return;
    case Outcome::Code::kInvalidArgument:
    case Outcome::Code::kInternal:
      violation("unexpected answer to " + lc::describe(o) + ": " + outcome.message);
      finish(c, lc::Outcome::kFail);
      return;
  }
}

// At the operation's deadline (checked: a later operation has its own).
void Simulation::client_timeout(int client) {
  Client& c = clients_[client];
  if (!c.busy || now_ < c.deadline_us) return;
  const lc::Operation& o = history_[c.op];
  c.leader_of_shard.clear();
  c.avoid_until_us[c.target] = now_ + 2 * kClientDeadlineUs;
  finish(c, o.kind == lc::OpKind::kGet ? lc::Outcome::kFail : lc::Outcome::kUnknown);
}

void Simulation::finish(Client& c, lc::Outcome outcome) {
  lc::Operation& o = history_[c.op];
  o.outcome = outcome;
  o.complete_time = now_;
  c.busy = false;
  ++c.attempt;
  if (outcome == lc::Outcome::kOk) ++result_.ops_ok;
  if (outcome == lc::Outcome::kFail) ++result_.ops_fail;
  if (outcome == lc::Outcome::kUnknown) ++result_.ops_unknown;
  log("client " + std::to_string(c.id) + ": " + lc::describe(o));
  if (!faults_on_ && outcome == lc::Outcome::kOk && o.invoke_time >= heal_us_) {
    if (o.kind == lc::OpKind::kGet) c.read_after_heal = true; else c.wrote_after_heal = true;
  }
  if (c.id >= kClients) {  // a final reader
    if (outcome == lc::Outcome::kOk) {
      if (--finals_left_ == 0) {
        result_.liveness_ms = (now_ - heal_us_) / 1000;
        after_finals();
      }
      return;
    }
    // Retry the same key until it reads.
    begin(c, o, kClientDeadlineUs);
    const int client = c.id;
    at(now_ + 20'000, [this, client] { client_send(clients_[client]); });
    return;
  }
  const int client = c.id;
  at(now_ + static_cast<int64_t>(prng_.uniform(faults_on_ ? 20'000 : 5'000)),
     [this, client] { client_start(clients_[client]); });
}

// Once every client has written and read after the heal: one linearizable
// read of every key, retried until it succeeds, so that every acknowledged
// write is checked against what the cluster finally holds.
void Simulation::final_reads() {
  finals_started_ = true;
  finals_left_ = kKeys;
  for (int k = 0; k < kKeys; ++k) {
    Client c;
    c.id = static_cast<int>(clients_.size());
    clients_.push_back(c);
    Client& reader = clients_.back();
    lc::Operation o;
    o.client = static_cast<uint64_t>(reader.id);
    o.kind = lc::OpKind::kGet;
    o.key = "k" + std::to_string(k);
    begin(reader, std::move(o), kClientDeadlineUs);
    client_send(reader);
  }
}

// What each replica thinks, for the trace of a stuck run.
void Simulation::dump_groups() {
  for (auto& np : nodes_) {
    if (!np->host) continue;
    for (uint32_t s = 0; s <= opt_.shards; ++s) {
      const server::ShardGroup* g = np->host->group(s);
      if (!g) continue;
      const raft::Status st = g->node->status();
      std::string voters, learners;
      for (auto v : st.voters) voters += " " + std::to_string(v);
      for (auto l : st.learners) learners += " " + std::to_string(l);
      log(np->id + " group " + std::to_string(s) + ": " + std::string(raft::to_string(st.role)) +
          " term " + std::to_string(st.term) + " lead " + std::to_string(st.lead) + " commit " +
          std::to_string(st.commit) + " applied " + std::to_string(st.applied) + " last " +
          std::to_string(st.last_index) + " voters" + voters + " learners" + learners +
          " config from " + std::to_string(g->config_from.index) + "/" + std::to_string(g->config_from.term) +
          (g->leaving() ? " (leaving)" : ""));
    }
  }
}

void Simulation::check_end() {
  if (finals_left_ != 0 || !finals_started_) {
    violation("liveness: the cluster did not serve every client within " +
              std::to_string(opt_.liveness_ms_max) + " ms of the heal");
    dump_groups();
  }
  const lc::Result r = lc::check(history_);
  if (r.verdict == lc::Result::kNotLinearizable) violation("history not linearizable: " + r.explanation);
  // Replicas that applied the same index hold the same state (the
  // metadata group's, after the shards, included).
  for (uint32_t s = 0; s <= opt_.shards; ++s) {
    std::map<uint64_t, std::pair<std::string, std::string>> by_index;  // applied -> (node, image)
    for (auto& np : nodes_) {
      if (!np->host) continue;
      const server::ShardGroup* g = np->host->group(s);
      if (!g) continue;
      std::string image = g->sm.snapshot();
      auto [it, inserted] = by_index.emplace(g->sm.applied_index(), std::make_pair(np->id, image));
      if (!inserted && it->second.second != image) {
        violation("shard " + std::to_string(s) + ": " + it->second.first + " and " + np->id +
                  " applied index " + std::to_string(g->sm.applied_index()) + " to different states");
      }
    }
  }
}

}  // namespace mq::nodesim::internal
