// The lookup structure shared by the IPv4 and IPv6 tables: a Poptrie-style
// multiway trie (Asai & Ohara, SIGCOMM'15), written from the paper.
//
// Layout: a direct array indexed by the top S bits of the address holds either
// a leaf (next hop + 1, 0 = no route), a node index (kNodeFlag) or a leaf
// record (kRecordFlag, below). A node
// indexes the next 6 bits: `vector` marks slots with a child node, children
// sit contiguously from `base_child` (rank = popcount below the slot);
// `leafvec` marks where a run of equal leaves starts among the other slots,
// so runs of one next hop (a FIB has few) collapse to one 32-bit leaf.
//
// Leaf records (keys of at most 32 bits): a chunk whose subtree is one
// childless node with few runs (most IPv4 /18 chunks: /19-/24s only) is
// stored instead as one record in the leaf pool, 32 or 64 bytes aligned to
// its size so it sits in one cache line: leafvec, the chunk's default (for
// the writer) and the run leaves inline. The direct entry points at it
// (kRecordFlag), so a /24 costs two dependent cache misses, not three.
//
// Updates copy on write, publishing once, at the highest point that changes:
// a node whose slot layout (vector, leafvec) stays gets fresh leaf or child
// runs and its base words are stored in place (or, when only leaf values
// change, just those leaf words: in nodes and IPv4 leaf records); a node
// whose layout changes is written into a fresh copy of its parent's child
// run, published by the parent's base word; a chunk root that changes
// layout is replaced and its direct entry stored. Layouts change as rarely
// as correctness allows: runs that became equal stay apart, and a child left
// without routes below it stays, hollow, until a compaction (FitRuns,
// ApplyToTrie). Each publication is a store that a lookup reads at most once
// per visit, so a reader walks either the old or the new path and sees the
// old or the new answer for every address. Replaced runs wait in a limbo list
// until the QSBR domain says every reader has passed a quiescent state.
//
// Tried and measured slower (in the history: commit 8153e0d): for IPv6, a
// flat 2^12-word block per busy /20 chunk in place of its top two node
// levels. Those levels are cache hits (a chunk's root and depth-26 nodes
// are ~1 KiB), a random word of a 16 KiB block mostly is not: the full
// table ran at about half the lookup rate on every trace and batch size.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <vector>

#if defined(__BMI2__)
#include <immintrin.h>
#endif
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
#include <immintrin.h>
#define EDGEFWD_LPM_AVX512 1
#endif

#include "lpm/qsbr.h"
#include "lpm/route_store.h"
#include "lpm/table_types.h"

namespace edgefwd::lpm::internal {

struct Node {
  uint64_t vector;      // slots holding a child node
  uint64_t leafvec;     // among the other slots: where a run of equal leaves starts
  uint32_t base_child;  // the base words: stored in place by updates (see above)
  uint32_t base_leaf;
};
static_assert(sizeof(Node) == 24);

inline constexpr uint32_t kNodeFlag = 0x80000000u;
inline constexpr uint32_t kRecordFlag = 0x40000000u;  // direct entries only
inline constexpr uint32_t kIndexMask = 0x3FFFFFFFu;
// Record layout in 32-bit words: leafvec (2 words), default, run leaves.
inline constexpr uint32_t kRecordHeader = 3;
inline constexpr size_t kSmallRecord = 8;   // words: 32 bytes, 5 leaves
inline constexpr size_t kLargeRecord = 16;  // words: 64 bytes, 13 leaves
#ifdef EDGEFWD_LPM_AVX512
// IPv6 bursts at least this long take the AVX-512 walk; shorter ones the
// pipelined scalar walk (batch 8: ~1.2x the vector walk).
inline constexpr size_t kMinVectorBurst = 16;
#endif

// Everything a reader dereferences; replaced as a whole when a pool grows or
// the table is rebuilt, so a reader's snapshot never changes size under it.
// A cache line of its own: a heap neighbour the writer stores to would
// otherwise take the line from every reader once per change.
struct alignas(64) Root {
  uint32_t* direct;
  Node* nodes;
  uint32_t* leaves;
  uint32_t node_cap;
  uint32_t leaf_cap;
};

// Traits: Key (unsigned integer, address in its top kWidth bits), kWidth,
// kDirectBits, and the RouteStore traits.
template <class Traits>
class Poptrie {
 public:
  using Key = typename Traits::Key;
  static constexpr int W = Traits::kWidth;
  static constexpr int S = Traits::kDirectBits;

  Poptrie(const TableConfig& config, QsbrDomain* qsbr) : config_(config), qsbr_(qsbr) {
    pool_.root = NewRoot(kInitialNodes, kInitialLeaves);
    if (pool_.root) {
      std::fill(pool_.root->direct, pool_.root->direct + (size_t{1} << S), 0u);
      pool_.node_default.assign(kInitialNodes, 0);
    }
    root_.store(pool_.root, std::memory_order_release);
  }
  bool ok() const { return pool_.root != nullptr; }
  size_t max_routes() const { return config_.max_routes; }

  ~Poptrie() {
    // Entries before limbo_head_ were released already (Reclaim keeps them
    // until the limbo empties or its released head grows large).
    for (size_t i = limbo_head_; i < limbo_.size(); ++i) {
      if (limbo_[i].kind == kRootMem) FreeRoot(limbo_[i].root);
    }
    FreeRoot(pool_.root);
  }

  // ---------------------------------------------------------------- readers
  static unsigned Bits6(Key k, int d) {
    if (d + 6 <= W) return static_cast<unsigned>(k >> (W - d - 6)) & 63u;
    return static_cast<unsigned>(k << (d + 6 - W)) & 63u;
  }
  static size_t DirectIndex(Key k) { return static_cast<size_t>(k >> (W - S)); }

  // Leaf records only where the record's 6 bits are the key's last ones at most.
  static constexpr bool kRecords = W <= 32;

  // The leaf a record holds for `slot` (the 6 bits after the direct index).
  static uint32_t RecordLeafIndex(const uint32_t* leaves, uint32_t rec, unsigned slot) {
    uint64_t lv;
    std::memcpy(&lv, &leaves[rec], sizeof(lv));
    return rec + kRecordHeader + static_cast<uint32_t>(std::popcount(LowBits(lv, slot + 1))) - 1;
  }

  // A node's base words may be stored in place by the writer (its vectors
  // never are): read them once per visit, with acquire so the run they name
  // is seen as written.
  static uint32_t LoadBase(const uint32_t& word) {
    return __atomic_load_n(&word, __ATOMIC_ACQUIRE);
  }
  // Leaf values of nodes and records may be stored in place too (the value
  // is all a lookup takes from it).
  static uint32_t LoadLeaf(const uint32_t& word) {
    return __atomic_load_n(&word, __ATOMIC_RELAXED);
  }

  NextHop Lookup(Key k) const {
    const Root* r = root_.load(std::memory_order_acquire);
    uint32_t e = __atomic_load_n(&r->direct[DirectIndex(k)], __ATOMIC_ACQUIRE);
    if (!(e & (kNodeFlag | kRecordFlag))) return e - 1;
    if constexpr (kRecords) {
      if (e & kRecordFlag) {
        return LoadLeaf(r->leaves[RecordLeafIndex(r->leaves, e & kIndexMask, Bits6(k, S))]) - 1;
      }
    }
    const Node* nodes = r->nodes;
    uint32_t idx = e & kIndexMask;
    for (int d = S;; d += 6) {
      const Node& n = nodes[idx];
      uint64_t bit = uint64_t{1} << Bits6(k, d);
      if (n.vector & bit) {
        idx = LoadBase(n.base_child) + static_cast<uint32_t>(std::popcount(n.vector & (bit - 1)));
        continue;
      }
      return LoadLeaf(r->leaves[LoadBase(n.base_leaf) +
                                std::popcount(n.leafvec & ((bit << 1) - 1)) - 1]) -
             1;
    }
  }

  // Bursts of keys: the pipelined scalar walk below. (IPv6 bursts of 16
  // and more take LookupBurstBigEndianAvx512 straight from the addresses.)
  void LookupBurst(const Key* keys, NextHop* out, size_t n) const {
    LookupBurstPipelined(keys, out, n);
  }

#ifdef EDGEFWD_LPM_AVX512
// GCC 12 reports its own intrinsics' internal undefined vectors as
// maybe-uninitialized (a known false positive) once they are inlined here.
#pragma GCC diagnostic push
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized (and -Werror's its name)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  // IPv6 bursts, eight lanes per 512-bit register, keys loaded and
  // byte-swapped straight from the addresses. On Zen 4/5 the cost is
  // mostly gathers: one costs about as much with one lane enabled as with
  // eight. So each level packs the lanes that go on into full registers
  // (a few deep lanes, /64s and beyond, then cost one short pass per level
  // instead of dragging whole groups along), and a node visit gathers only
  // the vector and base_child; a lane that ends keeps its node and slot,
  // and leafvec, base_leaf and the leaf are gathered once at the end. Each
  // base field is read once per visit (the writer may update them in
  // place, and a base_child store can publish a fresh child run: x86 loads,
  // gathered ones too, are not reordered with later loads, and every later
  // load of the run depends on the base read); vector and leafvec of a
  // published node never change.
  struct Keys8 {
    __m512i hi, lo;
  };
  // Eight 16-byte big-endian addresses (the first `count` are read).
  static Keys8 LoadBigEndian8(const uint8_t* bytes, size_t count) {
    __mmask8 m0 = count >= 4 ? 0xFF : static_cast<__mmask8>((1u << (2 * count)) - 1);
    __mmask8 m1 = count <= 4 ? 0 : static_cast<__mmask8>((1u << (2 * (count - 4))) - 1);
    __m512i a0 = _mm512_maskz_loadu_epi64(m0, bytes);
    __m512i a1 = _mm512_maskz_loadu_epi64(m1, bytes + 64);
    const __m512i bswap = _mm512_set4_epi32(0x08090a0b, 0x0c0d0e0f, 0x00010203, 0x04050607);
    a0 = _mm512_shuffle_epi8(a0, bswap);
    a1 = _mm512_shuffle_epi8(a1, bswap);
    const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    return {_mm512_permutex2var_epi64(a0, even, a1), _mm512_permutex2var_epi64(a0, odd, a1)};
  }
  // `bytes`: n 16-byte big-endian addresses (IPv6 on the wire).
  void LookupBurstBigEndianAvx512(const uint8_t* bytes, NextHop* out, size_t n) const {
    static_assert(W == 128);
    const Root* r = root_.load(std::memory_order_acquire);
    auto load = [&bytes](size_t first, size_t count) {
      return LoadBigEndian8(bytes + 16 * first, count);
    };
    while (n > 0) {
      size_t m = n < kLanes ? n : kLanes;
      // The walk is inlined with its size known (the usual 32 and 64
      // exactly, others rounded up): out of line and sized at run time it
      // measured 20-30% slower.
      if (m == 64) {
        WalkAvx512<64>(r, load, out, 64);
      } else if (m == 32) {
        WalkAvx512<32>(r, load, out, 32);
      } else if (m > 32) {
        WalkAvx512<64>(r, load, out, m);
      } else if (m > 16) {
        WalkAvx512<32>(r, load, out, m);
      } else {
        WalkAvx512<16>(r, load, out, m);
      }
      bytes += 16 * m;
      out += m;
      n -= m;
    }
  }

  // One chunk of m <= kMax lanes; load(first, count) gives lanes
  // [first, first + count) as left-aligned 128-bit keys.
  //
  // A walking lane is one 64-bit word: node index (bits 0-29), lane
  // (30-35) and the next 28 key bits (36-63), the current slot on top;
  // every fourth level the key bits are refilled from the lane's key. A
  // compressed store costs about as much as a gather here (a 64-byte store
  // at an 8-byte offset mostly splits two cache lines), so the lists hold
  // one word per lane: a lane that ends goes to the done list as it stands
  // (node and slot).
  static constexpr int kLaneShift = 30;
  static constexpr int kKeyShift = 36;
  static constexpr int kKeyLevels = (64 - kKeyShift) / 6;
  static_assert(kIndexMask == (uint32_t{1} << kLaneShift) - 1);
  template <size_t kMax, class LoadGroup>
  [[gnu::always_inline]] inline void WalkAvx512(const Root* r, LoadGroup&& load, NextHop* out,
                                                size_t m) const {
    const long long* nodes = reinterpret_cast<const long long*>(r->nodes);
    const int* leaves = reinterpret_cast<const int*>(r->leaves);
    const int* direct = reinterpret_cast<const int*>(r->direct);
    static_assert(sizeof(Node) == 3 * sizeof(uint64_t) && offsetof(Node, leafvec) == 8 &&
                  offsetof(Node, base_child) == 16 && offsetof(Node, base_leaf) == 20);
    static_assert(kMax <= 64 && kMax % 8 == 0);  // lane numbers fit six bits
    const int* base_child = reinterpret_cast<const int*>(nodes + 2);
    const int* base_leaf = base_child + 1;
    alignas(64) uint64_t key_hi[kMax], key_lo[kMax];  // shifted left by S
    alignas(64) uint64_t walk[2][kMax + 8];           // 8 words of slack: stores are
    alignas(64) uint64_t done[kMax + 8];              // whole registers
    const __m512i idx_mask = _mm512_set1_epi64((int64_t{1} << kLaneShift) - 1);
    const __m512i lane_mask = _mm512_set1_epi64(int64_t{63} << kLaneShift);
    const __m512i key_mask = _mm512_set1_epi64(static_cast<int64_t>(~uint64_t{0} << kKeyShift));
    const __m512i one = _mm512_set1_epi64(1);
    const __m256i flag32 = _mm256_set1_epi32(static_cast<int>(kNodeFlag));
    const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    size_t na = 0;
    for (size_t first = 0; first < kMax; first += 8) {
      if (first >= m) break;
      size_t count = m - first < 8 ? m - first : 8;
      __mmask8 valid = static_cast<__mmask8>((1u << count) - 1);
      Keys8 k = load(first, count);
      __m512i di = _mm512_srli_epi64(k.hi, 64 - S);
      __m256i e = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), valid, di, direct, 4);
      // Every lane's direct answer; lanes that go on overwrite theirs at the end.
      _mm256_mask_storeu_epi32(out + first, valid, _mm256_sub_epi32(e, _mm256_set1_epi32(1)));
      __mmask8 node = _mm256_mask_test_epi32_mask(valid, e, flag32);
      __m512i hi = _mm512_or_si512(_mm512_slli_epi64(k.hi, S), _mm512_srli_epi64(k.lo, 64 - S));
      _mm512_store_si512(&key_hi[first], hi);
      _mm512_store_si512(&key_lo[first], _mm512_slli_epi64(k.lo, S));
      __m512i lane = _mm512_add_epi64(iota, _mm512_set1_epi64(static_cast<int64_t>(first)));
      __m512i a = _mm512_ternarylogic_epi64(_mm512_cvtepu32_epi64(_mm256_andnot_si256(flag32, e)),
                                            _mm512_slli_epi64(lane, kLaneShift),
                                            _mm512_and_si512(hi, key_mask), 0xFE);  // a|b|c
      _mm512_storeu_si512(&walk[0][na], _mm512_maskz_compress_epi64(node, a));
      na += static_cast<size_t>(std::popcount(static_cast<unsigned>(node)));
    }
    size_t nd = 0;
    // One level for up to eight lanes: returns the lanes' next words,
    // `child` those that go on, `leaf` those that end at this node.
    auto step = [&](__m512i a, __mmask8 valid, int level, __mmask8* child,
                    __mmask8* leaf) -> __m512i {
      if (level > 0 && level % kKeyLevels == 0) {
        int sh = 6 * level;  // key bits already used below the direct index
        __m512i lane = _mm512_srli_epi64(_mm512_and_si512(a, lane_mask), kLaneShift);
        __m512i z = _mm512_setzero_si512();
        __m512i bits = _mm512_sll_epi64(_mm512_mask_i64gather_epi64(z, valid, lane, key_hi, 8),
                                        _mm_cvtsi32_si128(sh));
        if (sh + 64 - kKeyShift > 64) {
          __m512i lo = _mm512_mask_i64gather_epi64(z, valid, lane, key_lo, 8);
          lo = sh < 64 ? _mm512_srl_epi64(lo, _mm_cvtsi32_si128(64 - sh))
                       : _mm512_sll_epi64(lo, _mm_cvtsi32_si128(sh - 64));
          bits = _mm512_or_si512(bits, lo);
        }
        a = _mm512_ternarylogic_epi64(key_mask, bits, a, 0xCA);  // mask ? bits : a
      }
      __m512i ni = _mm512_and_si512(a, idx_mask);
      __m512i off = _mm512_add_epi64(ni, _mm512_slli_epi64(ni, 1));  // in words
      __m512i vec = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), valid, off, nodes, 8);
      __m512i bc = _mm512_cvtepu32_epi64(
          _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), valid, off, base_child, 8));
      __m512i bit = _mm512_sllv_epi64(one, _mm512_srli_epi64(a, 58));
      *child = _mm512_mask_test_epi64_mask(valid, vec, bit);
      *leaf = valid & static_cast<__mmask8>(~*child);
      __m512i cidx = _mm512_add_epi64(
          bc, _mm512_popcnt_epi64(_mm512_and_si512(vec, _mm512_sub_epi64(bit, one))));
      // Key bits moved up by one slot, same lane, the child; a lane that
      // ends is kept as it stands (node and slot) for the done list.
      __m512i next =
          _mm512_ternarylogic_epi64(_mm512_slli_epi64(_mm512_and_si512(a, key_mask), 6),
                                    _mm512_and_si512(a, lane_mask), cidx, 0xFE);  // a | b | c
      _mm512_storeu_si512(&done[nd], _mm512_maskz_compress_epi64(*leaf, a));
      nd += static_cast<size_t>(std::popcount(static_cast<unsigned>(*leaf)));
      return next;
    };
    int level = 0, cur = 0;
    for (; na > 8; ++level, cur ^= 1) {
      size_t nn = 0;
      for (size_t j = 0; j < na; j += 8) {
        __mmask8 valid = na - j >= 8 ? 0xFF : static_cast<__mmask8>((1u << (na - j)) - 1);
        __mmask8 child, leaf;
        __m512i next = step(_mm512_load_si512(&walk[cur][j]), valid, level, &child, &leaf);
        _mm512_storeu_si512(&walk[cur ^ 1][nn], _mm512_maskz_compress_epi64(child, next));
        nn += static_cast<size_t>(std::popcount(static_cast<unsigned>(child)));
      }
      na = nn;
    }
    // The last few lanes stay in a register: the deep tail is a chain of
    // dependent levels, and a trip through memory would add a failed
    // store-to-load forward to each.
    if (na > 0) {
      __m512i a = _mm512_load_si512(&walk[cur][0]);
      __mmask8 valid = static_cast<__mmask8>((1u << na) - 1);
      for (; valid; ++level) {
        __mmask8 child, leaf;
        __m512i next = step(a, valid, level, &child, &leaf);
        a = _mm512_maskz_compress_epi64(child, next);
        valid = static_cast<__mmask8>((1u << std::popcount(static_cast<unsigned>(child))) - 1);
      }
    }
    for (size_t j = 0; j < nd; j += 8) {
      __mmask8 valid = nd - j >= 8 ? 0xFF : static_cast<__mmask8>((1u << (nd - j)) - 1);
      __m512i a = _mm512_load_si512(&done[j]);
      __m512i ni = _mm512_and_si512(a, idx_mask);
      __m512i off = _mm512_add_epi64(ni, _mm512_slli_epi64(ni, 1));
      __m512i lv = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), valid, off, nodes + 1, 8);
      __m512i bl = _mm512_cvtepu32_epi64(
          _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), valid, off, base_leaf, 8));
      __m512i upto = _mm512_and_si512(
          lv,
          _mm512_sub_epi64(_mm512_sllv_epi64(_mm512_set1_epi64(2), _mm512_srli_epi64(a, 58)), one));
      __m512i lpos = _mm512_sub_epi64(_mm512_add_epi64(bl, _mm512_popcnt_epi64(upto)), one);
      __m256i leaf = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), valid, lpos, leaves, 4);
      alignas(32) uint32_t val[8];
      alignas(32) uint32_t lane[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(val),
                         _mm256_sub_epi32(leaf, _mm256_set1_epi32(1)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(lane),
                         _mm512_cvtepi64_epi32(_mm512_srli_epi64(a, kLaneShift)));
      size_t cnt = nd - j < 8 ? nd - j : 8;
      for (size_t i = 0; i < cnt; ++i) out[lane[i] & 63] = val[i];
    }
  }
#pragma GCC diagnostic pop
#endif

  // Bits [d, d+6) of k, zero past its end.
  static unsigned SlotAt(Key k, int d) {
    if constexpr (W <= 32) {
      // Key left-aligned in 64 bits, so bits past its end read as zero.
      return static_cast<unsigned>(((uint64_t{k} << (64 - W)) << d) >> 58);
    } else {
      return Bits6(k, d);
    }
  }

  // Scalar and software-pipelined: each pass over the burst issues every
  // lane's next load as a prefetch before any lane waits for one (direct
  // entries, then per level the child node or the leaf), so a burst keeps
  // dozens of cache misses in flight where the out-of-order window alone
  // holds about a dozen. Zen 4's gathers are slow enough that this beats the
  // AVX-512 walk for IPv4 (batch 64, uniform-routed ~1.6x; zipf and
  // uniform-prefix no slower), and for IPv6 bursts under 16.
  void LookupBurstPipelined(const Key* keys, NextHop* out, size_t n) const {
    const Root* r = root_.load(std::memory_order_acquire);
    const uint32_t* direct = r->direct;
    const Node* nodes = r->nodes;
    const uint32_t* leaves = r->leaves;
    while (n > 0) {
      size_t m = n < kLanes ? n : kLanes;
      uint32_t idx[kLanes];  // node or record index, then leaf index once the lane ends
      uint8_t active[kLanes], ended[kLanes], records[kLanes];
      for (size_t i = 0; i < m; ++i) __builtin_prefetch(&direct[DirectIndex(keys[i])]);
      size_t na = 0, nr = 0;
      for (size_t i = 0; i < m; ++i) {
        uint32_t e = __atomic_load_n(&direct[DirectIndex(keys[i])], __ATOMIC_ACQUIRE);
        out[i] = e - 1;
        idx[i] = e & kIndexMask;
        active[na] = static_cast<uint8_t>(i);
        na += e >> 31;
        records[nr] = static_cast<uint8_t>(i);
        nr += (e >> 30) & 1;
      }
      for (size_t j = 0; j < nr; ++j) __builtin_prefetch(&leaves[idx[records[j]]]);
      for (size_t j = 0; j < na; ++j) __builtin_prefetch(&nodes[idx[active[j]]]);
      // Records end here: their leaf is in the line just fetched.
      for (size_t j = 0; j < nr; ++j) {
        size_t i = records[j];
        unsigned slot = SlotAt(keys[i], S);
        out[i] = LoadLeaf(leaves[RecordLeafIndex(leaves, idx[i], slot)]) - 1;
      }
      for (int d = S; na > 0; d += 6) {
        size_t still = 0, nended = 0;
        for (size_t j = 0; j < na; ++j) {
          size_t i = active[j];
          const Node& nd = nodes[idx[i]];
          unsigned slot = SlotAt(keys[i], d);
          uint32_t is_child = static_cast<uint32_t>(nd.vector >> slot) & 1;
          uint32_t child = LoadBase(nd.base_child) +
                           static_cast<uint32_t>(std::popcount(LowBits(nd.vector, slot)));
          uint32_t leaf = LoadBase(nd.base_leaf) +
                          static_cast<uint32_t>(std::popcount(LowBits(nd.leafvec, slot + 1))) - 1;
          idx[i] = is_child ? child : leaf;
          __builtin_prefetch(is_child ? static_cast<const void*>(&nodes[child])
                                      : static_cast<const void*>(&leaves[leaf]));
          active[still] = static_cast<uint8_t>(i);
          still += is_child;
          ended[nended] = static_cast<uint8_t>(i);
          nended += is_child ^ 1;
        }
        for (size_t j = 0; j < nended; ++j) out[ended[j]] = LoadLeaf(leaves[idx[ended[j]]]) - 1;
        na = still;
      }
      keys += m;
      out += m;
      n -= m;
    }
  }
  // The low `count` (0..64) bits of v.
  static uint64_t LowBits(uint64_t v, unsigned count) {
#ifdef __BMI2__
    return _bzhi_u64(v, count);
#else
    return count >= 64 ? v : v & ((uint64_t{1} << count) - 1);
#endif
  }

  // ---------------------------------------------------------------- writer
  using Store = RouteStore<Traits>;
  const Store& store() const {
    return store_;
  }

  static Key Mask(Key a, unsigned len) {
    if (len == 0) return 0;
    return a & (~Key{0} << (W - len));
  }
  static bool InRange(Key a, Key base, unsigned len) {
    return len == 0 || ((a ^ base) >> (W - len)) == 0;
  }

  // Adds or replaces (remove=false) or removes one route; leaves everything
  // as it was on error.
  LpmError Change(Key addr, unsigned len, bool remove, uint32_t nh) {
    addr = Mask(addr, len);
    PrefetchPath(addr, len);
    uint32_t old_nh = 0;
    bool existed;
    route_set_changed_ = true;
    if (remove) {
      if (!store_.Erase(addr, len, &old_nh)) return LpmError::kNotFound;
      existed = true;
      const auto after = store_.LowerBound(Traits::Pack(addr, len, 0));
      NoteNeighbours(after, store_.Before(after));
    } else {
      // Near a limit, only a replacement may proceed. (The route store grows
      // by a block at a time outside the pools' own check, hence the slack.)
      if (store_.size() >= config_.max_routes ||
          memory_bytes() + kStoreGrowth > config_.max_memory_bytes) {
        if (!store_.Find(addr, len)) return LpmError::kCapacityExhausted;
      }
      existed = store_.Upsert(addr, len, nh, &old_nh);
      if (existed && old_nh == nh) return LpmError::kOk;
      route_set_changed_ = !existed;
      if (!existed) {  // the entries around the new one (for the hollow-node count)
        auto at = store_.LowerBound(Traits::Pack(addr, len, 0));
        auto after = at;
        store_.Next(&after);
        NoteNeighbours(after, store_.Before(at));
      }
    }
    if (!ApplyToTrie(addr, len, !remove, nh)) {
      AbortOp();
      uint32_t ignored;
      if (remove || existed) {
        store_.Upsert(addr, len, old_nh, &ignored);
      } else {
        store_.Erase(addr, len, &ignored);
      }
      return LpmError::kCapacityExhausted;
    }
    CommitOp();
    return LpmError::kOk;
  }

  // A change to a random route finds its trie path cold, as it finds its
  // route-store block: start the path's misses (direct entry, chunk, the
  // nodes down to the change's depth, their leaf runs and defaults) here,
  // before the store is searched, so the two overlap instead of queueing.
  // Each step needs the node above it, so this is a walk, not one batch of
  // prefetches; nothing waits for it.
  void PrefetchPath(Key addr, unsigned len) const {
    const Root* r = pool_.root;
    const uint32_t e = r->direct[DirectIndex(addr)];
    if (!(e & (kNodeFlag | kRecordFlag))) return;
    const uint32_t idx = e & kIndexMask;
    if (e & kRecordFlag) {
      __builtin_prefetch(&r->leaves[idx]);
      return;
    }
    uint32_t cur = idx;
    for (int d = S;; d += 6) {
      const Node& n = r->nodes[cur];
      __builtin_prefetch(&pool_.node_default[cur]);
      __builtin_prefetch(&r->leaves[n.base_leaf]);
      const unsigned slot = Bits6(addr, d);
      if (len <= static_cast<unsigned>(d) + 6 || !(n.vector >> slot & 1)) {
        __builtin_prefetch(&pool_.node_default[n.base_child]);
        return;
      }
      cur = n.base_child + static_cast<uint32_t>(std::popcount(LowBits(n.vector, slot)));
      __builtin_prefetch(&r->nodes[cur]);
    }
  }

  // Rebuilds the whole structure from the store into fresh pools and
  // publishes it with one root store (bulk loads, large batches).
  bool RebuildAll() {
    Pool old = std::move(pool_);
    pool_ = Pool{};
    size_t routes = store_.size();
    pool_.root = NewRoot(std::max<size_t>(kInitialNodes, routes / 3 + 1024),
                         std::max<size_t>(kInitialLeaves, routes + 4096));
    building_fresh_ = true;
    bool built = pool_.root && BuildAllInto();
    building_fresh_ = false;
    if (!built) {
      if (pool_.root) FreeRoot(pool_.root);
      op_allocs_.clear();
      pending_.clear();
      pool_ = std::move(old);
      return false;
    }
    op_allocs_.clear();
    pending_.clear();
    ++generation_;
    hollow_nodes_ = 0;
    root_.store(pool_.root, std::memory_order_release);
    pending_.push_back(Limbo{0, 0, kRootMem, 0, 0, old.root});
    CommitOp();
    return true;
  }

  // Route store edits without touching the trie (for batch rebuilds).
  Store& mutable_store() {
    return store_;
  }

  size_t memory_bytes() const {
    const Root* r = pool_.root;
    size_t b = sizeof(*this) + (size_t{1} << S) * sizeof(uint32_t);
    b += size_t{r->node_cap} * sizeof(Node) + size_t{r->leaf_cap} * sizeof(uint32_t);
    b += pool_.node_default.capacity() * sizeof(uint32_t);
    for (size_t i = 0; i < 65; ++i) {
      b += (pool_.node_free[i].capacity() + pool_.leaf_free[i].capacity()) * sizeof(uint32_t);
    }
    for (const auto& fl : pool_.record_free) b += fl.capacity() * sizeof(uint32_t);
    b += limbo_.capacity() * sizeof(Limbo);
    return b + store_.bytes();
  }

  // Frees what every reader has moved past; cheap when nothing is waiting.
  void Reclaim() {
    if (limbo_head_ == limbo_.size()) return;
    qsbr_->AdvancePast(limbo_.back().token);
    uint64_t oldest = qsbr_->OldestSeen();
    while (limbo_head_ < limbo_.size() && limbo_[limbo_head_].token <= oldest) {
      Release(limbo_[limbo_head_]);
      ++limbo_head_;
    }
    if (limbo_head_ == limbo_.size()) {
      limbo_.clear();
      // A burst of churn can leave a large, now idle, limbo behind.
      if (limbo_.capacity() > 4096) limbo_.shrink_to_fit();
      limbo_head_ = 0;
    } else if (limbo_head_ > 1024 && limbo_head_ * 2 > limbo_.size()) {
      limbo_.erase(limbo_.begin(), limbo_.begin() + static_cast<ptrdiff_t>(limbo_head_));
      limbo_head_ = 0;
    }
  }

  // Pool slots on free lists: freed by churn, reusable only by runs of the
  // same length, so the pools never shrink by themselves (see Compact in
  // table_core.h).
  size_t free_pool_bytes() const {
    size_t nodes = 0, leaves = 0;
    for (size_t len = 1; len < 65; ++len) {
      nodes += pool_.node_free[len].size() * len;
      leaves += pool_.leaf_free[len].size() * len;
    }
    leaves +=
        pool_.record_free[0].size() * kSmallRecord + pool_.record_free[1].size() * kLargeRecord;
    return nodes * sizeof(Node) + leaves * sizeof(uint32_t);
  }
  // Nodes kept without routes below them (see ApplyToTrie) and their leaves,
  // roughly: waste only a rebuild returns, as free runs are.
  size_t hollow_bytes() const {
    return hollow_nodes_ * (sizeof(Node) + 4 * sizeof(uint32_t));
  }
  size_t pool_bytes() const {
    return size_t{pool_.root->node_cap} * sizeof(Node) +
           size_t{pool_.root->leaf_cap} * sizeof(uint32_t);
  }

  // Trims pool headroom after a bulk load so memory_bytes reflects the table.
  void Trim() {
    Root* r = pool_.root;
    size_t nodes = pool_.node_top + pool_.node_top / 16 + 256;
    size_t leaves = pool_.leaf_top + pool_.leaf_top / 16 + 1024;
    if (nodes >= r->node_cap && leaves >= r->leaf_cap) return;
    if (Regrow(std::min<size_t>(nodes, r->node_cap), std::min<size_t>(leaves, r->leaf_cap))) {
      pool_.node_default.resize(pool_.root->node_cap);
      pool_.node_default.shrink_to_fit();
      CommitOp();
    }
  }

 private:
  static constexpr size_t kLanes = 64;
  static constexpr size_t kStoreGrowth = 4096;
  static constexpr uint32_t kUnknownLeaf = ~uint32_t{0};
  static constexpr size_t kInitialNodes = 1024;
  static constexpr size_t kInitialLeaves = 4096;
  enum Kind : uint8_t { kNodes, kLeaves, kRecord, kRootMem };

  struct Route {
    Key addr;
    uint32_t nh;
    uint8_t len;
  };
  struct Limbo {
    uint64_t token;
    uint64_t generation;
    Kind kind;
    uint32_t idx;
    uint32_t n;
    Root* root;
  };
  // Writer-side allocation state of one set of pools.
  // Node 0 and leaf 0 are never handed out: burst lookups read leaf 0 for
  // lanes that do not need a leaf, and it must never be written under them.
  struct Pool {
    Root* root = nullptr;
    size_t node_top = 1;
    size_t leaf_top = 1;
    std::vector<uint32_t> node_free[65];  // free runs by length
    std::vector<uint32_t> leaf_free[65];
    std::vector<uint32_t> record_free[2];  // kSmallRecord, kLargeRecord words
    std::vector<uint32_t> node_default;    // per node: the answer before its slots
  };

  // ---- memory
  void* RawAlloc(size_t bytes) {
    if (config_.memory.alloc) return config_.memory.alloc(bytes, 64, config_.memory.ctx);
    return ::operator new (bytes, std::align_val_t{64}, std::nothrow);
  }
  void RawFree(void* p) {
    if (!p) return;
    if (config_.memory.free) {
      config_.memory.free(p, config_.memory.ctx);
    } else {
      ::operator delete (p, std::align_val_t{64});
    }
  }
  size_t RootBytes(size_t nodes, size_t leaves) const {
    return (size_t{1} << S) * sizeof(uint32_t) + nodes * sizeof(Node) + leaves * sizeof(uint32_t);
  }
  Root* NewRoot(size_t nodes, size_t leaves) {
    if (nodes > kIndexMask || leaves > kIndexMask) return nullptr;
    Root* r = new (std::nothrow) Root{};
    if (!r) return nullptr;
    r->direct = static_cast<uint32_t*>(RawAlloc((size_t{1} << S) * sizeof(uint32_t)));
    r->nodes = static_cast<Node*>(RawAlloc(nodes * sizeof(Node)));
    r->leaves = static_cast<uint32_t*>(RawAlloc(leaves * sizeof(uint32_t)));
    r->node_cap = static_cast<uint32_t>(nodes);
    r->leaf_cap = static_cast<uint32_t>(leaves);
    if (!r->direct || !r->nodes || !r->leaves) {
      FreeRoot(r);
      return nullptr;
    }
    // Burst lookups read node 0 and leaf 0 for lanes that are already done.
    std::memset(r->nodes, 0, nodes * sizeof(Node));
    std::memset(r->leaves, 0, leaves * sizeof(uint32_t));
    return r;
  }
  void FreeRoot(Root* r) {
    if (!r) return;
    RawFree(r->direct);
    RawFree(r->nodes);
    RawFree(r->leaves);
    delete r;
  }

  // Copies the current pools into larger (or trimmed) ones and publishes
  // them; readers on the old root finish on the old copy.
  bool Regrow(size_t nodes, size_t leaves) {
    Root* old = pool_.root;
    size_t extra = RootBytes(nodes, leaves);
    if (memory_bytes() - RootBytes(old->node_cap, old->leaf_cap) + extra >
        config_.max_memory_bytes) {
      return false;
    }
    Root* r = NewRoot(nodes, leaves);
    if (!r) return false;
    std::memcpy(r->direct, old->direct, (size_t{1} << S) * sizeof(uint32_t));
    std::memcpy(r->nodes, old->nodes, pool_.node_top * sizeof(Node));
    std::memcpy(r->leaves, old->leaves, pool_.leaf_top * sizeof(uint32_t));
    pool_.root = r;
    if (building_fresh_) {  // nobody has seen the old copy
      FreeRoot(old);
      return true;
    }
    root_.store(r, std::memory_order_release);
    pending_.push_back(Limbo{0, 0, kRootMem, 0, 0, old});
    return true;
  }

  std::vector<uint32_t>& FreeList(Kind kind, size_t n) {
    if (kind == kNodes) return pool_.node_free[n];
    if (kind == kLeaves) return pool_.leaf_free[n];
    return pool_.record_free[n == kLargeRecord];
  }
  // A run of n nodes, n leaves or one n-word record (aligned to n words, so
  // it never straddles a cache line): a free run of that kind and length, or
  // fresh space at the pool's top (growing the pool if needed).
  std::optional<uint32_t> AllocRun(Kind kind, size_t n) {
    auto& fl = FreeList(kind, n);
    uint32_t idx;
    if (!fl.empty()) {
      idx = fl.back();
      fl.pop_back();
    } else {
      bool nodes = kind == kNodes;
      size_t& top = nodes ? pool_.node_top : pool_.leaf_top;
      size_t pad = kind == kRecord ? (n - top % n) % n : 0;
      size_t cap = nodes ? pool_.root->node_cap : pool_.root->leaf_cap;
      if (top + pad + n > cap) {
        size_t grown = cap + cap / 2 + pad + n;
        if (!Regrow(nodes ? grown : pool_.root->node_cap, nodes ? pool_.root->leaf_cap : grown)) {
          return std::nullopt;
        }
      }
      if (pad) {  // the gap before an aligned record serves leaf runs
        pool_.leaf_free[pad].push_back(static_cast<uint32_t>(top));
        top += pad;
      }
      idx = static_cast<uint32_t>(top);
      top += n;
      if (nodes && pool_.node_default.size() < top) pool_.node_default.resize(pool_.root->node_cap);
    }
    op_allocs_.push_back(Limbo{0, 0, kind, idx, static_cast<uint32_t>(n), nullptr});
    return idx;
  }
  void RetireRun(Kind kind, uint32_t idx, size_t n) {
    if (n == 0) return;
    pending_.push_back(Limbo{0, 0, kind, idx, static_cast<uint32_t>(n), nullptr});
  }
  // Retires everything a node owns (not the node's own slot).
  void RetireBelow(uint32_t idx) {
    Node nd = pool_.root->nodes[idx];
    size_t nchild = static_cast<size_t>(std::popcount(nd.vector));
    RetireRun(kLeaves, nd.base_leaf, static_cast<size_t>(std::popcount(nd.leafvec)));
    RetireRun(kNodes, nd.base_child, nchild);
    for (size_t i = 0; i < nchild; ++i) RetireBelow(nd.base_child + static_cast<uint32_t>(i));
  }
  void Release(const Limbo& l) {
    if (l.kind == kRootMem) {
      FreeRoot(l.root);
    } else if (l.generation == generation_) {
      FreeList(l.kind, l.n).push_back(l.idx);
    }
  }
  void CommitOp() {
    op_allocs_.clear();
    if (pending_.empty()) return;
    uint64_t token = qsbr_->NextToken();  // Reclaim advances the epoch, every 32 operations
    for (Limbo& l : pending_) {
      l.token = token;
      l.generation = generation_;
      limbo_.push_back(l);
    }
    pending_.clear();
    if (++ops_since_reclaim_ >= 32) {
      ops_since_reclaim_ = 0;
      Reclaim();
    }
  }
  // Nothing of this operation was published: its runs go straight back.
  void AbortOp() {
    for (const Limbo& l : op_allocs_) FreeList(l.kind, l.n).push_back(l.idx);
    op_allocs_.clear();
    // Grown roots were published (same content); keep their old copies in limbo.
    std::vector<Limbo> keep;
    for (const Limbo& l : pending_) {
      if (l.kind == kRootMem) keep.push_back(l);
    }
    pending_ = std::move(keep);
    CommitOp();
  }

  // ---- route store queries
  uint32_t LongestCoveringLeaf(Key addr, unsigned max_len) const {
    for (int l = static_cast<int>(max_len); l >= 0; --l) {
      unsigned len = static_cast<unsigned>(l);
      if (store_.count_of_len(len) == 0) continue;
      if (const auto e = store_.Find(Mask(addr, len), len)) return Traits::NhOf(*e) + 1;
    }
    return 0;
  }
  void CollectLonger(Key base, unsigned d, std::vector<Route>* out) const {
    for (auto p = store_.LowerBound(Traits::Pack(base, d + 1, 0)); !store_.AtEnd(p);
         store_.Next(&p)) {
      const auto& e = store_.At(p);
      Key a = Traits::AddrOf(e);
      if (!InRange(a, base, d)) break;
      out->push_back(Route{a, Traits::NhOf(e), static_cast<uint8_t>(Traits::LenOf(e))});
    }
  }

  // ---- building
  // The leafvec of slots `val` without a child in `vec`: where a run of
  // equal values starts; the runs' values go to `runs` (count in *n).
  static uint64_t LeafRuns(uint64_t vec, const uint32_t* val, uint32_t* runs, size_t* n) {
    uint64_t leafvec = 0;
    uint64_t prev = ~uint64_t{0};
    *n = 0;
    for (unsigned s = 0; s < 64; ++s) {
      if (vec >> s & 1) continue;
      if (val[s] != prev) {
        leafvec |= uint64_t{1} << s;
        runs[(*n)++] = val[s];
        prev = val[s];
      }
    }
    return leafvec;
  }
  // The runs of an existing layout for new slot values: *runs gets each
  // run's value and the count is returned, or nothing when a slot that
  // starts no run in `leafvec` now differs from the slot before it. Runs
  // that became equal stay apart (two runs of one value answer as one), so a
  // removal or next-hop change that merges runs, and the insert that splits
  // them again, keep the layout and store leaf values in place instead of
  // copying the node and its siblings. Rebuilds (compaction, layout
  // changes) merge them again.
  static std::optional<size_t> FitRuns(uint64_t leafvec, uint64_t vec, const uint32_t* val,
                                       uint32_t* runs) {
    size_t n = 0;
    bool first = true;
    uint32_t prev = 0;
    for (unsigned s = 0; s < 64; ++s) {
      if (vec >> s & 1) continue;
      if (leafvec >> s & 1) {
        runs[n++] = val[s];
      } else if (first || val[s] != prev) {
        return std::nullopt;
      }
      prev = val[s];
      first = false;
    }
    return n;
  }
  // Writes node `dest` from its slot values and child set; `child` builds
  // child number `slot` into a given index.
  template <class ChildFn>
  bool EmitNode(uint32_t dest, uint64_t vec, const uint32_t* val, uint32_t def, ChildFn&& child) {
    uint32_t leafvals[64];
    size_t nleaf;
    const uint64_t leafvec = LeafRuns(vec, val, leafvals, &nleaf);
    size_t nchild = static_cast<size_t>(std::popcount(vec));
    uint32_t cbase = 0, lbase = 0;
    if (nchild) {
      auto a = AllocRun(kNodes, nchild);
      if (!a) return false;
      cbase = *a;
    }
    if (nleaf) {
      auto a = AllocRun(kLeaves, nleaf);
      if (!a) return false;
      lbase = *a;
      std::memcpy(&pool_.root->leaves[lbase], leafvals, nleaf * sizeof(uint32_t));
    }
    uint32_t j = 0;
    for (uint64_t v = vec; v; v &= v - 1) {
      unsigned s = static_cast<unsigned>(std::countr_zero(v));
      if (!child(s, cbase + j++)) return false;
    }
    pool_.root->nodes[dest] = Node{vec, leafvec, cbase, lbase};
    pool_.node_default[dest] = def;
    return true;
  }

  static Key ChildBase(Key base, unsigned d, unsigned slot) {
    return base | (static_cast<Key>(slot) << (W - d - 6));
  }

  // The 64 slots of the node at depth d over `r` (sorted, in range; entries
  // with len <= d are skipped): leaf values, child set, each child's routes.
  struct Slots {
    uint32_t val[64];
    uint32_t cb[64] = {}, ce[64] = {};
    uint64_t vec = 0;
  };
  static void FillSlots(const Route* r, size_t n, unsigned d, uint32_t def, Slots* sl) {
    std::fill(sl->val, sl->val + 64, def);
    for (size_t i = 0; i < n; ++i) {
      unsigned len = r[i].len;
      if (len <= d) continue;
      unsigned s = Bits6(r[i].addr, static_cast<int>(d));
      if (len <= d + 6) {
        unsigned span = 1u << (d + 6 - len);
        std::fill(sl->val + s, sl->val + s + span, r[i].nh + 1);
      } else {
        if (!(sl->vec >> s & 1)) {
          sl->vec |= uint64_t{1} << s;
          sl->cb[s] = static_cast<uint32_t>(i);
        }
        sl->ce[s] = static_cast<uint32_t>(i + 1);
      }
    }
  }
  bool EmitSlots(uint32_t dest, const Route* r, const Slots& sl, Key base, unsigned d,
                 uint32_t def) {
    return EmitNode(dest, sl.vec, sl.val, def, [&](unsigned s, uint32_t cdest) {
      return BuildInto(cdest, r + sl.cb[s], sl.ce[s] - sl.cb[s], ChildBase(base, d, s), d + 6,
                       sl.val[s]);
    });
  }
  // Builds the subtree for (base, d) from `r` into node `dest`.
  bool BuildInto(uint32_t dest, const Route* r, size_t n, Key base, unsigned d, uint32_t def) {
    Slots sl;
    FillSlots(r, n, d, def, &sl);
    return EmitSlots(dest, r, sl, base, d, def);
  }

  // ---- chunks: what a direct entry points at (a node, or a leaf record)
  static bool IsSubtree(uint32_t e) {
    return (e & (kNodeFlag | kRecordFlag)) != 0;
  }
  static size_t RecordWords(size_t runs) {
    return runs + kRecordHeader <= kSmallRecord ? kSmallRecord : kLargeRecord;
  }
  uint64_t RecordLeafvec(uint32_t rec) const {
    uint64_t lv;
    std::memcpy(&lv, &pool_.root->leaves[rec], sizeof(lv));
    return lv;
  }
  // The answer for the chunk's addresses no longer route covers.
  uint32_t ChunkDefault(uint32_t e) const {
    if (e & kNodeFlag) return pool_.node_default[e & kIndexMask];
    if (e & kRecordFlag) return pool_.root->leaves[(e & kIndexMask) + 2];
    return e;
  }
  void RetireChunk(uint32_t e) {
    uint32_t idx = e & kIndexMask;
    if (e & kNodeFlag) {
      RetireRun(kNodes, idx, 1);
      RetireBelow(idx);
    } else if (e & kRecordFlag) {
      RetireRun(kRecord, idx, RecordWords(static_cast<size_t>(std::popcount(RecordLeafvec(idx)))));
    }
  }
  // A record for a childless node's leaves, if they fit one.
  std::optional<uint32_t> MakeRecord(uint64_t leafvec, const uint32_t* runs, uint32_t def) {
    size_t n = static_cast<size_t>(std::popcount(leafvec));
    auto rec = AllocRun(kRecord, RecordWords(n));
    if (!rec) return std::nullopt;
    uint32_t* w = &pool_.root->leaves[*rec];
    std::memcpy(w, &leafvec, sizeof(leafvec));
    w[2] = def;
    std::memcpy(w + kRecordHeader, runs, n * sizeof(uint32_t));
    return *rec | kRecordFlag;
  }
  // Builds chunk (base) from its routes longer than S; returns its direct
  // entry (node or record).
  std::optional<uint32_t> BuildChunk(const Route* r, size_t n, Key base, uint32_t def) {
    Slots sl;
    FillSlots(r, n, S, def, &sl);
    if (kRecords && sl.vec == 0) {
      uint64_t leafvec = 0;
      uint32_t runs[64];
      size_t nrun = 0;
      for (unsigned s = 0; s < 64; ++s) {
        if (s == 0 || sl.val[s] != sl.val[s - 1]) {
          leafvec |= uint64_t{1} << s;
          runs[nrun++] = sl.val[s];
        }
      }
      if (nrun + kRecordHeader <= kLargeRecord) return MakeRecord(leafvec, runs, def);
    }
    auto root = AllocRun(kNodes, 1);
    if (!root || !EmitSlots(*root, r, sl, base, S, def)) return std::nullopt;
    return *root | kNodeFlag;
  }
  // A leaf record whose runs start where they did: the changed values are
  // stored in place, which publishes the change (a lookup reads one leaf of
  // it). False, touching nothing, when the runs move or a child appears.
  bool UpdateRecordInPlace(uint32_t rec, Key base, uint32_t def) {
    const std::vector<Route>& routes = RoutesBelow(base, S);
    Slots sl;
    FillSlots(routes.data(), routes.size(), S, def, &sl);
    if (sl.vec != 0) return false;
    uint32_t runs[64];
    const auto fit = FitRuns(RecordLeafvec(rec), 0, sl.val, runs);
    if (!fit) return false;
    const size_t n = *fit;
    uint32_t* live = &pool_.root->leaves[rec + kRecordHeader];
    for (size_t i = 0; i < n; ++i) {
      if (live[i] != runs[i]) __atomic_store_n(&live[i], runs[i], __ATOMIC_RELAXED);
    }
    return true;
  }
  std::optional<uint32_t> BuildChunkFromStore(size_t c, uint32_t def) {
    std::vector<Route>& routes = RoutesBelow(ChunkBase(c), S);
    return BuildChunk(routes.data(), routes.size(), ChunkBase(c), def);
  }
  bool BuildFromStore(uint32_t dest, Key base, unsigned d, uint32_t def) {
    std::vector<Route>& routes = RoutesBelow(base, d);
    return BuildInto(dest, routes.data(), routes.size(), base, d, def);
  }
  // The routes longer than d under `base`, in a buffer reused by the next
  // call (builds from the store do not nest), so a change allocates nothing.
  std::vector<Route>& RoutesBelow(Key base, unsigned d) {
    scratch_routes_.clear();
    CollectLonger(base, d, &scratch_routes_);
    return scratch_routes_;
  }

  // The node that replaces `old` at (base, d), default `def` unchanged, when
  // the change of (pa, L) ends among its slots or adds or drops the child at
  // pa's slot. Its children and leaves get fresh runs only where they
  // change; a run kept as it is stays shared with `old`, and what is
  // replaced is retired. `x` is what p's span resolves to after the change
  // (kUnknownLeaf after a removal: found here, where the search is short).
  std::optional<Node> RebuildNode(uint32_t old, Key base, unsigned d, uint32_t def, Key pa,
                                  unsigned L, uint32_t x, bool inserted) {
    const Node on = pool_.root->nodes[old];
    const unsigned sp = Bits6(pa, static_cast<int>(d));
    uint32_t val[64];
    uint32_t old_child[64];
    {
      uint32_t ci = on.base_child;
      int li = -1;
      for (unsigned s = 0; s < 64; ++s) {
        if (on.vector >> s & 1) {
          old_child[s] = ci;
          val[s] = pool_.node_default[ci++];
        } else {
          li += static_cast<int>(on.leafvec >> s & 1);
          val[s] = pool_.root->leaves[on.base_leaf + static_cast<uint32_t>(li)];
        }
      }
    }
    uint64_t rebuild = 0;  // child slots whose subtree is built afresh from the store
    uint64_t vec = on.vector;
    if (L <= d + 6) {
      if (x == kUnknownLeaf) {
        // Removal: only lengths between this node's depth and L can cover
        // p more specifically than the node's own default.
        x = def;
        for (unsigned l = L; l-- > d + 1;) {
          if (store_.count_of_len(l) == 0) continue;
          if (const auto e = store_.Find(Mask(pa, l), l)) {
            x = Traits::NhOf(*e) + 1;
            break;
          }
        }
      }
      unsigned span = 1u << (d + 6 - L);
      uint32_t nv[64] = {};
      std::fill(nv + sp, nv + sp + span, x);
      // More-specifics inside p that end in this node keep their slots.
      for (auto p = store_.LowerBound(Traits::Pack(pa, L + 1, 0)); !store_.AtEnd(p);
           store_.Next(&p)) {
        const auto& e = store_.At(p);
        Key a = Traits::AddrOf(e);
        if (!InRange(a, pa, L)) break;
        unsigned len = Traits::LenOf(e);
        if (len > d + 6) continue;
        unsigned s = Bits6(a, static_cast<int>(d));
        std::fill(nv + s, nv + s + (1u << (d + 6 - len)), Traits::NhOf(e) + 1);
      }
      for (unsigned s = sp; s < sp + span; ++s) {
        if (nv[s] == val[s]) continue;
        val[s] = nv[s];
        if (vec >> s & 1) rebuild |= uint64_t{1} << s;
      }
    } else {
      bool has = RangeKeepsLonger(ChildBase(base, d, sp), d + 6, inserted);
      if (vec >> sp & 1) {
        // (The child staying is the caller's walk, not a rebuild.)
        if (!has) {
          vec &= ~(uint64_t{1} << sp);
          RetireBelow(old_child[sp]);
        }
      } else if (has) {
        vec |= uint64_t{1} << sp;
        rebuild |= uint64_t{1} << sp;
        old_child[sp] = ~0u;
      }
    }

    uint32_t leafvals[64];
    size_t nleaf;
    Node nn{vec, 0, on.base_child, on.base_leaf};
    if (auto fit = vec == on.vector ? FitRuns(on.leafvec, vec, val, leafvals) : std::nullopt) {
      nn.leafvec = on.leafvec;
      nleaf = *fit;
    } else {
      nn.leafvec = LeafRuns(vec, val, leafvals, &nleaf);
    }
    // Same slot layout and children: only leaf values change, and they are
    // stored in place, which publishes the change (a lookup reads one leaf,
    // so each address sees its old or its new value; runs are shared only
    // by copies of this node, which have the same layout). Nothing after
    // this can fail. Not for a chunk root about to become a leaf record:
    // that may still fail to allocate, and must leave the table as it was.
    const bool becomes_record = kRecords && d == static_cast<unsigned>(S) && vec == 0 &&
                                nleaf + kRecordHeader <= kLargeRecord;
    if (vec == on.vector && rebuild == 0 && nn.leafvec == on.leafvec && !becomes_record) {
      uint32_t* live = &pool_.root->leaves[on.base_leaf];
      for (size_t i = 0; i < nleaf; ++i) {
        if (live[i] != leafvals[i]) __atomic_store_n(&live[i], leafvals[i], __ATOMIC_RELAXED);
      }
      return nn;
    }
    const bool same_leaves =
        nn.leafvec == on.leafvec &&
        std::equal(leafvals, leafvals + nleaf, &pool_.root->leaves[on.base_leaf]);
    if (!same_leaves) {
      nn.base_leaf = 0;
      if (nleaf) {
        auto a = AllocRun(kLeaves, nleaf);
        if (!a) return std::nullopt;
        nn.base_leaf = *a;
        std::memcpy(&pool_.root->leaves[nn.base_leaf], leafvals, nleaf * sizeof(uint32_t));
      }
      RetireRun(kLeaves, on.base_leaf, static_cast<size_t>(std::popcount(on.leafvec)));
    }
    // Children: a fresh run unless the set and every child stay.
    if (vec != on.vector || rebuild != 0) {
      nn.base_child = 0;
      if (vec) {
        auto a = AllocRun(kNodes, static_cast<size_t>(std::popcount(vec)));
        if (!a) return std::nullopt;
        nn.base_child = *a;
      }
      uint32_t j = nn.base_child;
      for (uint64_t v = vec; v; v &= v - 1, ++j) {
        unsigned s = static_cast<unsigned>(std::countr_zero(v));
        if (rebuild >> s & 1) {
          if (old_child[s] != ~0u) RetireBelow(old_child[s]);
          if (!BuildFromStore(j, ChildBase(base, d, s), d + 6, val[s])) return std::nullopt;
        } else {
          pool_.root->nodes[j] = pool_.root->nodes[old_child[s]];
          pool_.node_default[j] = pool_.node_default[old_child[s]];
        }
      }
      RetireRun(kNodes, on.base_child, static_cast<size_t>(std::popcount(on.vector)));
    }
    return nn;
  }

  // Records the store entries around the route a change adds or removes
  // (`after`: the position after it).
  void NoteNeighbours(typename Store::Pos after, std::optional<typename Traits::Packed> before) {
    neighbour_after_ = store_.AtEnd(after) ? std::nullopt : std::optional(store_.At(after));
    neighbour_before_ = before;
  }
  // Whether the range (base, d), which holds the route a change adds or
  // removes, holds another route longer than d. The entries just before and
  // after that route in the store's order decide it (inside the range, any
  // entry not at its base address is longer than d, and entries at the base
  // come first), so no search per question.
  bool RangeHoldsOthers(Key base, unsigned d) const {
    auto longer_inside = [&](const std::optional<typename Traits::Packed>& e) {
      return e && Traits::LenOf(*e) > d && InRange(Traits::AddrOf(*e), base, d);
    };
    return longer_inside(neighbour_before_) || longer_inside(neighbour_after_);
  }
  // Whether the range (base, d) holds a route longer than d after the
  // change: an insert or next-hop change, that route itself.
  bool RangeKeepsLonger(Key base, unsigned d, bool inserted) const {
    return inserted || RangeHoldsOthers(base, d);
  }

  static Key ChunkBase(size_t c) {
    return static_cast<Key>(c) << (W - S);
  }
  uint32_t DirectAt(size_t c) const {
    return pool_.root->direct[c];
  }
  void Publish(size_t c, uint32_t v) {
    __atomic_store_n(&pool_.root->direct[c], v, __ATOMIC_RELEASE);
  }

  // Propagates the (already stored) change of (pa, L) into the trie; on
  // false nothing was published.
  bool ApplyToTrie(Key pa, unsigned L, bool inserted, uint32_t nh) {
    // What p's span resolves to now: the route itself, or after a removal
    // the longest covering route (found lazily, where the search is short).
    uint32_t x = inserted ? nh + 1 : kUnknownLeaf;
    if (L <= static_cast<unsigned>(S)) {
      if (x == kUnknownLeaf) x = LongestCoveringLeaf(pa, L);
      size_t c0 = DirectIndex(pa);
      size_t cnt = size_t{1} << (S - L);
      std::vector<uint32_t> nd(cnt, x);
      for (auto p = store_.LowerBound(Traits::Pack(pa, L + 1, 0)); !store_.AtEnd(p);
           store_.Next(&p)) {
        const auto& e = store_.At(p);
        Key a = Traits::AddrOf(e);
        if (!InRange(a, pa, L)) break;
        unsigned len = Traits::LenOf(e);
        if (len > static_cast<unsigned>(S)) continue;
        size_t s = DirectIndex(a) - c0;
        std::fill(nd.begin() + static_cast<ptrdiff_t>(s),
                  nd.begin() + static_cast<ptrdiff_t>(s + (size_t{1} << (S - len))),
                  Traits::NhOf(e) + 1);
      }
      std::vector<std::pair<size_t, uint32_t>> publish;
      for (size_t i = 0; i < cnt; ++i) {
        size_t c = c0 + i;
        uint32_t e = DirectAt(c);
        if (!IsSubtree(e)) {
          if (e != nd[i]) publish.emplace_back(c, nd[i]);
          continue;
        }
        if (ChunkDefault(e) == nd[i]) continue;
        auto fresh = BuildChunkFromStore(c, nd[i]);
        if (!fresh) return false;
        RetireChunk(e);
        publish.emplace_back(c, *fresh);
      }
      for (auto [c, v] : publish) Publish(c, v);
      return true;
    }
    size_t c = DirectIndex(pa);
    uint32_t e = DirectAt(c);
    if (!IsSubtree(e)) {
      if (!RangeKeepsLonger(ChunkBase(c), S, inserted)) return true;  // cannot happen: L > S
      auto fresh = BuildChunkFromStore(c, e);
      if (!fresh) return false;
      Publish(c, *fresh);
      return true;
    }
    if (!RangeKeepsLonger(ChunkBase(c), S, inserted)) {
      RetireChunk(e);
      Publish(c, ChunkDefault(e));
      return true;
    }
    if (e & kRecordFlag) {  // a few short routes: rebuilding is as cheap as editing
      if (UpdateRecordInPlace(e & kIndexMask, ChunkBase(c), ChunkDefault(e))) return true;
      auto fresh = BuildChunkFromStore(c, ChunkDefault(e));
      if (!fresh) return false;
      RetireChunk(e);
      Publish(c, *fresh);
      return true;
    }
    // Walk down while the change lies below a child that stays: such a node
    // keeps its slots, only what is below it changes.
    const uint32_t root = e & kIndexMask;
    uint32_t parent = ~0u, cur = root;
    Key base = ChunkBase(c);
    unsigned d = S;
    for (;;) {
      const Node n = pool_.root->nodes[cur];
      unsigned sp = Bits6(pa, static_cast<int>(d));
      if (L <= d + 6 || !(n.vector >> sp & 1)) break;
      // A child left without routes longer than its depth stays, hollow
      // (its leaves answer as a leaf in its parent would): taking it out
      // would change the parent's layout and copy the parent's whole child
      // run, and the insert that refills it would copy it back; under churn
      // those copies were most of the lines a change wrote. Maintain counts
      // hollow nodes as waste and compacts them away with the free runs.
      if (route_set_changed_ && !RangeHoldsOthers(ChildBase(base, d, sp), d + 6)) {
        if (!inserted) {
          ++hollow_nodes_;
        } else if (hollow_nodes_ > 0) {
          --hollow_nodes_;
        }
      }
      parent = cur;
      cur = n.base_child + static_cast<uint32_t>(std::popcount(LowBits(n.vector, sp)));
      base = ChildBase(base, d, sp);
      d += 6;
    }
    const Node on = pool_.root->nodes[cur];
    const uint32_t def = pool_.node_default[cur];
    auto nn = RebuildNode(cur, base, d, def, pa, L, x, inserted);
    if (!nn) return false;
    const size_t runs = static_cast<size_t>(std::popcount(nn->leafvec));
    const bool to_record =
        kRecords && cur == root && nn->vector == 0 && runs + kRecordHeader <= kLargeRecord;
    // Publication, by what changed:
    // - the node keeps its slot layout: its base words are stored in place
    //   (each slot's lookup reads one of them, so every address sees the old
    //   or the new answer);
    if (!to_record && nn->vector == on.vector && nn->leafvec == on.leafvec) {
      Node* live = &pool_.root->nodes[cur];
      if (nn->base_leaf != on.base_leaf) {
        __atomic_store_n(&live->base_leaf, nn->base_leaf, __ATOMIC_RELEASE);
      }
      if (nn->base_child != on.base_child) {
        __atomic_store_n(&live->base_child, nn->base_child, __ATOMIC_RELEASE);
      }
      return true;
    }
    // - below the chunk's root: the parent's children get a fresh run with
    //   the new node, published by storing the parent's base in place;
    if (parent != ~0u) {
      const Node pn = pool_.root->nodes[parent];
      const size_t nchild = static_cast<size_t>(std::popcount(pn.vector));
      const uint32_t rank = cur - pn.base_child;
      auto run = AllocRun(kNodes, nchild);
      if (!run) return false;
      Node* nodes = pool_.root->nodes;  // after AllocRun: the pool may have moved
      std::memcpy(&nodes[*run], &nodes[pn.base_child], nchild * sizeof(Node));
      std::memcpy(&pool_.node_default[*run], &pool_.node_default[pn.base_child],
                  nchild * sizeof(uint32_t));
      nodes[*run + rank] = *nn;
      RetireRun(kNodes, pn.base_child, nchild);
      __atomic_store_n(&nodes[parent].base_child, *run, __ATOMIC_RELEASE);
      return true;
    }
    // - the chunk's root itself: a new root node (or, left childless, a leaf
    //   record), published in the direct entry.
    uint32_t fresh;
    if (to_record) {
      uint32_t leaves[64];  // copied: allocating the record may move the pool
      std::memcpy(leaves, &pool_.root->leaves[nn->base_leaf], runs * sizeof(uint32_t));
      auto rec = MakeRecord(nn->leafvec, leaves, def);
      if (!rec) return false;
      RetireRun(kLeaves, nn->base_leaf, runs);
      fresh = *rec;
    } else {
      auto slot = AllocRun(kNodes, 1);
      if (!slot) return false;
      pool_.root->nodes[*slot] = *nn;
      pool_.node_default[*slot] = def;
      fresh = *slot | kNodeFlag;
    }
    RetireRun(kNodes, root, 1);
    Publish(c, fresh);
    return true;
  }

  bool BuildAllInto() {
    std::vector<Route> routes;
    routes.reserve(store_.size());
    for (auto p = store_.LowerBound(Traits::Pack(0, 0, 0)); !store_.AtEnd(p); store_.Next(&p)) {
      const auto& e = store_.At(p);
      routes.push_back(
          Route{Traits::AddrOf(e), Traits::NhOf(e), static_cast<uint8_t>(Traits::LenOf(e))});
    }
    pool_.node_default.assign(pool_.root->node_cap, 0);
    uint32_t* direct = pool_.root->direct;
    std::fill(direct, direct + (size_t{1} << S), 0u);
    for (const Route& r : routes) {
      if (r.len > S) continue;
      size_t c = DirectIndex(r.addr);
      std::fill(direct + c, direct + c + (size_t{1} << (S - r.len)), r.nh + 1);
    }
    for (size_t i = 0; i < routes.size();) {
      if (routes[i].len <= S) {
        ++i;
        continue;
      }
      size_t c = DirectIndex(routes[i].addr);
      size_t j = i;
      while (j < routes.size() && DirectIndex(routes[j].addr) == c) ++j;
      auto entry = BuildChunk(&routes[i], j - i, ChunkBase(c), pool_.root->direct[c]);
      if (!entry) return false;
      pool_.root->direct[c] = *entry;
      i = j;
    }
    return true;
  }

  TableConfig config_;
  QsbrDomain* qsbr_;
  // The one word of this object readers load (once per lookup or burst), in
  // a line of its own: the writer's state below (free lists, limbo) changes
  // with every route change, and a shared line would cost a reader burst a
  // miss to the writer's core after each change.
  alignas(64) std::atomic<Root*> root_{nullptr};
  alignas(64) Pool pool_;
  Store store_;
  uint64_t generation_ = 0;
  std::vector<Limbo> op_allocs_;  // runs allocated by the current operation
  std::vector<Limbo> pending_;    // runs the current operation replaces
  std::vector<Limbo> limbo_;      // retired, waiting for readers
  size_t limbo_head_ = 0;
  unsigned ops_since_reclaim_ = 0;
  bool building_fresh_ = false;        // RebuildAll: pools not yet published
  std::vector<Route> scratch_routes_;  // RoutesBelow's buffer
  // The store entries just before and after the route a change added or
  // removed (see RangeHoldsOthers).
  std::optional<typename Traits::Packed> neighbour_before_, neighbour_after_;
  // Nodes left hollow by removals and not refilled since the last rebuild
  // (an overestimate: a subtree rebuilt around one drops it uncounted).
  size_t hollow_nodes_ = 0;
  bool route_set_changed_ = false;  // this change adds or removes a route (not a next-hop change)
};

}  // namespace edgefwd::lpm::internal
