// Who may do what: the rules of `mq node --auth-file FILE` (JSON). A
// principal is named by a bearer token (kept as its SHA-256, never in the
// clear) or by a client certificate's name (with --client-cert-auth); it
// has rules on user ids (an exact id or a glob, as `mq keys` takes them),
// each granting read, write or both, and may be an admin (cluster and
// membership changes). Nothing is allowed that no rule grants.
//
//   {"principals": [
//     {"name": "alice", "token_sha256": "<64 hex digits>",
//      "rules": [{"users": "alice*", "access": "rw"}]},
//     {"name": "reporting", "token_sha256": "...", "rules": [{"users": "*", "access": "r"}]},
//     {"name": "ops", "certificate": "client", "admin": true, "rules": [{"users": "*", "access": "rw"}]}
//   ]}
//
// `mq auth hash-token TOKEN` prints a token's SHA-256 for the file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/kv/glob.h"

namespace mq::auth {

enum class Access { kRead, kWrite, kAdmin };

struct Rule {
  std::string users;  // as written: an exact id or a glob
  kv::Glob glob;
  bool read = false, write = false;
};

struct Principal {
  std::string name;
  std::string token_sha256;  // lower-case hex; "" when named by certificate
  std::string certificate;   // a client certificate name (CN or subjectAltName); ""
  bool admin = false;
  std::vector<Rule> rules;
};

// What a request presents: a bearer token, and the names of its verified
// client certificate (empty without one).
struct Credentials {
  std::string bearer_token;
  std::vector<std::string> certificate_names;
};

// The outcome of a check: allowed, or refused as unauthenticated (no
// principal matches) or forbidden (the principal has no rule for it),
// with a one-line reason that names no secret.
struct Decision {
  enum Kind { kAllowed, kUnauthenticated, kForbidden } kind = kAllowed;
  std::string reason;
  std::string principal;
  bool allowed() const { return kind == kAllowed; }
};

class AccessRules {
 public:
  // Parses the file's text; nullopt with a one-line reason when it is
  // malformed (unknown field, bad access, bad glob, a token hash that is not
  // 64 hex digits, two principals with one token or one name).
  static std::optional<AccessRules> parse(std::string_view json, std::string* error);
  // Reads and parses FILE; the reason names the file.
  static std::optional<AccessRules> load(const std::string& path, std::string* error);

  // `user` is the user id the request touches; "" for a request on no user
  // (kAdmin ones, and status reads, which any principal may make).
  Decision check(const Credentials& who, Access access, std::string_view user) const;

  size_t size() const { return principals_.size(); }

 private:
  const Principal* identify(const Credentials& who) const;
  std::vector<Principal> principals_;
};

// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

// A new random bearer token: 32 bytes from OpenSSL's generator, in hex;
// "" when no randomness is available.
std::string new_token();

}  // namespace mq::auth
