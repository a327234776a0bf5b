#include "cli/client/request_outcome.h"

#include "node/auth/refusal.h"

#include <iterator>

#include "mq/v1/kv.pb.h"

namespace mq::cli {

bool details_hold_not_leader(std::string_view details) {
  v1::NotLeader hint;
  return hint.ParseFromArray(details.data(), static_cast<int>(details.size()));
}

bool details_hold_memory_full(std::string_view details) {
  v1::MemoryFull full;
  return !details.empty() && full.ParseFromArray(details.data(), static_cast<int>(details.size())) &&
         !full.node().empty();
}

bool write_outcome_is_definite(grpc::StatusCode code, std::string_view details) {
  switch (code) {
    case grpc::StatusCode::OK:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
      return true;
    case grpc::StatusCode::FAILED_PRECONDITION:
      // Without a NotLeader it is not the node's refusal to propose but
      // something this client does not understand.
      return details_hold_not_leader(details);
    default:
      return false;
  }
}

ErrorKind error_kind_of_status(RequestKind kind, grpc::StatusCode code, std::string_view details) {
  if (code == grpc::StatusCode::OK) return ErrorKind::kOk;
  if (kind == RequestKind::kWrite && !write_outcome_is_definite(code, details)) {
    return ErrorKind::kUnknownOutcome;
  }
  // Refused by the node's --auth-file (node/auth): its own exit code, so a
  // script tells "not allowed" from bad input.
  if (code == grpc::StatusCode::UNAUTHENTICATED) return ErrorKind::kUnauthenticated;
  if (code == grpc::StatusCode::PERMISSION_DENIED && details == auth::kAccessRefusalDetails) return ErrorKind::kForbidden;
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
    // A refused admin call (fault injection disabled on the node): asking
    // again will not help, as with bad input, and the node's message says
    // which flag would allow it.
    case grpc::StatusCode::PERMISSION_DENIED:
      return ErrorKind::kInvalid;
    case grpc::StatusCode::NOT_FOUND:
      return ErrorKind::kNotFound;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return details_hold_memory_full(details) ? ErrorKind::kMemoryFull : ErrorKind::kUnavailable;
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ErrorKind::kUnavailable;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return details_hold_not_leader(details) ? ErrorKind::kUnavailable : ErrorKind::kInternal;
    default:
      return ErrorKind::kInternal;
  }
}

const char* status_code_name(int code) {
  static const char* const kNames[] = {
      "ok",           "cancelled",          "unknown",           "invalid_argument",
      "deadline_exceeded", "not_found",     "already_exists",    "permission_denied",
      "resource_exhausted", "failed_precondition", "aborted",    "out_of_range",
      "unimplemented", "internal",          "unavailable",       "data_loss",
      "unauthenticated"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "not_a_grpc_code";
  return kNames[code];
}

}  // namespace mq::cli
