#include "cli/repl_launcher_line.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "cli/client/client.h"
#include "cli/commands.h"
#include "cli/tokenizer.h"

namespace mq::cli {

namespace {

using nlohmann::json;

struct Captured {
  int exit_code = 0;
  std::string out, err;
};

std::string read_all(int fd) {
  std::string text;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  return text;
}

// Runs `run` with stdout and stderr going to memory files (not pipes: a
// command that prints more than a pipe holds would block on itself).
Captured capture(const std::function<int()>& run) {
  std::fflush(stdout);
  std::fflush(stderr);
  Captured c;
  const int out_fd = ::memfd_create("mq-repl-stdout", MFD_CLOEXEC);
  const int err_fd = ::memfd_create("mq-repl-stderr", MFD_CLOEXEC);
  const int saved_out = ::dup(STDOUT_FILENO);
  const int saved_err = ::dup(STDERR_FILENO);
  if (out_fd < 0 || err_fd < 0 || saved_out < 0 || saved_err < 0) {
    for (int fd : {out_fd, err_fd, saved_out, saved_err}) {
      if (fd >= 0) ::close(fd);
    }
    c.exit_code = 3;
    c.err = std::string("cannot capture the command's output: ") + std::strerror(errno);
    return c;
  }
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  c.exit_code = run();
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, STDOUT_FILENO);
  ::dup2(saved_err, STDERR_FILENO);
  ::close(saved_out);
  ::close(saved_err);
  c.out = read_all(out_fd);
  c.err = read_all(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  return c;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
  }
  return out;
}

// The error code of an `mq cluster`, `mq demo` or `mq member` exit code.
ErrorKind kind_of_exit(int code) {
  switch (code) {
    case 1: return ErrorKind::kNotFound;
    case 2: return ErrorKind::kInvalid;
    case 4: return ErrorKind::kUnknownOutcome;
    default: return ErrorKind::kUnavailable;
  }
}

// Why the command failed: its last stderr line, without the "mq cluster
// VERB: " it starts with when run from a shell. A usage error ends with a
// pointer to --help ("Run 'mq member add --help' for usage."): the reason
// is the line before it.
std::string failure_message(const Captured& c) {
  auto lines = lines_of(c.err);
  if (lines.size() > 1 && lines.back().rfind("Run '", 0) == 0) lines.pop_back();
  std::string message = lines.empty() ? "failed with exit code " + std::to_string(c.exit_code)
                                      : lines.back();
  if (message.rfind("mq ", 0) == 0) {
    if (size_t colon = message.find(": "); colon != std::string::npos) message.erase(0, colon + 2);
  }
  return message;
}

// The JSON a command printed, as one value: one document, or several (one
// per line) gathered in an array.
std::optional<json> parse_output(const std::string& out) {
  if (auto whole = json::parse(out, nullptr, false); !whole.is_discarded()) return whole;
  json all = json::array();
  for (const auto& line : lines_of(out)) {
    auto doc = json::parse(line, nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    all.push_back(std::move(doc));
  }
  return all;
}

// One line that sums up a command's JSON result, for piped plain mode: the
// demo's verdict, or how many lines a log had (one JSON object each).
std::string summary_of(const json& j) {
  if (j.is_array()) return std::to_string(j.size()) + " lines (-o json prints them)";
  if (!j.is_object() || !j.contains("trials")) return "OK";
  std::string line = "demo: " + std::to_string(j["trials"].size()) + " trial(s)";
  if (j.contains("linearizable")) {
    const json& v = j["linearizable"];
    line += ", linearizable " + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  if (j.contains("median_ms") && j["median_ms"].is_number()) {
    line += ", median longest write gap " + j["median_ms"].dump() + " ms";
  }
  return line;
}

// Verbs whose plain output is a report or a log: piped, they run with
// -o json and are summed up in one line. (Status and up print their own
// one-line summary in plain, which is what a pipe gets by default.)
bool prints_many_lines(const std::string& command, const std::vector<std::string>& words) {
  if (command == "demo") return true;
  return !words.empty() && words[0] == "logs";
}

// Live views never end on their own: a driving program would wait forever.
bool is_live_view(const std::string& command, const std::vector<std::string>& words) {
  if (command != "cluster" || words.empty()) return false;
  if (words[0] == "watch") return true;
  if (words[0] != "logs") return false;
  for (const auto& w : words) {
    if (w == "-f" || w == "--follow") return true;
  }
  return false;
}

std::string one_line(Format format, const Captured& c, bool ran_json) {
  if (c.exit_code != 0) {
    if (format == Format::kJson) {
      // The command may have printed its error as JSON itself.
      if (auto j = parse_output(c.out); j && j->is_object() && j->contains("error")) {
        return j->dump() + "\n";
      }
    }
    return render_error(format, Error{kind_of_exit(c.exit_code), failure_message(c)});
  }
  if (ran_json) {
    auto j = parse_output(c.out);
    if (!j) return render_error(format, Error{ErrorKind::kInternal, "the command printed no JSON"});
    return (format == Format::kJson ? j->dump() : summary_of(*j)) + "\n";
  }
  // Plain verbs print one sentence; should one print more, the lines are
  // joined rather than broken.
  std::string joined;
  for (const auto& l : lines_of(c.out)) joined += (joined.empty() ? "" : "; ") + l;
  return (joined.empty() ? "OK" : joined) + "\n";
}

// A \member verb acts on the cluster the REPL is connected to, not on
// whatever the flags' defaults would name, unless the line says where.
void target_repl_endpoint(std::vector<std::string>* words, const std::string& endpoint) {
  if (endpoint.empty() || words->empty() || !find_command(member_verbs(), words->front())) return;
  for (const auto& w : *words) {
    for (const char* flag : {"--endpoints", "--cluster"}) {
      const size_t n = std::strlen(flag);
      if (w.compare(0, n, flag) == 0 && (w.size() == n || w[n] == '=')) return;
    }
  }
  words->push_back("--endpoints=" + endpoint);
}

// Runs `mq COMMAND WORDS...` in this process.
int run_words(const std::string& command, const std::vector<std::string>& words) {
  if (command != "member") return run_cluster_words(command, words);
  std::vector<std::string> storage = {"mq member"};
  storage.insert(storage.end(), words.begin(), words.end());
  std::vector<char*> args;
  for (auto& s : storage) args.push_back(s.data());
  args.push_back(nullptr);
  return cmd_member(static_cast<int>(storage.size()), args.data());
}

}  // namespace

std::optional<std::string> run_launcher_line(const std::string& line, Format format,
                                             bool one_line_output, const std::string& endpoint) {
  const size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos || line[start] != '\\') return std::nullopt;
  std::string command;
  for (const char* c : {"cluster", "demo", "member"}) {
    const size_t n = std::strlen(c);
    if (line.compare(start + 1, n, c) == 0 &&
        (start + 1 + n == line.size() || line[start + 1 + n] == ' ' || line[start + 1 + n] == '\t')) {
      command = c;
    }
  }
  if (command.empty()) return std::nullopt;
  std::string error;
  auto words = tokenize(line.substr(start + 1 + command.size()), &error);
  if (!words) return render_error(format, Error{ErrorKind::kInvalid, error});
  if (command == "member") target_repl_endpoint(&*words, endpoint);
  if (!one_line_output) {
    std::fflush(stdout);
    run_words(command, *words);
    std::fflush(stdout);
    return std::string();
  }
  if (words->empty()) {
    // Without a verb the command prints its usage on stderr, whose last
    // line alone would make a puzzling error.
    return render_error(format, Error{ErrorKind::kInvalid, "\\" + command + " needs a verb; \\" +
                                                               command + " --help lists them"});
  }
  if (is_live_view(command, *words)) {
    return render_error(format, Error{ErrorKind::kInvalid,
                                      "\\" + command + " " + (*words)[0] +
                                          " is a live view; run it in a terminal: mq " + command +
                                          " " + (*words)[0]});
  }
  const bool run_json = format == Format::kJson || prints_many_lines(command, *words);
  if (run_json) {
    // The REPL's format decides what is printed; an -o of the line's own
    // would print something this cannot condense.
    std::vector<std::string> kept;
    for (size_t i = 0; i < words->size(); ++i) {
      const std::string& w = (*words)[i];
      if (w == "-o" || w == "--output") {
        ++i;
        continue;
      }
      if (w.rfind("-o=", 0) == 0 || w.rfind("--output=", 0) == 0) continue;
      kept.push_back(w);
    }
    kept.push_back("-o=json");
    *words = std::move(kept);
  }
  const Captured c = capture([&] { return run_words(command, *words); });
  // What the command said on stderr (progress, hints) still reaches stderr.
  if (c.exit_code == 0 && !c.err.empty()) std::fwrite(c.err.data(), 1, c.err.size(), stderr);
  return one_line(format, c, run_json);
}

}  // namespace mq::cli
