// The node's flag checks for the address it binds (--listen) and the one
// the other nodes dial (--advertise), and DNS names in --peers and --join.
#include <catch2/catch.hpp>

#include "node/server/node.h"

using mq::server::advertised_address;
using mq::server::NodeConfig;
using mq::server::validate_node_config;

namespace {

using Catch::Matchers::Contains;

// A node of three known by DNS names, binding every interface.
NodeConfig named_node() {
  NodeConfig c;
  c.id = "n1";
  c.listen = "0.0.0.0:7001";
  c.advertise = "db1.example.com:7001";
  c.data_dir = "d1";
  c.peers = "n1=db1.example.com:7001,n2=db2.example.com:7001,n3=db3.example.com:7001";
  c.initial_cluster_state = "new";
  return c;
}

}  // namespace

TEST_CASE("a node may be known by a DNS name while it binds a wildcard", "[node_config]") {
  NodeConfig c = named_node();
  CHECK(validate_node_config(c) == "");
  CHECK(advertised_address(c) == "db1.example.com:7001");
  c.advertise = "";
  c.listen = "10.0.0.1:7001";
  c.peers = "n1=10.0.0.1:7001,n2=10.0.0.2:7001";
  CHECK(validate_node_config(c) == "");
  CHECK(advertised_address(c) == "10.0.0.1:7001");
}

TEST_CASE("the node's entry in --peers must be its advertised address", "[node_config]") {
  NodeConfig c = named_node();
  c.advertise = "db9.example.com:7001";
  CHECK_THAT(validate_node_config(c),
             Contains("--peers gives n1 the address db1.example.com:7001 but it is reached at "
                      "db9.example.com:7001"));
  // Without --advertise, --listen is what the others dial.
  c = named_node();
  c.advertise = "";
  c.listen = "127.0.0.1:7001";
  CHECK_THAT(validate_node_config(c), Contains("but it is reached at 127.0.0.1:7001"));
}

TEST_CASE("a wildcard --listen needs --advertise once there are other nodes", "[node_config]") {
  NodeConfig c = named_node();
  c.advertise = "";
  c.peers = "n1=0.0.0.0:7001,n2=db2.example.com:7001";
  CHECK_THAT(validate_node_config(c), Contains("--listen 0.0.0.0:7001 is a wildcard address: give --advertise"));
  c.peers = "";
  c.join = "db2.example.com:7001";
  c.initial_cluster_state = "";
  CHECK_THAT(validate_node_config(c), Contains("is a wildcard address"));
  // A node alone may bind the wildcard: nobody dials it as a peer.
  c.join = "";
  CHECK(validate_node_config(c) == "");
  c.listen = "[::]:7001";
  c.peers = "n1=[::]:7001,n2=db2.example.com:7001";
  c.initial_cluster_state = "new";
  CHECK_THAT(validate_node_config(c), Contains("is a wildcard address"));
}

TEST_CASE("--advertise must be an address that can be dialled", "[node_config]") {
  NodeConfig c = named_node();
  c.advertise = "0.0.0.0:7001";
  CHECK_THAT(validate_node_config(c), Contains("--advertise 0.0.0.0:7001 is a wildcard address"));
  c.advertise = "db1.example.com";
  CHECK_THAT(validate_node_config(c), Contains("--advertise: "));
  c.advertise = "db1..example.com:7001";
  CHECK_THAT(validate_node_config(c), Contains("--advertise: "));
  c.advertise = "db1.example.com:0";
  CHECK_THAT(validate_node_config(c), Contains("port must be 1..65535"));
}

TEST_CASE("--join and --peers take DNS names; --listen does not", "[node_config]") {
  NodeConfig c = named_node();
  c.peers = "";
  c.initial_cluster_state = "";
  c.join = "db2.example.com:7001,10.0.0.3:7001";
  CHECK(validate_node_config(c) == "");
  c.join = "db2.example.com:7001,-bad-:7001";
  CHECK_THAT(validate_node_config(c), Contains("--join: "));
  c = named_node();
  c.peers = "n1=db1.example.com:7001,n2=db2_example:7001";
  CHECK_THAT(validate_node_config(c), Contains("--peers: "));
  c = named_node();
  c.listen = "db1.example.com:7001";
  CHECK_THAT(validate_node_config(c), Contains("--listen: "));
}
