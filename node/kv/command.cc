#include "node/kv/command.h"

namespace mq::kv {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t varint_length(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

bool get_varint(std::string_view& in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

void put_bytes(std::string& out, std::string_view b) {
  put_varint(out, b.size());
  out.append(b);
}

bool get_bytes(std::string_view& in, std::string_view* b) {
  uint64_t n = 0;
  if (!get_varint(in, &n) || n > in.size()) return false;
  *b = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

bool get_bytes(std::string_view& in, std::string* b) {
  std::string_view view;
  if (!get_bytes(in, &view)) return false;
  b->assign(view);
  return true;
}

void append_command(std::string& out, const CommandView& c) {
  out.reserve(out.size() + 1 + 3 * 5 + c.user.size() + c.key.size() + c.value.size());
  out.push_back(static_cast<char>(c.op));
  put_bytes(out, c.user);
  put_bytes(out, c.key);
  if (c.op == Op::kSet) put_bytes(out, c.value);
}

std::string encode_command(const Command& c) {
  std::string out;
  append_command(out, CommandView{c.op, c.user, c.key, c.value});
  return out;
}

std::optional<CommandView> decode_command_view(std::string_view in) {
  if (in.empty()) return std::nullopt;
  CommandView c;
  const uint8_t op = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  if (op != static_cast<uint8_t>(Op::kSet) && op != static_cast<uint8_t>(Op::kDelete)) {
    return std::nullopt;
  }
  c.op = static_cast<Op>(op);
  if (!get_bytes(in, &c.user) || !get_bytes(in, &c.key)) return std::nullopt;
  if (c.op == Op::kSet && !get_bytes(in, &c.value)) return std::nullopt;
  if (!in.empty()) return std::nullopt;
  return c;
}

std::optional<Command> decode_command(std::string_view in) {
  const auto v = decode_command_view(in);
  if (!v) return std::nullopt;
  return Command{v->op, std::string(v->user), std::string(v->key), std::string(v->value)};
}

}  // namespace mq::kv
