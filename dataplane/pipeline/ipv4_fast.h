// Pipeline steps 1 + 2a for the common frame: untagged Ethernet, IPv4 without
// options. One function does every check ParseEthernet and CheckIpv4 would
// do on such a frame, on a few word loads combined with & rather than a chain
// of early returns, so the compiler interleaves the work of neighbouring
// packets and the one branch per packet is almost always taken the same way.
//
// Contract: true only if ParseEthernet says kIpv4 (untagged) and CheckIpv4
// says kForward for the same bytes. False says nothing: the caller runs the
// full steps, which name the outcome (a drop reason, a punt, or a forward of
// a tagged frame). So the fast path can skip rare cases freely but never
// forwards what the full checks would not.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/ethernet.h"
#include "dataplane/pipeline/ipv4_check.h"
#include "dataplane/pipeline/local_addresses.h"

namespace edgefwd::dataplane {

inline constexpr uint32_t kIpv4FastFrameBytes = kEthernetHeaderBytes + kIpv4MinHeaderBytes;

// True for a first octet that is neither 0/8, 127/8 nor 224/3 (multicast,
// class E, limited broadcast): the addresses RFC 1812 §5.3.7 lets a router
// forward from and (unless local) to.
inline bool UnicastFirstOctet(uint32_t octet) {
  return (octet != 0) & (octet != 127) & (octet < 224);
}

// `len`: bytes of the frame in contiguous memory (all of it: the caller
// passes 0 for a frame split over segments, which fails the length check).
inline bool Ipv4FastForward(const uint8_t* frame, uint32_t len, bool checksum_good,
                            const LocalAddresses& local) {
  if (len < kIpv4FastFrameBytes) return false;
  const uint8_t* l3 = frame + kEthernetHeaderBytes;
  uint16_t ethertype;
  uint64_t w0, w1;  // header bytes 0-7 and 8-15, native order
  uint32_t w2;      // bytes 16-19: the destination
  std::memcpy(&ethertype, frame + 12, 2);
  std::memcpy(&w0, l3, 8);
  std::memcpy(&w1, l3 + 8, 8);
  std::memcpy(&w2, l3 + 16, 4);
  // RFC 1071 sum of the 20-byte header as five 32-bit words; a correct
  // header sums to 0xffff in either byte order.
  uint64_t sum = (w0 & 0xffffffff) + (w0 >> 32) + (w1 & 0xffffffff) + (w1 >> 32) + w2;
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  const uint32_t version_ihl = uint32_t(w0 & 0xff);
  const uint32_t total_len = __builtin_bswap16(uint16_t(w0 >> 16));
  const uint32_t ttl = uint32_t(w1 & 0xff);
  const uint32_t src = __builtin_bswap32(uint32_t(w1 >> 32));
  const uint32_t dst = __builtin_bswap32(w2);
  // Bitwise over 0/1 values on purpose: no branch per condition.
  const unsigned ok =
      unsigned(ethertype == __builtin_bswap16(kEtherTypeIpv4)) & unsigned(version_ihl == 0x45) &
      (unsigned(checksum_good) | unsigned(sum == 0xffff)) &
      unsigned(total_len >= kIpv4MinHeaderBytes) &
      unsigned(total_len <= len - kEthernetHeaderBytes) & unsigned(UnicastFirstOctet(src >> 24)) &
      unsigned(UnicastFirstOctet(dst >> 24)) & unsigned(ttl > 1);
  return ok != 0 && !local.Contains(dst);
}

}  // namespace edgefwd::dataplane
