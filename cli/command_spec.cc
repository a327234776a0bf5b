#include "cli/command_spec.h"

namespace mq::cli {

namespace {
thread_local DescribeScope* active_scope = nullptr;
}  // namespace

bool FlagSpec::has_name(const std::string& name) const {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

const std::string& FlagSpec::primary_name() const {
  for (const auto& n : names) {
    if (n.rfind("--", 0) == 0) return n;
  }
  return names.front();
}

const FlagSpec* CommandSpec::find_flag(const std::string& name) const {
  for (const auto& f : flags) {
    if (f.has_name(name)) return &f;
  }
  return nullptr;
}

CommandSpec describe_app(const CLI::App& app) {
  CommandSpec spec;
  spec.path = app.get_name();
  for (const CLI::Option* o : app.get_options()) {
    if (o == app.get_help_ptr() || o == app.get_help_all_ptr()) continue;
    if (o->nonpositional()) {
      FlagSpec f;
      for (const auto& s : o->get_snames()) f.names.push_back("-" + s);
      for (const auto& l : o->get_lnames()) f.names.push_back("--" + l);
      f.envname = o->get_envname();
      // A switch (add_flag) expects no value; its type size says nothing.
      f.takes_value = o->get_expected_max() != 0;
      f.type_name = f.takes_value ? o->get_type_name() : "";
      f.description = o->get_description();
      spec.flags.push_back(std::move(f));
    } else {
      spec.positionals.push_back(o->get_name());
    }
  }
  return spec;
}

DescribeScope::DescribeScope(CommandSpec* out) : out_(out), outer_(active_scope) {
  active_scope = this;
}

DescribeScope::~DescribeScope() { active_scope = outer_; }

bool DescribeScope::record(const CLI::App& app) {
  if (active_scope == nullptr) return false;
  *active_scope->out_ = describe_app(app);
  active_scope->described_ = true;
  return true;
}

}  // namespace mq::cli
