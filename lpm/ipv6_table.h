// IPv6 longest-prefix-match table: one writer, many lock-free readers.
//
// Readers (workers) call Lookup/LookupBurst with no lock and no atomic
// read-modify-write. The writer (control thread) calls Insert/Remove/Apply;
// every change publishes with release stores so a concurrent reader sees, for
// each address, either the answer before or the answer after the change,
// never a third one. Replaced memory goes to the QsbrDomain and is freed only
// after every reader has reported a quiescent state.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "absl/functional/function_ref.h"
#include "lpm/prefix.h"
#include "lpm/qsbr.h"
#include "lpm/table_types.h"

namespace edgefwd::lpm {

struct Ipv6RouteChange {
  enum class Op : uint8_t { kUpsert, kRemove } op;
  Ipv6Prefix prefix;
  NextHop next_hop = 0;  // kUpsert only
};

// alignas(64): readers load impl_ per lookup; no writer-side heap object may
// share its line.
class alignas(64) Ipv6Table {
 public:
  // `qsbr` must outlive the table; it is shared with the other tables so a
  // worker reports one quiescent state for all of them.
  static std::unique_ptr<Ipv6Table> Create(const TableConfig& config, QsbrDomain* qsbr);
  ~Ipv6Table();
  Ipv6Table(const Ipv6Table&) = delete;
  Ipv6Table& operator=(const Ipv6Table&) = delete;

  // ---- Reader side (any thread, lock-free).
  NextHop Lookup(const Ipv6Address& addr) const;
  // The dataplane's burst call (32-64 addresses); interleaves the lookups so
  // their memory loads overlap.
  void LookupBurst(const Ipv6Address* addrs, NextHop* next_hops, size_t n) const;

  // ---- Writer side (one thread at a time).
  // Adds the prefix or replaces its next hop.
  LpmError Insert(Ipv6Prefix prefix, NextHop next_hop);
  LpmError Remove(Ipv6Prefix prefix);
  // All or nothing: validates every change first; on error nothing changed.
  // Cheaper than one call per change (one rebuild/publication per touched
  // region).
  LpmError Apply(std::span<const Ipv6RouteChange> changes);

  // Writer-side housekeeping; call from the control loop (e.g. when idle).
  // Frees retired memory every reader has passed and, after churn has left
  // most of the pools free, rebuilds them compactly (one publication) so
  // memory returns to what the routes need.
  void Maintain();

  // Control-side queries over the route store (not the lookup structure).
  size_t route_count() const;
  size_t memory_bytes() const;  // everything: lookup structures + route store
  std::optional<NextHop> Find(const Ipv6Prefix& prefix) const;  // exact match
  // Longest matching installed prefix and its next hop (for tools/CLI).
  std::optional<std::pair<Ipv6Prefix, NextHop>> Match(const Ipv6Address& addr) const;
  // Every route in prefix order (address, then length).
  void ForEach(absl::FunctionRef<void(Ipv6Prefix, NextHop)> fn) const;

 private:
  struct Impl;
  explicit Ipv6Table(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefwd::lpm
