// The client library against an in-process KV server on 127.0.0.1 that
// answers every call with one chosen gRPC status: each code ends a write or
// a read with the error cli/request_outcome.h assigns it, and a write whose
// outcome is unknown is sent exactly once, never retried.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "cli/client/client.h"
#include "cli/client/request_outcome.h"
#include "mq/v1/kv.grpc.pb.h"

using Catch::Matchers::Contains;
using grpc::StatusCode;
using namespace mq::cli;

namespace {

class ScriptedKv final : public mq::v1::KV::Service {
 public:
  void answer_with(StatusCode code, std::string details) {
    std::lock_guard<std::mutex> lock(mutex_);
    code_ = code;
    details_ = std::move(details);
    calls_ = 0;
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

  grpc::Status Set(grpc::ServerContext*, const mq::v1::SetRequest*,
                   mq::v1::SetResponse*) override {
    return answer();
  }
  grpc::Status Get(grpc::ServerContext*, const mq::v1::GetRequest*,
                   mq::v1::GetResponse* out) override {
    out->set_found(true);
    return answer();
  }
  grpc::Status Delete(grpc::ServerContext*, const mq::v1::DeleteRequest*,
                      mq::v1::DeleteResponse* out) override {
    out->set_deleted(true);
    return answer();
  }

 private:
  grpc::Status answer() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++calls_;
    if (code_ == StatusCode::OK) return grpc::Status::OK;
    return grpc::Status(code_, "scripted " + std::string(status_code_name(static_cast<int>(code_))),
                        details_);
  }

  mutable std::mutex mutex_;
  StatusCode code_ = StatusCode::OK;
  std::string details_;
  int calls_ = 0;
};

struct ScriptedServer {
  ScriptedKv service;
  std::unique_ptr<grpc::Server> server;
  std::string endpoint;

  ScriptedServer() {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    // As an mq node does: the client's liveness pings are welcome.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    REQUIRE(port > 0);
    endpoint = "127.0.0.1:" + std::to_string(port);
  }
  ~ScriptedServer() { server->Shutdown(); }
};

ClientOptions options_for(const std::string& endpoint) {
  ClientOptions o;
  o.endpoints = {endpoint};
  // Short: a definite refusal (overloaded, no leader) is retried until the
  // timeout, and every code is tried in turn.
  o.timeout_ms = 300;
  o.dial_timeout_ms = 1000;
  return o;
}

// No leader known: the client waits for one and asks again until its timeout.
std::string not_leader_details() {
  mq::v1::NotLeader hint;
  hint.set_shard(3);
  hint.set_term(2);
  return hint.SerializeAsString();
}

const std::string kUnparsable("\x12\x05" "ab", 4);

enum class Op { kSet, kDel, kGet };

Error run_op(Client& client, Op op) {
  switch (op) {
    case Op::kSet: {
      SetResult r;
      return client.set("u", "k", "v", &r);
    }
    case Op::kDel: {
      DeleteResult r;
      return client.del("u", "k", &r);
    }
    case Op::kGet: {
      GetResult r;
      return client.get("u", "k", Consistency::kLinearizable, &r);
    }
  }
  return {};
}

}  // namespace

TEST_CASE("every code ends a write with its classified error; unknown ones are sent once",
          "[client][outcome]") {
  ScriptedServer node;
  for (int c = 0; c <= 16; ++c) {
    const auto code = static_cast<StatusCode>(c);
    for (const std::string& details : {not_leader_details(), kUnparsable}) {
      for (Op op : {Op::kSet, Op::kDel}) {
        INFO(status_code_name(c) << (details == kUnparsable ? " with unparsable details" : "")
                                 << (op == Op::kSet ? " on set" : " on del"));
        node.service.answer_with(code, details);
        Client client(options_for(node.endpoint));
        const Error e = run_op(client, op);
        CHECK(e.kind == error_kind_of_status(RequestKind::kWrite, code, details));
        if (write_outcome_is_definite(code, details)) {
          CHECK(e.kind != ErrorKind::kUnknownOutcome);
        } else {
          CHECK(e.kind == ErrorKind::kUnknownOutcome);
          CHECK(exit_code_of(e.kind) == 4);
          CHECK_THAT(e.message, Contains("may or may not have happened"));
          CHECK(e.message.find('\n') == std::string::npos);
          // Not sent again, here or elsewhere: a second answer would hide
          // that the first write's fate is unknown.
          CHECK(node.service.calls() == 1);
        }
      }
    }
  }
}

TEST_CASE("the codes the old client called 'not done' are now unknown for a write",
          "[client][outcome]") {
  ScriptedServer node;
  for (StatusCode code : {StatusCode::UNKNOWN, StatusCode::INTERNAL, StatusCode::CANCELLED,
                          StatusCode::DATA_LOSS, StatusCode::FAILED_PRECONDITION}) {
    INFO(status_code_name(static_cast<int>(code)));
    node.service.answer_with(code, kUnparsable);
    Client client(options_for(node.endpoint));
    SetResult r;
    const Error e = client.set("u", "k", "v", &r);
    CHECK(exit_code_of(e.kind) == 4);
  }
}

TEST_CASE("every code ends a read with its classified error, never an unknown outcome",
          "[client][outcome]") {
  ScriptedServer node;
  for (int c = 1; c <= 16; ++c) {
    const auto code = static_cast<StatusCode>(c);
    for (const std::string& details : {not_leader_details(), kUnparsable}) {
      INFO(status_code_name(c) << (details == kUnparsable ? " with unparsable details" : ""));
      node.service.answer_with(code, details);
      Client client(options_for(node.endpoint));
      const Error e = run_op(client, Op::kGet);
      CHECK(e.kind == error_kind_of_status(RequestKind::kRead, code, details));
      CHECK(e.kind != ErrorKind::kUnknownOutcome);
      CHECK(exit_code_of(e.kind) != 4);
    }
  }
}

TEST_CASE("a refusal before proposing is retried until the timeout, then not done",
          "[client][outcome]") {
  ScriptedServer node;
  for (StatusCode code : {StatusCode::RESOURCE_EXHAUSTED, StatusCode::FAILED_PRECONDITION}) {
    INFO(status_code_name(static_cast<int>(code)));
    node.service.answer_with(code, not_leader_details());
    Client client(options_for(node.endpoint));
    SetResult r;
    const Error e = client.set("u", "k", "v", &r);
    CHECK(e.kind == ErrorKind::kUnavailable);
    CHECK(exit_code_of(e.kind) == 3);
    CHECK(node.service.calls() > 1);
  }
}

TEST_CASE("a write to an endpoint that refuses connections was never sent: exit 3",
          "[client][outcome]") {
  std::string dead;
  {
    ScriptedServer gone;
    dead = gone.endpoint;
  }
  Client client(options_for(dead));
  SetResult r;
  const Error e = client.set("u", "k", "v", &r);
  CHECK(e.kind == ErrorKind::kUnavailable);
  CHECK_THAT(e.message, Contains("cannot reach"));
}

TEST_CASE("a write refused for memory is not retried: memory_full, exit 2", "[client][outcome]") {
  ScriptedServer node;
  mq::v1::MemoryFull full;
  full.set_node("n2");
  full.set_used_bytes(300u << 20);
  full.set_limit_bytes(256u << 20);
  node.service.answer_with(StatusCode::RESOURCE_EXHAUSTED, full.SerializeAsString());
  Client client(options_for(node.endpoint));
  SetResult r;
  const Error e = client.set("u", "k", "v", &r);
  CHECK(e.kind == ErrorKind::kMemoryFull);
  CHECK(exit_code_of(e.kind) == 2);
  CHECK(node.service.calls() == 1);
  CHECK(details_hold_memory_full(full.SerializeAsString()));
  CHECK_FALSE(details_hold_memory_full(""));
  CHECK_FALSE(details_hold_memory_full("\xff\xff garbage"));
}
