// What the rte_fib (IPv4) and rte_fib6 (IPv6) runs share: building with a
// tbl8 pool that grows on ENOSPC, screening every next-hop size x lookup
// function, then the full matrix, spot check and update rate for the best
// scalar and the best vector variant. Each family supplies an Ops struct:
//
//   Handle, Size (next-hop size enum), LookupType, Family, Route, Addr;
//   kName ("rte_fib"), kScreenTrace (index into the family's traces),
//   kUpdateSeed (offset from the run's seed), kSizes[], kFns[] (LookupFn);
//   static Handle* Create(const Family&, Size, uint64_t tbl8, uint64_t no_route);
//   static int Add(Handle*, const Prefix&, uint32_t nh);
//   static int Delete(Handle*, const Prefix&);
//   static void Free(Handle*);
//   static int Select(Handle*, LookupType);
//   static void LookupBulk(Handle*, const Addr*, uint64_t* nh, int n);
#pragma once

#include <rte_errno.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/bench_dpdk_common.h"
#include "tests/bench/bench_family.h"
#include "tests/bench/bench_harness.h"

namespace edgefwd::bench {

template <typename Family, typename Fn>
void MeasureMatrix(const Family& f, const BenchConfig& cfg, Fn&& lookup, StructureResult* r,
                   uint64_t* sink) {
  for (size_t t = 0; t < std::size(kAllTraces); ++t) {
    for (size_t batch : kBatches) {
      r->mlps[{kAllTraces[t], batch}] = MeasureMlps(f.traces[t], batch, cfg, lookup, sink);
    }
  }
}

template <typename LookupType>
struct FibLookupFn {
  LookupType type;
  const char* name;
  bool vector;
};

template <typename Size>
int FibSizeBytes(Size sz) {
  return 1 << static_cast<int>(sz);
}
// Both keep one flag bit in each entry; next hops and tbl8 indexes share
// the rest.
template <typename Size>
uint64_t FibMaxNh(Size sz) {
  return (uint64_t{1} << (8 * FibSizeBytes(sz) - 1)) - 1;
}

template <typename Ops>
struct FibInstance {
  typename Ops::Handle* fib = nullptr;
  uint64_t no_route = 0;  // default_nh: a value no route uses
  uint64_t tbl8 = 0;      // groups in the pool
  double build_s = 0;
  double memory_mib = 0;
  std::string error;
  ~FibInstance() {
    if (fib != nullptr) Ops::Free(fib);
  }
};

// The first size tried for the tbl8 pool is what the table needs; DPDK
// reserves groups more conservatively than it uses them (per route, against
// its covering route), so on ENOSPC the pool grows by half and the build
// starts over, up to what the entry size can index.
template <typename Ops>
std::unique_ptr<FibInstance<Ops>> BuildFib(const typename Ops::Family& f, typename Ops::Size sz) {
  auto out = std::make_unique<FibInstance<Ops>>();
  const uint64_t max_nh = FibMaxNh(sz);
  if (f.egress_count >= max_nh) {
    out->error = "next-hop ids do not fit";
    return out;
  }
  if (f.tbl8_needed > max_nh) {
    out->error = "table needs " + std::to_string(f.tbl8_needed) + " tbl8 groups, " +
                 std::to_string(FibSizeBytes(sz)) + "-byte entries allow " + std::to_string(max_nh);
    return out;
  }
  uint64_t tbl8 = std::min<uint64_t>(f.tbl8_needed * 5 / 4 + 64, max_nh);
  for (;;) {
    out->no_route = max_nh;
    out->tbl8 = tbl8;
    size_t heap0 = DpdkHeapBytes();
    const double t0 = CpuSeconds();
    out->fib = Ops::Create(f, sz, tbl8, max_nh);
    if (out->fib == nullptr) {
      out->error = std::string(Ops::kName) + "_create: " + ErrnoText();
      return out;
    }
    uint64_t failures = 0;
    int first_error = 0;
    for (const auto& r : *f.routes) {
      int rc = Ops::Add(out->fib, r.prefix, r.next_hop);
      if (rc != 0 && failures++ == 0) first_error = rc;
    }
    out->build_s = CpuSeconds() - t0;
    out->memory_mib = MiB(DpdkHeapBytes() - heap0);
    if (failures == 0) return out;
    Ops::Free(out->fib);
    out->fib = nullptr;
    if (first_error != -ENOSPC || tbl8 == max_nh) {
      out->error = std::to_string(failures) + " " + Ops::kName +
                   "_add calls failed (first: " + rte_strerror(-first_error) + ", " +
                   std::to_string(tbl8) + " tbl8 groups)";
      return out;
    }
    tbl8 = std::min(tbl8 * 3 / 2, max_nh);
  }
}

template <typename Ops>
auto FibLookup(typename Ops::Handle* fib) {
  return [fib](const typename Ops::Addr* a, size_t n) {
    uint64_t nh[64];
    Ops::LookupBulk(fib, a, nh, static_cast<int>(n));
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x ^= nh[i];
    return x;
  };
}

template <typename Ops>
std::string FibVariant(typename Ops::Size sz, const char* fn) {
  return "nh=" + std::to_string(FibSizeBytes(sz)) + "B " + fn;
}

template <typename Ops>
void RunFib(const typename Ops::Family& f, const BenchConfig& cfg, FamilyResult* out,
            uint64_t* sink) {
  using LookupFn = FibLookupFn<typename Ops::LookupType>;
  // Screen every next-hop size x lookup function on the family's headline
  // trace, batch 64.
  struct Best {
    double mlps = -1;
    typename Ops::Size sz{};
    const LookupFn* fn = nullptr;
  } best_scalar, best_vector;
  const auto& screen_trace = f.traces[Ops::kScreenTrace];
  for (auto sz : Ops::kSizes) {
    auto fib = BuildFib<Ops>(f, sz);
    for (const auto& fn : Ops::kFns) {
      ScreenResult s;
      s.name = Ops::kName;
      s.variant = FibVariant<Ops>(sz, fn.name);
      if (fib->fib == nullptr) {
        s.error = fib->error;
      } else if (Ops::Select(fib->fib, fn.type) != 0) {
        s.error = "lookup function not supported here";
      } else {
        s.mlps = MeasureMlps(screen_trace, 64, cfg, FibLookup<Ops>(fib->fib), sink);
        Best& b = fn.vector ? best_vector : best_scalar;
        if (s.mlps > b.mlps) b = {s.mlps, sz, &fn};
      }
      out->screening.push_back(s);
    }
  }
  // Full matrix for the best scalar and the best vector variant.
  for (Best* b : {&best_scalar, &best_vector}) {
    StructureResult r;
    r.name = std::string(Ops::kName) + (b == &best_scalar ? "-scalar" : "-avx512");
    if (b->fn == nullptr) {
      r.ok = false;
      r.error = "no variant could run (see screening)";
      out->structures.push_back(r);
      continue;
    }
    r.variant = FibVariant<Ops>(b->sz, b->fn->name);
    auto fib = BuildFib<Ops>(f, b->sz);
    if (fib->fib == nullptr || Ops::Select(fib->fib, b->fn->type) != 0) {
      r.ok = false;
      r.error = fib->error;
      out->structures.push_back(r);
      continue;
    }
    r.variant += ", tbl8s=" + std::to_string(fib->tbl8);
    r.build_s = fib->build_s;
    r.memory_mib = fib->memory_mib;
    std::vector<lpm::NextHop> got(f.sample.size());
    uint64_t nh[64];
    for (size_t i = 0; i < f.sample.size(); i += 64) {
      size_t n = std::min<size_t>(64, f.sample.size() - i);
      Ops::LookupBulk(fib->fib, &f.sample[i], nh, static_cast<int>(n));
      for (size_t k = 0; k < n; ++k) {
        got[i + k] = nh[k] == fib->no_route ? lpm::kNoRoute : static_cast<lpm::NextHop>(nh[k]);
      }
    }
    r.sample = f.sample.size();
    r.disagreements = SpotCheck(f, r.name, got);
    MeasureMatrix(f, cfg, FibLookup<Ops>(fib->fib), &r, sink);
    const auto& routes = *f.routes;
    auto* p = fib->fib;
    ChurnStream stream(routes, f.churn_routes, f.NextHops(), f.egress_count,
                       cfg.seed + Ops::kUpdateSeed);
    r.updates_per_s = MeasureUpdates(
        stream, cfg.update_seconds, [&](const auto& prefix) { return Ops::Delete(p, prefix) == 0; },
        [&](const auto& prefix, uint32_t nh_id) { return Ops::Add(p, prefix, nh_id) == 0; },
        &r.update_failures);
    out->structures.push_back(r);
  }
}

}  // namespace edgefwd::bench
