#include "lpm/ipv6_table.h"

#include "lpm/table_core.h"

namespace edgefwd::lpm {
namespace {

using U128 = unsigned __int128;

U128 LoadBigEndian(const uint8_t* b) {
  uint64_t hi, lo;
  std::memcpy(&hi, b, 8);
  std::memcpy(&lo, b + 8, 8);
  return static_cast<U128>(__builtin_bswap64(hi)) << 64 | __builtin_bswap64(lo);
}

struct Ipv6Traits {
  using Key = U128;
  using Address = Ipv6Address;
  using Prefix = Ipv6Prefix;
  using Change = Ipv6RouteChange;
  static constexpr int kWidth = 128;
  static constexpr int kDirectBits = 20;

  // 20 bytes: address halves, then length << 24 | next hop.
  struct __attribute__((packed)) Packed {
    uint64_t hi;
    uint64_t lo;
    uint32_t len_nh;
  };
  static Packed Pack(Key a, unsigned len, uint32_t nh) {
    return Packed{static_cast<uint64_t>(a >> 64), static_cast<uint64_t>(a), len << 24 | nh};
  }
  static Key AddrOf(const Packed& p) { return static_cast<U128>(p.hi) << 64 | p.lo; }
  static unsigned LenOf(const Packed& p) { return p.len_nh >> 24; }
  static uint32_t NhOf(const Packed& p) { return p.len_nh & 0xFFFFFFu; }
  static void SetNh(Packed* p, uint32_t nh) { p->len_nh = (p->len_nh & 0xFF000000u) | nh; }
  static bool Less(const Packed& a, const Packed& b) {
    uint64_t ahi = a.hi, bhi = b.hi, alo = a.lo, blo = b.lo;
    if (ahi != bhi) return ahi < bhi;
    if (alo != blo) return alo < blo;
    return (a.len_nh >> 24) < (b.len_nh >> 24);
  }
  // Stored as packed: no shared bits worth a group.
  using Stored = Packed;
  static uint32_t GroupOf(const Packed&) { return 0; }
  static Stored Compress(const Packed& p) { return p; }
  static Packed Expand(const Stored& s, uint32_t) { return s; }
  static Key KeyOf(const Address& a) { return LoadBigEndian(a.data()); }
  static Address AddressOf(Key k) {
    Address out;
    uint64_t hi = __builtin_bswap64(static_cast<uint64_t>(k >> 64));
    uint64_t lo = __builtin_bswap64(static_cast<uint64_t>(k));
    std::memcpy(out.data(), &hi, 8);
    std::memcpy(out.data() + 8, &lo, 8);
    return out;
  }
};

}  // namespace

struct Ipv6Table::Impl {
  Impl(const TableConfig& config, QsbrDomain* qsbr) : core(config, qsbr) {}
  internal::TableCore<Ipv6Traits> core;
};

std::unique_ptr<Ipv6Table> Ipv6Table::Create(const TableConfig& config, QsbrDomain* qsbr) {
  auto impl = std::make_unique<Impl>(config, qsbr);
  if (!impl->core.ok()) return nullptr;
  return std::unique_ptr<Ipv6Table>(new Ipv6Table(std::move(impl)));
}

Ipv6Table::Ipv6Table(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ipv6Table::~Ipv6Table() = default;

NextHop Ipv6Table::Lookup(const Ipv6Address& addr) const {
  return impl_->core.trie().Lookup(LoadBigEndian(addr.data()));
}

void Ipv6Table::LookupBurst(const Ipv6Address* addrs, NextHop* next_hops, size_t n) const {
#ifdef EDGEFWD_LPM_AVX512
  if (n >= internal::kMinVectorBurst) {
    static_assert(sizeof(Ipv6Address) == 16);
    impl_->core.trie().LookupBurstBigEndianAvx512(addrs->data(), next_hops, n);
    return;
  }
#endif
  constexpr size_t kChunk = 64;
  U128 keys[kChunk];
  while (n > 0) {
    size_t m = n < kChunk ? n : kChunk;
    for (size_t i = 0; i < m; ++i) keys[i] = LoadBigEndian(addrs[i].data());
    impl_->core.trie().LookupBurst(keys, next_hops, m);
    addrs += m;
    next_hops += m;
    n -= m;
  }
}

LpmError Ipv6Table::Insert(Ipv6Prefix prefix, NextHop next_hop) {
  return impl_->core.Insert(prefix, next_hop);
}
LpmError Ipv6Table::Remove(Ipv6Prefix prefix) {
  return impl_->core.Remove(prefix);
}
LpmError Ipv6Table::Apply(std::span<const Ipv6RouteChange> changes) {
  return impl_->core.Apply(changes);
}

size_t Ipv6Table::route_count() const {
  return impl_->core.trie().store().size();
}
void Ipv6Table::Maintain() {
  impl_->core.Maintain();
}

size_t Ipv6Table::memory_bytes() const {
  return sizeof(*this) + sizeof(Impl) + impl_->core.trie().memory_bytes();
}
std::optional<NextHop> Ipv6Table::Find(const Ipv6Prefix& prefix) const {
  return impl_->core.Find(prefix);
}
std::optional<std::pair<Ipv6Prefix, NextHop>> Ipv6Table::Match(const Ipv6Address& addr) const {
  return impl_->core.Match(LoadBigEndian(addr.data()));
}
void Ipv6Table::ForEach(absl::FunctionRef<void(Ipv6Prefix, NextHop)> fn) const {
  impl_->core.ForEach(fn);
}

}  // namespace edgefwd::lpm
