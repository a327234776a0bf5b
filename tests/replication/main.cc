#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "tests/replication/test_failure.h"

namespace {

bool g_failed = false;

// Remembers whether the running test case has failed an assertion, so the
// cluster fixture prints the nodes' logs exactly when they are needed.
struct FailureListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override { g_failed = false; }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.succeeded()) g_failed = true;
    return true;
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(FailureListener)

namespace mq::test {
bool current_test_failed() { return g_failed; }
}  // namespace mq::test
