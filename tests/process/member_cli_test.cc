// `mq member` against real clusters: listing, a node that joins and
// receives replicas (by itself, or as a member added ahead of it), removals
// that move them away with the data kept, and every refusal as one line,
// exit 2 and no change to the cluster map.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "member_cluster.h"
#include "tests/process/text_lines.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using namespace mq::test;

namespace {

using Clock = std::chrono::steady_clock;

// How long replicas may take to move to or from a member: they move one
// change at a time per shard, each a learner catching up first.
constexpr int kMovesTimeoutMs = 30'000;

bool poll_until(const std::function<bool()>& done, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

json members_json(const MemberCluster& c, size_t node = 0) {
  const RunResult r = c.mq_at(node, {"member", "list", "-o", "json"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

const json* find_member(const json& list, const std::string& name) {
  for (const auto& m : list["members"]) {
    if (m["name"] == name) return &m;
  }
  return nullptr;
}

// The shards a node holds a replica of, as its own status says.
size_t shards_held(const std::string& endpoint) {
  const RunResult r = run_mq({"status", "-o", "json", "--timeout", "1s", "--endpoints", endpoint});
  if (r.exit_code != 0) return SIZE_MAX;
  const auto j = json::parse(r.out, nullptr, false);
  return j.is_discarded() ? SIZE_MAX : j["shards"].size();
}

// Writes one key for each of `users` users, through n1.
void write_keys(const MemberCluster& c, int users) {
  for (int u = 0; u < users; ++u) {
    const RunResult r = c.mq({"set", "user" + std::to_string(u), "k", "v" + std::to_string(u)});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
  }
}

// Every key write_keys wrote reads back through `node` alone.
bool keys_readable(const MemberCluster& c, size_t node, int users) {
  for (int u = 0; u < users; ++u) {
    const RunResult r = c.mq_at(node, {"get", "user" + std::to_string(u), "k"});
    if (r.exit_code != 0 || r.out != "v" + std::to_string(u)) return false;
  }
  return true;
}

// A loopback listener whose accept queue is full, so the kernel drops
// every further connection attempt: to a client it is a host that never
// answers, as one with no route to it would be. Closed on destruction.
class SilentListener {
 public:
  SilentListener() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in at = loopback(0);
    REQUIRE(bind(listener_, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0);
    REQUIRE(listen(listener_, 0) == 0);
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    REQUIRE(getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
    port_ = ntohs(bound.sin_port);
    // A backlog of 0 holds one connection; the rest of these fill it up.
    for (int i = 0; i < 3; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      connect(fd, reinterpret_cast<const sockaddr*>(&bound), sizeof bound);
      fillers_.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~SilentListener() {
    for (int fd : fillers_) close(fd);
    close(listener_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::vector<int> fillers_;
};

// A loopback listener that completes connections and never says a word.
class MuteListener {
 public:
  MuteListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in at = loopback(0);
    REQUIRE(bind(fd_, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
    port_ = ntohs(bound.sin_port);
  }
  ~MuteListener() { close(fd_); }
  MuteListener(const MuteListener&) = delete;
  MuteListener& operator=(const MuteListener&) = delete;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("mq member list shows a 3-node cluster's members as a table, lines and JSON", "[process][member]") {
  MemberCluster c({.nodes = 3, .shards = 8});
  REQUIRE(c.wait_ready());

  const json j = members_json(c);
  CHECK(j["shard_count"] == 8);
  CHECK(j["replication"] == 3);
  CHECK(j["node"] == "n1");
  CHECK(j["version"].get<uint64_t>() >= 1);
  REQUIRE(j["members"].size() == 3);
  uint64_t replicas = 0, leads = 0;
  for (size_t i = 0; i < 3; ++i) {
    const json& m = j["members"][i];
    CHECK(m["id"] == i + 1);
    CHECK(m["name"] == "n" + std::to_string(i + 1));
    CHECK(m["address"] == c.endpoint(i));
    CHECK(m["state"] == "active");
    replicas += m["replicas"].get<uint64_t>();
    leads += m["preferred_leader_of"].get<uint64_t>();
  }
  CHECK(replicas == 8 * 3);
  CHECK(leads == 8);
  // Any node answers with the same map.
  const json from_n3 = members_json(c, 2);
  CHECK(from_n3["node"] == "n3");
  CHECK(from_n3["members"] == j["members"]);

  const RunResult table = c.mq({"member", "list", "-o", "table"});
  REQUIRE(table.exit_code == 0);
  const auto rows = lines_of(table.out);
  REQUIRE(rows.size() == 6);
  CHECK_THAT(rows[0], StartsWith("cluster " + j["cluster_id"].get<std::string>() + ", map version "));
  CHECK_THAT(rows[0], Contains("8 shards, replication 3, answered by n1"));
  CHECK(rows[2] == "ID  NAME  ADDRESS          STATE   REPLICAS  LEADS");
  CHECK_THAT(rows[3], StartsWith("1   n1    " + c.endpoint(0) + "  active  8"));

  // To a pipe, without -o: one line per member.
  const RunResult plain = c.mq({"member", "list"});
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out == "1 n1 " + c.endpoint(0) + " active\n2 n2 " + c.endpoint(1) + " active\n3 n3 " +
                         c.endpoint(2) + " active\n");
  CHECK(plain.err.empty());

  // The piped REPL keeps its one line per command.
  const RunResult repl = c.node(0).client({"repl"}, "\\member list\n\\member remove n3\n");
  REQUIRE(repl.exit_code == 0);
  const auto replies = lines_of(repl.out);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0] == "1 n1 " + c.endpoint(0) + " active; 2 n2 " + c.endpoint(1) + " active; 3 n3 " +
                          c.endpoint(2) + " active");
  CHECK_THAT(replies[1], StartsWith("(error) removing n3 would leave 2 active nodes"));
}

TEST_CASE("a refused member change is one line, exit 2, and leaves the map as it was", "[process][member]") {
  MemberCluster c({.nodes = 3, .shards = 4});
  REQUIRE(c.wait_ready());
  const json before = members_json(c);
  const std::string unused = c.spare_address(0);

  struct Refusal {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Refusal> refusals = {
      {{"add", "n2", unused}, "mq member add: name n2 is in use"},
      {{"add", "n9", c.endpoint(0)}, "mq member add: address " + c.endpoint(0) + " is in use by n1"},
      {{"add", "n9", "127.0.0.1:99999"}, "mq member add: member address: "},
      {{"add", "n9", "no-port-here"}, "mq member add: member address: "},
      {{"add", "n 9", unused}, "mq member add: member name 'n 9' must be 1..64 letters"},
      {{"remove", "n9"}, "mq member remove: no member n9"},
      {{"remove", "7"}, "mq member remove: no member 7"},
      {{"remove", "n3"}, "mq member remove: removing n3 would leave 2 active nodes for replication 3; "
                         "pass --force"},
      {{"remove", "3"}, "pass --force"},
      {{"replace", "n9", "n8", unused}, "mq member replace: no member n9"},
      {{"replace", "n3", "n1", unused}, "mq member replace: name n1 is in use"},
  };
  for (const auto& refusal : refusals) {
    std::vector<std::string> args = {"member"};
    args.insert(args.end(), refusal.args.begin(), refusal.args.end());
    const RunResult r = c.mq(args);
    INFO("mq member " << refusal.args[0] << " " << refusal.args[1] << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(lines_of(r.err).size() == 1);
    CHECK_THAT(r.err, Contains(refusal.message));
  }

  // Missing arguments: the parser's usage error, before anything is sent.
  for (const auto& [args, missing] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"member", "add", "n9"}, "ADDRESS is required"},
           {{"member", "remove"}, "MEMBER is required"},
           {{"member", "replace", "n3", "n9"}, "ADDRESS is required"}}) {
    const RunResult r = c.mq(args);
    INFO("mq " << args.back() << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Contains(missing));
  }
  const RunResult no_verb = run_mq({"member"});
  CHECK(no_verb.exit_code == 2);
  CHECK(no_verb.out.empty());
  CHECK_THAT(no_verb.err, StartsWith("Usage: mq member <verb>"));

  // With -o json the refusal is also the error object on stdout.
  const RunResult json_refusal = c.mq({"member", "add", "-o", "json", "n2", unused});
  CHECK(json_refusal.exit_code == 2);
  CHECK(json::parse(json_refusal.out)["error"]["code"] == "invalid_argument");

  const json after = members_json(c);
  CHECK(after["version"] == before["version"]);
  CHECK(after["members"] == before["members"]);
}

TEST_CASE("a new member's address is refused when no host answers there or another cluster serves it",
          "[process][member]") {
  MemberCluster c({.nodes = 3, .shards = 4});
  MemberCluster other({.nodes = 1, .shards = 2});
  REQUIRE(c.wait_ready());
  REQUIRE(other.wait_ready());
  const json before = members_json(c);
  const json other_list = members_json(other);
  const SilentListener silent;
  const MuteListener mute;

  struct Refusal {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Refusal> refusals = {
      {{"add", "n9", silent.address()},
       "mq member add: " + silent.address() + " is unreachable (no answer within 2000 ms): check "
       "the host; pass --no-probe to add it anyway"},
      {{"add", "n9", mute.address()},
       "mq member add: " + mute.address() + " accepts connections but does not answer as an mq node"},
      {{"add", "n9", other.endpoint(0)},
       "mq member add: " + other.endpoint(0) + " is node n1 of cluster " +
           other_list["cluster_id"].get<std::string>() + ", not of this cluster (" +
           before["cluster_id"].get<std::string>() + ")"},
      {{"replace", "n3", "n9", silent.address()}, "mq member replace: " + silent.address() + " is unreachable"},
      {{"replace", "n3", "n9", other.endpoint(0)}, "not of this cluster"},
  };
  for (const auto& refusal : refusals) {
    std::vector<std::string> args = {"member"};
    args.insert(args.end(), refusal.args.begin(), refusal.args.end());
    const RunResult r = c.mq(args);
    INFO("mq member " << refusal.args[0] << " " << refusal.args.back() << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(lines_of(r.err).size() == 1);
    CHECK_THAT(r.err, Contains(refusal.message));
  }
  const json after = members_json(c);
  CHECK(after["version"] == before["version"]);
  CHECK(after["members"] == before["members"]);

  // Nothing listening on a live host is the usual case: the node starts
  // after it is added. --no-probe adds a silent address as it is.
  const RunResult free_port = c.mq({"member", "add", "-o", "json", "n8", c.spare_address(0)});
  INFO("stderr: " << free_port.err);
  CHECK(free_port.exit_code == 0);
  const RunResult unchecked = c.mq({"member", "add", "-o", "json", "--no-probe", "n9", silent.address()});
  INFO("stderr: " << unchecked.err);
  CHECK(unchecked.exit_code == 0);
  const json grown = members_json(c);
  REQUIRE(find_member(grown, "n9") != nullptr);
  CHECK((*find_member(grown, "n9"))["state"] == "joining");
  CHECK(grown["version"] == before["version"].get<uint64_t>() + 2);
}

TEST_CASE("member changes are refused by a node without --enable-member-changes", "[process][member]") {
  MemberCluster c({.nodes = 1, .shards = 2, .member_changes = false});
  REQUIRE(c.wait_ready());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"member", "add", "n2", c.spare_address(0)},
        {"member", "remove", "n1"},
        {"member", "replace", "n1", "n2", c.spare_address(0)}}) {
    const RunResult r = c.mq(args);
    INFO("mq member " << args[1] << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, StartsWith("mq member " + args[1] + ": membership changes are disabled on this node"));
    CHECK_THAT(r.err, Contains("--enable-member-changes"));
  }
  // Reading the map needs no permission.
  CHECK(c.mq({"member", "list"}).exit_code == 0);
  CHECK(members_json(c)["members"].size() == 1);
}

TEST_CASE("member commands that reach no node exit 3", "[process][member]") {
  const std::string nobody = "127.0.0.1:" + std::to_string(reserve_member_ports(1));
  for (const std::vector<std::string>& args : {std::vector<std::string>{"member", "list"},
                                               {"member", "add", "n4", "127.0.0.1:1"},
                                               {"member", "remove", "n3"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--endpoints", nobody, "--timeout", "2s"});
    const RunResult r = run_mq(full);
    INFO("mq member " << args[1] << "\nstderr: " << r.err);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, StartsWith("mq member " + args[1] + ": cannot reach the cluster"));
  }
}

TEST_CASE("mq member remove moves the member's replicas away and keeps the data", "[process][member]") {
  MemberCluster c({.nodes = 4, .shards = 8});
  REQUIRE(c.wait_ready());
  constexpr int kUsers = 24;  // every one of the 8 shards gets keys
  write_keys(c, kUsers);
  const json before = members_json(c);
  REQUIRE(find_member(before, "n4") != nullptr);
  CHECK((*find_member(before, "n4"))["replicas"] == 6);  // 8 x 3 replicas over 4 members
  REQUIRE(shards_held(c.endpoint(3)) == 6);

  const RunResult removed = c.mq({"member", "remove", "n4"});
  INFO("stderr: " << removed.err);
  REQUIRE(removed.exit_code == 0);
  CHECK(removed.out == "removed n4 (id 4): its replicas move to the other members\n");

  const json after = members_json(c);
  CHECK(after["version"] == before["version"].get<uint64_t>() + 1);
  REQUIRE(after["members"].size() == 4);
  CHECK(after["members"][3]["name"] == "n4");  // removed members come last
  CHECK(after["members"][3]["state"] == "removed");
  CHECK(after["members"][3]["replicas"] == 0);
  uint64_t replicas = 0;
  for (const auto& m : after["members"]) replicas += m["replicas"].get<uint64_t>();
  CHECK(replicas == 8 * 3);
  // The replicas leave n4 for real, not only in the map; then n4, a removed
  // member holding nothing, stops (as etcd's removed members do).
  const std::optional<int> n4_exit = c.node(3).process().wait(kMovesTimeoutMs);
  REQUIRE(n4_exit.has_value());
  CHECK(*n4_exit == 14);
  CHECK_THAT(c.node(3).log(), Contains("was removed from cluster") && Contains("holds no replicas: it stops"));
  CHECK(keys_readable(c, 0, kUsers));

  // Below the replication factor only with --force, and the sentence says
  // what the shards are left with.
  const RunResult refused = c.mq({"member", "remove", "n3"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("pass --force"));
  const RunResult forced = c.mq({"member", "remove", "--force", "n3"});
  INFO("stderr: " << forced.err);
  REQUIRE(forced.exit_code == 0);
  CHECK(forced.out == "removed n3 (id 3): 2 member(s) remain for replication 3, so each shard "
                      "keeps 2 replica(s) until a member is added\n");
  // n3 gives its replicas up, and then stops as n4 did.
  const std::optional<int> n3_exit = c.node(2).process().wait(kMovesTimeoutMs);
  REQUIRE(n3_exit.has_value());
  CHECK(*n3_exit == 14);
  // Each shard now lives on n1 and n2; the data written before is all there.
  CHECK(poll_until([&] { return keys_readable(c, 0, kUsers); }, kMovesTimeoutMs));
  const json two = members_json(c);
  CHECK((*find_member(two, "n1"))["replicas"] == 8);
  CHECK((*find_member(two, "n2"))["replicas"] == 8);
}

TEST_CASE("a node started with --join is admitted and receives replicas", "[process][member]") {
  MemberCluster c({.nodes = 3, .shards = 8});
  REQUIRE(c.wait_ready());
  constexpr int kUsers = 16;
  write_keys(c, kUsers);

  NodeProcess& n4 = c.start_joiner("n4", 0);
  REQUIRE(n4.wait_ready(kMovesTimeoutMs));
  const json admitted = members_json(c);
  const json* m = find_member(admitted, "n4");
  REQUIRE(m != nullptr);
  CHECK((*m)["id"] == 4);
  CHECK((*m)["address"] == c.spare_address(0));
  CHECK((*m)["state"] == "active");
  CHECK((*m)["replicas"].get<uint64_t>() > 0);
  // The replicas the map gives n4 arrive on it (each a learner first).
  CHECK(poll_until([&] { return shards_held(n4.endpoint()) == (*m)["replicas"].get<size_t>(); },
                   kMovesTimeoutMs));

  // A client that knows only n4 works.
  const RunResult status = n4.client({"status", "-o", "plain"});
  CHECK(status.exit_code == 0);
  // (Not "4/4 nodes up": a node counts the peers it heard from lately, and
  // n4 may hear nothing from a member that leads no group of n4's.)
  CHECK_THAT(status.out, StartsWith("node n4: ") && Contains("/4 nodes up"));
  CHECK(n4.client({"set", "joined", "k", "through n4"}).exit_code == 0);
  CHECK(n4.client({"get", "joined", "k"}).out == "through n4");
  for (int u = 0; u < kUsers; ++u) {
    CHECK(n4.client({"get", "user" + std::to_string(u), "k"}).out == "v" + std::to_string(u));
  }

  // Asking again under the same name is refused: a name is admitted once.
  const RunResult again = c.mq({"member", "add", "n4", c.spare_address(1)});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Contains("name n4 is in use"));
}

TEST_CASE("a joined node restarted to be reached at another address says the cluster dials the old one",
          "[process][member]") {
  MemberCluster c({.nodes = 3, .shards = 4});
  REQUIRE(c.wait_ready());
  NodeProcess& joined = c.start_joiner("n4", 0);
  REQUIRE(joined.wait_ready(kMovesTimeoutMs));
  constexpr const char* kWarning = "the cluster knows this node (n4) at ";

  // Restarted as it joined: nothing to say.
  NodeProcess& same = c.restart_joiner("n4", 0, {});
  REQUIRE(same.wait_ready(kMovesTimeoutMs));
  CHECK_THAT(same.log(), !Contains(kWarning));

  // Restarted with another --advertise: the member list still holds the
  // address it joined with, which is what the others dial.
  const std::string port = c.spare_address(0).substr(c.spare_address(0).rfind(':') + 1);
  NodeProcess& moved = c.restart_joiner("n4", 0, {"--advertise", "localhost:" + port});
  REQUIRE(moved.wait_ready(kMovesTimeoutMs));
  CHECK_THAT(moved.log(), Contains(std::string(kWarning) + c.spare_address(0) + ", not at localhost:" + port) &&
                              Contains("start it with --advertise " + c.spare_address(0)));
  const json members = members_json(c);
  const json* m = find_member(members, "n4");
  REQUIRE(m != nullptr);
  CHECK((*m)["address"] == c.spare_address(0));
}

TEST_CASE("mq member add and replace print the member as the map holds it after the change", "[process][member]") {
  MemberCluster c({.nodes = 3, .shards = 4, .spare_ports = 3});
  REQUIRE(c.wait_ready());
  const uint64_t version = members_json(c)["version"];

  // Members whose nodes never start: they stay joining, nothing is
  // promoted to them, and they are removed again below.
  const RunResult added = c.mq({"member", "add", "n9", c.spare_address(0)});
  INFO("stderr: " << added.err);
  REQUIRE(added.exit_code == 0);
  CHECK(added.out == "added n9 (id 4) at " + c.spare_address(0) + "; start it with: mq node --id n9 --listen " +
                         c.spare_address(0) + " --data-dir DIR --join " + c.endpoint(0) + "\n");

  const RunResult replaced = c.mq({"member", "replace", "-o", "json", "n9", "n8", c.spare_address(1)});
  INFO("stderr: " << replaced.err);
  REQUIRE(replaced.exit_code == 0);
  const json r = json::parse(replaced.out);
  CHECK(r["removed"]["name"] == "n9");
  CHECK(r["removed"]["state"] == "removed");
  CHECK(r["removed"]["replicas"] == 0);
  CHECK(r["added"]["name"] == "n8");
  CHECK(r["added"]["id"] == 5);
  CHECK(r["added"]["state"] == "joining");

  const RunResult plain = c.mq({"member", "replace", "5", "n7", c.spare_address(2)});
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.out, StartsWith("replaced n8 (id 5) with n7 (id 6) at " + c.spare_address(2) +
                                   ", which takes its replicas; start it with: mq node --id n7"));

  const RunResult removed = c.mq({"member", "remove", "-o", "json", "n7"});
  REQUIRE(removed.exit_code == 0);
  const json gone = json::parse(removed.out);
  CHECK(gone["id"] == 6);
  CHECK(gone["state"] == "removed");
  CHECK(gone["replicas"] == 0);

  const json after = members_json(c);
  CHECK(after["version"] == version + 4);
  REQUIRE(after["members"].size() == 6);
  for (size_t i = 3; i < 6; ++i) CHECK(after["members"][i]["state"] == "removed");
}

TEST_CASE("every member verb has --help with examples and exit codes", "[process][member][usage]") {
  const RunResult usage = run_mq({"member", "--help"});
  CHECK(usage.exit_code == 0);
  CHECK_THAT(usage.out, Contains("Verbs:") && Contains("Examples") && Contains("Exit codes"));
  CHECK(run_mq({"help", "member"}).out == usage.out);
  for (const char* verb : {"list", "add", "remove", "replace"}) {
    const RunResult direct = run_mq({"member", verb, "--help"});
    INFO("mq member " << verb << " --help\nstderr: " << direct.err);
    CHECK(direct.exit_code == 0);
    CHECK_THAT(direct.out, Contains("mq member " + std::string(verb)) && Contains("Examples") &&
                               Contains("Exit codes") && Contains("--endpoints"));
    CHECK(run_mq({"help", "member", verb}).out == direct.out);
  }
  const RunResult typo = run_mq({"member", "remvoe", "n3"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Contains("did you mean 'mq member remove'?"));
}

TEST_CASE("a member added with mq member add is joining until its node starts as printed", "[process][member]") {
  MemberCluster c({.nodes = 3, .shards = 4});
  REQUIRE(c.wait_ready());
  const RunResult added = c.mq({"member", "add", "n4", c.spare_address(0)});
  REQUIRE(added.exit_code == 0);
  CHECK_THAT(added.out, Contains("start it with: mq node --id n4 --listen " + c.spare_address(0) +
                                 " --data-dir DIR --join " + c.endpoint(0)));
  const json before = members_json(c);
  const json* m = find_member(before, "n4");
  REQUIRE(m != nullptr);
  CHECK((*m)["state"] == "joining");
  const uint64_t id = (*m)["id"], replicas = (*m)["replicas"];
  CHECK(replicas == 3);  // 4 shards x 3 replicas over 4 members

  NodeProcess& n4 = c.start_joiner("n4", 0);  // the printed flags, with a data dir
  const bool ready = n4.wait_ready(kMovesTimeoutMs);
  INFO("n4's log:\n" << n4.log());
  REQUIRE(ready);
  const json after = members_json(c);
  m = find_member(after, "n4");
  REQUIRE(m != nullptr);
  CHECK((*m)["state"] == "active");
  CHECK((*m)["id"] == id);  // claimed, not added again
  CHECK(poll_until([&] { return shards_held(n4.endpoint()) == replicas; }, kMovesTimeoutMs));
}

// Every live node of the first `live` says no replica of a shard it leads
// is still moving.
bool moves_done(const MemberCluster& c, size_t live) {
  for (size_t i = 0; i < live; ++i) {
    const RunResult r = c.mq_at(i, {"status", "-o", "json", "--timeout", "1s"});
    if (r.exit_code != 0) return false;
    const json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j["membership"]["moves_in_flight"] != 0 || j["shards"].size() != 4) return false;
  }
  return true;
}

TEST_CASE("a member removed while it was down is told so when it comes back, and stops for good",
          "[process][member]") {
  MemberCluster c({.nodes = 4, .shards = 4});
  REQUIRE(c.wait_ready());
  constexpr int kUsers = 12;
  write_keys(c, kUsers);
  REQUIRE(c.node(3).stop().has_value());

  const RunResult removed = c.mq({"member", "remove", "n4"});
  INFO("stderr: " << removed.err);
  REQUIRE(removed.exit_code == 0);
  // Three members left, four shards of three replicas: each holds all four.
  REQUIRE(poll_until([&] { return moves_done(c, 3); }, kMovesTimeoutMs));

  // Back with its old data dir: its own map never learned of the removal
  // (the metadata group had dropped it too), so its peers tell it, and it
  // drops what it held and stops.
  NodeProcess& back = c.restart(3);
  const std::optional<int> told = back.process().wait(kMovesTimeoutMs);
  REQUIRE(told.has_value());
  CHECK(*told == 14);
  const std::string log = back.log();
  CHECK_THAT(log, Contains("says this node was removed from cluster"));
  CHECK_THAT(log, Contains("(told by n") && Contains("holds no replicas: it stops"));

  // And for good: the same data dir is refused at once, with the way out.
  NodeProcess& again = c.restart(3);
  const std::optional<int> refused = again.process().wait(10'000);
  REQUIRE(refused.has_value());
  CHECK(*refused == 14);
  CHECK_THAT(again.log(), Contains("start it with an empty data dir and --join"));

  CHECK(keys_readable(c, 0, kUsers));
  const json after = members_json(c);
  CHECK(after["members"][3]["state"] == "removed");
}
