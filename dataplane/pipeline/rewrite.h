// Pipeline step 5: rewrite a packet for its next hop: TTL / hop limit minus
// one (IPv4 checksum updated incrementally, RFC 1624) and the Ethernet
// header for the adjacency (MACs, 802.1Q tag added, changed or removed).
// Byte-level so it is testable without DPDK; the caller moves the frame
// start by +-4 bytes (rte_pktmbuf_prepend / adj) when the tag changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/pipeline/ethernet.h"
#include "dataplane/state/forwarding_state.h"

namespace edgefwd::dataplane {

enum class TagChange : int8_t { kRemove = -1, kKeep = 0, kAdd = 1 };

// How the frame start moves: kAdd needs 4 bytes of headroom in front,
// kRemove drops the first 4 bytes. In both cases the bytes from the
// EtherType of the payload onwards stay where they are.
inline TagChange TagChangeFor(bool tagged_in, uint16_t vlan_out) {
  if (tagged_in == (vlan_out != 0)) return TagChange::kKeep;
  return vlan_out != 0 ? TagChange::kAdd : TagChange::kRemove;
}

// `frame` is the (possibly moved) frame start. Writes MACs and, for a tagged
// egress, the 802.1Q tag. A kept tag keeps its priority bits.
inline void WriteEthernet(uint8_t* frame, const Adjacency& adj, TagChange change) {
  // Both MACs in one 12-byte copy (two moves instead of four).
  static_assert(offsetof(Adjacency, dst_mac) == 0 && offsetof(Adjacency, src_mac) == 6);
  std::memcpy(frame, &adj, 12);
  if (adj.vlan == 0) return;
  uint16_t pcp = change == TagChange::kKeep ? (LoadBe16(frame + 14) & 0xf000) : 0;
  StoreBe16(frame + 12, kEtherTypeVlan);
  StoreBe16(frame + 14, pcp | adj.vlan);
}

// RFC 1812 §5.3.1 "the router MUST decrement the TTL by one"; the checksum is
// patched for the changed 16-bit word (TTL, protocol), RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m'). With TTL >= 1 (the checks guarantee >= 2), m' is
// m - 0x0100 with no borrow, so ~m + m' is the constant 0xfeff and the old
// word need not be read back: reading it after the byte store would stall
// on store-to-load forwarding.
inline void DecrementTtl(uint8_t* ipv4) {
  ipv4[8] -= 1;
  uint32_t sum = uint32_t(uint16_t(~LoadBe16(ipv4 + 10))) + 0xfeff;
  sum = (sum & 0xffff) + (sum >> 16);
  StoreBe16(ipv4 + 10, uint16_t(~sum));
}

inline void DecrementHopLimit(uint8_t* ipv6) {
  ipv6[7] -= 1;
}

}  // namespace edgefwd::dataplane
