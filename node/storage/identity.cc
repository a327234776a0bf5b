#include "node/storage/identity.h"

#include <cstdio>
#include <sstream>

#include "node/storage/crc32c.h"

namespace mq::storage {
namespace {

constexpr const char* kFormatLine = "mq-data-dir 1";

std::string render(const std::string& node_id, const std::string& cluster_id) {
  return std::string(kFormatLine) + "\nnode_id " + node_id + "\ncluster_id " + cluster_id + "\n";
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

Status check_or_create_identity(FileSystem* fs, const std::string& data_dir, const std::string& node_id,
                                const std::string& cluster_id, bool dir_has_data) {
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
    const std::string body = render(node_id, cluster_id);
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

  const size_t crc_at = text.rfind("crc32c ");
  if (crc_at == std::string::npos || text.substr(crc_at) != crc_line(text.substr(0, crc_at))) {
    return {StatusCode::kCorrupt, path + ": damaged (checksum mismatch)"};
  }
  std::istringstream in(text.substr(0, crc_at));
  std::string format_line, key_node, stored_node, key_cluster, stored_cluster;
  std::getline(in, format_line);
  in >> key_node >> stored_node >> key_cluster >> stored_cluster;
  if (format_line != kFormatLine || key_node != "node_id" || key_cluster != "cluster_id") {
    return {StatusCode::kCorrupt, path + ": unrecognised format"};
  }
  if (stored_node != node_id || stored_cluster != cluster_id) {
    return {StatusCode::kForeignDataDir, data_dir + " belongs to node " + stored_node + " of cluster " +
                                             stored_cluster + ", not node " + node_id + " of cluster " +
                                             cluster_id};
  }
  return Status::ok();
}

}  // namespace mq::storage
