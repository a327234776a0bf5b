// The thread a node's Raft work runs on, and what wakes it: client requests
// posted by gRPC threads, peer connections becoming readable or writable,
// timers. One Asio io_context serves them all, so that Raft traffic is
// read, handled and answered on the thread that owns the node host, with no
// handoff to a transport thread in either direction: a write costs the
// leader a wake-up for the client's request and the followers a wake-up
// for the leader's append, and nothing more.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace mq::server {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Any thread: fn runs on the loop's thread, in the order posted.
  void post(std::function<void()> fn);
  // The loop's thread: runs the handlers that are ready, at most
  // kHandlersPerRunMax of them; when none is, waits for one until `until`.
  // Returns how many ran.
  static constexpr size_t kHandlersPerRunMax = 4096;
  size_t run_once(std::chrono::steady_clock::time_point until);
  // The loop's thread, after the loop ended: runs what was posted and is
  // ready, without waiting.
  size_t drain();
  // Any thread: run_once returns at once from now on.
  void stop();

  boost::asio::io_context& context();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::server
