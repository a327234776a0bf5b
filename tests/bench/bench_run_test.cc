// Short runs of the real `mq bench` against a spawned `mq node` (and the
// null server): the report's fields, its numbers, and the exit codes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/process/node_process.h"

extern char** environ;

namespace {

using nlohmann::json;

int free_port() { return mq::test::free_loopback_port(); }

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command line; stderr is discarded (progress lines).
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A child process stopped (SIGTERM, then SIGKILL) and reaped on destruction.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {  // 5 s at most
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  void signal(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
  }

 private:
  pid_t pid_ = -1;
};

// Waits until a set through `mq set` succeeds: the node is up and, once it
// runs Raft, has a leader for that user's shard.
bool wait_ready(const std::string& endpoint) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (run(std::string(MQ_BINARY) + " set --timeout 1s --endpoints " + endpoint +
            " ready k v").exit_code == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// One node for every test in this file, started on first use.
struct Node {
  std::filesystem::path dir;
  std::string endpoint;
  std::unique_ptr<Child> process;

  Node() {
    dir = std::filesystem::temp_directory_path() /
          ("mq-bench-test-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (int attempt = 0; attempt < 3 && !process; ++attempt) {
      endpoint = "127.0.0.1:" + std::to_string(free_port());
      auto child = std::make_unique<Child>(std::vector<std::string>{
          MQ_BINARY, "node", "--id", "n1", "--listen", endpoint, "--data-dir",
          (dir / ("n1-" + std::to_string(attempt))).string()});
      if (wait_ready(endpoint)) process = std::move(child);
    }
  }
  ~Node() {
    process.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

Node& node() {
  static Node n;
  REQUIRE(n.process != nullptr);
  return n;
}

// One mq-null-server for the tests that need a server that answers at once.
struct NullServer {
  std::string endpoint;
  std::unique_ptr<Child> process;

  NullServer() {
    for (int attempt = 0; attempt < 3 && !process; ++attempt) {
      endpoint = "127.0.0.1:" + std::to_string(free_port());
      auto child = std::make_unique<Child>(
          std::vector<std::string>{MQ_NULL_SERVER_BINARY, "--listen", endpoint});
      if (wait_ready(endpoint)) process = std::move(child);
    }
  }
};

NullServer& null_server() {
  static NullServer s;
  REQUIRE(s.process != nullptr);
  return s;
}

// Runs `mq bench ARGS...`, sends it `sig` after `delay`, and returns what
// it printed on stdout and its exit status (128 + N if signal N killed it).
// Bounded: the run is killed if it has not ended 20 s after the signal.
CommandResult run_interrupted(const std::vector<std::string>& args, int sig,
                              std::chrono::milliseconds delay) {
  int out[2];
  REQUIRE(pipe(out) == 0);
  std::vector<std::string> all = {MQ_BINARY, "bench"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (const auto& a : all) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  REQUIRE(spawned == 0);
  std::this_thread::sleep_for(delay);
  kill(pid, sig);

  CommandResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;  // the run closed stdout: it is ending
    r.out.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

json bench_json(const std::string& endpoint, const std::string& flags) {
  const CommandResult r = run(std::string(MQ_BINARY) + " bench -o json --endpoints " + endpoint +
                              " --warmup 300ms --duration 1s " + flags);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("a short set run reports every field, ops and no errors", "[bench][run]") {
  const json j = bench_json(node().endpoint, "--clients 8 --connections 2 --keys 1000 --users 100");
  for (const char* field :
       {"target", "workload", "clients", "connections", "value_bytes", "keys", "pipeline",
        "duration_s", "ops", "ops_per_s", "ok", "failed", "failed_by_kind", "unknown",
        "unknown_by_kind", "cut_short", "errors", "errors_by_kind", "latency_ms", "timeline"}) {
    INFO(field);
    CHECK(j.contains(field));
  }
  CHECK(j["target"] == "mq");
  CHECK(j["workload"] == "set");
  CHECK(j["ops"].get<uint64_t>() > 0);
  CHECK(j["ok"] == j["ops"]);
  CHECK(j["failed"] == 0);
  CHECK(j["unknown"] == 0);
  CHECK(j["cut_short"] == 0);
  CHECK(j["errors"].get<uint64_t>() == 0);
  // Every call of a run without errors is one operation that succeeded:
  // those still in flight at the end were waited for, not dropped.
  CHECK(j["rpcs"] == j["ok"]);
  CHECK(j["ops_per_s"].get<double>() > 0);
  CHECK(j["duration_s"].get<double>() >= 0.9);
  CHECK(j["duration_s"].get<double>() < 3.0);
  const json& latency = j["latency_ms"];
  for (const char* p : {"p50", "p90", "p99", "p99_9", "max"}) {
    INFO(p);
    REQUIRE(latency.contains(p));
    CHECK(latency[p].get<double>() > 0);
  }
  CHECK(latency["p50"].get<double>() <= latency["p99"].get<double>());
  CHECK(latency["p99"].get<double>() <= latency["max"].get<double>());
  REQUIRE(j["timeline"].is_array());
  REQUIRE(!j["timeline"].empty());
  uint64_t timeline_ops = 0;
  for (const auto& t : j["timeline"]) {
    CHECK(t.contains("t_s"));
    CHECK(t.contains("ops_per_s"));
    CHECK(t.contains("p99_ms"));
    CHECK(t["failed"] == 0);
    CHECK(t["unknown"] == 0);
    timeline_ops += t["ops"].get<uint64_t>();
  }
  CHECK(timeline_ops == j["ops"].get<uint64_t>());
}

TEST_CASE("a pipelined run sends N operations per Batch call", "[bench][run]") {
  const json j = bench_json(node().endpoint, "--clients 4 --pipeline 8 --keys 1000 --users 100");
  CHECK(j["pipeline"] == 8);
  CHECK(j["errors"].get<uint64_t>() == 0);
  CHECK(j["ops"].get<uint64_t>() > 0);
  CHECK(j["ops"].get<uint64_t>() == 8 * j["rpcs"].get<uint64_t>());
}

TEST_CASE("a get run after --preload finds every key", "[bench][run]") {
  const json j =
      bench_json(node().endpoint, "--workload get --preload --clients 8 --keys 500 --users 50");
  REQUIRE(j.contains("preload"));
  CHECK(j["preload"]["keys"] == 500);
  CHECK(j["preload"]["errors"] == 0);
  CHECK(j["workload"] == "get");
  CHECK(j["ops"].get<uint64_t>() > 0);
  CHECK(j["errors"].get<uint64_t>() == 0);
  CHECK(j["get_misses"].get<uint64_t>() == 0);
}

TEST_CASE("the null server answers the same workloads", "[bench][run]") {
  const std::string endpoint = null_server().endpoint;
  const json set = bench_json(endpoint, "--clients 8 --keys 1000 --users 100");
  CHECK(set["ops"].get<uint64_t>() > 0);
  CHECK(set["errors"].get<uint64_t>() == 0);
  const json get = bench_json(endpoint, "--workload get --clients 8 --keys 1000 --users 100");
  CHECK(get["ops"].get<uint64_t>() > 0);
  CHECK(get["errors"].get<uint64_t>() == 0);
  // The set run wrote keys; the get run, drawing from the same key space,
  // finds at least some of them.
  CHECK(get["get_misses"].get<uint64_t>() < get["ops"].get<uint64_t>());
}

TEST_CASE("exit codes: 3 when no endpoint answers, 2 on bad flags", "[bench][run]") {
  const std::string nobody = "127.0.0.1:" + std::to_string(free_port());
  CHECK(run(std::string(MQ_BINARY) + " bench --duration 1s --endpoints " + nobody).exit_code == 3);
  CHECK(run(std::string(MQ_BINARY) + " bench --workload scan").exit_code == 2);
  CHECK(run(std::string(MQ_BINARY) + " bench --duration soon").exit_code == 2);
  CHECK(run(std::string(MQ_BINARY) + " bench --target etcd --pipeline 4").exit_code == 2);
  CHECK(run(std::string(MQ_BINARY) + " bench --clients 0").exit_code == 2);
}

TEST_CASE("--target etcd speaks etcd's v3 Put and Range", "[bench][run][etcd]") {
  const char* etcd = "/usr/bin/etcd";
  if (access(etcd, X_OK) != 0) {
    WARN("etcd is not installed (Debian package etcd-server); the etcd target is not checked");
    return;
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mq-bench-etcd-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::unique_ptr<Child> member;
  std::string endpoint;
  for (int attempt = 0; attempt < 3 && !member; ++attempt) {
    endpoint = "127.0.0.1:" + std::to_string(free_port());
    const std::string peer = "http://127.0.0.1:" + std::to_string(free_port());
    auto child = std::make_unique<Child>(std::vector<std::string>{
        etcd, "--name", "t", "--data-dir", (dir / std::to_string(attempt)).string(),
        "--listen-client-urls", "http://" + endpoint, "--advertise-client-urls",
        "http://" + endpoint, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "t=" + peer});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && child->running()) {
      const CommandResult r = run(std::string(MQ_BINARY) +
                                  " bench --target etcd -o json --clients 1 --duration 200ms "
                                  "--warmup 0 --keys 10 --users 1 --endpoints " + endpoint);
      if (r.exit_code == 0 && json::parse(r.out)["errors"] == 0) {
        member = std::move(child);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  REQUIRE(member != nullptr);
  const json set = bench_json(endpoint, "--target etcd --clients 8 --keys 300 --users 30");
  CHECK(set["target"] == "etcd");
  CHECK(set["ops"].get<uint64_t>() > 0);
  CHECK(set["errors"].get<uint64_t>() == 0);
  // Every key written first, so a Range that decodes etcd's answer finds it.
  const json get =
      bench_json(endpoint, "--target etcd --workload get --preload --clients 8 --keys 300 --users 30");
  CHECK(get["preload"]["keys"] == 300);
  CHECK(get["ops"].get<uint64_t>() > 0);
  CHECK(get["errors"].get<uint64_t>() == 0);
  CHECK(get["get_misses"].get<uint64_t>() == 0);
  member.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST_CASE("the plain report counts ok, failed, unknown and cut short apart", "[bench][run]") {
  const CommandResult r = run(std::string(MQ_BINARY) + " bench -o plain --endpoints " +
                              node().endpoint +
                              " --warmup 0 --duration 300ms --clients 2 --keys 100 --users 10");
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(r.out.find("\nok ") != std::string::npos);
  CHECK(r.out.find("\nfailed      0: ") != std::string::npos);
  CHECK(r.out.find("\nunknown     0: ") != std::string::npos);
  CHECK(r.out.find("\ncut short   0 ") != std::string::npos);
}

TEST_CASE("writes in flight when the node stops answering are unknown, not dropped",
          "[bench][run]") {
  Node& n = node();
  // The node is stopped half-way through a 2 s run: each client's write is
  // then in flight until its 1.5 s deadline, which passes after the run's
  // end. Those writes may or may not have happened.
  constexpr int kClients = 8;
  auto bench = std::async(std::launch::async, [&] {
    return run(std::string(MQ_BINARY) + " bench -o json --endpoints " + n.endpoint +
               " --warmup 0 --duration 2s --timeout 1500ms --clients " + std::to_string(kClients) +
               " --connections 2 --keys 1000 --users 100");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  n.process->signal(SIGSTOP);
  struct Resume {
    Node& n;
    ~Resume() { n.process->signal(SIGCONT); }
  } resume{n};
  const CommandResult r = bench.get();
  n.process->signal(SIGCONT);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  INFO(r.out);
  REQUIRE(j["ok"].get<uint64_t>() > 0);  // the run was under way when the node stopped
  CHECK(j["unknown"] == kClients);
  CHECK(j["unknown_by_kind"]["deadline_exceeded"] == kClients);
  CHECK(j["failed"] == 0);
  CHECK(j["cut_short"] == 0);
  // Before, requests cut short by the end of the run were left out: 0 errors.
  CHECK(j["errors"] == kClients);
  CHECK(j["rpcs"].get<uint64_t>() ==
        j["ok"].get<uint64_t>() + j["failed"].get<uint64_t>() + j["unknown"].get<uint64_t>());
  // The run waited for the writes' deadlines, past its planned 2 s.
  CHECK(j["duration_s"].get<double>() >= 2.1);
  // The node answers again afterwards, for the tests that follow.
  CHECK(wait_ready(n.endpoint));
}

TEST_CASE("Ctrl-C ends a run and prints the report of what it measured", "[bench][run][signal]") {
  // A minute-long run, interrupted after 1.5 s by a real SIGINT.
  const CommandResult r =
      run_interrupted({"-o", "json", "--endpoints", null_server().endpoint, "--warmup", "0",
                       "--duration", "60s", "--clients", "4", "--keys", "100", "--users", "10"},
                      SIGINT, std::chrono::milliseconds(1500));
  INFO("stdout: " << r.out);
  CHECK(r.exit_code == 130);
  REQUIRE(!r.out.empty());
  const json j = json::parse(r.out);
  CHECK(j["interrupted"] == true);
  CHECK(j["ops"].get<uint64_t>() > 0);
  CHECK(j["duration_s"].get<double>() > 1.0);
  CHECK(j["duration_s"].get<double>() < 10.0);
  CHECK(j["errors"] == 0);
  CHECK(!j["timeline"].empty());
}

TEST_CASE("SIGTERM during the warm-up reports the warm-up", "[bench][run][signal]") {
  const CommandResult r =
      run_interrupted({"-o", "plain", "--endpoints", null_server().endpoint, "--warmup", "60s",
                       "--duration", "60s", "--clients", "4", "--keys", "100", "--users", "10"},
                      SIGTERM, std::chrono::milliseconds(1500));
  INFO("stdout: " << r.out);
  CHECK(r.exit_code == 143);
  CHECK(r.out.find("(interrupted: the numbers cover what ran until then)") != std::string::npos);
  CHECK(r.out.find("\nok          0 ") == std::string::npos);
  CHECK(r.out.find("\nok ") != std::string::npos);
}

TEST_CASE("a complete run is not marked interrupted", "[bench][run][signal]") {
  const json j = bench_json(null_server().endpoint, "--clients 2 --keys 100 --users 10");
  CHECK(j["interrupted"] == false);
}

TEST_CASE("MQ_DURATION and MQ_WARMUP set the run's length", "[bench][run]") {
  const CommandResult r = run("MQ_DURATION=300ms MQ_WARMUP=0 " + std::string(MQ_BINARY) +
                              " bench -o json --clients 2 --keys 100 --users 10 --endpoints " +
                              null_server().endpoint);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  CHECK(j["warmup_s"] == 0);
  CHECK(j["duration_s"].get<double>() < 2.0);
}
