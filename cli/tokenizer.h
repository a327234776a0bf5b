// Splits a REPL line into words: whitespace separates; "double quotes" take
// \n \t \r \\ \" \xNN escapes; 'single quotes' are literal. The inverse of
// display_bytes(), so any value printed by the REPL can be typed back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::cli {

std::optional<std::vector<std::string>> tokenize(std::string_view line, std::string* error);

}  // namespace mq::cli
