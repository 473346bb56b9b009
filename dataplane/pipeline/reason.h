// Every way a received packet can end other than "forwarded". Each one has a
// counter (per worker, summed on read) and a stable name for stats, telemetry
// and tests. Punt reasons are packets the router itself must answer; they go
// to the control thread's punt ring (and are counted here when enqueued).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgefwd::dataplane {

enum class Reason : uint8_t {
  // Ethernet
  kRunt,                  // shorter than an Ethernet (+802.1Q) header
  kUnknownVlan,           // tagged with a VLAN the port does not carry
  kUnsupportedEthertype,  // not IPv4, IPv6 or ARP (also QinQ, LLDP, ...)
  // IPv4 (RFC 1812 5.2.2 and 5.3.7)
  kIpv4Truncated,  // frame shorter than 20 bytes, the IHL or the total length
  kIpv4BadVersion,
  kIpv4BadIhl,          // IHL < 5
  kIpv4BadTotalLength,  // total length < header length
  kIpv4BadChecksum,
  kIpv4MartianSource,       // 0/8, 127/8, multicast or class E source
  kIpv4MartianDestination,  // 0/8, 127/8, class E destination
  // IPv6 (RFC 8200, RFC 4291)
  kIpv6Truncated,  // frame shorter than 40 bytes or than the payload length
  kIpv6BadVersion,
  kIpv6MartianSource,       // multicast, loopback or link-local source
  kIpv6MartianDestination,  // unspecified or loopback destination
  // Forwarding
  kNoRoute,       // no prefix matched, or the path has no usable member
  kTooBig,        // larger than the egress MTU (no fragmentation; ICMP later)
  kNoHeadroom,    // no room in front of the frame for an 802.1Q tag
  kTxFull,        // the egress queue refused it
  kPuntRingFull,  // a punt the control thread had no room for
  // Punted to the control thread
  kPuntArp,
  kPuntForUs,        // to one of the router's addresses (or IPv6 link-local)
  kPuntMulticast,    // IPv4 multicast/broadcast, IPv6 multicast (ND, MLD)
  kPuntTtlExpired,   // TTL / hop limit 0 or 1: ICMP time exceeded
  kPuntIpv4Options,  // IHL > 5: options need the slow path (see ipv4_check.h)
  kCount,
};
inline constexpr size_t kReasonCount = static_cast<size_t>(Reason::kCount);

inline constexpr bool IsPunt(Reason r) {
  return r >= Reason::kPuntArp && r < Reason::kCount;
}

inline constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "runt",
    "unknown_vlan",
    "unsupported_ethertype",
    "ipv4_truncated",
    "ipv4_bad_version",
    "ipv4_bad_ihl",
    "ipv4_bad_total_length",
    "ipv4_bad_checksum",
    "ipv4_martian_source",
    "ipv4_martian_destination",
    "ipv6_truncated",
    "ipv6_bad_version",
    "ipv6_martian_source",
    "ipv6_martian_destination",
    "no_route",
    "too_big",
    "no_headroom",
    "tx_full",
    "punt_ring_full",
    "punt_arp",
    "punt_for_us",
    "punt_multicast",
    "punt_ttl_expired",
    "punt_ipv4_options",
};

inline constexpr std::string_view ToString(Reason r) {
  return kReasonNames[static_cast<size_t>(r)];
}

}  // namespace edgefwd::dataplane
