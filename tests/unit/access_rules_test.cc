// The --auth-file rules: who a request's token or certificate names, what
// each principal's rules grant, the malformed files parse refuses (one line
// each), AccessControl's reload keeping the old rules on a bad file, and
// the Authorization header's bearer token.
#include <catch2/catch.hpp>

#include "tests/unit/temp_dir.h"

#include <stdlib.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "node/auth/access_control.h"
#include "node/auth/access_rules.h"

using namespace mq::auth;
using Catch::Matchers::Contains;

namespace {

// Each test's files in a directory of its own.
class TempDir : public mq::test::TempDir {
 public:
  TempDir() : mq::test::TempDir("mq-auth-test") {}
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

const std::string kAliceToken = "alice-secret-token";
const std::string kReaderToken = "reader-secret-token";
const std::string kWriterToken = "writer-secret-token";
const std::string kOpsToken = "ops-secret-token";

// alice: rw on "alice*" and on "bob"; reader: r on "*"; writer: w on "*";
// ops: admin by token, and "certops" by certificate name only.
std::string sample_rules() {
  return R"({"principals": [
    {"name": "alice", "token_sha256": ")" + sha256_hex(kAliceToken) + R"(",
     "rules": [{"users": "alice*", "access": "rw"}, {"users": "bob", "access": "rw"}]},
    {"name": "reader", "token_sha256": ")" + sha256_hex(kReaderToken) + R"(",
     "rules": [{"users": "*", "access": "r"}]},
    {"name": "writer", "token_sha256": ")" + sha256_hex(kWriterToken) + R"(",
     "rules": [{"users": "*", "access": "w"}]},
    {"name": "ops", "token_sha256": ")" + sha256_hex(kOpsToken) + R"(", "admin": true},
    {"name": "certops", "certificate": "client-ops",
     "rules": [{"users": "carol", "access": "r"}]}
  ]})";
}

AccessRules sample() {
  std::string error;
  auto rules = AccessRules::parse(sample_rules(), &error);
  INFO(error);
  REQUIRE(rules);
  return *rules;
}

Credentials token(const std::string& t) { return {t, {}}; }
Credentials certificate(std::vector<std::string> names) { return {"", std::move(names)}; }

// Parses `text` expecting a refusal; returns the reason.
std::string refusal(const std::string& text) {
  std::string error;
  auto rules = AccessRules::parse(text, &error);
  CHECK_FALSE(rules);
  CHECK_FALSE(error.empty());
  CHECK(error.find('\n') == std::string::npos);
  return error;
}

// One principal with the given JSON fields in place of a valid token line.
std::string one_principal(const std::string& fields) { return R"({"principals": [{)" + fields + "}]}"; }

const std::string kHashA = sha256_hex("a");

}  // namespace

TEST_CASE("sha256_hex matches the FIPS 180-2 \"abc\" vector", "[auth]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a token's rules grant their users, exact and glob, and nothing else", "[auth]") {
  const AccessRules rules = sample();
  REQUIRE(rules.size() == 5);

  for (const char* user : {"alice", "alice-2", "bob"}) {
    INFO(user);
    for (Access a : {Access::kRead, Access::kWrite}) {
      const Decision d = rules.check(token(kAliceToken), a, user);
      CHECK(d.kind == Decision::kAllowed);
      CHECK(d.principal == "alice");
    }
  }

  // "bob" is exact, not a prefix; "xalice" does not match "alice*".
  for (const char* user : {"bobby", "xalice", "carol"}) {
    INFO(user);
    const Decision d = rules.check(token(kAliceToken), Access::kWrite, user);
    CHECK(d.kind == Decision::kForbidden);
    CHECK(d.principal == "alice");
    CHECK_THAT(d.reason, Contains("alice") && Contains(user) && Contains("write"));
    // The reason goes to clients and logs: no secret in it.
    CHECK_THAT(d.reason, !Contains(kAliceToken) && !Contains(sha256_hex(kAliceToken)));
  }
  const Decision read = rules.check(token(kAliceToken), Access::kRead, "carol");
  CHECK(read.kind == Decision::kForbidden);
  CHECK_THAT(read.reason, Contains("read") && Contains("carol"));
}

TEST_CASE("an \"r\" rule does not grant write, nor a \"w\" rule read", "[auth]") {
  const AccessRules rules = sample();
  CHECK(rules.check(token(kReaderToken), Access::kRead, "anyone").allowed());
  CHECK(rules.check(token(kReaderToken), Access::kWrite, "anyone").kind == Decision::kForbidden);
  CHECK(rules.check(token(kWriterToken), Access::kWrite, "anyone").allowed());
  CHECK(rules.check(token(kWriterToken), Access::kRead, "anyone").kind == Decision::kForbidden);
}

TEST_CASE("a wrong token or no credentials is unauthenticated", "[auth]") {
  const AccessRules rules = sample();

  const Decision wrong = rules.check(token("not-a-token"), Access::kRead, "alice");
  CHECK(wrong.kind == Decision::kUnauthenticated);
  CHECK(wrong.principal.empty());
  CHECK_THAT(wrong.reason, !Contains("not-a-token"));

  // A certificate a principal has must not rescue a wrong token.
  const Decision rescued = rules.check({"not-a-token", {"client-ops"}}, Access::kRead, "carol");
  CHECK(rescued.kind == Decision::kUnauthenticated);

  const Decision none = rules.check({}, Access::kRead, "");
  CHECK(none.kind == Decision::kUnauthenticated);
  CHECK_FALSE(none.reason.empty());
}

TEST_CASE("a certificate name identifies its principal", "[auth]") {
  const AccessRules rules = sample();
  const Decision d = rules.check(certificate({"some-other-name", "client-ops"}), Access::kRead, "carol");
  CHECK(d.kind == Decision::kAllowed);
  CHECK(d.principal == "certops");
  // Identified, but its rules are still applied.
  CHECK(rules.check(certificate({"client-ops"}), Access::kWrite, "carol").kind == Decision::kForbidden);
  CHECK(rules.check(certificate({"unknown-client"}), Access::kRead, "carol").kind == Decision::kUnauthenticated);
}

TEST_CASE("admin requests need an admin; status reads any principal", "[auth]") {
  const AccessRules rules = sample();
  const Decision admin = rules.check(token(kOpsToken), Access::kAdmin, "");
  CHECK(admin.kind == Decision::kAllowed);
  CHECK(admin.principal == "ops");

  const Decision not_admin = rules.check(token(kAliceToken), Access::kAdmin, "");
  CHECK(not_admin.kind == Decision::kForbidden);
  CHECK_THAT(not_admin.reason, Contains("alice") && Contains("is not an admin"));
  CHECK(rules.check(certificate({"client-ops"}), Access::kAdmin, "").kind == Decision::kForbidden);

  // "ops" has no rules at all, yet may read status (user "").
  for (const auto& who : {token(kOpsToken), token(kWriterToken), certificate({"client-ops"})}) {
    CHECK(rules.check(who, Access::kRead, "").allowed());
  }
  // Status is for identified principals only.
  CHECK(rules.check(token("not-a-token"), Access::kRead, "").kind == Decision::kUnauthenticated);
}

TEST_CASE("malformed auth files are refused with a one-line reason", "[auth]") {
  const std::string token_a = R"("name": "a", "token_sha256": ")" + kHashA + R"(")";

  SECTION("the valid base is accepted") {
    std::string error;
    CHECK(AccessRules::parse(one_principal(token_a + R"(, "rules": [{"users": "a", "access": "rw"}])"), &error));
    CHECK(error.empty());
  }
  SECTION("not JSON") { CHECK_THAT(refusal("{principals"), Contains("JSON")); }
  SECTION("not an object") { CHECK_THAT(refusal("[]"), Contains("JSON object")); }
  SECTION("no principals") { CHECK_THAT(refusal("{}"), Contains("principals")); }
  SECTION("principals not an array") { CHECK_THAT(refusal(R"({"principals": {}})"), Contains("principals")); }
  SECTION("unknown top-level field") {
    CHECK_THAT(refusal(R"({"principals": [], "principles": []})"), Contains("unknown field") && Contains("principles"));
  }
  SECTION("unknown principal field") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "token": "x")")),
               Contains("unknown field") && Contains("\"token\""));
  }
  SECTION("empty name") {
    CHECK_THAT(refusal(one_principal(R"("name": "", "token_sha256": ")" + kHashA + R"(")")), Contains("name"));
  }
  SECTION("missing name") {
    CHECK_THAT(refusal(one_principal(R"("token_sha256": ")" + kHashA + R"(")")), Contains("name"));
  }
  SECTION("duplicate name") {
    const std::string text = R"({"principals": [
      {"name": "a", "token_sha256": ")" + kHashA + R"("},
      {"name": "a", "token_sha256": ")" + sha256_hex("b") + R"("}]})";
    CHECK_THAT(refusal(text), Contains("principal a") && Contains("name is used twice"));
  }
  SECTION("duplicate token hash") {
    const std::string text = R"({"principals": [
      {"name": "a", "token_sha256": ")" + kHashA + R"("},
      {"name": "b", "token_sha256": ")" + kHashA + R"("}]})";
    const std::string reason = refusal(text);
    CHECK_THAT(reason, Contains("principal b") && Contains("another principal"));
    CHECK_THAT(reason, !Contains(kHashA));
  }
  SECTION("duplicate certificate name") {
    const std::string text = R"({"principals": [
      {"name": "a", "certificate": "c"}, {"name": "b", "certificate": "c"}]})";
    CHECK_THAT(refusal(text), Contains("principal b") && Contains("certificate"));
  }
  SECTION("token hash in upper case") {
    std::string upper = kHashA;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    REQUIRE(upper != kHashA);
    CHECK_THAT(refusal(one_principal(R"("name": "a", "token_sha256": ")" + upper + R"(")")),
               Contains("64 lower-case hex"));
  }
  SECTION("token hash of 63 digits") {
    CHECK_THAT(refusal(one_principal(R"("name": "a", "token_sha256": ")" + kHashA.substr(1) + R"(")")),
               Contains("64 lower-case hex"));
  }
  SECTION("token hash with a non-hex digit") {
    CHECK_THAT(refusal(one_principal(R"("name": "a", "token_sha256": ")" + kHashA.substr(1) + R"(g")")),
               Contains("64 lower-case hex"));
  }
  SECTION("token hash not a string") {
    CHECK_THAT(refusal(one_principal(R"("name": "a", "token_sha256": 7)")), Contains("token_sha256"));
  }
  SECTION("neither token nor certificate") {
    CHECK_THAT(refusal(one_principal(R"("name": "a", "rules": [])")),
               Contains("principal a") && Contains("token_sha256") && Contains("certificate"));
  }
  SECTION("empty certificate name") {
    CHECK_THAT(refusal(one_principal(R"("name": "a", "certificate": "")")), Contains("certificate"));
  }
  SECTION("admin not a boolean") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "admin": "yes")")), Contains("admin"));
  }
  SECTION("rules not an array") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "rules": {})")), Contains("rules"));
  }
  SECTION("access x") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "rules": [{"users": "a", "access": "x"}])")),
               Contains("access \"x\"") && Contains("r, w or rw"));
  }
  SECTION("bad glob") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "rules": [{"users": "[abc", "access": "r"}])")),
               Contains("[abc") && Contains("never closed"));
  }
  SECTION("rule without users") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "rules": [{"access": "r"}])")), Contains("\"users\""));
  }
  SECTION("rule without access") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "rules": [{"users": "a"}])")), Contains("\"access\""));
  }
  SECTION("unknown rule field") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "rules": [{"users": "a", "access": "r", "user": "b"}])")),
               Contains("unknown field") && Contains("\"user\""));
  }
  SECTION("a rule that is not an object") {
    CHECK_THAT(refusal(one_principal(token_a + R"(, "rules": ["a"])")), Contains("rule must be an object"));
  }
}

TEST_CASE("load names the file it cannot read or parse", "[auth]") {
  TempDir dir;
  std::string error;
  CHECK_FALSE(AccessRules::load(dir.file("missing.json"), &error));
  CHECK_THAT(error, Contains(dir.file("missing.json")) && Contains("cannot read"));

  write_file(dir.file("bad.json"), "{}");
  error.clear();
  CHECK_FALSE(AccessRules::load(dir.file("bad.json"), &error));
  CHECK_THAT(error, Contains(dir.file("bad.json")) && Contains("principals"));
}

TEST_CASE("AccessControl reloads good rules and keeps the old ones on a bad file", "[auth]") {
  TempDir dir;
  const std::string path = dir.file("auth.json");
  const std::string token_a = "token-a", token_b = "token-b";
  auto rules_for = [](const std::string& name, const std::string& t) {
    return R"({"principals": [{"name": ")" + name + R"(", "token_sha256": ")" + sha256_hex(t) +
           R"(", "rules": [{"users": "*", "access": "rw"}]}]})";
  };
  write_file(path, rules_for("a", token_a));

  AccessControl control;
  std::string error;
  REQUIRE(control.open(path, &error));
  CHECK(control.enabled());
  CHECK(control.path() == path);
  CHECK(control.check(token(token_a), Access::kWrite, "u").allowed());
  CHECK(control.check(token(token_b), Access::kWrite, "u").kind == Decision::kUnauthenticated);

  // A bad file must not open the node up, nor lock it down.
  write_file(path, "not json at all");
  const std::string why = control.reload();
  CHECK_FALSE(why.empty());
  CHECK_THAT(why, Contains(path));
  CHECK(control.check(token(token_a), Access::kWrite, "u").allowed());
  CHECK(control.check({}, Access::kRead, "").kind == Decision::kUnauthenticated);

  write_file(path, rules_for("b", token_b));
  CHECK(control.reload() == "");
  CHECK(control.check(token(token_a), Access::kWrite, "u").kind == Decision::kUnauthenticated);
  const Decision b = control.check(token(token_b), Access::kWrite, "u");
  CHECK(b.allowed());
  CHECK(b.principal == "b");
}

TEST_CASE("AccessControl refuses to open a bad file", "[auth]") {
  TempDir dir;
  const std::string path = dir.file("auth.json");
  write_file(path, R"({"principals": [{"name": "a"}]})");
  AccessControl control;
  std::string error;
  CHECK_FALSE(control.open(path, &error));
  CHECK_THAT(error, Contains(path));
  CHECK_FALSE(control.enabled());
}

TEST_CASE("a default AccessControl is disabled and allows everything", "[auth]") {
  AccessControl control;
  CHECK_FALSE(control.enabled());
  CHECK(control.check({}, Access::kRead, "u").kind == Decision::kAllowed);
  CHECK(control.check({}, Access::kWrite, "u").allowed());
  CHECK(control.check(token("anything"), Access::kAdmin, "").allowed());
  // Nothing to reload: says so rather than claiming success.
  CHECK_FALSE(control.reload().empty());
}

TEST_CASE("bearer_token_of takes the token of a Bearer header only", "[auth]") {
  CHECK(bearer_token_of("Bearer xyz") == "xyz");
  CHECK(bearer_token_of("Basic xyz") == "");
  CHECK(bearer_token_of("Bearer ") == "");
  CHECK(bearer_token_of("Bearer") == "");
  CHECK(bearer_token_of("") == "");
}
