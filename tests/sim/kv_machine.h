// The simulator's replicated state machine: a map of string keys to values,
// fed by set/delete commands from the log. Reads go through ReadIndex and
// never touch the log. Each command names the operation that issued it so
// the node that proposed it can answer its client when it applies.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace mq::sim {

enum class KvOp : uint8_t { kSet = 1, kDelete = 2 };

struct KvCommand {
  KvOp op = KvOp::kSet;
  uint64_t op_id = 0;  // unique across the run
  std::string key;
  std::string value;
};

std::string encode(const KvCommand& c);
std::optional<KvCommand> decode_command(const std::string& data);

class KvMachine {
 public:
  // Returns whether the key existed before (a delete's result).
  bool apply(const KvCommand& c);
  std::optional<std::string> get(const std::string& key) const;
  std::string snapshot() const;
  bool restore(const std::string& data);
  const std::map<std::string, std::string>& data() const { return data_; }

 private:
  std::map<std::string, std::string> data_;
};

}  // namespace mq::sim
