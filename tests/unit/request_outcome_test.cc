#include "cli/client/request_outcome.h"

#include <catch2/catch.hpp>

#include "node/auth/refusal.h"
#include <map>
#include <string>

#include "mq/v1/kv.pb.h"

using namespace mq::cli;
using grpc::StatusCode;

namespace {

// Every gRPC code, 0..16.
const std::map<StatusCode, const char*>& all_codes() {
  static const std::map<StatusCode, const char*> codes = {
      {StatusCode::OK, "ok"},
      {StatusCode::CANCELLED, "cancelled"},
      {StatusCode::UNKNOWN, "unknown"},
      {StatusCode::INVALID_ARGUMENT, "invalid_argument"},
      {StatusCode::DEADLINE_EXCEEDED, "deadline_exceeded"},
      {StatusCode::NOT_FOUND, "not_found"},
      {StatusCode::ALREADY_EXISTS, "already_exists"},
      {StatusCode::PERMISSION_DENIED, "permission_denied"},
      {StatusCode::RESOURCE_EXHAUSTED, "resource_exhausted"},
      {StatusCode::FAILED_PRECONDITION, "failed_precondition"},
      {StatusCode::ABORTED, "aborted"},
      {StatusCode::OUT_OF_RANGE, "out_of_range"},
      {StatusCode::UNIMPLEMENTED, "unimplemented"},
      {StatusCode::INTERNAL, "internal"},
      {StatusCode::UNAVAILABLE, "unavailable"},
      {StatusCode::DATA_LOSS, "data_loss"},
      {StatusCode::UNAUTHENTICATED, "unauthenticated"},
  };
  return codes;
}

std::string not_leader_details() {
  mq::v1::NotLeader hint;
  hint.set_shard(7);
  hint.set_leader("n2");
  hint.set_leader_address("127.0.0.1:7002");
  hint.set_term(3);
  return hint.SerializeAsString();
}

// A length prefix that runs past the end: no protobuf parser accepts it.
const std::string kUnparsable("\x12\x05" "ab", 4);

}  // namespace

TEST_CASE("the table of codes covers every gRPC code", "[request_outcome]") {
  CHECK(all_codes().size() == 17);
  for (const auto& [code, name] : all_codes()) {
    CHECK(std::string(status_code_name(static_cast<int>(code))) == name);
  }
  CHECK(std::string(status_code_name(17)) == "not_a_grpc_code");
  CHECK(std::string(status_code_name(-1)) == "not_a_grpc_code");
}

TEST_CASE("NotLeader details are recognised; garbage is not", "[request_outcome]") {
  CHECK(details_hold_not_leader(not_leader_details()));
  // Shard 0, no leader yet, term 0 serializes to nothing at all.
  CHECK(mq::v1::NotLeader().SerializeAsString().empty());
  CHECK(details_hold_not_leader(""));
  CHECK_FALSE(details_hold_not_leader(kUnparsable));
  CHECK_FALSE(details_hold_not_leader("not a protobuf"));
}

TEST_CASE("a write failed only on a code that proves nothing was done", "[request_outcome]") {
  const std::map<StatusCode, bool> definite = {
      {StatusCode::OK, true},
      {StatusCode::CANCELLED, false},
      {StatusCode::UNKNOWN, false},
      {StatusCode::INVALID_ARGUMENT, true},
      {StatusCode::DEADLINE_EXCEEDED, false},
      {StatusCode::NOT_FOUND, true},
      {StatusCode::ALREADY_EXISTS, true},
      {StatusCode::PERMISSION_DENIED, true},
      {StatusCode::RESOURCE_EXHAUSTED, true},
      {StatusCode::FAILED_PRECONDITION, true},  // with a NotLeader: see below
      {StatusCode::ABORTED, false},
      {StatusCode::OUT_OF_RANGE, true},
      {StatusCode::UNIMPLEMENTED, true},
      {StatusCode::INTERNAL, false},
      {StatusCode::UNAVAILABLE, false},
      {StatusCode::DATA_LOSS, false},
      {StatusCode::UNAUTHENTICATED, true},
  };
  REQUIRE(definite.size() == all_codes().size());
  for (const auto& [code, expected] : definite) {
    INFO(status_code_name(static_cast<int>(code)));
    CHECK(write_outcome_is_definite(code, not_leader_details()) == expected);
  }
  // Only a NotLeader makes FAILED_PRECONDITION a refusal before proposing.
  CHECK(write_outcome_is_definite(StatusCode::FAILED_PRECONDITION, ""));
  CHECK_FALSE(write_outcome_is_definite(StatusCode::FAILED_PRECONDITION, kUnparsable));
  // Details never turn another code into a definite one, nor the reverse.
  CHECK_FALSE(write_outcome_is_definite(StatusCode::INTERNAL, not_leader_details()));
  CHECK(write_outcome_is_definite(StatusCode::INVALID_ARGUMENT, kUnparsable));
  // A number outside the enum (a newer server) is not understood: unknown.
  CHECK_FALSE(write_outcome_is_definite(static_cast<StatusCode>(42), ""));
}

TEST_CASE("every code maps a write to its error and exit code", "[request_outcome]") {
  struct Expected {
    ErrorKind kind;
    int exit_code;
  };
  const std::map<StatusCode, Expected> expected = {
      {StatusCode::OK, {ErrorKind::kOk, 0}},
      {StatusCode::CANCELLED, {ErrorKind::kUnknownOutcome, 4}},
      {StatusCode::UNKNOWN, {ErrorKind::kUnknownOutcome, 4}},
      {StatusCode::INVALID_ARGUMENT, {ErrorKind::kInvalid, 2}},
      {StatusCode::DEADLINE_EXCEEDED, {ErrorKind::kUnknownOutcome, 4}},
      {StatusCode::NOT_FOUND, {ErrorKind::kNotFound, 1}},
      {StatusCode::ALREADY_EXISTS, {ErrorKind::kInternal, 3}},
      {StatusCode::PERMISSION_DENIED, {ErrorKind::kInvalid, 2}},
      {StatusCode::RESOURCE_EXHAUSTED, {ErrorKind::kUnavailable, 3}},
      {StatusCode::FAILED_PRECONDITION, {ErrorKind::kUnavailable, 3}},
      {StatusCode::ABORTED, {ErrorKind::kUnknownOutcome, 4}},
      {StatusCode::OUT_OF_RANGE, {ErrorKind::kInvalid, 2}},
      {StatusCode::UNIMPLEMENTED, {ErrorKind::kInternal, 3}},
      {StatusCode::INTERNAL, {ErrorKind::kUnknownOutcome, 4}},
      {StatusCode::UNAVAILABLE, {ErrorKind::kUnknownOutcome, 4}},
      {StatusCode::DATA_LOSS, {ErrorKind::kUnknownOutcome, 4}},
      // Refused by the node's --auth-file: not allowed, exit 6.
      {StatusCode::UNAUTHENTICATED, {ErrorKind::kUnauthenticated, 6}},
  };
  REQUIRE(expected.size() == all_codes().size());
  for (const auto& [code, e] : expected) {
    INFO(status_code_name(static_cast<int>(code)));
    const ErrorKind kind = error_kind_of_status(RequestKind::kWrite, code, not_leader_details());
    CHECK(kind == e.kind);
    CHECK(exit_code_of(kind) == e.exit_code);
    // Exit 4 exactly when the outcome is not definite.
    CHECK((exit_code_of(kind) == 4) == !write_outcome_is_definite(code, not_leader_details()));
  }
  // A FAILED_PRECONDITION that is not a NotLeader: the write may have happened.
  CHECK(error_kind_of_status(RequestKind::kWrite, StatusCode::FAILED_PRECONDITION, kUnparsable) ==
        ErrorKind::kUnknownOutcome);
}

TEST_CASE("an authorization refusal is told from a disabled feature's PERMISSION_DENIED", "[request_outcome]") {
  // The node marks its --auth-file refusals in the status details.
  const std::string marker(mq::auth::kAccessRefusalDetails);
  for (RequestKind kind : {RequestKind::kRead, RequestKind::kWrite}) {
    CHECK(error_kind_of_status(kind, StatusCode::PERMISSION_DENIED, marker) == ErrorKind::kForbidden);
    CHECK(error_kind_of_status(kind, StatusCode::PERMISSION_DENIED, "") == ErrorKind::kInvalid);
  }
  CHECK(exit_code_of(ErrorKind::kForbidden) == 6);
  CHECK(exit_code_of(ErrorKind::kUnauthenticated) == 6);
  CHECK(std::string(error_code_name(ErrorKind::kForbidden)) == "permission_denied");
  CHECK(std::string(error_code_name(ErrorKind::kUnauthenticated)) == "unauthenticated");
}

TEST_CASE("every code maps a read to its error, and a read is never unknown", "[request_outcome]") {
  const std::map<StatusCode, ErrorKind> expected = {
      {StatusCode::OK, ErrorKind::kOk},
      {StatusCode::CANCELLED, ErrorKind::kInternal},
      {StatusCode::UNKNOWN, ErrorKind::kInternal},
      {StatusCode::INVALID_ARGUMENT, ErrorKind::kInvalid},
      {StatusCode::DEADLINE_EXCEEDED, ErrorKind::kUnavailable},
      {StatusCode::NOT_FOUND, ErrorKind::kNotFound},
      {StatusCode::ALREADY_EXISTS, ErrorKind::kInternal},
      {StatusCode::PERMISSION_DENIED, ErrorKind::kInvalid},
      {StatusCode::RESOURCE_EXHAUSTED, ErrorKind::kUnavailable},
      {StatusCode::FAILED_PRECONDITION, ErrorKind::kUnavailable},
      {StatusCode::ABORTED, ErrorKind::kUnavailable},
      {StatusCode::OUT_OF_RANGE, ErrorKind::kInvalid},
      {StatusCode::UNIMPLEMENTED, ErrorKind::kInternal},
      {StatusCode::INTERNAL, ErrorKind::kInternal},
      {StatusCode::UNAVAILABLE, ErrorKind::kUnavailable},
      {StatusCode::DATA_LOSS, ErrorKind::kInternal},
      {StatusCode::UNAUTHENTICATED, ErrorKind::kUnauthenticated},
  };
  REQUIRE(expected.size() == all_codes().size());
  for (const auto& [code, kind] : expected) {
    INFO(status_code_name(static_cast<int>(code)));
    for (const std::string& details : {not_leader_details(), kUnparsable}) {
      const ErrorKind got = error_kind_of_status(RequestKind::kRead, code, details);
      CHECK(got != ErrorKind::kUnknownOutcome);
      CHECK(exit_code_of(got) != 4);
      if (code != StatusCode::FAILED_PRECONDITION || details == not_leader_details()) {
        CHECK(got == kind);
      }
    }
  }
  // A FAILED_PRECONDITION the client cannot read is the server's fault.
  CHECK(error_kind_of_status(RequestKind::kRead, StatusCode::FAILED_PRECONDITION, kUnparsable) ==
        ErrorKind::kInternal);
}
