// Types shared by the IPv4 and IPv6 tables: next hops, errors, memory hooks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgefwd::lpm {

// What a lookup yields: an index into the control plane's next-hop objects
// (groups of egresses). 24 bits of id space; the tables keep the rest of the
// word for their own tags.
using NextHop = uint32_t;
inline constexpr NextHop kMaxNextHop = (NextHop{1} << 24) - 1;
// Returned by a lookup when no prefix (not even a default route) matches.
inline constexpr NextHop kNoRoute = ~NextHop{0};

enum class LpmError : uint8_t {
  kOk = 0,
  kInvalidLength,      // prefix length above 32 / 128
  kInvalidNextHop,     // next hop above kMaxNextHop
  kNotFound,           // remove of a prefix that is not in the table
  kCapacityExhausted,  // route or memory limit reached; the table is unchanged
};
std::string_view ToString(LpmError e);

// Where a table gets its memory. The default is the C++ heap; the dataplane
// passes hugepage memory (rte_malloc) so lookups take fewer TLB misses.
struct MemoryHooks {
  void* (*alloc)(size_t bytes, size_t align, void* ctx) = nullptr;  // nullptr: heap
  void (*free)(void* ptr, void* ctx) = nullptr;
  void* ctx = nullptr;
};

struct TableConfig {
  size_t max_routes = 2'000'000;         // insert beyond this: kCapacityExhausted
  size_t max_memory_bytes = 256u << 20;  // lookup structures + route store
  MemoryHooks memory;
};

}  // namespace edgefwd::lpm
