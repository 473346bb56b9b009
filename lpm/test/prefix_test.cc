#include "lpm/prefix.h"

#include <gtest/gtest.h>

#include "lpm/table_types.h"

namespace edgefwd::lpm {
namespace {

TEST(Prefix, ParsesIpv4) {
  auto p = ParseIpv4Prefix("192.168.1.0/24");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->addr, 0xC0A80100u);
  EXPECT_EQ(p->len, 24);
  EXPECT_EQ(ParseIpv4Prefix("0.0.0.0/0"), (Ipv4Prefix{0, 0}));
  EXPECT_EQ(ParseIpv4Prefix("255.255.255.255/32"), (Ipv4Prefix{0xFFFFFFFFu, 32}));
  EXPECT_EQ(FormatPrefix(*p), "192.168.1.0/24");
}

TEST(Prefix, RefusesBadIpv4) {
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0", "/8", "10.0.0/8",
                          "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8 ", " 10.0.0.0/8",
                          "10.0.0.0/08x", "256.0.0.0/8", "", "10.0.0.0/1000", "::/0"}) {
    EXPECT_FALSE(ParseIpv4Prefix(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseIpv4Address("1.2.3.4.5").has_value());
  EXPECT_EQ(ParseIpv4Address("1.2.3.4"), std::optional<Ipv4Address>(0x01020304u));
}

TEST(Prefix, ParsesIpv6) {
  auto p = ParseIpv6Prefix("2001:db8::/32");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->len, 32);
  EXPECT_EQ(p->addr[0], 0x20);
  EXPECT_EQ(p->addr[3], 0xb8);
  EXPECT_EQ(FormatPrefix(*p), "2001:db8::/32");
  auto all = ParseIpv6Prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->addr[15], 0xff);
  EXPECT_TRUE(ParseIpv6Prefix("::/0").has_value());
}

TEST(Prefix, RefusesBadIpv6) {
  for (const char* bad :
       {"2001:db8::1/64", "2001:db8::/129", "2001:db8::", "2001:db8:::/32", "2001:db8::/3x",
        "10.0.0.0/8", "2001:db8::/ 32", "fe80::/10%eth0", "::/"}) {
    EXPECT_FALSE(ParseIpv6Prefix(bad).has_value()) << bad;
  }
  // Host bit in the last byte of a /127.
  EXPECT_FALSE(ParseIpv6Prefix("::1/127").has_value());
  EXPECT_TRUE(ParseIpv6Prefix("::1/128").has_value());
}

TEST(Prefix, FormatsAddresses) {
  EXPECT_EQ(FormatIpv4(0x0A000001u), "10.0.0.1");
  Ipv6Address a{};
  EXPECT_EQ(FormatIpv6(a), "::");
}

TEST(TableTypes, ErrorsHaveNames) {
  EXPECT_EQ(ToString(LpmError::kOk), "ok");
  EXPECT_EQ(ToString(LpmError::kNotFound), "prefix not found");
  EXPECT_EQ(ToString(LpmError::kCapacityExhausted), "capacity exhausted");
  EXPECT_EQ(ToString(LpmError::kInvalidLength), "invalid prefix length");
  EXPECT_EQ(ToString(LpmError::kInvalidNextHop), "invalid next hop");
}

}  // namespace
}  // namespace edgefwd::lpm
