// The REST API's way into the node (http::KvGateway): a request is checked
// as the gRPC services check it, then tried on this node's backend; when
// this node does not lead the shard, the gateway itself forwards the call
// over gRPC to the leader the backend named, following at most a few hints,
// so an HTTP client needs neither the cluster's layout nor redirects. The
// leader each hint named is remembered per shard, and the next request for
// that shard goes to it directly.
//
// Outcomes follow the client library's rule: a forwarded write whose
// answer does not prove it was refused (a lost connection, a deadline, a
// server error) is an unknown outcome, never a failure.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "node/http/kv_gateway.h"
#include "node/server/kv_backend.h"
#include "node/tls/tls_files.h"

namespace mq::server {

struct HttpGatewayOptions {
  std::string self_address;  // this node's --listen, as its peers' hints name it
  uint32_t shard_count = 16;
  size_t value_bytes_max = 1 << 20;
  // The whole of a request, every forward included.
  std::chrono::milliseconds deadline{5000};
  // Renders the node's metrics (MetricsExporter::render).
  std::function<void(std::function<void(std::string)>)> metrics;
  tls::TlsMaterial dial;  // how the leaders' gRPC listeners are dialed (node_tls.h)
};

class HttpGateway final : public http::KvGateway {
 public:
  HttpGateway(KvBackend* backend, HttpGatewayOptions options);
  ~HttpGateway() override;

  void set(const v1::SetRequest& req, v1::SetResponse* resp, const http::Caller& caller, Done done) override;
  void get(const v1::GetRequest& req, v1::GetResponse* resp, const http::Caller& caller, Done done) override;
  void del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, const http::Caller& caller, Done done) override;
  void list(const v1::ListRequest& req, v1::ListResponse* resp, const http::Caller& caller, Done done) override;
  void status(v1::StatusResponse* resp, Done done) override;
  void metrics(std::function<void(std::string text)> done) override;

  // Cancels the forwarded calls in flight and waits until each has
  // answered (as unavailable or unknown); later forwards are refused.
  void shutdown();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mq::server
