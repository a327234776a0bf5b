// The time flags of `mq demo failover` and `mq cluster watch` take the one
// duration syntax (a bare number is refused, as is the old flag name), and
// every flag reads MQ_<FLAG>. All of it is refused before any cluster is
// touched, so no cluster is needed.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "cluster_fixture.h"

using mq::test::Run;

namespace {

Run run_mq(const std::vector<std::string>& args) { return mq::test::mq(args, 30'000); }

// Sets an environment variable for the commands run in its scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("demo and watch durations need a unit, from a flag or from MQ_<FLAG>", "[cluster][process][flags]") {
  const std::string nowhere = "/nonexistent/mq-flags-test";
  auto d = run_mq({"demo", "failover", "--dir", nowhere, "--duration", "6"});
  CHECK(d.exit_code == 2);
  CHECK(d.err.find("'6' is not a duration like 250ms, 5s or 2m") != std::string::npos);
  auto old_name = run_mq({"demo", "failover", "--dir", nowhere, "--timeout-ms", "2000"});
  CHECK(old_name.exit_code == 2);
  auto w = run_mq({"cluster", "watch", "--dir", nowhere, "--interval", "200"});
  CHECK(w.exit_code == 2);
  CHECK(w.err.find("'200' is not a duration") != std::string::npos);
  {
    ScopedEnv env("MQ_TIMEOUT", "2000");
    auto e = run_mq({"demo", "failover", "--dir", nowhere});
    CHECK(e.exit_code == 2);
    CHECK(e.err.find("'2000' is not a duration") != std::string::npos);
  }
  {
    ScopedEnv env("MQ_TRIALS", "0");
    CHECK(run_mq({"demo", "failover", "--dir", nowhere}).exit_code == 2);
  }
  {
    ScopedEnv env("MQ_INTERVAL", "5");
    CHECK(run_mq({"cluster", "watch", "--dir", nowhere}).exit_code == 2);
  }
  // A valid duration gets as far as looking for the cluster.
  {
    ScopedEnv env("MQ_INTERVAL", "250ms");
    auto ok = run_mq({"cluster", "watch", "--dir", nowhere, "--duration", "1s"});
    CHECK(ok.exit_code == 1);
    CHECK(ok.err.find("no cluster in " + nowhere) != std::string::npos);
  }
}
