// A small network of Linux network namespaces for the real-network tests:
// the test process lives in a namespace of its own (the "switch") that
// holds a bridge; each node gets a namespace with one veth interface on
// that bridge and its own IPv4 address, so the nodes talk over real
// interfaces and a real bridge, never over loopback. Nothing is added to
// the machine's own network namespace.
//
// Faults are nftables rules inside a node's namespace (table inet mqfault,
// an input and an output chain that accept by default): dropping packets
// to and from given addresses, or every packet on the node's interface.
// Healing flushes the chains.
//
// Needs root, `ip` (iproute2) and `nft` (nftables). Namespaces are named
// mqlab-<pid>-..., removed when the lab is destroyed; ones left behind by a
// test binary that died are removed by the next one (their pid is gone).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace mq::netns {

// The path of a tool in the usual system directories, "" when absent.
std::string find_tool(const std::string& name);

// Whether this machine can run the lab; "" when it can, else why not (for
// the skip message): not root, no ip or nft, namespaces refused.
std::string lab_unavailable_reason();

// Runs a command (argv[0] a path) to completion within 10 s; throws
// std::runtime_error with its output when it fails.
void run_or_throw(const std::vector<std::string>& argv, const std::string& stdin_data = "");

class NetLab {
 public:
  // Creates the switch namespace with its bridge (10.213.0.254/16) and
  // moves the calling thread into it, and into a mount namespace of its
  // own where /etc/hosts is the lab's (set_hosts). Call it before any other thread
  // exists: threads inherit their creator's namespace, and the gRPC threads
  // the tests start later must dial from here.
  NetLab();
  ~NetLab();
  NetLab(const NetLab&) = delete;
  NetLab& operator=(const NetLab&) = delete;

  // A namespace for a node named `name` with address `ip` (10.213.x.y) on
  // the bridge, its loopback up, and the empty fault table. Returns the
  // namespace's name (for `ip netns exec`).
  std::string add_node(const std::string& name, const std::string& ip);
  // Removes the node's namespace (its veth goes with it). Stop the node's
  // process first.
  void remove_node(const std::string& name);
  // Changes the node's address (its old one is removed): a host that comes
  // back with a new IP.
  void readdress_node(const std::string& name, const std::string& new_ip);

  // What the nodes' host names resolve to, for every node: each node
  // namespace has its own hosts file (/etc/netns/NS/hosts, which `ip netns
  // exec` puts over /etc/hosts), and so has the test process (NetLab());
  // rewritten in place so a running node reads the new addresses at its
  // next lookup.
  void set_hosts(const std::vector<std::pair<std::string, std::string>>& names);

  // Packets between the node and `peer_ip` are dropped both ways at the
  // node's interface.
  void drop_between(const std::string& name, const std::string& peer_ip);
  // Packets the node sends to `peer_ip` are dropped; what it receives from
  // there still arrives.
  void drop_outgoing(const std::string& name, const std::string& peer_ip);
  // Every packet in or out of the node's interface is dropped (loopback
  // still works): the node is cut off from everyone, clients included.
  void drop_all(const std::string& name);
  // Removes every fault rule of the node.
  void heal(const std::string& name);

  const std::string& switch_namespace() const { return switch_ns_; }
  std::string node_namespace(const std::string& name) const;

 private:
  struct Node {
    std::string name, ns, ip;
  };
  Node& node(const std::string& name);
  void nft(const std::string& name, const std::string& script);

  std::string prefix_;     // mqlab-<pid>
  std::string switch_ns_;  // prefix_-sw
  std::vector<Node> nodes_;
  int veth_counter_ = 0;
};

}  // namespace mq::netns
