#include "node/storage/snapshot_file.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "node/storage/coding.h"
#include "node/storage/crc32c.h"

namespace mq::storage {
namespace {

constexpr char kMagic[8] = {'M', 'Q', 'S', 'N', 'A', 'P', '0', '1'};
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr uint64_t kHeaderBytesMax = 1 << 20;

bool parse_snapshot_name(const std::string& name, GroupId* group, uint64_t* index) {
  unsigned int g = 0;
  uint64_t i = 0;
  int consumed = 0;
  if (std::sscanf(name.c_str(), "snap-%8x-%16" SCNx64 ".snap%n", &g, &i, &consumed) != 2) return false;
  if (static_cast<size_t>(consumed) != name.size() || name != snapshot_file_name(g, i)) return false;
  *group = g;
  *index = i;
  return true;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string snapshot_file_name(GroupId group, uint64_t index) {
  char name[48];
  std::snprintf(name, sizeof(name), "snap-%08x-%016" PRIx64 ".snap", group, index);
  return name;
}

Status write_snapshot(FileSystem* fs, const std::string& dir, GroupId group, const raft::Snapshot& snapshot,
                      Durability durability) {
  std::string header;
  put_u32(&header, group);
  put_u64(&header, snapshot.meta.index);
  put_u64(&header, snapshot.meta.term);
  put_u32(&header, static_cast<uint32_t>(snapshot.meta.voters.size()));
  for (raft::NodeId id : snapshot.meta.voters) put_u64(&header, id);
  put_u32(&header, static_cast<uint32_t>(snapshot.meta.learners.size()));
  for (raft::NodeId id : snapshot.meta.learners) put_u64(&header, id);
  put_u64(&header, snapshot.data.size());

  std::string prefix(kMagic, sizeof(kMagic));
  put_u32(&prefix, static_cast<uint32_t>(header.size()));
  prefix += header;
  put_u32(&prefix, crc32c(std::string_view(prefix).substr(sizeof(kMagic))));
  std::string trailer;
  put_u32(&trailer, crc32c(snapshot.data));

  const std::string name = snapshot_file_name(group, snapshot.meta.index);
  const std::string path = join_path(dir, name);
  const std::string tmp = path + std::string(kTmpSuffix);
  if (fs->exists(tmp)) {
    if (Status s = fs->remove(tmp); !s.is_ok()) return s;
  }
  {
    auto file = fs->open_append(tmp);
    if (!file.is_ok()) return file.status();
    WritableFile& f = *file.value();
    // The data goes straight from the caller's buffer: no copy of it is made.
    for (std::string_view part : {std::string_view(prefix), std::string_view(snapshot.data), std::string_view(trailer)}) {
      if (Status s = f.append(part); !s.is_ok()) return s;
    }
    if (durability == Durability::kLater) {
      f.start_writeback();
    } else if (Status s = f.sync(); !s.is_ok()) {
      return s;
    }
  }
  if (Status s = fs->rename(tmp, path); !s.is_ok()) return s;
  if (durability == Durability::kLater) return Status::ok();
  if (Status s = fs->sync_dir(dir); !s.is_ok()) return s;
  return remove_older_snapshots(fs, dir, group, snapshot.meta.index);
}

Status sync_snapshot(FileSystem* fs, const std::string& dir, GroupId group, uint64_t index) {
  {
    auto file = fs->open_append(join_path(dir, snapshot_file_name(group, index)));
    if (!file.is_ok()) return file.status();
    if (Status s = file.value()->sync(); !s.is_ok()) return s;
  }
  if (Status s = fs->sync_dir(dir); !s.is_ok()) return s;
  return remove_older_snapshots(fs, dir, group, index);
}

Status remove_older_snapshots(FileSystem* fs, const std::string& dir, GroupId group, uint64_t newest) {
  auto names = fs->list_dir(dir);
  if (!names.is_ok()) return names.status();
  for (const std::string& other : names.value()) {
    GroupId g;
    uint64_t index;
    if (parse_snapshot_name(other, &g, &index) && g == group && index < newest) {
      if (Status s = fs->remove(join_path(dir, other)); !s.is_ok()) return s;
    }
  }
  return Status::ok();
}

namespace {

// The framing before the data: magic, header length, header, checksum.
// *header_end is where the header's checksum starts; the data follows it.
Status check_header(const std::string& name, std::string_view bytes, size_t* header_end) {
  auto corrupt = [&](const std::string& why) { return Status(StatusCode::kCorrupt, name + ": " + why); };
  if (bytes.size() < sizeof(kMagic) + 4 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("not a snapshot file (bad magic)");
  }
  const uint32_t header_len = load_u32(bytes.data() + sizeof(kMagic));
  *header_end = sizeof(kMagic) + 4 + static_cast<size_t>(header_len);
  if (*header_end + 4 > bytes.size()) return corrupt("header runs past the end of the file");
  const std::string_view checked(bytes.data() + sizeof(kMagic), 4 + header_len);
  if (crc32c(checked) != load_u32(bytes.data() + *header_end)) return corrupt("header checksum mismatch");
  return Status::ok();
}

}  // namespace

Status decode_snapshot(const std::string& name, std::string&& image, GroupId* group, raft::Snapshot* out) {
  auto corrupt = [&](const std::string& why) { return Status(StatusCode::kCorrupt, name + ": " + why); };
  size_t header_end = 0;
  if (Status s = check_header(name, image, &header_end); !s.is_ok()) return s;
  const size_t header_len = header_end - sizeof(kMagic) - 4;

  Decoder d(std::string_view(image.data() + sizeof(kMagic) + 4, header_len));
  raft::Snapshot snap;
  uint32_t count = 0;
  uint64_t data_len = 0;
  d.u32(group);
  d.u64(&snap.meta.index);
  d.u64(&snap.meta.term);
  for (auto* ids : {&snap.meta.voters, &snap.meta.learners}) {
    if (!d.u32(&count) || count > header_len / 8) return corrupt("malformed header");
    for (uint32_t i = 0; i < count; ++i) {
      uint64_t id = 0;
      d.u64(&id);
      ids->push_back(id);
    }
  }
  d.u64(&data_len);
  if (!d.ok() || !d.rest().empty()) return corrupt("malformed header");
  const size_t data_start = header_end + 4;
  if (image.size() - data_start != data_len + 4) {
    return corrupt("size " + std::to_string(image.size()) + " does not match the header (data " +
                   std::to_string(data_len) + " bytes)");
  }
  const std::string_view data(image.data() + data_start, data_len);
  if (crc32c(data) != load_u32(image.data() + data_start + data_len)) return corrupt("data checksum mismatch");
  // Move the image into place and cut the framing off both ends, rather than
  // copying a possibly huge payload.
  image.resize(data_start + data_len);
  image.erase(0, data_start);
  snap.data = std::move(image);
  *out = std::move(snap);
  return Status::ok();
}

Status read_snapshot_data(FileSystem* fs, const std::string& dir, GroupId group, uint64_t index,
                          uint64_t offset, uint64_t max_bytes, std::string* out) {
  const std::string path = join_path(dir, snapshot_file_name(group, index));
  auto corrupt = [&](const std::string& why) { return Status(StatusCode::kCorrupt, path + ": " + why); };
  if (offset == 0) {
    // The first chunk of a transfer: the whole file is checked, so an image
    // damaged on this disk is never streamed to a follower.
    std::string image;
    if (Status s = fs->read_file(path, &image); !s.is_ok()) return s;
    GroupId decoded_group = 0;
    raft::Snapshot snap;
    if (Status s = decode_snapshot(path, std::move(image), &decoded_group, &snap); !s.is_ok()) return s;
    if (decoded_group != group || snap.meta.index != index) return corrupt("names another group or index");
    snap.data.resize(std::min<uint64_t>(snap.data.size(), max_bytes));
    *out = std::move(snap.data);
    return Status::ok();
  }
  // The header's length first, then the header itself, checked.
  std::string prefix;
  if (Status s = fs->read_range(path, 0, sizeof(kMagic) + 4, &prefix); !s.is_ok()) return s;
  const bool framed = prefix.size() == sizeof(kMagic) + 4 && std::memcmp(prefix.data(), kMagic, sizeof(kMagic)) == 0;
  const uint64_t header_len = framed ? load_u32(prefix.data() + sizeof(kMagic)) : 0;
  // A header names a few node ids; a damaged length must not size a read.
  if (header_len > kHeaderBytesMax) return corrupt("malformed header");
  if (Status s = fs->read_range(path, 0, sizeof(kMagic) + 4 + header_len + 4, &prefix); !s.is_ok()) return s;
  size_t header_end = 0;
  if (Status s = check_header(path, prefix, &header_end); !s.is_ok()) return s;
  if (header_len < 8) return corrupt("malformed header");
  // The data length closes the header.
  const uint64_t data_len = load_u64(prefix.data() + header_end - 8);
  if (offset > data_len) return corrupt("no data at offset " + std::to_string(offset));
  const uint64_t want = std::min(max_bytes, data_len - offset);
  if (Status s = fs->read_range(path, header_end + 4 + offset, want, out); !s.is_ok()) return s;
  if (out->size() != want) return corrupt("data cut short at offset " + std::to_string(offset));
  return Status::ok();
}

Status load_snapshots(FileSystem* fs, const std::string& dir, const LogFn& log,
                      std::map<GroupId, raft::Snapshot>* snapshots) {
  auto names = fs->list_dir(dir);
  if (!names.is_ok()) return names.status();
  std::map<GroupId, std::vector<uint64_t>> by_group;
  for (const std::string& name : names.value()) {
    GroupId group;
    uint64_t index;
    if (ends_with(name, kTmpSuffix)) {
      // An interrupted write: the previous snapshot is still in place.
      if (Status s = fs->remove(join_path(dir, name)); !s.is_ok()) return s;
      continue;
    }
    if (parse_snapshot_name(name, &group, &index)) by_group[group].push_back(index);
  }
  for (auto& [group, indexes] : by_group) {
    std::sort(indexes.rbegin(), indexes.rend());
    for (uint64_t index : indexes) {
      const std::string name = snapshot_file_name(group, index);
      const std::string path = join_path(dir, name);
      std::string image;
      if (Status s = fs->read_file(path, &image); !s.is_ok()) return s;
      GroupId decoded_group = 0;
      raft::Snapshot snap;
      Status s = decode_snapshot(path, std::move(image), &decoded_group, &snap);
      if (s.is_ok() && (decoded_group != group || snap.meta.index != index)) {
        s = Status(StatusCode::kCorrupt, path + ": contents name group " + std::to_string(decoded_group) +
                                             " index " + std::to_string(snap.meta.index));
      }
      if (!s.is_ok()) {
        log("snapshot " + s.message() + "; trying an older one");
        continue;
      }
      (*snapshots)[group] = std::move(snap);
      break;
    }
  }
  return Status::ok();
}

}  // namespace mq::storage
