#include "cli/member_address_check.h"

#include <algorithm>

#include "node/server/address.h"

namespace mq::cli {

namespace {
// A host that has not answered a connection in this long is taken as
// unreachable: on a LAN or loopback a refusal takes well under a millisecond.
constexpr int kConnectTimeoutMs = 2000;
constexpr const char* kSkip = "; pass --no-probe to add it anyway";
}  // namespace

std::string check_new_member_address(const std::string& address, const ClientOptions& options,
                                     const std::string& cluster_id) {
  std::string error;
  const auto target = server::parse_dial_address(address, &error);
  // A malformed address is the node's to refuse, in the words it uses for
  // every command.
  if (!target) return "";
  const int timeout_ms = std::min(options.timeout_ms, kConnectTimeoutMs);
  const server::ConnectProbe probe = server::probe_connect(*target, timeout_ms);
  switch (probe.outcome) {
    case server::ConnectProbe::kRefused:
      return "";  // the host is there and its node has not started: the usual case
    case server::ConnectProbe::kUnreachable:
      return address + " is unreachable (" + probe.why + "): check the host" + kSkip;
    case server::ConnectProbe::kAccepted:
      break;
  }
  ClientOptions at_address = options;
  at_address.endpoints = {address};
  at_address.timeout_ms = std::min(options.timeout_ms, 2 * kConnectTimeoutMs);
  at_address.verbose = false;
  // Nobody has checked who answers there yet: no token goes to it.
  at_address.token.clear();
  Client client(at_address);
  ClusterStatus status;
  if (Error e = client.status(&status); !e.ok()) {
    // A node that wants credentials is an mq node; which cluster it serves
    // it tells only to a principal, so the map's own checks decide.
    if (e.kind == ErrorKind::kUnauthenticated) return "";
    return address + " accepts connections but does not answer as an mq node (" + e.message +
           ")" + kSkip;
  }
  if (status.cluster_id != cluster_id) {
    return address + " is node " + status.node + " of cluster " + status.cluster_id +
           ", not of this cluster (" + cluster_id + "): a node serves one cluster";
  }
  // A node of this cluster: the map refuses an address in use, in its words.
  return "";
}

}  // namespace mq::cli
