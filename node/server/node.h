// `mq node`: one server process. Everything is checked before anything
// starts (address, data dir, port), so a misconfigured node fails with one
// clear line and an exit code instead of half-starting.
#pragma once

#include <cstdint>
#include <string>

#include "node/tls/tls_files.h"

#include "node/kv/limits.h"
#include "node/server/exit_codes.h"

namespace mq::server {


struct NodeConfig {
  std::string id;
  std::string listen;    // host:port this node binds
  // host:port the other nodes and clients dial to reach --listen (etcd's
  // --advertise-client-urls): an address or a DNS name, resolved by whoever
  // dials it, each time it connects. "" = --listen. Needed when --listen is
  // a wildcard (0.0.0.0) or the node is known by a name whose address may
  // change (a restarted pod).
  std::string advertise;
  std::string data_dir;
  std::string peers;     // "n1=host:port,n2=..."; "" = a cluster of this node alone
  uint32_t shard_count = kv::kShardCountDefault;
  uint32_t replication = 3;
  size_t value_bytes_max = kv::kValueBytesMaxDefault;
  std::string fsync = "batch";  // always | batch | none
  int tick_ms = 10;
  int election_ticks = 20;
  int heartbeat_ticks = 5;
  uint64_t snapshot_every_entries = 20000;
  std::string read_lease = "on";  // on: leader leases answer linearizable reads; off: a round each
  // new: an empty data dir bootstraps the cluster; existing: the node is a
  // member of a running cluster (an empty data dir is refused); "": an empty
  // data dir of a node with peers is refused, asking for one of the two.
  std::string initial_cluster_state;
  // Mixed into the cluster id (etcd's flag): every bootstrapping node gets
  // the same one, at every start; mq cluster up draws a random one.
  std::string initial_cluster_token;
  // host:port of the HTTP listener (REST API, health, /metrics); "" = none.
  std::string http_listen;
  // host:port of the Raft traffic listener (framed TCP, peer_frame.h); ""
  // = the --listen host and a port the kernel picks. Peers ask a node's
  // gRPC address where it is, so it needs no entry in --peers.
  std::string listen_peer;
  // The admin RPC SetFaults (and any admin endpoint over HTTP) is refused
  // with PERMISSION_DENIED unless this is set; the local launcher sets it.
  bool enable_fault_injection = false;
  // AddMember, RemoveMember and ReplaceMember are refused likewise unless
  // this is set.
  bool enable_member_changes = false;
  // host:port[,host:port...] of members of a running cluster: an empty data
  // dir joins it as a new member (instead of --peers).
  std::string join;
  // --max-memory: "" takes default_memory_limit_bytes(); "0" means no
  // limit; else a size such as 536870912, 512MiB or 2GiB, or a share of
  // the machine's memory such as 20%.
  std::string max_memory;
  // TLS with etcd's flag names. Client-facing (gRPC and HTTP listeners):
  // --cert-file, --key-file, --trusted-ca-file, --client-cert-auth. The
  // node also dials its peers' client-facing listeners (Peer.Locate,
  // --join, the HTTP gateway's forwards) with these: their certificates
  // are checked against --trusted-ca-file and its own goes along.
  tls::TlsFiles client_tls;
  // Raft traffic between nodes: --peer-cert-file, --peer-key-file,
  // --peer-trusted-ca-file; always mutual, and a peer's certificate must
  // name the node it claims to be (its id or its address's host).
  tls::TlsFiles peer_tls;
  // --auth-file: who may read, write and administer (node/auth/
  // access_rules.h); "" = everyone may do everything. SIGHUP reloads it.
  std::string auth_file;
};

// What the node announces as its address: --advertise, else --listen.
std::string advertised_address(const NodeConfig& config);

// Validates the configuration; "" when valid, else a one-line reason.
std::string validate_node_config(const NodeConfig& config);

// Runs the node until SIGTERM or SIGINT; returns a NodeExit code.
int run_node(const NodeConfig& config);

}  // namespace mq::server
