// Route sets for the LPM benchmark: the real table (route files) or a seeded
// synthetic one, with each distinct egress mapped to a small next-hop id so
// every structure (including 1-byte-next-hop DPDK tables) can hold it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lpm/prefix.h"

namespace edgefwd::bench {

struct Route4 {
  lpm::Ipv4Prefix prefix;
  uint32_t next_hop;
};
struct Route6 {
  lpm::Ipv6Prefix prefix;
  uint32_t next_hop;
};

struct RouteSet {
  std::vector<Route4> v4;
  std::vector<Route6> v6;
  std::vector<std::string> egress_names;  // index = next-hop id
  std::string source;                     // for the report header
};

// Reads `PREFIX EGRESS` files (# comments). A later line for the same prefix
// replaces the earlier one, as a route file applied in order would. On any
// malformed line prints "FILE:LINE: reason" to stderr and returns false.
bool LoadRouteFiles(const std::string& v4_path, const std::string& v6_path, RouteSet* out);

// A seeded table shaped roughly like today's global table (length mix of
// RouteViews; clustered allocations), for development without the real one.
RouteSet SyntheticRoutes(size_t v4_count, size_t v6_count, uint64_t seed);

}  // namespace edgefwd::bench
