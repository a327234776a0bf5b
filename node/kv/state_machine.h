// The interface Raft drives: apply committed entries in log order, take a
// snapshot at the applied index, restore from one. Implementations are
// deterministic: the same entries in the same order give the same state on
// every replica.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mq::kv {

struct ApplyResult {
  bool ok = true;         // false: the entry was not a valid command (logged, skipped)
  bool existed = false;   // kDelete: whether the key was there
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // index must be applied_index() + 1, or larger after a restore gap is
  // impossible; empty commands (Raft no-ops) advance the index only.
  virtual ApplyResult apply(uint64_t index, std::string_view command) = 0;
  virtual uint64_t applied_index() const = 0;
  // A self-contained image of the state at applied_index().
  virtual std::string snapshot() const = 0;
  // Replaces the whole state; false (with error) leaves the state untouched.
  virtual bool restore(std::string_view image, std::string* error) = 0;
};

}  // namespace mq::kv
