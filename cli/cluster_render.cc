#include "cli/cluster_render.h"

#include <nlohmann/json.hpp>

#include "node/server/memory_gauge.h"

namespace mq::cli {

namespace {

std::string led_list(const playground::ClusterView& view, const std::string& id) {
  std::string out;
  for (const auto& s : view.shards) {
    if (s.leader == id) out += (out.empty() ? "" : ",") + std::to_string(s.id);
  }
  return out.empty() ? "-" : out;
}

// "231 MiB/8.0 GiB", with FULL when the node refuses writes for memory;
// "-" when it did not answer.
std::string memory_cell(const playground::NodeView& n) {
  if (!n.answered) return "-";
  std::string cell = server::format_bytes(n.memory_used_bytes);
  if (n.memory_limit_bytes > 0) cell += "/" + server::format_bytes(n.memory_limit_bytes);
  if (n.memory_full) cell += " FULL";
  return cell;
}

}  // namespace

std::string render_nodes(const playground::ClusterView& view) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : view.nodes) {
    rows.push_back({n.id, n.state_word(), n.pid ? std::to_string(n.pid) : "-", n.address,
                    n.http_address.empty() ? "-" : n.http_address, memory_cell(n), led_list(view, n.id)});
  }
  return cli::render_table({"ID", "STATE", "PID", "ADDRESS", "HTTP", "MEMORY", "LEADS SHARDS"}, rows);
}

std::string render_status_table(const playground::ClusterView& view) {
  std::string out = render_nodes(view) + "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : view.shards) {
    std::string replicas;
    for (const auto& r : s.replicas) {
      std::string cell = r.node + ":" + role_name(r.role);
      if (r.lag_known && r.lag > 0) cell += "(lag " + std::to_string(r.lag) + ")";
      replicas += (replicas.empty() ? "" : " ") + cell;
    }
    rows.push_back({std::to_string(s.id), s.leader.empty() ? "-" : s.leader, std::to_string(s.term),
                    std::to_string(s.commit), s.quorum ? "yes" : "NO", replicas});
  }
  out += cli::render_table({"SHARD", "LEADER", "TERM", "COMMIT", "QUORUM", "REPLICAS"}, rows);
  out += "\ncluster " + view.name + ": " + view.health_line() + "\n";
  return out;
}

std::string render_status_json(const playground::ClusterView& view) {
  using nlohmann::json;
  json j;
  j["name"] = view.name;
  j["health"] = health_name(view.health);
  j["health_reason"] = view.health_reason;
  j["nodes"] = json::array();
  for (const auto& n : view.nodes) {
    j["nodes"].push_back({{"id", n.id},
                          {"state", n.state_word()},
                          {"pid", n.pid},
                          {"address", n.address},
                          {"http_address", n.http_address},
                          {"shards_led", n.shards_led},
                          {"memory_used_bytes", n.answered ? json(n.memory_used_bytes) : json(nullptr)},
                          {"memory_limit_bytes", n.answered ? json(n.memory_limit_bytes) : json(nullptr)},
                          {"memory_full", n.memory_full}});
  }
  j["shards"] = json::array();
  for (const auto& s : view.shards) {
    json replicas = json::array();
    for (const auto& r : s.replicas) {
      replicas.push_back({{"node", r.node},
                          {"role", role_name(r.role)},
                          {"lag", r.lag_known ? json(r.lag) : json(nullptr)}});
    }
    j["shards"].push_back({{"id", s.id},
                           {"leader", s.leader},
                           {"term", s.term},
                           {"commit", s.commit},
                           {"quorum", s.quorum},
                           {"replicas", replicas}});
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render_status_line(const playground::ClusterView& view) {
  size_t up = 0, led = 0;
  for (const auto& n : view.nodes) up += n.state_word() == "up";
  for (const auto& s : view.shards) led += !s.leader.empty();
  return "cluster " + view.name + ": " + view.health_line() + "; " + std::to_string(up) + "/" +
         std::to_string(view.nodes.size()) + " nodes up, " + std::to_string(led) + "/" +
         std::to_string(view.shards.size()) + " shards with a leader\n";
}

std::string render_cluster_status(Format f, const playground::ClusterView& view) {
  switch (f) {
    case Format::kJson: return render_status_json(view);
    case Format::kPlain: return render_status_line(view);
    case Format::kTable: return render_status_table(view);
  }
  return render_status_table(view);
}

std::string render_log_line_json(const std::string& node, const std::string& line) {
  using nlohmann::json;
  return json{{"node", node}, {"line", line}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string connect_hint(const playground::ClusterView& view, const std::string& dir_flag,
                         const tls::TlsFiles& tls, const std::string& token_file) {
  std::string endpoints;
  for (const auto& n : view.nodes) endpoints += (endpoints.empty() ? "" : ",") + n.address;
  // Client commands find the default cluster by themselves (its TLS files
  // too); any other is named by its endpoints and files.
  std::string client_flags = dir_flag.empty() ? "" : " --endpoints " + endpoints;
  if (!dir_flag.empty() && tls.any()) {
    client_flags += " --cacert " + tls.trusted_ca_file + " --cert " + tls.cert_file + " --key " + tls.key_file;
  }
  if (!dir_flag.empty() && !token_file.empty()) client_flags += " --token $(cat " + token_file + ")";
  return "Connect: mq repl" + client_flags + "\n" + "Try:     mq set" + client_flags +
         " user123 greeting hello; mq cluster kill leader" + dir_flag + "; mq cluster watch" + dir_flag +
         "\n" + "Stop:    mq cluster down" + dir_flag + "  (--purge also deletes its data)\n";
}

}  // namespace mq::cli
