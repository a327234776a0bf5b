#include <catch2/catch.hpp>

#include "node/server/read_lease.h"

using mq::server::ReadLease;
using namespace std::chrono_literals;

namespace {
const ReadLease::Clock::time_point t0 = ReadLease::Clock::time_point() + 1h;
}

TEST_CASE("the lease is 80% of the election timeout less two ticks", "[read_lease]") {
  CHECK(ReadLease::vote_refusal(20, 10) == 180ms);
  CHECK(ReadLease::length_for(ReadLease::vote_refusal(20, 10)) == 144ms);
  CHECK(ReadLease::length_for(ReadLease::vote_refusal(10, 100)) == 640ms);
  CHECK(ReadLease::length_for(ReadLease::vote_refusal(2, 10)) == 0ms);
}

TEST_CASE("a disabled lease never holds", "[read_lease]") {
  ReadLease lease(false);
  lease.confirmed(3, t0, 42, 100ms);
  CHECK_FALSE(lease.read_index(3, t0));
}

TEST_CASE("each round's lease is as long as the length it was confirmed with", "[read_lease]") {
  ReadLease lease(true);
  lease.confirmed(3, t0, 42, 100ms);
  lease.confirmed(3, t0 + 10ms, 43, 20ms);  // a peer with a shorter window answered
  CHECK(lease.read_index(3, t0 + 50ms) == 43u);  // the earlier round's lease still stands
  CHECK_FALSE(lease.read_index(3, t0 + 100ms));
}

TEST_CASE("a lease runs from the issue of the confirming round, not its answer", "[read_lease]") {
  ReadLease lease(true);
  CHECK_FALSE(lease.read_index(3, t0));
  lease.confirmed(3, t0, 42, 100ms);
  REQUIRE(lease.read_index(3, t0 + 10ms) == 42u);
  CHECK(lease.read_index(3, t0 + 99ms) == 42u);
  CHECK_FALSE(lease.read_index(3, t0 + 100ms));
  CHECK_FALSE(lease.read_index(3, t0 + 5s));  // e.g. a process paused and resumed
}

TEST_CASE("a lease holds only in the term that earned it", "[read_lease]") {
  ReadLease lease(true);
  lease.confirmed(3, t0, 42, 100ms);
  CHECK_FALSE(lease.read_index(4, t0 + 1ms));
  lease.confirmed(4, t0 + 2ms, 50, 100ms);
  CHECK(lease.read_index(4, t0 + 3ms) == 50u);
  CHECK_FALSE(lease.read_index(3, t0 + 3ms));
}

TEST_CASE("later rounds extend the lease and raise its index", "[read_lease]") {
  ReadLease lease(true);
  lease.confirmed(3, t0, 42, 100ms);
  lease.confirmed(3, t0 + 60ms, 45, 100ms);
  CHECK(lease.read_index(3, t0 + 150ms) == 45u);
  // A late answer to an older round neither shortens nor lowers it.
  lease.confirmed(3, t0 + 10ms, 43, 100ms);
  CHECK(lease.read_index(3, t0 + 150ms) == 45u);
}

TEST_CASE("a leadership transfer voids the lease for the rest of the term", "[read_lease]") {
  ReadLease lease(true);
  lease.confirmed(3, t0, 42, 100ms);
  lease.forbid(3);
  CHECK_FALSE(lease.read_index(3, t0 + 1ms));
  lease.confirmed(3, t0 + 2ms, 43, 100ms);  // the transfer may still complete
  CHECK_FALSE(lease.read_index(3, t0 + 3ms));
  lease.confirmed(5, t0 + 4ms, 60, 100ms);  // leading again in a later term
  CHECK(lease.read_index(5, t0 + 5ms) == 60u);
}

TEST_CASE("reset ends the lease", "[read_lease]") {
  ReadLease lease(true);
  lease.confirmed(3, t0, 42, 100ms);
  lease.reset();
  CHECK_FALSE(lease.read_index(3, t0 + 1ms));
}

TEST_CASE("renewal is wanted once half the lease is gone", "[read_lease]") {
  ReadLease lease(true);
  CHECK_FALSE(lease.wants_renewal(3, t0));
  lease.confirmed(3, t0, 42, 100ms);
  CHECK_FALSE(lease.wants_renewal(3, t0 + 40ms));
  CHECK(lease.wants_renewal(3, t0 + 60ms));
  CHECK_FALSE(lease.wants_renewal(3, t0 + 120ms));  // lapsed: reads go through a round again
}

TEST_CASE("a zero-length lease never holds", "[read_lease]") {
  ReadLease lease(true);
  lease.confirmed(3, t0, 42, 0ms);
  CHECK_FALSE(lease.read_index(3, t0));
}
