#include "node/storage/crc32c.h"

#include <boost/crc.hpp>
#include <catch2/catch.hpp>
#include <random>
#include <string>

namespace mq::storage {

TEST_CASE("crc32c known answer", "[crc32c]") {
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
}

TEST_CASE("crc32c extends across split points and matches boost", "[crc32c]") {
  std::mt19937_64 rng(7);
  std::string data(1000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> reference;
  reference.process_bytes(data.data(), data.size());
  const uint32_t whole = crc32c(data);
  CHECK(whole == reference.checksum());
  for (size_t split : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{500}, size_t{999}}) {
    std::string_view v(data);
    CHECK(crc32c(v.substr(split), crc32c(v.substr(0, split))) == whole);
  }
  data[500] ^= 1;
  CHECK(crc32c(data) != whole);
}

}  // namespace mq::storage
