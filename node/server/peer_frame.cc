#include "node/server/peer_frame.h"

#include <cstring>

#include "node/storage/crc32c.h"

namespace mq::server {

namespace {

void store_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

uint32_t read_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

uint32_t frame_crc(const char* header, const char* payload, size_t length) {
  return storage::crc32c_extend(storage::crc32c_extend(0, header, 12), payload, length);
}

bool known_kind(uint8_t k) {
  return k == static_cast<uint8_t>(FrameKind::kHello) || k == static_cast<uint8_t>(FrameKind::kBatch) ||
         k == static_cast<uint8_t>(FrameKind::kRefusal);
}

}  // namespace

size_t reserve_frame(std::vector<char>* out) {
  const size_t at = out->size();
  out->resize(at + kFrameHeaderBytes);
  return at;
}

void seal_frame(std::vector<char>* out, size_t frame_offset, FrameKind kind) {
  char* h = out->data() + frame_offset;
  const size_t length = out->size() - frame_offset - kFrameHeaderBytes;
  store_u32(h, kFrameMagic);
  h[4] = static_cast<char>(kFrameVersion);
  h[5] = static_cast<char>(kind);
  h[6] = 0;
  h[7] = 0;
  store_u32(h + 8, static_cast<uint32_t>(length));
  store_u32(h + 12, frame_crc(h, h + kFrameHeaderBytes, length));
}

void append_frame(std::vector<char>* out, FrameKind kind, std::string_view payload) {
  const size_t at = reserve_frame(out);
  out->insert(out->end(), payload.begin(), payload.end());
  seal_frame(out, at, kind);
}

char* FrameDecoder::space(size_t at_least, size_t* room) {
  // Consumed bytes go first, so the buffer does not grow with the stream.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < at_least) buf_.resize(end_ + at_least);
  *room = buf_.size() - end_;
  return buf_.data() + end_;
}

FrameDecoder::Result FrameDecoder::next(Frame* frame, std::string* error) {
  if (failed_) {
    *error = "the stream already failed";
    return Result::kError;
  }
  auto fail = [&](std::string why) {
    failed_ = true;
    *error = std::move(why);
    return Result::kError;
  };
  const size_t have = end_ - begin_;
  if (have < kFrameHeaderBytes) return Result::kNeedMore;
  const char* h = buf_.data() + begin_;
  if (read_u32(h) != kFrameMagic) return fail("not an mq peer frame (bad magic)");
  if (static_cast<uint8_t>(h[4]) != kFrameVersion) {
    return fail("frame version " + std::to_string(static_cast<uint8_t>(h[4])) + " (this node speaks " +
                std::to_string(kFrameVersion) + ")");
  }
  if (!known_kind(static_cast<uint8_t>(h[5]))) {
    return fail("unknown frame kind " + std::to_string(static_cast<uint8_t>(h[5])));
  }
  if (h[6] != 0 || h[7] != 0) return fail("reserved frame bits set");
  const uint32_t length = read_u32(h + 8);
  if (length > payload_bytes_max_) {
    return fail("frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                std::to_string(payload_bytes_max_));
  }
  if (have < kFrameHeaderBytes + length) return Result::kNeedMore;
  if (read_u32(h + 12) != frame_crc(h, h + kFrameHeaderBytes, length)) return fail("frame checksum mismatch");
  frame->kind = static_cast<FrameKind>(h[5]);
  frame->payload = std::string_view(h + kFrameHeaderBytes, length);
  begin_ += kFrameHeaderBytes + length;
  return Result::kFrame;
}

}  // namespace mq::server
