#include "node/server/memory_gauge.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <iterator>
#include <fstream>
#include <string>

// jemalloc's control interface, declared weak: present in binaries that
// link jemalloc (mq), null in those that do not.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace mq::server {

namespace {

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// MemTotal from /proc/meminfo, in bytes; 0 when unreadable.
uint64_t machine_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string name, unit;
  uint64_t kib = 0;
  while (meminfo >> name >> kib) {
    std::getline(meminfo, unit);
    if (name == "MemTotal:") return kib * 1024;
  }
  return 0;
}

// The cgroup v2 limit of this process's group; 0 when there is none ("max")
// or it cannot be read.
uint64_t cgroup_memory_limit_bytes() {
  std::ifstream cgroup("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroup, line)) {
    if (line.rfind("0::", 0) != 0) continue;
    std::ifstream max("/sys/fs/cgroup" + line.substr(3) + "/memory.max");
    std::string value;
    if (!(max >> value) || value == "max") return 0;
    try {
      return std::stoull(value);
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

}  // namespace

uint64_t memory_in_use_bytes() {
  if (mallctl != nullptr) {
    // The statistics are a snapshot refreshed by bumping the epoch.
    uint64_t epoch = 1;
    size_t epoch_len = sizeof epoch;
    size_t allocated = 0;
    size_t allocated_len = sizeof allocated;
    if (mallctl("epoch", &epoch, &epoch_len, &epoch, epoch_len) == 0 &&
        mallctl("stats.allocated", &allocated, &allocated_len, nullptr, 0) == 0) {
      return allocated;
    }
  }
  return resident_bytes();
}

uint64_t memory_available_bytes() {
  uint64_t limit = machine_memory_bytes();
  const uint64_t cgroup = cgroup_memory_limit_bytes();
  if (cgroup > 0 && (limit == 0 || cgroup < limit)) limit = cgroup;
  return limit;
}

uint64_t default_memory_limit_bytes() { return memory_available_bytes() / 10 * 6; }

bool parse_memory_limit(std::string_view text, uint64_t* bytes) {
  if (text.empty() || text.back() != '%') return parse_byte_size(text, bytes);
  uint64_t percent = 0;
  if (!parse_byte_size(text.substr(0, text.size() - 1), &percent) || percent < 1 || percent > 100 ||
      text.size() > 4) {
    return false;
  }
  *bytes = memory_available_bytes() * percent / 100;
  return true;
}

bool parse_byte_size(std::string_view text, uint64_t* bytes) {
  size_t digits = 0;
  uint64_t value = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    const uint64_t d = static_cast<uint64_t>(text[digits] - '0');
    if (value > (UINT64_MAX - d) / 10) return false;
    value = value * 10 + d;
    ++digits;
  }
  if (digits == 0) return false;
  std::string unit;
  for (char c : text.substr(digits)) unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  int shift = -1;
  if (unit.empty() || unit == "b") shift = 0;
  if (unit == "k" || unit == "kb" || unit == "kib") shift = 10;
  if (unit == "m" || unit == "mb" || unit == "mib") shift = 20;
  if (unit == "g" || unit == "gb" || unit == "gib") shift = 30;
  if (unit == "t" || unit == "tb" || unit == "tib") shift = 40;
  if (shift < 0) return false;
  if (shift > 0 && value > (UINT64_MAX >> shift)) return false;
  *bytes = value << shift;
  return true;
}

std::string format_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char out[32];
  if (unit == 0 || value >= 100 || value == static_cast<double>(static_cast<uint64_t>(value))) {
    std::snprintf(out, sizeof out, "%.0f %s", value, kUnits[unit]);
  } else {
    std::snprintf(out, sizeof out, "%.1f %s", value, kUnits[unit]);
  }
  return out;
}

}  // namespace mq::server
