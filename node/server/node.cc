#include "node/server/node.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <thread>
#include <vector>

#include "node/http/http_server.h"
#include "node/http/request_metrics.h"
#include "node/http/rest_api.h"
#include "node/auth/access_control.h"
#include "node/server/address.h"
#include "node/server/http_gateway.h"
#include "node/server/join.h"
#include "node/server/kv_service.h"
#include "node/server/memory_gauge.h"
#include "node/server/metrics_export.h"
#include "node/server/node_tls.h"
#include "node/server/raft_backend.h"
#include "node/server/topology.h"
#include "node/server/log.h"
#include "node/storage/wal.h"
#include "node/tls/grpc_tls.h"

namespace mq::server {

namespace {

constexpr size_t kGrpcMessageOverheadBytes = 64 << 10;
constexpr auto kShutdownGrace = std::chrono::seconds(2);

// Creates the data dir if needed and takes an exclusive lock on it, so two
// nodes can never share one directory. The lock lives as long as the fd.
int open_data_dir(const std::string& dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "data dir " + dir + ": cannot create: " + ec.message();
    return -1;
  }
  const std::string lock_path = dir + "/LOCK";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "data dir " + dir + " is not writable: " + std::strerror(errno);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *error = "data dir " + dir + " is in use by another mq node (" + lock_path + " is locked)";
    ::close(fd);
    return -1;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
    *error = "data dir " + dir + " is not writable: " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// Every client connection (gRPC or HTTP, idle ones included) holds a file
// descriptor; the soft limit is often 1024 while the hard one is far
// higher, so the node takes what it is allowed.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

std::string advertised_address(const NodeConfig& c) { return c.advertise.empty() ? c.listen : c.advertise; }

std::string validate_node_config(const NodeConfig& c) {
  if (!is_plain_name(c.id, 64)) {
    return "--id '" + c.id + "' must be 1..64 characters of letters, digits, '-', '_' or '.'";
  }
  std::string error;
  const std::optional<HostPort> listen = parse_host_port(c.listen, &error);
  if (!listen) return "--listen: " + error;
  if (!c.advertise.empty()) {
    const std::optional<HostPort> advertise = parse_dial_address(c.advertise, &error);
    if (!advertise) return "--advertise: " + error;
    if (is_wildcard_host(advertise->host)) {
      return "--advertise " + c.advertise + " is a wildcard address; give the host:port other nodes dial";
    }
  } else if (is_wildcard_host(listen->host) && (!c.peers.empty() || !c.join.empty())) {
    // Every member dials the address the cluster map holds for this node;
    // "0.0.0.0" there would send them to themselves.
    return "--listen " + c.listen + " is a wildcard address: give --advertise the host:port the "
           "other nodes dial to reach this one";
  }
  std::optional<HostPort> http;
  if (!c.http_listen.empty()) {
    http = parse_host_port(c.http_listen, &error);
    if (!http) return "--http-listen: " + error;
    // Ports are compared, not addresses: the same port on two addresses
    // collides as soon as one of them is the wildcard, and nobody means it.
    if (http->port == listen->port) {
      return "--http-listen " + c.http_listen + " must use another port than --listen " + c.listen;
    }
  }
  if (!c.listen_peer.empty()) {
    const std::optional<HostPort> peer = parse_host_port(c.listen_peer, &error);
    if (!peer) return "--listen-peer: " + error;
    if (peer->port == listen->port) {
      return "--listen-peer " + c.listen_peer + " must use another port than --listen " + c.listen;
    }
    if (http && http->port == peer->port) {
      return "--listen-peer " + c.listen_peer + " must use another port than --http-listen " + c.http_listen;
    }
  }
  if (c.data_dir.empty()) return "--data-dir is required";
  if (c.shard_count == 0 || c.shard_count > kv::kShardCountMax) {
    return "--shards must be 1.." + std::to_string(kv::kShardCountMax);
  }
  if (c.value_bytes_max == 0 || c.value_bytes_max > kv::kValueBytesMaxCeiling) {
    return "--max-value-bytes must be 1.." + std::to_string(kv::kValueBytesMaxCeiling);
  }
  storage::FsyncMode mode;
  if (!storage::parse_fsync_mode(c.fsync, &mode)) {
    return "--fsync must be always, batch or none, not '" + c.fsync + "'";
  }
  if (c.tick_ms < 1 || c.tick_ms > 1000) return "--tick must be 1ms..1s";
  if (c.heartbeat_ticks < 1 || c.election_ticks <= c.heartbeat_ticks) {
    return "--election-ticks must exceed --heartbeat-ticks (>= 1)";
  }
  if (c.snapshot_every_entries < 100) return "--snapshot-entries must be at least 100";
  if (uint64_t bytes = 0; !c.max_memory.empty() && !parse_memory_limit(c.max_memory, &bytes)) {
    return "--max-memory must be a size such as 536870912, 512MiB or 2GiB, a share of the "
           "machine's memory such as 20%, or 0 (no limit), not '" + c.max_memory + "'";
  }
  if (c.read_lease != "on" && c.read_lease != "off") {
    return "--read-lease must be on or off, not '" + c.read_lease + "'";
  }
  if (!c.initial_cluster_state.empty() && c.initial_cluster_state != "new" &&
      c.initial_cluster_state != "existing") {
    return "--initial-cluster-state must be new or existing, not '" + c.initial_cluster_state + "'";
  }
  if (!c.join.empty()) {
    if (!c.peers.empty()) return "--join and --peers exclude each other: a node bootstraps or joins";
    if (!c.initial_cluster_state.empty()) {
      return "--join and --initial-cluster-state exclude each other: a joining node is new by "
             "definition";
    }
    const std::vector<std::string> join = split_commas(c.join);
    if (join.empty()) return "--join needs at least one host:port";
    for (const std::string& address : join) {
      if (!parse_dial_address(address, &error)) return "--join: " + error;
    }
  }
  std::string note;
  if (!c.initial_cluster_token.empty() && !is_plain_name(c.initial_cluster_token, 128)) {
    return "--initial-cluster-token must be at most 128 letters, digits, '-', '_' or '.'";
  }
  if (!make_topology(c.peers, c.id, advertised_address(c), c.shard_count, c.replication, &error, &note,
                     c.initial_cluster_token)) {
    return error;
  }
  return "";
}

// The node host's options from validated flags.
static NodeHostOptions host_options_for(const NodeConfig& config) {
  std::string error;
  std::string note;
  NodeHostOptions options;
  options.topology = *make_topology(config.peers, config.id, advertised_address(config), config.shard_count,
                                    config.replication, &error, &note,
                                    config.initial_cluster_token);
  // A joining node's flags name no peers; the cluster's settings come later.
  if (!note.empty() && config.join.empty()) log_info(note);
  options.data_dir = config.data_dir;
  storage::parse_fsync_mode(config.fsync, &options.fsync_mode);
  if (options.fsync_mode == storage::FsyncMode::kNone) {
    log_warn("--fsync none: NOTHING IS SYNCED TO DISK. Acknowledged writes can be lost on a crash. "
             "For benchmarks only.");
  }
  options.tick_ms = config.tick_ms;
  options.election_ticks = config.election_ticks;
  options.heartbeat_ticks = config.heartbeat_ticks;
  options.snapshot_every_entries = config.snapshot_every_entries;
  options.read_lease = config.read_lease == "on";
  options.value_bytes_max = config.value_bytes_max;
  options.initial_cluster_state = config.initial_cluster_state;
  if (config.max_memory.empty()) {
    options.max_memory_bytes = default_memory_limit_bytes();
  } else {
    parse_memory_limit(config.max_memory, &options.max_memory_bytes);
  }
  log_info(options.max_memory_bytes == 0
               ? std::string("no --max-memory: writes are never refused for memory")
               : "--max-memory " + format_bytes(options.max_memory_bytes) +
                     ": above it, writes are refused (reads and deletes go on)");
  return options;
}

int run_node(const NodeConfig& config) {
  if (auto e = validate_node_config(config); !e.empty()) {
    std::fprintf(stderr, "mq node: %s\n", e.c_str());
    return kNodeExitUsage;
  }
  set_log_node(config.id);
  std::string error;
  NodeTls tls;
  if (!load_node_tls(config, &tls, &error)) {
    std::fprintf(stderr, "mq node: %s\n", error.c_str());
    return kNodeExitUsage;
  }
  auth::AccessControl access;
  if (!config.auth_file.empty() && !access.open(config.auth_file, &error)) {
    std::fprintf(stderr, "mq node: --auth-file %s\n", error.c_str());
    return kNodeExitUsage;
  }
  const HostPort listen = *parse_host_port(config.listen, &error);
  if (auto reason = probe_bind(listen); !reason.empty()) {
    std::fprintf(stderr, "mq node: cannot listen on %s: %s\n", listen.to_string().c_str(),
                 reason.c_str());
    return kNodeExitCannotStart;
  }
  if (!config.http_listen.empty()) {
    const HostPort http = *parse_host_port(config.http_listen, &error);
    if (auto reason = probe_bind(http); !reason.empty()) {
      std::fprintf(stderr, "mq node: cannot listen on %s (--http-listen): %s\n",
                   http.to_string().c_str(), reason.c_str());
      return kNodeExitCannotStart;
    }
  }
  HostPort peer_listen{listen.host, 0};
  if (!config.listen_peer.empty()) {
    peer_listen = *parse_host_port(config.listen_peer, &error);
    if (auto reason = probe_bind(peer_listen); !reason.empty()) {
      std::fprintf(stderr, "mq node: cannot listen on %s (--listen-peer): %s\n",
                   peer_listen.to_string().c_str(), reason.c_str());
      return kNodeExitCannotStart;
    }
  }
  const int lock_fd = open_data_dir(config.data_dir, &error);
  if (lock_fd < 0) {
    std::fprintf(stderr, "mq node: %s\n", error.c_str());
    return kNodeExitCannotStart;
  }

  // Signals are taken by one thread with sigwait, so every other thread
  // (gRPC's included, which inherit this mask) never runs a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // reloads --auth-file
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit();

  NodeHostOptions options = host_options_for(config);
  int exit_code = kNodeExitCannotStart;
  if (!config.join.empty()) {
    const JoinFlags join{config.id, advertised_address(config), config.data_dir, config.join, config.replication,
                         tls.dial};
    if (!join_topology(join, &options.topology, &error, &exit_code)) {
      std::fprintf(stderr, "mq node: %s\n", error.c_str());
      ::close(lock_fd);
      return exit_code;
    }
    options.initial_cluster_state = "join";
  }
  std::unique_ptr<RaftBackend> backend = RaftBackend::open(options, peer_listen, tls, &error, &exit_code);
  if (!backend) {
    std::fprintf(stderr, "mq node: %s\n", error.c_str());
    ::close(lock_fd);
    return exit_code;
  }
  http::RequestMetrics request_metrics;
  KvService kv_service(backend.get(), config.value_bytes_max, &request_metrics, &access);
  ClusterService cluster_service(backend.get(), config.enable_fault_injection, &request_metrics,
                                 config.enable_member_changes, &access);
  // What GET /metrics serves. Declared after the backend, whose loop it
  // posts to, so it is destroyed first.
  MetricsExporter metrics_exporter(backend.get(), &request_metrics);

  // The standard services, so that the tools built for any gRPC server work
  // on a node: grpc.health.v1.Health (grpc_health_probe, load balancers,
  // orchestrators) and server reflection (grpcurl list/describe, ghz).
  // Both must be switched on before the builder exists.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen.to_string(), tls::grpc_server_credentials(tls.client), &bound_port);
  // Accept up to the ceiling at the transport so that a value over this
  // node's limit reaches validation and gets an INVALID_ARGUMENT naming the
  // limit, instead of an opaque transport error.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(kv::kValueBytesMaxCeiling + kGrpcMessageOverheadBytes));
  builder.SetMaxSendMessageSize(
      static_cast<int>(config.value_bytes_max + kGrpcMessageOverheadBytes));
  // Clients ping while they wait for an answer, to notice a node that went
  // silent (see cli/client/client.cc); pings are never held against them.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10);
  builder.RegisterService(&kv_service);
  builder.RegisterService(&cluster_service);
  builder.RegisterService(backend->peer_service());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "mq node: cannot listen on %s\n", listen.to_string().c_str());
    ::close(lock_fd);
    return kNodeExitCannotStart;
  }
  // Health answers per service: "" (the whole node) and each public
  // service. They say SERVING only once the loop runs, so a probe that
  // passes means requests are being handled, not queued.
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  const std::vector<std::string> health_names = {"", v1::KV::service_full_name(),
                                                 v1::Cluster::service_full_name()};
  for (const auto& name : health_names) health->SetServingStatus(name, false);
  backend->start();

  // The HTTP face: the REST API through a gateway that forwards to leaders.
  HttpGatewayOptions gateway_options;
  gateway_options.self_address = advertised_address(config);
  gateway_options.shard_count = options.topology.shard_count;
  gateway_options.value_bytes_max = config.value_bytes_max;
  gateway_options.dial = tls.dial;
  gateway_options.metrics = [&metrics_exporter](std::function<void(std::string)> done) {
    metrics_exporter.render(std::move(done));
  };
  HttpGateway gateway(backend.get(), gateway_options);
  http::RestApi rest_api(&gateway, &request_metrics, &access);
  std::unique_ptr<http::HttpServer> http_server;
  if (!config.http_listen.empty()) {
    const HostPort http_listen = *parse_host_port(config.http_listen, &error);
    http::HttpLimits limits;
    // A value at this node's limit, sent as JSON with every byte escaped.
    limits.body_bytes_max = config.value_bytes_max * 6 + kGrpcMessageOverheadBytes;
    http_server = http::HttpServer::start(
        http_listen.host == "localhost" ? "127.0.0.1" : http_listen.host, http_listen.port, limits, tls.client,
        [&rest_api](http::HttpRequest&& req, http::Respond respond) {
          rest_api.handle(std::move(req), std::move(respond));
        },
        [](const std::string& warning) { log_warn(warning); }, &error);
    if (!http_server) {
      std::fprintf(stderr, "mq node: cannot listen on %s (--http-listen): %s\n",
                   http_listen.to_string().c_str(), error.c_str());
      backend->stop();
      server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
      server->Wait();
      ::close(lock_fd);
      return kNodeExitCannotStart;
    }
    log_info("serving HTTP on " + http_listen.to_string());
  }
  for (const auto& name : health_names) health->SetServingStatus(name, true);
  log_info("serving on " + listen.to_string() +
           (config.advertise.empty() ? "" : " (advertised as " + config.advertise + ")") + " (peers on port " + std::to_string(backend->peer_port()) +
           ") as node " + config.id + " of cluster " +
           options.topology.cluster_id + " (" + std::to_string(options.topology.nodes.size()) +
           " nodes, " + std::to_string(options.topology.shard_count) + " shards), data dir " +
           config.data_dir + ", fsync " + config.fsync +
           (config.enable_fault_injection ? ", fault injection enabled" : ""));

  if (!is_loopback(listen) && !tls.client.enabled() && !access.enabled()) {
    log_warn("serving " + listen.to_string() + " beyond this machine with neither TLS (--cert-file) nor "
             "authorization (--auth-file): anyone who reaches the port may read and write every key");
  }
  if (access.enabled()) log_info("authorization: the rules of " + access.path() + " (SIGHUP reloads them)");

  int signal_number = 0;
  while (true) {
    sigwait(&stop_signals, &signal_number);
    if (signal_number != SIGHUP) break;
    // A file that does not parse leaves the rules as they were.
    if (!access.enabled()) {
      log_info("received SIGHUP: no --auth-file to reload");
    } else if (std::string why = access.reload(); why.empty()) {
      log_info("received SIGHUP: reloaded the authorization rules of " + access.path());
    } else {
      log_error("received SIGHUP: kept the previous authorization rules: " + why);
    }
  }
  log_info(std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
           ", shutting down");
  // NOT_SERVING first, while the server still answers: a balancer or probe
  // watching the node moves its traffic away before connections are refused.
  health->Shutdown();
  // New HTTP requests stop next; then everything pending is answered (the
  // loop stops and fails what it holds, the gateway cancels its forwards),
  // so the servers' shutdown never waits on a call nobody will end.
  if (http_server) http_server->stop();
  backend->stop();
  gateway.shutdown();
  server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  server->Wait();
  ::close(lock_fd);
  log_info("stopped");
  return kNodeExitOk;
}

}  // namespace mq::server
