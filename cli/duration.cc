#include "cli/duration.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace mq::cli {

std::optional<Millis> parse_duration(const std::string& text) {
  if (text == "0") return Millis(0);
  double value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [rest, ec] = std::from_chars(begin, end, value, std::chars_format::fixed);
  if (ec != std::errc() || rest == begin || !(value >= 0) || !std::isfinite(value)) {
    return std::nullopt;
  }
  const std::string unit(rest, end);
  double ms = 0;
  if (unit == "ms") {
    ms = value;
  } else if (unit == "s") {
    ms = value * 1e3;
  } else if (unit == "m") {
    ms = value * 60e3;
  } else if (unit == "h") {
    ms = value * 3600e3;
  } else {
    return std::nullopt;
  }
  // Beyond a year is a typo, and it keeps the conversion below in range.
  if (ms > 365.0 * 24 * 3600e3) return std::nullopt;
  return Millis(static_cast<int64_t>(std::llround(ms)));
}

std::string format_duration(Millis d) {
  const int64_t ms = d.count();
  char buf[32];
  if (ms == 0) return "0";
  if (ms % 3'600'000 == 0) {
    std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(ms / 3'600'000));
  } else if (ms % 60'000 == 0) {
    std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(ms / 60'000));
  } else if (ms >= 1000 && ms % 100 == 0) {
    std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(ms) / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  }
  return buf;
}

CLI::Option* add_duration_option(CLI::App& app, const std::string& names, Millis* out,
                                 const std::string& help, Millis min, Millis max) {
  const std::string range = format_duration(min) + " to " + format_duration(max);
  auto* option = app.add_option_function<std::string>(
      names,
      [out, min, max, range](const std::string& text) {
        auto d = parse_duration(text);
        if (!d) {
          throw CLI::ValidationError("'" + text + "' is not a duration like 250ms, 5s or 2m");
        }
        if (*d < min || *d > max) {
          throw CLI::ValidationError("'" + text + "' is outside " + range);
        }
        *out = *d;
      },
      help + " (default " + format_duration(*out) + ")");
  option->type_name("DURATION");
  return option;
}

}  // namespace mq::cli
