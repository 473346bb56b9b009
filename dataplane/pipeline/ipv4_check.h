// Pipeline step 2a: is this IPv4 packet fit to forward? RFC 1812 §5.2.2
// (header validation), §5.3.7 (martian addresses), §5.3.1 (TTL).
//
// IPv4 options (IHL > 5) are punted, not forwarded: RFC 1812 §5.3.13 has a
// router act on Record Route, Timestamp and Source Route options (insert its
// own address, follow the source route), which the fast path does not do.
// Forwarding them untouched would quietly break those options, and dropping
// them would break Router Alert; the control thread (later the kernel via the
// exception path) handles them. They are rare on today's Internet.
//
// Fragments are forwarded like any packet: a router does not reassemble.
#pragma once

#include <cstdint>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/pipeline/local_addresses.h"
#include "dataplane/pipeline/reason.h"

namespace edgefwd::dataplane {

inline constexpr uint32_t kIpv4MinHeaderBytes = 20;

enum class Ipv4Outcome : uint8_t {
  kForward,
  kTruncated,
  kBadVersion,
  kBadIhl,
  kBadTotalLength,
  kBadChecksum,
  kMartianSource,
  kMartianDestination,
  kForUs,
  kMulticast,  // multicast or limited broadcast: not forwarded, punted
  kOptions,
  kTtlExpired,
};

// `l3` points at the IPv4 header, `l3_len` bytes of the frame follow it.
// `checksum_good`: the NIC verified the header checksum.
inline Ipv4Outcome CheckIpv4(const uint8_t* l3, uint32_t l3_len, bool checksum_good,
                             const LocalAddresses& local) {
  // (1) "The packet length reported by the Link Layer must be large enough to
  // hold the minimum length legal IP datagram (20 bytes)."
  if (l3_len < kIpv4MinHeaderBytes) return Ipv4Outcome::kTruncated;
  // (3) "The IP version number must be 4."
  if ((l3[0] >> 4) != 4) return Ipv4Outcome::kBadVersion;
  // (4) "The IP header length field must be large enough to hold the minimum
  // length legal IP datagram (20 bytes = 5 words)."
  uint32_t header_len = uint32_t(l3[0] & 0x0f) * 4;
  if (header_len < kIpv4MinHeaderBytes) return Ipv4Outcome::kBadIhl;
  if (l3_len < header_len) return Ipv4Outcome::kTruncated;
  // (2) "The IP checksum must be correct." (Checked once the header length is
  // known to be sane, so the sum never reads past the frame.)
  // Without options (nearly every packet) the sum is over a constant 10
  // words, which the compiler unrolls.
  if (!checksum_good) {
    uint16_t sum = header_len == kIpv4MinHeaderBytes
                       ? OnesComplementSum(l3, kIpv4MinHeaderBytes / 2)
                       : OnesComplementSum(l3, header_len / 2);
    if (sum != 0xffff) return Ipv4Outcome::kBadChecksum;
  }
  // (5) "The IP total length field must be large enough to hold the IP
  // datagram header, whose length is specified in the IP header length field."
  uint32_t total_len = LoadBe16(l3 + 2);
  if (total_len < header_len) return Ipv4Outcome::kBadTotalLength;
  // ... and no larger than what the link delivered.
  if (total_len > l3_len) return Ipv4Outcome::kTruncated;

  uint32_t src = LoadBe32(l3 + 12);
  uint32_t dst = LoadBe32(l3 + 16);
  // §5.3.7: "A router SHOULD NOT forward any packet that has an invalid IP
  // source address or a source address on network 0", nor from 127/8,
  // multicast or class E sources.
  uint8_t src_top = src >> 24;
  if (src_top == 0 || src_top == 127 || src_top >= 224) return Ipv4Outcome::kMartianSource;
  // Local delivery comes before the TTL check: §5.3.1 has the TTL checked
  // only on packets being forwarded.
  if (local.Contains(dst)) return Ipv4Outcome::kForUs;
  uint8_t dst_top = dst >> 24;
  // Multicast (224/4) and limited broadcast are not routed here.
  if ((dst_top & 0xf0) == 0xe0 || dst == 0xffffffff) return Ipv4Outcome::kMulticast;
  // §5.3.7: "127.x.x.x ... MUST NOT be forwarded"; 0/8 and class E neither.
  if (dst_top == 0 || dst_top == 127 || dst_top >= 240) return Ipv4Outcome::kMartianDestination;
  if (header_len > kIpv4MinHeaderBytes) return Ipv4Outcome::kOptions;
  // §5.3.1: a packet whose TTL would reach zero is discarded and answered
  // with ICMP Time Exceeded (by the control thread).
  if (l3[8] <= 1) return Ipv4Outcome::kTtlExpired;
  return Ipv4Outcome::kForward;
}

inline Reason ToReason(Ipv4Outcome o) {
  switch (o) {
    case Ipv4Outcome::kTruncated:
      return Reason::kIpv4Truncated;
    case Ipv4Outcome::kBadVersion:
      return Reason::kIpv4BadVersion;
    case Ipv4Outcome::kBadIhl:
      return Reason::kIpv4BadIhl;
    case Ipv4Outcome::kBadTotalLength:
      return Reason::kIpv4BadTotalLength;
    case Ipv4Outcome::kBadChecksum:
      return Reason::kIpv4BadChecksum;
    case Ipv4Outcome::kMartianSource:
      return Reason::kIpv4MartianSource;
    case Ipv4Outcome::kMartianDestination:
      return Reason::kIpv4MartianDestination;
    case Ipv4Outcome::kForUs:
      return Reason::kPuntForUs;
    case Ipv4Outcome::kMulticast:
      return Reason::kPuntMulticast;
    case Ipv4Outcome::kOptions:
      return Reason::kPuntIpv4Options;
    case Ipv4Outcome::kTtlExpired:
      return Reason::kPuntTtlExpired;
    case Ipv4Outcome::kForward:
      break;
  }
  return Reason::kCount;  // not a drop
}

}  // namespace edgefwd::dataplane
