// The README's "Using it" session, run for real: every `$ ` line of its
// console blocks is run by sh on a terminal of its own (a pseudo-terminal,
// as the reader's), and what it prints must be what the README shows under
// it. So the README and the program cannot drift apart.
//
// The session runs in a fresh directory holding build/mq (a link to the
// binary under test), with MQ_HOME there and the cluster's base port a free
// one. In the output, the real ports are written back as 7001..7003 (HTTP
// 8001..8003) before comparing; runs of spaces count as one (table columns
// are as wide as the pids in them); `...` in a README line stands for any text, and a line of
// just `...` for any number of lines.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "node_process.h"
#include "pty_process.h"

using namespace mq::test;

namespace {

constexpr int kCommandTimeoutMs = 30'000;
constexpr int kDrainMs = 300;
constexpr int kClusterNodes = 3;
constexpr uint16_t kReadmeBasePort = 7001;
constexpr int kHttpPortOffset = 1000;  // the launcher's: HTTP 8001 beside gRPC 7001
constexpr int kPortTriesMax = 50;

struct Step {
  std::string command;
  std::vector<std::string> expected;  // lines
};

// The `$ ` commands of the console blocks of the "## Using it" section, each
// with the lines under it.
std::vector<Step> readme_steps() {
  std::ifstream in(MQ_README);
  REQUIRE(in);
  std::vector<Step> steps;
  std::string line;
  bool in_section = false, in_console = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Using it";
    if (!in_section) continue;
    if (line.rfind("```", 0) == 0) {
      in_console = !in_console && line == "```console";
      continue;
    }
    if (!in_console) continue;
    if (line.rfind("$ ", 0) == 0) {
      steps.push_back({line.substr(2), {}});
    } else {
      REQUIRE_FALSE(steps.empty());
      steps.back().expected.push_back(line);
    }
  }
  return steps;
}

// What a terminal shows of raw pty output: "\r" returns to the start of the
// line and later text overwrites (progress lines do that); trailing spaces
// are dropped.
std::vector<std::string> screen_lines(const std::string& raw) {
  std::vector<std::string> lines;
  std::string current;
  size_t column = 0;
  for (char c : raw) {
    if (c == '\r') {
      column = 0;
    } else if (c == '\n') {
      lines.push_back(current);
      current.clear();
      column = 0;
    } else {
      if (column < current.size()) {
        current[column] = c;
      } else {
        current.push_back(c);
      }
      ++column;
    }
  }
  if (!current.empty()) lines.push_back(current);
  for (auto& l : lines) l.erase(l.find_last_not_of(' ') + 1);
  return lines;
}

std::string collapse_spaces(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

bool line_matches(const std::string& expected, const std::string& actual) {
  const std::string e = collapse_spaces(expected), a = collapse_spaces(actual);
  if (e.find("...") == std::string::npos) return e == a;
  std::string pattern;
  for (size_t i = 0; i < e.size(); ++i) {
    if (e.compare(i, 3, "...") == 0) {
      pattern += ".*";
      i += 2;
    } else {
      if (std::string("\\^$.|?*+()[]{}").find(e[i]) != std::string::npos) pattern += '\\';
      pattern += e[i];
    }
  }
  return std::regex_match(a, std::regex(pattern));
}

// Expected lines against actual ones, a "..." line matching any run of lines.
bool lines_match(const std::vector<std::string>& e, size_t ei, const std::vector<std::string>& a, size_t ai) {
  if (ei == e.size()) return ai == a.size();
  if (e[ei] == "...") {
    for (size_t skip = ai; skip <= a.size(); ++skip) {
      if (lines_match(e, ei + 1, a, skip)) return true;
    }
    return false;
  }
  return ai < a.size() && line_matches(e[ei], a[ai]) && lines_match(e, ei + 1, a, ai + 1);
}

bool port_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A base port whose next kClusterNodes ports are all free now, and so are
// the nodes' HTTP ports (kHttpPortOffset above).
uint16_t free_base_port() {
  for (int attempt = 0; attempt < kPortTriesMax; ++attempt) {
    const uint16_t base = free_loopback_port();
    bool all = base + kHttpPortOffset + kClusterNodes < 65535;
    for (int i = 1; all && i < kClusterNodes; ++i) all = port_free(static_cast<uint16_t>(base + i));
    for (int i = 0; all && i < kClusterNodes; ++i) {
      all = port_free(static_cast<uint16_t>(base + kHttpPortOffset + i));
    }
    if (all) return base;
  }
  FAIL("no " << kClusterNodes << " consecutive free ports");
  return 0;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Stops whatever cluster the session left running, when the test ends in
// any way (the README's last command normally did it already).
class ClusterGuard {
 public:
  explicit ClusterGuard(std::vector<std::pair<std::string, std::string>> env) : env_(std::move(env)) {}
  ~ClusterGuard() { run_mq({"cluster", "down", "--purge"}, {}, env_); }

 private:
  std::vector<std::pair<std::string, std::string>> env_;
};

}  // namespace

TEST_CASE("the README's session prints what the README shows", "[process][readme]") {
  const std::vector<Step> steps = readme_steps();
  REQUIRE(steps.size() > 5);

  TempDir dir;
  std::filesystem::create_directories(dir / "build");
  std::filesystem::create_symlink(mq_binary(), dir / "build/mq");
  const uint16_t base_port = free_base_port();
  const std::vector<std::pair<std::string, std::string>> env = {
      {"TERM", "dumb"}, {"MQ_HOME", dir / ".mq"}, {"MQ_BASE_PORT", std::to_string(base_port)}};
  ClusterGuard guard(env);

  for (const Step& step : steps) {
    PtyProcess shell({"/bin/sh", "-c", "cd '" + dir.path() + "' && " + step.command}, env);
    const std::optional<int> status = shell.wait_exit(kCommandTimeoutMs);
    shell.wait_for(std::string_view("\x01\x02\x03", 3), kDrainMs);  // what is still in the terminal
    std::string raw = shell.pending();
    for (int i = 0; i < kClusterNodes; ++i) {
      raw = replace_all(raw, "127.0.0.1:" + std::to_string(base_port + i),
                        "127.0.0.1:" + std::to_string(kReadmeBasePort + i));
      raw = replace_all(raw, "127.0.0.1:" + std::to_string(base_port + kHttpPortOffset + i),
                        "127.0.0.1:" + std::to_string(kReadmeBasePort + kHttpPortOffset + i));
    }
    const std::vector<std::string> actual = screen_lines(raw);
    std::string expected_text, actual_text;
    for (const auto& l : step.expected) expected_text += l + "\n";
    for (const auto& l : actual) actual_text += l + "\n";
    INFO("$ " << step.command << "\nREADME shows:\n" << expected_text << "it printed:\n" << actual_text);
    REQUIRE(status == std::optional<int>(0));
    CHECK(lines_match(step.expected, 0, actual, 0));
  }
}
