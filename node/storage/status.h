// Errors as values for everything storage does. A Status carries a code the
// caller can act on and a message a human can act on (it names the file and,
// for corruption, the byte offset).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mq::storage {

enum class StatusCode {
  kOk = 0,
  kIoError,          // a system call failed (message holds errno text)
  kNoSpace,          // ENOSPC / EDQUOT: the disk is full
  kCorrupt,          // on-disk data fails its checks; never repaired silently
  kForeignDataDir,   // the data dir belongs to another node or cluster
  kInvalidArgument,  // the caller broke a documented precondition
  kStopped,          // an earlier write failed; storage refuses all writes
  kNotFound,
};

// Process exit codes for a node whose storage cannot start; the node's main
// maps a failed open through exit_code_for().
constexpr int kExitCannotStart = 5;
constexpr int kExitCorruptDataDir = 10;
constexpr int kExitForeignDataDir = 11;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

const char* code_name(StatusCode code);

// The exit code of a node whose Storage::open failed with status: 10 for
// corruption, 11 for a foreign data dir, 5 (cannot start) for anything else:
// the data dir cannot be created, read or written, holds something else
// where a directory belongs, or the disk is full.
int exit_code_for(const Status& status);

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) {}

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace mq::storage
