// `mq ARGS...` as main() runs it, callable in-process (by `mq help`).
#pragma once

#include <string>
#include <vector>

namespace mq::cli {

// `args` are the arguments after "mq"; returns the exit code.
int run_mq(const std::vector<std::string>& args);

}  // namespace mq::cli
