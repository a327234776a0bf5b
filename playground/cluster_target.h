// Which local cluster a command means: --dir wins, else --name (default
// "local") in the default place (see default_cluster_dir).
#pragma once

#include <string>

namespace mq::playground {

struct ClusterTarget {
  std::string name = "local";
  std::string dir;  // "" = default_cluster_dir(name)

  std::string resolved_dir() const;
  // The flags that name this cluster again in a hint to the user: "" for
  // the default cluster, else " --name N" or " --dir D".
  std::string flags() const;
};

}  // namespace mq::playground
