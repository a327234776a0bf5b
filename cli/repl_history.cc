#include "cli/repl_history.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace mq::cli {

std::string history_path() {
  if (const char* p = std::getenv("MQ_HISTFILE"); p && *p) return p;
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.mq_history";
  return "";
}

std::vector<std::string> load_history(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  if (!in) return lines;
  std::string line;
  size_t total = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(line);
    ++total;
  }
  if (lines.size() > kHistoryLinesMax) {
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(kHistoryLinesMax));
  }
  if (total > kHistoryLinesMax) {
    // Rewritten whole (a temporary file renamed over it), so a crash
    // leaves either the old history or the trimmed one.
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    for (const auto& l : lines) out << l << '\n';
    out.close();
    if (out) std::rename(tmp.c_str(), path.c_str());
  }
  return lines;
}

bool append_history(const std::string& path, const std::string& line) {
  if (path.empty() || line.find('\n') != std::string::npos) return false;
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << line << '\n';
  return static_cast<bool>(out);
}

}  // namespace mq::cli
