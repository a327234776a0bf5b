// /metrics of a real node: a cluster of one node with 16 shards on a temp
// dir, written to through its gRPC services, scraped through the exporter.
#include "node/server/metrics_export.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "mq/v1/kv.grpc.pb.h"
#include "node/http/request_metrics.h"
#include "node/kv/shard_hash.h"
#include "node/server/host_metrics.h"
#include "node/server/kv_service.h"
#include "node/server/log.h"
#include "node/server/raft_backend.h"

namespace mq::server {
namespace {

constexpr uint32_t kShards = 16;

// The series of a page by name and labels, as printed: `name{a="b"}`.
using Series = std::map<std::string, double>;

Series parse(const std::string& text) {
  Series out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

double sum_of(const Series& series, const std::string& name) {
  double sum = 0;
  for (auto it = series.lower_bound(name + "{"); it != series.end() && it->first.rfind(name + "{", 0) == 0;
       ++it) {
    sum += it->second;
  }
  return sum;
}

double value_of(const Series& series, const std::string& key) {
  auto it = series.find(key);
  INFO(key);
  REQUIRE(it != series.end());
  return it->second;
}

std::string shard_series(const std::string& name, uint32_t shard) {
  return name + "{shard=\"" + std::to_string(shard) + "\"}";
}

// `mq node` in miniature: the backend on a temp dir behind the gRPC
// services on a loopback port, with the request metrics both record to.
class SingleNode {
 public:
  explicit SingleNode(uint64_t snapshot_every_entries = 20000) {
    set_log_level(LogLevel::kWarn);  // a bootstrap logs a line per shard
    std::string pattern = (std::filesystem::temp_directory_path() / "mq-metrics-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()));
    dir_ = pattern;
    NodeHostOptions options;
    std::string error, note;
    options.topology = *make_topology("", "n1", "127.0.0.1:1", kShards, 1, &error, &note);
    options.data_dir = dir_;
    options.snapshot_every_entries = snapshot_every_entries;
    int exit_code = 0;
    backend = RaftBackend::open(options, HostPort{"127.0.0.1", 0}, NodeTls{}, &error, &exit_code);
    INFO(error);
    REQUIRE(backend);
    kv = std::make_unique<KvService>(backend.get(), 1 << 20, &requests);
    exporter = std::make_unique<MetricsExporter>(backend.get(), &requests);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(kv.get());
    server_ = builder.BuildAndStart();
    REQUIRE(server_);
    REQUIRE(port != 0);
    kv_client = v1::KV::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    backend->start();
  }

  ~SingleNode() {
    backend->stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_->Wait();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    set_log_level(LogLevel::kInfo);
  }

  std::string scrape() const {
    std::promise<std::string> page;
    exporter->render([&page](std::string text) { page.set_value(std::move(text)); });
    auto future = page.get_future();
    REQUIRE(future.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    return future.get();
  }

  // Bounded: a single node elects itself at once.
  void wait_for_leaders() const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (sum_of(parse(scrape()), "mq_server_is_leader") < kShards) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  grpc::Status set(const std::string& user, const std::string& key, const std::string& value) {
    grpc::ClientContext ctx;
    v1::SetRequest req;
    req.set_user(user);
    req.set_key(key);
    req.set_value(value);
    v1::SetResponse resp;
    return kv_client->Set(&ctx, req, &resp);
  }

  grpc::Status get(const std::string& user, const std::string& key, bool* found = nullptr) {
    grpc::ClientContext ctx;
    v1::GetRequest req;
    req.set_user(user);
    req.set_key(key);
    v1::GetResponse resp;
    const grpc::Status s = kv_client->Get(&ctx, req, &resp);
    if (found) *found = resp.found();
    return s;
  }

  http::RequestMetrics requests;
  std::unique_ptr<RaftBackend> backend;
  std::unique_ptr<KvService> kv;
  std::unique_ptr<MetricsExporter> exporter;
  std::unique_ptr<v1::KV::Stub> kv_client;

 private:
  std::string dir_;
  std::unique_ptr<grpc::Server> server_;
};

// promtool's path when it is installed, else "".
std::string find_promtool() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/promtool";
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace

TEST_CASE("a node's metrics page counts what it did", "[metrics_export]") {
  SingleNode node(/*snapshot_every_entries=*/4);
  node.wait_for_leaders();
  const Series before = parse(node.scrape());
  for (uint32_t s = 0; s < kShards; ++s) {
    CHECK(value_of(before, shard_series("mq_server_has_leader", s)) == 1);
    CHECK(value_of(before, shard_series("mq_server_is_leader", s)) == 1);
    CHECK(value_of(before, shard_series("mq_raft_term", s)) >= 1);
  }
  CHECK(sum_of(before, "mq_server_proposals_committed_total") == 0);

  constexpr int kWrites = 100;
  const std::string value(40, 'v');
  uint64_t key_value_bytes = 0;
  std::set<uint32_t> shards_written;
  for (int i = 0; i < kWrites; ++i) {
    const std::string user = "user" + std::to_string(i);
    const std::string key = "key" + std::to_string(i);
    REQUIRE(node.set(user, key, value).ok());
    key_value_bytes += key.size() + value.size();
    shards_written.insert(kv::shard_of(user, kShards));
  }
  REQUIRE(node.set("", "key", value).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  bool found = true;
  REQUIRE(node.get("user1", "no such key", &found).ok());
  CHECK_FALSE(found);
  for (int i = 0; i < 3; ++i) REQUIRE(node.get("user1", "key1", &found).ok());

  const std::string page = node.scrape();
  const Series after = parse(page);
  CHECK(sum_of(after, "mq_server_proposals_committed_total") == kWrites);
  CHECK(sum_of(after, "mq_server_proposals_failed_total") == 0);
  CHECK(sum_of(after, "mq_server_proposals_pending") == 0);
  CHECK(sum_of(after, "mq_kv_keys") == kWrites);
  CHECK(sum_of(after, "mq_kv_key_value_bytes") == key_value_bytes);
  for (uint32_t s : shards_written) {
    CHECK(value_of(after, shard_series("mq_raft_applied_index", s)) >
          value_of(before, shard_series("mq_raft_applied_index", s)));
    CHECK(value_of(after, shard_series("mq_raft_commit_index", s)) >=
          value_of(after, shard_series("mq_raft_applied_index", s)));
  }
  // Linearizable gets: the first takes a ReadIndex round, which starts a
  // lease that answers the rest.
  CHECK(sum_of(after, "mq_server_read_index_rounds_total") >= 1);
  CHECK(sum_of(after, "mq_server_read_index_rounds_total") + sum_of(after, "mq_server_lease_reads_total") >= 4);

  CHECK(value_of(after, "mq_disk_wal_fsync_duration_seconds_count") > 0);
  CHECK(value_of(after, "mq_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}") ==
        value_of(after, "mq_disk_wal_fsync_duration_seconds_count"));
  // 100 writes over 16 shards: most shards applied 4 entries more than
  // once, and took a snapshot each time; none was installed from a leader.
  CHECK(value_of(after, "mq_snapshot_save_duration_seconds_count") >= kShards / 2);
  CHECK(value_of(after, "mq_snapshot_install_duration_seconds_count") == 0);
  CHECK(value_of(after, "mq_disk_wal_write_bytes_total") -
            value_of(before, "mq_disk_wal_write_bytes_total") >
        static_cast<double>(key_value_bytes));

  CHECK(value_of(after, "mq_disk_wal_segments") >= 1);
  // No --max-memory here: the memory in use is counted all the same.
  CHECK(value_of(after, "mq_memory_limit_bytes") == 0);
  CHECK(value_of(after, "mq_memory_full") == 0);
  CHECK(value_of(after, "mq_memory_in_use_bytes") > 1e6);

  CHECK(value_of(after, "mq_requests_total{api=\"grpc\",method=\"set\",outcome=\"ok\"}") == kWrites);
  CHECK(value_of(after, "mq_requests_total{api=\"grpc\",method=\"set\",outcome=\"invalid_argument\"}") == 1);
  CHECK(value_of(after, "mq_requests_total{api=\"grpc\",method=\"get\",outcome=\"ok\"}") == 4);
  CHECK(value_of(after, "mq_request_duration_seconds_count{api=\"grpc\",method=\"set\"}") == kWrites + 1);

  CHECK(value_of(after, "process_cpu_seconds_total") > 0);
  CHECK(value_of(after, "process_resident_memory_bytes") > 1e6);
  CHECK(value_of(after, "process_open_fds") >= 3);
  const double now_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(value_of(after, "process_start_time_seconds") <= now_seconds + 1);
  CHECK(value_of(after, "process_start_time_seconds") > now_seconds - 24 * 3600);
  CHECK(page.find("\nmq_build_info{version=\"") != std::string::npos);
  CHECK(sum_of(after, "mq_build_info") == 1);

  // Every family says what it is.
  std::istringstream lines(page);
  std::string line;
  std::set<std::string> typed, helped;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
    if (line.rfind("# HELP ", 0) == 0) helped.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  CHECK(typed.size() >= 30);
  CHECK(typed == helped);
}

TEST_CASE("a node's metrics page counts what its peer listener refused", "[metrics_export]") {
  SingleNode node;
  node.wait_for_leaders();
  Series before = parse(node.scrape());
  CHECK(value_of(before, "mq_network_peer_bad_streams_total") == 0);
  CHECK(value_of(before, "mq_network_peer_connections_accepted_total") == 0);

  // Garbage on the peer port: the node closes that connection.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(node.backend->peer_port());
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  const std::string garbage(64, 'x');
  REQUIRE(::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(garbage.size()));
  char buf[16];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(::recv(fd, buf, sizeof buf, 0) <= 0);  // closed by the node
  ::close(fd);

  const Series after = parse(node.scrape());
  CHECK(value_of(after, "mq_network_peer_connections_accepted_total") == 1);
  CHECK(value_of(after, "mq_network_peer_bad_streams_total") == 1);
  CHECK(value_of(after, "mq_network_peer_connections_refused_total") == 0);
  CHECK(value_of(after, "mq_network_peer_batches_dropped_total") == 0);
}

TEST_CASE("a node's metrics page passes promtool's checks", "[metrics_export]") {
  const std::string promtool = find_promtool();
  if (promtool.empty()) {
    WARN("promtool is not on PATH (Debian package prometheus): the page's lint check is skipped");
    return;
  }
  SingleNode node;
  node.wait_for_leaders();
  for (int i = 0; i < 20; ++i) REQUIRE(node.set("user" + std::to_string(i), "k", "v").ok());
  REQUIRE(node.get("user1", "k").ok());
  const std::string page = node.scrape();

  const std::string page_path =
      (std::filesystem::temp_directory_path() / ("mq-metrics-page-" + std::to_string(::getpid()))).string();
  {
    std::ofstream out(page_path);
    out << page;
  }
  const std::string command = promtool + " check metrics < " + page_path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  std::filesystem::remove(page_path);
  INFO("promtool said:\n" << output);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(output.empty());
}

TEST_CASE("rendering the metrics page of 16 shards (benchmark)", "[metrics_export][benchmark]") {
  SingleNode node;
  node.wait_for_leaders();
  for (int i = 0; i < 200; ++i) REQUIRE(node.set("user" + std::to_string(i), "k", "v").ok());
  constexpr int kRenders = 300;
  std::string page;
  auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < kRenders; ++i) page = node.scrape();
  const std::chrono::duration<double, std::micro> render_total = std::chrono::steady_clock::now() - began;
  std::printf("metrics page of %u shards: %zu bytes; render (loop round trip included) %.0f us on average over %d\n",
              kShards, page.size(), render_total.count() / kRenders, kRenders);
  // The part of it that runs on the loop thread: copying the counters and
  // formatting the page.
  std::promise<double> formatting_us;
  node.backend->report_metrics([&](const HostMetricsReport* report) {
    const auto began = std::chrono::steady_clock::now();
    for (int i = 0; i < kRenders; ++i) page = node.exporter->format(report);
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - began;
    formatting_us.set_value(took.count() / kRenders);
  });
  std::printf("formatting it from a report: %.0f us on average\n", formatting_us.get_future().get());
  CHECK(page.size() > 1000);
  if (std::getenv("MQ_PRINT_METRICS_PAGE")) std::fputs(page.c_str(), stdout);
}

}  // namespace mq::server
