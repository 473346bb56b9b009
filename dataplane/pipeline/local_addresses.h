// The router's own addresses (from every port in the config). Packets to
// them are delivered locally (punted), never forwarded. A handful per
// router, so a linear scan beats any hash; a 64-bit filter in front of the
// IPv4 scan keeps its cost off the per-packet path (one multiply, one bit
// test) however many addresses the ports have.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "lpm/prefix.h"

namespace edgefwd::dataplane {

class LocalAddresses {
 public:
  static constexpr uint32_t kMax = 16;  // per family

  // False (and nothing added) when the family already has kMax addresses.
  bool Add(lpm::Ipv4Address a) {
    if (v4_count_ == kMax) return false;
    v4_[v4_count_++] = a;
    v4_filter_ |= uint64_t{1} << FilterBit(a);
    return true;
  }
  bool Add(const lpm::Ipv6Address& a) {
    if (v6_count_ == kMax) return false;
    v6_[v6_count_++] = a;
    return true;
  }

  bool HasIpv4() const { return v4_count_ != 0; }
  bool Contains(lpm::Ipv4Address a) const {
    if ((v4_filter_ >> FilterBit(a) & 1) == 0) [[likely]]
      return false;
    for (uint32_t i = 0; i < v4_count_; ++i)
      if (v4_[i] == a) return true;
    return false;
  }
  bool Contains(const uint8_t* a16) const {
    for (uint32_t i = 0; i < v6_count_; ++i)
      if (std::memcmp(v6_[i].data(), a16, 16) == 0) return true;
    return false;
  }

 private:
  // Multiplicative hash onto the filter's 64 bits: neighbouring addresses
  // (a port's .1 and .2) land on different bits.
  static uint32_t FilterBit(lpm::Ipv4Address a) { return (a * 0x9e3779b1u) >> 26; }

  uint32_t v4_count_ = 0;
  uint32_t v6_count_ = 0;
  uint64_t v4_filter_ = 0;                   // bit FilterBit(a) set for every address a
  std::array<lpm::Ipv4Address, kMax> v4_{};  // host order
  std::array<lpm::Ipv6Address, kMax> v6_{};
};

}  // namespace edgefwd::dataplane
