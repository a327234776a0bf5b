#include "bench/loadgen/driver.h"

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/loadgen/connections.h"
#include "bench/loadgen/workload.h"
#include "cli/client/leader_routes.h"
#include "cli/client/request_outcome.h"

namespace mq::bench {

using cli::RequestKind;
using cli::status_code_name;
using cli::write_outcome_is_definite;

namespace {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

// A failed request is not retried at once: a refusing server would
// otherwise be hammered in a tight loop that measures nothing.
constexpr auto kErrorBackoff = std::chrono::milliseconds(10);
constexpr int kDialTimeoutMs = 1000;

void add_counts(BenchErrorCounts& into, const BenchErrorCounts& from) {
  for (int k = 0; k < kBenchErrorKinds; ++k) into[k] += from[k];
}

// What one completed call amounted to, operation by operation.
struct Tally {
  uint64_t ok = 0;
  uint64_t misses = 0;
  BenchErrorCounts failed{};
  BenchErrorCounts unknown{};

  bool any_error() const { return total_of(failed) + total_of(unknown) > 0; }
  // `ops` operations of `kind` ended with error `error_kind`; a write is
  // unknown unless its answer was definite.
  void add_error(RequestKind kind, int error_kind, bool definite, uint64_t ops) {
    (kind == RequestKind::kWrite && !definite ? unknown : failed)[error_kind] += ops;
  }
};

struct Stats {
  LatencyHistogram latency;
  uint64_t ops = 0;
  uint64_t rpcs = 0;
  uint64_t misses = 0;
  uint64_t redirects = 0;
  BenchErrorCounts failed{};
  BenchErrorCounts unknown{};

  void merge(const Stats& other) {
    latency.merge(other.latency);
    ops += other.ops;
    rpcs += other.rpcs;
    misses += other.misses;
    redirects += other.redirects;
    add_counts(failed, other.failed);
    add_counts(unknown, other.unknown);
  }
};

// Whether a write op of a Batch certainly did not happen. An op's NotLeader
// travels in its own field, not in status details: a FAILED_PRECONDITION
// op without one is not a refusal this client understands.
bool batch_write_outcome_is_definite(const v1::OpResult& r) {
  const auto code = static_cast<grpc::StatusCode>(r.code());
  if (code == grpc::StatusCode::FAILED_PRECONDITION) return r.has_not_leader();
  return write_outcome_is_definite(code, {});
}

// Preload order: every key index once, grouped by shard so that a batch
// holds one shard's keys and goes to one leader.
class PreloadPlan {
 public:
  PreloadPlan(const KeySpace& keys, uint32_t batch_ops) {
    std::vector<std::vector<uint32_t>> by_shard;
    for (uint64_t k = 0; k < keys.size(); ++k) {
      const uint32_t shard = keys.shard(k);
      if (shard >= by_shard.size()) by_shard.resize(shard + 1);
      by_shard[shard].push_back(static_cast<uint32_t>(k));
    }
    for (const auto& indices : by_shard) {
      for (size_t i = 0; i < indices.size(); i += batch_ops) {
        chunk_starts_.push_back(order_.size() + i);
      }
      order_.insert(order_.end(), indices.begin(), indices.end());
    }
    chunk_starts_.push_back(order_.size());
  }

  // The next chunk's key indices; false when every chunk was handed out.
  bool next(std::vector<uint64_t>* out) {
    const size_t c = next_.fetch_add(1, std::memory_order_relaxed);
    if (c + 1 >= chunk_starts_.size()) return false;
    out->assign(order_.begin() + chunk_starts_[c], order_.begin() + chunk_starts_[c + 1]);
    return true;
  }

 private:
  std::vector<uint32_t> order_;
  std::vector<size_t> chunk_starts_;  // chunk c is order_[starts[c], starts[c+1])
  std::atomic<size_t> next_{0};
};

enum class Call { kSet, kGet, kBatch, kPut, kRange };

RequestKind kind_of(Call call) {
  return call == Call::kGet || call == Call::kRange ? RequestKind::kRead : RequestKind::kWrite;
}

RequestKind kind_of(const v1::Op& op) {
  return op.has_get() ? RequestKind::kRead : RequestKind::kWrite;
}
enum class SlotState { kIdle, kRpc, kBackoff };

struct Group;

// One closed-loop client: at most one request in flight.
struct Slot {
  uint32_t id = 0;
  Group* group = nullptr;
  BenchRng rng{0};
  SlotState state = SlotState::kIdle;
  Call call = Call::kSet;
  uint32_t shard = 0;
  int address = 0;
  int hops = 0;
  SteadyClock::time_point started;
  uint64_t batch_ok = 0;      // ops of this batch that succeeded on an earlier hop
  uint64_t batch_misses = 0;
  std::vector<uint64_t> chunk;  // preload key indices
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::Alarm> alarm;
  grpc::Status status;

  v1::SetRequest set_req;
  v1::SetResponse set_resp;
  v1::GetRequest get_req;
  v1::GetResponse get_resp;
  v1::BatchRequest batch_req;
  v1::BatchResponse batch_resp;
  etcdserverpb::PutRequest put_req;
  etcdserverpb::PutResponse put_resp;
  etcdserverpb::RangeRequest range_req;
  etcdserverpb::RangeResponse range_resp;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::SetResponse>> set_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetResponse>> get_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::BatchResponse>> batch_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::RangeResponse>> range_reader;
};

struct Group {
  grpc::CompletionQueue cq;
  std::vector<Slot*> slots;
  int active = 0;  // slots not idle; touched by the polling thread only
  // Fires at the run's cut-off; its tag is the alarm itself. Set, cancelled
  // and handled by the polling thread only.
  grpc::Alarm cut_off_alarm;
  bool cut_off = false;  // the in-flight calls were cancelled; polling thread only
  std::mutex mutex;
  Stats stats;     // guarded by mutex
  std::thread thread;
};

class Engine {
 public:
  Engine(const BenchOptions& options, const KeySpace& keys, BenchConnections& conns,
         std::vector<int> defaults, PreloadPlan* plan, SystemClock::time_point cut_off)
      : o_(options),
        keys_(keys),
        conns_(conns),
        defaults_(std::move(defaults)),
        plan_(plan),
        cut_off_(cut_off),
        value_(options.value_bytes, 'v') {
    // Values vary a little so that a compressing transport or store would
    // not look better than it is.
    BenchRng fill(0x5eed);
    for (char& c : value_) c = static_cast<char>('a' + fill.below(26));
    uint32_t threads = o_.threads;
    if (threads == 0) {
      threads = std::max(1u, std::min(o_.connections, std::thread::hardware_concurrency()));
    }
    threads = std::min(threads, o_.clients);
    groups_.resize(threads);
    for (auto& g : groups_) g = std::make_unique<Group>();
    slots_.resize(o_.clients);
    for (uint32_t i = 0; i < o_.clients; ++i) {
      slots_[i] = std::make_unique<Slot>();
      Slot& s = *slots_[i];
      s.id = i;
      s.rng = BenchRng(0x9E3779B97F4A7C15ull * (i + 1));
      s.group = groups_[i % threads].get();
      s.group->slots.push_back(&s);
    }
  }

  ~Engine() { join(); }

  uint32_t threads() const { return static_cast<uint32_t>(groups_.size()); }

  void start() {
    for (auto& g : groups_) {
      Group* group = g.get();
      group->thread = std::thread([this, group] { poll(*group); });
    }
  }

  // No request is issued after this; those in flight end by their deadline,
  // or are cancelled at the cut-off.
  void stop() { stopping_.store(true, std::memory_order_relaxed); }

  // Blocks until every polling thread ended or `until` passed; true when all ended.
  bool wait_finished(SteadyClock::time_point until) {
    std::unique_lock<std::mutex> lock(finished_mutex_);
    return finished_cv_.wait_until(lock, until, [&] { return finished_ == groups_.size(); });
  }

  void join() {
    for (auto& g : groups_) {
      if (g->thread.joinable()) g->thread.join();
    }
  }

  Stats take() {
    Stats out;
    for (auto& g : groups_) {
      Stats mine;
      {
        std::lock_guard<std::mutex> lock(g->mutex);
        std::swap(mine, g->stats);
      }
      out.merge(mine);
    }
    return out;
  }

 private:
  void poll(Group& g) {
    g.cut_off_alarm.Set(&g.cq, cut_off_, &g.cut_off_alarm);
    for (Slot* s : g.slots) {
      ++g.active;
      issue_next(*s);
    }
    bool shut_down = false;
    auto shut_down_when_idle = [&] {
      if (g.active != 0 || shut_down) return;
      g.cut_off_alarm.Cancel();  // delivers its tag at once, with ok false
      g.cq.Shutdown();           // Next drains what is left, then returns false
      shut_down = true;
    };
    shut_down_when_idle();
    void* tag = nullptr;
    bool ok = false;
    while (g.cq.Next(&tag, &ok)) {
      if (tag == &g.cut_off_alarm) {
        if (ok) cut_off_in_flight(g);
        continue;
      }
      Slot& s = *static_cast<Slot*>(tag);
      if (s.state == SlotState::kRpc) {
        on_rpc_done(s);
      } else {
        issue_next(s);
      }
      shut_down_when_idle();
    }
    {
      std::lock_guard<std::mutex> lock(finished_mutex_);
      ++finished_;
    }
    finished_cv_.notify_all();
  }

  // The run is over and its last deadline passed: whatever is still in
  // flight will not be waited for any longer. Each cancelled call completes
  // with an error and is counted as cut short.
  void cut_off_in_flight(Group& g) {
    if (!stopping_.load(std::memory_order_relaxed)) return;  // the run has not ended
    g.cut_off = true;
    for (Slot* s : g.slots) {
      if (s->state == SlotState::kRpc) s->ctx->TryCancel();
    }
  }

  void go_idle(Slot& s) {
    s.state = SlotState::kIdle;
    --s.group->active;
  }

  void issue_next(Slot& s) {
    if (stopping_.load(std::memory_order_relaxed)) return go_idle(s);
    if (plan_ != nullptr) {
      if (!plan_->next(&s.chunk)) return go_idle(s);
      fill_preload(s);
    } else {
      fill_random(s);
    }
    s.hops = 0;
    s.batch_ok = 0;
    s.batch_misses = 0;
    s.started = SteadyClock::now();
    send(s);
  }

  void fill_set(v1::SetRequest* r, uint64_t k) {
    r->set_user(keys_.user(k));
    r->set_key(keys_.key(k));
    r->set_value(value_);
  }
  void fill_get(v1::GetRequest* r, uint64_t k) {
    r->set_user(keys_.user(k));
    r->set_key(keys_.key(k));
    r->set_consistency(o_.stale_reads ? v1::STALE : v1::LINEARIZABLE);
  }

  void fill_random(Slot& s) {
    const uint64_t first = keys_.random_index(s.rng);
    s.shard = keys_.shard(first);
    if (o_.target == BenchTarget::kEtcd) {
      const std::string key = keys_.user(first) + "/" + keys_.key(first);
      if (next_is_get(o_, s.rng)) {
        s.call = Call::kRange;
        s.range_req.set_key(key);
        s.range_req.set_serializable(o_.stale_reads);
      } else {
        s.call = Call::kPut;
        s.put_req.set_key(key);
        s.put_req.set_value(value_);
      }
      return;
    }
    if (o_.pipeline <= 1) {
      if (next_is_get(o_, s.rng)) {
        s.call = Call::kGet;
        fill_get(&s.get_req, first);
      } else {
        s.call = Call::kSet;
        fill_set(&s.set_req, first);
      }
      return;
    }
    s.call = Call::kBatch;
    auto* ops = s.batch_req.mutable_ops();
    while (ops->size() > static_cast<int>(o_.pipeline)) ops->RemoveLast();
    while (ops->size() < static_cast<int>(o_.pipeline)) ops->Add();
    for (int i = 0; i < ops->size(); ++i) {
      const uint64_t k = i == 0 ? first : keys_.random_index_in_shard_of(first, s.rng);
      v1::Op& op = (*ops)[i];
      if (next_is_get(o_, s.rng)) {
        fill_get(op.mutable_get(), k);
      } else {
        fill_set(op.mutable_set(), k);
      }
    }
  }

  void fill_preload(Slot& s) {
    s.shard = keys_.shard(s.chunk.front());
    if (o_.target == BenchTarget::kEtcd) {
      s.call = Call::kPut;
      s.put_req.set_key(keys_.user(s.chunk.front()) + "/" + keys_.key(s.chunk.front()));
      s.put_req.set_value(value_);
    } else if (s.chunk.size() == 1) {
      s.call = Call::kSet;
      fill_set(&s.set_req, s.chunk.front());
    } else {
      s.call = Call::kBatch;
      s.batch_req.clear_ops();
      for (uint64_t k : s.chunk) fill_set(s.batch_req.add_ops()->mutable_set(), k);
    }
  }

  int route(const Slot& s) const {
    if (o_.target == BenchTarget::kMq) {
      const int leader = conns_.leader(s.shard);
      if (leader >= 0) return leader;
    }
    return defaults_[s.id % defaults_.size()];
  }

  void send(Slot& s) {
    s.address = route(s);
    // etcd members all serve every key: slots spread over the endpoints,
    // then over each endpoint's connections.
    const uint32_t channel = o_.target == BenchTarget::kEtcd
                                 ? s.id / static_cast<uint32_t>(defaults_.size())
                                 : s.id;
    s.ctx = std::make_unique<grpc::ClientContext>();
    // The full timeout even near the end of the run: a request cut short by
    // the run's end would end without an answer, and a write without an
    // answer is one whose outcome is unknown.
    s.ctx->set_deadline(SystemClock::now() + std::chrono::milliseconds(o_.timeout_ms));
    if (!bearer_.empty()) s.ctx->AddMetadata("authorization", bearer_);
    s.state = SlotState::kRpc;
    grpc::CompletionQueue* cq = &s.group->cq;
    switch (s.call) {
      case Call::kSet:
        s.set_reader = conns_.mq_stub(s.address, channel).AsyncSet(s.ctx.get(), s.set_req, cq);
        s.set_reader->Finish(&s.set_resp, &s.status, &s);
        break;
      case Call::kGet:
        s.get_reader = conns_.mq_stub(s.address, channel).AsyncGet(s.ctx.get(), s.get_req, cq);
        s.get_reader->Finish(&s.get_resp, &s.status, &s);
        break;
      case Call::kBatch:
        s.batch_reader =
            conns_.mq_stub(s.address, channel).AsyncBatch(s.ctx.get(), s.batch_req, cq);
        s.batch_reader->Finish(&s.batch_resp, &s.status, &s);
        break;
      case Call::kPut:
        s.put_reader = conns_.etcd_stub(s.address, channel).AsyncPut(s.ctx.get(), s.put_req, cq);
        s.put_reader->Finish(&s.put_resp, &s.status, &s);
        break;
      case Call::kRange:
        s.range_reader =
            conns_.etcd_stub(s.address, channel).AsyncRange(s.ctx.get(), s.range_req, cq);
        s.range_reader->Finish(&s.range_resp, &s.status, &s);
        break;
    }
  }

  // An answer names the shard's leader: the next request for the shard goes
  // there directly, whether this answer came from it or (a stale read, a
  // forwarded request) from another node.
  void learn_leader(const Slot& s, const v1::ResponseHeader& header) {
    const std::string& answered_by = conns_.address(s.address);
    const std::string named = cli::leader_named_by(header, answered_by);
    int leader = s.address;
    if (named != answered_by) {
      leader = conns_.index_of(named);
      if (leader < 0) leader = s.address;
    }
    conns_.set_leader(header.shard(), leader);
  }

  // Follows a NotLeader hint: true when the request was sent again.
  bool follow(Slot& s, const v1::NotLeader& hint) {
    const std::string to = cli::hint_target(hint, conns_.address(s.address), s.hops);
    if (to.empty() || stopping_.load(std::memory_order_relaxed)) return false;
    const int leader = conns_.index_of(to);
    if (leader < 0) return false;
    conns_.set_leader(hint.shard(), leader);
    ++s.hops;
    {
      std::lock_guard<std::mutex> lock(s.group->mutex);
      ++s.group->stats.redirects;
    }
    send(s);
    return true;
  }

  // Counts the call's operations and moves the slot on: the next request,
  // a back-off after an error, or idle once the run is over.
  void finish(Slot& s, const Tally& t) {
    const uint64_t latency_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - s.started)
            .count());
    {
      std::lock_guard<std::mutex> lock(s.group->mutex);
      Stats& st = s.group->stats;
      ++st.rpcs;
      if (t.ok > 0) {
        st.latency.record(latency_us, t.ok);
        st.ops += t.ok;
        st.misses += t.misses;
      }
      add_counts(st.failed, t.failed);
      add_counts(st.unknown, t.unknown);
    }
    if (!t.any_error()) return issue_next(s);
    constexpr int kUnavailable = static_cast<int>(grpc::StatusCode::UNAVAILABLE);
    if (t.failed[kUnavailable] + t.unknown[kUnavailable] + t.failed[kBenchErrorNoLeader] > 0) {
      conns_.forget_leader(s.shard, s.address);
    }
    if (stopping_.load(std::memory_order_relaxed)) return go_idle(s);
    s.state = SlotState::kBackoff;
    s.alarm = std::make_unique<grpc::Alarm>();
    s.alarm->Set(&s.group->cq, SystemClock::now() + kErrorBackoff, &s);
  }

  // A call cancelled at the cut-off: its writes may or may not have
  // happened, its reads failed.
  void on_cut_short(Slot& s) {
    Tally t;
    if (s.call == Call::kBatch) {
      t.ok = s.batch_ok;
      t.misses = s.batch_misses;
      for (const v1::Op& op : s.batch_req.ops()) {
        t.add_error(kind_of(op), kBenchErrorCutShort, false, 1);
      }
    } else {
      t.add_error(kind_of(s.call), kBenchErrorCutShort, false, 1);
    }
    finish(s, t);
  }

  void on_rpc_done(Slot& s) {
    const grpc::Status& st = s.status;
    if (!st.ok() && s.group->cut_off) return on_cut_short(s);
    const int code = static_cast<int>(st.error_code());
    Tally t;
    switch (s.call) {
      case Call::kSet:
      case Call::kGet: {
        if (st.ok()) {
          learn_leader(s, s.call == Call::kSet ? s.set_resp.header() : s.get_resp.header());
          t.ok = 1;
          t.misses = s.call == Call::kGet && !s.get_resp.found();
          return finish(s, t);
        }
        if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
          v1::NotLeader hint;
          if (hint.ParseFromString(st.error_details())) {
            if (follow(s, hint)) return;
            // Refused by a non-leader: certainly not done.
            t.add_error(kind_of(s.call), kBenchErrorNoLeader, true, 1);
            return finish(s, t);
          }
        }
        t.add_error(kind_of(s.call), code,
                    write_outcome_is_definite(st.error_code(), st.error_details()), 1);
        return finish(s, t);
      }
      case Call::kBatch:
        return on_batch_done(s);
      case Call::kPut:
      case Call::kRange:
        if (st.ok()) {
          t.ok = 1;
          t.misses = s.call == Call::kRange && s.range_resp.kvs_size() == 0;
          return finish(s, t);
        }
        t.add_error(kind_of(s.call), code,
                    write_outcome_is_definite(st.error_code(), st.error_details()), 1);
        return finish(s, t);
    }
  }

  void on_batch_done(Slot& s) {
    const grpc::Status& st = s.status;
    Tally t;
    t.ok = s.batch_ok;
    t.misses = s.batch_misses;
    if (!st.ok()) {
      const int code = static_cast<int>(st.error_code());
      const bool definite = write_outcome_is_definite(st.error_code(), st.error_details());
      for (const v1::Op& op : s.batch_req.ops()) t.add_error(kind_of(op), code, definite, 1);
      return finish(s, t);
    }
    std::vector<int> not_leader;  // indices of ops refused by a non-leader
    bool learned = false;
    const int n = std::min(s.batch_resp.results_size(), s.batch_req.ops_size());
    for (int i = 0; i < n; ++i) {
      const v1::OpResult& r = s.batch_resp.results(i);
      const RequestKind kind = kind_of(s.batch_req.ops(i));
      if (r.code() == 0) {
        ++t.ok;
        if (r.has_get() && !r.get().found()) ++t.misses;
        if (!learned) {
          const auto& header = r.has_set() ? r.set().header()
                               : r.has_get() ? r.get().header()
                                             : r.delete_().header();
          learn_leader(s, header);
          learned = true;
        }
      } else if (r.code() == static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION) &&
                 r.has_not_leader()) {
        not_leader.push_back(i);
      } else if (r.code() > 0 && r.code() < kBenchErrorNoLeader) {
        t.add_error(kind, r.code(), batch_write_outcome_is_definite(r), 1);
      } else {
        // Not a gRPC code: nothing says what became of the op.
        t.add_error(kind, static_cast<int>(grpc::StatusCode::UNKNOWN), false, 1);
      }
    }
    // A response with fewer results than ops is a server bug; the missing
    // ops are counted, as writes that may have happened, rather than lost.
    for (int i = n; i < s.batch_req.ops_size(); ++i) {
      t.add_error(kind_of(s.batch_req.ops(i)), static_cast<int>(grpc::StatusCode::INTERNAL),
                  false, 1);
    }
    if (!not_leader.empty()) {
      const v1::NotLeader hint = s.batch_resp.results(not_leader.front()).not_leader();
      // Every op of a batch is in one shard, so one hint speaks for all.
      v1::BatchRequest retry;
      for (int i : not_leader) retry.add_ops()->Swap(s.batch_req.mutable_ops(i));
      if (!t.any_error()) {
        s.batch_req.Swap(&retry);
        s.batch_ok = t.ok;
        s.batch_misses = t.misses;
        if (follow(s, hint)) return;
        retry.Swap(&s.batch_req);
      }
      // Refused by a non-leader: certainly not done, reads and writes alike.
      t.failed[kBenchErrorNoLeader] += not_leader.size();
      // The refused ops went into `retry`; the request is rebuilt next time.
      s.batch_req.clear_ops();
    }
    finish(s, t);
  }

  const BenchOptions& o_;
  // "Bearer TOKEN", made once, not per request.
  const std::string bearer_ = o_.token.empty() ? std::string() : "Bearer " + o_.token;
  const KeySpace& keys_;
  BenchConnections& conns_;
  const std::vector<int> defaults_;
  PreloadPlan* const plan_;
  const SystemClock::time_point cut_off_;
  std::string value_;
  std::vector<std::unique_ptr<Group>> groups_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<bool> stopping_{false};
  std::mutex finished_mutex_;
  std::condition_variable finished_cv_;
  size_t finished_ = 0;  // guarded by finished_mutex_
};

std::string format_ms(uint64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(us) / 1000.0);
  return buf;
}

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

BenchRunStatus run_engine(const BenchOptions& o, uint32_t preload_batch_ops, double warmup_s,
                          double duration_s, const BenchProgress& progress, BenchResult* result,
                          const BenchStopFlag* stop) {
  *result = BenchResult{};
  BenchConnections conns(o.connections, o.shard_count, kDialTimeoutMs, o.tls);
  std::vector<int> defaults;
  for (const auto& e : o.endpoints) {
    const int index = conns.index_of(e);
    if (index >= 0 && conns.probe(index)) {
      defaults.push_back(index);
    } else {
      result->unreachable.push_back(e);
    }
  }
  if (defaults.empty()) return BenchRunStatus::kNoEndpoint;

  KeySpace keys(o);
  std::unique_ptr<PreloadPlan> plan;
  if (preload_batch_ops > 0) plan = std::make_unique<PreloadPlan>(keys, preload_batch_ops);

  const auto start = SteadyClock::now();
  const auto planned_measure = start + std::chrono::duration_cast<SteadyClock::duration>(
                                           std::chrono::duration<double>(warmup_s));
  const auto planned_end = planned_measure + std::chrono::duration_cast<SteadyClock::duration>(
                                                 std::chrono::duration<double>(duration_s));
  // A request issued just before the end has its deadline one timeout
  // later; the cut-off comes only after that.
  const auto cut_off = SystemClock::now() +
                       std::chrono::duration_cast<SystemClock::duration>(
                           std::chrono::duration<double>(warmup_s + duration_s)) +
                       std::chrono::milliseconds(o.timeout_ms + kBenchCutOffGraceMs);
  Engine engine(o, keys, conns, defaults, plan.get(), cut_off);
  result->threads = engine.threads();
  engine.start();

  Stats warm, total;
  bool measuring = warmup_s <= 0;
  auto measure_start = start;
  auto last_take = start;
  auto next_tick = start + std::chrono::seconds(1);
  bool finished = false;
  while (!finished) {
    const auto boundary = measuring ? planned_end : planned_measure;
    const auto stop_poll = SteadyClock::now() + std::chrono::milliseconds(kBenchStopPollMs);
    finished = engine.wait_finished(std::min({next_tick, boundary, stop_poll}));
    const auto now = SteadyClock::now();
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
      result->interrupted = true;
      break;
    }
    if (!measuring && now >= planned_measure && !finished) {
      warm.merge(engine.take());
      measuring = true;
      measure_start = last_take = now;
      next_tick = now + std::chrono::seconds(1);
      continue;
    }
    if (measuring && now >= planned_end) break;
    if (now < next_tick && !finished) continue;
    Stats interval = engine.take();
    Stats& into = measuring ? total : warm;
    into.merge(interval);
    const double length_s = seconds_between(last_take, now);
    if (measuring) {
      result->timeline.push_back({seconds_between(measure_start, now), length_s, interval.ops,
                                  total_of(interval.failed), total_of(interval.unknown),
                                  interval.latency.percentile_us(0.5),
                                  interval.latency.percentile_us(0.99)});
    }
    last_take = now;
    next_tick += std::chrono::seconds(1);
    if (progress) {
      char line[200];
      const double t = measuring ? seconds_between(measure_start, now) : seconds_between(start, now);
      std::snprintf(line, sizeof line,
                    "[%s %4.0fs] %10.0f ops/s  %llu failed  %llu unknown  p99 %s ms",
                    measuring ? "run" : "warm-up", t,
                    length_s > 0 ? static_cast<double>(interval.ops) / length_s : 0.0,
                    static_cast<unsigned long long>(total_of(into.failed)),
                    static_cast<unsigned long long>(total_of(into.unknown)),
                    format_ms(into.latency.percentile_us(0.99)).c_str());
      progress(line);
    }
  }
  // Waits for the requests still in flight: each ends by its deadline, or
  // is cancelled at the cut-off.
  engine.stop();
  engine.join();
  const auto now = SteadyClock::now();
  Stats last = engine.take();
  if (!measuring) {
    // Ended (every preload key written, or stopped) before the warm-up was
    // over: the warm-up is what was measured.
    measuring = true;
    total.merge(warm);
    measure_start = start;
  }
  total.merge(last);
  const double length_s = seconds_between(last_take, now);
  if (length_s > 0.001 || last.ops > 0) {
    result->timeline.push_back({seconds_between(measure_start, now), length_s, last.ops,
                                total_of(last.failed), total_of(last.unknown),
                                last.latency.percentile_us(0.5), last.latency.percentile_us(0.99)});
  }
  result->elapsed_s = seconds_between(measure_start, now);
  result->ops = total.ops;
  result->rpcs = total.rpcs;
  result->get_misses = total.misses;
  result->leader_redirects = total.redirects;
  result->failed = total.failed;
  result->unknown = total.unknown;
  result->latency = std::move(total.latency);
  return BenchRunStatus::kRan;
}

}  // namespace

const char* bench_error_name(int kind) {
  if (kind == kBenchErrorNoLeader) return "no_leader";
  if (kind == kBenchErrorCutShort) return "cut_short";
  return status_code_name(kind);
}

uint64_t total_of(const BenchErrorCounts& counts) {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

BenchRunStatus run_bench(const BenchOptions& options, const BenchProgress& progress,
                         BenchResult* result, const BenchStopFlag* stop) {
  return run_engine(options, 0, options.warmup_s, options.duration_s, progress, result, stop);
}

BenchRunStatus run_preload(const BenchOptions& options, uint32_t batch_ops, double time_limit_s,
                           const BenchProgress& progress, BenchResult* result,
                           const BenchStopFlag* stop) {
  BenchOptions o = options;
  o.workload = BenchWorkload::kSet;
  if (o.target == BenchTarget::kEtcd) batch_ops = 1;
  return run_engine(o, std::max(1u, batch_ops), 0, time_limit_s, progress, result, stop);
}

}  // namespace mq::bench
