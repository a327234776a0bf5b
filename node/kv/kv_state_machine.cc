#include "node/kv/kv_state_machine.h"

#include <algorithm>
#include <cstring>

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
  if (c->op == Op::kSet) {
    auto u = users_.find(c->user);
    if (u == users_.end()) u = users_.emplace(std::string(c->user), Keys{}).first;
    Keys& keys = u->second;
    auto k = keys.find(c->key);
    if (k == keys.end()) {
      keys.emplace(std::string(c->key), std::string(c->value));
      ++key_count_;
      key_value_bytes_ += c->key.size() + c->value.size();
    } else {
      key_value_bytes_ = key_value_bytes_ - k->second.size() + c->value.size();
      k->second.assign(c->value);  // reuses the old value's buffer when it fits
      r.existed = true;
    }
  } else {
    auto u = users_.find(c->user);
    if (u != users_.end()) {
      auto k = u->second.find(c->key);
      if (k != u->second.end()) {
        key_value_bytes_ -= k->first.size() + k->second.size();
        u->second.erase(k);
        r.existed = true;
        --key_count_;
      }
      if (u->second.empty()) users_.erase(u);
    }
  }
  return r;
}

std::optional<std::string> KvStateMachine::get(const std::string& user,
                                               const std::string& key) const {
  auto u = users_.find(user);
  if (u == users_.end()) return std::nullopt;
  auto k = u->second.find(key);
  if (k == u->second.end()) return std::nullopt;
  return k->second;
}

KvStateMachine::ListPage KvStateMachine::list(const std::string& user, const Glob& glob,
                                              const std::string& after, size_t limit) const {
  ListPage page;
  auto u = users_.find(user);
  if (u == users_.end()) return page;
  const Keys& keys = u->second;
  const std::string& prefix = glob.literal_prefix();
  auto it = after.empty() || after < prefix ? keys.lower_bound(prefix) : keys.upper_bound(after);
  for (; it != keys.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;  // past the prefix range
    if (!glob.matches(it->first)) continue;
    if (page.keys.size() == limit) {
      page.more = true;
      break;
    }
    page.keys.push_back(it->first);
  }
  return page;
}

std::string KvStateMachine::snapshot() const {
  std::string out(kSnapshotMagic, sizeof kSnapshotMagic);
  out.push_back(static_cast<char>(kSnapshotFormat));
  put_varint(out, applied_index_);
  put_varint(out, key_count_);
  // Users in byte order: equal states give byte-equal images on every
  // replica, whatever order the hash map happens to iterate in.
  std::vector<const std::pair<const std::string, Keys>*> users;
  users.reserve(users_.size());
  for (const auto& entry : users_) users.push_back(&entry);
  std::sort(users.begin(), users.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (const auto* entry : users) {
    for (const auto& [key, value] : entry->second) {
      put_bytes(out, entry->first);
      put_bytes(out, key);
      put_bytes(out, value);
    }
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
  decltype(users_) users;
  std::string user, key, value;
  uint64_t key_value_bytes = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (!get_bytes(in, &user) || !get_bytes(in, &key) || !get_bytes(in, &value)) {
      *error = "snapshot image is truncated at record " + std::to_string(i);
      return false;
    }
    key_value_bytes += key.size() + value.size();
    if (!users[user].insert_or_assign(std::move(key), std::move(value)).second) {
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
  users_ = std::move(users);
  applied_index_ = index;
  key_count_ = count;
  key_value_bytes_ = key_value_bytes;
  return true;
}

}  // namespace mq::kv
