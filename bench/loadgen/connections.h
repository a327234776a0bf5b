// The load generator's connections and its shard -> leader cache.
//
// Every server address gets `per_address` gRPC channels, each its own TCP
// connection (a local subchannel pool, so gRPC does not fold them into one),
// created on first use: the configured endpoints at start, and any leader
// address a NotLeader answer names later. Client slot i always uses the
// channel i % per_address of whichever address it sends to, so the load
// spreads evenly over the connections.
//
// The leader cache maps a shard to the address that last answered for it as
// leader (learned from a response header's shard) or that a NotLeader hint
// named. Lookups and updates are lock-free; only adding an address locks.
#pragma once

#include "node/tls/tls_files.h"

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "etcd/kv.grpc.pb.h"
#include "mq/v1/kv.grpc.pb.h"

namespace mq::bench {

class BenchConnections {
 public:
  // Addresses beyond this are not dialled (a hint to a 65th distinct
  // address is ignored and the request fails as not_leader): the cache is
  // for a cluster, not an open set.
  static constexpr int kAddressesMax = 64;

  BenchConnections(uint32_t per_address, uint32_t shard_count, int dial_timeout_ms,
                   tls::TlsMaterial tls = {});

  // Index of `address`, dialling it if new; -1 when kAddressesMax are in use.
  int index_of(const std::string& address);
  const std::string& address(int index) const { return entries_[index]->address; }
  int address_count() const { return count_.load(std::memory_order_acquire); }

  v1::KV::Stub& mq_stub(int address, uint32_t slot) const {
    return *entries_[address]->mq[slot % per_address_];
  }
  etcdserverpb::KV::Stub& etcd_stub(int address, uint32_t slot) const {
    return *entries_[address]->etcd[slot % per_address_];
  }

  // Waits (at most the dial timeout) for one connection to `address`;
  // false when it refuses or does not answer.
  bool probe(int address);

  // The cached leader of `shard`, -1 when unknown.
  int leader(uint32_t shard) const {
    return leaders_[shard % leaders_.size()].load(std::memory_order_relaxed);
  }
  void set_leader(uint32_t shard, int address) {
    auto& cell = leaders_[shard % leaders_.size()];
    // Loads first: answers mostly confirm what is cached, and a store on
    // every response would bounce the cache line between polling threads.
    if (cell.load(std::memory_order_relaxed) != address) {
      cell.store(address, std::memory_order_relaxed);
    }
  }
  void forget_leader(uint32_t shard, int address) {
    int expected = address;
    leaders_[shard % leaders_.size()].compare_exchange_strong(expected, -1,
                                                              std::memory_order_relaxed);
  }

 private:
  struct Entry {
    std::string address;
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    std::vector<std::unique_ptr<v1::KV::Stub>> mq;
    std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> etcd;
  };

  const uint32_t per_address_;
  const int dial_timeout_ms_;
  const tls::TlsMaterial tls_;
  std::mutex add_mutex_;  // serializes index_of's slow path
  std::array<std::unique_ptr<Entry>, kAddressesMax> entries_;
  std::atomic<int> count_{0};
  std::vector<std::atomic<int>> leaders_;
};

}  // namespace mq::bench
