#include "node/server/process_metrics.h"

#include <dirent.h>
#include <prometheus/metric_family.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace mq::server {

namespace {

prometheus::MetricFamily gauge(std::string name, std::string help, double value) {
  prometheus::MetricFamily f{std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  f.metric.emplace_back().gauge.value = value;
  return f;
}

// Entries of /proc/self/fd, not counting the one the listing itself holds.
long open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return -1;
  const std::string own = std::to_string(::dirfd(dir));
  long n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.' || own == e->d_name) continue;
    ++n;
  }
  ::closedir(dir);
  return n;
}

// The boot time (btime of /proc/stat) plus the process's start in clock
// ticks after boot (field 22 of /proc/self/stat), as client_golang does.
double read_start_time_seconds() {
  std::ifstream stat_file("/proc/stat");
  std::string line;
  double boot_time = -1;
  while (std::getline(stat_file, line)) {
    if (line.rfind("btime ", 0) == 0) {
      boot_time = std::stod(line.substr(6));
      break;
    }
  }
  std::ifstream self("/proc/self/stat");
  std::string stat;
  std::getline(self, stat);
  // The command name (field 2) is in parentheses and may hold spaces: the
  // fields are counted after its closing one, which starts at field 3.
  const size_t close = stat.rfind(')');
  if (boot_time < 0 || close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int number = 3; number < 22; ++number) fields >> field;
  unsigned long long start_ticks = 0;
  if (!(fields >> start_ticks)) return -1;
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return -1;
  return boot_time + static_cast<double>(start_ticks) / static_cast<double>(ticks_per_second);
}

}  // namespace

ProcessMetrics::ProcessMetrics() : start_time_seconds_(read_start_time_seconds()) {}

void ProcessMetrics::collect(std::vector<prometheus::MetricFamily>* out) const {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    prometheus::MetricFamily f{"process_cpu_seconds_total",
                               "Total user and system CPU time spent in seconds.",
                               prometheus::MetricType::Counter, {}};
    f.metric.emplace_back().counter.value = cpu;
    out->push_back(std::move(f));
  }
  // statm: total program size and resident set, in pages.
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size_pages = 0, resident_pages = 0;
    const bool read = std::fscanf(statm, "%llu %llu", &size_pages, &resident_pages) == 2;
    std::fclose(statm);
    if (read) {
      const double page_bytes = static_cast<double>(::sysconf(_SC_PAGESIZE));
      out->push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                           static_cast<double>(resident_pages) * page_bytes));
      out->push_back(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           static_cast<double>(size_pages) * page_bytes));
    }
  }
  if (const long fds = open_fds(); fds >= 0) {
    out->push_back(gauge("process_open_fds", "Number of open file descriptors.", static_cast<double>(fds)));
  }
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out->push_back(gauge("process_max_fds", "Maximum number of open file descriptors.",
                         static_cast<double>(limit.rlim_cur)));
  }
  if (start_time_seconds_ >= 0) {
    out->push_back(gauge("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.",
                         start_time_seconds_));
  }
}

}  // namespace mq::server
