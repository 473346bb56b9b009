// rte_lpm6 and rte_fib6 TRIE (scalar and AVX-512, every next-hop size) on
// the IPv6 table.
#include <rte_fib6.h>
#include <rte_lpm6.h>

#include <cstdio>
#include <memory>

#include "tests/bench/bench_dpdk.h"
#include "tests/bench/bench_dpdk_common.h"
#include "tests/bench/bench_fib_runner.h"

namespace edgefwd::bench {
namespace {

using Addr16 = uint8_t[16];
Addr16* AsDpdk(const lpm::Ipv6Address* a) {
  return reinterpret_cast<Addr16*>(const_cast<lpm::Ipv6Address*>(a));
}

// ---------------------------------------------------------------- rte_lpm6

void RunRteLpm6(const Family6& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  StructureResult r;
  r.name = "rte_lpm6";
  rte_lpm6_config conf{};
  conf.max_rules = static_cast<uint32_t>(f.routes->size() + 1024);
  conf.number_tbl8s = static_cast<uint32_t>(f.tbl8_needed * 5 / 4 + 64);
  r.variant = "tbl8s=" + std::to_string(conf.number_tbl8s) + ", /0 on miss";
  size_t heap0 = DpdkHeapBytes();
  const double t0 = CpuSeconds();
  rte_lpm6* lpm = rte_lpm6_create(UniqueName("bl6").c_str(), SOCKET_ID_ANY, &conf);
  if (lpm == nullptr) {
    r.ok = false;
    r.error = "rte_lpm6_create: " + ErrnoText();
    out->structures.push_back(r);
    return;
  }
  uint64_t failures = 0;
  for (const auto& route : *f.routes) {
    if (route.prefix.len == 0) continue;  // rte_lpm6 has no /0: a miss means the default route
    failures += rte_lpm6_add(lpm, route.prefix.addr.data(), route.prefix.len, route.next_hop) != 0;
  }
  r.build_s = CpuSeconds() - t0;
  r.memory_mib = MiB(DpdkHeapBytes() - heap0);
  if (failures > 0) std::fprintf(stderr, "rte_lpm6: %lu adds failed\n", (unsigned long)failures);

  std::vector<lpm::NextHop> got(f.sample.size());
  int32_t hop[64];
  for (size_t i = 0; i < f.sample.size(); i += 64) {
    size_t n = std::min<size_t>(64, f.sample.size() - i);
    rte_lpm6_lookup_bulk_func(lpm, AsDpdk(&f.sample[i]), hop, static_cast<unsigned>(n));
    for (size_t k = 0; k < n; ++k) {
      got[i + k] = hop[k] < 0 ? f.default_next_hop : static_cast<lpm::NextHop>(hop[k]);
    }
  }
  r.sample = f.sample.size();
  r.disagreements = SpotCheck(f, r.name, got);
  MeasureMatrix(
      f, cfg,
      [lpm](const lpm::Ipv6Address* a, size_t n) {
        int32_t nh[64];
        rte_lpm6_lookup_bulk_func(lpm, AsDpdk(a), nh, static_cast<unsigned>(n));
        uint64_t x = 0;
        for (size_t i = 0; i < n; ++i) x ^= static_cast<uint32_t>(nh[i]);
        return x;
      },
      &r, sink);
  const auto& routes = *f.routes;
  ChurnStream stream(routes, f.churn_routes, f.NextHops(), f.egress_count, cfg.seed + 21);
  r.updates_per_s = MeasureUpdates(
      stream, cfg.update_seconds,
      [&](const lpm::Ipv6Prefix& p) { return rte_lpm6_delete(lpm, p.addr.data(), p.len) == 0; },
      [&](const lpm::Ipv6Prefix& p, uint32_t nh) {
        return rte_lpm6_add(lpm, p.addr.data(), p.len, nh) == 0;
      },
      &r.update_failures);
  rte_lpm6_free(lpm);
  out->structures.push_back(r);
}

// ---------------------------------------------------------------- rte_fib6

struct Fib6Ops {
  using Handle = rte_fib6;
  using Size = rte_fib_trie_nh_sz;
  using LookupType = rte_fib6_lookup_type;
  using Family = Family6;
  using Route = Route6;
  using Addr = lpm::Ipv6Address;
  static constexpr const char* kName = "rte_fib6";
  static constexpr size_t kScreenTrace = 1;  // uniform-prefix, the IPv6 headline
  static constexpr uint64_t kUpdateSeed = 22;
  static constexpr Size kSizes[] = {RTE_FIB6_TRIE_2B, RTE_FIB6_TRIE_4B, RTE_FIB6_TRIE_8B};
  static constexpr FibLookupFn<LookupType> kFns[] = {
      {RTE_FIB6_LOOKUP_TRIE_SCALAR, "scalar", false},
      {RTE_FIB6_LOOKUP_TRIE_VECTOR_AVX512, "avx512", true},
  };
  static rte_fib6* Create(const Family6& f, Size sz, uint64_t tbl8, uint64_t no_route) {
    rte_fib6_conf conf{};
    conf.type = RTE_FIB6_TRIE;
    conf.default_nh = no_route;
    conf.max_routes = static_cast<int>(f.routes->size() + 1024);
    conf.trie.nh_sz = sz;
    conf.trie.num_tbl8 = static_cast<uint32_t>(tbl8);
    return rte_fib6_create(UniqueName("bf6").c_str(), SOCKET_ID_ANY, &conf);
  }
  static int Add(rte_fib6* fib, const lpm::Ipv6Prefix& p, uint32_t nh) {
    return rte_fib6_add(fib, p.addr.data(), p.len, nh);
  }
  static int Delete(rte_fib6* fib, const lpm::Ipv6Prefix& p) {
    return rte_fib6_delete(fib, p.addr.data(), p.len);
  }
  static void Free(rte_fib6* fib) { rte_fib6_free(fib); }
  static int Select(rte_fib6* fib, LookupType type) { return rte_fib6_select_lookup(fib, type); }
  static void LookupBulk(rte_fib6* fib, const Addr* a, uint64_t* nh, int n) {
    rte_fib6_lookup_bulk(fib, AsDpdk(a), nh, n);
  }
};

}  // namespace

void RunDpdk6(const Family6& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  if (!cfg.Skips("rte_lpm6")) {
    Progress("rte_lpm6: build, lookups, updates");
    RunRteLpm6(f, cfg, out, sink);
  }
  if (!cfg.Skips("rte_fib6")) {
    Progress("rte_fib6: screening next-hop sizes x lookup functions, then the best two");
    RunFib<Fib6Ops>(f, cfg, out, sink);
  }
}

}  // namespace edgefwd::bench
