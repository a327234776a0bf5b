// `\cluster VERB ...`, `\demo ...` and `\member VERB ...` lines of the
// REPL: the `mq cluster`, `mq demo` and `mq member` commands, run in this
// process. On a terminal they print as they would from a shell. Piped, the
// REPL promises exactly one line per command, so their output is captured and condensed: the JSON object on
// one line with -o json, else a one-line summary, and a failure becomes
// one error line.
#pragma once

#include <optional>
#include <string>

#include "cli/output.h"

namespace mq::cli {

// nullopt when `line` is not a \cluster, \demo or \member line. Otherwise
// what to print on stdout: "" on a terminal (the command printed its own
// output), one line when piped. A \member verb talks to `endpoint` (the
// REPL's node) unless the line names --endpoints or --cluster itself.
std::optional<std::string> run_launcher_line(const std::string& line, Format format, bool one_line,
                                             const std::string& endpoint = "");

}  // namespace mq::cli
