// Rendering of results: plain (for scripts), json (for programs), table (for
// people). Results go to stdout; errors and progress go to stderr, except in
// the piped REPL where every command answers with exactly one stdout line.
//
// The rule every command follows:
// - Without -o, output is plain, except that a result made of rows (keys,
//   status) is a table when stdout is a terminal.
// - plain is the result itself and nothing else: OK for a write, the value
//   for a read, one item per line for a list, one summary line for a status.
//   On a terminal (and in the REPL) bytes are shown quoted when needed
//   (display_bytes); written to a pipe or a file they are the exact bytes.
// - json is one object on one line, of a fixed shape per command: every
//   field is always there (null when unknown), and a field F of arbitrary
//   bytes comes with F_base64 (F is null when the bytes are not UTF-8). The
//   shapes are JSON Schemas in cli/json_schema/, checked against real
//   outputs by tests/process/json_contract_test.cc.
// - table has a header row and aligned columns.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/client/client.h"

namespace mq::cli {

enum class Format { kPlain, kJson, kTable };

std::optional<Format> parse_format(std::string_view name);

// What a command's result is made of, for the default format.
enum class ResultShape { kSingle, kRows };
// The format when -o is not given (see the rule above).
Format default_format(ResultShape shape, bool stdout_is_terminal);

// How plain output writes bytes and lines.
struct PlainStyle {
  bool escaped = false;   // bytes as display_bytes shows them, else exact
  bool one_line = false;  // the whole result on one line (the piped REPL)
};
// A terminal shows escaped bytes on lines; a pipe gets the exact bytes.
PlainStyle plain_style_for(bool stdout_is_terminal);

// One-line display of arbitrary bytes: returned as is when it is printable
// UTF-8 without spaces or quotes, else double-quoted with \n \t \\ \" \xNN
// escapes. The REPL's tokenizer reads the quoted form back to the same bytes.
std::string display_bytes(std::string_view bytes);

std::string base64(std::string_view bytes);

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// The fixed role names of JSON and tables: leader, follower, candidate,
// pre-candidate, unknown (the answering node cannot tell), down (the
// replica's node is not running). Anything else the node says is unknown.
std::string role_name(std::string_view reported);

// Each returns the text for stdout. It ends in a newline, except a plain
// value written exactly (style.escaped false), which is the bytes alone.
std::string render_set(Format f, const std::string& user, const std::string& key,
                       const SetResult& r);
std::string render_get(Format f, const std::string& user, const std::string& key,
                       const GetResult& r, PlainStyle style);
std::string render_del(Format f, const std::string& user, const std::string& key,
                       const DeleteResult& r);
std::string render_keys(Format f, const std::string& user, const ListResult& r, PlainStyle style);
// plain: "node n1: 3/3 nodes up, 16/16 shards with a leader".
std::string render_status(Format f, const ClusterStatus& s);
// json: {"error":{"code","message"}}; else "(error) message".
std::string render_error(Format f, const Error& e);

}  // namespace mq::cli
