#include "tests/bench/bench_edgefwd.h"

#include <malloc.h>
#include <pthread.h>
#include <rte_malloc.h>
#include <sched.h>

#include <atomic>
#include <thread>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"
#include "lpm/qsbr.h"
#include "tests/bench/bench_dpdk_common.h"

namespace edgefwd::bench {
namespace {

// Bytes the C++ heap has handed out (glibc's counters: arenas + mmapped).
size_t LibcHeapBytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

void* RteAlloc(size_t bytes, size_t align, void*) {
  return rte_malloc("edgefwd_lpm", bytes, static_cast<unsigned>(align));
}
void RteFree(void* p, void*) {
  rte_free(p);
}

lpm::TableConfig MakeConfig(size_t routes, bool hugepage_memory) {
  lpm::TableConfig c;
  c.max_routes = routes + (size_t{1} << 16);
  c.max_memory_bytes = size_t{1} << 30;  // measure what it uses; do not cap it here
  if (hugepage_memory) c.memory = {RteAlloc, RteFree, nullptr};
  return c;
}

// Per-family glue: the benchmark code below is written once for both tables.
struct V4 {
  using Table = lpm::Ipv4Table;
  using Change = lpm::Ipv4RouteChange;
  using Addr = lpm::Ipv4Address;
  static constexpr const char* kName = "edgefwd";
};
struct V6 {
  using Table = lpm::Ipv6Table;
  using Change = lpm::Ipv6RouteChange;
  using Addr = lpm::Ipv6Address;
  static constexpr const char* kName = "edgefwd";
};

bool PinThisThread(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

template <typename Fam, typename Family>
void Run(const Family& f, const BenchConfig& cfg, bool hugepage_memory, size_t reader_trace,
         FamilyResult* out, uint64_t* sink) {
  using Table = typename Fam::Table;
  using Change = typename Fam::Change;
  using Addr = typename Fam::Addr;
  const auto& routes = *f.routes;
  using Route = typename std::decay_t<decltype(routes)>::value_type;
  using Prefix = decltype(Route::prefix);
  StructureResult r;
  r.name = Fam::kName;
  r.variant = hugepage_memory ? "rte_malloc memory" : "heap memory";
  lpm::QsbrDomain qsbr(4);

  Progress("edgefwd: build, spot check, lookups");
  // Full-table build: create + one Apply with every route.
  std::vector<Change> changes;
  changes.reserve(routes.size());
  for (const auto& route : routes) {
    changes.push_back({Change::Op::kUpsert, route.prefix, route.next_hop});
  }
  const size_t dpdk0 = DpdkHeapBytes(), libc0 = LibcHeapBytes();
  const double t0 = CpuSeconds();
  std::unique_ptr<Table> table = Table::Create(MakeConfig(routes.size(), hugepage_memory), &qsbr);
  if (table == nullptr) {
    r.ok = false;
    r.error = "Create failed";
    out->structures.push_back(r);
    return;
  }
  lpm::LpmError err = table->Apply(changes);
  r.build_s = CpuSeconds() - t0;
  qsbr.Reclaim();
  if (err != lpm::LpmError::kOk) {
    r.ok = false;
    r.error = "Apply(full table): " + std::string(lpm::ToString(err));
    out->structures.push_back(r);
    return;
  }
  // memory_bytes() is the table's own account; the allocators' counters
  // (hugepage heap + C++ heap, taken while `changes` is still allocated so it
  // is not subtracted) are an independent check of it.
  const double hugepage_growth = MiB(DpdkHeapBytes() - dpdk0);
  const double heap_growth = (static_cast<double>(LibcHeapBytes()) - libc0) / (1 << 20);
  r.measured_memory_mib = hugepage_growth + heap_growth;
  r.notes = absl::StrFormat("allocators grew %.1f MiB (rte_malloc %.1f + C++ heap %.1f)",
                            r.measured_memory_mib, hugepage_growth, heap_growth);
  r.memory_mib = MiB(table->memory_bytes());
  if (table->route_count() != routes.size()) {
    std::fprintf(stderr, "edgefwd: route_count() = %zu after loading %zu routes\n",
                 table->route_count(), routes.size());
  }

  // Spot check: the burst call (what workers use) and the single lookup.
  std::vector<lpm::NextHop> got(f.sample.size());
  for (size_t i = 0; i < f.sample.size(); i += 64) {
    table->LookupBurst(&f.sample[i], &got[i], std::min<size_t>(64, f.sample.size() - i));
  }
  r.sample = f.sample.size();
  r.disagreements = SpotCheck(f, "edgefwd LookupBurst", got);
  for (size_t i = 0; i < f.sample.size(); ++i) got[i] = table->Lookup(f.sample[i]);
  r.disagreements += SpotCheck(f, "edgefwd Lookup", got);

  const Table* t = table.get();
  auto lookup = [t](const Addr* a, size_t n) {
    lpm::NextHop nh[64];
    t->LookupBurst(a, nh, n);
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x ^= nh[i];
    return x;
  };
  for (size_t ti = 0; ti < std::size(kAllTraces); ++ti) {
    for (size_t batch : kBatches) {
      r.mlps[{kAllTraces[ti], batch}] = MeasureMlps(f.traces[ti], batch, cfg, lookup, sink);
    }
  }

  Progress("edgefwd: single-route updates, alone and with a concurrent reader");
  // Single-route changes, the writer reclaiming as the control thread would.
  uint64_t since_reclaim = 0;
  auto remover = [&](Table* t) {
    return [&since_reclaim, &qsbr, t](const Prefix& p) {
      if (++since_reclaim % 64 == 0) qsbr.Reclaim();
      return t->Remove(p) == lpm::LpmError::kOk;
    };
  };
  auto upserter = [](Table* t) {
    return [t](const Prefix& p, uint32_t nh) { return t->Insert(p, nh) == lpm::LpmError::kOk; };
  };
  ChurnResult& churn = out->edgefwd_churn;
  churn.ran = true;
  ChurnStream stream(routes, f.churn_routes, f.NextHops(), f.egress_count, cfg.seed + 31);
  r.updates_per_s = churn.updates_per_s_alone = MeasureUpdates(
      stream, cfg.update_seconds, remover(table.get()), upserter(table.get()), &r.update_failures);

  // The control: a second copy of the table that the reader never reads.
  // Churning it costs the reader only what the writer's use of the shared
  // caches and memory costs, not what writes to the lines it reads do.
  std::unique_ptr<Table> control = Table::Create(MakeConfig(routes.size(), hugepage_memory), &qsbr);
  if (control == nullptr || control->Apply(changes) != lpm::LpmError::kOk) {
    std::fprintf(stderr, "edgefwd churn: could not build the control table\n");
    control.reset();
  }
  changes = {};
  ChurnStream control_stream(routes, f.churn_routes, f.NextHops(), f.egress_count, cfg.seed + 32);

  // The same churn while a reader on another core replays a trace in bursts
  // of 64, reporting a quiescent state after each burst like a worker.
  // Phases alternate idle / churn; rates are medians over the rounds.
  const auto& trace = f.traces[reader_trace];
  lpm::QsbrDomain::ReaderId reader_id = qsbr.RegisterReader();
  std::atomic<bool> stop{false};
  alignas(64) std::atomic<uint64_t> reader_lookups{0};
  std::atomic<bool> pinned{true};
  std::thread reader([&] {
    pinned.store(PinThisThread(cfg.reader_core));
    qsbr.Online(reader_id);
    uint64_t acc = 0, count = 0;
    size_t pos = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (int k = 0; k < 16; ++k) {
        acc ^= lookup(&trace[pos], 64);
        pos += 64;
        if (pos == trace.size()) pos = 0;
        qsbr.Quiescent(reader_id);
      }
      count += 16 * 64;
      reader_lookups.store(count, std::memory_order_relaxed);
    }
    qsbr.Offline(reader_id);
    *sink ^= acc;
  });
  // The reader's rate per second of its own CPU time (read through its CPU
  // clock), so time slices lost to other processes on the shared machine do
  // not count as interference from the writer.
  clockid_t reader_clock;
  bool have_reader_clock = pthread_getcpuclockid(reader.native_handle(), &reader_clock) == 0;
  auto reader_rate = [&](auto&& during) {
    uint64_t c0 = reader_lookups.load(std::memory_order_relaxed);
    double cpu0 = have_reader_clock ? CpuSeconds(reader_clock) : 0;
    auto t = Clock::now();
    during();
    uint64_t c1 = reader_lookups.load(std::memory_order_relaxed);
    double seconds = have_reader_clock ? CpuSeconds(reader_clock) - cpu0 : SecondsSince(t);
    return static_cast<double>(c1 - c0) / seconds / 1e6;
  };
  const double phase = cfg.update_seconds / 2;
  const int rounds = cfg.quick ? 1 : 3;
  std::vector<double> idle, busy, busy_control;
  uint64_t churn_changes = 0, failures = 0;
  double churn_seconds = 0;
  // Each churn phase's changes are generated before the phase, so the
  // writer does nothing else while the reader is measured.
  const size_t phase_changes =
      std::max<size_t>(96, static_cast<size_t>(churn.updates_per_s_alone * phase * 1.5));
  std::vector<typename ChurnStream<Route>::Op> ops;
  auto churn_phase = [&](ChurnStream<Route>& s, Table* t, bool counted) {
    s.Next(phase_changes, &ops);
    return reader_rate([&] {
      UpdateRun run = ApplyUpdates(ops, phase, remover(t), upserter(t));
      failures += run.failed;
      if (!counted) return;
      churn_seconds += run.cpu_seconds;
      churn_changes += run.done;
    });
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // reader warms up
  for (int round = 0; round < rounds; ++round) {
    idle.push_back(
        reader_rate([&] { std::this_thread::sleep_for(std::chrono::duration<double>(phase)); }));
    busy.push_back(churn_phase(stream, table.get(), true));
    if (control) busy_control.push_back(churn_phase(control_stream, control.get(), false));
  }
  stop.store(true);
  reader.join();
  qsbr.UnregisterReader(reader_id);
  qsbr.Synchronize();
  if (!pinned.load()) std::fprintf(stderr, "edgefwd churn: could not pin the reader thread\n");
  std::sort(idle.begin(), idle.end());
  std::sort(busy.begin(), busy.end());
  churn.reader_idle_mlps = idle[idle.size() / 2];
  churn.reader_churn_mlps = busy[busy.size() / 2];
  if (!busy_control.empty()) {
    std::sort(busy_control.begin(), busy_control.end());
    churn.reader_control_mlps = busy_control[busy_control.size() / 2];
  }
  churn.updates_per_s_with_reader = static_cast<double>(churn_changes) / churn_seconds;
  churn.failures = r.update_failures + failures;
  control.reset();
  table.reset();
  qsbr.Synchronize();
  out->structures.insert(out->structures.begin(), r);
}

}  // namespace

void RunEdgefwd4(const Family4& f, const BenchConfig& cfg, bool hugepage_memory,
                 size_t reader_trace, FamilyResult* out, uint64_t* sink) {
  Run<V4>(f, cfg, hugepage_memory, reader_trace, out, sink);
}
void RunEdgefwd6(const Family6& f, const BenchConfig& cfg, bool hugepage_memory,
                 size_t reader_trace, FamilyResult* out, uint64_t* sink) {
  Run<V6>(f, cfg, hugepage_memory, reader_trace, out, sink);
}

}  // namespace edgefwd::bench
