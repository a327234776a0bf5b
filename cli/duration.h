// The one syntax of every time flag: a number with a unit, `250ms`, `5s`,
// `1.5s`, `2m`, `1h`. A bare number is refused (is `--timeout 5` five
// seconds or five milliseconds?), except `0`, which needs no unit.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace mq::cli {

using Millis = std::chrono::milliseconds;

// The duration `text` spells, rounded to whole milliseconds; nullopt when it
// is not a non-negative number followed by ms, s, m or h.
std::optional<Millis> parse_duration(const std::string& text);

// How a duration reads back in help and messages: 250ms, 5s, 1.5s, 2m.
std::string format_duration(Millis d);

// Adds a time flag that takes the syntax above. The default shown in --help
// is *out's value at the time of the call; `min`/`max` bound the accepted
// values and are named in the error.
CLI::Option* add_duration_option(CLI::App& app, const std::string& names, Millis* out,
                                 const std::string& help, Millis min, Millis max);

}  // namespace mq::cli
