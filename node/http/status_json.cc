#include "node/http/status_json.h"

#include <nlohmann/json.hpp>

namespace mq::http {

namespace {

using json = nlohmann::json;

std::string role_name(const std::string& reported) {
  for (const char* known : {"leader", "follower", "candidate", "pre-candidate"}) {
    if (reported == known) return known;
  }
  return "unknown";
}

}  // namespace

std::string status_json(const v1::StatusResponse& s) {
  json j;
  j["node"] = s.node();
  j["cluster_id"] = s.cluster_id();
  j["version"] = s.version();
  j["shard_count"] = s.shard_count();
  j["replication"] = s.replication();
  j["uptime_ms"] = s.uptime_ms();
  j["memory"] = {{"used_bytes", s.memory_used_bytes()},
                 {"limit_bytes", s.memory_limit_bytes()},
                 {"full", s.memory_full()}};
  j["membership"] = {{"map_version", s.map_version()}, {"moves_in_flight", s.moves_in_flight()}};
  j["nodes"] = json::array();
  for (const auto& n : s.nodes()) {
    j["nodes"].push_back({{"id", n.id()}, {"address", n.address()}, {"reachable", n.reachable()}});
  }
  j["shards"] = json::array();
  for (const auto& sh : s.shards()) {
    json js = {{"id", sh.id()},         {"leader", sh.leader()},   {"role", role_name(sh.role())},
               {"term", sh.term()},     {"commit", sh.commit()},   {"applied", sh.applied()},
               {"keys", sh.keys()},     {"replicas", json::array()}};
    // Only a leader knows how far each replica got; elsewhere it is unknown,
    // not zero (node/server/status_report.cc).
    const bool known = sh.role() == "leader";
    for (const auto& r : sh.replicas()) {
      js["replicas"].push_back({{"node", r.node()},
                                {"role", role_name(r.role())},
                                {"match", known ? json(r.match()) : json(nullptr)},
                                {"lag", known ? json(r.lag()) : json(nullptr)}});
    }
    j["shards"].push_back(std::move(js));
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> readiness_problems(const v1::StatusResponse& s) {
  std::vector<std::string> problems;
  for (const auto& sh : s.shards()) {
    const std::string shard = "shard " + std::to_string(sh.id()) + ": ";
    if (sh.leader().empty()) {
      problems.push_back(shard + "no leader known");
    } else if (sh.applied() < sh.commit()) {
      problems.push_back(shard + "applied " + std::to_string(sh.applied()) + " of " +
                         std::to_string(sh.commit()) + " committed entries");
    }
  }
  return problems;
}

}  // namespace mq::http
