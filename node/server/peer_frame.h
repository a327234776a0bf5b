// The peer transport's wire format: length-prefixed frames over one TCP
// connection per node pair and direction. Every frame is a 16-byte header
// and a payload, little-endian:
//
//   0  magic    u32  "MQPF" (0x4650514D): not an mq peer, not a frame
//   4  version  u8   kFrameVersion; a frame of another version is refused
//   5  kind     u8   FrameKind
//   6  reserved u16  0
//   8  length   u32  payload bytes, at most the decoder's limit
//   12 crc      u32  CRC32C of header bytes 0..11 and the payload
//
// A connection opens with a kHello frame (peer::PeerHello: cluster and
// node) and then carries kBatch frames (peer::PeerBatch). A receiver that
// refuses the hello answers with one kRefusal frame (the reason, as text)
// and closes. Anything that fails to decode closes the connection: TCP
// does not corrupt bytes, so a bad frame means a confused or foreign
// peer, and a fresh connection is the only safe way to resynchronise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mq::server {

constexpr uint32_t kFrameMagic = 0x4650514D;  // "MQPF" read as little-endian bytes
constexpr uint8_t kFrameVersion = 1;
constexpr size_t kFrameHeaderBytes = 16;

enum class FrameKind : uint8_t {
  kHello = 1,
  kBatch = 2,
  kRefusal = 3,
};

// Appends one frame (header and payload) to `out`: the sender serializes
// the payload in place after reserve_frame(), then seals it, so a batch is
// never copied and the buffer is reused from write to write.
size_t reserve_frame(std::vector<char>* out);  // returns the frame's offset
void seal_frame(std::vector<char>* out, size_t frame_offset, FrameKind kind);
void append_frame(std::vector<char>* out, FrameKind kind, std::string_view payload);

// Splits a byte stream into frames. Bytes are read straight into space()
// and committed; next() then yields whole frames, whose payloads stay
// valid until the next call to space().
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t payload_bytes_max) : payload_bytes_max_(payload_bytes_max) {}

  // Room for at least `at_least` more bytes.
  char* space(size_t at_least, size_t* room);
  void commit(size_t bytes) { end_ += bytes; }

  enum class Result { kFrame, kNeedMore, kError };
  struct Frame {
    FrameKind kind = FrameKind::kBatch;
    std::string_view payload;
  };
  // kError leaves a one-line reason in *error; the stream is then unusable.
  Result next(Frame* frame, std::string* error);

  size_t buffered() const { return end_ - begin_; }
  // Forgets everything, for a new connection (the buffer is kept).
  void reset() { begin_ = end_ = 0; failed_ = false; }

 private:
  const size_t payload_bytes_max_;
  std::vector<char> buf_;
  size_t begin_ = 0;  // first byte not yet consumed
  size_t end_ = 0;    // one past the last byte read
  bool failed_ = false;
};

}  // namespace mq::server
