// edgefwd-bench-lpm: edgefwd's LPM tables side by side with DPDK 22.11's
// rte_lpm, rte_fib (DIR24_8), rte_lpm6 and rte_fib6 (TRIE) on the same table
// and the same traces, in one process. Run through scripts/bench-lpm.
//
//   edgefwd-bench-lpm [--routes4 F] [--routes6 F] [--synthetic] [--json] [--quick]
//                     [--lcore N] [--reader-core N] [--family 4|6|both] [--no-dpdk]
//                     [--skip rte_lpm,rte_fib,rte_lpm6,rte_fib6] [--no-huge] [--heap-memory]
//                     [--seed N]
//
// With --json the last stdout line is one object:
//   ipv4 / ipv6: ratio_vs_best_dpdk (edgefwd / best DPDK structure on the
//     headline row: IPv4 uniform-routed batch 64, IPv6 uniform-prefix batch 64),
//     edgefwd_mlps, best_dpdk_mlps, best_dpdk, memory_mib (memory_bytes()),
//     measured_memory_mib (allocator growth), build_s, updates_per_s (alone),
//     updates_per_s_with_reader, reader_rate_under_churn_pct,
//     reader_rate_under_control_churn_pct (the writer churning a copy the
//     reader does not read), disagreements, rows (every trace x batch with
//     its ratio)
//   build_s: IPv4 + IPv6 edgefwd full-table builds; updates_per_s and
//   reader_rate_under_churn_pct: the lower family's figure with a concurrent
//   reader; disagreements: spot-check mismatches against the reference, all
//   structures; lookup_cpu_share_pct: how much CPU the lookup thread got.
#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "tests/bench/bench_dpdk.h"
#include "tests/bench/bench_edgefwd.h"
#include "tests/bench/bench_reference.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/bench_routes.h"
#include "tests/bench/bench_traces.h"

namespace edgefwd::bench {
namespace {

struct Options {
  std::string routes4 = "data/table/ipv4.routes";
  std::string routes6 = "data/table/ipv6.routes";
  bool synthetic = false;
  bool json = false;
  bool no_dpdk = false;
  bool force_no_huge = false;
  bool heap_memory = false;
  int family = 0;  // 0 both, 4, 6
  int lcore = 1;
  BenchConfig cfg;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "edgefwd-bench-lpm: %s\nusage: edgefwd-bench-lpm [--routes4 FILE] [--routes6 FILE] "
               "[--synthetic] [--json] [--quick] [--lcore N] [--reader-core N] [--family 4|6|both] "
               "[--no-dpdk] [--skip rte_lpm,rte_fib,rte_lpm6,rte_fib6] [--no-huge] [--heap-memory] "
               "[--seed N]\n",
               why);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    auto number = [&]() {
      std::string v = value();
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) Usage(("bad number for " + a + ": " + v).c_str());
      return n;
    };
    if (a == "--routes4") {
      o.routes4 = value();
    } else if (a == "--routes6") {
      o.routes6 = value();
    } else if (a == "--synthetic") {
      o.synthetic = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--quick") {
      o.cfg.quick = true;
    } else if (a == "--no-dpdk") {
      o.no_dpdk = true;
    } else if (a == "--no-huge") {
      o.force_no_huge = true;
    } else if (a == "--heap-memory") {
      o.heap_memory = true;
    } else if (a == "--lcore") {
      o.lcore = static_cast<int>(number());
    } else if (a == "--reader-core") {
      o.cfg.reader_core = static_cast<int>(number());
    } else if (a == "--seed") {
      o.cfg.seed = static_cast<uint64_t>(number());
    } else if (a == "--skip") {
      std::string v = value();
      for (size_t start = 0; start <= v.size();) {
        size_t comma = std::min(v.find(',', start), v.size());
        std::string name = v.substr(start, comma - start);
        if (name != "rte_lpm" && name != "rte_fib" && name != "rte_lpm6" && name != "rte_fib6") {
          Usage(("--skip takes rte_lpm, rte_fib, rte_lpm6, rte_fib6 (comma-separated), not " + name)
                    .c_str());
        }
        o.cfg.skip.push_back(name);
        start = comma + 1;
      }
    } else if (a == "--family") {
      std::string v = value();
      if (v == "4")
        o.family = 4;
      else if (v == "6")
        o.family = 6;
      else if (v == "both")
        o.family = 0;
      else
        Usage("--family takes 4, 6 or both");
    } else {
      Usage(("unknown argument " + a).c_str());
    }
  }
  if (o.cfg.quick) {
    o.cfg.pass_seconds = 0.06;
    o.cfg.update_seconds = 0.3;
    o.cfg.sample = 50'000;
  }
  o.cfg.sample = (o.cfg.sample + 63) / 64 * 64;
  return o;
}

// 8-bit-stride groups below the first 24 bits that a DIR-24-8 style table
// (rte_lpm, rte_fib, rte_lpm6, rte_fib6 trie) allocates for this table: one
// per distinct (truncated prefix, level) for every level a route extends past.
size_t Tbl8Needed4(const std::vector<Route4>& routes) {
  absl::flat_hash_set<uint32_t> groups;
  for (const auto& r : routes) {
    if (r.prefix.len > 24) groups.insert(r.prefix.addr >> 8);
  }
  return groups.size();
}
size_t Tbl8Needed6(const std::vector<Route6>& routes) {
  absl::flat_hash_set<std::string> groups;
  for (const auto& r : routes) {
    for (int level = 24; level < r.prefix.len; level += 8) {
      std::string key(reinterpret_cast<const char*>(r.prefix.addr.data()), level / 8);
      key.push_back(static_cast<char>(level));
      groups.insert(std::move(key));
    }
  }
  return groups.size();
}

// Hugepage MiB the largest DPDK structure needs at its peak (8-byte next-hop
// variants: 2^24-entry first level + groups + RIB nodes), plus edgefwd's
// tables and slack. Structures are built one at a time.
size_t HugepageMiBNeeded(const RouteSet& rs, size_t tbl8_4, size_t tbl8_6) {
  auto groups = [](size_t n) { return n * 5 / 4 + 64; };
  size_t v4 = 128 + groups(tbl8_4) * 256 * 8 / (1 << 20) + rs.v4.size() * 2 * 128 / (1 << 20);
  size_t v6 = 128 + groups(tbl8_6) * 256 * 8 / (1 << 20) + rs.v6.size() * 2 * 160 / (1 << 20);
  return std::max(v4, v6) + 128;
}

size_t FreeHugepageMiB() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  size_t free_pages = 0, page_kb = 0;
  while (in >> key) {
    size_t v;
    in >> v;
    if (key == "HugePages_Free:") free_pages = v;
    if (key == "Hugepagesize:") page_kb = v;
    in.ignore(1 << 10, '\n');
  }
  return free_pages * page_kb / 1024;
}

template <typename Route, typename Addr, typename Ref, typename Gen>
FamilyData<Route, Addr> MakeFamily(const std::vector<Route>& routes, uint32_t egress_count,
                                   size_t trace_len, size_t tbl8, const BenchConfig& cfg,
                                   uint64_t seed, Gen&& gen, Addr (*random_addr)(std::mt19937_64&),
                                   Addr (*last_addr)(const Route&)) {
  FamilyData<Route, Addr> f;
  f.routes = &routes;
  f.egress_count = egress_count;
  f.tbl8_needed = tbl8;
  for (size_t i = 0; i < routes.size(); ++i) {
    if (routes[i].prefix.len == 0) {
      f.default_next_hop = routes[i].next_hop;
    } else {
      f.churn_routes.push_back(static_cast<uint32_t>(i));
    }
  }
  for (size_t i = 0; i < std::size(kAllTraces); ++i) {
    f.traces.push_back(gen(routes, kAllTraces[i], trace_len, seed + i));
  }
  // Sample: the start of every trace, random addresses (mostly unrouted
  // ones), and both ends of random prefixes, where off-by-ones live.
  std::mt19937_64 rng(seed + 100);
  size_t part = cfg.sample / 5;
  for (const auto& t : f.traces) f.sample.insert(f.sample.end(), t.begin(), t.begin() + part);
  for (size_t i = 0; i < part; ++i) f.sample.push_back(random_addr(rng));
  while (f.sample.size() < cfg.sample) {
    const Route& r = routes[rng() % routes.size()];
    f.sample.push_back(r.prefix.addr);
    f.sample.push_back(last_addr(r));
  }
  f.sample.resize(cfg.sample);
  Ref ref(routes);
  f.expected.reserve(f.sample.size());
  for (const auto& a : f.sample) f.expected.push_back(ref.Lookup(a));
  return f;
}

lpm::Ipv4Address Random4(std::mt19937_64& rng) {
  return static_cast<uint32_t>(rng());
}
lpm::Ipv4Address Last4(const Route4& r) {
  return r.prefix.addr | (r.prefix.len == 0 ? ~0u : ~(~0u << (32 - r.prefix.len)));
}
lpm::Ipv6Address Random6(std::mt19937_64& rng) {
  lpm::Ipv6Address a;
  for (auto& b : a) b = static_cast<uint8_t>(rng());
  a[0] = static_cast<uint8_t>(0x20 | (a[0] & 0x1f));  // 2000::/3, where routes are
  return a;
}
lpm::Ipv6Address Last6(const Route6& r) {
  lpm::Ipv6Address a = r.prefix.addr;
  for (int bit = r.prefix.len; bit < 128; ++bit)
    a[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  return a;
}

int Main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  Progress("loading the table");
  RouteSet rs;
  if (o.synthetic) {
    rs = SyntheticRoutes(900'000, 180'000, o.cfg.seed);
  } else if (!LoadRouteFiles(o.routes4, o.routes6, &rs)) {
    return 1;
  }
  if (rs.v4.empty() || rs.v6.empty()) {
    std::fprintf(stderr, "edgefwd-bench-lpm: the table needs IPv4 and IPv6 routes\n");
    return 1;
  }
  std::fprintf(stderr, "table: %zu IPv4 + %zu IPv6 routes, %zu egresses (%s)\n", rs.v4.size(),
               rs.v6.size(), rs.egress_names.size(), rs.source.c_str());
  size_t tbl8_4 = Tbl8Needed4(rs.v4), tbl8_6 = Tbl8Needed6(rs.v6);

  // EAL: one lcore for the lookups; AVX-512 lookups need the 512-bit SIMD
  // cap raised; hugepages only if enough are free (they are shared).
  size_t need = HugepageMiBNeeded(rs, tbl8_4, tbl8_6);
  size_t have = FreeHugepageMiB();
  bool no_huge = o.force_no_huge || have < need;
  RunInfo info;
  info.table_source = rs.source;
  info.lookup_core = o.lcore;
  info.cfg = o.cfg;
  info.memory_mode = no_huge ? absl::StrFormat("--no-huge (4 KiB pages%s)",
                                               o.force_no_huge ? "" : ": too few free hugepages")
                             : absl::StrFormat("hugepages (peak need ~%zu MiB)", need);
  if (no_huge && !o.force_no_huge) {
    std::fprintf(stderr,
                 "only %zu MiB of hugepages free, ~%zu MiB needed: running with --no-huge\n", have,
                 need);
  }
  std::vector<std::string> eal = {"edgefwd-bench-lpm",
                                  "-l",
                                  std::to_string(o.lcore),
                                  "--no-pci",
                                  "--file-prefix=benchlpm-" + std::to_string(getpid()),
                                  "--force-max-simd-bitwidth=512",
                                  "--log-level=lib.eal:warning"};
  if (!no_huge) {
    eal.push_back("--in-memory");
  } else {
    // --no-huge cannot be combined with --in-memory; --no-shconf keeps it
    // from leaving runtime files behind instead.
    eal.push_back("--no-shconf");
    eal.push_back("--no-huge");
    eal.push_back("-m");
    eal.push_back(std::to_string(need + 256));
  }
  std::vector<char*> eal_argv;
  for (auto& s : eal) eal_argv.push_back(s.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "edgefwd-bench-lpm: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }

  uint64_t sink = 0;
  std::vector<FamilyResult> results;
  const bool hugepage_memory = !no_huge && !o.heap_memory;
  const size_t trace4 = o.cfg.quick ? (size_t{4} << 20) : (size_t{16} << 20);
  const size_t trace6 = o.cfg.quick ? (size_t{2} << 20) : (size_t{8} << 20);
  if (o.family != 6) {
    auto t0 = Clock::now();
    Family4 f = MakeFamily<Route4, lpm::Ipv4Address, ReferenceLpm4>(
        rs.v4, static_cast<uint32_t>(rs.egress_names.size()), trace4, tbl8_4, o.cfg, o.cfg.seed,
        MakeTrace4, Random4, Last4);
    Progress(absl::StrFormat("ipv4: traces and sample ready in %.1f s; %zu tbl8 groups needed",
                             SecondsSince(t0), tbl8_4));
    FamilyResult r;
    r.family = "ipv4";
    r.routes = rs.v4.size();
    RunEdgefwd4(f, o.cfg, hugepage_memory, 0, &r, &sink);
    if (!o.no_dpdk) RunDpdk4(f, o.cfg, &r, &sink);
    PrintFamily(r, info);
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  if (o.family != 4) {
    auto t0 = Clock::now();
    Family6 f = MakeFamily<Route6, lpm::Ipv6Address, ReferenceLpm6>(
        rs.v6, static_cast<uint32_t>(rs.egress_names.size()), trace6, tbl8_6, o.cfg,
        o.cfg.seed + 1000, MakeTrace6, Random6, Last6);
    Progress(absl::StrFormat("ipv6: traces and sample ready in %.1f s; %zu tbl8 groups needed",
                             SecondsSince(t0), tbl8_6));
    FamilyResult r;
    r.family = "ipv6";
    r.routes = rs.v6.size();
    RunEdgefwd6(f, o.cfg, hugepage_memory, 1, &r, &sink);
    if (!o.no_dpdk) RunDpdk6(f, o.cfg, &r, &sink);
    PrintFamily(r, info);
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  std::fprintf(stderr, "(sink %lx)\n", static_cast<unsigned long>(sink));
  std::printf(
      "\nThe lookup thread had its CPU %.0f%% of the wall time of the timed passes (100%% = no "
      "other process competed for it).\n",
      LookupTimeShare().Percent());
  // --in-memory leaves no hugepage files, but EAL still makes a runtime
  // directory (for its telemetry socket) that nothing else removes.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ignored;
  std::filesystem::remove_all(runtime_dir, ignored);
  if (o.json) std::printf("%s\n", JsonSummary(results, info).c_str());
  return 0;
}

}  // namespace
}  // namespace edgefwd::bench

int main(int argc, char** argv) {
  return edgefwd::bench::Main(argc, argv);
}
