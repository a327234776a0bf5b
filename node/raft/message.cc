#include "node/raft/message.h"

namespace mq::raft {

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::kPreVote: return "PreVote";
    case MessageType::kPreVoteResp: return "PreVoteResp";
    case MessageType::kVote: return "Vote";
    case MessageType::kVoteResp: return "VoteResp";
    case MessageType::kApp: return "App";
    case MessageType::kAppResp: return "AppResp";
    case MessageType::kHeartbeat: return "Heartbeat";
    case MessageType::kHeartbeatResp: return "HeartbeatResp";
    case MessageType::kSnap: return "Snap";
    case MessageType::kSnapResp: return "SnapResp";
    case MessageType::kTimeoutNow: return "TimeoutNow";
  }
  return "Unknown";
}

// Payloads are application bytes; a trace line must stay one printable line.
static std::string printable(const std::string& data) {
  std::string out = data.size() <= 16 ? data : data.substr(0, 16);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '.';
  }
  return data.size() <= 16 ? out : out + "...";
}

static std::string describe_entries(const std::vector<Entry>& entries) {
  std::string out = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (i > 0) out += " ";
    out += std::to_string(e.term) + "/" + std::to_string(e.index);
    if (e.type == EntryType::kConfChange) {
      out += " conf";
    } else if (!e.data.empty()) {
      out += " " + printable(e.data);
    }
  }
  return out + "]";
}

std::string describe(const Message& m) {
  std::string out = std::to_string(m.from) + "->" + std::to_string(m.to) + " " +
                    std::string(to_string(m.type)) + " term:" + std::to_string(m.term);
  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      out += " last:" + std::to_string(m.log_term) + "/" + std::to_string(m.index);
      break;
    case MessageType::kApp:
      out += " prev:" + std::to_string(m.log_term) + "/" + std::to_string(m.index) +
             " commit:" + std::to_string(m.commit) + " " + describe_entries(m.entries);
      break;
    case MessageType::kAppResp:
      out += " index:" + std::to_string(m.index);
      if (m.reject) {
        out += " rejected hint:" + std::to_string(m.log_term) + "/" + std::to_string(m.reject_hint);
      }
      break;
    case MessageType::kHeartbeat:
      out += " commit:" + std::to_string(m.commit);
      break;
    case MessageType::kSnap:
      out += " snap:" + std::to_string(m.snapshot_meta.term) + "/" +
             std::to_string(m.snapshot_meta.index) + " offset:" + std::to_string(m.snapshot_offset) +
             " bytes:" + std::to_string(m.snapshot_chunk.size()) + (m.snapshot_done ? " done" : "");
      break;
    case MessageType::kSnapResp:
      out += " snap:" + std::to_string(m.index) + " next_offset:" + std::to_string(m.reject_hint);
      break;
    default:
      break;
  }
  if ((m.type == MessageType::kPreVoteResp || m.type == MessageType::kVoteResp) && m.reject) {
    out += " rejected";
  }
  if (!m.context.empty()) out += " ctx:" + m.context;
  return out;
}

}  // namespace mq::raft
