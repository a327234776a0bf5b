#include "json_schema_check.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace mq::test {

namespace {

using nlohmann::json;

constexpr int kRefDepthMax = 32;  // a $ref cycle is a broken schema, not a hang

bool has_type(const json& doc, const std::string& type) {
  if (type == "object") return doc.is_object();
  if (type == "array") return doc.is_array();
  if (type == "string") return doc.is_string();
  if (type == "integer") return doc.is_number_integer();
  if (type == "number") return doc.is_number();
  if (type == "boolean") return doc.is_boolean();
  if (type == "null") return doc.is_null();
  return false;
}

class Checker {
 public:
  explicit Checker(const json& root) : root_(root) {}

  void check(const json& schema, const json& doc, const std::string& at, int depth) {
    static const std::set<std::string> kKnown = {
        "$schema", "$id",   "title",   "description", "$defs", "type",   "properties",
        "required", "additionalProperties", "items", "enum", "minimum", "pattern", "$ref"};
    if (!schema.is_object()) {
      fail(at, "schema is not an object");
      return;
    }
    for (const auto& [keyword, _] : schema.items()) {
      if (!kKnown.count(keyword)) fail(at, "schema keyword '" + keyword + "' is not supported");
    }
    if (auto ref = schema.find("$ref"); ref != schema.end()) {
      check_ref(*ref, doc, at, depth);
    }
    if (auto type = schema.find("type"); type != schema.end()) {
      bool any = false;
      if (type->is_array()) {
        for (const auto& t : *type) any |= has_type(doc, t.get<std::string>());
      } else {
        any = has_type(doc, type->get<std::string>());
      }
      if (!any) {
        fail(at, "is " + std::string(doc.type_name()) + ", not " + type->dump());
        return;  // the other keywords assume the right type
      }
    }
    if (auto e = schema.find("enum"); e != schema.end()) {
      bool listed = false;
      for (const auto& v : *e) listed |= v == doc;
      if (!listed) fail(at, doc.dump() + " is not one of " + e->dump());
    }
    if (auto m = schema.find("minimum"); m != schema.end() && doc.is_number()) {
      if (doc.get<double>() < m->get<double>()) fail(at, doc.dump() + " is below " + m->dump());
    }
    if (auto p = schema.find("pattern"); p != schema.end() && doc.is_string()) {
      if (!std::regex_search(doc.get<std::string>(), std::regex(p->get<std::string>()))) {
        fail(at, doc.dump() + " does not match " + p->dump());
      }
    }
    if (doc.is_object()) check_object(schema, doc, at, depth);
    if (auto items = schema.find("items"); items != schema.end() && doc.is_array()) {
      for (size_t i = 0; i < doc.size(); ++i) check(*items, doc[i], at + "/" + std::to_string(i), depth);
    }
  }

  std::vector<std::string> violations;

 private:
  void fail(const std::string& at, const std::string& why) {
    violations.push_back((at.empty() ? "/" : at) + ": " + why);
  }

  void check_ref(const json& ref, const json& doc, const std::string& at, int depth) {
    const std::string prefix = "#/$defs/";
    const std::string target = ref.get<std::string>();
    if (target.rfind(prefix, 0) != 0 || !root_.contains("$defs") ||
        !root_["$defs"].contains(target.substr(prefix.size()))) {
      fail(at, "cannot resolve $ref " + target);
      return;
    }
    if (depth >= kRefDepthMax) {
      fail(at, "$ref nesting deeper than " + std::to_string(kRefDepthMax));
      return;
    }
    check(root_["$defs"][target.substr(prefix.size())], doc, at, depth + 1);
  }

  void check_object(const json& schema, const json& doc, const std::string& at, int depth) {
    const json no_properties = json::object();
    const json& properties = schema.contains("properties") ? schema["properties"] : no_properties;
    if (auto required = schema.find("required"); required != schema.end()) {
      for (const auto& name : *required) {
        if (!doc.contains(name.get<std::string>())) fail(at, "lacks required " + name.dump());
      }
    }
    const auto additional = schema.find("additionalProperties");
    for (const auto& [name, value] : doc.items()) {
      const std::string where = at + "/" + name;
      if (properties.contains(name)) {
        check(properties[name], value, where, depth);
      } else if (additional != schema.end()) {
        if (additional->is_boolean()) {
          if (!additional->get<bool>()) fail(where, "is not allowed here");
        } else {
          check(*additional, value, where, depth);
        }
      }
    }
  }

  const json& root_;
};

}  // namespace

std::vector<std::string> schema_violations(const json& schema, const json& doc) {
  Checker checker(schema);
  checker.check(schema, doc, "", 0);
  return checker.violations;
}

json load_output_schema(const std::string& name) {
  const std::string path = std::string(MQ_JSON_SCHEMA_DIR) + "/" + name + ".json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

}  // namespace mq::test
