#include <catch2/catch.hpp>

#include "node/server/memory_gauge.h"

using namespace mq::server;

TEST_CASE("--max-memory sizes parse with binary units, or not at all", "[memory_gauge]") {
  uint64_t b = 1;
  CHECK(parse_byte_size("0", &b));
  CHECK(b == 0);
  CHECK(parse_byte_size("536870912", &b));
  CHECK(b == 536870912);
  CHECK(parse_byte_size("512MiB", &b));
  CHECK(b == 512ull << 20);
  CHECK(parse_byte_size("2gb", &b));
  CHECK(b == 2ull << 30);
  CHECK(parse_byte_size("64K", &b));
  CHECK(b == 64ull << 10);
  CHECK(parse_byte_size("1TiB", &b));
  CHECK(b == 1ull << 40);
  CHECK(parse_byte_size("100B", &b));
  CHECK(b == 100);
  for (const char* bad : {"", "MiB", "-1", "1.5GiB", "12 MiB", "10XB", "99999999999999999999",
                          "20000000000000000G"}) {
    INFO(bad);
    CHECK_FALSE(parse_byte_size(bad, &b));
  }
}

TEST_CASE("--max-memory also takes a share of the available memory", "[memory_gauge]") {
  uint64_t b = 0;
  REQUIRE(parse_memory_limit("20%", &b));
  CHECK(b == memory_available_bytes() * 20 / 100);
  REQUIRE(parse_memory_limit("100%", &b));
  CHECK(b == memory_available_bytes());
  REQUIRE(parse_memory_limit("512MiB", &b));
  CHECK(b == 512ull << 20);
  for (const char* bad : {"0%", "101%", "%", "1000%", "-5%", "5.5%", "20 %"}) {
    INFO(bad);
    CHECK_FALSE(parse_memory_limit(bad, &b));
  }
}

TEST_CASE("byte counts read as people write them", "[memory_gauge]") {
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(300ull << 20) == "300 MiB");
  CHECK(format_bytes(1536ull << 20) == "1.5 GiB");
  CHECK(format_bytes(96ull << 20) == "96 MiB");
  CHECK(format_bytes(2ull << 30) == "2 GiB");
}

TEST_CASE("the process's memory and the default limit are read", "[memory_gauge]") {
  // Test binaries do not link jemalloc: the resident set stands in.
  CHECK(memory_in_use_bytes() > 0);
  const uint64_t limit = default_memory_limit_bytes();
  CHECK(limit > 0);
  CHECK(limit > memory_in_use_bytes());
}
