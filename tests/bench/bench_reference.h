// A deliberately simple longest-prefix match (one hash probe per prefix
// length present) used to tell which structure is wrong when the benchmark's
// spot check finds structures disagreeing.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lpm/table_types.h"
#include "tests/bench/bench_routes.h"

namespace edgefwd::bench {

class ReferenceLpm4 {
 public:
  explicit ReferenceLpm4(const std::vector<Route4>& routes);
  lpm::NextHop Lookup(lpm::Ipv4Address addr) const;
  int MatchLength(lpm::Ipv4Address addr) const;  // -1: no route

 private:
  absl::flat_hash_map<uint64_t, uint32_t> routes_;  // (addr << 8 | len) -> next hop
  std::vector<uint8_t> lengths_;                    // present lengths, longest first
};

class ReferenceLpm6 {
 public:
  explicit ReferenceLpm6(const std::vector<Route6>& routes);
  lpm::NextHop Lookup(const lpm::Ipv6Address& addr) const;
  int MatchLength(const lpm::Ipv6Address& addr) const;

 private:
  struct Key {
    uint64_t hi, lo;
    uint8_t len;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.hi, k.lo, k.len);
    }
  };
  static Key MakeKey(const lpm::Ipv6Address& addr, uint8_t len);
  absl::flat_hash_map<Key, uint32_t> routes_;
  std::vector<uint8_t> lengths_;
};

}  // namespace edgefwd::bench
