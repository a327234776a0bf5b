// Golden traces: each testdata/*.txt is a transcript of commands ("> ...")
// and the trace they produce. The test replays the commands and compares the
// regenerated transcript as text. MQ_REWRITE_GOLDEN=1 rewrites the files on
// purpose; the diff is then reviewed like code.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/raft/interaction_env.h"

namespace fs = std::filesystem;
using mq::raft::testing::InteractionEnv;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replay(const std::string& transcript) {
  InteractionEnv env;
  std::istringstream in(transcript);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("> ", 0) == 0) {
      out += line + "\n";
      out += env.run(line.substr(2));
    } else if (line.empty() || line[0] == '#') {
      out += line + "\n";
    }
  }
  return out;
}

std::string first_difference(const std::string& want, const std::string& got) {
  std::istringstream a(want);
  std::istringstream b(got);
  std::string la;
  std::string lb;
  for (int n = 1; n < 100000; ++n) {
    const bool ha = static_cast<bool>(std::getline(a, la));
    const bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) return "";
    if (!ha || !hb || la != lb) {
      return "line " + std::to_string(n) + "\n  want: " + (ha ? la : "<end>") +
             "\n  got:  " + (hb ? lb : "<end>");
    }
  }
  return "";
}

}  // namespace

TEST_CASE("golden traces", "[raft][golden]") {
  const fs::path dir = MQ_RAFT_TESTDATA_DIR;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 7);
  const char* rewrite = std::getenv("MQ_REWRITE_GOLDEN");
  for (const fs::path& file : files) {
    SECTION(file.filename().string()) {
      const std::string want = read_file(file);
      const std::string got = replay(want);
      if (rewrite && std::string(rewrite) == "1") {
        std::ofstream(file) << got;
        continue;
      }
      INFO(file.filename().string() << ": " << first_difference(want, got));
      CHECK(want == got);
    }
  }
}
