// mq member: the cluster's membership (its cluster map) through the
// Cluster service: list the members, add, remove or replace one. A client
// command like `mq status`: it takes the client flags (--endpoints or
// --cluster, -o, --timeout, -v), and a change goes to the metadata group's
// leader, found by following the answering node's hint. Every verb also
// runs inside the REPL as `\member VERB ...`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "cli/client_flags.h"
#include "cli/command_result.h"
#include "cli/commands.h"
#include "cli/member_address_check.h"
#include "cli/member_render.h"

namespace mq::cli {

namespace {

int fail(const std::string& verb, bool json, const Error& e) {
  return fail_command("member " + verb, json, e);
}

bool resolve(const std::string& verb, const ClientFlags& flags, ResultShape shape, ResolvedClient* out,
             int* exit_code) {
  return resolve_command_flags("member " + verb, flags, shape, out, exit_code);
}

// Refuses (exit 2, nothing changed) an address where no host answers or
// another cluster's node serves; see member_address_check.h.
bool new_address_refused(const std::string& verb, bool json, Client& client,
                         const ClientOptions& options, const std::string& address, int* exit_code) {
  MemberList list;
  if (Error e = client.list_members(&list); !e.ok()) {
    *exit_code = fail(verb, json, e);
    return true;
  }
  std::string refusal = check_new_member_address(address, options, list.cluster_id);
  if (refusal.empty()) return false;
  *exit_code = fail(verb, json, Error{ErrorKind::kInvalid, std::move(refusal)});
  return true;
}

constexpr const char* kNoProbeHelp =
    "Do not check the address first (by default an address no host answers at, or where a node "
    "of another cluster or something else serves, is refused)";

// Where a new member's node should --join: the node that answered the
// change (the metadata group's leader, or the first endpoint).
std::string join_endpoint(const Client& client) { return client.current_endpoint(); }

constexpr const char* kExitCodes = R"(
Exit codes: 0 done, 2 bad arguments or refused (the message says why: a name
or address in use, no such member, too few members left for the replication
factor, a node without --enable-member-changes), 3 cannot reach the cluster or
no leader, 4 outcome unknown (the change was sent and its answer lost: mq
member list shows whether it happened), 6 not allowed (the node's --auth-file
names no admin principal for these credentials).)";

int member_list(int argc, char** argv) {
  ClientFlags flags;
  CLI::App app{"List the members of the cluster: id, name, address, state and the shards the "
               "placement gives each.",
               "mq member list"};
  add_client_flags(app, flags, false);
  app.footer(R"(Examples:
  mq member list
  mq member list -o json | jq '.members[] | select(.state == "active") | .name'
  mq member list --endpoints 127.0.0.1:7002 -o plain

The map as the answering node holds it. STATE is active, joining (added by
mq member add or replace; its node has not yet started with --join) or
removed. REPLICAS counts the shards placed on a member and LEADS those it is
the preferred leader of; they move to a new member one at a time once its
node runs (mq status shows where they are). Removed members stay listed,
last, so their ids are never reused. Plain: one line per member,
"ID NAME ADDRESS STATE".
Exit codes: 0 ok, 2 bad arguments, 3 cannot reach the cluster.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  int exit_code = 0;
  if (!resolve("list", flags, ResultShape::kRows, &resolved, &exit_code)) return exit_code;
  Client client(resolved.options);
  MemberList list;
  if (Error e = client.list_members(&list); !e.ok()) {
    return fail("list", resolved.format == Format::kJson, e);
  }
  write_stdout(render_member_list(resolved.format, list));
  return 0;
}

int member_add(int argc, char** argv) {
  ClientFlags flags;
  std::string name, address;
  CLI::App app{"Add a member to the cluster map ahead of its node: it is joining, with the replicas "
               "the placement gives it, until its node starts with --join under this name and "
               "address; the replicas then move to it.",
               "mq member add"};
  app.add_option("NAME", name, "The new member's name, its node's --id: 1..64 of A-Z a-z 0-9 - _ .")
      ->required();
  app.add_option("ADDRESS", address,
                 "host:port (or name:port) its node is reached at: its --advertise, else its --listen")
      ->required();
  bool no_probe = false;
  app.add_flag("--no-probe", no_probe, kNoProbeHelp);
  add_client_flags(app, flags, false);
  say_plain_is_default(app);
  app.footer(std::string(R"(Examples:
  mq member add n4 127.0.0.1:7004
  mq member add -o json n4 10.0.0.4:7001

Prints the command that starts the member's node. A node started with
--join also adds itself when nobody added it first, so this verb is for
fixing a member's name and address before its machine is ready. A name or
address already in use is refused; the nodes must run with
--enable-member-changes.

The address is checked first: nothing listening there yet is the usual
case, but a host that does not answer at all (no route, a name that does
not resolve, silence for 2 s), a node of another cluster, or a listener
that is not an mq node is refused, and nothing changes. --no-probe skips
the check, for a machine not on the network yet.)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  int exit_code = 0;
  if (!resolve("add", flags, ResultShape::kSingle, &resolved, &exit_code)) return exit_code;
  const bool json = resolved.format == Format::kJson;
  Client client(resolved.options);
  if (!no_probe && new_address_refused("add", json, client, resolved.options, address, &exit_code)) {
    return exit_code;
  }
  MemberInfo added;
  if (Error e = client.add_member(name, address, &added); !e.ok()) return fail("add", json, e);
  write_stdout(render_member_added(resolved.format, added, join_endpoint(client)));
  if (resolved.format == Format::kTable) {
    std::fprintf(stderr, "start it with: %s\n", start_command(added, join_endpoint(client)).c_str());
  }
  return 0;
}

int member_remove(int argc, char** argv) {
  ClientFlags flags;
  std::string member;
  bool force = false;
  CLI::App app{"Remove a member from the cluster map: its replicas move to the other members, "
               "then its node stops.",
               "mq member remove"};
  app.add_option("MEMBER", member, "The member's name (n3) or id (3)")->required();
  app.add_flag("--force", force,
               "Remove it even when fewer members than the replication factor remain "
               "(each shard then keeps fewer replicas)");
  add_client_flags(app, flags, false);
  say_plain_is_default(app);
  app.footer(std::string(R"(Examples:
  mq member remove n3
  mq member remove 3 -o json
  mq member remove --force n2      # leaves fewer members than the replication factor

The removed member stays in mq member list as "removed", and its id is never
reused; once its replicas have moved its node stops (exit 14), and that data
dir cannot rejoin (start a node with an empty one and --join). A
removal that would leave fewer members than the replication factor is
refused without --force; the last member is never removed.)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  int exit_code = 0;
  if (!resolve("remove", flags, ResultShape::kSingle, &resolved, &exit_code)) return exit_code;
  const bool json = resolved.format == Format::kJson;
  Client client(resolved.options);
  MemberInfo removed;
  if (Error e = client.remove_member(member, force, &removed); !e.ok()) return fail("remove", json, e);
  RemovalContext after;
  if (resolved.format == Format::kPlain) {
    // Whether the replicas had somewhere to go, for the sentence: read from
    // the node that made the change. Without an answer the usual sentence
    // stands; the removal itself is done either way.
    MemberList list;
    if (client.list_members(&list).ok()) {
      for (const auto& m : list.members) after.members_after += m.state != "removed";
      after.replication = list.replication;
    }
  }
  write_stdout(render_member_removed(resolved.format, removed, after));
  return 0;
}

int member_replace(int argc, char** argv) {
  ClientFlags flags;
  std::string old_member, name, address;
  CLI::App app{"Replace a member by a new one in one change: the new member takes the old one's "
               "replicas, and nothing else moves.",
               "mq member replace"};
  app.add_option("OLD", old_member, "The member to remove: its name (n3) or id (3)")->required();
  app.add_option("NAME", name, "The new member's name, its node's --id")->required();
  app.add_option("ADDRESS", address,
                 "host:port (or name:port) the new member's node is reached at: its --advertise, "
                 "else its --listen")
      ->required();
  bool no_probe = false;
  app.add_flag("--no-probe", no_probe, kNoProbeHelp);
  add_client_flags(app, flags, false);
  say_plain_is_default(app);
  app.footer(std::string(R"(Examples:
  mq member replace n3 n5 127.0.0.1:7005
  mq member replace 3 n5 10.0.0.5:7001 -o json

For a machine that is gone for good: the new member is joining until its
node starts (mq node --id n5 ... --join HOST:PORT, printed by this verb),
and each shard's replica is then rebuilt on it from the others. The new
address is checked first, as by mq member add (--no-probe skips that).)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  int exit_code = 0;
  if (!resolve("replace", flags, ResultShape::kSingle, &resolved, &exit_code)) return exit_code;
  const bool json = resolved.format == Format::kJson;
  Client client(resolved.options);
  if (!no_probe &&
      new_address_refused("replace", json, client, resolved.options, address, &exit_code)) {
    return exit_code;
  }
  MemberInfo removed, added;
  if (Error e = client.replace_member(old_member, name, address, &removed, &added); !e.ok()) {
    return fail("replace", json, e);
  }
  write_stdout(render_member_replaced(resolved.format, removed, added, join_endpoint(client)));
  if (resolved.format == Format::kTable) {
    std::fprintf(stderr, "start it with: %s\n", start_command(added, join_endpoint(client)).c_str());
  }
  return 0;
}

// Moves every shard leadership off a member, one transfer per shard it
// leads, each to another of that shard's replicas (--to when it is one).
int member_transfer_leadership(int argc, char** argv) {
  ClientFlags flags;
  std::string member, to;
  CLI::App app{"Move the leadership of every shard a member leads to other replicas of those "
               "shards (before maintenance of its machine, say).",
               "mq member transfer-leadership"};
  app.add_option("MEMBER", member, "The member whose leaderships move: its name (n1)")->required();
  app.add_option("--to", to, "Prefer this member where it holds a replica of the shard");
  add_client_flags(app, flags, false);
  say_plain_is_default(app);
  app.footer(std::string(R"(Examples:
  mq member transfer-leadership n1
  mq member transfer-leadership n1 --to n2 -o json

Each transfer starts at once; the new leaders are elected within an election
timeout. The placement's preferred leaders are unchanged, so a member that
stays takes its preferred shards back once it has been up and caught up for
a while (remove it, or replace it, to move them for good).)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  int exit_code = 0;
  if (!resolve("transfer-leadership", flags, ResultShape::kSingle, &resolved, &exit_code)) {
    return exit_code;
  }
  const bool json = resolved.format == Format::kJson;
  Client client(resolved.options);
  MemberList list;
  if (Error e = client.list_members(&list); !e.ok()) return fail("transfer-leadership", json, e);
  const MemberInfo* target = nullptr;
  for (const auto& m : list.members) {
    if (m.name == member && m.state != "removed") target = &m;
  }
  if (!target) {
    return fail("transfer-leadership", json,
                {ErrorKind::kInvalid, "no member " + member + " (mq member list shows them)"});
  }
  // What it leads, as it says itself.
  ClientOptions at_member = resolved.options;
  at_member.endpoints = {target->address};
  Client member_client(at_member);
  ClusterStatus status;
  if (Error e = member_client.status(&status); !e.ok()) return fail("transfer-leadership", json, e);
  std::vector<std::pair<uint32_t, std::string>> moved;
  std::map<std::string, int> given;  // spread: the replica given the fewest so far
  for (const auto& shard : status.shards) {
    if (shard.role != "leader") continue;
    std::string next;
    for (const auto& r : shard.replicas) {
      if (r.node == member || (!to.empty() && next == to)) continue;
      if (next.empty() || r.node == to || given[r.node] < given[next]) next = r.node;
    }
    ++given[next];
    if (next.empty()) continue;  // a shard with one replica has nowhere to go
    if (Error e = client.transfer_leader(shard.id, next); !e.ok()) {
      return fail("transfer-leadership", json, e);
    }
    moved.emplace_back(shard.id, next);
  }
  write_stdout(render_leadership_moved(resolved.format, member, moved));
  return 0;
}

void print_member_usage(FILE* to) {
  std::fprintf(to, "Usage: mq member <verb> [flags] [args]   (mq member <verb> --help for details)\n\n"
                   "Shows and changes which nodes make up the cluster (its cluster map, replicated\n"
                   "by every node). Replicas move to and from members one at a time.\n\nVerbs:\n");
  for (const auto& v : member_verbs()) std::fprintf(to, "  %-10s %s\n", v.name, v.summary);
  std::fprintf(to, R"(
Every verb takes the client flags: --endpoints HOST:PORT[,...] or --cluster
NAME, -o plain|json|table, --timeout DURATION, -v. Changes are refused unless
the nodes run with --enable-member-changes. In the REPL: \member VERB ...

Examples:
  mq member list
  mq node --id n4 --listen 127.0.0.1:7004 --data-dir d4 --join 127.0.0.1:7001   # adds itself
  mq member remove n4
  mq member replace n3 n5 127.0.0.1:7005

Exit codes: 0 ok, 2 bad arguments or refused, 3 cannot reach the cluster,
4 outcome unknown.
)");
}

}  // namespace

const CommandTable& member_verbs() {
  static const CommandTable table = {
      {"list", "Members with their address, state, replicas and preferred leaderships", member_list},
      {"add", "Add a member ahead of its node: add NAME HOST:PORT", member_add},
      {"remove", "Remove a member (NAME or ID); its replicas move to the others", member_remove},
      {"transfer-leadership", "Move every shard leadership off a member: transfer-leadership NAME",
       member_transfer_leadership},
      {"replace", "Replace a member: replace OLD NAME HOST:PORT; the new one takes its replicas",
       member_replace},
  };
  return table;
}

int cmd_member(int argc, char** argv) {
  return dispatch("mq member", "verb", member_verbs(), print_member_usage, argc, argv);
}

}  // namespace mq::cli
