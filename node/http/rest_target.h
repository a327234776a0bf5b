// A request target ("/api/v1/memory/users/u%2F1/keys?pattern=my*") taken
// apart: the path is split at '/' before each segment is percent-decoded,
// so "%2F" stays a byte of its user id or key instead of a separator; the
// query is split at '&' and '=' and decoded with '+' meaning a space, as
// HTML forms and curl --data-urlencode write it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mq::http {

struct RestTarget {
  std::vector<std::string> segments;  // decoded; "/a//b/" gives a, "", b, ""
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order

  // The value of a query parameter; nullopt when absent.
  std::optional<std::string> param(std::string_view name) const;
};

// nullopt with a message naming the bad part when the target is not an
// absolute path or holds a malformed percent-escape.
std::optional<RestTarget> parse_target(std::string_view target, std::string* error);

// Decodes %XX escapes (and '+' as a space when plus_is_space); nullopt on a
// '%' not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace mq::http
