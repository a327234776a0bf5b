#include "node/server/event_loop.h"

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>

namespace mq::server {

namespace asio = boost::asio;

struct EventLoop::Impl {
  asio::io_context context{1};  // run by one thread; posted to from any
  asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}

EventLoop::~EventLoop() = default;

void EventLoop::post(std::function<void()> fn) { asio::post(impl_->context, std::move(fn)); }

size_t EventLoop::run_once(std::chrono::steady_clock::time_point until) {
  // run_one_until runs nothing once `until` has passed, which is what an
  // overdue tick asks for: what is ready runs all the same, or a loop that
  // fell behind its ticks would never read a request again. And no more
  // than kHandlersPerRunMax: poll() would also run what is posted while it
  // runs, so under a steady stream of requests it would never return to
  // the host's iteration (no ticks, no heartbeats, no commits).
  size_t ran = impl_->context.run_one_until(until);
  while (ran < kHandlersPerRunMax && impl_->context.poll_one() > 0) ++ran;
  return ran;
}

size_t EventLoop::drain() {
  impl_->context.restart();
  return impl_->context.poll();
}

void EventLoop::stop() { impl_->context.stop(); }

asio::io_context& EventLoop::context() { return impl_->context; }

}  // namespace mq::server
