#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "dataplane/pipeline/ethernet.h"
#include "dataplane/pipeline/flow_hash.h"
#include "dataplane/pipeline/ipv4_check.h"
#include "dataplane/pipeline/ipv4_fast.h"
#include "dataplane/pipeline/ipv6_check.h"
#include "dataplane/pipeline/rewrite.h"

namespace edgefwd::dataplane {
namespace {

// A valid IPv4 header (no options) + 8 bytes of UDP, checksum filled in.
std::vector<uint8_t> Ipv4Packet(uint32_t src = 0x0a000001, uint32_t dst = 0xc6336401,
                                uint8_t ttl = 64, uint8_t ihl = 5) {
  std::vector<uint8_t> p(ihl * 4 + 8, 0);
  p[0] = 0x40 | ihl;
  StoreBe16(&p[2], uint16_t(p.size()));
  p[8] = ttl;
  p[9] = 17;
  for (int i = 0; i < 4; ++i) p[12 + i] = uint8_t(src >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[16 + i] = uint8_t(dst >> (24 - 8 * i));
  StoreBe16(&p[10], uint16_t(~OnesComplementSum(p.data(), ihl * 2)));
  return p;
}

void Refresh(std::vector<uint8_t>& p) {
  uint32_t ihl = p[0] & 0x0f;
  StoreBe16(&p[10], 0);
  StoreBe16(&p[10], uint16_t(~OnesComplementSum(p.data(), ihl * 2)));
}

Ipv4Outcome Check4(const std::vector<uint8_t>& p, const LocalAddresses& local = {}) {
  return CheckIpv4(p.data(), uint32_t(p.size()), false, local);
}

TEST(EthernetTest, Outcomes) {
  VlanSet vlans;
  vlans.set(100);
  EthernetInfo info;
  uint8_t f[64] = {};
  EXPECT_EQ(ParseEthernet(f, 13, vlans, &info), EthernetOutcome::kRunt);
  StoreBe16(f + 12, kEtherTypeIpv4);
  EXPECT_EQ(ParseEthernet(f, 60, vlans, &info), EthernetOutcome::kIpv4);
  EXPECT_EQ(info.l3_offset, 14);
  EXPECT_FALSE(info.tagged);
  StoreBe16(f + 12, kEtherTypeArp);
  EXPECT_EQ(ParseEthernet(f, 60, vlans, &info), EthernetOutcome::kArp);
  StoreBe16(f + 12, 0x88cc);  // LLDP
  EXPECT_EQ(ParseEthernet(f, 60, vlans, &info), EthernetOutcome::kUnsupportedEthertype);
  StoreBe16(f + 12, kEtherTypeVlan);
  StoreBe16(f + 14, 100);
  StoreBe16(f + 16, kEtherTypeIpv6);
  EXPECT_EQ(ParseEthernet(f, 17, vlans, &info), EthernetOutcome::kRunt);
  EXPECT_EQ(ParseEthernet(f, 60, vlans, &info), EthernetOutcome::kIpv6);
  EXPECT_EQ(info.l3_offset, 18);
  EXPECT_TRUE(info.tagged);
  StoreBe16(f + 14, 0x2000 | 101);  // priority bits do not matter
  EXPECT_EQ(ParseEthernet(f, 60, vlans, &info), EthernetOutcome::kUnknownVlan);
  StoreBe16(f + 14, 0x2000);  // priority-tagged: the port itself
  EXPECT_EQ(ParseEthernet(f, 60, vlans, &info), EthernetOutcome::kIpv6);
}

TEST(Ipv4CheckTest, ValidPacketForwards) {
  EXPECT_EQ(Check4(Ipv4Packet()), Ipv4Outcome::kForward);
}

TEST(Ipv4CheckTest, Rfc1812HeaderChecks) {
  auto p = Ipv4Packet();
  EXPECT_EQ(CheckIpv4(p.data(), 19, false, {}), Ipv4Outcome::kTruncated);
  auto v = p;
  v[0] = 0x65;
  Refresh(v);
  EXPECT_EQ(Check4(v), Ipv4Outcome::kBadVersion);
  auto ihl = p;
  ihl[0] = 0x44;
  EXPECT_EQ(Check4(ihl), Ipv4Outcome::kBadIhl);
  auto sum = p;
  sum[10] ^= 1;
  EXPECT_EQ(Check4(sum), Ipv4Outcome::kBadChecksum);
  EXPECT_EQ(CheckIpv4(sum.data(), uint32_t(sum.size()), true, {}), Ipv4Outcome::kForward)
      << "a NIC-verified checksum is not checked again";
  auto tl = p;
  StoreBe16(&tl[2], 19);
  Refresh(tl);
  EXPECT_EQ(Check4(tl), Ipv4Outcome::kBadTotalLength);
  auto longer = p;
  StoreBe16(&longer[2], uint16_t(p.size() + 1));
  Refresh(longer);
  EXPECT_EQ(Check4(longer), Ipv4Outcome::kTruncated);
  auto opts = Ipv4Packet(0x0a000001, 0xc6336401, 64, 6);
  EXPECT_EQ(CheckIpv4(opts.data(), 22, false, {}), Ipv4Outcome::kTruncated);  // IHL beyond frame
  EXPECT_EQ(Check4(opts), Ipv4Outcome::kOptions);
}

TEST(Ipv4CheckTest, AddressesAndTtl) {
  LocalAddresses local;
  local.Add(0xc0000201);
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0xc0000201, 1), local), Ipv4Outcome::kForUs)
      << "local delivery comes before the TTL check";
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0x08080808, 1)), Ipv4Outcome::kTtlExpired);
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0x08080808, 0)), Ipv4Outcome::kTtlExpired);
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0x08080808, 2)), Ipv4Outcome::kForward);
  EXPECT_EQ(Check4(Ipv4Packet(0x7f000001, 0x08080808)), Ipv4Outcome::kMartianSource);
  EXPECT_EQ(Check4(Ipv4Packet(0xe0000001, 0x08080808)), Ipv4Outcome::kMartianSource);
  EXPECT_EQ(Check4(Ipv4Packet(0x00000001, 0x08080808)), Ipv4Outcome::kMartianSource);
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0x7f000001)), Ipv4Outcome::kMartianDestination);
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0xf0000001)), Ipv4Outcome::kMartianDestination);
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0xe0000005)), Ipv4Outcome::kMulticast);
  EXPECT_EQ(Check4(Ipv4Packet(0x0a000001, 0xffffffff)), Ipv4Outcome::kMulticast);
}

std::vector<uint8_t> Ipv6Packet(uint8_t hop_limit = 64) {
  std::vector<uint8_t> p(48, 0);
  p[0] = 0x60;
  StoreBe16(&p[4], 8);
  p[6] = 17;
  p[7] = hop_limit;
  p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;    // 2001:db8::1
  p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb9, p[39] = 2;  // 2001:db9::2
  return p;
}

Ipv6Outcome Check6(const std::vector<uint8_t>& p, const LocalAddresses& local = {}) {
  return CheckIpv6(p.data(), uint32_t(p.size()), local);
}

TEST(Ipv6CheckTest, Outcomes) {
  EXPECT_EQ(Check6(Ipv6Packet()), Ipv6Outcome::kForward);
  EXPECT_EQ(CheckIpv6(Ipv6Packet().data(), 39, {}), Ipv6Outcome::kTruncated);
  EXPECT_EQ(CheckIpv6(Ipv6Packet().data(), 47, {}), Ipv6Outcome::kTruncated);  // payload length
  auto v = Ipv6Packet();
  v[0] = 0x40;
  EXPECT_EQ(Check6(v), Ipv6Outcome::kBadVersion);
  EXPECT_EQ(Check6(Ipv6Packet(1)), Ipv6Outcome::kHopLimitExpired);
  EXPECT_EQ(Check6(Ipv6Packet(0)), Ipv6Outcome::kHopLimitExpired);
  auto mc = Ipv6Packet();
  mc[24] = 0xff;
  EXPECT_EQ(Check6(mc), Ipv6Outcome::kMulticast);
  auto ll = Ipv6Packet();
  ll[24] = 0xfe, ll[25] = 0x80;
  EXPECT_EQ(Check6(ll), Ipv6Outcome::kForUs);
  auto llsrc = Ipv6Packet();
  llsrc[8] = 0xfe, llsrc[9] = 0x80;
  EXPECT_EQ(Check6(llsrc), Ipv6Outcome::kMartianSource);
  auto unspec = Ipv6Packet();
  std::fill(unspec.begin() + 8, unspec.begin() + 24, 0);
  EXPECT_EQ(Check6(unspec), Ipv6Outcome::kMartianSource);
  auto loop = Ipv6Packet();
  std::fill(loop.begin() + 24, loop.begin() + 40, 0);
  loop[39] = 1;
  EXPECT_EQ(Check6(loop), Ipv6Outcome::kMartianDestination);
  LocalAddresses local;
  auto ours = Ipv6Packet(1);
  lpm::Ipv6Address ours_address;
  std::copy(ours.begin() + 24, ours.begin() + 40, ours_address.begin());
  local.Add(ours_address);
  EXPECT_EQ(Check6(ours, local), Ipv6Outcome::kForUs);
}

// A valid untagged IPv4 frame with random bits flipped (Ethernet type, every
// header field), options, martian addresses, low TTLs, padding, a checksum
// sometimes fixed up after the flips (so later checks are reached), and
// sometimes to `local`. `*len` is the frame length the receiver reports:
// usually the whole vector, sometimes shorter.
std::vector<uint8_t> MutatedFrame(std::mt19937& rng, int i, uint32_t local, uint32_t* len) {
  uint32_t src = rng(), dst = rng();
  if (i % 7 == 0) dst = local;
  auto ip = Ipv4Packet(src, dst, uint8_t(rng() % 4 == 0 ? rng() % 3 : 2 + rng() % 250),
                       i % 50 == 0 ? 6 : 5);
  std::vector<uint8_t> frame(14 + ip.size() + rng() % 8, 0);  // + Ethernet padding
  StoreBe16(&frame[12], kEtherTypeIpv4);
  std::copy(ip.begin(), ip.end(), frame.begin() + 14);
  int mutations = rng() % 3;
  for (int k = 0; k < mutations; ++k) frame[12 + rng() % 22] ^= uint8_t(1u << (rng() % 8));
  if (mutations != 0 && rng() % 2 == 0) {
    std::vector<uint8_t> hdr(frame.begin() + 14, frame.begin() + 34);
    StoreBe16(&hdr[10], 0);
    StoreBe16(&hdr[10], uint16_t(~OnesComplementSum(hdr.data(), 10)));
    std::copy(hdr.begin() + 10, hdr.begin() + 12, frame.begin() + 24);
  }
  *len = uint32_t(frame.size()) - (rng() % 10 == 0 ? rng() % frame.size() : 0);
  return frame;
}

// The fast path against the full steps on bursts of every size of mutated
// frames, with and without local addresses: it never passes what the full
// checks would not forward, and (it covers the whole untagged no-options
// case) passes every untagged frame they forward. Each frame is its own
// allocation of exactly the reported length, so reading past it fails under
// AddressSanitizer.
TEST(Ipv4FastTest, PassesExactlyWhatTheFullChecksForwardUntagged) {
  std::mt19937 rng(5);
  VlanSet vlans;
  vlans.set(10);
  LocalAddresses none, some;
  some.Add(0xc0000201);  // 192.0.2.1
  some.Add(0xc0000202);
  Ipv4FastBurst burst;
  int passed_total = 0, full_forward = 0, whole_bursts = 0;
  for (int round = 0; round < 8000; ++round) {
    const LocalAddresses& local = round % 3 == 0 ? some : none;
    const uint32_t n = 1 + rng() % Ipv4FastBurst::kMax;
    // Every other burst is mostly clean frames, as in real traffic, so
    // whole bursts pass too.
    const bool mostly_clean = round % 2 == 0;
    std::vector<std::vector<uint8_t>> frames(n);
    std::vector<bool> nic_good(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t len;
      std::vector<uint8_t> f =
          MutatedFrame(rng, mostly_clean ? 1 : int(rng() % 1000), 0xc0000201, &len);
      if (mostly_clean && rng() % 8 != 0) {  // the same frame, unmutated
        auto ip = Ipv4Packet(0x0a000001, 0xc6336400 | (rng() & 0xff));
        f.assign(14 + ip.size() + rng() % 8, 0);  // + Ethernet padding
        StoreBe16(&f[12], kEtherTypeIpv4);
        std::copy(ip.begin(), ip.end(), f.begin() + 14);
        len = uint32_t(f.size());
      }
      frames[i].assign(f.begin(), f.begin() + len);
      nic_good[i] = rng() % 10 == 0;
      burst.Load(i, frames[i].data(), len, nic_good[i]);
    }
    const uint32_t passed = burst.Check(n, local);
    uint32_t expected_passed = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const std::vector<uint8_t>& f = frames[i];
      const uint32_t len = uint32_t(f.size());
      EthernetInfo eth;
      const bool full = ParseEthernet(f.data(), len, vlans, &eth) == EthernetOutcome::kIpv4 &&
                        CheckIpv4(f.data() + eth.l3_offset, len - eth.l3_offset, nic_good[i],
                                  local) == Ipv4Outcome::kForward;
      ASSERT_EQ(burst.Passed(i), full && !eth.tagged) << "round " << round << " frame " << i;
      if (burst.Passed(i)) {
        ASSERT_EQ(burst.Destination(i), LoadBe32(f.data() + 30));
        ASSERT_EQ(burst.destinations()[i], burst.Destination(i));
      }
      expected_passed += burst.Passed(i);
      full_forward += full;
    }
    ASSERT_EQ(passed, expected_passed) << "round " << round;
    passed_total += passed;
    whole_bursts += passed == n;
  }
  EXPECT_GT(passed_total, 50000);
  EXPECT_GT(full_forward, 50000);
  EXPECT_GT(whole_bursts, 200);
}

// The burst's checksum test against the RFC 1071 fold on headers whose free
// bytes (TOS, ID, fragment field, protocol, the low address bytes, the
// checksum) are random, so the sums cover the whole range incl. every carry;
// the fields the other checks read are held valid.
TEST(Ipv4FastTest, ChecksumEqualsTheFoldOnRandomHeaders) {
  std::mt19937 rng(21);
  LocalAddresses none;
  Ipv4FastBurst burst;
  std::vector<std::vector<uint8_t>> frames(Ipv4FastBurst::kMax);
  int good = 0, bad = 0;
  for (int round = 0; round < 4000; ++round) {
    for (uint32_t i = 0; i < Ipv4FastBurst::kMax; ++i) {
      std::vector<uint8_t>& f = frames[i];
      f.assign(14 + 20, 0);
      for (auto& b : f) b = uint8_t(rng() | (round % 2 == 0 ? 0xf0 : 0));  // high bytes: big sums
      StoreBe16(&f[12], kEtherTypeIpv4);
      uint8_t* ip = &f[14];
      ip[0] = 0x45;
      StoreBe16(ip + 2, 20);
      ip[8] = uint8_t(2 + rng() % 254);
      ip[12] = 10;
      ip[16] = 198;
      if (rng() % 2 == 0) {
        StoreBe16(ip + 10, 0);
        StoreBe16(ip + 10, uint16_t(~OnesComplementSum(ip, 10)));
      }
      burst.Load(i, f.data(), uint32_t(f.size()), false);
    }
    burst.Check(Ipv4FastBurst::kMax, none);
    for (uint32_t i = 0; i < Ipv4FastBurst::kMax; ++i) {
      const bool fold_ok = OnesComplementSum(frames[i].data() + 14, 10) == 0xffff;
      ASSERT_EQ(burst.Passed(i), fold_ok) << "round " << round << " frame " << i;
      (fold_ok ? good : bad) += 1;
    }
  }
  EXPECT_GT(good, 100000);
  EXPECT_GT(bad, 100000);
}

TEST(Ipv4FastTest, TakesTheOrdinaryPacket) {
  auto ip = Ipv4Packet();
  std::vector<uint8_t> frame(14 + ip.size(), 0);
  StoreBe16(&frame[12], kEtherTypeIpv4);
  std::copy(ip.begin(), ip.end(), frame.begin() + 14);
  const uint32_t len = uint32_t(frame.size());
  LocalAddresses none, ours;
  ours.Add(0xc6336401);  // Ipv4Packet's destination
  Ipv4FastBurst burst;
  burst.Load(0, frame.data(), len, false);
  burst.Load(1, frame.data(), 33, false);  // one byte short of a header
  burst.Load(2, frame.data(), 0, false);   // split over segments
  EXPECT_EQ(burst.Check(3, none), 1u);
  EXPECT_TRUE(burst.Passed(0));
  EXPECT_EQ(burst.Destination(0), 0xc6336401u);
  EXPECT_FALSE(burst.Passed(1));
  EXPECT_FALSE(burst.Passed(2));
  EXPECT_EQ(burst.Check(1, ours), 0u);
  EXPECT_FALSE(burst.Passed(0));
  frame[24] ^= 1;  // checksum wrong: only a NIC that verified it lets it pass
  burst.Load(0, frame.data(), len, false);
  burst.Load(1, frame.data(), len, true);
  EXPECT_EQ(burst.Check(2, none), 1u);
  EXPECT_FALSE(burst.Passed(0));
  EXPECT_TRUE(burst.Passed(1));
}

TEST(LocalAddressesTest, ContainsExactlyWhatWasAdded) {
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    LocalAddresses local;
    std::vector<uint32_t> added;
    for (uint32_t k = 0; k < LocalAddresses::kMax; ++k) {
      // Neighbouring addresses too: a port's .1 next to another's .2.
      uint32_t a = k % 2 == 0 ? rng() : added.back() + 1;
      ASSERT_TRUE(local.Add(a));
      added.push_back(a);
      for (uint32_t b : added) EXPECT_TRUE(local.Contains(b));
    }
    EXPECT_FALSE(local.Add(0x01020304));  // full
    EXPECT_FALSE(local.Contains(0x01020304));
    for (int i = 0; i < 20000; ++i) {
      uint32_t a = i % 2 == 0 ? rng() : added[i % added.size()] ^ (1u << (i % 32));
      bool expected = std::find(added.begin(), added.end(), a) != added.end();
      ASSERT_EQ(local.Contains(a), expected) << std::hex << a;
    }
  }
  LocalAddresses none;
  EXPECT_FALSE(none.Contains(lpm::Ipv4Address{0}));
  EXPECT_FALSE(none.Contains(0xc0000201));
}

// RFC 1624: the incremental update equals a full recomputation.
TEST(RewriteTest, TtlDecrementKeepsChecksumValid) {
  std::mt19937 rng(1);
  for (int i = 0; i < 10000; ++i) {
    auto p = Ipv4Packet(rng(), rng(), uint8_t(2 + rng() % 254));
    p[4] = uint8_t(rng()), p[5] = uint8_t(rng());  // vary the id, hence the sum
    Refresh(p);
    DecrementTtl(p.data());
    ASSERT_EQ(OnesComplementSum(p.data(), 10), 0xffff) << "iteration " << i;
    auto full = p;
    Refresh(full);
    // Both forms of zero (0x0000 / 0xffff) verify; RFC 1624 never yields
    // 0x0000 where the full computation gives 0xffff... except equal sums.
    EXPECT_EQ(OnesComplementSum(full.data(), 10), 0xffff);
  }
}

// The constant-folded update is RFC 1624 eqn. 3 on the actual old and new
// words, bit for bit, for every TTL it is used on and every checksum.
TEST(RewriteTest, TtlDecrementEqualsGenericIncrementalUpdate) {
  for (uint32_t ttl = 1; ttl <= 255; ++ttl) {
    for (uint32_t hc = 0; hc <= 0xffff; hc += 7) {
      uint8_t h[20] = {};
      h[8] = uint8_t(ttl);
      h[9] = 17;
      StoreBe16(h + 10, uint16_t(hc));
      uint16_t old_word = LoadBe16(h + 8);
      DecrementTtl(h);
      ASSERT_EQ(h[8], ttl - 1);
      ASSERT_EQ(LoadBe16(h + 10), IncrementalChecksum(uint16_t(hc), old_word, LoadBe16(h + 8)))
          << "ttl " << ttl << " checksum " << hc;
    }
  }
}

TEST(RewriteTest, EthernetUntaggedWritesOnlyTheMacs) {
  Adjacency adj;
  adj.dst_mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  adj.src_mac = {0x02, 0x66, 0x77, 0x88, 0x99, 0xaa};
  adj.port = 0xbbcc;  // the fields after the MACs must not reach the frame
  uint8_t frame[20];
  std::fill(std::begin(frame), std::end(frame), 0xee);
  WriteEthernet(frame, adj, TagChange::kKeep);
  EXPECT_TRUE(std::equal(adj.dst_mac.begin(), adj.dst_mac.end(), frame));
  EXPECT_TRUE(std::equal(adj.src_mac.begin(), adj.src_mac.end(), frame + 6));
  for (int i = 12; i < 20; ++i) EXPECT_EQ(frame[i], 0xee) << i;
}

TEST(RewriteTest, EthernetTagChanges) {
  Adjacency adj;
  adj.dst_mac = {2, 0, 0, 0, 0, 0xd};
  adj.src_mac = {2, 0, 0, 0, 0, 0x5};
  EXPECT_EQ(TagChangeFor(false, 0), TagChange::kKeep);
  EXPECT_EQ(TagChangeFor(true, 7), TagChange::kKeep);
  EXPECT_EQ(TagChangeFor(false, 7), TagChange::kAdd);
  EXPECT_EQ(TagChangeFor(true, 0), TagChange::kRemove);

  // Untagged in, tagged out: the frame grew 4 bytes in front.
  uint8_t buf[32] = {};
  uint8_t* old_frame = buf + 4;
  StoreBe16(old_frame + 12, kEtherTypeIpv4);
  adj.vlan = 300;
  WriteEthernet(buf, adj, TagChange::kAdd);
  EXPECT_TRUE(std::equal(adj.dst_mac.begin(), adj.dst_mac.end(), buf));
  EXPECT_TRUE(std::equal(adj.src_mac.begin(), adj.src_mac.end(), buf + 6));
  EXPECT_EQ(LoadBe16(buf + 12), kEtherTypeVlan);
  EXPECT_EQ(LoadBe16(buf + 14), 300);
  EXPECT_EQ(LoadBe16(buf + 16), kEtherTypeIpv4);

  // Tagged in, tagged out: the priority bits stay.
  StoreBe16(buf + 14, 0xa000 | 5);
  adj.vlan = 9;
  WriteEthernet(buf, adj, TagChange::kKeep);
  EXPECT_EQ(LoadBe16(buf + 14), 0xa000 | 9);

  // Tagged in, untagged out: the frame starts 4 bytes later.
  uint8_t tagged[32] = {};
  StoreBe16(tagged + 12, kEtherTypeVlan);
  StoreBe16(tagged + 14, 5);
  StoreBe16(tagged + 16, kEtherTypeIpv6);
  adj.vlan = 0;
  WriteEthernet(tagged + 4, adj, TagChange::kRemove);
  EXPECT_EQ(tagged[4 + 5], 0xd);
  EXPECT_EQ(LoadBe16(tagged + 4 + 12), kEtherTypeIpv6);
}

TEST(FlowHashTest, SameFlowSameMemberAndSpread) {
  auto a = Ipv4Packet(0x0a000001, 0xc6336401);
  auto b = a;
  EXPECT_EQ(FlowHashIpv4(a.data(), uint32_t(a.size())), FlowHashIpv4(b.data(), uint32_t(b.size())));
  uint32_t hits[4] = {};
  for (uint32_t s = 0; s < 4000; ++s) {
    auto p = Ipv4Packet(0x0a000000 + s, 0xc6336401);
    ++hits[PickMember(FlowHashIpv4(p.data(), uint32_t(p.size())), 4)];
  }
  for (uint32_t h : hits) EXPECT_GT(h, 800u);
  for (uint32_t h = 0; h < 1000; ++h) EXPECT_LT(PickMember(h * 4294967u, 3), 3u);
}

}  // namespace
}  // namespace edgefwd::dataplane
