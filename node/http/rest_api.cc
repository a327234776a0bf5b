#include "node/http/rest_api.h"

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "node/auth/access_control.h"

#include "node/http/rest_target.h"
#include "node/http/status_json.h"
#include "node/kv/base64.h"
#include "node/kv/limits.h"
#include "node/kv/shard_hash.h"

namespace mq::http {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kKeyMethods = "GET, POST, PUT, DELETE";
constexpr const char* kRetryAfterSeconds = "1";
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// One request on its way: answers it once and records how it went.
struct Call {
  RequestMetrics* metrics;
  std::string method;  // the metrics label: set, get, delete, list, status, ...
  Clock::time_point start = Clock::now();
  Respond respond;

  void finish(HttpResponse response, std::string_view outcome) {
    if (metrics) {
      metrics->observe("rest", method, outcome,
                       std::chrono::duration<double>(Clock::now() - start).count());
    }
    respond(std::move(response));
  }
  void ok(int status, std::string body, std::string content_type = "application/json") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    finish(std::move(r), "ok");
  }
  void fail(int status, std::string_view code, const std::string& message,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse r;
    r.status = status;
    r.headers = std::move(headers);
    r.body = dump({{"error", {{"code", code}, {"message", message}}}});
    finish(std::move(r), code);
  }
  void fail(const GatewayStatus& s) {
    using C = GatewayStatus::Code;
    const std::vector<std::pair<std::string, std::string>> retry = {
        {"Retry-After", kRetryAfterSeconds}};
    switch (s.code) {
      case C::kOk: break;
      case C::kInvalid: return fail(400, "invalid_argument", s.message);
      case C::kNoLeader: return fail(503, "no_leader", s.message, retry);
      case C::kUnavailable: return fail(503, "unavailable", s.message, retry);
      case C::kOverloaded: return fail(503, "overloaded", s.message, retry);
      // 507 Insufficient Storage: the node cannot store more until keys go.
      case C::kMemoryFull: return fail(507, "memory_full", s.message);
      case C::kUnknownOutcome: return fail(504, "unknown_outcome", s.message);
      case C::kPermissionDenied: return fail(403, "permission_denied", s.message);
      case C::kUnauthenticated:
        return fail(401, "unauthenticated", s.message, {{"WWW-Authenticate", "Bearer"}});
      case C::kInternal: break;
    }
    fail(500, "internal", s.message);
  }
};

// The media type without parameters, lower-cased: "Application/JSON; charset=utf-8" -> "application/json".
std::string media_type(std::string_view header) {
  std::string out(header.substr(0, header.find(';')));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool accepts_octet_stream(std::string_view accept) {
  std::string lower(accept);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("application/octet-stream") != std::string::npos &&
         lower.find("application/json") == std::string::npos;
}

// Text when the bytes are UTF-8, else null beside the always-present base64.
json text_or_null(const std::string& bytes) {
  return kv::is_valid_utf8(bytes) ? json(bytes) : json(nullptr);
}

void add_header_fields(json& j, const v1::ResponseHeader& h) {
  j["shard"] = h.shard();
  j["node"] = h.node();
  j["leader"] = h.leader();
  j["term"] = h.term();
  j["index"] = h.index();
}

json key_json(const std::string& user, const std::string& key) {
  return {{"user", user}, {"key", text_or_null(key)}, {"key_base64", kv::base64_encode(key)}};
}

// Refuses query parameters the path does not take, naming them: a typo
// such as ?consistancy=stale must not silently read linearizably.
bool check_params(const RestTarget& target, std::initializer_list<std::string_view> allowed,
                  Call& call) {
  for (const auto& [name, value] : target.query) {
    bool known = false;
    for (auto a : allowed) known = known || a == name;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      call.fail(400, "invalid_argument",
                "unknown query parameter '" + name + "'" +
                    (list.empty() ? " (this path takes none)" : " (this path takes: " + list + ")"));
      return false;
    }
  }
  return true;
}

// ?consistency=linearizable (the default) or stale.
bool parse_consistency(const RestTarget& target, v1::Consistency* out, Call& call) {
  const auto c = target.param("consistency");
  if (!c || *c == "linearizable") {
    *out = v1::LINEARIZABLE;
  } else if (*c == "stale") {
    *out = v1::STALE;
  } else {
    call.fail(400, "invalid_argument",
              "consistency must be linearizable or stale, not '" + *c + "'");
    return false;
  }
  return true;
}

// The value of a set: {"value": "text"} or {"value_base64": "..."} as JSON,
// or the body itself as application/octet-stream.
bool parse_value(const HttpRequest& req, std::string* value, Call& call) {
  const std::string type = media_type(req.content_type);
  if (type == "application/octet-stream") {
    *value = req.body;
    return true;
  }
  if (type != "application/json") {
    call.fail(415, "unsupported_media_type",
              (type.empty() ? std::string("no Content-Type")
                            : "Content-Type '" + type + "' is not accepted") +
                  ": send application/json ({\"value\": \"...\"}) or application/octet-stream");
    return false;
  }
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    call.fail(400, "invalid_argument", "the body is not valid JSON");
    return false;
  }
  if (!body.is_object()) {
    call.fail(400, "invalid_argument", "the body must be a JSON object such as {\"value\": \"...\"}");
    return false;
  }
  for (const auto& [name, field] : body.items()) {
    if (name != "value" && name != "value_base64") {
      call.fail(400, "invalid_argument",
                "unknown field '" + name + "' in the body (it takes value or value_base64)");
      return false;
    }
  }
  const bool text = body.contains("value");
  const bool base64 = body.contains("value_base64");
  if (text == base64) {
    call.fail(400, "invalid_argument", "the body must hold exactly one of value and value_base64");
    return false;
  }
  const json& field = text ? body["value"] : body["value_base64"];
  if (!field.is_string()) {
    call.fail(400, "invalid_argument",
              std::string(text ? "value" : "value_base64") + " must be a JSON string");
    return false;
  }
  if (text) {
    *value = field.get<std::string>();
    return true;
  }
  auto decoded = kv::base64_decode(field.get<std::string>());
  if (!decoded) {
    call.fail(400, "invalid_argument", "value_base64 is not valid padded base64");
    return false;
  }
  *value = std::move(*decoded);
  return true;
}

void method_not_allowed(Call& call, const std::string& method, const std::string& allow) {
  call.fail(405, "method_not_allowed", method + " is not allowed here (allowed: " + allow + ")",
            {{"Allow", allow}});
}

}  // namespace

void RestApi::handle(HttpRequest&& req, Respond respond) {
  auto call = std::make_shared<Call>(Call{metrics_, "unknown", Clock::now(), std::move(respond)});
  std::string error;
  auto target = parse_target(req.target, &error);
  if (!target) return call->fail(400, "invalid_argument", error);
  const std::vector<std::string>& seg = target->segments;
  auto is = [&](std::initializer_list<std::string_view> path) {
    return std::equal(seg.begin(), seg.end(), path.begin(), path.end());
  };
  const bool under_users = seg.size() >= 6 && seg[0] == "api" && seg[1] == "v1" &&
                           seg[2] == "memory" && seg[3] == "users" && seg[5] == "keys";
  // Authorization (--auth-file): a user's keys need read (GET) or write
  // rights on that user; the cluster status needs any principal. Health,
  // liveness, readiness and metrics need none: probes and scrapers carry
  // no credentials.
  const bool cluster_status = is({"api", "v1", "memory", "cluster", "status"});
  if (access_ && access_->enabled() && (under_users || cluster_status)) {
    auth::Credentials who{auth::bearer_token_of(req.authorization), req.certificate_names};
    const auth::Access what = under_users && req.method != "GET" ? auth::Access::kWrite : auth::Access::kRead;
    const auth::Decision d = access_->check(who, what, under_users ? std::string_view(seg[4]) : std::string_view());
    if (d.kind == auth::Decision::kUnauthenticated) {
      return call->fail(401, "unauthenticated", d.reason, {{"WWW-Authenticate", "Bearer"}});
    }
    if (d.kind == auth::Decision::kForbidden) return call->fail(403, "permission_denied", d.reason);
  }
  Caller caller{auth::bearer_token_of(req.authorization)};
  caller.certificate_only = access_ && access_->enabled() && caller.bearer_token.empty();

  if (under_users && seg.size() == 7) {
    const std::string& user = seg[4];
    const std::string& key = seg[6];
    if (req.method == "GET") {
      call->method = "get";
      if (!check_params(*target, {"consistency"}, *call)) return;
      auto op = std::make_shared<std::pair<v1::GetRequest, v1::GetResponse>>();
      op->first.set_user(user);
      op->first.set_key(key);
      v1::Consistency consistency;
      if (!parse_consistency(*target, &consistency, *call)) return;
      op->first.set_consistency(consistency);
      const bool raw = accepts_octet_stream(req.accept);
      return gateway_->get(op->first, &op->second, caller, [call, op, raw](const GatewayStatus& s) {
        if (!s.ok()) return call->fail(s);
        const auto& [rq, rs] = *op;
        if (!rs.found()) {
          return call->fail(404, "not_found",
                            "user '" + rq.user() + "' has no key '" + rq.key() + "'");
        }
        if (raw) {
          HttpResponse r;
          r.content_type = "application/octet-stream";
          r.body = rs.value();
          const auto& h = rs.header();
          r.headers = {{"X-Mq-Shard", std::to_string(h.shard())},
                       {"X-Mq-Node", h.node()},
                       {"X-Mq-Leader", h.leader()},
                       {"X-Mq-Term", std::to_string(h.term())},
                       {"X-Mq-Index", std::to_string(h.index())}};
          return call->finish(std::move(r), "ok");
        }
        json j = key_json(rq.user(), rq.key());
        j["found"] = true;
        j["value"] = text_or_null(rs.value());
        j["value_base64"] = kv::base64_encode(rs.value());
        add_header_fields(j, rs.header());
        call->ok(200, dump(j));
      });
    }
    if (req.method == "POST" || req.method == "PUT") {
      call->method = "set";
      if (!check_params(*target, {}, *call)) return;
      auto op = std::make_shared<std::pair<v1::SetRequest, v1::SetResponse>>();
      op->first.set_user(user);
      op->first.set_key(key);
      if (!parse_value(req, op->first.mutable_value(), *call)) return;
      // POST answers 201 (the seed's "set" creates the value at that key);
      // PUT, which replaces whatever is there, answers 200.
      const int status = req.method == "POST" ? 201 : 200;
      return gateway_->set(op->first, &op->second, caller, [call, op, status](const GatewayStatus& s) {
        if (!s.ok()) return call->fail(s);
        json j = key_json(op->first.user(), op->first.key());
        add_header_fields(j, op->second.header());
        call->ok(status, dump(j));
      });
    }
    if (req.method == "DELETE") {
      call->method = "delete";
      if (!check_params(*target, {}, *call)) return;
      auto op = std::make_shared<std::pair<v1::DeleteRequest, v1::DeleteResponse>>();
      op->first.set_user(user);
      op->first.set_key(key);
      return gateway_->del(op->first, &op->second, caller, [call, op](const GatewayStatus& s) {
        if (!s.ok()) return call->fail(s);
        if (!op->second.deleted()) {
          return call->fail(404, "not_found", "user '" + op->first.user() + "' has no key '" +
                                                  op->first.key() + "'");
        }
        call->ok(204, "");
      });
    }
    return method_not_allowed(*call, req.method, kKeyMethods);
  }

  if (under_users && seg.size() == 6) {
    call->method = "list";
    if (req.method != "GET") return method_not_allowed(*call, req.method, "GET");
    if (!check_params(*target, {"pattern", "limit", "page_token", "consistency"}, *call)) return;
    auto op = std::make_shared<std::pair<v1::ListRequest, v1::ListResponse>>();
    op->first.set_user(seg[4]);
    op->first.set_glob(target->param("pattern").value_or("*"));
    if (auto limit = target->param("limit")) {
      uint64_t n = 0;
      bool digits = !limit->empty() && limit->size() <= 6;
      for (char c : *limit) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (!digits || n < 1 || n > kv::kListLimitMax) {
        return call->fail(400, "invalid_argument",
                          "limit must be a whole number from 1 to " +
                              std::to_string(kv::kListLimitMax) + ", not '" + *limit + "'");
      }
      op->first.set_limit(static_cast<uint32_t>(n));
    }
    op->first.set_page_token(target->param("page_token").value_or(""));
    v1::Consistency consistency;
    if (!parse_consistency(*target, &consistency, *call)) return;
    op->first.set_consistency(consistency);
    return gateway_->list(op->first, &op->second, caller, [call, op](const GatewayStatus& s) {
      if (!s.ok()) return call->fail(s);
      const auto& rs = op->second;
      json j = {{"user", op->first.user()},
                {"keys", json::array()},
                {"keys_base64", json::array()}};
      for (const auto& k : rs.keys()) {
        j["keys"].push_back(text_or_null(k));
        j["keys_base64"].push_back(kv::base64_encode(k));
      }
      j["next_page_token"] = rs.next_page_token();
      j["truncated"] = !rs.next_page_token().empty();
      add_header_fields(j, rs.header());
      call->ok(200, dump(j));
    });
  }

  const bool health = is({"api", "v1", "memory", "health"});
  const bool livez = is({"livez"});
  const bool readyz = is({"readyz"});
  if (health || livez || readyz) {
    call->method = health ? "health" : livez ? "livez" : "readyz";
    if (req.method != "GET") return method_not_allowed(*call, req.method, "GET");
    if (!check_params(*target, {}, *call)) return;
    // Every probe goes through the node's loop (status): a node whose loop
    // is stuck does not answer, and the probe's own timeout says so.
    auto status = std::make_shared<v1::StatusResponse>();
    return gateway_->status(status.get(), [call, status, health, livez](const GatewayStatus& s) {
      if (!s.ok()) return call->fail(s);
      if (livez) return call->ok(200, "ok\n", "text/plain; charset=utf-8");
      const auto problems = readiness_problems(*status);
      if (health) {
        json j = {{"status", problems.empty() ? "UP" : "DOWN"},
                  {"node", status->node()},
                  {"problems", problems}};
        HttpResponse r;
        r.status = problems.empty() ? 200 : 503;
        if (!problems.empty()) r.headers = {{"Retry-After", kRetryAfterSeconds}};
        r.body = dump(j);
        return call->finish(std::move(r), problems.empty() ? "ok" : "unavailable");
      }
      if (problems.empty()) return call->ok(200, "ok\n", "text/plain; charset=utf-8");
      std::string text = "not ready:\n";
      for (const auto& p : problems) text += p + "\n";
      HttpResponse r;
      r.status = 503;
      r.content_type = "text/plain; charset=utf-8";
      r.headers = {{"Retry-After", kRetryAfterSeconds}};
      r.body = std::move(text);
      call->finish(std::move(r), "unavailable");
    });
  }

  if (is({"api", "v1", "memory", "cluster", "status"})) {
    call->method = "status";
    if (req.method != "GET") return method_not_allowed(*call, req.method, "GET");
    if (!check_params(*target, {}, *call)) return;
    auto status = std::make_shared<v1::StatusResponse>();
    return gateway_->status(status.get(), [call, status](const GatewayStatus& s) {
      if (!s.ok()) return call->fail(s);
      call->ok(200, status_json(*status));
    });
  }

  if (is({"metrics"})) {
    call->method = "metrics";
    if (req.method != "GET") return method_not_allowed(*call, req.method, "GET");
    return gateway_->metrics(
        [call](std::string text) { call->ok(200, std::move(text), kMetricsContentType); });
  }

  call->fail(404, "not_found", "no such path: " + req.target);
}

}  // namespace mq::http
