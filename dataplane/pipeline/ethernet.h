// Pipeline step 1: Ethernet II + at most one 802.1Q tag.
#pragma once

#include <bitset>
#include <cstdint>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/pipeline/reason.h"

namespace edgefwd::dataplane {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint32_t kEthernetHeaderBytes = 14;
inline constexpr uint32_t kVlanTagBytes = 4;

enum class EthernetOutcome : uint8_t {
  kIpv4,
  kIpv6,
  kArp,                   // punt
  kRunt,                  // drop
  kUnknownVlan,           // drop
  kUnsupportedEthertype,  // drop
};

struct EthernetInfo {
  uint16_t l3_offset = 0;  // 14, or 18 behind a tag
  bool tagged = false;
};

// The VLANs a port carries (sub-interfaces). Untagged and priority-tagged
// (VID 0) frames belong to the port itself.
using VlanSet = std::bitset<4096>;

inline EthernetOutcome ParseEthernet(const uint8_t* frame, uint32_t len, const VlanSet& vlans,
                                     EthernetInfo* info) {
  if (len < kEthernetHeaderBytes) return EthernetOutcome::kRunt;
  uint16_t type = LoadBe16(frame + 12);
  info->l3_offset = kEthernetHeaderBytes;
  info->tagged = false;
  if (type == kEtherTypeVlan) {
    if (len < kEthernetHeaderBytes + kVlanTagBytes) return EthernetOutcome::kRunt;
    uint16_t vid = LoadBe16(frame + 14) & 0x0fff;
    if (vid != 0 && !vlans.test(vid)) return EthernetOutcome::kUnknownVlan;
    type = LoadBe16(frame + 16);
    info->l3_offset = kEthernetHeaderBytes + kVlanTagBytes;
    info->tagged = true;
  }
  switch (type) {
    case kEtherTypeIpv4:
      return EthernetOutcome::kIpv4;
    case kEtherTypeIpv6:
      return EthernetOutcome::kIpv6;
    case kEtherTypeArp:
      return EthernetOutcome::kArp;
    default:
      return EthernetOutcome::kUnsupportedEthertype;
  }
}

inline Reason ToReason(EthernetOutcome o) {
  switch (o) {
    case EthernetOutcome::kRunt:
      return Reason::kRunt;
    case EthernetOutcome::kUnknownVlan:
      return Reason::kUnknownVlan;
    case EthernetOutcome::kArp:
      return Reason::kPuntArp;
    default:
      return Reason::kUnsupportedEthertype;
  }
}

}  // namespace edgefwd::dataplane
