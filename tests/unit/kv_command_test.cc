#include <catch2/catch.hpp>

#include "cli/kv_command.h"
#include "node/kv/limits.h"

using Catch::Matchers::Contains;
using namespace mq::cli;
using Words = std::vector<std::string>;

namespace {

KvCommand parsed(const Words& w) {
  std::string error;
  auto c = parse_kv_words(w, &error);
  INFO(error);
  REQUIRE(c);
  CHECK(error.empty());
  return *c;
}

std::string parse_error(const Words& w) {
  std::string error;
  REQUIRE_FALSE(parse_kv_words(w, &error));
  return error;
}

}  // namespace

TEST_CASE("REPL words parse into data commands", "[kv_command]") {
  KvCommand c = parsed({"set", "u", "k", "hello world"});
  CHECK(c.verb == KvCommand::kSet);
  CHECK(c.user == "u");
  CHECK(c.key == "k");
  CHECK(c.value == "hello world");

  c = parsed({"get", "u", "k"});
  CHECK(c.verb == KvCommand::kGet);
  CHECK(c.key == "k");

  CHECK(parsed({"del", "u", "k"}).verb == KvCommand::kDel);
  CHECK(parsed({"delete", "u", "k"}).verb == KvCommand::kDel);

  c = parsed({"keys", "u"});
  CHECK(c.verb == KvCommand::kKeys);
  CHECK(c.glob == "*");
  CHECK(parsed({"keys", "u", "a*"}).glob == "a*");
}

TEST_CASE("wrong arity names the usage", "[kv_command]") {
  CHECK_THAT(parse_error({"set", "u", "k"}), Contains("usage: set USER KEY VALUE"));
  CHECK_THAT(parse_error({"set", "u", "k", "v", "extra"}), Contains("quote a value"));
  CHECK_THAT(parse_error({"get", "u"}), Contains("usage: get USER KEY"));
  CHECK_THAT(parse_error({"del"}), Contains("usage: del USER KEY"));
  CHECK_THAT(parse_error({"keys"}), Contains("usage: keys USER [GLOB]"));
  CHECK_THAT(parse_error({"keys", "u", "a", "b"}), Contains("usage: keys"));
}

TEST_CASE("words that are not data commands give no error", "[kv_command]") {
  CHECK(parse_error({"status"}).empty());
  CHECK(parse_error({"frob", "a"}).empty());
  CHECK(parse_error({}).empty());
}

TEST_CASE("client-side validation names the limit", "[kv_command]") {
  KvCommand c;
  c.verb = KvCommand::kSet;
  c.user = "u";
  c.key = "k";
  c.value = "v";
  CHECK(validate_kv_command(c).ok());

  KvCommand bad = c;
  bad.user = std::string(257, 'u');
  Error e = validate_kv_command(bad);
  CHECK(e.kind == ErrorKind::kInvalid);
  CHECK_THAT(e.message, Contains("limit is 256"));

  bad = c;
  bad.key = std::string(1025, 'k');
  e = validate_kv_command(bad);
  CHECK(e.kind == ErrorKind::kInvalid);
  CHECK_THAT(e.message, Contains("limit is 1024"));

  bad = c;
  bad.key = "";
  CHECK(validate_kv_command(bad).kind == ErrorKind::kInvalid);

  // Values up to the ceiling pass here: the node applies its own limit.
  bad = c;
  bad.value = std::string(mq::kv::kValueBytesMaxDefault + 1, 'v');
  CHECK(validate_kv_command(bad).ok());
  bad.value = std::string(mq::kv::kValueBytesMaxCeiling + 1, 'v');
  CHECK(validate_kv_command(bad).kind == ErrorKind::kInvalid);

  KvCommand keys;
  keys.verb = KvCommand::kKeys;
  keys.user = "u";
  keys.glob = "[a-";
  e = validate_kv_command(keys);
  CHECK(e.kind == ErrorKind::kInvalid);
  CHECK_THAT(e.message, Contains("invalid glob"));
  keys.glob = "a*";
  CHECK(validate_kv_command(keys).ok());
  keys.user = "";
  CHECK(validate_kv_command(keys).kind == ErrorKind::kInvalid);
}
