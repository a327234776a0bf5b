#include <catch2/catch.hpp>

#include "node/raft/codec.h"
#include "node/raft/prng.h"

using namespace mq::raft;

namespace {

Message sample_snap() {
  Message m;
  m.type = MessageType::kSnap;
  m.from = 3;
  m.to = 1;
  m.term = 1ULL << 40;
  m.snapshot_meta.index = 77;
  m.snapshot_meta.term = 5;
  m.snapshot_meta.voters = {1, 2, 3};
  m.snapshot_meta.learners = {9};
  m.snapshot_offset = 4096;
  m.snapshot_chunk = std::string("\0\x01\xff chunk", 9);
  m.snapshot_done = true;
  return m;
}

Message sample_app() {
  Message m;
  m.type = MessageType::kApp;
  m.from = 1;
  m.to = 2;
  m.term = 7;
  m.log_term = 6;
  m.index = 300;
  m.commit = 299;
  m.context = "ctx";
  for (uint64_t i = 0; i < 3; ++i) {
    Entry e;
    e.term = 7;
    e.index = 301 + i;
    e.type = i == 1 ? EntryType::kConfChange : EntryType::kNormal;
    e.data = std::string(i * 200, 'x');
    m.entries.push_back(e);
  }
  return m;
}

void require_equal(const Message& a, const Message& b) {
  REQUIRE(a.type == b.type);
  REQUIRE(a.from == b.from);
  REQUIRE(a.to == b.to);
  REQUIRE(a.term == b.term);
  REQUIRE(a.log_term == b.log_term);
  REQUIRE(a.index == b.index);
  REQUIRE(a.commit == b.commit);
  REQUIRE(a.reject == b.reject);
  REQUIRE(a.reject_hint == b.reject_hint);
  REQUIRE(a.context == b.context);
  REQUIRE(a.entries.size() == b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    REQUIRE(a.entries[i].term == b.entries[i].term);
    REQUIRE(a.entries[i].index == b.entries[i].index);
    REQUIRE(a.entries[i].type == b.entries[i].type);
    REQUIRE(a.entries[i].data == b.entries[i].data);
  }
  REQUIRE(a.snapshot_meta.index == b.snapshot_meta.index);
  REQUIRE(a.snapshot_meta.term == b.snapshot_meta.term);
  REQUIRE(a.snapshot_meta.voters == b.snapshot_meta.voters);
  REQUIRE(a.snapshot_meta.learners == b.snapshot_meta.learners);
  REQUIRE(a.snapshot_offset == b.snapshot_offset);
  REQUIRE(a.snapshot_chunk == b.snapshot_chunk);
  REQUIRE(a.snapshot_done == b.snapshot_done);
}

}  // namespace

TEST_CASE("codec round-trips every message field", "[codec]") {
  for (const Message& m : {sample_app(), sample_snap()}) {
    Message back;
    std::string err;
    REQUIRE(decode(encode(m), &back, &err));
    REQUIRE(err.empty());
    require_equal(m, back);
  }
  Message rej;
  rej.type = MessageType::kAppResp;
  rej.reject = true;
  rej.reject_hint = UINT64_MAX;
  rej.from = 2;
  rej.to = 1;
  Message back;
  REQUIRE(decode(encode(rej), &back));
  require_equal(rej, back);
}

TEST_CASE("codec round-trips a single entry", "[codec]") {
  Entry e;
  e.term = 3;
  e.index = 1ULL << 63;
  e.type = EntryType::kConfChange;
  e.data = "abc";
  Entry back;
  REQUIRE(decode(encode(e), &back));
  REQUIRE(back.term == e.term);
  REQUIRE(back.index == e.index);
  REQUIRE(back.type == e.type);
  REQUIRE(back.data == e.data);
}

TEST_CASE("codec rejects every truncation of a valid message", "[codec]") {
  for (const Message& m : {sample_app(), sample_snap()}) {
    const std::string bytes = encode(m);
    for (size_t n = 0; n < bytes.size(); ++n) {
      Message back;
      std::string err;
      CHECK_FALSE(decode(std::string_view(bytes).substr(0, n), &back, &err));
      CHECK_FALSE(err.empty());
    }
  }
}

TEST_CASE("codec rejects trailing bytes, bad versions, types and flags", "[codec]") {
  const std::string good = encode(sample_app());
  Message back;
  std::string err;
  CHECK_FALSE(decode(good + "x", &back, &err));
  CHECK(err.find("trailing") != std::string::npos);
  std::string bad = good;
  bad[0] = 2;
  CHECK_FALSE(decode(bad, &back, &err));
  CHECK(err.find("version") != std::string::npos);
  bad = good;
  bad[1] = 99;
  CHECK_FALSE(decode(bad, &back, &err));
  bad = good;
  bad[2] = 4;
  CHECK_FALSE(decode(bad, &back, &err));
}

TEST_CASE("codec rejects a forged huge length without allocating it", "[codec]") {
  // version, type App, flags, seven zero varints, then a context length of 2^62.
  std::string forged = {1, 5, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) forged.push_back(static_cast<char>(0xff));
  forged.push_back(0x3f);
  Message back;
  std::string err;
  CHECK_FALSE(decode(forged, &back, &err));
  CHECK(err.find("context") != std::string::npos);
  // An entry count far beyond the bytes that follow.
  std::string counted = {1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  counted += "\xff\xff\xff\x7f";
  CHECK_FALSE(decode(counted, &back, &err));
  CHECK(err.find("count") != std::string::npos);
}

TEST_CASE("codec survives random garbage and random corruption", "[codec]") {
  Prng prng(42);
  const std::string good = encode(sample_snap());
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    if (round % 2 == 0) {
      const size_t n = prng.uniform(64);
      for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(prng.uniform(256)));
    } else {
      bytes = good;
      bytes[prng.uniform(bytes.size())] = static_cast<char>(prng.uniform(256));
    }
    Message back;
    decoded += decode(bytes, &back) ? 1 : 0;  // must return, never crash
  }
  CHECK(decoded < 20000);
}
