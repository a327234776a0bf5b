// The node's clock for everything timed: ticks, the read lease, the quiet
// period after a restart. It is CLOCK_BOOTTIME, not CLOCK_MONOTONIC: a host
// suspended for a minute must find its lease lapsed when it wakes, and only
// the boot clock counts the time spent suspended (peers kept counting it).
//
// The node host never reads a clock itself: its NodeEnv hands it now(), so
// the simulator can run the same code on simulated, drifting clocks.
#pragma once

#include <chrono>
#include <cstdint>

namespace mq::server {

struct BootClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<BootClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept;
};

using NodeTime = BootClock::time_point;

}  // namespace mq::server
