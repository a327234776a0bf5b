#include <catch2/catch.hpp>
#include <set>

#include "bench/loadgen/options.h"
#include "bench/loadgen/workload.h"
#include "node/kv/shard_hash.h"

using namespace mq::bench;

namespace {

BenchOptions valid() {
  BenchOptions o;
  o.endpoints = {"127.0.0.1:7001"};
  return o;
}

}  // namespace

TEST_CASE("the defaults are valid", "[bench][options]") {
  CHECK(validate_bench_options(valid()).empty());
}

TEST_CASE("out-of-range flags are rejected with the flag's name", "[bench][options]") {
  BenchOptions o = valid();
  o.clients = 0;
  CHECK(validate_bench_options(o).find("--clients") != std::string::npos);
  o = valid();
  o.users = 10;
  o.keys = 5;
  CHECK(validate_bench_options(o).find("--users") != std::string::npos);
  o = valid();
  o.pipeline = kBenchPipelineMax + 1;
  CHECK(validate_bench_options(o).find("--pipeline") != std::string::npos);
  o = valid();
  o.duration_s = 0;
  CHECK(validate_bench_options(o).find("--duration") != std::string::npos);
  o = valid();
  o.read_ratio = 1.5;
  CHECK(validate_bench_options(o).find("--read-ratio") != std::string::npos);
}

TEST_CASE("etcd has no Batch call, so --pipeline needs --target mq", "[bench][options]") {
  BenchOptions o = valid();
  o.target = BenchTarget::kEtcd;
  o.pipeline = 16;
  CHECK(validate_bench_options(o).find("--pipeline") != std::string::npos);
  o.pipeline = 1;
  CHECK(validate_bench_options(o).empty());
}

TEST_CASE("key index k is key<k> of user<k % users>", "[bench][workload]") {
  BenchOptions o = valid();
  o.keys = 1000;
  o.users = 7;
  KeySpace keys(o);
  CHECK(keys.user(15) == "user1");
  CHECK(keys.key(15) == "key15");
  CHECK(keys.shard(15) == mq::kv::shard_of("user1", o.shard_count));
}

TEST_CASE("a batch's keys stay in the first key's shard and cover it", "[bench][workload]") {
  BenchOptions o = valid();
  o.keys = 5000;
  o.users = 100;
  KeySpace keys(o);
  BenchRng rng(42);
  std::set<std::string> users_seen;
  const uint64_t first = 123;
  for (int i = 0; i < 5000; ++i) {
    const uint64_t k = keys.random_index_in_shard_of(first, rng);
    REQUIRE(k < keys.size());
    REQUIRE(keys.shard(k) == keys.shard(first));
    users_seen.insert(keys.user(k));
  }
  size_t users_in_shard = 0;
  for (uint64_t u = 0; u < o.users; ++u) users_in_shard += keys.shard(u) == keys.shard(first);
  CHECK(users_seen.size() == users_in_shard);
}

TEST_CASE("the mix workload reads about read_ratio of the time", "[bench][workload]") {
  BenchOptions o = valid();
  o.workload = BenchWorkload::kMix;
  o.read_ratio = 0.25;
  BenchRng rng(7);
  int gets = 0;
  for (int i = 0; i < 20000; ++i) gets += next_is_get(o, rng);
  CHECK(gets > 4500);
  CHECK(gets < 5500);
  o.workload = BenchWorkload::kSet;
  CHECK_FALSE(next_is_get(o, rng));
  o.workload = BenchWorkload::kGet;
  CHECK(next_is_get(o, rng));
}
