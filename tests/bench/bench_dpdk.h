// DPDK's LPM structures in the benchmark: rte_lpm and rte_fib (IPv4),
// rte_lpm6 and rte_fib6 (IPv6). Each runner builds its structures one at a
// time (peak hugepage use = the largest one), measures and frees them.
#pragma once

#include <cstdint>

#include "tests/bench/bench_family.h"
#include "tests/bench/bench_harness.h"

namespace edgefwd::bench {

void RunDpdk4(const Family4& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink);
void RunDpdk6(const Family6& f, const BenchConfig& cfg, FamilyResult* out, uint64_t* sink);

}  // namespace edgefwd::bench
