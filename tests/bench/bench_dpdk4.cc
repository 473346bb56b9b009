// rte_lpm (bulk and lookupx4) and rte_fib DIR24_8 (every lookup function,
// every next-hop size) on the IPv4 table.
#include <rte_fib.h>
#include <rte_lpm.h>
#include <rte_vect.h>

#include <cstdio>
#include <memory>

#include "tests/bench/bench_dpdk.h"
#include "tests/bench/bench_dpdk_common.h"

namespace edgefwd::bench {
namespace {

template <typename Fn>
void MeasureMatrix(const Family4& f, const BenchConfig& cfg, Fn&& lookup, StructureResult* r,
                   uint64_t* sink) {
  for (size_t t = 0; t < std::size(kAllTraces); ++t) {
    for (size_t batch : kBatches) {
      r->mlps[{kAllTraces[t], batch}] = MeasureMlps(f.traces[t], batch, cfg, lookup, sink);
    }
  }
}

// ---------------------------------------------------------------- rte_lpm

void RunRteLpm(const Family4& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  StructureResult bulk;
  bulk.name = "rte_lpm-bulk";
  StructureResult x4;
  x4.name = "rte_lpm-x4";
  rte_lpm_config conf{};
  conf.max_rules = static_cast<uint32_t>(f.routes->size() + 1024);
  conf.number_tbl8s = static_cast<uint32_t>(f.tbl8_needed * 5 / 4 + 64);
  bulk.variant = x4.variant = "tbl8s=" + std::to_string(conf.number_tbl8s) + ", /0 on miss";
  size_t heap0 = DpdkHeapBytes();
  const double t0 = CpuSeconds();
  rte_lpm* lpm = rte_lpm_create(UniqueName("bl").c_str(), SOCKET_ID_ANY, &conf);
  if (lpm == nullptr) {
    bulk.ok = x4.ok = false;
    bulk.error = x4.error = "rte_lpm_create: " + ErrnoText();
    out->structures.push_back(bulk);
    out->structures.push_back(x4);
    return;
  }
  uint64_t add_failures = 0;
  for (const auto& r : *f.routes) {
    if (r.prefix.len == 0) continue;  // rte_lpm has no /0: a miss means the default route
    add_failures += rte_lpm_add(lpm, r.prefix.addr, r.prefix.len, r.next_hop) != 0;
  }
  bulk.build_s = x4.build_s = CpuSeconds() - t0;
  bulk.memory_mib = x4.memory_mib = MiB(DpdkHeapBytes() - heap0);
  if (add_failures > 0)
    std::fprintf(stderr, "rte_lpm: %lu adds failed\n", (unsigned long)add_failures);

  std::vector<lpm::NextHop> got(f.sample.size());
  for (size_t i = 0; i < f.sample.size(); ++i) {
    uint32_t nh;
    got[i] = rte_lpm_lookup(lpm, f.sample[i], &nh) == 0 ? nh : f.default_next_hop;
  }
  bulk.sample = x4.sample = f.sample.size();
  bulk.disagreements = SpotCheck(f, bulk.name, got);
  for (size_t i = 0; i + 4 <= f.sample.size(); i += 4) {
    xmm_t ip = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&f.sample[i]));
    uint32_t hop[4];
    rte_lpm_lookupx4(lpm, ip, hop, f.default_next_hop);
    for (int k = 0; k < 4; ++k) got[i + k] = hop[k];
  }
  x4.disagreements = SpotCheck(f, x4.name, got);

  MeasureMatrix(
      f, cfg,
      [lpm](const uint32_t* a, size_t n) {
        uint32_t hop[64];
        rte_lpm_lookup_bulk(lpm, a, hop, static_cast<unsigned>(n));
        uint64_t x = 0;
        for (size_t i = 0; i < n; ++i) x ^= hop[i];
        return x;
      },
      &bulk, sink);
  MeasureMatrix(
      f, cfg,
      [lpm, miss = f.default_next_hop](const uint32_t* a, size_t n) {
        uint32_t hop[64];
        for (size_t i = 0; i < n; i += 4) {
          xmm_t ip = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
          rte_lpm_lookupx4(lpm, ip, hop + i, miss);
        }
        uint64_t x = 0;
        for (size_t i = 0; i < n; ++i) x ^= hop[i];
        return x;
      },
      &x4, sink);

  const auto& routes = *f.routes;
  bulk.updates_per_s = x4.updates_per_s = MeasureUpdates(
      f.churn_routes, f.NextHops(), f.egress_count, cfg.update_seconds, cfg.seed + 11,
      [&](size_t i) {
        return rte_lpm_delete(lpm, routes[i].prefix.addr, routes[i].prefix.len) == 0;
      },
      [&](size_t i, uint32_t nh) {
        return rte_lpm_add(lpm, routes[i].prefix.addr, routes[i].prefix.len, nh) == 0;
      },
      &bulk.update_failures);
  x4.update_failures = bulk.update_failures;
  rte_lpm_free(lpm);
  out->structures.push_back(bulk);
  out->structures.push_back(x4);
}

// ---------------------------------------------------------------- rte_fib

struct FibLookupFn {
  rte_fib_lookup_type type;
  const char* name;
  bool vector;
};
constexpr FibLookupFn kFibFns[] = {
    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_MACRO, "macro", false},
    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_INLINE, "inline", false},
    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_UNI, "uni", false},
    {RTE_FIB_LOOKUP_DIR24_8_VECTOR_AVX512, "avx512", true},
};
constexpr rte_fib_dir24_8_nh_sz kFibSizes[] = {RTE_FIB_DIR24_8_1B, RTE_FIB_DIR24_8_2B,
                                               RTE_FIB_DIR24_8_4B, RTE_FIB_DIR24_8_8B};
int SizeBytes(rte_fib_dir24_8_nh_sz sz) {
  return 1 << static_cast<int>(sz);
}
// DIR24_8 keeps one flag bit in each entry; next hops and tbl8 indexes
// share the rest.
uint64_t FibMaxNh(rte_fib_dir24_8_nh_sz sz) {
  return (uint64_t{1} << (8 * SizeBytes(sz) - 1)) - 1;
}

struct Fib {
  rte_fib* fib = nullptr;
  uint64_t no_route = 0;  // default_nh: a value no route uses
  uint64_t tbl8 = 0;      // groups in the pool
  double build_s = 0;
  double memory_mib = 0;
  std::string error;
  ~Fib() {
    if (fib != nullptr) rte_fib_free(fib);
  }
};

// The first size tried for the tbl8 pool is what the table needs; DPDK
// reserves groups more conservatively than it uses them (per route, against
// its covering route), so on ENOSPC the pool grows by half and the build
// starts over, up to what the entry size can index.
std::unique_ptr<Fib> BuildFib(const Family4& f, rte_fib_dir24_8_nh_sz sz) {
  auto out = std::make_unique<Fib>();
  const uint64_t max_nh = FibMaxNh(sz);
  if (f.egress_count >= max_nh) {
    out->error = "next-hop ids do not fit";
    return out;
  }
  if (f.tbl8_needed > max_nh) {
    out->error = "table needs " + std::to_string(f.tbl8_needed) + " tbl8 groups, " +
                 std::to_string(SizeBytes(sz)) + "-byte entries allow " + std::to_string(max_nh);
    return out;
  }
  uint64_t tbl8 = std::min<uint64_t>(f.tbl8_needed * 5 / 4 + 64, max_nh);
  for (;;) {
    rte_fib_conf conf{};
    conf.type = RTE_FIB_DIR24_8;
    conf.default_nh = max_nh;
    conf.max_routes = static_cast<int>(f.routes->size() + 1024);
    conf.dir24_8.nh_sz = sz;
    conf.dir24_8.num_tbl8 = static_cast<uint32_t>(tbl8);
    out->no_route = max_nh;
    out->tbl8 = tbl8;
    size_t heap0 = DpdkHeapBytes();
    const double t0 = CpuSeconds();
    out->fib = rte_fib_create(UniqueName("bf").c_str(), SOCKET_ID_ANY, &conf);
    if (out->fib == nullptr) {
      out->error = "rte_fib_create: " + ErrnoText();
      return out;
    }
    uint64_t failures = 0;
    int first_error = 0;
    for (const auto& r : *f.routes) {
      int rc = rte_fib_add(out->fib, r.prefix.addr, r.prefix.len, r.next_hop);
      if (rc != 0 && failures++ == 0) first_error = rc;
    }
    out->build_s = CpuSeconds() - t0;
    out->memory_mib = MiB(DpdkHeapBytes() - heap0);
    if (failures == 0) return out;
    rte_fib_free(out->fib);
    out->fib = nullptr;
    if (first_error != -ENOSPC || tbl8 == max_nh) {
      out->error = std::to_string(failures) +
                   " rte_fib_add calls failed (first: " + rte_strerror(-first_error) + ", " +
                   std::to_string(tbl8) + " tbl8 groups)";
      return out;
    }
    tbl8 = std::min(tbl8 * 3 / 2, max_nh);
  }
}

auto FibLookup(rte_fib* fib) {
  return [fib](const uint32_t* a, size_t n) {
    uint64_t nh[64];
    rte_fib_lookup_bulk(fib, const_cast<uint32_t*>(a), nh, static_cast<int>(n));
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x ^= nh[i];
    return x;
  };
}

std::string FibVariant(rte_fib_dir24_8_nh_sz sz, const char* fn) {
  return "nh=" + std::to_string(SizeBytes(sz)) + "B " + fn;
}

void RunRteFib(const Family4& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  // Screen every next-hop size x lookup function on uniform-routed, batch 64.
  struct Best {
    double mlps = -1;
    rte_fib_dir24_8_nh_sz sz{};
    const FibLookupFn* fn = nullptr;
  } best_scalar, best_vector;
  const auto& screen_trace = f.traces[0];
  for (auto sz : kFibSizes) {
    auto fib = BuildFib(f, sz);
    for (const auto& fn : kFibFns) {
      ScreenResult s;
      s.name = "rte_fib";
      s.variant = FibVariant(sz, fn.name);
      if (fib->fib == nullptr) {
        s.error = fib->error;
      } else if (rte_fib_select_lookup(fib->fib, fn.type) != 0) {
        s.error = "lookup function not supported here";
      } else {
        s.mlps = MeasureMlps(screen_trace, 64, cfg, FibLookup(fib->fib), sink);
        Best& b = fn.vector ? best_vector : best_scalar;
        if (s.mlps > b.mlps) b = {s.mlps, sz, &fn};
      }
      out->screening.push_back(s);
    }
  }
  // Full matrix for the best scalar and the best vector variant.
  for (Best* b : {&best_scalar, &best_vector}) {
    StructureResult r;
    r.name = b == &best_scalar ? "rte_fib-scalar" : "rte_fib-avx512";
    if (b->fn == nullptr) {
      r.ok = false;
      r.error = "no variant could run (see screening)";
      out->structures.push_back(r);
      continue;
    }
    r.variant = FibVariant(b->sz, b->fn->name);
    auto fib = BuildFib(f, b->sz);
    if (fib->fib == nullptr || rte_fib_select_lookup(fib->fib, b->fn->type) != 0) {
      r.ok = false;
      r.error = fib->error;
      out->structures.push_back(r);
      continue;
    }
    r.variant += ", tbl8s=" + std::to_string(fib->tbl8);
    r.build_s = fib->build_s;
    r.memory_mib = fib->memory_mib;
    std::vector<lpm::NextHop> got(f.sample.size());
    std::vector<uint64_t> nh(64);
    for (size_t i = 0; i < f.sample.size(); i += 64) {
      size_t n = std::min<size_t>(64, f.sample.size() - i);
      rte_fib_lookup_bulk(fib->fib, const_cast<uint32_t*>(&f.sample[i]), nh.data(),
                          static_cast<int>(n));
      for (size_t k = 0; k < n; ++k) {
        got[i + k] = nh[k] == fib->no_route ? lpm::kNoRoute : static_cast<lpm::NextHop>(nh[k]);
      }
    }
    r.sample = f.sample.size();
    r.disagreements = SpotCheck(f, r.name, got);
    MeasureMatrix(f, cfg, FibLookup(fib->fib), &r, sink);
    const auto& routes = *f.routes;
    rte_fib* p = fib->fib;
    r.updates_per_s = MeasureUpdates(
        f.churn_routes, f.NextHops(), f.egress_count, cfg.update_seconds, cfg.seed + 12,
        [&](size_t i) {
          return rte_fib_delete(p, routes[i].prefix.addr, routes[i].prefix.len) == 0;
        },
        [&](size_t i, uint32_t nh_id) {
          return rte_fib_add(p, routes[i].prefix.addr, routes[i].prefix.len, nh_id) == 0;
        },
        &r.update_failures);
    out->structures.push_back(r);
  }
}

}  // namespace

void RunDpdk4(const Family4& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  if (!cfg.Skips("rte_lpm")) {
    Progress("rte_lpm: build (slow: its rule table is scanned linearly), lookups, updates");
    RunRteLpm(f, cfg, out, sink);
  }
  if (!cfg.Skips("rte_fib")) {
    Progress("rte_fib: screening next-hop sizes x lookup functions, then the best two");
    RunRteFib(f, cfg, out, sink);
  }
}

}  // namespace edgefwd::bench
