// Rendering of results: plain (for scripts), json (for programs), table (for
// people). Results go to stdout; errors and progress go to stderr, except in
// the piped REPL where every command answers with exactly one stdout line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/client/client.h"

namespace mq::cli {

enum class Format { kPlain, kJson, kTable };

std::optional<Format> parse_format(std::string_view name);

// One-line display of arbitrary bytes: returned as is when it is printable
// UTF-8 without spaces or quotes, else double-quoted with \n \t \\ \" \xNN
// escapes. The REPL's tokenizer reads the quoted form back to the same bytes.
std::string display_bytes(std::string_view bytes);

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// Each returns the text for stdout, ending in a newline. one_line: the whole
// result on one line (the piped REPL's contract).
std::string render_set(Format f, const std::string& user, const std::string& key,
                       const SetResult& r);
std::string render_get(Format f, const std::string& user, const std::string& key,
                       const GetResult& r, bool one_line);
std::string render_del(Format f, const std::string& user, const std::string& key,
                       const DeleteResult& r);
std::string render_keys(Format f, const std::string& user, const ListResult& r, bool one_line);
std::string render_status(Format f, const ClusterStatus& s);
std::string render_error(Format f, const Error& e);

}  // namespace mq::cli
