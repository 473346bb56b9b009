// rte_lpm6 and rte_fib6 TRIE (scalar and AVX-512, every next-hop size) on
// the IPv6 table.
#include <rte_fib6.h>
#include <rte_lpm6.h>

#include <cstdio>
#include <memory>

#include "tests/bench/bench_dpdk.h"
#include "tests/bench/bench_dpdk_common.h"

namespace edgefwd::bench {
namespace {

using Addr16 = uint8_t[16];
Addr16* AsDpdk(const lpm::Ipv6Address* a) {
  return reinterpret_cast<Addr16*>(const_cast<lpm::Ipv6Address*>(a));
}

template <typename Fn>
void MeasureMatrix(const Family6& f, const BenchConfig& cfg, Fn&& lookup, StructureResult* r,
                   uint64_t* sink) {
  for (size_t t = 0; t < std::size(kAllTraces); ++t) {
    for (size_t batch : kBatches) {
      r->mlps[{kAllTraces[t], batch}] = MeasureMlps(f.traces[t], batch, cfg, lookup, sink);
    }
  }
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
  r.updates_per_s = MeasureUpdates(
      f.churn_routes, f.NextHops(), f.egress_count, cfg.update_seconds, cfg.seed + 21,
      [&](size_t i) {
        return rte_lpm6_delete(lpm, routes[i].prefix.addr.data(), routes[i].prefix.len) == 0;
      },
      [&](size_t i, uint32_t nh) {
        return rte_lpm6_add(lpm, routes[i].prefix.addr.data(), routes[i].prefix.len, nh) == 0;
      },
      &r.update_failures);
  rte_lpm6_free(lpm);
  out->structures.push_back(r);
}

// ---------------------------------------------------------------- rte_fib6

struct Fib6LookupFn {
  rte_fib6_lookup_type type;
  const char* name;
  bool vector;
};
constexpr Fib6LookupFn kFib6Fns[] = {
    {RTE_FIB6_LOOKUP_TRIE_SCALAR, "scalar", false},
    {RTE_FIB6_LOOKUP_TRIE_VECTOR_AVX512, "avx512", true},
};
constexpr rte_fib_trie_nh_sz kFib6Sizes[] = {RTE_FIB6_TRIE_2B, RTE_FIB6_TRIE_4B, RTE_FIB6_TRIE_8B};
int SizeBytes(rte_fib_trie_nh_sz sz) {
  return 1 << static_cast<int>(sz);
}
// The trie keeps one flag bit per entry; next hops and tbl8 indexes share
// the rest.
uint64_t Fib6MaxNh(rte_fib_trie_nh_sz sz) {
  return (uint64_t{1} << (8 * SizeBytes(sz) - 1)) - 1;
}

struct Fib6 {
  rte_fib6* fib = nullptr;
  uint64_t no_route = 0;  // default_nh: a value no route uses
  uint64_t tbl8 = 0;      // groups in the pool
  double build_s = 0;
  double memory_mib = 0;
  std::string error;
  ~Fib6() {
    if (fib != nullptr) rte_fib6_free(fib);
  }
};

// The first size tried for the tbl8 pool is what the table needs; DPDK
// reserves groups more conservatively than it uses them (per route, against
// its covering route), so on ENOSPC the pool grows by half and the build
// starts over, up to what the entry size can index.
std::unique_ptr<Fib6> BuildFib6(const Family6& f, rte_fib_trie_nh_sz sz) {
  auto out = std::make_unique<Fib6>();
  const uint64_t max_nh = Fib6MaxNh(sz);
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
    rte_fib6_conf conf{};
    conf.type = RTE_FIB6_TRIE;
    conf.default_nh = max_nh;
    conf.max_routes = static_cast<int>(f.routes->size() + 1024);
    conf.trie.nh_sz = sz;
    conf.trie.num_tbl8 = static_cast<uint32_t>(tbl8);
    out->no_route = max_nh;
    out->tbl8 = tbl8;
    size_t heap0 = DpdkHeapBytes();
    const double t0 = CpuSeconds();
    out->fib = rte_fib6_create(UniqueName("bf6").c_str(), SOCKET_ID_ANY, &conf);
    if (out->fib == nullptr) {
      out->error = "rte_fib6_create: " + ErrnoText();
      return out;
    }
    uint64_t failures = 0;
    int first_error = 0;
    for (const auto& r : *f.routes) {
      int rc = rte_fib6_add(out->fib, r.prefix.addr.data(), r.prefix.len, r.next_hop);
      if (rc != 0 && failures++ == 0) first_error = rc;
    }
    out->build_s = CpuSeconds() - t0;
    out->memory_mib = MiB(DpdkHeapBytes() - heap0);
    if (failures == 0) return out;
    rte_fib6_free(out->fib);
    out->fib = nullptr;
    if (first_error != -ENOSPC || tbl8 == max_nh) {
      out->error = std::to_string(failures) +
                   " rte_fib6_add calls failed (first: " + rte_strerror(-first_error) + ", " +
                   std::to_string(tbl8) + " tbl8 groups)";
      return out;
    }
    tbl8 = std::min(tbl8 * 3 / 2, max_nh);
  }
}

auto Fib6Lookup(rte_fib6* fib) {
  return [fib](const lpm::Ipv6Address* a, size_t n) {
    uint64_t nh[64];
    rte_fib6_lookup_bulk(fib, AsDpdk(a), nh, static_cast<int>(n));
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x ^= nh[i];
    return x;
  };
}

std::string Fib6Variant(rte_fib_trie_nh_sz sz, const char* fn) {
  return "nh=" + std::to_string(SizeBytes(sz)) + "B " + fn;
}

void RunRteFib6(const Family6& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  // Screen every next-hop size x lookup function on uniform-prefix, batch 64
  // (the IPv6 headline trace).
  struct Best {
    double mlps = -1;
    rte_fib_trie_nh_sz sz{};
    const Fib6LookupFn* fn = nullptr;
  } best_scalar, best_vector;
  const auto& screen_trace = f.traces[1];
  for (auto sz : kFib6Sizes) {
    auto fib = BuildFib6(f, sz);
    for (const auto& fn : kFib6Fns) {
      ScreenResult s;
      s.name = "rte_fib6";
      s.variant = Fib6Variant(sz, fn.name);
      if (fib->fib == nullptr) {
        s.error = fib->error;
      } else if (rte_fib6_select_lookup(fib->fib, fn.type) != 0) {
        s.error = "lookup function not supported here";
      } else {
        s.mlps = MeasureMlps(screen_trace, 64, cfg, Fib6Lookup(fib->fib), sink);
        Best& b = fn.vector ? best_vector : best_scalar;
        if (s.mlps > b.mlps) b = {s.mlps, sz, &fn};
      }
      out->screening.push_back(s);
    }
  }
  for (Best* b : {&best_scalar, &best_vector}) {
    StructureResult r;
    r.name = b == &best_scalar ? "rte_fib6-scalar" : "rte_fib6-avx512";
    if (b->fn == nullptr) {
      r.ok = false;
      r.error = "no variant could run (see screening)";
      out->structures.push_back(r);
      continue;
    }
    r.variant = Fib6Variant(b->sz, b->fn->name);
    auto fib = BuildFib6(f, b->sz);
    if (fib->fib == nullptr || rte_fib6_select_lookup(fib->fib, b->fn->type) != 0) {
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
      rte_fib6_lookup_bulk(fib->fib, AsDpdk(&f.sample[i]), nh, static_cast<int>(n));
      for (size_t k = 0; k < n; ++k) {
        got[i + k] = nh[k] == fib->no_route ? lpm::kNoRoute : static_cast<lpm::NextHop>(nh[k]);
      }
    }
    r.sample = f.sample.size();
    r.disagreements = SpotCheck(f, r.name, got);
    MeasureMatrix(f, cfg, Fib6Lookup(fib->fib), &r, sink);
    const auto& routes = *f.routes;
    rte_fib6* p = fib->fib;
    r.updates_per_s = MeasureUpdates(
        f.churn_routes, f.NextHops(), f.egress_count, cfg.update_seconds, cfg.seed + 22,
        [&](size_t i) {
          return rte_fib6_delete(p, routes[i].prefix.addr.data(), routes[i].prefix.len) == 0;
        },
        [&](size_t i, uint32_t nh_id) {
          return rte_fib6_add(p, routes[i].prefix.addr.data(), routes[i].prefix.len, nh_id) == 0;
        },
        &r.update_failures);
    out->structures.push_back(r);
  }
}

}  // namespace

void RunDpdk6(const Family6& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink) {
  if (!cfg.Skips("rte_lpm6")) {
    Progress("rte_lpm6: build, lookups, updates");
    RunRteLpm6(f, cfg, out, sink);
  }
  if (!cfg.Skips("rte_fib6")) {
    Progress("rte_fib6: screening next-hop sizes x lookup functions, then the best two");
    RunRteFib6(f, cfg, out, sink);
  }
}

}  // namespace edgefwd::bench
