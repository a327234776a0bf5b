#include "playground/prometheus_targets.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mq::playground {

namespace fs = std::filesystem;
using nlohmann::json;

std::string prometheus_targets_json(const ClusterState& state) {
  json targets = json::array();
  for (const auto& n : state.nodes) {
    if (n.http_port != 0) targets.push_back(n.http_address());
  }
  const json group = {{"targets", targets}, {"labels", {{"cluster", state.name}}}};
  return json::array({group}).dump(2) + "\n";
}

std::string write_prometheus_targets(const std::string& dir, const ClusterState& state) {
  const fs::path path = fs::path(dir) / kPrometheusTargetsFileName;
  const std::string content = prometheus_targets_json(state);
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream current;
    current << in.rdbuf();
    if (in && current.str() == content) return "";
  }
  const fs::path tmp = fs::path(dir) / (std::string(kPrometheusTargetsFileName) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << content;
    out.flush();
    if (!out) return "cannot write " + tmp.string();
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return "cannot write " + path.string() + ": " + ec.message();
  return "";
}

}  // namespace mq::playground
