// What every client command does with its flags and its failures: the
// format its result takes by default, and a failure as one line on stderr
// plus, with -o json, the error object on stdout (so a program reading
// stdout always gets one JSON object, whatever happened).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/client/client.h"
#include "cli/client_flags.h"
#include "cli/output.h"

namespace mq::cli {

void write_stdout(const std::string& text);

// "mq NAME: message" on stderr (NAME: "get", "member add"); returns the
// exit code of the error's kind.
int fail_command(const std::string& name, bool json, const Error& e);

// Resolves the flags, with the default format of the command's result
// shape; false (and *exit_code set) when they are invalid.
bool resolve_command_flags(const std::string& name, const ClientFlags& flags, ResultShape shape,
                           ResolvedClient* out, int* exit_code);

// A command of a single result is plain by default, terminal or not (the
// shared flag's help speaks of the commands that print rows).
void say_plain_is_default(CLI::App& app);

}  // namespace mq::cli
