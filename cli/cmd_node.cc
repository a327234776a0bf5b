// mq node: run one server process.
#include <CLI/CLI.hpp>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "node/server/node.h"

namespace mq::cli {

int cmd_node(int argc, char** argv) {
  server::NodeConfig config;
  CLI::App app{"Run one mq node: serves the public gRPC API (KV and Cluster services).",
               "mq node"};
  app.add_option("--id", config.id, "Node id, e.g. n1 (letters, digits, '-', '_', '.')")
      ->required()
      ->envname("MQ_ID");
  app.add_option("--listen", config.listen, "host:port to serve on, e.g. 127.0.0.1:7001")
      ->required()
      ->envname("MQ_LISTEN");
  app.add_option("--data-dir", config.data_dir, "Directory for this node's data (created if missing)")
      ->required()
      ->envname("MQ_DATA_DIR");
  app.add_option("--shards", config.shard_count, "Number of shards (default 16)")
      ->envname("MQ_SHARDS");
  app.add_option("--max-value-bytes", config.value_bytes_max,
                 "Largest value accepted, in bytes (default 1048576 = 1 MiB)")
      ->envname("MQ_MAX_VALUE_BYTES");
  app.footer(R"(Examples:
  mq node --id n1 --listen 127.0.0.1:7001 --data-dir /tmp/mq/n1
  MQ_MAX_VALUE_BYTES=4194304 mq node --id n1 --listen 127.0.0.1:7001 --data-dir d1

Stops cleanly on SIGTERM or SIGINT. Exit codes: 0 stopped, 2 bad flags,
5 cannot start (port in use, data dir unusable or locked),
10 corrupt data dir, 11 data dir of another node or cluster.
This version keeps data in memory only; the data dir is locked and checked
for writability.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return server::run_node(config);
}

}  // namespace mq::cli
