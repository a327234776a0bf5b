#include "playground/demo_workload.h"

#include <algorithm>
#include <random>

#include "cli/client/client.h"
#include "node/kv/shard_hash.h"

namespace mq::playground {

struct Workload::Thread {
  uint64_t id = 0;
  std::thread thread;
  std::vector<RecordedOp> ops;
};

std::vector<std::string> users_covering_shards(uint32_t shard_count, int users_per_shard) {
  std::vector<int> count(shard_count, 0);
  std::vector<std::string> users;
  const size_t wanted = static_cast<size_t>(shard_count) * users_per_shard;
  // Bounded: the hash spreads user ids evenly, so a few times the wanted
  // number of candidates fill every shard.
  for (int i = 0; users.size() < wanted && i < 1'000'000; ++i) {
    std::string u = "user" + std::to_string(i);
    uint32_t s = kv::shard_of(u, shard_count);
    if (count[s] < users_per_shard) {
      ++count[s];
      users.push_back(std::move(u));
    }
  }
  return users;
}

Workload::Workload(WorkloadOptions options, Clock::time_point epoch)
    : options_(std::move(options)), epoch_(epoch) {
  users_ = users_covering_shards(options_.shard_count, options_.users_per_shard);
}

Workload::~Workload() { stop(); }

int64_t Workload::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch_).count();
}

void Workload::start() {
  for (int i = 0; i < options_.clients; ++i) {
    auto t = std::make_unique<Thread>();
    t->id = static_cast<uint64_t>(i);
    Thread* raw = t.get();
    threads_.push_back(std::move(t));
    raw->thread = std::thread([this, raw] { run(raw); });
  }
}

void Workload::stop() {
  stopping_ = true;
  for (auto& t : threads_) {
    if (t->thread.joinable()) t->thread.join();
  }
}

void Workload::run(Thread* t) {
  cli::ClientOptions co;
  co.tls = options_.tls;
  co.token = options_.token;
  co.endpoints = options_.endpoints;
  co.timeout_ms = options_.timeout_ms;
  // Spread the first contact over the nodes.
  std::rotate(co.endpoints.begin(), co.endpoints.begin() + (t->id % co.endpoints.size()),
              co.endpoints.end());
  cli::Client client(co);
  std::mt19937_64 rng(options_.seed * 1000003 + t->id);
  std::uniform_int_distribution<size_t> pick_user(0, users_.size() - 1);
  std::uniform_int_distribution<int> pick_key(0, options_.keys_per_user - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  uint64_t seq = 0;
  while (!stopping_.load(std::memory_order_relaxed)) {
    const std::string& user = users_[pick_user(rng)];
    const std::string key = options_.key_prefix + "-k" + std::to_string(pick_key(rng));
    RecordedOp r;
    r.shard = kv::shard_of(user, options_.shard_count);
    r.op.client = t->id;
    r.op.key = user + "/" + key;
    cli::Error e;
    r.op.invoke_time = now_us();
    if (percent(rng) < options_.write_percent) {
      r.op.kind = lincheck::OpKind::kSet;
      r.op.value = "c" + std::to_string(t->id) + "-" + std::to_string(++seq);
      cli::SetResult res;
      e = client.set(user, key, r.op.value, &res);
    } else {
      r.op.kind = lincheck::OpKind::kGet;
      cli::GetResult res;
      e = client.get(user, key, cli::Consistency::kLinearizable, &res);
      r.op.found = e.ok() && res.found;
      if (r.op.found) r.op.value = std::move(res.value);
    }
    r.op.complete_time = now_us();
    if (e.ok()) {
      r.op.outcome = lincheck::Outcome::kOk;
    } else if (e.kind == cli::ErrorKind::kUnknownOutcome || e.kind == cli::ErrorKind::kInternal) {
      r.op.outcome = lincheck::Outcome::kUnknown;
      r.error = e.message;
    } else {
      r.op.outcome = lincheck::Outcome::kFail;
      r.error = e.message;
    }
    t->ops.push_back(std::move(r));
    completed_.fetch_add(1, std::memory_order_relaxed);
  }
}

bool Workload::read_back(int timeout_ms, const std::function<bool(size_t done, size_t total)>& go_on) {
  cli::ClientOptions co;
  co.tls = options_.tls;
  co.token = options_.token;
  co.endpoints = options_.endpoints;
  co.timeout_ms = timeout_ms;
  cli::Client client(co);
  const uint64_t reader = static_cast<uint64_t>(options_.clients);
  const size_t total = users_.size() * static_cast<size_t>(options_.keys_per_user);
  size_t done = 0;
  for (const auto& user : users_) {
    for (int k = 0; k < options_.keys_per_user; ++k, ++done) {
      if (go_on && !go_on(done, total)) return false;
      const std::string key = options_.key_prefix + "-k" + std::to_string(k);
      RecordedOp r;
      r.shard = kv::shard_of(user, options_.shard_count);
      r.op.client = reader;
      r.op.kind = lincheck::OpKind::kGet;
      r.op.key = user + "/" + key;
      r.op.invoke_time = now_us();
      cli::GetResult res;
      cli::Error e = client.get(user, key, cli::Consistency::kLinearizable, &res);
      r.op.complete_time = now_us();
      r.op.outcome = e.ok() ? lincheck::Outcome::kOk : lincheck::Outcome::kFail;
      r.op.found = e.ok() && res.found;
      if (r.op.found) r.op.value = res.value;
      if (!e.ok()) r.error = e.message;
      read_back_ops_.push_back(std::move(r));
    }
  }
  return true;
}

std::vector<RecordedOp> Workload::history() const {
  std::vector<RecordedOp> all;
  for (const auto& t : threads_) all.insert(all.end(), t->ops.begin(), t->ops.end());
  all.insert(all.end(), read_back_ops_.begin(), read_back_ops_.end());
  return all;
}

}  // namespace mq::playground
