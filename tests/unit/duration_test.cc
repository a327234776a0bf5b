#include <catch2/catch.hpp>

#include "cli/duration.h"

using mq::cli::format_duration;
using mq::cli::Millis;
using mq::cli::parse_duration;

TEST_CASE("a duration needs a unit, except zero", "[duration]") {
  CHECK(parse_duration("250ms") == Millis(250));
  CHECK(parse_duration("5s") == Millis(5000));
  CHECK(parse_duration("1.5s") == Millis(1500));
  CHECK(parse_duration("2m") == Millis(120000));
  CHECK(parse_duration("1h") == Millis(3600000));
  CHECK(parse_duration("0") == Millis(0));
  CHECK(parse_duration("0s") == Millis(0));
  CHECK_FALSE(parse_duration("5"));
  CHECK_FALSE(parse_duration("5000"));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("5 s"));
  CHECK_FALSE(parse_duration("5sec"));
  CHECK_FALSE(parse_duration("1e3ms"));
  CHECK_FALSE(parse_duration("nans"));
  CHECK_FALSE(parse_duration("9999999h"));
}

TEST_CASE("a duration reads back in the unit it was most likely written in", "[duration]") {
  CHECK(format_duration(Millis(250)) == "250ms");
  CHECK(format_duration(Millis(5000)) == "5s");
  CHECK(format_duration(Millis(1500)) == "1.5s");
  CHECK(format_duration(Millis(120000)) == "2m");
  CHECK(format_duration(Millis(3600000)) == "1h");
  CHECK(format_duration(Millis(0)) == "0");
  for (int64_t ms : {1, 999, 1001, 1500, 60000, 90000, 7200000}) {
    CHECK(parse_duration(format_duration(Millis(ms))) == Millis(ms));
  }
}

TEST_CASE("a duration flag names the syntax and the range it accepts", "[duration]") {
  CLI::App app;
  Millis timeout(5000);
  mq::cli::add_duration_option(app, "--timeout", &timeout, "Request deadline", Millis(1),
                               Millis(3600000));
  const char* ok[] = {"prog", "--timeout", "250ms"};
  app.parse(3, ok);
  CHECK(timeout == Millis(250));
  const char* bare[] = {"prog", "--timeout", "250"};
  try {
    app.parse(3, bare);
    FAIL("a bare number was accepted");
  } catch (const CLI::ParseError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Matchers::Contains("250ms, 5s or 2m"));
  }
  const char* big[] = {"prog", "--timeout", "2h"};
  try {
    app.parse(3, big);
    FAIL("a duration beyond the range was accepted");
  } catch (const CLI::ParseError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Matchers::Contains("1ms to 1h"));
  }
  CHECK_THAT(app.help(), Catch::Matchers::Contains("default 5s"));
}
