// Dialling a gRPC channel for the client library and `mq bench`: waits until
// the channel is connected or the deadline passes, but gives up at once when
// the endpoint refuses (TRANSIENT_FAILURE), so an unreachable node costs
// milliseconds, not the whole dial timeout. Only for translation units that
// already speak gRPC.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>

namespace mq::cli {

inline bool connect_channel(grpc::Channel& channel, std::chrono::system_clock::time_point deadline) {
  auto state = channel.GetState(true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    if (!channel.WaitForStateChange(state, deadline)) return false;
    state = channel.GetState(true);
  }
  return true;
}

}  // namespace mq::cli
