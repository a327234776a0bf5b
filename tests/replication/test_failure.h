// Whether the running test case has failed an assertion so far (kept by a
// Catch listener in main.cc).
#pragma once

namespace mq::test {

bool current_test_failed();

}  // namespace mq::test
