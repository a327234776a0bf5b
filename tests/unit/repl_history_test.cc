#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/repl_history.h"

namespace fs = std::filesystem;
using mq::cli::append_history;
using mq::cli::kHistoryLinesMax;
using mq::cli::load_history;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempFile {
  std::string path;
  TempFile() {
    char templ[] = "/tmp/mq-history-test-XXXXXX";
    const int fd = ::mkstemp(templ);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = templ;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove(path + ".tmp", ec);
  }
};

}  // namespace

TEST_CASE("the history file holds each command exactly as typed", "[repl][history]") {
  TempFile file;
  REQUIRE(append_history(file.path, R"(set user123 greeting "hello world")"));
  REQUIRE(append_history(file.path, "get user123 greeting"));
  REQUIRE(append_history(file.path, R"(\cluster kill n2)"));
  CHECK(slurp(file.path) ==
        "set user123 greeting \"hello world\"\nget user123 greeting\n\\cluster kill n2\n");
  CHECK(load_history(file.path) == std::vector<std::string>{R"(set user123 greeting "hello world")",
                                                            "get user123 greeting",
                                                            R"(\cluster kill n2)"});
}

TEST_CASE("the history keeps the newest lines and trims the file", "[repl][history]") {
  TempFile file;
  {
    std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
    for (size_t i = 0; i < kHistoryLinesMax + 10; ++i) out << "get u k" << i << "\n";
  }
  const auto lines = load_history(file.path);
  REQUIRE(lines.size() == kHistoryLinesMax);
  CHECK(lines.front() == "get u k10");
  CHECK(lines.back() == "get u k" + std::to_string(kHistoryLinesMax + 9));
  CHECK(load_history(file.path) == lines);
  CHECK(slurp(file.path).rfind("get u k10\n", 0) == 0);
}

TEST_CASE("a missing history file is an empty history", "[repl][history]") {
  CHECK(load_history("/nonexistent-dir/mq_history").empty());
  CHECK_FALSE(append_history("/nonexistent-dir/mq_history", "get u k"));
}
