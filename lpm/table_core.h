// What the IPv4 and IPv6 tables share above the trie: argument checks, the
// all-or-nothing batch, and the route-store queries. Internal header.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lpm/poptrie.h"

namespace edgefwd::lpm::internal {

// Traits additionally provide: Prefix, Change (Op/prefix/next_hop), Address,
// static Key KeyOf(const Address&), static Address AddressOf(Key).
template <class Traits>
class TableCore {
 public:
  using Key = typename Traits::Key;
  using Prefix = typename Traits::Prefix;
  using Change = typename Traits::Change;
  using Trie = Poptrie<Traits>;
  static constexpr unsigned W = Traits::kWidth;

  TableCore(const TableConfig& config, QsbrDomain* qsbr) : trie_(config, qsbr) {}
  bool ok() const { return trie_.ok(); }
  Trie& trie() { return trie_; }
  const Trie& trie() const { return trie_; }

  LpmError Insert(const Prefix& p, NextHop nh) {
    if (p.len > W) return LpmError::kInvalidLength;
    if (nh > kMaxNextHop) return LpmError::kInvalidNextHop;
    return trie_.Change(Traits::KeyOf(p.addr), p.len, false, nh);
  }
  LpmError Remove(const Prefix& p) {
    if (p.len > W) return LpmError::kInvalidLength;
    return trie_.Change(Traits::KeyOf(p.addr), p.len, true, 0);
  }

  LpmError Apply(std::span<const Change> changes) {
    // Validate against the table as each earlier change would leave it.
    absl::flat_hash_map<std::tuple<uint64_t, uint64_t, unsigned>, bool> present;
    present.reserve(changes.size());  // a full-table load rehashed ~20 times (11 % of start-up)
    size_t count = trie_.store().size();
    for (const Change& c : changes) {
      if (c.prefix.len > W) return LpmError::kInvalidLength;
      bool upsert = c.op == Change::Op::kUpsert;
      if (upsert && c.next_hop > kMaxNextHop) return LpmError::kInvalidNextHop;
      Key k = Trie::Mask(Traits::KeyOf(c.prefix.addr), c.prefix.len);
      auto [it, fresh] = present.try_emplace(HashKey(k, c.prefix.len), false);
      if (fresh) it->second = trie_.store().Find(k, c.prefix.len).has_value();
      if (upsert) {
        if (!it->second) ++count;
        it->second = true;
      } else {
        if (!it->second) return LpmError::kNotFound;
        --count;
        it->second = false;
      }
      if (count > config_max_routes()) return LpmError::kCapacityExhausted;
    }
    // Large batches: edit the store, rebuild once, publish one root.
    if (changes.size() >= 4096 && changes.size() * 8 >= trie_.store().size()) {
      return ApplyByRebuild(changes);
    }
    std::vector<std::pair<size_t, std::optional<NextHop>>> undo;  // change index, old next hop
    for (size_t i = 0; i < changes.size(); ++i) {
      const Change& c = changes[i];
      Key k = Trie::Mask(Traits::KeyOf(c.prefix.addr), c.prefix.len);
      const auto e = trie_.store().Find(k, c.prefix.len);
      std::optional<NextHop> old;
      if (e) old = Traits::NhOf(*e);
      bool upsert = c.op == Change::Op::kUpsert;
      LpmError err = trie_.Change(k, c.prefix.len, !upsert, c.next_hop);
      if (err != LpmError::kOk) {
        // Put back what the earlier changes did, newest first.
        for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
          const Change& u = changes[it->first];
          Key uk = Trie::Mask(Traits::KeyOf(u.prefix.addr), u.prefix.len);
          if (it->second) {
            trie_.Change(uk, u.prefix.len, false, *it->second);
          } else {
            trie_.Change(uk, u.prefix.len, true, 0);
          }
        }
        return err;
      }
      undo.emplace_back(i, old);
    }
    return LpmError::kOk;
  }

  // Every route in the store, in prefix order.
  std::vector<typename Traits::Packed> StoreEntries() const {
    const auto& store = trie_.store();
    std::vector<typename Traits::Packed> all;
    all.reserve(store.size());
    for (auto p = store.LowerBound(Traits::Pack(0, 0, 0)); !store.AtEnd(p); store.Next(&p)) {
      all.push_back(store.At(p));
    }
    return all;
  }

  // Loads many routes with one rebuild: merges the batch into the sorted
  // route store (refilled densely), rebuilds the trie, publishes one root.
  LpmError ApplyByRebuild(std::span<const Change> changes) {
    using Packed = typename Traits::Packed;
    auto& store = trie_.mutable_store();
    std::vector<Packed> old = StoreEntries();
    struct Edit {
      Packed entry;
      bool remove;
    };
    std::vector<Edit> edits;
    edits.reserve(changes.size());
    for (const Change& c : changes) {
      Key k = Trie::Mask(Traits::KeyOf(c.prefix.addr), c.prefix.len);
      bool remove = c.op == Change::Op::kRemove;
      edits.push_back({Traits::Pack(k, c.prefix.len, remove ? 0 : c.next_hop), remove});
    }
    // Stable: for one prefix the batch's last change wins.
    std::stable_sort(edits.begin(), edits.end(),
                     [](const Edit& a, const Edit& b) { return Traits::Less(a.entry, b.entry); });
    std::vector<Packed> merged;
    merged.reserve(old.size() + edits.size());
    size_t i = 0;
    for (size_t j = 0; j < edits.size();) {
      size_t last = j;
      while (last + 1 < edits.size() && !Traits::Less(edits[j].entry, edits[last + 1].entry)) {
        ++last;
      }
      const Packed& key = edits[j].entry;
      while (i < old.size() && Traits::Less(old[i], key)) merged.push_back(old[i++]);
      if (i < old.size() && !Traits::Less(key, old[i])) ++i;  // replaced or removed
      if (!edits[last].remove) merged.push_back(edits[last].entry);
      j = last + 1;
    }
    while (i < old.size()) merged.push_back(old[i++]);
    store.BulkLoad(merged);
    if (!trie_.RebuildAll()) {
      store.BulkLoad(old);
      return LpmError::kCapacityExhausted;
    }
    trie_.Trim();
    return LpmError::kOk;
  }

  // Writer-side housekeeping, for the control loop when it is idle: frees
  // what every reader has moved past, and compacts when churn has left more
  // than half of the pools on free lists or in hollow nodes (nodes removals
  // left without routes below them; the pools only grow otherwise, so
  // memory would stay at its high-water mark after a burst of changes).
  void Maintain() {
    trie_.Reclaim();
    size_t waste = trie_.free_pool_bytes() + trie_.hollow_bytes();
    if (waste < kMinCompactionBytes || waste * 2 < trie_.pool_bytes()) return;
    Compact();
  }

  // Rebuilds the trie densely from the (repacked) route store into
  // right-sized pools and publishes it as one new root; readers finish on the
  // old root, which is retired like any other replaced memory. Same cost as a
  // bulk load (~0.2 s for a full IPv4 table), so Maintain calls it only when
  // at least half the pools are waste. On failure (memory limit) the table
  // keeps its current structure.
  bool Compact() {
    trie_.mutable_store().BulkLoad(StoreEntries());
    if (!trie_.RebuildAll()) return false;
    trie_.Trim();
    trie_.Reclaim();
    return true;
  }

  std::optional<NextHop> Find(const Prefix& p) const {
    if (p.len > W) return std::nullopt;
    const auto e = trie_.store().Find(Trie::Mask(Traits::KeyOf(p.addr), p.len), p.len);
    if (!e) return std::nullopt;
    return Traits::NhOf(*e);
  }

  std::optional<std::pair<Prefix, NextHop>> Match(Key a) const {
    for (int l = static_cast<int>(W); l >= 0; --l) {
      unsigned len = static_cast<unsigned>(l);
      if (trie_.store().count_of_len(len) == 0) continue;
      Key m = Trie::Mask(a, len);
      if (const auto e = trie_.store().Find(m, len)) {
        return std::pair{Prefix{Traits::AddressOf(m), static_cast<uint8_t>(len)}, Traits::NhOf(*e)};
      }
    }
    return std::nullopt;
  }

  template <class Fn>
  void ForEach(Fn&& fn) const {
    const auto& store = trie_.store();
    for (auto p = store.LowerBound(Traits::Pack(0, 0, 0)); !store.AtEnd(p); store.Next(&p)) {
      const auto& e = store.At(p);
      fn(Prefix{Traits::AddressOf(Traits::AddrOf(e)), static_cast<uint8_t>(Traits::LenOf(e))},
         Traits::NhOf(e));
    }
  }

 private:
  static std::tuple<uint64_t, uint64_t, unsigned> HashKey(Key k, unsigned len) {
    uint64_t hi = 0;
    if constexpr (sizeof(Key) > 8) hi = static_cast<uint64_t>(k >> 64);
    return {hi, static_cast<uint64_t>(k), len};
  }
  size_t config_max_routes() const { return trie_.max_routes(); }
  // Below this much waste a compaction is not worth a rebuild.
  static constexpr size_t kMinCompactionBytes = 256 << 10;
  Trie trie_;
};

}  // namespace edgefwd::lpm::internal
