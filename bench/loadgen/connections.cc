#include "bench/loadgen/connections.h"

#include "node/tls/grpc_tls.h"

#include "cli/client/channel_connect.h"

#include <chrono>

namespace mq::bench {

namespace {

constexpr int kReceiveBytesMax = 80 << 20;  // above any value the node accepts

}  // namespace

BenchConnections::BenchConnections(uint32_t per_address, uint32_t shard_count, int dial_timeout_ms,
                                   tls::TlsMaterial tls)
    : per_address_(per_address == 0 ? 1 : per_address),
      dial_timeout_ms_(dial_timeout_ms),
      tls_(std::move(tls)),
      leaders_(shard_count == 0 ? 1 : shard_count) {
  for (auto& cell : leaders_) cell.store(-1, std::memory_order_relaxed);
}

int BenchConnections::index_of(const std::string& address) {
  const int published = count_.load(std::memory_order_acquire);
  for (int i = 0; i < published; ++i) {
    if (entries_[i]->address == address) return i;
  }
  std::lock_guard<std::mutex> lock(add_mutex_);
  const int n = count_.load(std::memory_order_relaxed);
  for (int i = published; i < n; ++i) {
    if (entries_[i]->address == address) return i;
  }
  if (n >= kAddressesMax) return -1;
  auto entry = std::make_unique<Entry>();
  entry->address = address;
  for (uint32_t c = 0; c < per_address_; ++c) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kReceiveBytesMax);
    // Without a local pool, channels with equal arguments share one TCP
    // connection and --connections would mean nothing.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // The bench counts every failure itself; gRPC's retry machinery would
    // only add CPU per call and hide errors.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    auto channel = grpc::CreateCustomChannel(address, tls::grpc_channel_credentials(tls_), args);
    entry->mq.push_back(v1::KV::NewStub(channel));
    entry->etcd.push_back(etcdserverpb::KV::NewStub(channel));
    entry->channels.push_back(std::move(channel));
  }
  entries_[n] = std::move(entry);
  count_.store(n + 1, std::memory_order_release);
  return n;
}

bool BenchConnections::probe(int address) {
  auto& channel = *entries_[address]->channels[0];
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::milliseconds(dial_timeout_ms_);
  return cli::connect_channel(channel, deadline);
}

}  // namespace mq::bench
