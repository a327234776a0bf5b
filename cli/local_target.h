// Which nodes a client command talks to when --endpoints is not given: the
// local cluster (`mq cluster up`) named by --cluster / MQ_CLUSTER, by
// default "local"; and when there is no such cluster at all, 127.0.0.1:7001.
//
// A command should not wait for a timeout to learn what the state directory
// already says: a cluster whose nodes are all stopped is named with its
// ports and the command that starts it, and the bare default is probed
// with one loopback connect, so "no answer from 127.0.0.1:7001" is never
// the message of a cluster that runs on other ports or of one never started.
#pragma once

#include <string>
#include <vector>

#include "node/tls/tls_files.h"

namespace mq::cli {

constexpr const char* kDefaultEndpoint = "127.0.0.1:7001";

struct LocalTarget {
  std::vector<std::string> endpoints;  // when error is ""
  std::string error;                   // one line for the user
  int exit_code = 0;                   // 3: nothing to talk to
  tls::TlsFiles tls;                   // the local cluster's client TLS files, when it runs TLS
  std::string token;                   // its admin token, when it runs with --auth
};

// `cluster` is the name given with --cluster (or MQ_CLUSTER), "" for none.
LocalTarget resolve_local_target(const std::string& cluster);

// "127.0.0.1:7101-7103" for consecutive ports, else the addresses joined
// with commas.
std::string describe_addresses(const std::vector<std::string>& addresses);

}  // namespace mq::cli
