// Unaligned big-endian loads and stores on packet bytes (frames may start at
// any offset, e.g. after an 802.1Q tag), plus the Internet checksum.
#pragma once

#include <cstdint>
#include <cstring>

namespace edgefwd::dataplane {

inline uint16_t LoadBe16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t LoadBe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

// RFC 1071 one's-complement sum of `words` 16-bit words, folded to 16 bits.
// Sums 32-bit native-order words in a 64-bit accumulator (RFC 1071 §2(B):
// the sum is byte-order independent) and swaps once at the end.
inline uint16_t OnesComplementSum(const uint8_t* p, uint32_t words) {
  uint64_t sum = 0;
  uint32_t i = 0;
  for (; i + 2 <= words; i += 2) {
    uint32_t w;
    std::memcpy(&w, p + 2 * i, 4);
    sum += w;
  }
  if (i < words) {
    uint16_t w;
    std::memcpy(&w, p + 2 * i, 2);
    sum += w;
  }
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return __builtin_bswap16(uint16_t(sum));
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit field changing from
// m to m'. Unlike RFC 1141's form it never yields 0x0000 for a non-zero sum.
inline uint16_t IncrementalChecksum(uint16_t hc, uint16_t m, uint16_t m_new) {
  uint32_t sum = uint32_t(uint16_t(~hc)) + uint16_t(~m) + m_new;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

}  // namespace edgefwd::dataplane
