// rte_lpm (bulk and lookupx4) and rte_fib DIR24_8 (every lookup function,
// every next-hop size) on the IPv4 table.
#include <rte_fib.h>
#include <rte_lpm.h>
#include <rte_vect.h>

#include <cstdio>
#include <memory>

#include "tests/bench/bench_dpdk.h"
#include "tests/bench/bench_dpdk_common.h"
#include "tests/bench/bench_fib_runner.h"

namespace edgefwd::bench {
namespace {

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
  ChurnStream stream(routes, f.churn_routes, f.NextHops(), f.egress_count, cfg.seed + 11);
  bulk.updates_per_s = x4.updates_per_s = MeasureUpdates(
      stream, cfg.update_seconds,
      [&](const lpm::Ipv4Prefix& p) { return rte_lpm_delete(lpm, p.addr, p.len) == 0; },
      [&](const lpm::Ipv4Prefix& p, uint32_t nh) {
        return rte_lpm_add(lpm, p.addr, p.len, nh) == 0;
      },
      &bulk.update_failures);
  x4.update_failures = bulk.update_failures;
  rte_lpm_free(lpm);
  out->structures.push_back(bulk);
  out->structures.push_back(x4);
}

// ---------------------------------------------------------------- rte_fib

struct Fib4Ops {
  using Handle = rte_fib;
  using Size = rte_fib_dir24_8_nh_sz;
  using LookupType = rte_fib_lookup_type;
  using Family = Family4;
  using Route = Route4;
  using Addr = lpm::Ipv4Address;
  static constexpr const char* kName = "rte_fib";
  static constexpr size_t kScreenTrace = 0;  // uniform-routed, the IPv4 headline
  static constexpr uint64_t kUpdateSeed = 12;
  static constexpr Size kSizes[] = {RTE_FIB_DIR24_8_1B, RTE_FIB_DIR24_8_2B, RTE_FIB_DIR24_8_4B,
                                    RTE_FIB_DIR24_8_8B};
  static constexpr FibLookupFn<LookupType> kFns[] = {
      {RTE_FIB_LOOKUP_DIR24_8_SCALAR_MACRO, "macro", false},
      {RTE_FIB_LOOKUP_DIR24_8_SCALAR_INLINE, "inline", false},
      {RTE_FIB_LOOKUP_DIR24_8_SCALAR_UNI, "uni", false},
      {RTE_FIB_LOOKUP_DIR24_8_VECTOR_AVX512, "avx512", true},
  };
  static rte_fib* Create(const Family4& f, Size sz, uint64_t tbl8, uint64_t no_route) {
    rte_fib_conf conf{};
    conf.type = RTE_FIB_DIR24_8;
    conf.default_nh = no_route;
    conf.max_routes = static_cast<int>(f.routes->size() + 1024);
    conf.dir24_8.nh_sz = sz;
    conf.dir24_8.num_tbl8 = static_cast<uint32_t>(tbl8);
    return rte_fib_create(UniqueName("bf").c_str(), SOCKET_ID_ANY, &conf);
  }
  static int Add(rte_fib* fib, const lpm::Ipv4Prefix& p, uint32_t nh) {
    return rte_fib_add(fib, p.addr, p.len, nh);
  }
  static int Delete(rte_fib* fib, const lpm::Ipv4Prefix& p) {
    return rte_fib_delete(fib, p.addr, p.len);
  }
  static void Free(rte_fib* fib) { rte_fib_free(fib); }
  static int Select(rte_fib* fib, LookupType type) { return rte_fib_select_lookup(fib, type); }
  static void LookupBulk(rte_fib* fib, const Addr* a, uint64_t* nh, int n) {
    rte_fib_lookup_bulk(fib, const_cast<uint32_t*>(a), nh, n);
  }
};

}  // namespace

void RunDpdk4(const Family4& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  if (!cfg.Skips("rte_lpm")) {
    Progress("rte_lpm: build (slow: its rule table is scanned linearly), lookups, updates");
    RunRteLpm(f, cfg, out, sink);
  }
  if (!cfg.Skips("rte_fib")) {
    Progress("rte_fib: screening next-hop sizes x lookup functions, then the best two");
    RunFib<Fib4Ops>(f, cfg, out, sink);
  }
}

}  // namespace edgefwd::bench
