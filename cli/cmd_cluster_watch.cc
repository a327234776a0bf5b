// mq cluster watch: redraws the shard-by-node grid several times a second
// and keeps a scrolling feed of events (leader changes with how long the
// shard had no leader, nodes going down or coming back, health changes).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "playground/cluster_target.h"
#include "playground/launcher.h"
#include "playground/watch_view.h"

namespace mq::cli {

namespace pg = mq::playground;

namespace {

volatile sig_atomic_t watch_interrupted = 0;
void on_watch_interrupt(int) { watch_interrupted = 1; }

constexpr size_t kEventsKeptMax = 200;

}  // namespace

int cluster_watch(int argc, char** argv) {
  pg::ClusterTarget target;
  int interval_ms = 200;
  double duration_s = 0;
  size_t events_shown = 12;
  bool no_color = false;
  CLI::App app{"Live view of the local cluster: roles, terms and lag per shard and node, and "
               "a feed of events. Ctrl-C to leave.",
               "mq cluster watch"};
  app.add_option("--name", target.name, "Cluster name (default local)")->envname("MQ_CLUSTER");
  app.add_option("--dir", target.dir, "State directory")->envname("MQ_CLUSTER_DIR");
  app.add_option("--interval-ms", interval_ms, "Refresh period (default 200)")->check(CLI::Range(20, 10'000));
  app.add_option("--duration", duration_s, "Stop after this many seconds (default: until Ctrl-C)");
  app.add_option("--events", events_shown, "Events shown under the grid (default 12)");
  app.add_flag("--no-color", no_color, "No ANSI colours (also when NO_COLOR is set)");
  app.footer(R"(Examples:
  mq cluster watch
  mq cluster watch --duration 10 > trace.txt     # not a terminal: one frame per refresh

Cells: L leader, F follower (F+N: N entries behind), C candidate,
? no answer, x node down, . no replica there.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  pg::ClusterState state;
  if (auto o = pg::open_cluster(target.resolved_dir(), &state); !o.ok()) {
    std::fprintf(stderr, "mq cluster watch: %s\n", o.message.c_str());
    return o.exit_code;
  }
  const bool tty = isatty(STDOUT_FILENO);
  const bool color = tty && !no_color && !std::getenv("NO_COLOR");
  watch_interrupted = 0;
  struct sigaction sa {}, old {};
  sa.sa_handler = on_watch_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  pg::EventTracker tracker;
  pg::ClusterObserver observer(std::min(interval_ms, 300));
  std::deque<pg::ClusterEvent> events;
  if (tty) std::fputs("\x1b[?25l", stdout);  // hide the cursor while redrawing
  // Bounded by Ctrl-C or --duration.
  while (!watch_interrupted) {
    const auto frame_start = Clock::now();
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(frame_start - start).count();
    if (duration_s > 0 && now_ms >= static_cast<int64_t>(duration_s * 1000)) break;
    // Reload: nodes started or faults injected by other commands show up.
    pg::ClusterState fresh;
    if (pg::load_state(target.resolved_dir(), &fresh).empty()) state = std::move(fresh);
    const pg::ClusterView view = observer.observe(state);
    for (auto& e : tracker.observe(view, now_ms)) {
      events.push_back(std::move(e));
      if (events.size() > kEventsKeptMax) events.pop_front();
    }
    std::string frame = pg::render_watch(view, events, events_shown, color);
    if (tty) {
      frame = "\x1b[H\x1b[2J" + frame + "\n(Ctrl-C to leave)\n";
    } else {
      frame = "--- " + std::to_string(now_ms) + " ms\n" + frame;
    }
    std::fwrite(frame.data(), 1, frame.size(), stdout);
    std::fflush(stdout);
    if (std::ferror(stdout)) break;
    std::this_thread::sleep_until(frame_start + std::chrono::milliseconds(interval_ms));
  }
  if (tty) std::fputs("\x1b[?25h", stdout);
  std::fflush(stdout);
  sigaction(SIGINT, &old, nullptr);
  return 0;
}

}  // namespace mq::cli
