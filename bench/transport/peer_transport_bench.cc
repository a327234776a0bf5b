// The cost of peer traffic: one process, two nodes, n1 sending batches of
// Raft-sized messages to n2 over the framed TCP transport (a benchmark, not
// a test). The sender keeps a
// window of batches in flight, as a leader pipelines appends, and the
// report gives the rate and, per batch, the CPU time and context switches
// of the whole process (both ends, every thread): on a 2-core machine CPU
// per write is what limits the write path.
//
// Usage: mq-peer-bench [--batches N] [--messages M] [--bytes B] [--window W]
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "node/server/tcp_peer_transport.h"

using namespace mq::server;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
  uint64_t batches = 200'000;
  int messages = 3;
  size_t bytes = 200;
  uint64_t window = 64;
};

uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

Topology two_nodes(mq::raft::NodeId self, uint16_t p1, uint16_t p2) {
  Topology t;
  t.cluster_id = "bench";
  t.self = self;
  t.nodes = {{"n1", "127.0.0.1:" + std::to_string(p1), 1, false},
             {"n2", "127.0.0.1:" + std::to_string(p2), 2, false}};
  return t;
}

struct Usage {
  double cpu_s = 0;
  long switches = 0;
};

Usage usage() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  Usage u;
  u.cpu_s = static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
            static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  u.switches = r.ru_nvcsw + r.ru_nivcsw;
  return u;
}

mq::peer::PeerBatch make_batch(const Settings& s, uint64_t seq) {
  mq::peer::PeerBatch b;
  for (int i = 0; i < s.messages; ++i) {
    auto* m = b.add_messages();
    m->set_shard(static_cast<uint32_t>(i));
    m->set_message(std::string(s.bytes, static_cast<char>('a' + seq % 26)));
    m->set_applied(seq);
  }
  b.set_vote_refusal_us(180'000);
  return b;
}

// Sends s.batches batches with at most s.window unanswered; prints the report.
void drive(const char* name, const Settings& s, const std::function<void(mq::peer::PeerBatch&&)>& send,
           const std::atomic<uint64_t>& received_messages) {
  const uint64_t total = s.batches * static_cast<uint64_t>(s.messages);
  // Warm the connection up first.
  send(make_batch(s, 0));
  const auto warm_deadline = Clock::now() + std::chrono::seconds(10);
  while (received_messages.load() == 0 && Clock::now() < warm_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    send(make_batch(s, 0));
  }
  const uint64_t base = received_messages.load();
  const Usage u0 = usage();
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(120);
  uint64_t sent = 0;
  while (received_messages.load() - base < total && Clock::now() < deadline) {
    const uint64_t got = (received_messages.load() - base) / static_cast<uint64_t>(s.messages);
    if (sent < s.batches && sent < got + s.window) {
      send(make_batch(s, sent + 1));
      ++sent;
    } else if (sent >= s.batches && got + s.window < sent) {
      // A batch dropped from a full queue is not resent: stop waiting for it.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if ((received_messages.load() - base) / static_cast<uint64_t>(s.messages) == got) break;
    } else {
      std::this_thread::yield();
    }
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const Usage u1 = usage();
  const double batches_done = static_cast<double>(received_messages.load() - base) / s.messages;
  std::printf("%-5s batches %.0f of %llu in %.2f s: %.0f batches/s, %.0f messages/s; per batch %.1f us CPU, "
              "%.2f context switches\n",
              name, batches_done, static_cast<unsigned long long>(s.batches), wall, batches_done / wall,
              batches_done * s.messages / wall, (u1.cpu_s - u0.cpu_s) * 1e6 / batches_done,
              static_cast<double>(u1.switches - u0.switches) / batches_done);
}

void run_tcp(const Settings& s) {
  const uint16_t p1 = free_port(), p2 = free_port();
  std::atomic<uint64_t> received{0};
  TcpPeerTransport receiver(two_nodes(2, p1, p2), [&](mq::raft::NodeId, mq::peer::PeerBatch&& b) {
    received += static_cast<uint64_t>(b.messages_size());
  }, {});
  TcpPeerTransport sender(two_nodes(1, p1, p2), [](mq::raft::NodeId, mq::peer::PeerBatch&&) {}, {});
  if (auto e = receiver.start("127.0.0.1", p2); !e.empty()) {
    std::fprintf(stderr, "mq-peer-bench: %s\n", e.c_str());
    std::exit(1);
  }
  if (auto e = sender.start("127.0.0.1", p1); !e.empty()) {
    std::fprintf(stderr, "mq-peer-bench: %s\n", e.c_str());
    std::exit(1);
  }
  drive("tcp", s, [&](mq::peer::PeerBatch&& b) { sender.send(2, std::move(b)); }, received);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "mq-peer-bench: %s needs a value\n", arg.c_str());
      return 2;
    }
    const char* v = argv[++i];
    if (arg == "--batches") s.batches = std::strtoull(v, nullptr, 10);
    else if (arg == "--messages") s.messages = std::atoi(v);
    else if (arg == "--bytes") s.bytes = std::strtoull(v, nullptr, 10);
    else if (arg == "--window") s.window = std::strtoull(v, nullptr, 10);
    else {
      std::fprintf(stderr, "mq-peer-bench: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  if (s.batches == 0 || s.messages < 1 || s.window == 0) {
    std::fprintf(stderr, "usage: mq-peer-bench [--batches N] [--messages M] [--bytes B] [--window W]\n");
    return 2;
  }
  std::printf("%llu batches of %d messages of %zu bytes, window %llu\n",
              static_cast<unsigned long long>(s.batches), s.messages, s.bytes,
              static_cast<unsigned long long>(s.window));
  run_tcp(s);
  return 0;
}
