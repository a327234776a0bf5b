// Checks a JSON document against a JSON Schema (draft 2020-12) of the kind
// cli/json_schema/ holds. Only the keywords those files use are known:
// type, properties, required, additionalProperties, items, enum, minimum,
// pattern, $ref to "#/$defs/NAME", and the annotations ($schema, $id,
// title, description, $defs). A schema with any other keyword is reported
// as a violation, so a schema never promises more than this checks.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mq::test {

// Every way doc breaks schema, each naming the JSON pointer where it does;
// empty when doc conforms.
std::vector<std::string> schema_violations(const nlohmann::json& schema, const nlohmann::json& doc);

// The schema file NAME.json of cli/json_schema/, parsed (the test fails
// when it is missing or not JSON).
nlohmann::json load_output_schema(const std::string& name);

}  // namespace mq::test
