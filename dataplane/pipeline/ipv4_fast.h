// Pipeline steps 1 + 2a for the common frame (untagged Ethernet, IPv4
// without options), for a whole burst at once, in two passes the compiler
// vectorizes where it can: Load copies the few header words of each frame
// into arrays (scalar: one frame per call, from wherever it is in memory);
// Check then runs every check ParseEthernet and CheckIpv4 would do on such
// a frame over those arrays, eight frames per AVX-512 operation with
// -march=native (plain scalar code with -Dcpu=generic), as bitwise & of
// conditions rather than a chain of early returns.
//
// Contract: a frame passes only if ParseEthernet says kIpv4 (untagged) and
// CheckIpv4 says kForward for the same bytes. Failing says nothing: the
// caller runs the full steps, which name the outcome (a drop reason, a punt,
// or a forward of a tagged frame). So the fast path can skip rare cases
// freely but never forwards what the full checks would not.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/ethernet.h"
#include "dataplane/pipeline/ipv4_check.h"
#include "dataplane/pipeline/local_addresses.h"

namespace edgefwd::dataplane {

inline constexpr uint32_t kIpv4FastFrameBytes = kEthernetHeaderBytes + kIpv4MinHeaderBytes;

class Ipv4FastBurst {
 public:
  static constexpr uint32_t kMax = 64;

  // Frame i of the burst: `len` contiguous bytes at `frame` (0 for a frame
  // split over segments, which fails the length check), `checksum_good` if
  // the NIC verified the header checksum. Reads nothing past `len`.
  void Load(uint32_t i, const uint8_t* frame, uint32_t len, bool checksum_good) {
    // A frame too short for the words gets a header that fails the checks
    // (EtherType 0): a select, not a branch.
    static constexpr uint8_t kTooShort[kIpv4FastFrameBytes] = {};
    const uint8_t* f = len >= kIpv4FastFrameBytes ? frame : kTooShort;
    std::memcpy(&w12_[i], f + 12, 8);
    std::memcpy(&w20_[i], f + 20, 8);
    std::memcpy(&w26_[i], f + 26, 8);
    len_[i] = len;
    checksum_good_[i] = checksum_good;
  }

  // Checks frames [0, n): Passed(i) then says whether frame i takes the
  // fast path, and Destination(i) is its IPv4 destination (host order) if
  // it does. Returns the number that passed.
  uint32_t Check(uint32_t n, const LocalAddresses& local) {
    uint32_t passed = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t a = w12_[i];  // frame bytes 12-19: EtherType, IP bytes 0-5
      const uint64_t b = w20_[i];  // IP bytes 6-13
      const uint64_t c = w26_[i];  // IP bytes 12-19
      const uint64_t len = len_[i];
      // EtherType 0x0800 then version/IHL 0x45: little-endian bytes 08 00 45.
      const uint64_t type_ok = (a & 0xffffff) == 0x450008;
      const uint64_t total_len = (a >> 40 & 0xff) | (a >> 24 & 0xff00);  // IP bytes 2-3
      const uint64_t ttl = b >> 16 & 0xff;                               // IP byte 8
      const uint64_t src_top = b >> 48 & 0xff;                           // IP byte 12
      const uint64_t dst_top = c >> 32 & 0xff;                           // IP byte 16
      // RFC 1071 sum of IP bytes 0-5 (a >> 16), 6-13 (b) and 14-19 (c >> 16)
      // as 32- and 16-bit pieces, each starting on an even byte (native
      // order: a correct header sums to 0xffff in either byte order). Below
      // 2^35, so two folds leave at most 0x10007; a third would map the part
      // above 0xffff to 1..8, never to 0xffff, so it is left out.
      uint64_t sum = (a >> 16 & 0xffffffff) + (a >> 48) + (b & 0xffffffff) + (b >> 32) +
                     (c >> 16 & 0xffffffff) + (c >> 48);
      sum = (sum & 0xffff) + (sum >> 16);
      sum = (sum & 0xffff) + (sum >> 16);
      const uint64_t sum_ok = (sum == 0xffff) | checksum_good_[i];
      // Unicast first octets: neither 0/8, 127/8 nor 224/3 (multicast, class
      // E, limited broadcast), the addresses RFC 1812 §5.3.7 lets a router
      // forward from and (unless local) to. "- 1 < 223" is 1..223.
      const uint64_t ok = type_ok & sum_ok & (len >= kIpv4FastFrameBytes) &
                          // 20 <= total length <= the bytes after the Ethernet header
                          (total_len - kIpv4MinHeaderBytes <= len - kIpv4FastFrameBytes) &
                          (ttl > 1) & (src_top - 1 < 223) & (src_top != 127) & (dst_top - 1 < 223) &
                          (dst_top != 127);
      passed_[i] = uint8_t(ok);
      passed += uint32_t(ok);
      dst_[i] = __builtin_bswap32(uint32_t(c >> 32));
    }
    if (!local.HasIpv4()) [[likely]]
      return passed;
    for (uint32_t i = 0; i < n; ++i) {
      if (passed_[i] && local.Contains(dst_[i])) {
        passed_[i] = 0;
        --passed;
      }
    }
    return passed;
  }

  bool Passed(uint32_t i) const { return passed_[i] != 0; }
  lpm::Ipv4Address Destination(uint32_t i) const { return dst_[i]; }
  // All of Destination(0..n), for a burst that passed whole.
  const lpm::Ipv4Address* destinations() const { return dst_; }

 private:
  uint64_t w12_[kMax];
  uint64_t w20_[kMax];
  uint64_t w26_[kMax];
  uint32_t len_[kMax];
  uint8_t checksum_good_[kMax];
  uint8_t passed_[kMax];
  lpm::Ipv4Address dst_[kMax];
};

}  // namespace edgefwd::dataplane
