// The benchmark's output: a readable side-by-side table, and one JSON object.
#pragma once

#include <string>
#include <vector>

#include "tests/bench/bench_harness.h"

namespace edgefwd::bench {

struct RunInfo {
  std::string table_source;
  std::string memory_mode;  // "hugepages" / "--no-huge (...)"
  int lookup_core = 0;
  BenchConfig cfg;
};

void PrintFamily(const FamilyResult& fam, const RunInfo& info);
// One line, no trailing newline inside: the headline figures of both families.
std::string JsonSummary(const std::vector<FamilyResult>& families, const RunInfo& info);

}  // namespace edgefwd::bench
