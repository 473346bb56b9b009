// Everything the per-structure benchmark runners share for one address
// family: the routes, the traces, and the spot-check sample with the
// reference answers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "lpm/prefix.h"
#include "lpm/table_types.h"
#include "tests/bench/bench_harness.h"
#include "tests/bench/bench_routes.h"

namespace edgefwd::bench {

template <typename Route, typename Addr>
struct FamilyData {
  const std::vector<Route>* routes = nullptr;
  uint32_t egress_count = 0;
  std::vector<std::vector<Addr>> traces;  // in kAllTraces order
  std::vector<Addr> sample;               // spot-check addresses
  std::vector<lpm::NextHop> expected;     // reference answer per sample address
  size_t tbl8_needed = 0;                 // 8-bit-stride groups a DIR-24-8 style table needs
  std::vector<uint32_t> churn_routes;     // indexes of the non-default routes
  // Next hop of the /0 route, which rte_lpm and rte_lpm6 cannot store: their
  // callers apply it on a miss (lookupx4's default argument does just that).
  lpm::NextHop default_next_hop = lpm::kNoRoute;
  // Each route's next hop, in route order (the update loops' start state).
  std::vector<uint32_t> NextHops() const {
    std::vector<uint32_t> nh;
    nh.reserve(routes->size());
    for (const auto& r : *routes) nh.push_back(r.next_hop);
    return nh;
  }
};
using Family4 = FamilyData<Route4, lpm::Ipv4Address>;
using Family6 = FamilyData<Route6, lpm::Ipv6Address>;

inline std::string FormatAddr(lpm::Ipv4Address a) {
  return lpm::FormatIpv4(a);
}
inline std::string FormatAddr(const lpm::Ipv6Address& a) {
  return lpm::FormatIpv6(a);
}

// Compares a structure's answers for the sample with the reference; prints
// the first few differences to stderr. Returns the number of disagreements.
template <typename Family>
uint64_t SpotCheck(const Family& f, const std::string& name, const std::vector<lpm::NextHop>& got) {
  uint64_t bad = 0;
  for (size_t i = 0; i < f.sample.size(); ++i) {
    if (got[i] == f.expected[i]) continue;
    if (bad < 5) {
      auto show = [](lpm::NextHop nh) {
        return nh == lpm::kNoRoute ? std::string("none") : std::to_string(nh);
      };
      std::fprintf(stderr, "DISAGREEMENT %s: %s -> %s, reference says %s\n", name.c_str(),
                   FormatAddr(f.sample[i]).c_str(), show(got[i]).c_str(),
                   show(f.expected[i]).c_str());
    }
    ++bad;
  }
  if (bad > 0) {
    std::fprintf(stderr, "DISAGREEMENT %s: %lu of %zu sample addresses\n", name.c_str(),
                 static_cast<unsigned long>(bad), f.sample.size());
  }
  return bad;
}

}  // namespace edgefwd::bench
