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
#include <vector>

#include "lpm/table_types.h"
#include "tests/bench/bench_traces.h"

namespace edgefwd::bench {

struct BenchConfig {
  int passes = 5;              // lookup rate = median of this many passes
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

// Single-route changes per CPU second on the full table, for about `seconds` of wall time:
// a random existing route is deleted, then re-added, then a random route's
// next hop is changed; each is one change. `remove(i)` / `upsert(i, nh)`
// return false on failure (counted in *failures).
// Routes are drawn from `candidates` (indexes of the non-default routes:
// rte_lpm and rte_lpm6 cannot hold a /0 at all).
template <typename RemoveFn, typename UpsertFn>
double MeasureUpdates(const std::vector<uint32_t>& candidates, std::vector<uint32_t> next_hops,
                      uint32_t egress_count, double seconds, uint64_t seed, RemoveFn&& remove,
                      UpsertFn&& upsert, uint64_t* failures, uint64_t* changes_done = nullptr) {
  std::mt19937_64 rng(seed);
  const size_t n = candidates.size();
  uint64_t ops = 0, failed = 0;
  auto t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      size_t r = candidates[rng() % n];
      failed += !remove(r);
      failed += !upsert(r, next_hops[r]);
      size_t c = candidates[rng() % n];
      next_hops[c] = (next_hops[c] + 1) % egress_count;
      failed += !upsert(c, next_hops[c]);
      ops += 3;
    }
    if (SecondsSince(t0) >= seconds) break;
  }
  *failures = failed;
  if (changes_done != nullptr) *changes_done = ops;
  return static_cast<double>(ops) / (CpuSeconds() - cpu0);
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
