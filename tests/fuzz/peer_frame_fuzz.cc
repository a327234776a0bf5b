// libFuzzer target for the peer transport's frame decoder: the input is a
// byte stream fed in pieces whose sizes come from its first byte. Every
// outcome must be a frame inside the bytes fed, a wait for more, or an
// error with a reason, after which the decoder stays failed.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "node/server/peer_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 97;
  ++data;
  --size;
  mq::server::FrameDecoder decoder(1 << 16);
  size_t fed = 0;
  size_t payload_bytes = 0;
  while (true) {
    mq::server::FrameDecoder::Frame frame;
    std::string error;
    const auto r = decoder.next(&frame, &error);
    if (r == mq::server::FrameDecoder::Result::kFrame) {
      payload_bytes += frame.payload.size();
      if (payload_bytes > fed) std::abort();  // a frame from bytes never fed
      continue;
    }
    if (r == mq::server::FrameDecoder::Result::kError) {
      if (error.empty()) std::abort();
      if (decoder.next(&frame, &error) != mq::server::FrameDecoder::Result::kError) std::abort();
      return 0;
    }
    if (fed == size) return 0;
    size_t room = 0;
    char* p = decoder.space(piece, &room);
    const size_t n = std::min({piece, room, size - fed});
    std::memcpy(p, data + fed, n);
    decoder.commit(n);
    fed += n;
  }
}
