// The node's event loop: what is posted runs on the loop's thread, in
// order; run_once waits for work until its deadline and no longer; and
// work that is ready runs even when the deadline has already passed (an
// overdue tick), so a loop behind on its ticks still serves requests.
#include "node/server/event_loop.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using mq::server::EventLoop;
using Clock = std::chrono::steady_clock;

TEST_CASE("posted work runs in order at the next run_once", "[event_loop]") {
  EventLoop loop;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop.post([&order, i] { order.push_back(i); });
  CHECK(loop.run_once(Clock::now() + std::chrono::seconds(1)) == 5);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("ready work runs even when the deadline has passed", "[event_loop]") {
  EventLoop loop;
  int ran = 0;
  loop.post([&ran] { ++ran; });
  loop.post([&ran] { ++ran; });
  CHECK(loop.run_once(Clock::now() - std::chrono::milliseconds(5)) == 2);
  CHECK(ran == 2);
}

TEST_CASE("run_once waits for work from another thread, and no longer than its deadline",
          "[event_loop]") {
  EventLoop loop;
  const auto start = Clock::now();
  CHECK(loop.run_once(start + std::chrono::milliseconds(30)) == 0);
  CHECK(Clock::now() - start >= std::chrono::milliseconds(30));

  std::atomic<bool> ran{false};
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.post([&ran] { ran = true; });
  });
  CHECK(loop.run_once(Clock::now() + std::chrono::seconds(10)) == 1);
  CHECK(ran);
  poster.join();
}

TEST_CASE("after stop, run_once returns at once and drain runs what was posted", "[event_loop]") {
  EventLoop loop;
  loop.stop();
  const auto start = Clock::now();
  loop.run_once(start + std::chrono::seconds(5));
  CHECK(Clock::now() - start < std::chrono::seconds(1));
  int ran = 0;
  loop.post([&ran] { ++ran; });
  CHECK(loop.drain() == 1);
  CHECK(ran == 1);
}

TEST_CASE("run_once returns under a steady stream of posts", "[event_loop]") {
  // Without a bound, the handlers posted while run_once runs would keep it
  // running, and the loop would never get back to its own work.
  EventLoop loop;
  std::atomic<bool> posting{true};
  std::atomic<uint64_t> posted{0};
  std::thread poster([&] {
    const auto stop_at = Clock::now() + std::chrono::seconds(3);
    while (posting && Clock::now() < stop_at) {
      // Each handler takes longer than a post, so the loop never catches up.
      loop.post([] {
        const auto until = Clock::now() + std::chrono::microseconds(5);
        while (Clock::now() < until) {
        }
      });
      ++posted;
    }
  });
  while (posted < 10) std::this_thread::yield();
  const auto start = Clock::now();
  const size_t ran = loop.run_once(Clock::now() + std::chrono::milliseconds(10));
  const auto took = Clock::now() - start;
  posting = false;
  poster.join();
  CHECK(ran <= EventLoop::kHandlersPerRunMax);
  CHECK(took < std::chrono::seconds(2));
  loop.stop();
  loop.drain();
}
