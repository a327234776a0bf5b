// What `mq cluster` prints: the nodes table, the status (nodes, shards,
// health) as a table or JSON. Results go to stdout, so these return text.
#pragma once

#include <string>

#include "cli/output.h"
#include "playground/cluster_view.h"

namespace mq::cli {

// ID STATE PID ADDRESS LEADS (the shards it leads).
std::string render_nodes(const playground::ClusterView& view);

// Nodes, shards (leader, term, commit, lag per replica) and the health line.
std::string render_status_table(const playground::ClusterView& view);

// {"name", "health", "health_reason", "nodes": [{id, state, pid, address,
// shards_led}], "shards": [{id, leader, term, commit, quorum, replicas:
// [{node, role, lag}]}]}.
std::string render_status_json(const playground::ClusterView& view);

// How to talk to the cluster: the endpoints and a few commands.
std::string connect_hint(const playground::ClusterView& view, const std::string& dir_flag);

}  // namespace mq::cli
