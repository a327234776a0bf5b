#include "playground/lincheck.h"

#include <algorithm>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace mq::lincheck {
namespace {

constexpr int32_t kAbsent = -1;
// Explanations quote a handful of operations; a whole history is unreadable.
constexpr size_t kExcerptLinearizedMax = 6;
constexpr size_t kExcerptCandidatesMax = 6;

// One operation of a single key's sub-history, with values interned so that
// register states compare as integers.
struct KeyOp {
  const Operation* op = nullptr;
  int32_t value_id = kAbsent;
};

// Applies op to the register. Returns false when the op's observed result is
// impossible from that state.
bool step(const KeyOp& kop, int32_t state, int32_t* next) {
  const Operation& op = *kop.op;
  switch (op.kind) {
    case OpKind::kSet:
      *next = kop.value_id;
      return true;
    case OpKind::kGet:
      *next = state;
      return op.found ? state == kop.value_id : state == kAbsent;
    case OpKind::kDelete:
      *next = kAbsent;
      // An unknown delete's result was never observed, so any state fits.
      if (op.outcome == Outcome::kUnknown) return true;
      return op.found == (state != kAbsent);
  }
  return false;
}

struct Event {
  int op = 0;
  bool is_call = true;
  int match = 0;  // index of the paired event
  int prev = 0;
  int next = 0;
};

// The set of linearized operations, with operations numbered in invoke
// order. Linearized sets are nearly always "everything before some point plus
// a few overlapping operations", so the cache stores them as that prefix
// length and the sparse remainder: a bitset per cache entry would make the
// cache quadratic in the history length.
class LinearizedSet {
 public:
  explicit LinearizedSet(size_t n) : words_((n + 63) / 64, 0) {}

  void set(size_t i) {
    words_[i / 64] |= 1ull << (i % 64);
    ++count_;
    while (prefix_ < words_.size() * 64 && test(prefix_)) ++prefix_;
  }
  void clear(size_t i) {
    words_[i / 64] &= ~(1ull << (i % 64));
    --count_;
    if (i < prefix_) prefix_ = i;
  }
  bool test(size_t i) const { return (words_[i / 64] >> (i % 64)) & 1; }

  // Members beyond the fully linearized prefix, ascending.
  std::vector<uint32_t> beyond_prefix() const {
    std::vector<uint32_t> out;
    size_t remaining = count_ - prefix_;
    for (size_t w = prefix_ / 64; remaining > 0 && w < words_.size(); ++w) {
      uint64_t bits = words_[w];
      while (bits != 0) {
        const size_t i = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        if (i < prefix_) continue;
        out.push_back(static_cast<uint32_t>(i));
        --remaining;
      }
    }
    return out;
  }
  size_t prefix() const { return prefix_; }

 private:
  std::vector<uint64_t> words_;
  size_t count_ = 0;
  size_t prefix_ = 0;  // operations [0, prefix_) are all linearized
};

struct CacheKey {
  uint32_t prefix;
  int32_t state;
  std::vector<uint32_t> beyond;
  bool operator==(const CacheKey& o) const {
    return prefix == o.prefix && state == o.state && beyond == o.beyond;
  }
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const {
    uint64_t h = 1469598103934665603ull ^ (static_cast<uint64_t>(k.prefix) << 32) ^
                 static_cast<uint32_t>(k.state);
    for (uint32_t i : k.beyond) h ^= i + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

struct KeyVerdict {
  Result::Verdict verdict = Result::kLinearizable;
  std::string explanation;
};

std::string time_range(const Operation& op) {
  std::ostringstream out;
  out << "[" << op.invoke_time << "..";
  if (op.outcome == Outcome::kUnknown) {
    out << "?";
  } else {
    out << op.complete_time;
  }
  out << "]";
  return out.str();
}

std::string quoted(const std::string& s) {
  constexpr size_t kQuoteMax = 40;
  if (s.size() <= kQuoteMax) return "'" + s + "'";
  return "'" + s.substr(0, kQuoteMax) + "...'";
}

KeyVerdict check_key(const std::string& key, std::vector<const Operation*> ops, uint64_t max_steps) {
  std::stable_sort(ops.begin(), ops.end(), [](const Operation* a, const Operation* b) {
    return a->invoke_time < b->invoke_time;
  });
  const size_t n = ops.size();
  std::vector<KeyOp> kops(n);
  std::unordered_map<std::string, int32_t> value_ids;
  for (size_t i = 0; i < n; ++i) {
    kops[i].op = ops[i];
    const bool carries_value = ops[i]->kind == OpKind::kSet ||
                               (ops[i]->kind == OpKind::kGet && ops[i]->found);
    if (carries_value) {
      auto [it, inserted] = value_ids.emplace(ops[i]->value, static_cast<int32_t>(value_ids.size()));
      kops[i].value_id = it->second;
    }
  }

  // Event list: index 0 is the head sentinel; events follow in time order.
  struct Stamp {
    int64_t time;
    bool is_call;
    int op;
  };
  std::vector<Stamp> stamps;
  stamps.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    const Operation& op = *ops[i];
    stamps.push_back({op.invoke_time, true, static_cast<int>(i)});
    const int64_t done = op.outcome == Outcome::kUnknown ? std::numeric_limits<int64_t>::max()
                                                         : op.complete_time;
    stamps.push_back({done, false, static_cast<int>(i)});
  }
  std::stable_sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.is_call && !b.is_call;  // equal times overlap
  });
  std::vector<Event> events(stamps.size() + 1);
  std::vector<int> call_of(n), return_of(n);
  for (size_t i = 0; i < stamps.size(); ++i) {
    Event& e = events[i + 1];
    e.op = stamps[i].op;
    e.is_call = stamps[i].is_call;
    e.prev = static_cast<int>(i);
    e.next = i + 2 < events.size() ? static_cast<int>(i + 2) : 0;
    (e.is_call ? call_of : return_of)[e.op] = static_cast<int>(i + 1);
  }
  events[0].next = events.size() > 1 ? 1 : 0;
  events[0].prev = static_cast<int>(events.size() - 1);
  for (size_t i = 0; i < n; ++i) {
    events[call_of[i]].match = return_of[i];
    events[return_of[i]].match = call_of[i];
  }
  auto unlink = [&](int e) {
    events[events[e].prev].next = events[e].next;
    events[events[e].next].prev = events[e].prev;
  };
  auto relink = [&](int e) {
    events[events[e].prev].next = e;
    events[events[e].next].prev = e;
  };

  struct Frame {
    int call_event;
    int32_t state_before;
  };
  std::vector<Frame> stack;
  stack.reserve(n);
  LinearizedSet linearized(n);
  std::unordered_set<CacheKey, CacheKeyHash> cache;
  int32_t state = kAbsent;
  int entry = events[0].next;
  uint64_t steps = 0;

  // The deepest point the search reached, kept to explain a failure.
  size_t best_depth = 0;
  std::vector<int> best_order;
  int best_blocker = -1;
  std::vector<int> best_candidates;

  while (events[0].next != 0) {
    if (++steps > max_steps) {
      std::ostringstream out;
      out << "key " << quoted(key) << ": search budget of " << max_steps << " steps exhausted over "
          << n << " operations";
      return {Result::kUnknown, out.str()};
    }
    Event& e = events[entry];
    if (e.is_call) {
      int32_t next_state = kAbsent;
      bool advanced = false;
      if (step(kops[e.op], state, &next_state)) {
        linearized.set(e.op);
        CacheKey seen{static_cast<uint32_t>(linearized.prefix()), next_state,
                      linearized.beyond_prefix()};
        if (cache.insert(std::move(seen)).second) {
          stack.push_back({entry, state});
          state = next_state;
          unlink(entry);
          unlink(e.match);
          entry = events[0].next;
          advanced = true;
        } else {
          linearized.clear(e.op);
        }
      }
      if (!advanced) entry = e.next;
      continue;
    }
    // A return whose call is still pending: every ordering from here failed.
    if (best_blocker < 0 || stack.size() > best_depth) {
      // Only the tail is quoted; copying the whole stack here would make the
      // search quadratic in the history length.
      best_depth = stack.size();
      best_order.clear();
      const size_t from = stack.size() > kExcerptLinearizedMax ? stack.size() - kExcerptLinearizedMax : 0;
      for (size_t i = from; i < stack.size(); ++i) best_order.push_back(events[stack[i].call_event].op);
      best_blocker = e.op;
      best_candidates.clear();
      for (int c = events[0].next; c != entry && c != 0; c = events[c].next) {
        if (events[c].is_call) best_candidates.push_back(events[c].op);
      }
    }
    if (stack.empty()) break;
    const Frame top = stack.back();
    stack.pop_back();
    state = top.state_before;
    linearized.clear(events[top.call_event].op);
    relink(events[top.call_event].match);
    relink(top.call_event);
    entry = events[top.call_event].next;
  }
  if (events[0].next == 0) return {Result::kLinearizable, ""};

  std::ostringstream out;
  out << "key " << quoted(key) << " is not linearizable (" << n << " operations). ";
  if (best_depth == 0) {
    out << "No operation can be linearized first.";
  } else {
    out << "Longest linearizable prefix has " << best_depth << " operations, ending:";
    for (int op : best_order) out << "\n    " << describe(*ops[op]);
  }
  out << "\n  then none of these fits next:";
  size_t shown = 0;
  for (int c : best_candidates) {
    if (shown++ == kExcerptCandidatesMax) {
      out << "\n    ... and " << best_candidates.size() - kExcerptCandidatesMax << " more";
      break;
    }
    out << "\n    " << describe(*ops[c]);
  }
  const bool blocker_listed =
      std::find(best_candidates.begin(), best_candidates.end(), best_blocker) != best_candidates.end();
  if (best_blocker >= 0 && !blocker_listed) {
    out << "\n  and this one had to take effect before it completed:\n    "
        << describe(*ops[best_blocker]);
  }
  return {Result::kNotLinearizable, out.str()};
}

}  // namespace

std::string describe(const Operation& op) {
  std::ostringstream out;
  out << "client " << op.client << ": ";
  switch (op.kind) {
    case OpKind::kSet:
      out << "set(" << quoted(op.key) << ", " << quoted(op.value) << ")";
      break;
    case OpKind::kGet:
      out << "get(" << quoted(op.key) << ")";
      if (op.outcome == Outcome::kOk) out << " -> " << (op.found ? quoted(op.value) : "absent");
      break;
    case OpKind::kDelete:
      out << "delete(" << quoted(op.key) << ")";
      if (op.outcome == Outcome::kOk) out << " -> " << (op.found ? "found" : "absent");
      break;
  }
  switch (op.outcome) {
    case Outcome::kOk:
      break;
    case Outcome::kFail:
      out << " failed";
      break;
    case Outcome::kUnknown:
      out << " outcome unknown";
      break;
  }
  out << " " << time_range(op);
  return out.str();
}

Result check(const std::vector<Operation>& history, uint64_t max_steps_per_key) {
  // std::map keeps the per-key order, and so the first reported key, stable.
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::kFail) continue;
    if (op.outcome == Outcome::kUnknown && op.kind == OpKind::kGet) continue;
    by_key[op.key].push_back(&op);
  }
  size_t unknown_keys = 0;
  std::string first_unknown;
  for (const auto& [key, ops] : by_key) {
    KeyVerdict v = check_key(key, ops, max_steps_per_key);
    if (v.verdict == Result::kNotLinearizable) return {Result::kNotLinearizable, v.explanation};
    if (v.verdict == Result::kUnknown) {
      if (unknown_keys++ == 0) first_unknown = v.explanation;
    }
  }
  if (unknown_keys > 0) {
    std::ostringstream out;
    out << unknown_keys << " of " << by_key.size() << " keys undecided; first: " << first_unknown;
    return {Result::kUnknown, out.str()};
  }
  std::ostringstream out;
  out << history.size() << " operations on " << by_key.size() << " keys are linearizable";
  return {Result::kLinearizable, out.str()};
}

}  // namespace mq::lincheck
