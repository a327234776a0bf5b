#include "cli/command_result.h"

#include <unistd.h>

#include <cstdio>

namespace mq::cli {

void write_stdout(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int fail_command(const std::string& name, bool json, const Error& e) {
  if (json) write_stdout(render_error(Format::kJson, e));
  std::string message = e.message;
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::fprintf(stderr, "mq %s: %s\n", name.c_str(), message.c_str());
  return exit_code_of(e.kind);
}

bool resolve_command_flags(const std::string& name, const ClientFlags& flags, ResultShape shape,
                           ResolvedClient* out, int* exit_code) {
  if (auto e = resolve_client_flags(flags, out); !e.empty()) {
    *exit_code = fail_command(name, flags.output == "json", {ErrorKind::kInvalid, e});
    return false;
  }
  if (flags.output.empty()) out->format = default_format(shape, isatty(STDOUT_FILENO));
  return true;
}

void say_plain_is_default(CLI::App& app) {
  app.get_option("-o")->description("Output format: plain, json or table (default: plain)");
}

}  // namespace mq::cli
