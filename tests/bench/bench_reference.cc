#include "tests/bench/bench_reference.h"

#include <algorithm>

namespace edgefwd::bench {
namespace {

uint32_t Mask4(int len) {
  return len == 0 ? 0 : ~uint32_t{0} << (32 - len);
}

template <typename R>
std::vector<uint8_t> LengthsPresent(const std::vector<R>& routes) {
  std::vector<uint8_t> lengths;
  for (const auto& r : routes) lengths.push_back(r.prefix.len);
  std::sort(lengths.begin(), lengths.end(), std::greater<>());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  return lengths;
}

}  // namespace

ReferenceLpm4::ReferenceLpm4(const std::vector<Route4>& routes) : lengths_(LengthsPresent(routes)) {
  for (const auto& r : routes) routes_[(uint64_t{r.prefix.addr} << 8) | r.prefix.len] = r.next_hop;
}

int ReferenceLpm4::MatchLength(lpm::Ipv4Address addr) const {
  for (uint8_t len : lengths_) {
    if (routes_.contains((uint64_t{addr & Mask4(len)} << 8) | len)) return len;
  }
  return -1;
}

lpm::NextHop ReferenceLpm4::Lookup(lpm::Ipv4Address addr) const {
  int len = MatchLength(addr);
  if (len < 0) return lpm::kNoRoute;
  return routes_.at((uint64_t{addr & Mask4(len)} << 8) | static_cast<uint64_t>(len));
}

ReferenceLpm6::Key ReferenceLpm6::MakeKey(const lpm::Ipv6Address& addr, uint8_t len) {
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | addr[i];
  for (int i = 8; i < 16; ++i) lo = (lo << 8) | addr[i];
  if (len <= 64) {
    lo = 0;
    hi = len == 0 ? 0 : hi & (~uint64_t{0} << (64 - len));
  } else if (len < 128) {
    lo &= ~uint64_t{0} << (128 - len);
  }
  return Key{hi, lo, len};
}

ReferenceLpm6::ReferenceLpm6(const std::vector<Route6>& routes) : lengths_(LengthsPresent(routes)) {
  for (const auto& r : routes) routes_[MakeKey(r.prefix.addr, r.prefix.len)] = r.next_hop;
}

int ReferenceLpm6::MatchLength(const lpm::Ipv6Address& addr) const {
  for (uint8_t len : lengths_) {
    if (routes_.contains(MakeKey(addr, len))) return len;
  }
  return -1;
}

lpm::NextHop ReferenceLpm6::Lookup(const lpm::Ipv6Address& addr) const {
  int len = MatchLength(addr);
  if (len < 0) return lpm::kNoRoute;
  return routes_.at(MakeKey(addr, static_cast<uint8_t>(len)));
}

}  // namespace edgefwd::bench
