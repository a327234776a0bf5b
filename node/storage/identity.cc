#include "node/storage/identity.h"

#include <cstdio>
#include <sstream>

#include "node/storage/crc32c.h"

namespace mq::storage {
namespace {

constexpr const char* kFormatLine = "mq-data-dir 1";

std::string render(const std::string& node_id, const std::string& cluster_id, uint64_t member_id,
                   uint32_t shard_count) {
  std::string body =
      std::string(kFormatLine) + "\nnode_id " + node_id + "\ncluster_id " + cluster_id + "\n";
  if (member_id != 0) body += "member_id " + std::to_string(member_id) + "\n";
  if (shard_count != 0) body += "shards " + std::to_string(shard_count) + "\n";
  return body;
}

std::string crc_line(const std::string& body) {
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%08x", crc32c(body));
  return std::string("crc32c ") + hex + "\n";
}

bool valid_id(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r') return false;
  }
  return true;
}

}  // namespace

Status read_identity(FileSystem* fs, const std::string& data_dir, Identity* out) {
  const std::string path = join_path(data_dir, kIdentityFileName);
  std::string text;
  if (Status read = fs->read_file(path, &text); !read.is_ok()) return read;
  const size_t crc_at = text.rfind("crc32c ");
  if (crc_at == std::string::npos || text.substr(crc_at) != crc_line(text.substr(0, crc_at))) {
    return {StatusCode::kCorrupt, path + ": damaged (checksum mismatch)"};
  }
  std::istringstream in(text.substr(0, crc_at));
  std::string format_line, key_node, key_cluster, key_member;
  std::getline(in, format_line);
  in >> key_node >> out->node_id >> key_cluster >> out->cluster_id;
  if (format_line != kFormatLine || key_node != "node_id" || key_cluster != "cluster_id") {
    return {StatusCode::kCorrupt, path + ": unrecognised format"};
  }
  out->member_id = 0;
  out->shard_count = 0;
  // Lines older data dirs lack.
  while (in >> key_member) {
    uint64_t value = 0;
    if (!(in >> value) || value == 0) return {StatusCode::kCorrupt, path + ": unrecognised format"};
    if (key_member == "member_id") {
      out->member_id = value;
    } else if (key_member == "shards" && value <= UINT32_MAX) {
      out->shard_count = static_cast<uint32_t>(value);
    } else {
      return {StatusCode::kCorrupt, path + ": unrecognised format"};
    }
  }
  return Status::ok();
}

Status check_or_create_identity(FileSystem* fs, const std::string& data_dir, const std::string& node_id,
                                const std::string& cluster_id, bool dir_has_data, uint64_t member_id,
                                uint32_t shard_count) {
  if (!valid_id(node_id) || !valid_id(cluster_id)) {
    return {StatusCode::kInvalidArgument, "node id and cluster id must be non-empty and free of whitespace"};
  }
  const std::string path = join_path(data_dir, kIdentityFileName);
  std::string text;
  Status read = fs->read_file(path, &text);
  if (read.code() == StatusCode::kNotFound) {
    if (dir_has_data) {
      return {StatusCode::kCorrupt, path + " is missing but " + data_dir + " holds a log; refusing to guess whose"};
    }
    const std::string body = render(node_id, cluster_id, member_id, shard_count);
    const std::string tmp = path + ".tmp";
    if (fs->exists(tmp)) {
      if (Status s = fs->remove(tmp); !s.is_ok()) return s;
    }
    {
      auto file = fs->open_append(tmp);
      if (!file.is_ok()) return file.status();
      if (Status s = file.value()->append(body + crc_line(body)); !s.is_ok()) return s;
      if (Status s = file.value()->sync(); !s.is_ok()) return s;
    }
    if (Status s = fs->rename(tmp, path); !s.is_ok()) return s;
    return fs->sync_dir(data_dir);
  }
  if (!read.is_ok()) return read;

  Identity stored;
  if (Status s = read_identity(fs, data_dir, &stored); !s.is_ok()) return s;
  const bool member_differs = member_id != 0 && stored.member_id != 0 && stored.member_id != member_id;
  if (stored.node_id != node_id || stored.cluster_id != cluster_id || member_differs) {
    auto who = [](const std::string& node, const std::string& cluster, uint64_t member) {
      return "node " + node + (member ? " (member " + std::to_string(member) + ")" : "") +
             " of cluster " + cluster;
    };
    return {StatusCode::kForeignDataDir, data_dir + " belongs to " +
                                             who(stored.node_id, stored.cluster_id, stored.member_id) +
                                             ", not " + who(node_id, cluster_id, member_id)};
  }
  return Status::ok();
}

}  // namespace mq::storage
