#include "playground/cluster_target.h"

#include "playground/cluster_state.h"

namespace mq::playground {

std::string ClusterTarget::resolved_dir() const { return dir.empty() ? default_cluster_dir(name) : dir; }

std::string ClusterTarget::flags() const {
  if (!dir.empty()) return " --dir " + dir;
  return name == "local" ? "" : " --name " + name;
}

}  // namespace mq::playground
