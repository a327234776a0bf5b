#include "node/server/read_lease.h"

#include <algorithm>

namespace mq::server {

ReadLease::Clock::duration ReadLease::vote_refusal(int election_ticks, int tick_ms) {
  const int ticks = std::max(0, election_ticks - 2);
  return std::chrono::microseconds(static_cast<int64_t>(ticks) * tick_ms * 1000);
}

ReadLease::Clock::duration ReadLease::length_for(Clock::duration refusal, int factor) {
  return refusal * 8 / 10 * factor;
}

void ReadLease::confirmed(uint64_t term, Clock::time_point issued, uint64_t index,
                          Clock::duration length) {
  if (!enabled_ || term == forbidden_term_ || length <= Clock::duration::zero()) return;
  length_ = length;
  if (term != term_) {
    term_ = term;
    index_ = 0;
    until_ = {};
  }
  until_ = std::max(until_, issued + length_);
  index_ = std::max(index_, index);
}

void ReadLease::forbid(uint64_t term) {
  forbidden_term_ = term;
  if (term_ == term) until_ = {};
}

void ReadLease::reset() {
  term_ = 0;
  index_ = 0;
  until_ = {};
}

std::optional<uint64_t> ReadLease::read_index(uint64_t term, Clock::time_point now) const {
  if (term != term_ || term == forbidden_term_ || now >= until_) return std::nullopt;
  return index_;
}

bool ReadLease::wants_renewal(uint64_t term, Clock::time_point now) const {
  return read_index(term, now).has_value() && until_ - now < length_ / 2;
}

}  // namespace mq::server
