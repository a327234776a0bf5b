// Linearizability checker for histories of a key-value store.
//
// Model: one register per key, initially absent. set writes a value, get
// reads it (or observes absence), delete removes it and reports whether the
// key existed. Keys are independent objects, so a history is linearizable
// exactly when each key's sub-history is (P-compositionality); the checker
// splits by key and searches each part on its own, which keeps the search
// space per part small.
//
// Search: the Wing-Gong algorithm with Lowe's refinements. Events are sorted
// by time into a linked list; the search tries to linearize a pending call,
// lifts it out of the list, and backtracks when it meets a return whose call
// was not linearized. A cache of (set of linearized operations, register
// state) prunes configurations already explored. Each key gets a step budget;
// exhausting it yields kUnknown rather than a guess.
//
// Outcomes: kFail operations certainly did not happen and are dropped.
// kUnknown operations never complete: a set or delete may take effect at any
// point after its invoke, or never; an unknown get constrains nothing and is
// dropped. Equal timestamps count as overlapping (the permissive reading).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mq::lincheck {

enum class OpKind { kSet, kGet, kDelete };
enum class Outcome { kOk, kFail, kUnknown };  // kFail = certainly did not take effect

struct Operation {
  uint64_t client = 0;
  OpKind kind = OpKind::kGet;
  std::string key;
  std::string value;   // kSet: value written; kGet: value read (when found)
  bool found = false;  // kGet / kDelete: whether the key existed (result)
  int64_t invoke_time = 0;    // any monotonic unit
  int64_t complete_time = 0;  // ignored for kUnknown (treated as never completing)
  Outcome outcome = Outcome::kOk;
};

struct Result {
  enum Verdict { kLinearizable, kNotLinearizable, kUnknown } verdict;
  std::string explanation;
};

// Checks the whole history. max_steps_per_key bounds the search of each key;
// a key that exhausts it makes the verdict kUnknown unless another key is
// certainly not linearizable.
Result check(const std::vector<Operation>& history, uint64_t max_steps_per_key = 10'000'000);

// One line per operation, for explanations and test failure messages.
std::string describe(const Operation& op);

}  // namespace mq::lincheck
