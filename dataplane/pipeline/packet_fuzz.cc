// libFuzzer target: the packet pipeline's parsers, on frames from the wire.
//
// The input is a burst: a first byte of settings (which local addresses and
// VLANs the port has), then frames, each a length byte and that many bytes
// (the last one takes what is left). Each frame sits in its own allocation
// of exactly its length, so AddressSanitizer reports any read past it.
// Checked for every frame:
// - the full steps (ParseEthernet, then CheckIpv4 / CheckIpv6) never read
//   out of bounds, and what they forward is forwardable: headers inside the
//   frame, TTL / hop limit above 1, a valid IPv4 header checksum;
// - the burst-wide fast path (Ipv4FastBurst) passes exactly the untagged
//   frames the full steps forward, with the same destination;
// - the TTL decrement keeps a forwarded IPv4 header's checksum valid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/pipeline/ethernet.h"
#include "dataplane/pipeline/ipv4_check.h"
#include "dataplane/pipeline/ipv4_fast.h"
#include "dataplane/pipeline/ipv6_check.h"
#include "dataplane/pipeline/local_addresses.h"
#include "dataplane/pipeline/rewrite.h"

namespace {

using namespace edgefwd::dataplane;
namespace lpm = edgefwd::lpm;

void Require(bool ok) {
  if (!ok) std::abort();
}

struct Settings {
  LocalAddresses local;
  VlanSet vlans;
  bool nic_checksum_good = false;
};

Settings SettingsFrom(uint8_t b) {
  Settings s;
  if (b & 1) {
    s.local.Add(lpm::Ipv4Address{0xc0000201});  // 192.0.2.1
    s.local.Add(lpm::Ipv4Address{0x0a000001});  // 10.0.0.1
  }
  if (b & 2) {
    lpm::Ipv6Address a{};
    a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[15] = 1;  // 2001:db8::1
    s.local.Add(a);
  }
  if (b & 4) s.vlans.set(10);
  s.nic_checksum_good = b & 8;
  return s;
}

// What the full steps decide for one frame, and where its L3 header is.
struct FullVerdict {
  EthernetOutcome eth;
  EthernetInfo info;
  bool forward = false;
};

FullVerdict RunFullSteps(const uint8_t* f, uint32_t len, const Settings& s) {
  FullVerdict v;
  v.eth = ParseEthernet(f, len, s.vlans, &v.info);
  if (v.eth != EthernetOutcome::kIpv4 && v.eth != EthernetOutcome::kIpv6) return v;
  Require(v.info.l3_offset <= len);
  const uint8_t* l3 = f + v.info.l3_offset;
  const uint32_t l3_len = len - v.info.l3_offset;
  if (v.eth == EthernetOutcome::kIpv4) {
    v.forward = CheckIpv4(l3, l3_len, s.nic_checksum_good, s.local) == Ipv4Outcome::kForward;
    if (v.forward) {
      const uint32_t ihl = uint32_t(l3[0] & 0x0f) * 4;
      Require(ihl >= kIpv4MinHeaderBytes && ihl <= l3_len);
      Require(LoadBe16(l3 + 2) >= ihl && LoadBe16(l3 + 2) <= l3_len);
      Require(l3[8] > 1);
      Require(s.nic_checksum_good || OnesComplementSum(l3, ihl / 2) == 0xffff);
    }
  } else {
    v.forward = CheckIpv6(l3, l3_len, s.local) == Ipv6Outcome::kForward;
    if (v.forward) {
      Require(l3_len >= kIpv6HeaderBytes && kIpv6HeaderBytes + LoadBe16(l3 + 4) <= l3_len);
      Require(l3[7] > 1);
    }
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Settings settings = SettingsFrom(data[0]);
  std::vector<std::unique_ptr<uint8_t[]>> frames;
  std::vector<uint32_t> lengths;
  size_t pos = 1;
  while (pos < size && frames.size() < Ipv4FastBurst::kMax) {
    size_t len = data[pos++];
    if (len > size - pos || frames.size() + 1 == Ipv4FastBurst::kMax) len = size - pos;
    frames.emplace_back(new uint8_t[len == 0 ? 1 : len]);
    std::memcpy(frames.back().get(), data + pos, len);
    lengths.push_back(uint32_t(len));
    pos += len;
  }
  const uint32_t n = uint32_t(frames.size());

  Ipv4FastBurst fast;
  for (uint32_t i = 0; i < n; ++i)
    fast.Load(i, frames[i].get(), lengths[i], settings.nic_checksum_good);
  const uint32_t passed = fast.Check(n, settings.local);

  uint32_t expected_passed = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t* f = frames[i].get();
    const FullVerdict v = RunFullSteps(f, lengths[i], settings);
    const bool fast_expected = v.forward && v.eth == EthernetOutcome::kIpv4 && !v.info.tagged;
    Require(fast.Passed(i) == fast_expected);
    expected_passed += fast_expected;
    if (fast.Passed(i)) Require(fast.Destination(i) == LoadBe32(f + kEthernetHeaderBytes + 16));
    if (v.forward && v.eth == EthernetOutcome::kIpv4) {
      uint8_t* l3 = f + v.info.l3_offset;
      const uint8_t ttl = l3[8];
      const bool valid_before = OnesComplementSum(l3, (l3[0] & 0x0f) * 2) == 0xffff;
      DecrementTtl(l3);
      Require(l3[8] == ttl - 1);
      Require(!valid_before || OnesComplementSum(l3, (l3[0] & 0x0f) * 2) == 0xffff);
    }
  }
  Require(passed == expected_passed);
  return 0;
}
