#include "node/auth/access_control.h"

namespace mq::auth {

bool AccessControl::open(const std::string& path, std::string* error) {
  auto rules = AccessRules::load(path, error);
  if (!rules) return false;
  std::lock_guard lock(mutex_);
  path_ = path;
  rules_ = std::make_shared<const AccessRules>(std::move(*rules));
  return true;
}

std::string AccessControl::reload() {
  if (path_.empty()) return "no --auth-file to reload";
  std::string error;
  auto rules = AccessRules::load(path_, &error);
  if (!rules) return error;
  std::lock_guard lock(mutex_);
  rules_ = std::make_shared<const AccessRules>(std::move(*rules));
  return "";
}

Decision AccessControl::check(const Credentials& who, Access access, std::string_view user) const {
  std::shared_ptr<const AccessRules> rules;
  {
    std::lock_guard lock(mutex_);
    rules = rules_;
  }
  if (!rules) return {};
  return rules->check(who, access, user);
}

std::string bearer_token_of(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || authorization.substr(0, kBearer.size()) != kBearer) return "";
  return std::string(authorization.substr(kBearer.size()));
}

}  // namespace mq::auth
