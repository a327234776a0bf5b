#include "node/raft/codec.h"

namespace mq::raft {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_entry(std::string& out, const Entry& e) {
  put_varint(out, e.term);
  put_varint(out, e.index);
  out.push_back(static_cast<char>(e.type));
  put_bytes(out, e.data);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool varint(uint64_t* v, const char* what) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return fail(what, "truncated");
      const uint8_t byte = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && byte > 1) return fail(what, "varint overflows 64 bits");
      result |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return fail(what, "varint longer than 10 bytes");
  }

  bool byte(uint8_t* v, const char* what) {
    if (pos_ >= in_.size()) return fail(what, "truncated");
    *v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }

  bool bytes(std::string* v, const char* what) {
    uint64_t n = 0;
    if (!varint(&n, what)) return false;
    if (n > remaining()) return fail(what, "length exceeds input");
    v->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  // A count of items each at least `min_item_bytes` long cannot exceed what
  // remains; checking first keeps a forged count from allocating gigabytes.
  bool count(uint64_t* n, uint64_t min_item_bytes, const char* what) {
    if (!varint(n, what)) return false;
    if (*n > remaining() / min_item_bytes) return fail(what, "count exceeds input");
    return true;
  }

  bool entry(Entry* e) {
    uint8_t type = 0;
    if (!varint(&e->term, "entry term") || !varint(&e->index, "entry index") ||
        !byte(&type, "entry type")) {
      return false;
    }
    if (type > static_cast<uint8_t>(EntryType::kConfChange)) return fail("entry type", "unknown");
    e->type = static_cast<EntryType>(type);
    return bytes(&e->data, "entry data");
  }

  size_t remaining() const { return in_.size() - pos_; }
  const std::string& error() const { return error_; }

  bool fail(const char* what, const char* why) {
    if (error_.empty()) {
      error_ = std::string(what) + ": " + why + " at byte " + std::to_string(pos_);
    }
    return false;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

// term, index, type, length: the smallest encoded entry.
constexpr uint64_t kMinEntryBytes = 4;

bool decode_message(Reader& r, Message* m) {
  uint8_t version = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  if (!r.byte(&version, "version")) return false;
  if (version != kCodecVersion) return r.fail("version", "unsupported");
  if (!r.byte(&type, "type")) return false;
  if (type == 0 || type > kMessageTypeMax) return r.fail("type", "unknown");
  m->type = static_cast<MessageType>(type);
  if (!r.byte(&flags, "flags")) return false;
  if (flags > 3) return r.fail("flags", "unknown bits");
  m->reject = flags & 1;
  m->snapshot_done = flags & 2;
  if (!r.varint(&m->from, "from") || !r.varint(&m->to, "to") || !r.varint(&m->term, "term") ||
      !r.varint(&m->log_term, "log_term") || !r.varint(&m->index, "index") ||
      !r.varint(&m->commit, "commit") || !r.varint(&m->reject_hint, "reject_hint") ||
      !r.bytes(&m->context, "context")) {
    return false;
  }
  uint64_t n = 0;
  if (!r.count(&n, kMinEntryBytes, "entry count")) return false;
  m->entries.assign(n, Entry{});
  for (Entry& e : m->entries) {
    if (!r.entry(&e)) return false;
  }
  if (m->type == MessageType::kSnap) {
    SnapshotMeta& meta = m->snapshot_meta;
    if (!r.varint(&meta.index, "snapshot index") || !r.varint(&meta.term, "snapshot term")) return false;
    for (auto* ids : {&meta.voters, &meta.learners}) {
      if (!r.count(&n, 1, "member count")) return false;
      ids->assign(n, 0);
      for (NodeId& id : *ids) {
        if (!r.varint(&id, "member id")) return false;
      }
    }
    if (!r.varint(&m->snapshot_offset, "snapshot offset") ||
        !r.bytes(&m->snapshot_chunk, "snapshot chunk")) {
      return false;
    }
  }
  if (r.remaining() != 0) return r.fail("message", "trailing bytes");
  return true;
}

}  // namespace

std::string encode(const Message& m) {
  std::string out;
  out.push_back(static_cast<char>(kCodecVersion));
  out.push_back(static_cast<char>(m.type));
  out.push_back(static_cast<char>((m.reject ? 1 : 0) | (m.snapshot_done ? 2 : 0)));
  for (uint64_t v : {m.from, m.to, m.term, m.log_term, m.index, m.commit, m.reject_hint}) {
    put_varint(out, v);
  }
  put_bytes(out, m.context);
  put_varint(out, m.entries.size());
  for (const Entry& e : m.entries) put_entry(out, e);
  if (m.type == MessageType::kSnap) {
    put_varint(out, m.snapshot_meta.index);
    put_varint(out, m.snapshot_meta.term);
    for (const auto* ids : {&m.snapshot_meta.voters, &m.snapshot_meta.learners}) {
      put_varint(out, ids->size());
      for (NodeId id : *ids) put_varint(out, id);
    }
    put_varint(out, m.snapshot_offset);
    put_bytes(out, m.snapshot_chunk);
  }
  return out;
}

std::string encode(const Entry& e) {
  std::string out;
  out.push_back(static_cast<char>(kCodecVersion));
  put_entry(out, e);
  return out;
}

bool decode(std::string_view in, Message* out, std::string* error) {
  Reader r(in);
  *out = Message{};
  const bool ok = decode_message(r, out);
  if (!ok && error) *error = r.error();
  return ok;
}

bool decode(std::string_view in, Entry* out, std::string* error) {
  Reader r(in);
  uint8_t version = 0;
  bool ok = r.byte(&version, "version");
  if (ok && version != kCodecVersion) ok = r.fail("version", "unsupported");
  ok = ok && r.entry(out);
  if (ok && r.remaining() != 0) ok = r.fail("entry", "trailing bytes");
  if (!ok && error) *error = r.error();
  return ok;
}

}  // namespace mq::raft
