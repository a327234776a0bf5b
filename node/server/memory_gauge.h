// How much memory the node holds, as --max-memory counts it, and the limit
// a node takes when none is given.
//
// The count is the allocator's bytes in use (jemalloc's stats.allocated,
// what redis's maxmemory counts too), not the resident set: it falls as
// soon as keys are deleted, where resident memory lags by the allocator's
// decay and keeps fragmentation. Where jemalloc is not linked (test
// binaries), the resident set stands in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mq::server {

uint64_t memory_in_use_bytes();

// The memory this process may use: the smaller of the machine's memory and
// its control group's limit (memory.max); 0 when neither can be read.
uint64_t memory_available_bytes();

// The limit a node takes without --max-memory: 60% of memory_available_bytes(),
// so a node alone on a host or in a container stops taking writes before
// the kernel kills it.
uint64_t default_memory_limit_bytes();

// --max-memory: a size (parse_byte_size) or a share of the available
// memory, "1%".."100%" (mq cluster up gives each of its n nodes 60%/n).
bool parse_memory_limit(std::string_view text, uint64_t* bytes);

// A size in bytes: digits, optionally followed by a unit (B, K/KB/KiB,
// M/MB/MiB, G/GB/GiB, T/TB/TiB; case-insensitive, all powers of 1024, as
// memory is counted). False on anything else or on overflow.
bool parse_byte_size(std::string_view text, uint64_t* bytes);

// "1.5 GiB", "640 MiB", "512 KiB", "100 B": for messages and logs.
std::string format_bytes(uint64_t bytes);

}  // namespace mq::server
