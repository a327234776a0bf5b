// examples/monitoring/: the Prometheus configuration finds the nodes through
// the target file `mq cluster up` writes, and the Grafana dashboard is valid
// JSON whose panels ask for the metrics the nodes export.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "playground/prometheus_targets.h"

using Catch::Matchers::Contains;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kExamples = fs::path(MQ_EXAMPLES_DIR) / "monitoring";

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first executable `name` on PATH, or "".
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir) / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Every query of every panel, joined per panel title.
std::map<std::string, std::string> panel_queries(const json& dashboard) {
  std::map<std::string, std::string> out;
  for (const auto& panel : dashboard.at("panels")) {
    std::string& queries = out[panel.at("title").get<std::string>()];
    for (const auto& target : panel.at("targets")) queries += target.at("expr").get<std::string>() + "\n";
  }
  return out;
}

bool any_query_matches(const std::map<std::string, std::string>& queries, const std::string& pattern) {
  const std::regex re(pattern);
  for (const auto& [title, q] : queries) {
    if (std::regex_search(q, re)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the example Prometheus config scrapes the cluster's target file", "[examples]") {
  const std::string config = slurp(kExamples / "prometheus.yml");
  REQUIRE_FALSE(config.empty());
  CHECK_THAT(config, Contains("file_sd_configs"));
  CHECK_THAT(config, Contains(std::string("- ") + mq::playground::kPrometheusTargetsFileName));
  // Short enough to see a failover as it happens, not shorter than 1 s.
  std::smatch interval;
  REQUIRE(std::regex_search(config, interval, std::regex(R"(\n\s*scrape_interval:\s*(\d+)s\b)")));
  CHECK(std::stoi(interval[1]) >= 1);
  CHECK(std::stoi(interval[1]) <= 5);
  // No machine's own path in an example a user copies: every listed file
  // (the target file) is named relative to the config.
  CHECK_FALSE(std::regex_search(config, std::regex(R"(\n\s*-\s*['"]?/)")));

  const std::string promtool = on_path("promtool");
  if (promtool.empty()) {
    WARN("promtool is not on PATH: the configuration's syntax is not checked");
    return;
  }
  // Checked beside a target file as `mq cluster up` writes it.
  char tmpl[] = "/tmp/mq-monitoring-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  fs::copy_file(kExamples / "prometheus.yml", dir / "prometheus.yml");
  mq::playground::ClusterState state;
  mq::playground::NodeRecord node;
  node.id = "n1";
  node.port = 7001;
  node.http_port = 8001;
  state.nodes.push_back(node);
  REQUIRE(mq::playground::write_prometheus_targets(dir, state) == "");
  const std::string command = "'" + promtool + "' check config '" + (dir / "prometheus.yml").string() +
                              "' > '" + (dir / "out").string() + "' 2>&1";
  const int status = std::system(command.c_str());
  const std::string output = slurp(dir / "out");
  fs::remove_all(dir);
  INFO(output);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(output, Contains("SUCCESS"));
  CHECK_THAT(output, !Contains("WARNING"));
}

TEST_CASE("the example Grafana dashboard shows throughput, latency, leaders, fsync and elections",
          "[examples]") {
  const json dashboard = json::parse(slurp(kExamples / "grafana-dashboard.json"));
  REQUIRE(dashboard.at("panels").size() >= 5);
  const auto queries = panel_queries(dashboard);

  CHECK(any_query_matches(queries, R"(sum by \((api, )?method\) \(rate\(mq_requests_total\{[^}]*method=~"[^"]*set)"));
  CHECK(any_query_matches(queries, R"(sum by \((api, )?method\) \(rate\(mq_requests_total\{[^}]*method=~"[^"]*get)"));
  CHECK(any_query_matches(queries, R"(histogram_quantile\(0\.5, sum by \(le, method\) \(rate\(mq_request_duration_seconds_bucket)"));
  CHECK(any_query_matches(queries, R"(histogram_quantile\(0\.99, sum by \(le, method\) \(rate\(mq_request_duration_seconds_bucket)"));
  CHECK(any_query_matches(queries, R"(sum by \(instance\) \(mq_server_is_leader)"));
  CHECK(any_query_matches(queries, R"(histogram_quantile\(0\.99, [^\n]*mq_disk_wal_fsync_duration_seconds_bucket)"));
  CHECK(any_query_matches(queries, R"(mq_server_leader_changes_seen_total)"));

  // Every panel asks the data source picked at import, and its queries
  // have distinct ids (Grafana drops all but one of a repeated refId).
  for (const auto& panel : dashboard.at("panels")) {
    INFO(panel.at("title"));
    CHECK(panel.at("datasource").at("uid") == "${datasource}");
    std::set<std::string> ids;
    for (const auto& target : panel.at("targets")) ids.insert(target.at("refId").get<std::string>());
    CHECK(ids.size() == panel.at("targets").size());
  }
}
