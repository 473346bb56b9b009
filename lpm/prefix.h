// Address and prefix value types shared by the tables, their tools and tests.
// Text parsing lives here (not on the fast path) so every tool agrees on it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgefwd::lpm {

// IPv4 addresses are host-order uint32; IPv6 addresses are 16 network-order
// bytes, as they sit in the packet.
using Ipv4Address = uint32_t;
using Ipv6Address = std::array<uint8_t, 16>;

struct Ipv4Prefix {
  Ipv4Address addr = 0;  // host bits are zero
  uint8_t len = 0;       // 0..32
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

struct Ipv6Prefix {
  Ipv6Address addr{};  // host bits are zero
  uint8_t len = 0;     // 0..128
  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

// Parse "a.b.c.d/len" / "x:y::/len". Returns nullopt on malformed text, a
// length out of range, or host bits set (a route file with 10.0.0.1/8 is
// almost always a typo, so it is refused rather than silently masked).
std::optional<Ipv4Prefix> ParseIpv4Prefix(std::string_view text);
std::optional<Ipv6Prefix> ParseIpv6Prefix(std::string_view text);
std::optional<Ipv4Address> ParseIpv4Address(std::string_view text);
std::optional<Ipv6Address> ParseIpv6Address(std::string_view text);

std::string FormatIpv4(Ipv4Address addr);
std::string FormatIpv6(const Ipv6Address& addr);
std::string FormatPrefix(const Ipv4Prefix& p);
std::string FormatPrefix(const Ipv6Prefix& p);

}  // namespace edgefwd::lpm
