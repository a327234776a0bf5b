// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every
// WAL record, snapshot and identity file. Uses the SSE4.2 instruction when the
// CPU has it and a table otherwise; both give identical results.
#pragma once

#include <cstdint>
#include <string_view>

namespace mq::storage {

// Continues a running checksum: crc32c(b, crc32c(a)) == crc32c(a + b).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size_bytes);

inline uint32_t crc32c(std::string_view data, uint32_t crc = 0) {
  return crc32c_extend(crc, data.data(), data.size());
}

}  // namespace mq::storage
