// What `mq cluster` prints: the nodes table, the status (nodes, shards,
// health) as a table or JSON. Results go to stdout, so these return text.
#pragma once

#include "node/tls/tls_files.h"

#include <string>

#include "cli/output.h"
#include "playground/cluster_view.h"

namespace mq::cli {

// ID STATE PID ADDRESS HTTP LEADS (the shards it leads; HTTP "-" when the
// node has no HTTP listener).
std::string render_nodes(const playground::ClusterView& view);

// Nodes, shards (leader, term, commit, lag per replica) and the health line.
std::string render_status_table(const playground::ClusterView& view);

// {"name", "health", "health_reason", "nodes": [{id, state, pid, address,
// shards_led}], "shards": [{id, leader, term, commit, quorum, replicas:
// [{node, role, lag}]}]}: cli/json_schema/cluster_status.json. A replica's
// lag is null when no leader of the current term answered.
std::string render_status_json(const playground::ClusterView& view);

// One line: "cluster local: healthy; 3/3 nodes up, 16/16 shards with a leader".
std::string render_status_line(const playground::ClusterView& view);

// `mq cluster status` in each format.
std::string render_cluster_status(Format f, const playground::ClusterView& view);

// `mq cluster logs -o json`: one object per log line, {"node", "line"}
// (cli/json_schema/cluster_logs.json); bytes that are not UTF-8 become U+FFFD.
std::string render_log_line_json(const std::string& node, const std::string& line);

// How to talk to the cluster: the endpoints and a few commands.
std::string connect_hint(const playground::ClusterView& view, const std::string& dir_flag,
                         const tls::TlsFiles& tls = {}, const std::string& token_file = "");

}  // namespace mq::cli
