// mq completion bash|zsh|fish: prints the completion script for a shell.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/completion.h"

namespace mq::cli {

int cmd_completion(int argc, char** argv) {
  std::string shell;
  CLI::App app{"Print a completion script for bash, zsh or fish: commands, verbs and flags.",
               "mq completion"};
  app.add_option("SHELL", shell, "bash, zsh or fish")->required();
  app.footer(R"(Examples:
  source <(mq completion bash)                        # this bash session
  mq completion bash > ~/.local/share/bash-completion/completions/mq
  mq completion zsh > "${fpath[1]}/_mq"               # then: compinit
  mq completion fish > ~/.config/fish/completions/mq.fish)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  const auto script = completion_script(shell, completion_nodes());
  if (!script) {
    std::fprintf(stderr, "mq completion: no completion for shell '%s' (bash, zsh or fish)\n",
                 shell.c_str());
    return 2;
  }
  std::fputs(script->c_str(), stdout);
  return 0;
}

}  // namespace mq::cli
