#include "cli/output.h"

#include <nlohmann/json.hpp>

#include "node/kv/base64.h"
#include "node/kv/shard_hash.h"
#include "node/server/memory_gauge.h"

namespace mq::cli {

namespace {

using nlohmann::json;

// Display width of a UTF-8 string in terminal columns (one per code point;
// good enough for the tables' alignment).
size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// A bytes field: the text (null when not UTF-8: JSON strings must be) and,
// always, the exact bytes as field_base64, so a program reads either field
// without looking at the data first.
void put_bytes(json& j, const std::string& field, const std::string& bytes) {
  j[field] = kv::is_valid_utf8(bytes) ? json(bytes) : json(nullptr);
  j[field + "_base64"] = base64(bytes);
}

void put_header(json& j, const Header& h) {
  j["shard"] = h.shard;
  j["node"] = h.node;
  j["leader"] = h.leader;
  j["term"] = h.term;
  j["index"] = h.index;
}

std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

}  // namespace

std::string base64(std::string_view in) { return kv::base64_encode(in); }

std::optional<Format> parse_format(std::string_view name) {
  if (name == "plain") return Format::kPlain;
  if (name == "json") return Format::kJson;
  if (name == "table") return Format::kTable;
  return std::nullopt;
}

Format default_format(ResultShape shape, bool stdout_is_terminal) {
  return shape == ResultShape::kRows && stdout_is_terminal ? Format::kTable : Format::kPlain;
}

PlainStyle plain_style_for(bool stdout_is_terminal) { return {stdout_is_terminal, false}; }

std::string role_name(std::string_view reported) {
  for (const char* known : {"leader", "follower", "candidate", "pre-candidate"}) {
    if (reported == known) return known;
  }
  // The cluster view marks a replica whose node is not running with "-".
  if (reported == "-") return "down";
  return "unknown";
}

std::string display_bytes(std::string_view bytes) {
  bool plain = !bytes.empty() && kv::is_valid_utf8(bytes);
  for (unsigned char c : bytes) {
    if (c <= ' ' || c == '"' || c == '\'' || c == '\\' || c == 0x7F) plain = false;
  }
  if (plain) return std::string(bytes);
  const bool utf8 = kv::is_valid_utf8(bytes);
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) widths[c] = display_width(headers[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  auto emit = [&](const std::vector<std::string>& cells, std::string& out) {
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out.append(widths[c] - display_width(cells[c]) + 2, ' ');
    }
    out += "\n";
  };
  std::string out;
  emit(headers, out);
  for (const auto& row : rows) emit(row, out);
  return out;
}

std::string render_set(Format f, const std::string& user, const std::string& key,
                       const SetResult& r) {
  if (f == Format::kPlain) return "OK\n";
  if (f == Format::kTable) {
    return render_table({"USER", "KEY", "SHARD", "NODE", "INDEX"},
                        {{display_bytes(user), display_bytes(key), std::to_string(r.header.shard),
                          r.header.node, std::to_string(r.header.index)}});
  }
  json j;
  j["user"] = user;
  put_bytes(j, "key", key);
  put_header(j, r.header);
  return line(j);
}

std::string render_get(Format f, const std::string& user, const std::string& key,
                       const GetResult& r, PlainStyle style) {
  if (f == Format::kPlain) {
    if (!r.found) return "(nil)\n";
    return style.escaped ? display_bytes(r.value) + "\n" : r.value;
  }
  if (f == Format::kTable) {
    return render_table({"USER", "KEY", "VALUE"},
                        {{display_bytes(user), display_bytes(key),
                          r.found ? display_bytes(r.value) : "(nil)"}});
  }
  json j;
  j["user"] = user;
  put_bytes(j, "key", key);
  j["found"] = r.found;
  if (r.found) {
    put_bytes(j, "value", r.value);
  } else {
    j["value"] = nullptr;
    j["value_base64"] = nullptr;
  }
  put_header(j, r.header);
  return line(j);
}

std::string render_del(Format f, const std::string& user, const std::string& key,
                       const DeleteResult& r) {
  if (f == Format::kPlain) return r.deleted ? "OK\n" : "(nil)\n";
  if (f == Format::kTable) {
    return render_table({"USER", "KEY", "DELETED"}, {{display_bytes(user), display_bytes(key),
                                                      r.deleted ? "yes" : "no (not found)"}});
  }
  json j;
  j["user"] = user;
  put_bytes(j, "key", key);
  j["deleted"] = r.deleted;
  put_header(j, r.header);
  return line(j);
}

std::string render_keys(Format f, const std::string& user, const ListResult& r, PlainStyle style) {
  if (f == Format::kPlain) {
    std::string out;
    if (style.one_line) {
      if (r.keys.empty()) return "(empty)\n";
      for (size_t i = 0; i < r.keys.size(); ++i) out += (i ? " " : "") + display_bytes(r.keys[i]);
      return out + "\n";
    }
    for (const auto& k : r.keys) out += (style.escaped ? display_bytes(k) : k) + "\n";
    return out;
  }
  if (f == Format::kTable) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : r.keys) rows.push_back({display_bytes(k)});
    std::string out = render_table({"KEY"}, rows);
    out += "(" + std::to_string(r.keys.size()) + (r.keys.size() == 1 ? " key" : " keys") +
           (r.truncated ? ", more not shown" : "") + ")\n";
    return out;
  }
  json j;
  j["user"] = user;
  // Two lists of the same length and order, by the bytes-field rule: the
  // text of each key (null when not UTF-8) and its exact bytes.
  json keys = json::array(), keys_base64 = json::array();
  for (const auto& k : r.keys) {
    keys.push_back(kv::is_valid_utf8(k) ? json(k) : json(nullptr));
    keys_base64.push_back(base64(k));
  }
  j["keys"] = std::move(keys);
  j["keys_base64"] = std::move(keys_base64);
  j["truncated"] = r.truncated;
  put_header(j, r.header);
  return line(j);
}

namespace {

// The node reports match and lag only for the shards it leads
// (node/server/status_report.cc): elsewhere they are unknown, not zero.
bool replica_progress_known(const ShardStatus& sh) { return sh.role == "leader"; }

std::string memory_summary(const ClusterStatus& s) {
  std::string out = "memory " + server::format_bytes(s.memory_used_bytes);
  if (s.memory_limit_bytes > 0) out += " of " + server::format_bytes(s.memory_limit_bytes);
  if (s.memory_full) out += " (FULL: writes refused, reads and deletes served)";
  return out;
}

std::string status_summary(const ClusterStatus& s) {
  size_t led = 0;
  for (const auto& sh : s.shards) led += !sh.leader.empty();
  size_t up = 0;
  for (const auto& n : s.nodes) up += n.reachable;
  return "node " + s.node + ": " + std::to_string(up) + "/" + std::to_string(s.nodes.size()) +
         " nodes up, " + std::to_string(led) + "/" + std::to_string(s.shards.size()) +
         " shards with a leader" + (s.memory_full ? ", " + memory_summary(s) : "") +
         (s.moves_in_flight > 0 ? ", " + std::to_string(s.moves_in_flight) +
                                      " of the shards it leads moving replicas"
                                : "") +
         "\n";
}

json status_json(const ClusterStatus& s) {
  json j;
  j["node"] = s.node;
  j["cluster_id"] = s.cluster_id;
  j["version"] = s.version;
  j["shard_count"] = s.shard_count;
  j["replication"] = s.replication;
  j["uptime_ms"] = s.uptime_ms;
  j["memory"] = {{"used_bytes", s.memory_used_bytes},
                 {"limit_bytes", s.memory_limit_bytes},
                 {"full", s.memory_full}};
  j["membership"] = {{"map_version", s.map_version}, {"moves_in_flight", s.moves_in_flight}};
  j["nodes"] = json::array();
  for (const auto& n : s.nodes) {
    j["nodes"].push_back({{"id", n.id}, {"address", n.address}, {"reachable", n.reachable}});
  }
  j["shards"] = json::array();
  for (const auto& sh : s.shards) {
    json js = {{"id", sh.id},         {"leader", sh.leader},         {"role", role_name(sh.role)},
               {"term", sh.term},     {"commit", sh.commit},         {"applied", sh.applied},
               {"keys", sh.keys},     {"replicas", json::array()}};
    const bool known = replica_progress_known(sh);
    for (const auto& r : sh.replicas) {
      js["replicas"].push_back({{"node", r.node},
                                {"role", role_name(r.role)},
                                {"match", known ? json(r.match) : json(nullptr)},
                                {"lag", known ? json(r.lag) : json(nullptr)}});
    }
    j["shards"].push_back(std::move(js));
  }
  return j;
}

}  // namespace

std::string render_status(Format f, const ClusterStatus& s) {
  if (f == Format::kJson) return line(status_json(s));
  if (f == Format::kPlain) return status_summary(s);
  std::vector<std::vector<std::string>> node_rows;
  for (const auto& n : s.nodes) node_rows.push_back({n.id, n.address, n.reachable ? "up" : "down"});
  std::vector<std::vector<std::string>> shard_rows;
  for (const auto& sh : s.shards) {
    uint64_t lag_max = 0;
    for (const auto& r : sh.replicas) lag_max = std::max(lag_max, r.lag);
    shard_rows.push_back({std::to_string(sh.id), sh.leader.empty() ? "(none)" : sh.leader,
                          role_name(sh.role), std::to_string(sh.term), std::to_string(sh.commit),
                          std::to_string(sh.applied),
                          replica_progress_known(sh) ? std::to_string(lag_max) : "-",
                          std::to_string(sh.keys)});
  }
  std::string out = "answered by " + s.node + ", " + std::to_string(s.shard_count) +
                    " shards, replication " + std::to_string(s.replication) + ", up " +
                    std::to_string(s.uptime_ms / 1000) + " s, " + memory_summary(s) + "\n\n";
  out += render_table({"NODE", "ADDRESS", "STATE"}, node_rows);
  out += "\n";
  out += render_table({"SHARD", "LEADER", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG", "KEYS"},
                      shard_rows);
  return out;
}

std::string render_error(Format f, const Error& e) {
  if (f == Format::kJson) {
    return line(json{{"error", {{"code", error_code_name(e.kind)}, {"message", e.message}}}});
  }
  std::string message = e.message;
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  return "(error) " + message + "\n";
}

}  // namespace mq::cli
