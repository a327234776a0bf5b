#include "node/auth/access_rules.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace mq::auth {

namespace {

using json = nlohmann::json;

std::string hex(const unsigned char* bytes, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Constant-time: how long a comparison takes says nothing of the hash.
bool same_hash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool only_fields(const json& j, std::initializer_list<const char*> known, const std::string& where,
                 std::string* error) {
  for (const auto& [key, value] : j.items()) {
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      *error = where + ": unknown field \"" + key + "\"";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return hex(digest, len);
}

std::string new_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  return hex(bytes, sizeof bytes);
}

std::optional<AccessRules> AccessRules::parse(std::string_view text, std::string* error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  if (!only_fields(j, {"principals"}, "the file", error)) return std::nullopt;
  if (!j.contains("principals") || !j["principals"].is_array()) {
    *error = "\"principals\" must be an array";
    return std::nullopt;
  }
  AccessRules rules;
  std::set<std::string> names, tokens, certificates;
  size_t index = 0;
  for (const auto& p : j["principals"]) {
    const std::string where = "principal " + std::to_string(index++);
    if (!p.is_object()) {
      *error = where + ": not an object";
      return std::nullopt;
    }
    if (!only_fields(p, {"name", "token_sha256", "certificate", "admin", "rules"}, where, error)) {
      return std::nullopt;
    }
    Principal principal;
    if (!p.contains("name") || !p["name"].is_string() || p["name"].get<std::string>().empty()) {
      *error = where + ": \"name\" must be a non-empty string";
      return std::nullopt;
    }
    principal.name = p["name"];
    const std::string at = "principal " + principal.name;
    if (!names.insert(principal.name).second) {
      *error = at + ": the name is used twice";
      return std::nullopt;
    }
    if (p.contains("token_sha256")) {
      if (!p["token_sha256"].is_string() || !is_hex64(p["token_sha256"].get<std::string>())) {
        *error = at + ": \"token_sha256\" must be 64 lower-case hex digits (mq auth hash-token TOKEN)";
        return std::nullopt;
      }
      principal.token_sha256 = p["token_sha256"];
      if (!tokens.insert(principal.token_sha256).second) {
        *error = at + ": its token is another principal's too";
        return std::nullopt;
      }
    }
    if (p.contains("certificate")) {
      if (!p["certificate"].is_string() || p["certificate"].get<std::string>().empty()) {
        *error = at + ": \"certificate\" must be a non-empty string";
        return std::nullopt;
      }
      principal.certificate = p["certificate"];
      if (!certificates.insert(principal.certificate).second) {
        *error = at + ": its certificate name is another principal's too";
        return std::nullopt;
      }
    }
    if (principal.token_sha256.empty() && principal.certificate.empty()) {
      *error = at + ": needs \"token_sha256\" or \"certificate\" (or both)";
      return std::nullopt;
    }
    if (p.contains("admin")) {
      if (!p["admin"].is_boolean()) {
        *error = at + ": \"admin\" must be true or false";
        return std::nullopt;
      }
      principal.admin = p["admin"];
    }
    if (p.contains("rules")) {
      if (!p["rules"].is_array()) {
        *error = at + ": \"rules\" must be an array";
        return std::nullopt;
      }
      for (const auto& r : p["rules"]) {
        if (!r.is_object() || !only_fields(r, {"users", "access"}, at + ", a rule", error)) {
          if (error->empty()) *error = at + ": a rule must be an object";
          return std::nullopt;
        }
        if (!r.contains("users") || !r["users"].is_string() || !r.contains("access") || !r["access"].is_string()) {
          *error = at + ": a rule needs \"users\" (an id or a glob) and \"access\" (r, w or rw)";
          return std::nullopt;
        }
        const std::string users = r["users"], access = r["access"];
        std::string why;
        auto glob = kv::Glob::compile(users, &why);
        if (!glob) {
          *error = at + ": users \"" + users + "\": " + why;
          return std::nullopt;
        }
        if (access != "r" && access != "w" && access != "rw") {
          *error = at + ": access \"" + access + "\" must be r, w or rw";
          return std::nullopt;
        }
        principal.rules.push_back({users, std::move(*glob), access != "w", access != "r"});
      }
    }
    rules.principals_.push_back(std::move(principal));
  }
  return rules;
}

std::optional<AccessRules> AccessRules::load(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot read it: " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string why;
  auto rules = parse(text.str(), &why);
  if (!rules) *error = path + ": " + why;
  return rules;
}

const Principal* AccessRules::identify(const Credentials& who) const {
  if (!who.bearer_token.empty()) {
    // A client sends the same token with every request: each thread keeps
    // the hash of the last token it saw (a hash, not a decision).
    thread_local std::string last_token, last_hash;
    if (!same_hash(who.bearer_token, last_token)) {
      last_hash = sha256_hex(who.bearer_token);
      last_token = who.bearer_token;
    }
    const std::string& hash = last_hash;
    for (const auto& p : principals_) {
      if (!p.token_sha256.empty() && same_hash(p.token_sha256, hash)) return &p;
    }
    return nullptr;  // a wrong token is refused, whatever certificate came with it
  }
  for (const auto& p : principals_) {
    if (p.certificate.empty()) continue;
    if (std::find(who.certificate_names.begin(), who.certificate_names.end(), p.certificate) !=
        who.certificate_names.end()) {
      return &p;
    }
  }
  return nullptr;
}

Decision AccessRules::check(const Credentials& who, Access access, std::string_view user) const {
  const Principal* p = identify(who);
  if (!p) {
    return {Decision::kUnauthenticated,
            who.bearer_token.empty() ? "no credentials: pass a token (--token, or the Authorization: Bearer "
                                       "header) or a client certificate the auth file names"
                                     : "the token is not valid here",
            ""};
  }
  if (access == Access::kAdmin) {
    if (p->admin) return {Decision::kAllowed, "", p->name};
    return {Decision::kForbidden, "principal " + p->name + " is not an admin", p->name};
  }
  if (user.empty()) return {Decision::kAllowed, "", p->name};
  for (const auto& r : p->rules) {
    if ((access == Access::kRead ? r.read : r.write) && r.glob.matches(user)) return {Decision::kAllowed, "", p->name};
  }
  return {Decision::kForbidden,
          "principal " + p->name + " may not " + (access == Access::kRead ? "read" : "write") + " user " +
              std::string(user),
          p->name};
}

}  // namespace mq::auth
