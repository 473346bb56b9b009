#include "lpm/ipv4_table.h"

#include <bit>
#include <cstring>

#include "lpm/table_core.h"

namespace edgefwd::lpm {
namespace {

struct Ipv4Traits {
  using Key = uint32_t;
  using Address = Ipv4Address;
  using Prefix = Ipv4Prefix;
  using Change = Ipv4RouteChange;
  static constexpr int kWidth = 32;
  // 2^18 direct entries (1 MiB): a /24 — most of a FIB — resolves in the
  // direct array, one node and one leaf.
  static constexpr int kDirectBits = 18;

  // address << 32 | length << 24 | next hop: integer order is prefix order.
  using Packed = uint64_t;
  static Packed Pack(Key a, unsigned len, uint32_t nh) {
    return uint64_t{a} << 32 | uint64_t{len} << 24 | nh;
  }
  static Key AddrOf(Packed p) { return static_cast<Key>(p >> 32); }
  static unsigned LenOf(Packed p) { return static_cast<unsigned>(p >> 24) & 63u; }
  static uint32_t NhOf(Packed p) { return static_cast<uint32_t>(p) & 0xFFFFFFu; }
  static void SetNh(Packed* p, uint32_t nh) { *p = (*p & ~uint64_t{0xFFFFFF}) | nh; }
  static bool Less(Packed a, Packed b) { return (a >> 24) < (b >> 24); }
  // Stored: the low 7 bytes; the store's blocks share the top byte (the
  // address's first octet), so a route costs 7 bytes, not 8.
  struct Stored {
    uint8_t b[7];
  };
  static_assert(std::endian::native == std::endian::little);
  static uint32_t GroupOf(Packed p) { return static_cast<uint32_t>(p >> 56); }
  static Stored Compress(Packed p) {
    Stored s;
    std::memcpy(s.b, &p, sizeof(s.b));
    return s;
  }
  static Packed Expand(const Stored& s, uint32_t group) {
    uint64_t v = 0;
    std::memcpy(&v, s.b, sizeof(s.b));
    return v | uint64_t{group} << 56;
  }
  static Key KeyOf(Address a) { return a; }
  static Address AddressOf(Key k) { return k; }
};

}  // namespace

struct Ipv4Table::Impl {
  Impl(const TableConfig& config, QsbrDomain* qsbr) : core(config, qsbr) {}
  internal::TableCore<Ipv4Traits> core;
};

std::unique_ptr<Ipv4Table> Ipv4Table::Create(const TableConfig& config, QsbrDomain* qsbr) {
  auto impl = std::make_unique<Impl>(config, qsbr);
  if (!impl->core.ok()) return nullptr;
  return std::unique_ptr<Ipv4Table>(new Ipv4Table(std::move(impl)));
}

Ipv4Table::Ipv4Table(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ipv4Table::~Ipv4Table() = default;

NextHop Ipv4Table::Lookup(Ipv4Address addr) const {
  return impl_->core.trie().Lookup(addr);
}

void Ipv4Table::LookupBurst(const Ipv4Address* addrs, NextHop* next_hops, size_t n) const {
  impl_->core.trie().LookupBurst(addrs, next_hops, n);
}

LpmError Ipv4Table::Insert(Ipv4Prefix prefix, NextHop next_hop) {
  return impl_->core.Insert(prefix, next_hop);
}
LpmError Ipv4Table::Remove(Ipv4Prefix prefix) {
  return impl_->core.Remove(prefix);
}
LpmError Ipv4Table::Apply(std::span<const Ipv4RouteChange> changes) {
  return impl_->core.Apply(changes);
}

size_t Ipv4Table::route_count() const {
  return impl_->core.trie().store().size();
}
void Ipv4Table::Maintain() {
  impl_->core.Maintain();
}

size_t Ipv4Table::memory_bytes() const {
  return sizeof(*this) + sizeof(Impl) + impl_->core.trie().memory_bytes();
}
std::optional<NextHop> Ipv4Table::Find(Ipv4Prefix prefix) const {
  return impl_->core.Find(prefix);
}
std::optional<std::pair<Ipv4Prefix, NextHop>> Ipv4Table::Match(Ipv4Address addr) const {
  return impl_->core.Match(addr);
}
void Ipv4Table::ForEach(absl::FunctionRef<void(Ipv4Prefix, NextHop)> fn) const {
  impl_->core.ForEach(fn);
}

}  // namespace edgefwd::lpm
