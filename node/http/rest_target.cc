#include "node/http/rest_target.h"

namespace mq::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> RestTarget::param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<RestTarget> parse_target(std::string_view target, std::string* error) {
  if (target.empty() || target.front() != '/') {
    *error = "the request target must be an absolute path";
    return std::nullopt;
  }
  RestTarget out;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(1, q == std::string_view::npos ? target.npos : q - 1);
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view raw = path.substr(start, slash == path.npos ? path.npos : slash - start);
    auto decoded = percent_decode(raw, false);
    if (!decoded) {
      *error = "invalid percent-encoding in the path segment '" + std::string(raw) + "'";
      return std::nullopt;
    }
    out.segments.push_back(std::move(*decoded));
    if (slash == path.npos) break;
    start = slash + 1;
  }
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == query.npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value = eq == pair.npos ? std::string_view() : pair.substr(eq + 1);
    auto name = percent_decode(raw_name, true);
    auto value = percent_decode(raw_value, true);
    if (!name || !value) {
      *error = "invalid percent-encoding in the query parameter '" + std::string(pair) + "'";
      return std::nullopt;
    }
    out.query.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace mq::http
