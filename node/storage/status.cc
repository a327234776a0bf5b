#include "node/storage/status.h"

namespace mq::storage {

const char* code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kIoError:
      return "io error";
    case StatusCode::kNoSpace:
      return "no space left on device";
    case StatusCode::kCorrupt:
      return "corrupt data";
    case StatusCode::kForeignDataDir:
      return "data dir belongs to another node or cluster";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kStopped:
      return "storage stopped after an earlier failure";
    case StatusCode::kNotFound:
      return "not found";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

int exit_code_for(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kCorrupt:
      return kExitCorruptDataDir;
    case StatusCode::kForeignDataDir:
      return kExitForeignDataDir;
    default:
      return kExitCannotStart;
  }
}

}  // namespace mq::storage
