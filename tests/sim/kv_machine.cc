#include "tests/sim/kv_machine.h"

namespace mq::sim {
namespace {

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_str(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}

bool get_u64(const std::string& in, size_t& pos, uint64_t* v) {
  if (in.size() - pos < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<uint8_t>(in[pos + i])} << (8 * i);
  pos += 8;
  return true;
}

bool get_str(const std::string& in, size_t& pos, std::string* s) {
  uint64_t n = 0;
  if (!get_u64(in, pos, &n) || in.size() - pos < n) return false;
  s->assign(in, pos, n);
  pos += n;
  return true;
}

}  // namespace

std::string encode(const KvCommand& c) {
  std::string out;
  out.push_back(static_cast<char>(c.op));
  put_u64(out, c.op_id);
  put_str(out, c.key);
  put_str(out, c.value);
  return out;
}

std::optional<KvCommand> decode_command(const std::string& data) {
  if (data.empty()) return std::nullopt;
  KvCommand c;
  const uint8_t op = static_cast<uint8_t>(data[0]);
  if (op != 1 && op != 2) return std::nullopt;
  c.op = static_cast<KvOp>(op);
  size_t pos = 1;
  if (!get_u64(data, pos, &c.op_id) || !get_str(data, pos, &c.key) ||
      !get_str(data, pos, &c.value) || pos != data.size()) {
    return std::nullopt;
  }
  return c;
}

bool KvMachine::apply(const KvCommand& c) {
  const bool existed = data_.count(c.key) > 0;
  if (c.op == KvOp::kSet) {
    data_[c.key] = c.value;
  } else {
    data_.erase(c.key);
  }
  return existed;
}

std::optional<std::string> KvMachine::get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string KvMachine::snapshot() const {
  std::string out;
  put_u64(out, data_.size());
  for (const auto& [k, v] : data_) {
    put_str(out, k);
    put_str(out, v);
  }
  return out;
}

bool KvMachine::restore(const std::string& data) {
  std::map<std::string, std::string> restored;
  size_t pos = 0;
  uint64_t n = 0;
  if (!data.empty()) {
    if (!get_u64(data, pos, &n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string k;
      std::string v;
      if (!get_str(data, pos, &k) || !get_str(data, pos, &v)) return false;
      restored[k] = v;
    }
  }
  if (pos != data.size()) return false;
  data_ = std::move(restored);
  return true;
}

}  // namespace mq::sim
