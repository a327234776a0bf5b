// The node's live authorization: the rules of --auth-file, swapped whole
// when the file is reloaded (SIGHUP), so a check sees either the old rules
// or the new ones. A reload that fails keeps the old rules. Without
// --auth-file everything is allowed, as before authorization existed.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "node/auth/access_rules.h"

namespace mq::auth {

class AccessControl {
 public:
  AccessControl() = default;  // disabled: allows everything
  // Enabled with FILE's rules; false with a one-line reason.
  bool open(const std::string& path, std::string* error);
  // Reads the file again; on failure the old rules stay and the reason is
  // returned. "" on success.
  std::string reload();

  bool enabled() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  Decision check(const Credentials& who, Access access, std::string_view user) const;

 private:
  std::string path_;
  mutable std::mutex mutex_;
  std::shared_ptr<const AccessRules> rules_;
};

// "Bearer X" -> "X"; anything else -> "".
std::string bearer_token_of(std::string_view authorization);

}  // namespace mq::auth
