// mq node: run one server process.
#include <CLI/CLI.hpp>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/duration.h"
#include "node/server/node.h"

namespace mq::cli {

int cmd_node(int argc, char** argv) {
  server::NodeConfig config;
  CLI::App app{"Run one mq node: serves the public gRPC API (KV and Cluster services).",
               "mq node"};
  app.add_option("--id", config.id, "Node id, e.g. n1 (letters, digits, '-', '_', '.')")
      ->required();
  app.add_option("--listen", config.listen,
                 "host:port to serve on, e.g. 127.0.0.1:7001 or 0.0.0.0:7001 (with --advertise)")
      ->required();
  app.add_option("--advertise", config.advertise,
                 "host:port the other nodes and clients dial to reach this node, when it is not "
                 "--listen: the host may be a DNS name (db1.example.com:7001), resolved by whoever "
                 "dials it at each connection, so a node that comes back at another IP is found "
                 "again. It is this node's entry in --peers and the cluster's member list "
                 "(default: --listen; required when --listen is a wildcard and there are peers)");
  app.add_option("--data-dir", config.data_dir, "Directory for this node's data (created if missing)")
      ->required();
  app.add_option("--peers", config.peers,
                 "Every node of the cluster, in the same order on every node: "
                 "n1=127.0.0.1:7001,n2=127.0.0.1:7002,... or n1=db1.example.com:7001,...; each "
                 "node's entry is its --advertise (else --listen) address (default: this node alone)");
  app.add_option("--shards", config.shard_count, "Number of shards (default 16)");
  app.add_option("--replication", config.replication,
                 "Replicas per shard (default 3, clamped to the number of nodes)");
  app.add_option("--fsync", config.fsync,
                 "always (one fsync per group), batch (one fsync per loop iteration for all "
                 "groups; default), none (benchmarks only: acknowledged writes can be lost)");
  Millis tick{config.tick_ms};
  add_duration_option(app, "--tick", &tick,
                      "Raft tick: the unit of --election-ticks and --heartbeat-ticks",
                      Millis(1), Millis(1000));
  app.add_option("--election-ticks", config.election_ticks,
                 "Election timeout in ticks, randomized up to twice this (default 20)");
  app.add_option("--heartbeat-ticks", config.heartbeat_ticks, "Heartbeat interval in ticks (default 5)");
  app.add_option("--snapshot-entries", config.snapshot_every_entries,
                 "Applied entries between snapshots of a shard (default 20000)");
  app.add_option("--read-lease", config.read_lease,
                 "on (default): a leader answers linearizable reads from its applied state while "
                 "its lease holds, renewed by heartbeat rounds; off: every read takes a round");
  app.add_option("--initial-cluster-state", config.initial_cluster_state,
                 "new: an empty data dir bootstraps a new cluster with --peers; existing: this "
                 "node belongs to a running cluster, so an empty data dir (a lost or replaced "
                 "disk) is refused (exit 13). Required when the data dir is empty and --peers "
                 "names other nodes; ignored once the data dir holds state");
  app.add_option("--initial-cluster-token", config.initial_cluster_token,
                 "Mixed into the cluster id (as etcd's flag), so that two clusters bootstrapped "
                 "with the same --peers get different ids and refuse each other's nodes; give every "
                 "bootstrapping node the same token at every start (mq cluster up draws a random "
                 "one). Without it the id comes from --peers, --shards and --replication alone");
  app.set_config("--config", "", "Read these flags from a TOML file (key = value per flag)")
      ->envname("MQ_CONFIG");
  app.add_option("--max-value-bytes", config.value_bytes_max,
                 "Largest value accepted, in bytes (default 1048576 = 1 MiB)");
  app.add_option("--max-memory", config.max_memory,
                 "Above this much memory in use (the allocator's bytes, as redis's maxmemory) the "
                 "node refuses new writes with RESOURCE_EXHAUSTED, and so do the leaders of the "
                 "shards it replicates; reads and deletes go on; writes resume below 90% of it. Bytes, "
                 "512MiB, 2GiB, or a share of the machine's (or control group's) memory such as "
                 "20%; 0: no limit (default 60%)");
  app.add_option("--http-listen", config.http_listen,
                 "host:port of the HTTP listener (REST API, health, /metrics), e.g. "
                 "127.0.0.1:8001; off unless given");
  app.add_option("--listen-peer", config.listen_peer,
                 "host:port for Raft traffic from the other nodes (framed TCP), e.g. "
                 "127.0.0.1:7101; default: the --listen host and a port the kernel picks. Peers "
                 "ask a node's advertised address where it is, so --peers and --join name only "
                 "--advertise (else --listen) addresses");
  app.add_flag("--enable-fault-injection", config.enable_fault_injection,
               "Accept the admin RPC SetFaults (drop peer traffic, slow the disk); refused with "
               "PERMISSION_DENIED otherwise. mq cluster passes it to the nodes it starts");
  app.add_flag("--enable-member-changes", config.enable_member_changes,
               "Accept membership changes (mq member add/remove/replace, and nodes that --join "
               "through this one); refused with PERMISSION_DENIED otherwise. mq cluster passes "
               "it to the nodes it starts");
  app.add_option("--join", config.join,
                 "host:port[,host:port...] of members of a running cluster: a node with an empty "
                 "data dir asks to be admitted as a new member (named --id, reached at --advertise, "
                 "else --listen) and receives replicas as placement assigns them; later starts recover from the "
                 "data dir. Excludes --peers; the cluster's shard count is used, not --shards");
  app.add_option("--cert-file", config.client_tls.cert_file,
                 "PEM certificate the gRPC and HTTP listeners present to clients (TLS on when "
                 "given; with --key-file and --trusted-ca-file)")
      ->group("TLS");
  app.add_option("--key-file", config.client_tls.key_file, "PEM private key of --cert-file")->group("TLS");
  app.add_option("--trusted-ca-file", config.client_tls.trusted_ca_file,
                 "PEM CA that client certificates (with --client-cert-auth) and the certificates "
                 "of the peers' listeners this node dials must chain to")
      ->group("TLS");
  app.add_flag("--client-cert-auth", config.client_tls.client_cert_auth,
               "Require a client certificate that chains to --trusted-ca-file")
      ->group("TLS");
  app.add_option("--peer-cert-file", config.peer_tls.cert_file,
                 "PEM certificate for Raft traffic between nodes (mutual TLS); it must name this "
                 "node's --id or the host of its address (--advertise, else --listen)")
      ->group("TLS");
  app.add_option("--peer-key-file", config.peer_tls.key_file, "PEM private key of --peer-cert-file")
      ->group("TLS");
  app.add_option("--peer-trusted-ca-file", config.peer_tls.trusted_ca_file,
                 "PEM CA that the peers' certificates must chain to")
      ->group("TLS");
  app.add_option("--auth-file", config.auth_file,
                 "JSON rules of who may read and write which users' keys and administer the "
                 "cluster (principals by token hash or client certificate name); SIGHUP reloads it")
      ->group("Authorization");
  app.footer(R"(Examples:
  mq node --id n1 --listen 127.0.0.1:7001 --data-dir /tmp/mq/n1
  mq node --id n2 --listen 127.0.0.1:7002 --data-dir /tmp/mq/n2 \
          --peers n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003 \
          --initial-cluster-state new
  mq node --id n1 --listen 127.0.0.1:7001 --http-listen 127.0.0.1:8001 --data-dir /tmp/mq/n1
  mq node --id n4 --listen 127.0.0.1:7004 --data-dir /tmp/mq/n4 --join 127.0.0.1:7001
  mq node --id n1 --listen 0.0.0.0:7001 --advertise db1.example.com:7001 --data-dir d1 \
          --peers n1=db1.example.com:7001,n2=db2.example.com:7001,n3=db3.example.com:7001 \
          --initial-cluster-state new
  mq node --config examples/n1.toml
  mq node --id n1 --listen 10.0.0.1:7001 --data-dir d1 --cert-file n1.pem --key-file n1-key.pem \
          --trusted-ca-file ca.pem --peer-cert-file n1.pem --peer-key-file n1-key.pem \
          --peer-trusted-ca-file ca.pem
  MQ_MAX_VALUE_BYTES=4194304 mq node --id n1 --listen 127.0.0.1:7001 --data-dir d1

Stops cleanly on SIGTERM or SIGINT. Exit codes: 0 stopped, 2 bad flags,
5 cannot start (a --listen, --listen-peer or --http-listen port in use, data dir unusable
or locked), 10 corrupt data dir, 11 data dir of another node or cluster,
12 storage failed while running (e.g. disk full; nothing unpersisted was
acknowledged), 13 empty data dir of a member of an existing cluster,
14 the data dir is of a member that was removed from the cluster.
An empty data dir bootstraps the cluster described by --peers only with
--initial-cluster-state new; a restarted node recovers from its data dir
and rejoins. SetFaults (mq cluster partition, isolate, heal) is refused
unless the node runs with --enable-fault-injection.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  config.tick_ms = static_cast<int>(tick.count());
  return server::run_node(config);
}

}  // namespace mq::cli
