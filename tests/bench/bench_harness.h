// Shared pieces of the LPM benchmark: configuration, the timed lookup loop,
// the update-rate loop and the result records every structure fills in.
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "lpm/table_types.h"
#include "tests/bench/bench_traces.h"

namespace edgefwd::bench {

struct BenchConfig {
  int passes = 5;             // lookup rate = median of this many passes
  double pass_seconds = 0.2;  // each pass runs about this long (CPU time)
  double update_seconds = 0.6;
  size_t sample = 200'000;  // spot-check addresses per family
  bool quick = false;
  uint64_t seed = 1;
  int reader_core = 0;            // core of the concurrent reader thread in the churn test
  std::vector<std::string> skip;  // DPDK structures left out: rte_lpm, rte_fib, rte_lpm6, rte_fib6
  bool Skips(const std::string& name) const {
    return std::find(skip.begin(), skip.end(), name) != skip.end();
  }
};

inline constexpr size_t kBatches[] = {8, 32, 64};

using Clock = std::chrono::steady_clock;
inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Rates are per second of the measuring thread's CPU time, not of wall time:
// the benchmark machine is shared, and a thread that is descheduled for a
// while would otherwise look slow. A dataplane worker owns its core, so CPU
// time is the time it has. Wall time is kept to report how contended the run
// was.
inline double CpuSeconds(clockid_t clock = CLOCK_THREAD_CPUTIME_ID) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
struct TimeShare {
  double cpu = 0, wall = 0;
  double Percent() const { return wall > 0 ? 100.0 * cpu / wall : -1; }
};
// Totals over every timed lookup pass of the run.
inline TimeShare& LookupTimeShare() {
  static TimeShare share;
  return share;
}

// Progress to stderr, with seconds since the first call.
inline void Progress(const std::string& what) {
  static const Clock::time_point start = Clock::now();
  std::fprintf(stderr, "[%6.1f s] %s\n", SecondsSince(start), what.c_str());
}

inline double MiB(size_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// Lookup rate in millions of lookups per CPU second: median of cfg.passes passes
// over `trace` in batches of `batch`, wrapping around. `lookup(addrs, n)`
// looks up n addresses and returns the xor of the results, which goes to
// `sink` so the compiler cannot drop the lookups.
template <typename Addr, typename Fn>
double MeasureMlps(const std::vector<Addr>& trace, size_t batch, const BenchConfig& cfg,
                   Fn&& lookup, uint64_t* sink) {
  const size_t len = trace.size();  // a multiple of 64
  const Addr* base = trace.data();
  size_t pos = 0;
  auto run = [&](size_t lookups) {
    uint64_t acc = 0;
    for (size_t done = 0; done < lookups; done += batch) {
      acc ^= lookup(base + pos, batch);
      pos += batch;
      if (pos == len) pos = 0;
    }
    *sink ^= acc;
  };
  // Warm the caches and TLB, then size the passes from a timed sweep.
  run(std::min<size_t>(len, size_t{1} << 20));
  size_t calib = std::min<size_t>(len, size_t{1} << 22);
  double c0 = CpuSeconds();
  run(calib);
  double per_lookup = std::max(CpuSeconds() - c0, 1e-9) / static_cast<double>(calib);
  size_t per_pass = static_cast<size_t>(cfg.pass_seconds / per_lookup) / batch * batch;
  per_pass = std::max(per_pass, batch);
  std::vector<double> rates;
  for (int p = 0; p < cfg.passes; ++p) {
    auto w = Clock::now();
    double c = CpuSeconds();
    run(per_pass);
    double cpu = CpuSeconds() - c;
    LookupTimeShare().cpu += cpu;
    LookupTimeShare().wall += SecondsSince(w);
    rates.push_back(static_cast<double>(per_pass) / cpu / 1e6);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

// One single-route change of the churn stream: the route's prefix copied in,
// so applying the stream reads it sequentially (as a control thread reads
// the changes from its messages) instead of from a random slot of the route
// array.
template <class Prefix>
struct UpdateOp {
  Prefix prefix;
  uint32_t next_hop;  // upserts
  bool remove;
};

// The churn pattern, endlessly: a random existing route is deleted, then
// re-added, then a random route's next hop is changed; each is one change.
// Routes are drawn from `candidates` (indexes of the non-default routes:
// rte_lpm and rte_lpm6 cannot hold a /0 at all).
template <class Route>
class ChurnStream {
 public:
  using Prefix = decltype(Route::prefix);
  using Op = UpdateOp<Prefix>;
  ChurnStream(const std::vector<Route>& routes, const std::vector<uint32_t>& candidates,
              std::vector<uint32_t> next_hops, uint32_t egress_count, uint64_t seed)
      : routes_(routes),
        candidates_(candidates),
        next_hops_(std::move(next_hops)),
        egress_count_(egress_count),
        rng_(seed) {}

  // The next `count` changes (rounded up to whole triples), replacing *ops.
  void Next(size_t count, std::vector<Op>* ops) {
    ops->clear();
    ops->reserve(count + 2);
    const size_t n = candidates_.size();
    while (ops->size() < count) {
      size_t r = candidates_[rng_() % n];
      ops->push_back({routes_[r].prefix, 0, true});
      ops->push_back({routes_[r].prefix, next_hops_[r], false});
      size_t c = candidates_[rng_() % n];
      next_hops_[c] = (next_hops_[c] + 1) % egress_count_;
      ops->push_back({routes_[c].prefix, next_hops_[c], false});
    }
  }

 private:
  const std::vector<Route>& routes_;
  const std::vector<uint32_t>& candidates_;
  std::vector<uint32_t> next_hops_;
  uint32_t egress_count_;
  std::mt19937_64 rng_;
};

struct UpdateRun {
  uint64_t done = 0, failed = 0;
  double cpu_seconds = 0, wall_seconds = 0;
};

// Applies `ops` in order until they run out or `seconds` of wall time have
// passed; `remove(prefix)` / `upsert(prefix, nh)` return false on failure.
template <class Op, typename RemoveFn, typename UpsertFn>
UpdateRun ApplyUpdates(const std::vector<Op>& ops, double seconds, RemoveFn&& remove,
                       UpsertFn&& upsert) {
  UpdateRun run;
  const auto t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  size_t i = 0;
  while (i < ops.size()) {
    const size_t end = std::min(ops.size(), i + 96);
    for (; i < end; ++i) {
      const Op& op = ops[i];
      run.failed += op.remove ? !remove(op.prefix) : !upsert(op.prefix, op.next_hop);
    }
    if (SecondsSince(t0) >= seconds) break;
  }
  run.done = i;
  run.cpu_seconds = CpuSeconds() - cpu0;
  run.wall_seconds = SecondsSince(t0);
  return run;
}

// Applying time per chunk of the stream is what counts: each chunk is
// generated (untimed) before it is applied.
inline constexpr size_t kUpdateChunk = size_t{3} << 14;

// Single-route changes per CPU second of applying them, on the full table,
// for about `seconds` of applying time.
template <class Route, typename RemoveFn, typename UpsertFn>
double MeasureUpdates(ChurnStream<Route>& stream, double seconds, RemoveFn&& remove,
                      UpsertFn&& upsert, uint64_t* failures) {
  std::vector<typename ChurnStream<Route>::Op> ops;
  UpdateRun total;
  while (total.wall_seconds < seconds) {
    stream.Next(kUpdateChunk, &ops);
    UpdateRun r = ApplyUpdates(ops, seconds - total.wall_seconds, remove, upsert);
    total.done += r.done;
    total.failed += r.failed;
    total.cpu_seconds += r.cpu_seconds;
    total.wall_seconds += r.wall_seconds;
  }
  *failures = total.failed;
  return static_cast<double>(total.done) / total.cpu_seconds;
}

// What one structure measured. Rates are keyed by (trace, batch).
struct StructureResult {
  std::string name;     // e.g. "rte_fib-avx512"
  std::string variant;  // e.g. "nh=2B", for the notes
  bool ok = true;
  std::string error;  // why it could not run (ok == false)
  std::string notes;  // anything else worth a reader's attention
  std::map<std::pair<TraceKind, size_t>, double> mlps;
  double memory_mib = -1;           // DPDK: heap growth over create + load; edgefwd: memory_bytes()
  double measured_memory_mib = -1;  // edgefwd: allocator growth over create + load (a cross-check)
  double build_s = -1;
  double updates_per_s = -1;
  uint64_t update_failures = 0;
  uint64_t sample = 0;
  uint64_t disagreements = 0;  // spot check against the reference
};

// A quick look at a DPDK structure's variants (next-hop size x lookup
// function) on one trace and batch, used to pick the variants for the full run.
struct ScreenResult {
  std::string name;
  std::string variant;
  double mlps = -1;  // < 0: not available
  std::string error;
};

struct ChurnResult {
  bool ran = false;
  double updates_per_s_alone = 0;
  double updates_per_s_with_reader = 0;
  double reader_idle_mlps = 0;
  double reader_churn_mlps = 0;
  double reader_control_mlps = 0;  // while the writer churns a table the reader does not read
  uint64_t failures = 0;
};

struct FamilyResult {
  std::string family;  // "ipv4" / "ipv6"
  size_t routes = 0;
  std::vector<StructureResult> structures;  // edgefwd first
  std::vector<ScreenResult> screening;
  ChurnResult edgefwd_churn;
};

}  // namespace edgefwd::bench
