#include "playground/lincheck.h"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <random>

namespace mq::lincheck {
namespace {

Operation set(uint64_t client, std::string key, std::string value, int64_t invoke, int64_t complete,
              Outcome outcome = Outcome::kOk) {
  Operation op;
  op.client = client;
  op.kind = OpKind::kSet;
  op.key = std::move(key);
  op.value = std::move(value);
  op.invoke_time = invoke;
  op.complete_time = complete;
  op.outcome = outcome;
  return op;
}

Operation get(uint64_t client, std::string key, std::optional<std::string> value, int64_t invoke,
              int64_t complete, Outcome outcome = Outcome::kOk) {
  Operation op;
  op.client = client;
  op.kind = OpKind::kGet;
  op.key = std::move(key);
  op.found = value.has_value();
  op.value = value.value_or("");
  op.invoke_time = invoke;
  op.complete_time = complete;
  op.outcome = outcome;
  return op;
}

Operation del(uint64_t client, std::string key, bool found, int64_t invoke, int64_t complete,
              Outcome outcome = Outcome::kOk) {
  Operation op;
  op.client = client;
  op.kind = OpKind::kDelete;
  op.key = std::move(key);
  op.found = found;
  op.invoke_time = invoke;
  op.complete_time = complete;
  op.outcome = outcome;
  return op;
}

}  // namespace

TEST_CASE("empty history is linearizable", "[lincheck]") {
  CHECK(check({}).verdict == Result::kLinearizable);
}

TEST_CASE("sequential set, get, delete is linearizable", "[lincheck]") {
  std::vector<Operation> h = {
      get(1, "k", std::nullopt, 0, 1), set(1, "k", "a", 2, 3), get(1, "k", "a", 4, 5),
      del(1, "k", true, 6, 7),         del(1, "k", false, 8, 9), get(1, "k", std::nullopt, 10, 11),
  };
  CHECK(check(h).verdict == Result::kLinearizable);
}

TEST_CASE("concurrent reads may see either side of an overlapping write", "[lincheck]") {
  std::vector<Operation> h = {
      set(1, "k", "a", 0, 1),
      set(2, "k", "b", 10, 20),
      get(3, "k", "b", 11, 12),  // the write took effect early
      get(4, "k", "b", 13, 14),
  };
  CHECK(check(h).verdict == Result::kLinearizable);
  // A read overlapping the write may see the old value, but not after a later read saw the new one.
  h.push_back(get(5, "k", "a", 15, 16));
  Result r = check(h);
  CHECK(r.verdict == Result::kNotLinearizable);
}

TEST_CASE("stale read after a completed write is not linearizable", "[lincheck]") {
  std::vector<Operation> h = {
      set(1, "k", "a", 0, 1),
      set(1, "k", "b", 2, 3),
      get(2, "k", "a", 4, 5),
  };
  Result r = check(h);
  REQUIRE(r.verdict == Result::kNotLinearizable);
  CHECK(r.explanation.find("key 'k'") != std::string::npos);
  CHECK(r.explanation.find("get('k') -> 'a'") != std::string::npos);
  INFO(r.explanation);
}

TEST_CASE("two readers seeing two writes in opposite orders is not linearizable", "[lincheck]") {
  std::vector<Operation> h = {
      set(1, "k", "a", 0, 100),  set(2, "k", "b", 0, 100),
      get(3, "k", "a", 10, 20),  get(3, "k", "b", 30, 40),
      get(4, "k", "b", 10, 20),  get(4, "k", "a", 30, 40),
  };
  CHECK(check(h).verdict == Result::kNotLinearizable);
  // Each reader alone is fine.
  std::vector<Operation> one_reader(h.begin(), h.begin() + 4);
  CHECK(check(one_reader).verdict == Result::kLinearizable);
}

TEST_CASE("reading a value never written is not linearizable", "[lincheck]") {
  std::vector<Operation> h = {set(1, "k", "a", 0, 10), get(2, "k", "z", 1, 9)};
  Result r = check(h);
  REQUIRE(r.verdict == Result::kNotLinearizable);
  CHECK(r.explanation.find("'z'") != std::string::npos);
}

TEST_CASE("delete that found a missing key is not linearizable", "[lincheck]") {
  CHECK(check({del(1, "k", true, 0, 1)}).verdict == Result::kNotLinearizable);
  std::vector<Operation> h = {set(1, "k", "a", 0, 1), del(1, "k", true, 2, 3), del(2, "k", true, 4, 5)};
  CHECK(check(h).verdict == Result::kNotLinearizable);
  // Concurrent deletes: only one may find it.
  std::vector<Operation> racing = {set(1, "k", "a", 0, 1), del(1, "k", true, 2, 10),
                                   del(2, "k", false, 3, 9)};
  CHECK(check(racing).verdict == Result::kLinearizable);
}

TEST_CASE("failed operations are dropped", "[lincheck]") {
  std::vector<Operation> h = {
      set(1, "k", "a", 0, 1),
      set(2, "k", "b", 2, 3, Outcome::kFail),
      get(3, "k", "a", 4, 5),
  };
  CHECK(check(h).verdict == Result::kLinearizable);
  h.push_back(get(3, "k", "b", 6, 7));  // but its value cannot then appear
  CHECK(check(h).verdict == Result::kNotLinearizable);
}

TEST_CASE("unknown write may take effect late or never", "[lincheck]") {
  std::vector<Operation> base = {set(1, "k", "a", 0, 1), set(2, "k", "b", 2, 3, Outcome::kUnknown)};

  SECTION("never") {
    auto h = base;
    h.push_back(get(3, "k", "a", 100, 101));
    CHECK(check(h).verdict == Result::kLinearizable);
  }
  SECTION("long after its invoke") {
    auto h = base;
    h.push_back(get(3, "k", "a", 100, 101));
    h.push_back(get(3, "k", "b", 200, 201));
    CHECK(check(h).verdict == Result::kLinearizable);
  }
  SECTION("but not before its invoke") {
    std::vector<Operation> h = {set(1, "k", "a", 0, 1), get(3, "k", "b", 2, 3),
                                set(2, "k", "b", 10, 11, Outcome::kUnknown)};
    CHECK(check(h).verdict == Result::kNotLinearizable);
  }
  SECTION("and only once") {
    auto h = base;
    h.push_back(get(3, "k", "b", 100, 101));
    h.push_back(get(3, "k", "a", 200, 201));
    CHECK(check(h).verdict == Result::kNotLinearizable);
  }
}

TEST_CASE("unknown delete may take effect or not", "[lincheck]") {
  std::vector<Operation> h = {set(1, "k", "a", 0, 1), del(2, "k", false, 2, 3, Outcome::kUnknown)};
  auto still_there = h;
  still_there.push_back(get(3, "k", "a", 10, 11));
  CHECK(check(still_there).verdict == Result::kLinearizable);
  auto gone = h;
  gone.push_back(get(3, "k", std::nullopt, 10, 11));
  CHECK(check(gone).verdict == Result::kLinearizable);
}

TEST_CASE("unknown get constrains nothing", "[lincheck]") {
  std::vector<Operation> h = {set(1, "k", "a", 0, 1), get(2, "k", "never", 2, 3, Outcome::kUnknown)};
  CHECK(check(h).verdict == Result::kLinearizable);
}

TEST_CASE("keys are checked independently", "[lincheck]") {
  std::vector<Operation> h = {
      set(1, "x", "1", 0, 1), set(1, "y", "2", 2, 3),
      get(2, "x", "1", 4, 5), get(2, "y", "2", 4, 5),
      get(2, "y", std::nullopt, 0, 1),  // y before its set: fine
  };
  CHECK(check(h).verdict == Result::kLinearizable);
  // The same value name under another key does not satisfy a read.
  h.push_back(get(3, "x", "2", 6, 7));
  Result r = check(h);
  REQUIRE(r.verdict == Result::kNotLinearizable);
  CHECK(r.explanation.find("key 'x'") != std::string::npos);
}

namespace {

// A sequential execution on a few keys, then each op's interval is widened
// around its linearization point so that many operations overlap.
std::vector<Operation> random_linearizable_history(uint32_t seed, size_t op_count, size_t key_count,
                                                   size_t client_count) {
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> model;
  std::vector<Operation> history;
  int value_counter = 0;
  for (size_t i = 0; i < op_count; ++i) {
    const int64_t point = static_cast<int64_t>(i) * 10;
    const std::string key = "k" + std::to_string(rng() % key_count);
    const uint64_t client = rng() % client_count;
    const int64_t invoke = point - static_cast<int64_t>(rng() % 40);
    const int64_t complete = point + static_cast<int64_t>(rng() % 40);
    const int pick = static_cast<int>(rng() % 10);
    if (pick < 4) {
      const std::string value = "v" + std::to_string(value_counter++);
      model[key] = value;
      history.push_back(set(client, key, value, invoke, complete));
    } else if (pick < 8) {
      auto it = model.find(key);
      history.push_back(get(client, key,
                            it == model.end() ? std::nullopt : std::optional<std::string>(it->second),
                            invoke, complete));
    } else {
      const bool found = model.erase(key) > 0;
      history.push_back(del(client, key, found, invoke, complete));
    }
  }
  std::shuffle(history.begin(), history.end(), rng);
  return history;
}

}  // namespace

TEST_CASE("random overlapping history from a sequential run is linearizable; a corrupted copy is not",
          "[lincheck]") {
  constexpr uint32_t kSeeds = 5;
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    INFO("seed " << seed);
    auto history = random_linearizable_history(seed, 2000, 4, 8);
    Result ok = check(history);
    INFO(ok.explanation);
    REQUIRE(ok.verdict == Result::kLinearizable);

    auto corrupted = history;
    size_t target = 0;
    for (size_t i = 0; i < corrupted.size(); ++i) {
      if (corrupted[i].kind == OpKind::kGet) target = i;
    }
    corrupted[target].found = true;
    corrupted[target].value = "never-written";
    Result bad = check(corrupted);
    REQUIRE(bad.verdict == Result::kNotLinearizable);
    CHECK(bad.explanation.find("never-written") != std::string::npos);
  }
}

TEST_CASE("a stale read hidden in a random history is found", "[lincheck]") {
  auto history = random_linearizable_history(42, 1000, 2, 6);
  // Far after everything, write then read back an older value: certainly stale.
  history.push_back(set(1, "k0", "late", 1'000'000, 1'000'001));
  history.push_back(get(2, "k0", "v0", 1'000'002, 1'000'003));
  CHECK(check(history).verdict == Result::kNotLinearizable);
}

TEST_CASE("search budget yields unknown", "[lincheck]") {
  // Many fully concurrent writes then a read of a value none wrote: proving
  // that requires visiting every subset of the writes.
  std::vector<Operation> h;
  constexpr int kWriters = 24;
  for (int i = 0; i < kWriters; ++i) h.push_back(set(i, "k", "v" + std::to_string(i), 0, 100));
  h.push_back(get(99, "k", "nobody", 200, 201));
  Result r = check(h, 1000);
  CHECK(r.verdict == Result::kUnknown);
  CHECK(r.explanation.find("budget") != std::string::npos);
  // A small history settles well within the same budget.
  CHECK(check({set(1, "k", "a", 0, 1), get(1, "k", "a", 2, 3)}, 1000).verdict == Result::kLinearizable);
}

}  // namespace mq::lincheck
