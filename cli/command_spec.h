// What a command declares, read without running it.
//
// Every command builds a CLI::App for its flags and hands it to
// parse_or_exit (client_flags.h) before it does anything else. Inside a
// DescribeScope, parse_or_exit records that App here and returns 0 instead
// of parsing, so running a command under the scope declares its flags and
// stops. `mq completion`, the moving of flags given before the subcommand
// and the test that every flag has its MQ_ variable all read the real
// declarations this way, so none of them keeps a second list to go stale.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace mq::cli {

struct FlagSpec {
  std::vector<std::string> names;  // "-o", "--output": short ones first, as declared
  std::string envname;             // "MQ_OUTPUT", or "" when it has none
  std::string type_name;           // "DURATION", "TEXT", "UINT", ... ("" for a switch)
  bool takes_value = false;        // false for a switch such as --verbose
  std::string description;

  bool has_name(const std::string& name) const;
  // The first long name ("--output"), else the first name.
  const std::string& primary_name() const;
};

struct CommandSpec {
  std::string path;  // "mq cluster up"
  std::vector<FlagSpec> flags;  // --help excluded
  std::vector<std::string> positionals;  // "USER", "KEY", ...

  const FlagSpec* find_flag(const std::string& name) const;
};

// The flags and positionals declared on `app`.
CommandSpec describe_app(const CLI::App& app);

// While one is alive (on this thread), parse_or_exit describes the App it
// is given into `*out` and makes the command return at once.
class DescribeScope {
 public:
  explicit DescribeScope(CommandSpec* out);
  ~DescribeScope();
  DescribeScope(const DescribeScope&) = delete;
  DescribeScope& operator=(const DescribeScope&) = delete;

  // Whether parse_or_exit was reached (a command that never parses its
  // flags cannot be described, and was run for real).
  bool described() const { return described_; }

  // For parse_or_exit: true when a scope is active; the App is recorded.
  static bool record(const CLI::App& app);

 private:
  CommandSpec* out_;
  DescribeScope* outer_;
  bool described_ = false;
};

}  // namespace mq::cli
