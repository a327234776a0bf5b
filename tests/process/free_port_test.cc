// Tests that start several nodes ask for several ports; the helper must not
// hand out one port twice, or two nodes of one test collide ("address
// appears twice" in --peers, or a bind failure).
#include <catch2/catch.hpp>

#include <set>

#include "tests/process/node_process.h"

namespace mq::test {
namespace {

TEST_CASE("free_loopback_port never gives one port twice", "[process][ports]") {
  // With ~28k ephemeral ports, 600 draws of a fresh bind collide with
  // probability above 99.9% if nothing prevents it.
  std::set<uint16_t> seen;
  for (int i = 0; i < 600; ++i) {
    const uint16_t port = free_loopback_port();
    INFO("draw " << i << " gave " << port);
    REQUIRE(seen.insert(port).second);
  }
}

}  // namespace
}  // namespace mq::test
