// What a gRPC status says about a request that did not succeed: whether a
// write certainly did not happen, and which error (so which exit code) the
// client reports. The client library and `mq bench` both classify with these
// functions, so a script and a benchmark report judge a write the same way.
//
// A write "failed" only when its answer proves the node did nothing with
// it: refused before it was proposed, or never accepted at all. Every other
// answer to a write that was sent (a timeout, a lost connection, a server
// error, a code nobody expected) leaves its outcome unknown: it may have
// been proposed and may still commit. Calling that a failure would let a
// caller believe a value is absent that is in fact stored.
#pragma once

#include <grpcpp/support/status_code_enum.h>

#include <string_view>

#include "cli/client/client.h"

namespace mq::cli {

enum class RequestKind { kRead, kWrite };

// True when the outcome of a write whose RPC ended with `code` is known:
// OK (it happened), or a code that proves it did not happen:
// INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
// UNAUTHENTICATED, RESOURCE_EXHAUSTED (the node refuses before proposing;
// Set and Delete answers are far below any receive limit, so it never means
// the answer was lost), OUT_OF_RANGE, UNIMPLEMENTED, and FAILED_PRECONDITION
// whose details (the status's binary details) parse as an mq.v1.NotLeader
// (a non-leader refused it). UNAVAILABLE is not on the list: the status
// comes from an RPC that was issued, and gRPC gives the same code whether
// the connection failed before or after the request left. A request the
// client never issued, because it could not connect, did not happen and
// never reaches this function.
bool write_outcome_is_definite(grpc::StatusCode code, std::string_view details);

// True when `details` parse as an mq.v1.NotLeader. An empty string does:
// it is the encoding of a NotLeader with every field at its default (shard
// 0, no leader known yet, term 0), which a node that just started sends.
bool details_hold_not_leader(std::string_view details);
// Whether a RESOURCE_EXHAUSTED carries a MemoryFull (a replica over its
// --max-memory: not retried) rather than a full queue (retried).
bool details_hold_memory_full(std::string_view details);

// The error a request ends with when its RPC answered `code` and the client
// does not send it again. A write whose outcome is not definite is
// kUnknownOutcome (exit 4); a read that fails is never unknown: it changed
// nothing, so a read that timed out or lost its leader is kUnavailable
// (exit 3) like one that could not reach the cluster. PERMISSION_DENIED is
// kInvalid (exit 2), as INVALID_ARGUMENT: refused as asked, so asking again
// will not help, and the node's message says why.
ErrorKind error_kind_of_status(RequestKind kind, grpc::StatusCode code, std::string_view details);

// "invalid_argument", "deadline_exceeded", ... ("not_a_grpc_code" for a
// number outside 0..16).
const char* status_code_name(int code);

}  // namespace mq::cli
