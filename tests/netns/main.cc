// The real-network tests need root, iproute2 and nftables; without them
// they are skipped (exit 77, which ctest reports as skipped) with the
// reason. The lab's switch namespace is entered here, before Catch or gRPC
// start a thread, so every thread of the test dials from inside the lab.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <exception>
#include <memory>

#include "tests/netns/net_lab.h"

namespace mq::netns {
NetLab* the_lab = nullptr;
}

int main(int argc, char** argv) {
  const std::string why = mq::netns::lab_unavailable_reason();
  if (!why.empty()) {
    std::fprintf(stderr, "netns_tests: skipped: %s\n", why.c_str());
    return 77;
  }
  std::unique_ptr<mq::netns::NetLab> lab;
  try {
    lab = std::make_unique<mq::netns::NetLab>();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netns_tests: cannot build the lab: %s\n", e.what());
    return 1;
  }
  mq::netns::the_lab = lab.get();
  return Catch::Session().run(argc, argv);
}
