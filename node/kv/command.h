// The commands that travel through a shard's Raft log, and their encoding.
//
// Format (version 1): one op byte, then length-prefixed fields (LEB128
// varint lengths). Reads never enter the log: they are served by ReadIndex.
// An op byte this version does not know fails decoding, so a node never
// silently skips a command written by a newer one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mq::kv {

enum class Op : uint8_t {
  kSet = 1,
  kDelete = 2,
};

struct Command {
  Op op = Op::kSet;
  std::string user;
  std::string key;
  std::string value;  // kSet only
};

// A decoded command whose fields point into the encoded bytes: applying a
// write on every replica then copies only what the map keeps.
struct CommandView {
  Op op = Op::kSet;
  std::string_view user;
  std::string_view key;
  std::string_view value;  // kSet only
};

std::string encode_command(const Command& c);
// Appends the encoding of the command to out (no copy of the fields first).
void append_command(std::string& out, const CommandView& c);
// nullopt when the bytes are not a well-formed command.
std::optional<Command> decode_command(std::string_view bytes);
std::optional<CommandView> decode_command_view(std::string_view bytes);

// Varint helpers shared by the command and snapshot encodings.
void put_varint(std::string& out, uint64_t v);
size_t varint_length(uint64_t v);  // the bytes put_varint writes for v
bool get_varint(std::string_view& in, uint64_t* v);
void put_bytes(std::string& out, std::string_view b);
bool get_bytes(std::string_view& in, std::string* b);
bool get_bytes(std::string_view& in, std::string_view* b);

}  // namespace mq::kv
