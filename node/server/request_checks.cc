#include "node/server/request_checks.h"

#include "node/kv/limits.h"
#include "node/kv/page_token.h"

namespace mq::server {

namespace {

std::optional<std::string> check_user_key(const std::string& user, const std::string& key) {
  if (auto e = kv::validate_user(user)) return e;
  return kv::validate_key(key);
}

}  // namespace

std::optional<std::string> check_set(const v1::SetRequest& req, size_t value_bytes_max) {
  if (auto e = check_user_key(req.user(), req.key())) return e;
  return kv::validate_value(req.value(), value_bytes_max);
}

std::optional<std::string> check_get(const v1::GetRequest& req) {
  return check_user_key(req.user(), req.key());
}

std::optional<std::string> check_delete(const v1::DeleteRequest& req) {
  return check_user_key(req.user(), req.key());
}

std::optional<ListPlan> plan_list(const v1::ListRequest& req, std::string* error) {
  if (auto e = kv::validate_user(req.user())) {
    *error = *e;
    return std::nullopt;
  }
  if (req.limit() > kv::kListLimitMax) {
    *error = "limit " + std::to_string(req.limit()) + " exceeds the maximum of " +
             std::to_string(kv::kListLimitMax);
    return std::nullopt;
  }
  auto glob = kv::Glob::compile(req.glob().empty() ? "*" : req.glob(), error);
  if (!glob) return std::nullopt;
  auto after = kv::decode_page_token(req.page_token());
  if (!after) {
    *error = "page_token is not one this service issued";
    return std::nullopt;
  }
  return ListPlan{std::move(*glob), std::move(*after),
                  req.limit() == 0 ? kv::kListLimitDefault : req.limit()};
}

}  // namespace mq::server
