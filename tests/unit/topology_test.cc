// The cluster id a bootstrap computes from its flags.
#include <catch2/catch.hpp>

#include "node/server/topology.h"

using mq::server::make_topology;

namespace {

std::string id_of(const std::string& token) {
  std::string error, note;
  auto t = make_topology("n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003", "n1",
                         "127.0.0.1:7001", 16, 3, &error, &note, token);
  REQUIRE(t.has_value());
  return t->cluster_id;
}

}  // namespace

TEST_CASE("the cluster id mixes in the token; without one it is what it always was", "[topology]") {
  // The id of a cluster bootstrapped before tokens existed: data dirs
  // written then must still open.
  CHECK(id_of("") == id_of(""));
  CHECK(id_of("") == "fa41b3616d6c6901");
  CHECK(id_of("a1b2c3d4e5f60718") != id_of(""));
  CHECK(id_of("a1b2c3d4e5f60718") != id_of("a1b2c3d4e5f60719"));
  CHECK(id_of("a1b2c3d4e5f60718") == id_of("a1b2c3d4e5f60718"));
}
