#include <catch2/catch.hpp>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "cli/client_flags.h"
#include "cli/local_target.h"
#include "cli/output.h"
#include "playground/cluster_state.h"

using Catch::Matchers::Contains;
using namespace mq::cli;

namespace {

ResolvedClient resolved(const ClientFlags& flags) {
  ResolvedClient out;
  const std::string error = resolve_client_flags(flags, &out);
  INFO(error);
  REQUIRE(error.empty());
  return out;
}

std::string resolve_error(const ClientFlags& flags) {
  ResolvedClient out;
  return resolve_client_flags(flags, &out);
}

// Runs parse_or_exit on a command line; argv[0] is the program name.
int parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_or_exit(app, static_cast<int>(args.size()), argv.data());
}

}  // namespace

TEST_CASE("endpoints split on commas and are checked", "[client_flags]") {
  ClientFlags flags;
  flags.output = "plain";
  flags.endpoints = "127.0.0.1:7001,localhost:7002,[::1]:7003";
  CHECK(resolved(flags).options.endpoints ==
        std::vector<std::string>{"127.0.0.1:7001", "localhost:7002", "[::1]:7003"});

  flags.endpoints = "";
  CHECK(resolved(flags).options.endpoints == std::vector<std::string>{"127.0.0.1:7001"});

  flags.endpoints = "127.0.0.1:7001,";
  CHECK_THAT(resolve_error(flags), Contains("--endpoints") && Contains("empty endpoint"));
  flags.endpoints = "127.0.0.1:7001,,127.0.0.1:7002";
  CHECK_THAT(resolve_error(flags), Contains("empty endpoint"));
  flags.endpoints = "127.0.0.1";
  CHECK_THAT(resolve_error(flags), Contains("--endpoints") && Contains("not host:port"));
  flags.endpoints = "127.0.0.1:99999";
  CHECK_THAT(resolve_error(flags), Contains("1..65535"));
}

TEST_CASE("output format and consistency are checked", "[client_flags]") {
  ClientFlags flags;
  flags.output = "json";
  CHECK(resolved(flags).format == Format::kJson);
  flags.output = "table";
  CHECK(resolved(flags).format == Format::kTable);
  flags.output = "xml";
  CHECK_THAT(resolve_error(flags), Contains("plain, json or table") && Contains("'xml'"));

  flags.output = "plain";
  CHECK(resolved(flags).consistency == Consistency::kLinearizable);
  flags.consistency = "stale";
  CHECK(resolved(flags).consistency == Consistency::kStale);
  flags.consistency = "eventual";
  CHECK_THAT(resolve_error(flags), Contains("linearizable or stale"));
}

TEST_CASE("timeout and verbosity pass through", "[client_flags]") {
  ClientFlags flags;
  flags.output = "plain";
  flags.timeout = Millis(250);
  flags.verbose = true;
  const ResolvedClient r = resolved(flags);
  CHECK(r.options.timeout_ms == 250);
  CHECK(r.options.verbose);
}

TEST_CASE("parse_or_exit: go on, help, or a usage error", "[client_flags]") {
  SECTION("valid arguments go on") {
    ClientFlags flags;
    std::string user;
    CLI::App app{"test", "mq test"};
    app.add_option("USER", user)->required();
    add_client_flags(app, flags, true);
    CHECK(parse(app, {"mq test", "--endpoints", "127.0.0.1:1", "-o", "json", "--timeout", "10ms",
                      "--consistency", "stale", "-v", "alice"}) == -1);
    CHECK(user == "alice");
    CHECK(flags.endpoints == "127.0.0.1:1");
    CHECK(flags.output == "json");
    CHECK(flags.timeout == Millis(10));
    CHECK(flags.consistency == "stale");
    CHECK(flags.verbose);
  }
  SECTION("help exits 0") {
    CLI::App app{"test", "mq test"};
    CHECK(parse(app, {"mq test", "--help"}) == 0);
  }
  SECTION("a missing argument exits 2") {
    std::string user;
    CLI::App app{"test", "mq test"};
    app.add_option("USER", user)->required();
    CHECK(parse(app, {"mq test"}) == 2);
  }
  SECTION("an unknown flag exits 2") {
    CLI::App app{"test", "mq test"};
    CHECK(parse(app, {"mq test", "--frobnicate"}) == 2);
  }
  SECTION("a timeout out of range exits 2") {
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--timeout", "0"}) == 2);
  }
  SECTION("a timeout without a unit exits 2: is 5 seconds or milliseconds?") {
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--endpoints", "127.0.0.1:1", "--timeout", "5"}) == 2);
  }
  SECTION("consistency is only a flag where it applies") {
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--consistency", "stale"}) == 2);
  }
}

namespace {

std::vector<std::string> split(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string program = "mq";
  argv.push_back(program.data());
  for (auto& a : args) argv.push_back(a.data());
  return split_attached_short_values(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("-o=json is taken as -o json, for every short option", "[client_flags]") {
  using V = std::vector<std::string>;
  CHECK(split({"get", "-o=json", "u", "k"}) == V{"get", "-o", "json", "u", "k"});
  CHECK(split({"-n=5"}) == V{"-n", "5"});
  CHECK(split({"-o==json"}) == V{"-o", "=json"});  // still refused: '=json' is no format
  CHECK_FALSE(parse_format(split({"-o==json"})[1]));
  CHECK(split({"--output=json"}) == V{"--output=json"});  // long options: the parser splits them
  CHECK(split({"set", "u", "k", "--", "-v=x"}) == V{"set", "u", "k", "--", "-v=x"});
  CHECK(split({"-o"}) == V{"-o"});
}

TEST_CASE("a command parses -o=json", "[client_flags]") {
  std::string output;
  CLI::App app{"test", "mq test"};
  app.add_option("-o,--output", output);
  std::vector<std::string> args = {"mq", "-o=json"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  CHECK(parse_or_exit(app, static_cast<int>(argv.size()), argv.data()) == -1);
  CHECK(output == "json");
}

namespace {

// Sets (or, with nullopt, unsets) an environment variable for a scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A fresh $MQ_HOME for the scope: no local cluster exists in it.
class TempHome {
 public:
  TempHome()
      : path_(std::filesystem::temp_directory_path() /
              ("mq-client-flags-test-" + std::to_string(getpid()))),
        env_("MQ_HOME", path_.string()) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempHome() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

 private:
  std::filesystem::path path_;
  ScopedEnv env_;
};

// A local cluster's state with no node running (as `mq cluster down`
// leaves it): three nodes on base_port..base_port+2.
void save_stopped_cluster(const std::string& name, uint16_t base_port) {
  mq::playground::ClusterState state;
  state.name = name;
  for (int i = 0; i < 3; ++i) {
    mq::playground::NodeRecord n;
    n.id = "n" + std::to_string(i + 1);
    n.port = static_cast<uint16_t>(base_port + i);
    state.nodes.push_back(n);
  }
  const std::string dir = mq::playground::default_cluster_dir(name);
  std::filesystem::create_directories(dir);
  REQUIRE(mq::playground::save_state(dir, state).empty());
}

}  // namespace

TEST_CASE("MQ_TIMEOUT takes the duration syntax too", "[client_flags]") {
  SECTION("a duration") {
    ScopedEnv env("MQ_TIMEOUT", "2s");
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--endpoints", "127.0.0.1:1"}) == -1);
    CHECK(flags.timeout == Millis(2000));
  }
  SECTION("a bare number is refused from the environment as from the command line") {
    ScopedEnv env("MQ_TIMEOUT", "2000");
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--endpoints", "127.0.0.1:1"}) == 2);
  }
}

TEST_CASE("endpoints may name hosts; a mistyped address is still refused", "[client_flags]") {
  ClientFlags flags;
  flags.output = "plain";
  flags.endpoints = "db1:7001,kv-2.example.com:7002,127.0.0.1:7003";
  CHECK(resolved(flags).options.endpoints ==
        std::vector<std::string>{"db1:7001", "kv-2.example.com:7002", "127.0.0.1:7003"});
  flags.endpoints = "127.0.0:7001";  // the last label is all digits: a broken IPv4 address
  CHECK_THAT(resolve_error(flags), Contains("host must be an IPv4 address, [IPv6] or a host name"));
  flags.endpoints = "-db:7001";
  CHECK_THAT(resolve_error(flags), Contains("host name"));
  flags.endpoints = "db1:0";
  CHECK_THAT(resolve_error(flags), Contains("1..65535"));
}

TEST_CASE("--endpoints typed on the command line beats MQ_CLUSTER; both typed is an error",
          "[client_flags]") {
  TempHome home;
  SECTION("the typed flag wins over the environment") {
    ScopedEnv env("MQ_CLUSTER", "elsewhere");
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--endpoints", "127.0.0.1:1"}) == -1);
    CHECK(flags.endpoints == "127.0.0.1:1");
    CHECK(flags.cluster.empty());
  }
  SECTION("both typed") {
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--endpoints", "127.0.0.1:1", "--cluster", "five"}) == 2);
  }
}

TEST_CASE("a stopped local cluster is named with its ports and how to start it", "[client_flags]") {
  TempHome home;
  save_stopped_cluster("local", 7101);
  LocalTarget t = resolve_local_target("");
  CHECK(t.exit_code == 3);
  CHECK(t.error ==
        "cluster 'local' is not running (ports 127.0.0.1:7101-7103); start it with: mq cluster up");

  save_stopped_cluster("five", 7201);
  t = resolve_local_target("five");
  CHECK(t.exit_code == 3);
  CHECK_THAT(t.error, Contains("cluster 'five' is not running (ports 127.0.0.1:7201-7203)") &&
                          Contains("start it with: mq cluster up --cluster five"));

  // Through the flags, as a command parses them: exit 3 before any request.
  ClientFlags flags;
  CLI::App app{"test", "mq test"};
  add_client_flags(app, flags, false);
  CHECK(parse(app, {"mq test", "--cluster", "five"}) == 3);
}

TEST_CASE("--cluster names a cluster that does not exist", "[client_flags]") {
  TempHome home;
  LocalTarget t = resolve_local_target("nine");
  CHECK(t.exit_code == 3);
  CHECK_THAT(t.error, Contains("no local cluster 'nine'") &&
                          Contains("start it with: mq cluster up --cluster nine"));
  t = resolve_local_target("bad name!");
  CHECK(t.exit_code == 2);
}

TEST_CASE("addresses are described as a port range when they follow each other", "[client_flags]") {
  CHECK(describe_addresses({"127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103"}) ==
        "127.0.0.1:7101-7103");
  CHECK(describe_addresses({"127.0.0.1:7101", "127.0.0.1:7105"}) == "127.0.0.1:7101,127.0.0.1:7105");
  CHECK(describe_addresses({"127.0.0.1:7101"}) == "127.0.0.1:7101");
}
