#include "cli/kv_command.h"

#include "node/kv/glob.h"
#include "node/kv/limits.h"

namespace mq::cli {

std::optional<KvCommand> parse_kv_words(const std::vector<std::string>& w, std::string* error) {
  error->clear();
  if (w.empty()) return std::nullopt;
  KvCommand c;
  const std::string& verb = w[0];
  auto arity = [&](size_t min, size_t max, const char* usage) {
    if (w.size() - 1 < min || w.size() - 1 > max) {
      *error = std::string("wrong number of arguments; usage: ") + usage;
      return false;
    }
    return true;
  };
  if (verb == "set") {
    if (!arity(3, 3, "set USER KEY VALUE (quote a value with spaces)")) return std::nullopt;
    c.verb = KvCommand::kSet;
    c.value = w[3];
  } else if (verb == "get") {
    if (!arity(2, 2, "get USER KEY")) return std::nullopt;
    c.verb = KvCommand::kGet;
  } else if (verb == "del" || verb == "delete") {
    if (!arity(2, 2, "del USER KEY")) return std::nullopt;
    c.verb = KvCommand::kDel;
  } else if (verb == "keys") {
    if (!arity(1, 2, "keys USER [GLOB]")) return std::nullopt;
    c.verb = KvCommand::kKeys;
    if (w.size() == 3) c.glob = w[2];
  } else {
    return std::nullopt;
  }
  c.user = w[1];
  if (c.verb != KvCommand::kKeys) c.key = w[2];
  return c;
}

Error validate_kv_command(const KvCommand& c) {
  if (auto e = kv::validate_user(c.user)) return {ErrorKind::kInvalid, *e};
  if (c.verb == KvCommand::kKeys) {
    std::string error;
    if (!kv::Glob::compile(c.glob, &error)) return {ErrorKind::kInvalid, error};
    return {};
  }
  if (auto e = kv::validate_key(c.key)) return {ErrorKind::kInvalid, *e};
  if (c.verb == KvCommand::kSet) {
    // The node enforces its own (configurable) value limit; the client only
    // refuses what no node could accept.
    if (auto e = kv::validate_value(c.value, kv::kValueBytesMaxCeiling)) {
      return {ErrorKind::kInvalid, *e};
    }
  }
  return {};
}

KvOutcome run_kv_command(Client& client, const KvCommand& c, Format format, PlainStyle style) {
  KvOutcome out;
  out.error = validate_kv_command(c);
  if (!out.error.ok()) return out;
  switch (c.verb) {
    case KvCommand::kSet: {
      SetResult r;
      out.error = client.set(c.user, c.key, c.value, &r);
      if (out.error.ok()) out.stdout_text = render_set(format, c.user, c.key, r);
      break;
    }
    case KvCommand::kGet: {
      GetResult r;
      out.error = client.get(c.user, c.key, c.consistency, &r);
      if (!out.error.ok()) break;
      out.stdout_text = render_get(format, c.user, c.key, r, style);
      if (!r.found) out.error = {ErrorKind::kNotFound, "key not found"};
      break;
    }
    case KvCommand::kDel: {
      DeleteResult r;
      out.error = client.del(c.user, c.key, &r);
      if (!out.error.ok()) break;
      out.stdout_text = render_del(format, c.user, c.key, r);
      if (!r.deleted) out.error = {ErrorKind::kNotFound, "key not found"};
      break;
    }
    case KvCommand::kKeys: {
      ListResult r;
      out.error = client.list(c.user, c.glob, c.limit, c.consistency, &r);
      if (out.error.ok()) out.stdout_text = render_keys(format, c.user, r, style);
      break;
    }
  }
  return out;
}

}  // namespace mq::cli
