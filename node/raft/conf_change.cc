#include "node/raft/conf_change.h"

namespace mq::raft {

// Layout: 1 byte version, 1 byte type, 8 bytes node id little-endian.
constexpr uint8_t kConfChangeVersion = 1;
constexpr size_t kConfChangeBytes = 10;

std::string encode(const ConfChange& cc) {
  std::string out;
  out.push_back(static_cast<char>(kConfChangeVersion));
  out.push_back(static_cast<char>(cc.type));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((cc.node >> (8 * i)) & 0xff));
  return out;
}

std::optional<ConfChange> decode_conf_change(std::string_view data) {
  if (data.size() != kConfChangeBytes) return std::nullopt;
  if (static_cast<uint8_t>(data[0]) != kConfChangeVersion) return std::nullopt;
  const uint8_t type = static_cast<uint8_t>(data[1]);
  if (type < 1 || type > 3) return std::nullopt;
  ConfChange cc;
  cc.type = static_cast<ConfChangeType>(type);
  cc.node = 0;
  for (int i = 0; i < 8; ++i) cc.node |= uint64_t{static_cast<uint8_t>(data[2 + i])} << (8 * i);
  if (cc.node == kNoNode) return std::nullopt;
  return cc;
}

std::string describe(const ConfChange& cc) {
  const char* kind = cc.type == ConfChangeType::kAddVoter     ? "add-voter"
                     : cc.type == ConfChangeType::kAddLearner ? "add-learner"
                                                              : "remove";
  return std::string(kind) + " " + std::to_string(cc.node);
}

}  // namespace mq::raft
