// Process control of the nodes of a local cluster: spawn with Boost.Process
// in a session of their own (so Ctrl-C in the launcher's terminal does not
// reach them and the launcher may exit while they run), check that a
// recorded pid is still our node, signal, wait, reap.
//
// A pid is ours when /proc/PID/stat's start time equals the recorded one AND
// /proc/PID/cmdline is `<binary> node --id ID ...`. Nothing is ever
// signalled without that check, so a reused pid is never touched.
#pragma once

#include <string>

#include "playground/cluster_state.h"

namespace mq::playground {

enum class Liveness {
  kDown,    // no process, or the pid now belongs to someone else
  kUp,      // running
  kPaused,  // stopped by SIGSTOP
};
const char* liveness_name(Liveness l);

// What /proc says about pid: its start time and whether it runs
// `binary node --id id`. False when the process is gone or is a zombie.
bool is_our_node(int pid, uint64_t start_time_ticks, const std::string& binary,
                 const std::string& id);
uint64_t process_start_time_ticks(int pid);  // 0 when unknown

// Also reaps the node when it is a child of this process that has exited.
Liveness node_liveness(const ClusterState& state, const NodeRecord& node);

// The `mq node` command line of a node.
std::vector<std::string> node_command(const ClusterState& state, const NodeRecord& node);

// Spawns the node (log appended to node.log_path), records pid and start
// time in node. "" on success, else the reason.
std::string spawn_node(const ClusterState& state, NodeRecord* node);

// Sends sig when the pid is still our node; false otherwise.
bool signal_node(const ClusterState& state, const NodeRecord& node, int sig);

// Polls until the node is gone (reaping it when it is our child); false
// after timeout_ms.
bool wait_node_gone(const ClusterState& state, const NodeRecord& node, int timeout_ms);

// SIGTERM (with SIGCONT, so a paused node can act on it), then SIGKILL once
// term_timeout_ms passed; waits for the exit. False if it still runs.
bool stop_node(const ClusterState& state, const NodeRecord& node, int term_timeout_ms);

// True when something listens on 127.0.0.1:port or it cannot be bound.
bool port_busy(uint16_t port);

// The absolute path of the running executable.
std::string self_executable();

}  // namespace mq::playground
