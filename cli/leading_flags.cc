#include "cli/leading_flags.h"

#include "cli/command_table.h"
#include "cli/suggest.h"

namespace mq::cli {

namespace {

// Every flag of the tree, to tell whether a leading flag takes a value
// before the command that will read it is known.
std::vector<FlagSpec> all_flags(const std::vector<DescribedCommand>& tree) {
  std::vector<FlagSpec> flags;
  for (const auto& c : tree) {
    for (const auto& f : c.spec.flags) flags.push_back(f);
  }
  return flags;
}

const FlagSpec* find_flag(const std::vector<FlagSpec>& flags, const std::string& name) {
  for (const auto& f : flags) {
    if (f.has_name(name)) return &f;
  }
  return nullptr;
}

}  // namespace

LeadingFlagsResult move_leading_flags(const std::vector<std::string>& args) {
  LeadingFlagsResult result;
  if (args.empty() || args[0].size() < 2 || args[0][0] != '-') {
    result.args = args;
    return result;
  }
  const std::vector<FlagSpec> known = all_flags(describe_tree());
  std::vector<std::string> moved;  // as the command's parser will read them
  std::vector<std::string> names;  // the flag names, to check against the command
  size_t i = 0;
  for (; i < args.size() && args[i].size() >= 2 && args[i][0] == '-'; ++i) {
    std::string name = args[i];
    std::string value;
    bool attached = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      attached = true;
    }
    const FlagSpec* f = find_flag(known, name);
    if (f == nullptr) {
      std::vector<std::string> candidates;
      for (const auto& k : known) candidates.insert(candidates.end(), k.names.begin(), k.names.end());
      result.error = "unknown flag '" + name + "'";
      if (auto near = closest(name, candidates); !near.empty()) {
        result.error += "; did you mean '" + near + "'?";
      }
      return result;
    }
    names.push_back(name);
    moved.push_back(name);
    if (!f->takes_value) {
      if (attached) {
        result.error = "flag '" + name + "' takes no value";
        return result;
      }
      continue;
    }
    if (!attached) {
      if (i + 1 >= args.size()) {
        result.error = "flag '" + name + "' needs a value";
        return result;
      }
      value = args[++i];
    }
    moved.push_back(value);
  }
  const std::vector<std::string> rest(args.begin() + static_cast<long>(i), args.end());
  if (rest.empty()) {
    result.error = "a command is needed after the flags";
    return result;
  }
  const CommandLookup found = lookup_command(rest);
  if (found.command == nullptr) {
    // The unknown command is named by the dispatcher, as without flags.
    result.args = rest;
    return result;
  }
  if (!found.is_leaf) {
    // `mq -o json cluster sttus`: the unknown verb is named first; the
    // flags go last, out of its way.
    result.args = rest;
    result.args.insert(result.args.end(), moved.begin(), moved.end());
    return result;
  }
  for (const auto& name : names) {
    if (found.spec.find_flag(name) == nullptr) {
      result.error = "'" + found.spec.path + "' takes no flag '" + name + "'";
      return result;
    }
  }
  result.args.assign(rest.begin(), rest.begin() + static_cast<long>(found.words_used));
  result.args.insert(result.args.end(), moved.begin(), moved.end());
  result.args.insert(result.args.end(), rest.begin() + static_cast<long>(found.words_used), rest.end());
  return result;
}

}  // namespace mq::cli
