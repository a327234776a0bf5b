// mq cluster watch: redraws the shard-by-node grid several times a second,
// in place and sized to the terminal, with a feed of events: the leader
// changes the nodes remember (with how long the shard had no leader, those
// from before the watch started included), shards losing their leader,
// nodes going down or coming back, health changes.
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/duration.h"
#include "playground/cluster_target.h"
#include "playground/launcher.h"
#include "playground/leader_history.h"
#include "playground/watch_view.h"

namespace mq::cli {

namespace pg = mq::playground;

namespace {

volatile sig_atomic_t watch_interrupted = 0;
void on_watch_interrupt(int) { watch_interrupted = 1; }

constexpr size_t kEventsKeptMax = 200;
// Frames written to a file or a pipe are not cut to a terminal's size.
constexpr size_t kUnboundedColumns = 1000;
constexpr size_t kUnboundedRows = 100'000;

}  // namespace

int cluster_watch(int argc, char** argv) {
  pg::ClusterTarget target;
  Millis interval{200};
  Millis duration{0};
  size_t events_shown = 12;
  bool no_color = false;
  CLI::App app{"Live view of the local cluster: roles, terms and lag per shard and node, and "
               "a feed of events, the nodes' recent leader changes included. Ctrl-C to leave.",
               "mq cluster watch"};
  add_cluster_target_flags(app, target);
  add_duration_option(app, "--interval", &interval, "Refresh period", Millis(20), Millis(10'000));
  add_duration_option(app, "--duration", &duration, "Stop after this long; 0: until Ctrl-C", Millis(0),
                      std::chrono::hours(24));
  app.add_option("--events", events_shown, "Events shown under the grid, when the terminal has room (default 12)")
      ->check(CLI::Range(size_t{0}, kEventsKeptMax));
  app.add_flag("--no-color", no_color, "No ANSI colours (also when NO_COLOR is set)");
  app.footer(R"(Examples:
  mq cluster watch
  mq cluster watch --interval 1s
  mq cluster watch --duration 10s > trace.txt    # not a terminal: one full frame per refresh

Cells: L leader, F follower (F+N: N entries behind), C candidate,
? no answer, x node down, . no replica there. On a terminal narrower or
shorter than the full grid needs, several shards share a row, with one
letter per node (f: a follower behind). Events include the leader changes
the nodes remember (their last 64 role changes), so a failover that
happened before the watch started shows too.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  pg::ClusterState state;
  if (auto o = pg::open_cluster(target.resolved_dir(), &state); !o.ok()) {
    std::fprintf(stderr, "mq cluster watch: %s\n", o.message.c_str());
    return o.exit_code;
  }
  const bool tty = isatty(STDOUT_FILENO);
  const bool color = tty && !no_color && !std::getenv("NO_COLOR");
  watch_interrupted = 0;
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_watch_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  pg::EventTracker tracker;
  pg::LeaderHistory history;
  pg::ClusterObserver observer(static_cast<int>(std::min<int64_t>(interval.count(), 300)));
  std::deque<pg::ClusterEvent> observed;  // what the tracker saw, leader changes aside
  if (tty) std::fputs("\x1b[?25l", stdout);  // hide the cursor while redrawing
  // Bounded by Ctrl-C, SIGTERM or --duration.
  while (!watch_interrupted) {
    const auto frame_start = Clock::now();
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(frame_start - start).count();
    if (duration.count() > 0 && now_ms >= duration.count()) break;
    // Reload: nodes started or faults injected by other commands show up.
    pg::ClusterState fresh;
    if (pg::load_state(target.resolved_dir(), &fresh).empty()) state = std::move(fresh);
    const pg::ClusterView view = observer.observe(state);
    history.add(view, now_ms);
    for (auto& e : tracker.observe(view, now_ms)) {
      // The nodes' rings tell leader changes better (earlier, and with
      // those before the watch started); how long the shard had no leader
      // only the watch's own views tell. The rest only the watch sees.
      if (e.leader_change) {
        if (!e.from.empty()) history.note_leaderless(e.shard, e.term, e.leaderless_ms);
        continue;
      }
      observed.push_back(std::move(e));
      if (observed.size() > kEventsKeptMax) observed.pop_front();
    }
    std::vector<pg::ClusterEvent> events = history.changes();
    events.insert(events.end(), observed.begin(), observed.end());
    std::stable_sort(events.begin(), events.end(),
                     [](const pg::ClusterEvent& a, const pg::ClusterEvent& b) { return a.time_ms < b.time_ms; });
    pg::WatchLayout layout;
    layout.events_max = events_shown;
    layout.color = color;
    layout.now_ms = now_ms;
    std::string frame;
    if (tty) {
      winsize ws{};
      const bool sized = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0;
      layout.width = sized ? ws.ws_col : 80;
      layout.height = sized ? ws.ws_row : 24;
      layout.hint = "(Ctrl-C to leave)";
      frame = pg::redraw_frame(pg::render_watch(view, events, layout));
    } else {
      // A file or a pipe has no size: every shard, the full grid.
      layout.width = kUnboundedColumns;
      layout.height = kUnboundedRows;
      frame = "--- " + std::to_string(now_ms) + " ms\n";
      for (const auto& line : pg::render_watch(view, events, layout)) frame += line + "\n";
    }
    std::fwrite(frame.data(), 1, frame.size(), stdout);
    std::fflush(stdout);
    if (std::ferror(stdout)) break;
    std::this_thread::sleep_until(frame_start + interval);
  }
  if (tty) std::fputs("\n\x1b[?25h", stdout);
  std::fflush(stdout);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return 0;
}

}  // namespace mq::cli
