// Writer-side store of every installed route, in prefix order (address, then
// length). The lookup structure keeps only resolved next hops, so this is
// what removals, rebuilds, Find and ForEach consult.
//
// Routes live in small sorted blocks (a one-level B-tree): inserting or
// removing moves at most one block's entries. Every entry of a block shares
// its group (IPv4: the top 8 address bits), which the block holds once, so a
// stored entry costs 7 bytes (IPv4) or 20 bytes (IPv6) — a full table fits
// in a few MiB, unlike a node-per-route map.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace edgefwd::lpm::internal {

// Traits: Packed (trivially copyable entry), Key, kWidth,
// static Packed Pack(Key addr, unsigned len, uint32_t nh),
// static Key AddrOf(const Packed&), static unsigned LenOf(const Packed&),
// static uint32_t NhOf(const Packed&), static void SetNh(Packed*, uint32_t),
// static bool Less(const Packed&, const Packed&)  (by address, then length),
// Stored (trivially copyable), static uint32_t GroupOf(const Packed&) (equal
// for a contiguous range of the order), static Stored Compress(const Packed&),
// static Packed Expand(const Stored&, uint32_t group).
template <class Traits>
class RouteStore {
 public:
  using Packed = typename Traits::Packed;
  using Key = typename Traits::Key;
  static constexpr size_t kBlockCap = 64;
  static constexpr size_t kBulkFill = 62;  // a little room for inserts after a bulk load

  struct Pos {
    size_t block = 0;
    size_t index = 0;
  };

  RouteStore() { Clear(); }

  size_t size() const { return size_; }
  size_t count_of_len(unsigned len) const { return len_count_[len]; }

  void Clear() {
    blocks_.clear();
    firsts_.clear();
    blocks_.push_back(std::make_unique<Block>());
    firsts_.push_back(Packed{});
    size_ = 0;
    std::fill(std::begin(len_count_), std::end(len_count_), 0);
  }

  // Replaces the contents with `sorted` (strictly increasing by Less).
  void BulkLoad(const std::vector<Packed>& sorted) {
    Clear();
    if (sorted.empty()) return;
    blocks_.clear();
    firsts_.clear();
    for (size_t i = 0; i < sorted.size();) {
      auto b = std::make_unique<Block>();
      b->group = Traits::GroupOf(sorted[i]);
      firsts_.push_back(sorted[i]);
      while (i < sorted.size() && b->n < kBulkFill && Traits::GroupOf(sorted[i]) == b->group) {
        b->e[b->n++] = Traits::Compress(sorted[i++]);
      }
      blocks_.push_back(std::move(b));
    }
    size_ = sorted.size();
    for (const Packed& p : sorted) ++len_count_[Traits::LenOf(p)];
  }

  // First position whose entry is not Less than `probe` (may be End()).
  Pos LowerBound(const Packed& probe) const {
    // One route change asks about the same spot several times (the edit,
    // its neighbours, the routes below it): try the last block first.
    size_t b = finger_;
    if (b >= firsts_.size() || (b > 0 && Traits::Less(probe, firsts_[b])) ||
        (b + 1 < firsts_.size() && !Traits::Less(probe, firsts_[b + 1]))) {
      auto it = std::upper_bound(firsts_.begin(), firsts_.end(), probe, Traits::Less);
      b = it == firsts_.begin() ? 0 : static_cast<size_t>(it - firsts_.begin()) - 1;
      finger_ = b;
      // A block found this way is usually cold (routes change at random):
      // ask for all its lines at once, so the search below waits for about
      // one miss instead of one per halving.
      const char* lines = reinterpret_cast<const char*>(blocks_[b].get());
      for (size_t off = 0; off < sizeof(Block); off += 64) __builtin_prefetch(lines + off);
    }
    const Block& blk = *blocks_[b];
    size_t i =
        static_cast<size_t>(std::lower_bound(blk.e, blk.e + blk.n, probe,
                                             [&blk](const Stored& e, const Packed& x) {
                                               return Traits::Less(Traits::Expand(e, blk.group), x);
                                             }) -
                            blk.e);
    Pos p{b, i};
    Normalize(&p);
    return p;
  }
  bool AtEnd(const Pos& p) const { return p.block >= blocks_.size(); }
  Packed At(const Pos& p) const {
    const Block& b = *blocks_[p.block];
    return Traits::Expand(b.e[p.index], b.group);
  }
  void Next(Pos* p) const {
    ++p->index;
    Normalize(p);
  }
  // The entry just before position p (p may be at the end), if any.
  std::optional<Packed> Before(Pos p) const {
    while (p.index == 0) {
      if (p.block == 0) return std::nullopt;
      --p.block;
      p.index = blocks_[p.block]->n;
    }
    return At(Pos{p.block, p.index - 1});
  }

  std::optional<Packed> Find(Key addr, unsigned len) const {
    Packed probe = Traits::Pack(addr, len, 0);
    Pos p = LowerBound(probe);
    if (AtEnd(p)) return std::nullopt;
    Packed e = At(p);
    if (Traits::Less(probe, e)) return std::nullopt;
    return e;
  }

  // Inserts or replaces; returns true (and the old next hop) if it existed.
  bool Upsert(Key addr, unsigned len, uint32_t nh, uint32_t* old_nh) {
    Packed entry = Traits::Pack(addr, len, nh);
    Pos p = LowerBound(entry);
    if (!AtEnd(p) && !Traits::Less(entry, At(p))) {
      Block& b = *blocks_[p.block];
      Packed e = Traits::Expand(b.e[p.index], b.group);
      *old_nh = Traits::NhOf(e);
      Traits::SetNh(&e, nh);
      b.e[p.index] = Traits::Compress(e);
      if (p.index == 0) firsts_[p.block] = e;
      return true;
    }
    if (AtEnd(p)) {  // after the last entry: append to the last block
      p.block = blocks_.size() - 1;
      p.index = blocks_[p.block]->n;
    }
    // At the start of a block, the entry may belong to the previous block's
    // group instead (appended there when this block's group differs or the
    // previous block has room), or to neither (a block of its own).
    const uint32_t group = Traits::GroupOf(entry);
    if (p.index == 0 && p.block > 0 && blocks_[p.block - 1]->group == group &&
        (blocks_[p.block]->group != group || blocks_[p.block - 1]->n < kBlockCap)) {
      --p.block;
      p.index = blocks_[p.block]->n;
    }
    if (blocks_[p.block]->n == 0) {
      blocks_[p.block]->group = group;
    } else if (blocks_[p.block]->group != group) {
      auto fresh = std::make_unique<Block>();
      fresh->group = group;
      size_t at = p.index == 0 ? p.block : p.block + 1;
      blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(at), std::move(fresh));
      firsts_.insert(firsts_.begin() + static_cast<ptrdiff_t>(at), entry);
      p = Pos{at, 0};
    }
    if (blocks_[p.block]->n == kBlockCap) {
      // Appending (sorted loads) starts a fresh block instead of leaving
      // two half-empty ones behind.
      Split(p.block, p.index == kBlockCap ? kBlockCap : kBlockCap / 2);
      if (p.index >= blocks_[p.block]->n) {
        p.index -= blocks_[p.block]->n;
        ++p.block;
      }
    }
    Block& blk = *blocks_[p.block];
    std::memmove(&blk.e[p.index + 1], &blk.e[p.index], (blk.n - p.index) * sizeof(Stored));
    blk.e[p.index] = Traits::Compress(entry);
    ++blk.n;
    if (p.index == 0) firsts_[p.block] = entry;
    ++size_;
    ++len_count_[len];
    return false;
  }

  // Removes; returns false if absent.
  bool Erase(Key addr, unsigned len, uint32_t* old_nh) {
    Packed probe = Traits::Pack(addr, len, 0);
    Pos p = LowerBound(probe);
    if (AtEnd(p) || Traits::Less(probe, At(p))) return false;
    Block& blk = *blocks_[p.block];
    *old_nh = Traits::NhOf(At(p));
    std::memmove(&blk.e[p.index], &blk.e[p.index + 1], (blk.n - p.index - 1) * sizeof(Stored));
    --blk.n;
    --size_;
    --len_count_[len];
    if (blk.n == 0 && blocks_.size() > 1) {
      blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(p.block));
      firsts_.erase(firsts_.begin() + static_cast<ptrdiff_t>(p.block));
    } else if (p.index == 0 && blk.n > 0) {
      firsts_[p.block] = At(Pos{p.block, 0});
    }
    return true;
  }

  size_t bytes() const {
    return blocks_.capacity() * sizeof(void*) + firsts_.capacity() * sizeof(Packed) +
           blocks_.size() * sizeof(Block);
  }

 private:
  using Stored = typename Traits::Stored;
  struct Block {
    uint32_t n = 0;
    uint32_t group = 0;
    Stored e[kBlockCap];
  };

  void Normalize(Pos* p) const {
    while (p->block < blocks_.size() && p->index >= blocks_[p->block]->n) {
      ++p->block;
      p->index = 0;
    }
  }

  void Split(size_t b, size_t keep) {
    auto fresh = std::make_unique<Block>();
    Block& old = *blocks_[b];
    fresh->n = static_cast<uint32_t>(old.n - keep);
    fresh->group = old.group;
    std::memcpy(fresh->e, &old.e[keep], fresh->n * sizeof(Stored));
    old.n = static_cast<uint32_t>(keep);
    // An empty fresh block gets its first entry right after the split.
    firsts_.insert(firsts_.begin() + static_cast<ptrdiff_t>(b + 1),
                   fresh->n ? Traits::Expand(fresh->e[0], fresh->group) : Packed{});
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(b + 1), std::move(fresh));
  }

  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<Packed> firsts_;  // first entry of each block, for the block search
  size_t size_ = 0;
  size_t len_count_[Traits::kWidth + 1];
  mutable size_t finger_ = 0;  // the block the last search ended in (writer thread only)
};

}  // namespace edgefwd::lpm::internal
