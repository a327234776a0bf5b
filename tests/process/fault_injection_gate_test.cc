// SetFaults can partition a node or stall its disk, so a node refuses it
// unless it was started with --enable-fault-injection: PERMISSION_DENIED,
// a log line (not one per call), exit 2 from the client library, and a
// launcher verb that says which node refused and how to lift it.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/client/client.h"
#include "mq/v1/cluster.grpc.pb.h"
#include "node_process.h"

using Catch::Matchers::Contains;
using namespace mq::test;

namespace {

constexpr const char* kRefusal =
    "fault injection is disabled on this node; start it with --enable-fault-injection";

grpc::Status raw_set_faults(const std::string& endpoint, uint32_t fsync_delay_ms) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  mq::v1::SetFaultsRequest req;
  req.set_fsync_delay_ms(fsync_delay_ms);
  mq::v1::SetFaultsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return mq::v1::Cluster::NewStub(channel)->SetFaults(&ctx, req, &resp);
}

size_t count_lines_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// /proc/PID/stat's start time (field 22), as the launcher records it.
uint64_t start_time_ticks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  return std::stoull(field);
}

}  // namespace

TEST_CASE("a node without --enable-fault-injection refuses SetFaults", "[process][node][faults]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  const grpc::Status s = raw_set_faults(node.endpoint(), 0);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() == kRefusal);

  // Through the client library: exit 2 with the node's reason.
  mq::cli::Client client({{node.endpoint()}, 5000});
  mq::cli::FaultSet applied;
  const mq::cli::Error e = client.set_faults({{}, {}, 1000}, &applied);
  CHECK(e.kind == mq::cli::ErrorKind::kInvalid);
  CHECK(mq::cli::exit_code_of(e.kind) == 2);
  CHECK(e.message == kRefusal);

  // Nothing was installed: a write is not slowed by the refused disk delay.
  const auto before = std::chrono::steady_clock::now();
  CHECK(node.client({"set", "u", "k", "v"}).exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::milliseconds(900));

  // A burst of refusals is logged once, not once per call.
  for (int i = 0; i < 20; ++i) REQUIRE(raw_set_faults(node.endpoint(), 0).error_code() ==
                                       grpc::StatusCode::PERMISSION_DENIED);
  CHECK(count_lines_with(node.log(), "refused SetFaults") == 1);
}

TEST_CASE("a node with --enable-fault-injection accepts SetFaults", "[process][node][faults]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port(), {"--enable-fault-injection"});
  REQUIRE(node.wait_ready());
  CHECK(raw_set_faults(node.endpoint(), 0).ok());
  mq::cli::Client client({{node.endpoint()}, 5000});
  mq::cli::FaultSet applied;
  REQUIRE(client.set_faults({{}, {}, 250}, &applied).ok());
  CHECK(applied.fsync_delay_ms == 250);
  CHECK(count_lines_with(node.log(), "refused SetFaults") == 0);
}

TEST_CASE("a cluster verb names the node that refuses a fault and how to lift it",
          "[process][node][faults]") {
  // A cluster whose node was started without the flag, as an older mq
  // started its nodes; its state file predates HTTP ports too.
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const int pid = node.process().pid();
  const nlohmann::json state = {
      {"name", "old"},
      {"binary", mq_binary()},
      {"shards", 16},
      {"replication", 1},
      {"nodes",
       {{{"id", "n1"},
         {"port", node.port()},
         {"pid", pid},
         {"start_time_ticks", start_time_ticks(pid)},
         {"data_dir", dir / "n1"},
         {"log", dir / "n1.log"}}}}};
  const std::string state_dir = dir / "state";
  std::filesystem::create_directories(state_dir);
  std::ofstream(state_dir + "/cluster.json") << state.dump(2);

  const RunResult status = run_mq({"cluster", "status", "--dir", state_dir, "-o", "json"});
  INFO(status.err);
  REQUIRE(status.exit_code == 0);
  const auto j = nlohmann::json::parse(status.out);
  CHECK(j["nodes"][0]["state"] == "up");
  CHECK(j["nodes"][0]["http_address"] == "");

  const RunResult r = run_mq({"cluster", "heal", "--dir", state_dir});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Contains(std::string("n1: ") + kRefusal) &&
                        Contains("restart it: mq cluster restart n1"));
}
