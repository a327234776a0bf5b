// Ctrl-C (SIGINT) and SIGTERM sent to a running `mq demo failover` once its
// fault is in place: the demo must undo the fault (resume the stopped node,
// heal the partition, start the killed node again), print the partial
// report marked as interrupted, and exit 128 + the signal's number.
#include <signal.h>
#include <sys/wait.h>

#include <boost/process.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cluster_fixture.h"

using mq::test::TestCluster;
using nlohmann::json;

namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The state letter of /proc/PID/stat ('T' stopped, 'Z' zombie, ...), or 0
// when the process is gone.
char process_state(int pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

struct Interrupted {
  int exit_code = -1;  // -1: still running at the deadline (then killed)
  std::string out, err;
};

// Runs the demo against the cluster, waits until its stderr says the fault
// is injected, sends sig, and waits (bounded) for it to exit.
Interrupted interrupt_demo(const TestCluster& c, const std::string& fault, int sig,
                           const std::vector<std::string>& extra = {}, int times = 1) {
  const std::string base = c.dir() + "-demo";
  std::vector<std::string> args = {"demo", "failover", "--dir", c.dir(), "--fault", fault,
                                   "--duration", "15s", "--clients", "4"};
  args.insert(args.end(), extra.begin(), extra.end());
  bp::child demo(bp::exe = MQ_BINARY, bp::args = args, bp::std_in < bp::null, bp::std_out > base + ".out",
                 bp::std_err > base + ".err");
  Interrupted r;
  const bool injected = mq::test::wait_ms_until(
      [&] { return slurp(base + ".err").find("injected " + fault) != std::string::npos; }, 40'000);
  if (injected) {
    // Let the fault bite (elections start) before the signal.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < times; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      ::kill(demo.id(), sig);
    }
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (demo.running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (demo.running()) {
    demo.terminate();
  } else {
    demo.wait();
    const int status = demo.native_exit_code();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
  }
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::error_code ec;
  std::filesystem::remove(base + ".out", ec);
  std::filesystem::remove(base + ".err", ec);
  return r;
}

// Every recorded node runs and is not stopped, and no fault is left.
void check_nothing_left_behind(TestCluster& c) {
  for (int pid : c.recorded_pids()) {
    INFO("pid " << pid);
    const char state = process_state(pid);
    CHECK(state != 0);
    CHECK(state != 'T');
    CHECK(state != 'Z');
  }
  json s = c.status();
  for (const auto& n : s["nodes"]) {
    INFO(n.dump());
    CHECK(n["state"] == "up");
  }
  s = c.status_until([](const json& x) { return x["health"] == "healthy"; }, 20'000);
  CHECK(s["health"] == "healthy");
}

}  // namespace

TEST_CASE("Ctrl-C during a pause resumes the stopped node and prints the partial report",
          "[cluster][process][demo][interrupt]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  Interrupted r = interrupt_demo(c, "pause", SIGINT);
  INFO(r.err);
  INFO(r.out);
  CHECK(r.exit_code == 128 + SIGINT);
  CHECK(r.err.find("resumed") != std::string::npos);
  CHECK(r.out.find("interrupted") != std::string::npos);
  CHECK(r.out.find("history:") != std::string::npos);
  check_nothing_left_behind(c);
}

TEST_CASE("SIGTERM during a partition heals it and the JSON report says interrupted",
          "[cluster][process][demo][interrupt]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  Interrupted r = interrupt_demo(c, "partition", SIGTERM, {"-o", "json"});
  INFO(r.err);
  INFO(r.out);
  CHECK(r.exit_code == 128 + SIGTERM);
  json j = json::parse(r.out, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["interrupted"] == true);
  REQUIRE(j["trials"].size() == 1);
  CHECK(j["trials"][0]["interrupted"] == true);
  CHECK(j["trials"][0]["fault"]["kind"] == "partition");
  // The heal is part of the run: its time is recorded.
  CHECK(j["trials"][0]["fault"]["healed_ms"].is_number());
  check_nothing_left_behind(c);
}

TEST_CASE("Ctrl-C twice after a kill still starts the killed node again", "[cluster][process][demo][interrupt]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  Interrupted r = interrupt_demo(c, "kill-leader", SIGINT, {}, 2);
  INFO(r.err);
  INFO(r.out);
  CHECK(r.exit_code == 128 + SIGINT);
  CHECK(r.out.find("INTERRUPTED by SIGINT") != std::string::npos);
  // The second Ctrl-C is answered, and the undo still ran.
  CHECK(r.err.find("mq demo failover: stopping;") != std::string::npos);
  CHECK(r.err.find("healed: n") != std::string::npos);
  check_nothing_left_behind(c);
}
