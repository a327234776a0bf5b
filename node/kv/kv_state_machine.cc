#include "node/kv/kv_state_machine.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "node/kv/command.h"

namespace mq::kv {

namespace {
constexpr char kSnapshotMagic[4] = {'M', 'Q', 'K', 'V'};
constexpr uint8_t kSnapshotFormat = 1;
}  // namespace

ApplyResult KvStateMachine::apply(uint64_t index, std::string_view command) {
  applied_index_ = index;
  if (command.empty()) return {};  // leader's no-op
  const auto c = decode_command_view(command);
  if (!c) return {.ok = false};
  ApplyResult r;
  const UserKey at{c->user, c->key};
  auto it = records_.lower_bound(at);
  const bool found = it != records_.end() && !KeyRecordLess::less(at, it->user_key());
  if (c->op == Op::kSet) {
    if (!found) {
      records_.emplace_hint(it, c->user, c->key, c->value);
      ++key_count_;
      key_value_bytes_ += c->key.size() + c->value.size();
    } else {
      key_value_bytes_ = key_value_bytes_ - it->value().size() + c->value.size();
      // The value is not part of the order, so it may change in place.
      const_cast<KeyRecord&>(*it).set_value(c->value);
      r.existed = true;
    }
  } else if (found) {
    key_value_bytes_ -= it->key().size() + it->value().size();
    records_.erase(it);
    r.existed = true;
    --key_count_;
  }
  return r;
}

std::optional<std::string> KvStateMachine::get(const std::string& user,
                                               const std::string& key) const {
  auto it = records_.find(UserKey{user, key});
  if (it == records_.end()) return std::nullopt;
  return std::string(it->value());
}

KvStateMachine::ListPage KvStateMachine::list(const std::string& user, const Glob& glob,
                                              const std::string& after, size_t limit) const {
  ListPage page;
  const std::string& prefix = glob.literal_prefix();
  auto it = after.empty() || after < prefix ? records_.lower_bound(UserKey{user, prefix})
                                            : records_.upper_bound(UserKey{user, after});
  for (; it != records_.end(); ++it) {
    if (it->user() != user) break;  // past the user's keys
    const std::string_view key = it->key();
    if (key.substr(0, prefix.size()) != prefix) break;  // past the prefix range
    if (!glob.matches(key)) continue;
    if (page.keys.size() == limit) {
      page.more = true;
      break;
    }
    page.keys.emplace_back(key);
  }
  return page;
}

std::string KvStateMachine::snapshot() const {
  // Sized exactly first: a 100 MB image grown by doubling would hold up to
  // twice that while it is built.
  auto field = [](std::string_view b) { return varint_length(b.size()) + b.size(); };
  size_t bytes = sizeof kSnapshotMagic + 1 + varint_length(applied_index_) + varint_length(key_count_);
  for (const KeyRecord& r : records_) bytes += field(r.user()) + field(r.key()) + field(r.value());
  std::string out;
  out.reserve(bytes);
  out.append(kSnapshotMagic, sizeof kSnapshotMagic);
  out.push_back(static_cast<char>(kSnapshotFormat));
  put_varint(out, applied_index_);
  put_varint(out, key_count_);
  // In (user, key) byte order, the set's own: equal states give byte-equal
  // images on every replica.
  for (const KeyRecord& r : records_) {
    put_bytes(out, r.user());
    put_bytes(out, r.key());
    put_bytes(out, r.value());
  }
  return out;
}

bool KvStateMachine::restore(std::string_view in, std::string* error) {
  if (in.size() < 5 || std::memcmp(in.data(), kSnapshotMagic, 4) != 0) {
    *error = "snapshot image has no MQKV header";
    return false;
  }
  if (static_cast<uint8_t>(in[4]) != kSnapshotFormat) {
    *error = "snapshot image format " + std::to_string(static_cast<uint8_t>(in[4])) +
             " is not supported (expected 1)";
    return false;
  }
  in.remove_prefix(5);
  uint64_t index = 0, count = 0;
  if (!get_varint(in, &index) || !get_varint(in, &count)) {
    *error = "snapshot image header is truncated";
    return false;
  }
  decltype(records_) records;
  std::string_view user, key, value;
  uint64_t key_value_bytes = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (!get_bytes(in, &user) || !get_bytes(in, &key) || !get_bytes(in, &value)) {
      *error = "snapshot image is truncated at record " + std::to_string(i);
      return false;
    }
    key_value_bytes += key.size() + value.size();
    // Images are written in order, so each record goes at the end (fast);
    // anything else is placed by a search.
    const UserKey at{user, key};
    const bool in_order = records.empty() || KeyRecordLess::less(std::prev(records.end())->user_key(), at);
    const bool inserted = in_order ? (records.emplace_hint(records.end(), user, key, value), true)
                                   : records.emplace(user, key, value).second;
    if (!inserted) {
      // A real image holds each (user, key) once; a repeat would leave the
      // key count disagreeing with the map.
      *error = "snapshot image repeats a user and key at record " + std::to_string(i);
      return false;
    }
  }
  if (!in.empty()) {
    *error = "snapshot image has trailing bytes";
    return false;
  }
  records_ = std::move(records);
  applied_index_ = index;
  key_count_ = count;
  key_value_bytes_ = key_value_bytes;
  return true;
}

}  // namespace mq::kv
