// The peer transport's frames: what is encoded decodes, in one piece or a
// byte at a time; a truncated stream waits for more; garbage, a foreign
// version, a bad checksum or an oversized frame fail the stream with a
// reason; and no input, however mangled, crashes the decoder or makes it
// read outside its buffer (a seeded mutation loop here; the libFuzzer
// target tests/fuzz/peer_frame_fuzz.cc searches further).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "node/server/peer_frame.h"

using namespace mq::server;
using Catch::Matchers::Contains;

namespace {

// Feeds `bytes` in pieces of `piece` bytes and collects the frames.
FrameDecoder::Result decode_all(const std::vector<char>& bytes, size_t piece, size_t limit,
                                std::vector<std::pair<FrameKind, std::string>>* frames,
                                std::string* error) {
  FrameDecoder d(limit);
  size_t at = 0;
  while (true) {
    FrameDecoder::Frame f;
    const FrameDecoder::Result r = d.next(&f, error);
    if (r == FrameDecoder::Result::kFrame) {
      frames->emplace_back(f.kind, std::string(f.payload));
      continue;
    }
    if (r == FrameDecoder::Result::kError) return r;
    if (at == bytes.size()) return r;
    size_t room = 0;
    char* p = d.space(piece, &room);
    const size_t n = std::min({piece, room, bytes.size() - at});
    std::memcpy(p, bytes.data() + at, n);
    d.commit(n);
    at += n;
  }
}

}  // namespace

TEST_CASE("frames round-trip, whole or a byte at a time", "[peer][frame]") {
  std::vector<char> wire;
  append_frame(&wire, FrameKind::kHello, "hello");
  append_frame(&wire, FrameKind::kBatch, std::string(70'000, 'x'));
  append_frame(&wire, FrameKind::kBatch, "");
  append_frame(&wire, FrameKind::kRefusal, "go away");
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, wire.size()}) {
    std::vector<std::pair<FrameKind, std::string>> frames;
    std::string error;
    CHECK(decode_all(wire, piece, 1 << 20, &frames, &error) == FrameDecoder::Result::kNeedMore);
    REQUIRE(frames.size() == 4);
    CHECK(frames[0] == std::make_pair(FrameKind::kHello, std::string("hello")));
    CHECK(frames[1].second.size() == 70'000);
    CHECK(frames[2].second.empty());
    CHECK(frames[3] == std::make_pair(FrameKind::kRefusal, std::string("go away")));
  }
}

TEST_CASE("a payload serialized in place is sealed like an appended one", "[peer][frame]") {
  std::vector<char> a, b;
  append_frame(&a, FrameKind::kBatch, "payload");
  const size_t at = reserve_frame(&b);
  const std::string p = "payload";
  b.insert(b.end(), p.begin(), p.end());
  seal_frame(&b, at, FrameKind::kBatch);
  CHECK(a == b);
  CHECK(a.size() == kFrameHeaderBytes + 7);
}

TEST_CASE("a truncated frame waits for the rest", "[peer][frame]") {
  std::vector<char> wire;
  append_frame(&wire, FrameKind::kBatch, "0123456789");
  wire.pop_back();
  std::vector<std::pair<FrameKind, std::string>> frames;
  std::string error;
  CHECK(decode_all(wire, 3, 1 << 20, &frames, &error) == FrameDecoder::Result::kNeedMore);
  CHECK(frames.empty());
}

TEST_CASE("a bad stream fails with its reason, and stays failed", "[peer][frame]") {
  std::vector<char> good;
  append_frame(&good, FrameKind::kBatch, "0123456789");
  struct Case {
    const char* name;
    size_t offset;
    char value;
    const char* reason;
  };
  for (const Case& c : {Case{"magic", 0, 'X', "bad magic"}, Case{"version", 4, 9, "frame version 9"},
                        Case{"kind", 5, 42, "unknown frame kind 42"}, Case{"reserved", 6, 1, "reserved"},
                        Case{"payload", 20, '!', "checksum"}, Case{"crc", 12, 0, "checksum"}}) {
    INFO(c.name);
    std::vector<char> wire = good;
    if (wire[c.offset] == c.value) wire[c.offset] ^= 1;
    else wire[c.offset] = c.value;
    std::vector<std::pair<FrameKind, std::string>> frames;
    std::string error;
    CHECK(decode_all(wire, wire.size(), 1 << 20, &frames, &error) == FrameDecoder::Result::kError);
    CHECK_THAT(error, Contains(c.reason));
    CHECK(frames.empty());
  }
  // Garbage that is not even a header's worth is no error yet: more may come.
  std::vector<std::pair<FrameKind, std::string>> frames;
  std::string error;
  CHECK(decode_all({'G', 'E', 'T', ' '}, 4, 1 << 20, &frames, &error) == FrameDecoder::Result::kNeedMore);
  // An HTTP request at a peer port is refused as soon as a header is in.
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(decode_all(std::vector<char>(http.begin(), http.end()), 64, 1 << 20, &frames, &error) ==
        FrameDecoder::Result::kError);
  CHECK_THAT(error, Contains("bad magic"));
}

TEST_CASE("a frame above the limit fails before its payload is read", "[peer][frame]") {
  std::vector<char> wire;
  append_frame(&wire, FrameKind::kBatch, std::string(1025, 'x'));
  wire.resize(kFrameHeaderBytes);  // only the header: the limit is checked on it
  std::vector<std::pair<FrameKind, std::string>> frames;
  std::string error;
  CHECK(decode_all(wire, wire.size(), 1024, &frames, &error) == FrameDecoder::Result::kError);
  CHECK_THAT(error, Contains("1025 bytes exceeds the limit of 1024"));
}

// Mutated valid streams and random bytes: every outcome is a frame, a wait
// or an error, and every frame returned lies inside what was fed.
TEST_CASE("no input crashes the decoder", "[peer][frame]") {
  std::mt19937_64 rng(20261203);
  std::vector<char> base;
  append_frame(&base, FrameKind::kHello, "cluster n1");
  append_frame(&base, FrameKind::kBatch, std::string(300, 'b'));
  append_frame(&base, FrameKind::kBatch, "tail");
  size_t errors = 0, frames_seen = 0;
  for (int run = 0; run < 20'000; ++run) {
    std::vector<char> wire = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0: wire[rng() % wire.size()] = static_cast<char>(rng()); break;
        case 1: wire.resize(rng() % (wire.size() + 1)); break;
        case 2: wire.insert(wire.begin() + static_cast<long>(rng() % (wire.size() + 1)), static_cast<char>(rng())); break;
        default:
          for (int i = 0; i < 16; ++i) wire.push_back(static_cast<char>(rng()));
      }
      if (wire.empty()) wire.push_back(0);
    }
    std::vector<std::pair<FrameKind, std::string>> frames;
    std::string error;
    const size_t piece = 1 + rng() % 64;
    if (decode_all(wire, piece, 4096, &frames, &error) == FrameDecoder::Result::kError) {
      ++errors;
      CHECK_FALSE(error.empty());
    }
    for (const auto& f : frames) CHECK(f.second.size() <= wire.size());
    frames_seen += frames.size();
  }
  CHECK(errors > 1000);
  CHECK(frames_seen > 1000);
}
