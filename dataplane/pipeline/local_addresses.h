// The router's own addresses (from every port in the config). Packets to
// them are delivered locally (punted), never forwarded. A handful per
// router, so a linear scan beats any hash.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "lpm/prefix.h"

namespace edgefwd::dataplane {

struct LocalAddresses {
  static constexpr uint32_t kMax = 16;  // per family
  uint32_t v4_count = 0;
  uint32_t v6_count = 0;
  std::array<lpm::Ipv4Address, kMax> v4{};  // host order
  std::array<lpm::Ipv6Address, kMax> v6{};

  bool Contains(lpm::Ipv4Address a) const {
    for (uint32_t i = 0; i < v4_count; ++i)
      if (v4[i] == a) return true;
    return false;
  }
  bool Contains(const uint8_t* a16) const {
    for (uint32_t i = 0; i < v6_count; ++i)
      if (std::memcmp(v6[i].data(), a16, 16) == 0) return true;
    return false;
  }
};

}  // namespace edgefwd::dataplane
