#include "node/storage/record.h"

#include <catch2/catch.hpp>

namespace mq::storage {

TEST_CASE("every record type round-trips", "[record]") {
  std::string buf;
  append_segment_header(&buf, 42);
  raft::HardState hs{7, 3, 99};
  append_hard_state(&buf, 5, hs);
  raft::Entry e{6, 100, raft::EntryType::kConfChange, std::string("conf\0data", 9)};
  append_entry(&buf, 9, e);
  CHECK(buf.size() == kRecordHeaderBytes * 3 + 20 + 28 + entry_record_bytes(e) - kRecordHeaderBytes);

  RecordReader r(buf);
  REQUIRE(r.next() == RecordReader::Next::kRecord);
  CHECK(r.type() == RecordType::kSegmentHeader);
  SegmentHeader h;
  REQUIRE(decode_segment_header(r.payload(), &h));
  CHECK(h.magic == kSegmentMagic);
  CHECK(h.version == kSegmentFormatVersion);
  CHECK(h.seq == 42);

  REQUIRE(r.next() == RecordReader::Next::kRecord);
  CHECK(r.type() == RecordType::kHardState);
  uint32_t group = 0;
  raft::HardState got_hs;
  REQUIRE(decode_hard_state(r.payload(), &group, &got_hs));
  CHECK(group == 5);
  CHECK(got_hs.term == 7);
  CHECK(got_hs.vote == 3);
  CHECK(got_hs.commit == 99);

  REQUIRE(r.next() == RecordReader::Next::kRecord);
  CHECK(r.type() == RecordType::kEntry);
  raft::Entry got;
  REQUIRE(decode_entry(r.payload(), &group, &got));
  CHECK(group == 9);
  CHECK(got.term == 6);
  CHECK(got.index == 100);
  CHECK(got.type == raft::EntryType::kConfChange);
  CHECK(got.data == e.data);
  CHECK(r.next() == RecordReader::Next::kEnd);
}

TEST_CASE("the magic spells MQWALSEG in the file", "[record]") {
  std::string buf;
  append_segment_header(&buf, 1);
  CHECK(buf.substr(kRecordHeaderBytes, 8) == "MQWALSEG");
}

TEST_CASE("reader reports incomplete and damaged records", "[record]") {
  std::string buf;
  append_hard_state(&buf, 1, raft::HardState{1, 1, 1});
  const size_t first_len = buf.size();
  append_hard_state(&buf, 2, raft::HardState{2, 2, 2});

  for (size_t cut = first_len + 1; cut < buf.size(); ++cut) {
    RecordReader r(std::string_view(buf).substr(0, cut));
    REQUIRE(r.next() == RecordReader::Next::kRecord);
    CHECK(r.next() == RecordReader::Next::kIncomplete);
    CHECK(r.offset() == first_len);
  }
  for (size_t flip = 0; flip < first_len; ++flip) {
    std::string damaged = buf;
    damaged[flip] ^= 0x10;
    RecordReader r(damaged);
    const auto n = r.next();
    CHECK(n != RecordReader::Next::kRecord);
  }
}

}  // namespace mq::storage
