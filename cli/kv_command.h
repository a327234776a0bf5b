// The data commands (set, get, del, keys), shared by the one-shot client and
// the REPL: checked on the client first (so bad input never leaves the
// machine), sent, and rendered.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/client/client.h"
#include "cli/output.h"

namespace mq::cli {

struct KvCommand {
  enum Verb { kSet, kGet, kDel, kKeys } verb = kGet;
  std::string user;
  std::string key;
  std::string value;
  std::string glob = "*";
  uint32_t limit = 0;  // keys: 0 = all
  Consistency consistency = Consistency::kLinearizable;
};

// Parses REPL words ("set USER KEY VALUE" ...); nullopt + error on misuse.
// Returns nullopt with an empty error when words[0] is not a data command.
std::optional<KvCommand> parse_kv_words(const std::vector<std::string>& words, std::string* error);

// Client-side checks of user, key and glob; the node checks the value size.
Error validate_kv_command(const KvCommand& c);

struct KvOutcome {
  Error error;         // kNotFound for get/del of a missing key
  std::string stdout_text;
};

// Validates, sends and renders one command. A plain result is written in
// the given style (see cli/output.h).
KvOutcome run_kv_command(Client& client, const KvCommand& c, Format format, PlainStyle style);

// The REPL's form: its lines show bytes escaped; one_line for the piped
// REPL's one line per command.
inline KvOutcome run_kv_command(Client& client, const KvCommand& c, Format format, bool one_line) {
  return run_kv_command(client, c, format, PlainStyle{true, one_line});
}

}  // namespace mq::cli
