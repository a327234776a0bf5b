// Snapshot files: the KV state machine of one group at one log index.
//
// On disk (directory <data-dir>/snap): snap-<group, 8 hex>-<index, 16 hex>.snap
//   8 bytes  magic "MQSNAP01"
//   u32      header length
//   header   u32 group, u64 index, u64 term, u32 voter count, u64 voters...,
//            u32 learner count, u64 learners..., u64 data length
//   u32      crc32c of the header length field and the header
//   data     the state machine's bytes, opaque here
//   u32      crc32c of data
//
// Writing: the file is written as <name>.tmp, fsynced, renamed to its name
// and the directory fsynced, so a crash leaves either the whole new file or
// none of it (a leftover .tmp is deleted on open). Older snapshots of the
// group are deleted only after the new one is durable.
// Loading: every file is verified in full; a damaged newest snapshot is
// reported through the log and the next older valid one is used. Whether
// the WAL still covers the gap is checked by the caller.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "node/raft/types.h"
#include "node/storage/file_system.h"
#include "node/storage/wal.h"

namespace mq::storage {

std::string snapshot_file_name(GroupId group, uint64_t index);

// kNow: the file is durable when write_snapshot returns, and the group's
// older snapshot files are gone. kLater: the file is written and in place
// (readable), its writeback started but not waited for; sync_snapshot makes
// it durable later, and only then are the older files removed, so a crash
// before that finds an older snapshot whole (the newer one, if damaged, is
// skipped by its checksum).
enum class Durability { kNow, kLater };

Status write_snapshot(FileSystem* fs, const std::string& dir, GroupId group, const raft::Snapshot& snapshot,
                      Durability durability = Durability::kNow);
Status sync_snapshot(FileSystem* fs, const std::string& dir, GroupId group, uint64_t index);
Status remove_older_snapshots(FileSystem* fs, const std::string& dir, GroupId group, uint64_t newest);

// The newest valid snapshot of every group that has one; removes stale .tmp
// files. Damaged files are reported through log and skipped.
Status load_snapshots(FileSystem* fs, const std::string& dir, const LogFn& log,
                      std::map<GroupId, raft::Snapshot>* snapshots);

// Up to max_bytes of the data of the group's snapshot at index, from offset:
// what a leader streams to a follower. At offset 0 the whole file is
// verified against its checksums; later chunks check the header only.
Status read_snapshot_data(FileSystem* fs, const std::string& dir, GroupId group, uint64_t index,
                          uint64_t offset, uint64_t max_bytes, std::string* out);

// Verifies and decodes one snapshot file image.
Status decode_snapshot(const std::string& name, std::string&& image, GroupId* group, raft::Snapshot* out);

}  // namespace mq::storage
