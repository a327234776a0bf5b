// One-line log records on stderr: "2026-11-22T10:00:00.123Z INFO n1 message".
// Thread-safe; a whole line is written with one write(2) so lines from the
// gRPC threads and the node's loop never interleave.
#pragma once

#include <string>
#include <string_view>

namespace mq::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void set_log_node(std::string node_id);
void set_log_level(LogLevel level);
void log(LogLevel level, std::string_view message);
inline void log_info(std::string_view m) { log(LogLevel::kInfo, m); }
inline void log_warn(std::string_view m) { log(LogLevel::kWarn, m); }
inline void log_error(std::string_view m) { log(LogLevel::kError, m); }

}  // namespace mq::server
