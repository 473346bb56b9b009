// Pipeline step 2b: is this IPv6 packet fit to forward? RFC 8200 §3 (header),
// RFC 4291 §2.5 (address scopes), RFC 8200 §3 hop limit.
//
// Extension headers are not walked: a router forwards them untouched (RFC
// 8200 §4: they are "not processed, inserted, or deleted by any node along a
// packet's delivery path" except Hop-by-Hop, which RFC 8200 §4.3 lets
// routers skip unless configured to process it).
#pragma once

#include <cstdint>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/pipeline/local_addresses.h"
#include "dataplane/pipeline/reason.h"

namespace edgefwd::dataplane {

inline constexpr uint32_t kIpv6HeaderBytes = 40;

enum class Ipv6Outcome : uint8_t {
  kForward,
  kTruncated,
  kBadVersion,
  kMartianSource,
  kMartianDestination,
  kForUs,      // one of our addresses, or link-local scope
  kMulticast,  // ND, MLD, ...: the router's own business
  kHopLimitExpired,
};

inline bool IsLinkLocal(const uint8_t* a) {
  return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}
inline bool IsUnspecifiedOrLoopback(const uint8_t* a) {
  for (int i = 0; i < 15; ++i)
    if (a[i] != 0) return false;
  return a[15] <= 1;
}

inline Ipv6Outcome CheckIpv6(const uint8_t* l3, uint32_t l3_len, const LocalAddresses& local) {
  if (l3_len < kIpv6HeaderBytes) return Ipv6Outcome::kTruncated;
  if ((l3[0] >> 4) != 6) return Ipv6Outcome::kBadVersion;
  // Payload Length: "Length of the IPv6 payload ... the rest of the packet
  // following this IPv6 header". More than the link delivered: truncated.
  // (Jumbograms, payload length 0 + Hop-by-Hop option, are not supported on
  // links with our MTUs; they fail the MTU check anyway.)
  uint32_t payload_len = LoadBe16(l3 + 4);
  if (kIpv6HeaderBytes + payload_len > l3_len) return Ipv6Outcome::kTruncated;
  const uint8_t* src = l3 + 8;
  const uint8_t* dst = l3 + 24;
  // RFC 4291 §2.5.2: the unspecified address "must never be forwarded" as a
  // source; §2.7: "Multicast addresses must not be used as source
  // addresses"; loopback "must never be sent outside a single node";
  // §2.5.6: "Routers must not forward any packets with Link-Local source or
  // destination addresses to other links."
  if (src[0] == 0xff || IsUnspecifiedOrLoopback(src) || IsLinkLocal(src)) {
    // A link-local source to our link-local or multicast (ND) is fine.
    if (dst[0] == 0xff) return Ipv6Outcome::kMulticast;
    if (IsLinkLocal(dst) || local.Contains(dst)) return Ipv6Outcome::kForUs;
    return Ipv6Outcome::kMartianSource;
  }
  if (dst[0] == 0xff) return Ipv6Outcome::kMulticast;
  if (IsLinkLocal(dst) || local.Contains(dst)) return Ipv6Outcome::kForUs;
  if (IsUnspecifiedOrLoopback(dst)) return Ipv6Outcome::kMartianDestination;
  // RFC 8200 §3 Hop Limit: "Decremented by 1 by each node that forwards the
  // packet. ... discarded if Hop Limit was decremented to zero" (and ICMPv6
  // Time Exceeded sent, by the control thread).
  if (l3[7] <= 1) return Ipv6Outcome::kHopLimitExpired;
  return Ipv6Outcome::kForward;
}

inline Reason ToReason(Ipv6Outcome o) {
  switch (o) {
    case Ipv6Outcome::kTruncated:
      return Reason::kIpv6Truncated;
    case Ipv6Outcome::kBadVersion:
      return Reason::kIpv6BadVersion;
    case Ipv6Outcome::kMartianSource:
      return Reason::kIpv6MartianSource;
    case Ipv6Outcome::kMartianDestination:
      return Reason::kIpv6MartianDestination;
    case Ipv6Outcome::kForUs:
      return Reason::kPuntForUs;
    case Ipv6Outcome::kMulticast:
      return Reason::kPuntMulticast;
    case Ipv6Outcome::kHopLimitExpired:
      return Reason::kPuntTtlExpired;
    case Ipv6Outcome::kForward:
      break;
  }
  return Reason::kCount;  // not a drop
}

}  // namespace edgefwd::dataplane
