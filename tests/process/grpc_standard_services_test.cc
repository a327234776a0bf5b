// A node serves the standard gRPC services that generic tools rely on:
// grpc.health.v1.Health (grpc_health_probe, load balancers) per service
// name, and server reflection (grpcurl list, ghz). They are asked here the
// way those tools ask, over a GenericStub: Debian ships neither service's
// generated client, so the few fields involved are encoded by number
// (grpc/health/v1/health.proto, grpc/reflection/v1alpha/reflection.proto).
#include <catch2/catch.hpp>

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <future>
#include <set>

#include "node_process.h"

using namespace mq::test;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

namespace {

constexpr auto kCallTimeout = std::chrono::seconds(5);
// grpc.health.v1.HealthCheckResponse.ServingStatus
constexpr uint64_t kServing = 1;
constexpr uint64_t kNotServing = 2;

grpc::ByteBuffer to_buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string from_buffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// A message of one string field.
std::string string_field(int number, const std::string& value) {
  UnknownFieldSet fields;
  fields.AddLengthDelimited(number, value);
  std::string out;
  fields.SerializeToString(&out);
  return out;
}

// The values of field `number` of an encoded message.
std::vector<const UnknownField*> fields_numbered(const UnknownFieldSet& message, int number) {
  std::vector<const UnknownField*> out;
  for (int i = 0; i < message.field_count(); ++i) {
    if (message.field(i).number() == number) out.push_back(&message.field(i));
  }
  return out;
}

// HealthCheckResponse.status (field 1; absent means 0, UNKNOWN).
uint64_t serving_status(const std::string& response) {
  UnknownFieldSet message;
  REQUIRE(message.ParseFromString(response));
  const auto status = fields_numbered(message, 1);
  return status.empty() ? 0 : status.back()->varint();
}

struct HealthAnswer {
  grpc::Status status;
  uint64_t serving = 0;
};

// Health/Check for `service` ("" is the whole server).
HealthAnswer health_check(const std::string& endpoint, const std::string& service) {
  grpc::GenericStub stub(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  const grpc::ByteBuffer request = to_buffer(string_field(1, service));
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  HealthAnswer answer;
  answer.status = done.get_future().get();
  if (answer.status.ok()) answer.serving = serving_status(from_buffer(response));
  return answer;
}

// A streaming call driven step by step on its own completion queue; every
// step is bounded by the context's deadline.
class GenericStream {
 public:
  GenericStream(const std::string& endpoint, const std::string& method)
      : stub_(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials())) {
    ctx_.set_deadline(std::chrono::system_clock::now() + kCallTimeout * 2);
    call_ = stub_.PrepareCall(&ctx_, method, &cq_);
    call_->StartCall(this);
    started_ = step();
  }
  ~GenericStream() {
    ctx_.TryCancel();
    grpc::Status status;
    call_->Finish(&status, this);
    step();
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  bool started() const { return started_; }
  bool write_last(const std::string& message) {
    const grpc::ByteBuffer buffer = to_buffer(message);
    call_->WriteLast(buffer, grpc::WriteOptions(), this);
    return step();
  }
  // The next message, or nullopt once the stream ended.
  std::optional<std::string> read() {
    grpc::ByteBuffer buffer;
    call_->Read(&buffer, this);
    if (!step()) return std::nullopt;
    return from_buffer(buffer);
  }

 private:
  bool step() {
    void* tag = nullptr;
    bool ok = false;
    const auto status = cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + kCallTimeout * 2);
    return status == grpc::CompletionQueue::GOT_EVENT && ok;
  }

  grpc::GenericStub stub_;
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool started_ = false;
};

// ServerReflectionInfo with list_services (field 7): the names in
// list_services_response (field 6) -> service (1) -> name (1).
std::set<std::string> reflected_services(const std::string& endpoint) {
  GenericStream stream(endpoint, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  REQUIRE(stream.started());
  REQUIRE(stream.write_last(string_field(7, "*")));
  const std::optional<std::string> response = stream.read();
  REQUIRE(response);
  UnknownFieldSet message;
  REQUIRE(message.ParseFromString(*response));
  const auto lists = fields_numbered(message, 6);
  REQUIRE(lists.size() == 1);
  UnknownFieldSet list;
  REQUIRE(list.ParseFromString(lists[0]->length_delimited()));
  std::set<std::string> names;
  for (const UnknownField* service : fields_numbered(list, 1)) {
    UnknownFieldSet entry;
    REQUIRE(entry.ParseFromString(service->length_delimited()));
    for (const UnknownField* name : fields_numbered(entry, 1)) names.insert(name->length_delimited());
  }
  return names;
}

}  // namespace

TEST_CASE("a node answers grpc.health.v1.Health per service", "[process][node][grpc]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  for (const std::string service : {"", "mq.v1.KV", "mq.v1.Cluster"}) {
    INFO("service '" << service << "'");
    const HealthAnswer a = health_check(node.endpoint(), service);
    INFO(a.status.error_message());
    REQUIRE(a.status.ok());
    CHECK(a.serving == kServing);
  }
  // A name the node does not serve is NOT_FOUND, as the protocol says.
  CHECK(health_check(node.endpoint(), "mq.v1.Nothing").status.error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("a stopping node reports NOT_SERVING before it goes away", "[process][node][grpc]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  // Health/Watch streams every change of the status, starting with the current one.
  GenericStream watch(node.endpoint(), "/grpc.health.v1.Health/Watch");
  REQUIRE(watch.started());
  REQUIRE(watch.write_last(string_field(1, "mq.v1.KV")));
  const std::optional<std::string> first = watch.read();
  REQUIRE(first);
  CHECK(serving_status(*first) == kServing);

  node.process().signal(SIGTERM);
  const std::optional<std::string> next = watch.read();
  REQUIRE(next);
  CHECK(serving_status(*next) == kNotServing);
  CHECK(node.process().wait(kNodeStopTimeoutMs) == std::optional<int>(0));
}

TEST_CASE("a node lists its services through server reflection", "[process][node][grpc]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::set<std::string> services = reflected_services(node.endpoint());
  INFO(Catch::Detail::stringify(services));
  for (const char* name : {"mq.v1.KV", "mq.v1.Cluster", "grpc.health.v1.Health",
                           "grpc.reflection.v1alpha.ServerReflection"}) {
    CHECK(services.count(name) == 1);
  }
}
