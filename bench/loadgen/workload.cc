#include "bench/loadgen/workload.h"

#include "node/kv/shard_hash.h"

namespace mq::bench {

KeySpace::KeySpace(const BenchOptions& o)
    : keys_(o.keys),
      users_(o.users),
      user_shard_(o.users),
      shard_users_(o.shard_count) {
  for (uint32_t u = 0; u < users_; ++u) {
    user_shard_[u] = kv::shard_of("user" + std::to_string(u), o.shard_count);
    shard_users_[user_shard_[u]].push_back(u);
  }
}

std::string KeySpace::user(uint64_t index) const { return "user" + std::to_string(index % users_); }

std::string KeySpace::key(uint64_t index) const { return "key" + std::to_string(index); }

uint64_t KeySpace::random_index_in_shard_of(uint64_t index, BenchRng& rng) const {
  const auto& users = shard_users_[shard(index)];
  // Indices of user u are u, u + users_, u + 2*users_, ... below keys_.
  const uint32_t u = users[rng.below(users.size())];
  const uint64_t per_user = (keys_ - u + users_ - 1) / users_;
  if (per_user == 0) return index;
  return u + rng.below(per_user) * users_;
}

bool next_is_get(const BenchOptions& o, BenchRng& rng) {
  switch (o.workload) {
    case BenchWorkload::kSet: return false;
    case BenchWorkload::kGet: return true;
    case BenchWorkload::kMix: return rng.unit() < o.read_ratio;
  }
  return false;
}

}  // namespace mq::bench
