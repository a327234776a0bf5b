// The REPL's history file: one command per line, exactly as typed, so it
// can be read, grepped and edited (the line editor's own format escapes
// spaces and other bytes). The newest kHistoryLinesMax lines are kept.
#pragma once

#include <string>
#include <vector>

namespace mq::cli {

inline constexpr size_t kHistoryLinesMax = 1000;

// MQ_HISTFILE, else ~/.mq_history; "" when neither is known.
std::string history_path();

// The file's lines, oldest first, at most kHistoryLinesMax (the newest).
// A missing file is an empty history. Rewrites the file when it held more,
// so it does not grow without bound.
std::vector<std::string> load_history(const std::string& path);

// Appends one typed line; false when the file cannot be written.
bool append_history(const std::string& path, const std::string& line);

}  // namespace mq::cli
