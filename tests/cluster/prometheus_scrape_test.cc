// A real Prometheus (Debian package prometheus) scraping a 3-node local
// cluster through the target file `mq cluster up` keeps, while `mq bench`
// writes: through Prometheus's own query API, three targets are up and the
// write rate is not zero. Skipped, saying so, when prometheus is absent.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cluster_fixture.h"
#include "tests/process/http_client.h"
#include "tests/process/subprocess.h"

using nlohmann::json;
using namespace mq::test;

namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";

// Prometheus's instant query API, parsed; null when it did not answer.
json query(uint16_t port, const std::string& encoded_query) {
  auto a = http_call(port, "GET", "/api/v1/query?query=" + encoded_query);
  if (!a || a->status != 200) return nullptr;
  return json::parse(a->body, nullptr, false);
}

}  // namespace

TEST_CASE("Prometheus scrapes every node of a local cluster under load", "[cluster][metrics]") {
  if (::access(kPrometheus, X_OK) != 0) {
    WARN("skipped: " << kPrometheus << " is not installed (apt-get install prometheus)");
    return;
  }
  TestCluster c(3, 8);
  REQUIRE(c.cluster("up", {"-n", "3", "--shards", "8", "--base-port", std::to_string(c.base_port())})
              .exit_code == 0);
  const std::string targets = c.dir() + "/prometheus_targets.json";
  REQUIRE(std::ifstream(targets).good());

  const std::string config = c.dir() + "/prometheus-test.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                           "scrape_configs:\n  - job_name: mq\n    scrape_timeout: 900ms\n"
                           "    file_sd_configs:\n      - files: ['"
                        << targets << "']\n        refresh_interval: 1s\n";
  const uint16_t web_port = free_port_run(1);
  SpawnOptions spawn;
  spawn.argv = {kPrometheus,
                "--config.file=" + config,
                "--storage.tsdb.path=" + c.dir() + "/prometheus-data",
                "--web.listen-address=127.0.0.1:" + std::to_string(web_port),
                "--log.level=warn"};
  spawn.stderr_path = c.dir() + "/prometheus.log";
  Subprocess prometheus(spawn);

  // Load: two rounds of writes while Prometheus scrapes every second.
  json status = c.status();
  std::string endpoints;
  for (const auto& n : status["nodes"]) {
    endpoints += (endpoints.empty() ? "" : ",") + n["address"].get<std::string>();
  }
  REQUIRE(!endpoints.empty());
  Run bench = mq::test::mq({"bench", "--endpoints", endpoints, "--duration", "6s", "--warmup", "0s",
                  "--clients", "8", "--keys", "1000", "-o", "json"},
                 60'000);
  REQUIRE(bench.exit_code == 0);

  // Every target up, and a nonzero write rate over the last seconds.
  json up;
  json rate;
  for (int i = 0; i < 60; ++i) {
    up = query(web_port, "up");
    rate = query(web_port,
                 "sum(rate(mq_requests_total%7Bmethod%3D%22set%22%2Coutcome%3D%22ok%22%7D%5B20s%5D))");
    const bool all_up = up.is_object() && up["data"]["result"].size() == 3 &&
                        std::all_of(up["data"]["result"].begin(), up["data"]["result"].end(),
                                    [](const json& r) { return r["value"][1] == "1"; });
    const bool writing = rate.is_object() && rate["data"]["result"].size() == 1 &&
                         std::stod(rate["data"]["result"][0]["value"][1].get<std::string>()) > 0;
    if (all_up && writing) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  INFO("up: " << up.dump() << "\nrate: " << rate.dump());
  REQUIRE(up.is_object());
  CHECK(up["data"]["result"].size() == 3);
  for (const auto& r : up["data"]["result"]) CHECK(r["value"][1] == "1");
  REQUIRE(rate.is_object());
  REQUIRE(rate["data"]["result"].size() == 1);
  CHECK(std::stod(rate["data"]["result"][0]["value"][1].get<std::string>()) > 0);
}
