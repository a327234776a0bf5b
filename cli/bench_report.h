// The final report of `mq bench`: plain (key value lines, for scripts and
// people), table (one row of numbers) or json (everything, with the
// per-second timeline).
#pragma once

#include <string>

#include "bench/loadgen/driver.h"
#include "bench/loadgen/options.h"
#include "cli/output.h"

namespace mq::cli {

struct BenchPreloadSummary {
  bool ran = false;
  uint64_t keys = 0;     // keys written
  uint64_t failed = 0;   // keys certainly not written
  uint64_t unknown = 0;  // keys that may or may not have been written
  double elapsed_s = 0;
};

std::string render_bench_report(Format f, const bench::BenchOptions& o, const bench::BenchResult& r,
                                const BenchPreloadSummary& preload);

}  // namespace mq::cli
