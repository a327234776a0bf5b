#include "cli/local_target.h"

#include "node/server/address.h"
#include "playground/cluster_state.h"
#include "playground/node_process.h"

namespace mq::cli {

namespace pg = mq::playground;

namespace {

// Long enough for a loaded loopback listener to accept, short enough that
// a refused default costs nothing noticeable.
constexpr int kDefaultProbeTimeoutMs = 300;

std::string up_command(const std::string& name) {
  return name == "local" ? "mq cluster up" : "mq cluster up --cluster " + name;
}

}  // namespace

std::string describe_addresses(const std::vector<std::string>& addresses) {
  if (addresses.empty()) return "";
  std::vector<uint16_t> ports;
  std::string host;
  for (const auto& a : addresses) {
    std::string error;
    auto hp = server::parse_host_port(a, &error);
    if (!hp || (!host.empty() && hp->host != host) ||
        (!ports.empty() && hp->port != ports.back() + 1)) {
      ports.clear();
      break;
    }
    host = hp->host;
    ports.push_back(hp->port);
  }
  if (ports.size() >= 2) {
    return host + ":" + std::to_string(ports.front()) + "-" + std::to_string(ports.back());
  }
  std::string joined;
  for (const auto& a : addresses) joined += (joined.empty() ? "" : ",") + a;
  return joined;
}

LocalTarget resolve_local_target(const std::string& cluster) {
  LocalTarget t;
  const std::string name = cluster.empty() ? "local" : cluster;
  if (!pg::valid_name(name)) {
    t.error = "--cluster: '" + name + "' is not a cluster name (letters, digits, '-', '_', '.')";
    t.exit_code = 2;
    return t;
  }
  const std::string dir = pg::default_cluster_dir(name);
  if (!pg::state_exists(dir)) {
    if (!cluster.empty()) {
      t.error = "no local cluster '" + name + "' (nothing in " + dir + "); start it with: " +
                up_command(name);
      t.exit_code = 3;
      return t;
    }
    std::string error;
    const auto address = server::parse_host_port(kDefaultEndpoint, &error);
    if (!server::accepts_connections(*address, kDefaultProbeTimeoutMs)) {
      t.error = std::string("nothing answers at ") + kDefaultEndpoint +
                " (the default when neither --endpoints nor a local cluster is given); start a "
                "local cluster with: mq cluster up, or name the nodes with --endpoints HOST:PORT";
      t.exit_code = 3;
      return t;
    }
    t.endpoints = {kDefaultEndpoint};
    return t;
  }
  pg::ClusterState state;
  if (auto e = pg::load_state(dir, &state); !e.empty()) {
    t.error = "local cluster '" + name + "': " + e;
    t.exit_code = 3;
    return t;
  }
  // Running nodes first (they answer at once), then the others, so a
  // long-lived client (the REPL) still reaches a node restarted later.
  std::vector<std::string> up, rest;
  bool any_process = false;  // a paused node is there, only frozen
  for (const auto& n : state.nodes) {
    const pg::Liveness l = pg::node_liveness(state, n);
    any_process = any_process || l != pg::Liveness::kDown;
    (l == pg::Liveness::kUp ? up : rest).push_back(n.address());
  }
  if (!any_process) {
    t.error = "cluster '" + name + "' is not running (ports " + describe_addresses(state.endpoints()) +
              "); start it with: " + up_command(name);
    t.exit_code = 3;
    return t;
  }
  t.endpoints = std::move(up);
  t.endpoints.insert(t.endpoints.end(), rest.begin(), rest.end());
  t.tls = state.client_tls_files();
  t.token = state.client_token();
  return t;
}

}  // namespace mq::cli
