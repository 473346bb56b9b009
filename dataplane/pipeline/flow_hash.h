// Pipeline step 4a: pick a path member for the packet's flow. The NIC's RSS
// hash when it gives one (free), else a cheap hash of the addresses, protocol
// and (for unfragmented TCP/UDP/SCTP) ports, so one flow keeps one member
// and packets of a flow are not reordered.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/pipeline/ipv4_check.h"
#include "dataplane/pipeline/ipv6_check.h"

namespace edgefwd::dataplane {

inline uint32_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return uint32_t(x);
}

inline bool HasPorts(uint8_t proto) {
  return proto == 6 || proto == 17 || proto == 132;
}

// `l3` is a header CheckIpv4 accepted (IHL == 5 on the forwarding path).
inline uint32_t FlowHashIpv4(const uint8_t* l3, uint32_t l3_len) {
  uint64_t addrs;
  std::memcpy(&addrs, l3 + 12, 8);  // source and destination
  uint8_t proto = l3[9];
  uint32_t header_len = uint32_t(l3[0] & 0x0f) * 4;
  bool fragment = (LoadBe16(l3 + 6) & 0x3fff) != 0;  // MF or offset
  uint32_t ports = 0;
  if (HasPorts(proto) && !fragment && l3_len >= header_len + 4)
    std::memcpy(&ports, l3 + header_len, 4);
  return Mix(addrs ^ (uint64_t(ports) << 8 | proto) * 0x9e3779b97f4a7c15ull);
}

inline uint32_t FlowHashIpv6(const uint8_t* l3, uint32_t l3_len) {
  uint64_t w[4];
  std::memcpy(w, l3 + 8, 32);  // source and destination
  uint8_t next = l3[6];
  uint32_t ports = 0;
  if (HasPorts(next) && l3_len >= kIpv6HeaderBytes + 4)
    std::memcpy(&ports, l3 + kIpv6HeaderBytes, 4);
  uint64_t flow_label = LoadBe32(l3) & 0xfffff;
  return Mix((w[0] ^ w[1]) * 0x9e3779b97f4a7c15ull ^ (w[2] ^ w[3]) ^
             ((uint64_t(ports) << 28 | flow_label << 8 | next) * 0xc2b2ae3d27d4eb4full));
}

// member = members[hash * count >> 32]: a multiply instead of a division.
inline uint32_t PickMember(uint32_t hash, uint32_t count) {
  return uint32_t((uint64_t(hash) * count) >> 32);
}

}  // namespace edgefwd::dataplane
