// edgefwd's own tables (lpm/ipv4_table.h, lpm/ipv6_table.h) in the
// benchmark: build, lookup matrix, spot check, memory, single-route update
// rate alone and with a concurrent reader thread.
#pragma once

#include <cstdint>

#include "tests/bench/bench_family.h"
#include "tests/bench/bench_harness.h"

namespace edgefwd::bench {

// `hugepage_memory`: the tables get their memory from rte_malloc (as the
// dataplane gives them), otherwise from the C++ heap. `reader_trace` indexes
// f.traces: the trace the concurrent reader replays during churn.
void RunEdgefwd4(const Family4& f, const BenchConfig& cfg, bool hugepage_memory,
                 size_t reader_trace, FamilyResult* out, uint64_t* sink);
void RunEdgefwd6(const Family6& f, const BenchConfig& cfg, bool hugepage_memory,
                 size_t reader_trace, FamilyResult* out, uint64_t* sink);

}  // namespace edgefwd::bench
