// The RIB and the shared paths it programs into the FIB.
//
// Each prefix keeps every candidate route (source, egress), ranked best
// first: egress class preference, then source preference, then a stable
// tie-break (source name, then egress name). The ranked list of distinct
// egresses is the prefix's fallback chain, e.g. [peer-x, transit-a].
//
// Prefixes with the same chain share one path (one PathId): its members are
// the first egress in the chain that has an up neighbour (for a group: its
// slot table, with down members' slots handed to up members). The FIB maps
// prefix -> PathId, so when a neighbour changes state only the paths whose
// chain mentions it are recomputed and republished (one ForwardingState
// pointer swap each): failover cost grows with the number of distinct chains
// through the neighbour, never with the number of prefixes.
//
// A path with no up egress at all is "unusable": its prefixes are withdrawn
// from the FIB so the covering route answers, and reinserted when it becomes
// usable. That step is per prefix, but only for the prefixes of the paths
// that changed usability: each path keeps the set of its prefixes, so the
// work is proportional to the prefixes withdrawn or restored, never to the
// size of the RIB (the common failover, peer -> transit or CDN -> peering,
// touches no prefix at all). The alternative, a path that borrows its
// covering route's members, would make the path key depend on the covering
// prefix and turn every covering route change into a per-prefix re-key, so
// we chose withdrawal.
//
// A withdrawn path keeps its old members until a QSBR grace period has
// passed: a worker that looked the prefix up just before the withdrawal
// still forwards as before (the switch is only promised after a grace
// period, see ControlPlane::SetNeighborUp) instead of dropping the packet.
// Only then are the members emptied (FinishReleases).
//
// Paths are reference counted by prefixes. An unused path is dropped from the
// chain index at once; its PathId is cleared and reused only after a QSBR
// grace period, so a worker holding the id from an older FIB answer never
// reads a cleared or recycled path.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "control/bulk_allocator.h"
#include "control/control_plane.h"
#include "control/egress.h"
#include "dataplane/state/forwarding_state.h"
#include "lpm/prefix.h"

namespace edgefwd::control {

using SourceId = uint16_t;
using AnyPrefix = std::variant<lpm::Ipv4Prefix, lpm::Ipv6Prefix>;
inline constexpr dataplane::PathId kNoPath = ~dataplane::PathId{0};

struct PrefixHash {
  size_t operator()(const lpm::Ipv4Prefix& p) const { return absl::HashOf(p.addr, p.len); }
  size_t operator()(const lpm::Ipv6Prefix& p) const {
    return absl::HashOf(absl::MakeConstSpan(p.addr.data(), p.addr.size()), p.len);
  }
};

struct Candidate {
  SourceId source = 0;
  EgressId egress = 0;
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// Containers that hold one element per prefix of a full table.
template <class P>
using PrefixSet = absl::flat_hash_set<P, PrefixHash, std::equal_to<P>, BulkAllocator<P>>;
template <class P, class V>
using PrefixMap =
    absl::flat_hash_map<P, V, PrefixHash, std::equal_to<P>, BulkAllocator<std::pair<const P, V>>>;
template <class T>
using BulkVector = std::vector<T, BulkAllocator<T>>;

// A prefix's candidates, best first. Nearly every prefix of a real table
// has exactly one: it lives in the entry, more go to the heap. 16 bytes (an
// absl::InlinedVector of two was 24), which makes every slot of the RIB's
// prefix maps 8 bytes smaller: 10 MB less for the full table.
class CandidateList {
 public:
  CandidateList() = default;
  CandidateList(const CandidateList& other) { CopyFrom(other); }
  CandidateList(CandidateList&& other) noexcept { TakeFrom(other); }
  CandidateList& operator=(const CandidateList& other) {
    if (this != &other) {
      Release();
      CopyFrom(other);
    }
    return *this;
  }
  CandidateList& operator=(CandidateList&& other) noexcept {
    if (this != &other) {
      Release();
      TakeFrom(other);
    }
    return *this;
  }
  ~CandidateList() { Release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  bool on_heap() const { return capacity_ > 1; }
  Candidate* begin() { return on_heap() ? many_ : &one_; }
  Candidate* end() { return begin() + size_; }
  const Candidate* begin() const { return on_heap() ? many_ : &one_; }
  const Candidate* end() const { return begin() + size_; }
  Candidate& operator[](size_t i) { return begin()[i]; }
  const Candidate& operator[](size_t i) const { return begin()[i]; }

  void push_back(const Candidate& c) {
    if (size_ == capacity_) Grow();
    begin()[size_++] = c;
  }
  // Removes [first, last) (iterators of this list), keeping the order.
  void erase(Candidate* first, Candidate* last) {
    std::copy(last, end(), first);
    size_ -= static_cast<uint32_t>(last - first);
  }

 private:
  void Grow() {
    const uint32_t capacity = capacity_ * 2;
    auto* bigger = new Candidate[capacity];
    std::copy(begin(), end(), bigger);
    Release();
    many_ = bigger;
    capacity_ = capacity;
  }
  void Release() {
    if (on_heap()) delete[] many_;
    one_ = Candidate{};
    capacity_ = 1;
  }
  // Expects this list released (inline, capacity 1).
  void CopyFrom(const CandidateList& other) {
    if (other.size_ > 1) {
      many_ = new Candidate[other.size_];
      capacity_ = other.size_;
    }
    std::copy(other.begin(), other.end(), begin());
    size_ = other.size_;
  }
  void TakeFrom(CandidateList& other) {
    if (other.on_heap()) {
      many_ = other.many_;
    } else {
      one_ = other.one_;
    }
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.one_ = Candidate{};
    other.size_ = 0;
    other.capacity_ = 1;
  }

  union {
    Candidate one_{};
    Candidate* many_;
  };
  uint32_t size_ = 0;
  uint32_t capacity_ = 1;
};

struct RibEntry {
  CandidateList candidates;  // best first
  dataplane::PathId path = kNoPath;
  bool in_fib = false;
};
static_assert(sizeof(CandidateList) == 16 && sizeof(RibEntry) == 24,
              "RIB entries are per prefix of a full table: keep them small");

struct RouteChange {
  enum class Op : uint8_t {
    kAdd,      // add (source, egress) as a candidate (no-op if present)
    kReplace,  // the source's candidates for the prefix become just `egress`
    kRemove,   // remove the source's candidate for `egress` (or all if none)
  };
  Op op = Op::kAdd;
  AnyPrefix prefix;
  SourceId source = 0;
  std::optional<EgressId> egress;
};

struct Source {
  std::string name;
  uint32_t preference = 100;  // lower wins
};

struct Path {
  std::vector<EgressId> chain;
  uint32_t refs = 0;
  bool usable = false;
  dataplane::PathMembers members;
  // Nonzero while the path is unusable but workers may still read its old
  // members: the QSBR token after which FinishReleases empties them.
  uint64_t empty_after = 0;
  // The prefixes using this path: what to withdraw/reinsert when it changes
  // usability.
  PrefixSet<lpm::Ipv4Prefix> v4_prefixes;
  PrefixSet<lpm::Ipv6Prefix> v6_prefixes;
};

struct ChainHash {
  size_t operator()(const std::vector<EgressId>& c) const {
    return absl::HashOf(absl::MakeConstSpan(c));
  }
};

class Rib {
 public:
  Rib(const Fib& fib, EgressModel* egress, const ControlSpec* spec);
  ~Rib();

  SourceId AddSource(std::string_view name, uint32_t preference);
  std::optional<SourceId> FindSource(std::string_view name) const;
  const Source& source(SourceId id) const { return sources_[id]; }
  size_t source_count() const { return sources_.size(); }

  // All or nothing. Errors name the prefix (a remove of a candidate that does
  // not exist, FIB capacity).
  absl::Status Apply(std::span<const RouteChange> changes);
  // Neighbour state or group membership changed: recompute the paths whose
  // chain mentions any of `egresses`, republish changed member lists, and
  // withdraw/reinsert the prefixes of paths that became unusable/usable.
  absl::Status Recompute(std::span<const EgressId> egresses);
  // Egress classes changed: re-rank every prefix naming one of `egresses`.
  absl::Status Rerank(std::span<const EgressId> egresses);
  // Called on the control thread after QsbrDomain::Reclaim: clears and frees
  // the path ids whose grace period has passed, and empties the members of
  // unusable paths no worker can still be reading.
  void FinishReleases();

  const RibEntry* Find(const lpm::Ipv4Prefix& p) const;
  const RibEntry* Find(const lpm::Ipv6Prefix& p) const;
  const Path* path(dataplane::PathId id) const;
  // Every (prefix, candidate) a source contributed, for reload diffing.
  std::vector<std::pair<AnyPrefix, EgressId>> SourceRoutes(SourceId source) const;
  // How many candidates name the egress (to refuse removing a used one).
  size_t CandidatesNaming(EgressId egress) const;
  // Paths whose chain mentions the neighbour (directly or via a group).
  size_t PathsThrough(EgressId egress) const;

  // Bytes the RIB's containers hold, from their capacities (allocator
  // overhead not included): the prefix -> entry maps (with candidate lists
  // that spilled to the heap), and the per-path prefix sets.
  struct Memory {
    size_t prefix_maps = 0;
    size_t path_prefix_sets = 0;
    size_t paths = 0;  // Path objects, chains, the chain index
  };
  Memory MemoryUsage() const;

  size_t v4_count() const { return v4_.size(); }
  size_t v6_count() const { return v6_.size(); }
  size_t live_paths() const { return by_chain_.size(); }
  size_t fib_withdrawn() const { return withdrawn_; }
  // Prefixes the last Recompute visited to withdraw or reinsert them (to
  // check the work does not grow with unrelated prefixes).
  size_t last_recompute_prefix_visits() const { return last_recompute_prefix_visits_; }
  // Unusable paths whose old members wait out a grace period.
  size_t paths_awaiting_empty() const { return stale_members_.size(); }

 private:
  template <class P>
  struct Staged {
    P prefix;
    RibEntry entry;
    // What the RIB held before (looked up once, when staged).
    dataplane::PathId old_path = kNoPath;
    bool old_in_fib = false;
  };
  template <class P>
  PrefixMap<P, RibEntry>& Map();
  template <class P>
  absl::Status StageOne(const RouteChange& c, const P& p, PrefixMap<P, uint32_t>& index,
                        BulkVector<Staged<P>>& staged);
  absl::Status Commit(BulkVector<Staged<lpm::Ipv4Prefix>>& v4,
                      BulkVector<Staged<lpm::Ipv6Prefix>>& v6);
  void Rank(RibEntry& e) const;
  dataplane::PathId Acquire(const std::vector<EgressId>& chain);
  void Release(dataplane::PathId id);
  std::vector<EgressId> ChainOf(const RibEntry& e) const;

  Fib fib_;
  EgressModel* egress_;
  const ControlSpec* spec_;
  std::vector<Source> sources_;
  PrefixMap<lpm::Ipv4Prefix, RibEntry> v4_;
  PrefixMap<lpm::Ipv6Prefix, RibEntry> v6_;

  std::vector<std::unique_ptr<Path>> paths_;  // by PathId; null = free/retiring
  absl::flat_hash_map<std::vector<EgressId>, dataplane::PathId, ChainHash> by_chain_;
  std::vector<absl::flat_hash_set<dataplane::PathId>> paths_through_;  // by EgressId
  std::vector<dataplane::PathId> free_paths_;
  // Filled by QSBR callbacks (which may run after this Rib is gone, hence
  // shared ownership), drained by FinishReleases.
  std::shared_ptr<std::vector<dataplane::PathId>> grace_passed_;
  size_t withdrawn_ = 0;  // prefixes out of the FIB because their path is unusable
  // (token, path) in token order: unusable paths whose members are emptied
  // once Passed(token).
  std::vector<std::pair<uint64_t, dataplane::PathId>> stale_members_;
  size_t last_recompute_prefix_visits_ = 0;
};

}  // namespace edgefwd::control
