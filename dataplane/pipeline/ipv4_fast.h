// Pipeline steps 1 + 2a for the common frame: untagged Ethernet, IPv4 without
// options. One function does every check ParseEthernet and CheckIpv4 would
// do on such a frame, on four word loads and as few operations as the checks
// allow (a table for the martian first octets, one compare for EtherType and
// version/IHL, the checksum as a divisibility test), so it costs a few
// cycles per packet and the compiler interleaves neighbouring packets.
//
// Contract: true only if ParseEthernet says kIpv4 (untagged) and CheckIpv4
// says kForward for the same bytes. False says nothing: the caller runs the
// full steps, which name the outcome (a drop reason, a punt, or a forward of
// a tagged frame). So the fast path can skip rare cases freely but never
// forwards what the full checks would not.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/pipeline/ethernet.h"
#include "dataplane/pipeline/ipv4_check.h"
#include "dataplane/pipeline/local_addresses.h"

namespace edgefwd::dataplane {

inline constexpr uint32_t kIpv4FastFrameBytes = kEthernetHeaderBytes + kIpv4MinHeaderBytes;

// True for a first octet that is neither 0/8, 127/8 nor 224/3 (multicast,
// class E, limited broadcast): the addresses RFC 1812 §5.3.7 lets a router
// forward from and (unless local) to.
constexpr bool UnicastFirstOctet(uint32_t octet) {
  return octet != 0 && octet != 127 && octet < 224;
}

namespace internal {
inline constexpr std::array<uint8_t, 256> kUnicastFirstOctet = [] {
  std::array<uint8_t, 256> t{};
  for (uint32_t o = 0; o < 256; ++o) t[o] = UnicastFirstOctet(o) ? 1 : 0;
  return t;
}();
}  // namespace internal

// `len`: bytes of the frame in contiguous memory (all of it: the caller
// passes 0 for a frame split over segments, which fails the length check).
inline bool Ipv4FastForward(const uint8_t* frame, uint32_t len, bool checksum_good,
                            const LocalAddresses& local) {
  if (len < kIpv4FastFrameBytes) return false;
  const uint8_t* l3 = frame + kEthernetHeaderBytes;
  uint32_t type_version;  // EtherType, version/IHL, TOS
  uint64_t w0, w1;        // header bytes 0-7 and 8-15, native order
  uint32_t w2;            // bytes 16-19: the destination
  std::memcpy(&type_version, frame + 12, 4);
  std::memcpy(&w0, l3, 8);
  std::memcpy(&w1, l3 + 8, 8);
  std::memcpy(&w2, l3 + 16, 4);
  // EtherType 0x0800 then 0x45, as little-endian bytes 08 00 45.
  constexpr uint32_t kTypeVersion = 0x08 | 0x00 << 8 | 0x45 << 16;
  const uint32_t total_len = __builtin_bswap16(uint16_t(w0 >> 16));
  const uint32_t ttl = uint32_t(w1 & 0xff);
  const uint32_t src_top = uint32_t(w1 >> 32) & 0xff;
  const uint32_t dst_top = w2 & 0xff;
  // 0/1 values combined with & (not &&): no branch per condition.
  const unsigned ok = unsigned((type_version & 0xffffff) == kTypeVersion) &
                      (unsigned(checksum_good) | unsigned(Ipv4HeaderSumIsValid(w0, w1, w2))) &
                      // 20 <= total length <= the bytes after the Ethernet header
                      unsigned(total_len - kIpv4MinHeaderBytes <= len - kIpv4FastFrameBytes) &
                      unsigned(ttl > 1) & internal::kUnicastFirstOctet[src_top] &
                      internal::kUnicastFirstOctet[dst_top];
  return ok != 0 && !local.Contains(__builtin_bswap32(w2));
}

}  // namespace edgefwd::dataplane
