// The REST API of the MemQuorum documents, plus health, readiness and
// metrics, over any KvGateway:
//
//   POST|PUT   /api/v1/memory/users/{userId}/keys/{key}   {"value": "..."} or raw bytes
//   GET        /api/v1/memory/users/{userId}/keys/{key}   ?consistency=stale
//   DELETE     /api/v1/memory/users/{userId}/keys/{key}
//   GET        /api/v1/memory/users/{userId}/keys         ?pattern=&limit=&page_token=&consistency=
//   GET        /api/v1/memory/health, /livez, /readyz
//   GET        /api/v1/memory/cluster/status
//   GET        /metrics
//
// User ids and keys are percent-decoded path segments (a key may hold '/'
// as %2F). Errors are {"error":{"code":...,"message":...}} with the status
// codes documented in the README; a request refused here stores nothing.
#pragma once

#include "node/auth/access_control.h"

#include "node/http/http_server.h"
#include "node/http/kv_gateway.h"
#include "node/http/request_metrics.h"

namespace mq::http {

class RestApi {
 public:
  // metrics may be null; access too (or disabled: everything allowed).
  RestApi(KvGateway* gateway, RequestMetrics* metrics, const auth::AccessControl* access = nullptr)
      : gateway_(gateway), metrics_(metrics), access_(access) {}

  // An HttpHandler: never blocks; answers through the gateway's callbacks.
  void handle(HttpRequest&& request, Respond respond);

 private:
  KvGateway* gateway_;
  RequestMetrics* metrics_;
  const auth::AccessControl* access_;
};

}  // namespace mq::http
