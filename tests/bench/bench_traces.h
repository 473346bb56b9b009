// Seeded destination-address traces for the LPM benchmark, pre-generated so
// that generating them costs nothing inside the timed loops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lpm/prefix.h"
#include "tests/bench/bench_routes.h"

namespace edgefwd::bench {

enum class TraceKind {
  kUniformRouted,  // uniform over the address space covered by non-default routes
  kUniformPrefix,  // a non-default prefix uniformly, then a random host inside it
  kZipf,           // a prefix by Zipf (s = 1) popularity, then a random host inside it
};
inline constexpr TraceKind kAllTraces[] = {TraceKind::kUniformRouted, TraceKind::kUniformPrefix,
                                           TraceKind::kZipf};
const char* TraceName(TraceKind kind);

// `count` addresses; count is rounded up to a multiple of 64 so every batch
// size divides it.
std::vector<lpm::Ipv4Address> MakeTrace4(const std::vector<Route4>& routes, TraceKind kind,
                                         size_t count, uint64_t seed);
std::vector<lpm::Ipv6Address> MakeTrace6(const std::vector<Route6>& routes, TraceKind kind,
                                         size_t count, uint64_t seed);

}  // namespace edgefwd::bench
