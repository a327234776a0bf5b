// What the REST API asks of the node: run a key-value operation wherever the
// shard's leader is and answer once, possibly later and on another thread.
// The node implements it (node/server/http_gateway.h) over its own backend,
// forwarding to the shard's leader when this node is not it, so an HTTP
// client never sees a redirect. Requests and answers are the public API's
// messages; only the status is this layer's own, so that the HTTP code
// knows nothing of gRPC.
#pragma once

#include <functional>
#include <string>

#include "mq/v1/cluster.pb.h"
#include "mq/v1/kv.pb.h"

namespace mq::http {

struct GatewayStatus {
  enum class Code {
    kOk,
    kInvalid,          // the request can never succeed: 400
    kNoLeader,         // no leader or quorum for the shard now: 503, retry later
    kUnavailable,      // the node (or the leader it forwarded to) cannot serve: 503
    kOverloaded,       // a bounded queue is full: 503, retry later
    kMemoryFull,       // a replica of the shard is over its --max-memory: 507
    kUnknownOutcome,   // a write was proposed and may still commit: 504
    kPermissionDenied, // refused by policy: 403
    kUnauthenticated,  // no valid credentials for the leader's --auth-file: 401
    kInternal,         // a bug or an unexpected answer: 500
  };
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
};

// Who a request comes from, as far as a forward to another node must say:
// its bearer token goes along, so the leader checks it again.
struct Caller {
  std::string bearer_token;
  // Known by its client certificate alone (under --auth-file): a forward
  // would present the node's own certificate instead, so it is not made.
  bool certificate_only = false;
};

class KvGateway {
 public:
  using Done = std::function<void(const GatewayStatus&)>;
  virtual ~KvGateway() = default;

  // Requests are validated here (limits, UTF-8, globs), as by the gRPC
  // services. The request must stay valid and the response untouched until
  // done runs; done runs exactly once, on any thread.
  virtual void set(const v1::SetRequest& req, v1::SetResponse* resp, const Caller& caller, Done done) = 0;
  virtual void get(const v1::GetRequest& req, v1::GetResponse* resp, const Caller& caller, Done done) = 0;
  virtual void del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, const Caller& caller, Done done) = 0;
  virtual void list(const v1::ListRequest& req, v1::ListResponse* resp, const Caller& caller, Done done) = 0;
  // This node's own view (never forwarded).
  virtual void status(v1::StatusResponse* resp, Done done) = 0;
  // The Prometheus text exposition of this node's metrics.
  virtual void metrics(std::function<void(std::string text)> done) = 0;
};

}  // namespace mq::http
