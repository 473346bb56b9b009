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
#include "dataplane/pipeline/ipv4_fast_burst.h"
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

// The fast path against the full steps on mutated frames.
TEST(Ipv4FastTest, ForwardsOnlyWhatTheFullChecksForward) {
  std::mt19937 rng(5);
  VlanSet vlans;
  vlans.set(10);
  LocalAddresses local;
  local.Add(0xc0000201);  // 192.0.2.1
  int fast_taken = 0, full_forward = 0;
  for (int i = 0; i < 200000; ++i) {
    uint32_t len;
    std::vector<uint8_t> frame = MutatedFrame(rng, i, 0xc0000201, &len);
    bool nic_good = rng() % 10 == 0;
    bool fast = Ipv4FastForward(frame.data(), len, nic_good, local);
    EthernetInfo eth;
    bool full = ParseEthernet(frame.data(), len, vlans, &eth) == EthernetOutcome::kIpv4 &&
                CheckIpv4(frame.data() + eth.l3_offset, len - eth.l3_offset, nic_good, local) ==
                    Ipv4Outcome::kForward;
    // Never forwards what the full checks would not; and (it covers the
    // whole untagged no-options case) takes every untagged packet they
    // forward.
    ASSERT_EQ(fast, full && !eth.tagged) << "iteration " << i;
    fast_taken += fast;
    full_forward += full;
  }
  EXPECT_GT(fast_taken, 1000);
  EXPECT_GT(full_forward, 1000);
}

// The burst form decides frame by frame what the single-frame form decides,
// with and without local addresses, in bursts of every size; each frame is
// its own allocation of exactly the reported length, so reading past it
// fails under AddressSanitizer.
TEST(Ipv4FastTest, BurstEqualsSingleFrame) {
  std::mt19937 rng(9);
  LocalAddresses none, some;
  some.Add(0xc0000201);
  some.Add(0xc0000202);
  Ipv4FastBurst burst;
  int passed_total = 0;
  for (int round = 0; round < 6000; ++round) {
    const LocalAddresses& local = round % 3 == 0 ? some : none;
    uint32_t n = 1 + rng() % Ipv4FastBurst::kMax;
    std::vector<std::vector<uint8_t>> frames(n);
    std::vector<bool> nic_good(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t len;
      // Mostly clean frames, as in real traffic, so whole bursts pass too.
      std::vector<uint8_t> f = MutatedFrame(rng, round % 2 == 0 ? 1 : int(rng()), 0xc0000202, &len);
      frames[i].assign(f.begin(), f.begin() + len);
      nic_good[i] = rng() % 10 == 0;
      burst.Load(i, frames[i].data(), len, nic_good[i]);
    }
    uint32_t passed = burst.Check(n, local);
    uint32_t expected_passed = 0;
    for (uint32_t i = 0; i < n; ++i) {
      bool single =
          Ipv4FastForward(frames[i].data(), uint32_t(frames[i].size()), nic_good[i], local);
      ASSERT_EQ(burst.Passed(i), single) << "round " << round << " frame " << i;
      if (single) {
        ASSERT_EQ(burst.Destination(i), LoadBe32(frames[i].data() + 30));
        ASSERT_EQ(burst.destinations()[i], burst.Destination(i));
      }
      expected_passed += single;
    }
    ASSERT_EQ(passed, expected_passed);
    passed_total += passed;
  }
  EXPECT_GT(passed_total, 50000);
}

TEST(Ipv4FastTest, TakesTheOrdinaryPacket) {
  auto ip = Ipv4Packet();
  std::vector<uint8_t> frame(14, 0);
  StoreBe16(&frame[12], kEtherTypeIpv4);
  frame.insert(frame.end(), ip.begin(), ip.end());
  LocalAddresses none;
  EXPECT_TRUE(Ipv4FastForward(frame.data(), uint32_t(frame.size()), false, none));
  EXPECT_FALSE(Ipv4FastForward(frame.data(), 33, false, none));  // one byte short of a header
  LocalAddresses ours;
  ours.Add(0xc6336401);  // Ipv4Packet's destination
  EXPECT_FALSE(Ipv4FastForward(frame.data(), uint32_t(frame.size()), false, ours));
}

// The divisibility test against the RFC 1071 fold, on headers that are
// valid, valid with a bit flipped, random, and on the carry and zero edges.
TEST(ChecksumTest, HeaderSumIsValidEqualsTheFold) {
  auto check = [](const std::array<uint8_t, 20>& h) {
    uint64_t w0, w1;
    uint32_t w2;
    std::memcpy(&w0, h.data(), 8);
    std::memcpy(&w1, h.data() + 8, 8);
    std::memcpy(&w2, h.data() + 16, 4);
    bool fold = OnesComplementSum(h.data(), 10) == 0xffff;
    EXPECT_EQ(Ipv4HeaderSumIsValid(w0, w1, w2), fold);
    return fold;
  };
  std::array<uint8_t, 20> h{};
  EXPECT_FALSE(check(h));  // all zero folds to 0, not 0xffff
  h.fill(0xff);
  EXPECT_TRUE(check(h));  // every word "negative zero"
  h.fill(0);
  h[19] = 0xff, h[18] = 0xff;
  EXPECT_TRUE(check(h));  // one word 0xffff, the rest zero
  std::mt19937_64 rng(11);
  int valid = 0;
  for (int i = 0; i < 300000; ++i) {
    for (auto& b : h) b = uint8_t(rng());
    if (i % 4 == 0) {
      // Words near 0xffff make every carry of the 64-bit sum happen.
      for (size_t k = 0; k < 16; ++k) h[k] = uint8_t(0xf0 | rng());
    }
    if (i % 2 == 0) {  // a correct checksum, sometimes with one bit flipped
      StoreBe16(&h[10], 0);
      StoreBe16(&h[10], uint16_t(~OnesComplementSum(h.data(), 10)));
      if (i % 6 == 0) h[rng() % 20] ^= uint8_t(1u << (rng() % 8));
    }
    valid += check(h);
    if (HasFailure()) FAIL() << "iteration " << i;
  }
  EXPECT_GT(valid, 100000);
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
