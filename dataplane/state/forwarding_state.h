// What the workers read after the LPM lookup, and how the control thread
// changes it while they read.
//
//   FIB leaf (lpm::NextHop) = path id  ──>  Path (immutable member list)
//                                              └─> adjacency ids ──> Adjacency
//
// Prefixes point at shared paths (VPP's path-list/load-balance idea), never
// at neighbours directly. When a neighbour fails, the control thread swaps
// the member list of each path that used it (one pointer store per path, not
// one per prefix), so failover time does not grow with the number of
// prefixes. Replaced lists are retired through the same QsbrDomain as the
// LPM tables. Plain C++: no DPDK, so control's tests run under sanitizers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lpm/qsbr.h"
#include "lpm/table_types.h"

namespace edgefwd::dataplane {

enum class EgressClass : uint8_t { kCdn = 0, kPeering = 1, kTransit = 2 };
inline constexpr size_t kEgressClassCount = 3;
// "cdn", "peering", "transit": the names config files, counters and the CLI use.
const char* ToString(EgressClass c);

using AdjacencyId = uint16_t;
inline constexpr size_t kMaxAdjacencies = 4096;
inline constexpr size_t kMaxPathMembers = 16;
using PathId = lpm::NextHop;

// One neighbour as a worker needs it to send a packet: everything for the
// L2 rewrite, precomputed by the control thread.
struct Adjacency {
  std::array<uint8_t, 6> dst_mac{};
  std::array<uint8_t, 6> src_mac{};
  uint16_t port = 0;      // DPDK port id
  uint16_t vlan = 0;      // 802.1Q VLAN id; 0 = untagged
  uint16_t neighbor = 0;  // index for per-neighbour counters
  EgressClass egress_class = EgressClass::kTransit;
};

// The members a path currently sends to. Immutable once published; flows
// pick a member by hash (member = members[hash % count]), so a flow keeps its
// member while the list is unchanged. count == 0: the path has no usable
// member (all down and no fallback): packets are dropped as "no route".
struct PathMembers {
  uint8_t count = 0;
  std::array<AdjacencyId, kMaxPathMembers> members{};
};

// Worker-readable table of paths and adjacencies. One writer (control thread).
class ForwardingState {
 public:
  ForwardingState(lpm::QsbrDomain* qsbr, uint32_t max_paths);
  ~ForwardingState();

  // ---- Reader side (workers): plain loads, valid until the reader's next
  // quiescent state.
  const PathMembers* path(PathId id) const { return paths_[id].load(std::memory_order_acquire); }
  const Adjacency& adjacency(AdjacencyId id) const { return adjacencies_[id]; }
  uint32_t max_paths() const { return max_paths_; }

  // ---- Writer side (control thread).
  // Adjacencies are written before any path names them; a changed MAC is
  // written into a fresh id and paths are switched to it (readers never see
  // a half-written adjacency).
  void SetAdjacency(AdjacencyId id, const Adjacency& adj);
  // Publishes a new member list for the path; the old one is retired.
  void SetPath(PathId id, const PathMembers& members);
  // Removes the path (readers then see nullptr = no route).
  void ClearPath(PathId id);

 private:
  lpm::QsbrDomain* qsbr_;
  uint32_t max_paths_;
  std::unique_ptr<std::atomic<const PathMembers*>[]> paths_;
  std::unique_ptr<Adjacency[]> adjacencies_;
};

}  // namespace edgefwd::dataplane
