// Route file parsing: accepted forms, and that every refusal names file, line
// and field and refuses the whole text.
#include "control/route_file.h"

#include <cstdio>
#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgefwd::control {
namespace {

using ::testing::HasSubstr;

TEST(RouteFileTest, ParsesMixedFamiliesCommentsAndBlankLines) {
  auto routes = ParseRouteText(
      "# header\n"
      "\n"
      "0.0.0.0/0        transit-a\n"
      "203.0.113.0/24\tpeer-ix1     # trailing comment\n"
      "   2001:db8::/32    cdn-cache1\r\n"
      "10.1.2.3/32 host.route_1",
      "t.routes");
  ASSERT_TRUE(routes.ok()) << routes.status();
  ASSERT_EQ(routes->size(), 4u);
  EXPECT_EQ(std::get<lpm::Ipv4Prefix>((*routes)[0].prefix), (lpm::Ipv4Prefix{0, 0}));
  EXPECT_EQ((*routes)[0].egress, "transit-a");
  EXPECT_EQ((*routes)[0].line, 3u);
  EXPECT_EQ(std::get<lpm::Ipv4Prefix>((*routes)[1].prefix), (lpm::Ipv4Prefix{0xCB007100, 24}));
  EXPECT_EQ((*routes)[1].egress, "peer-ix1");
  const auto& v6 = std::get<lpm::Ipv6Prefix>((*routes)[2].prefix);
  EXPECT_EQ(v6.len, 32);
  EXPECT_EQ(v6.addr[0], 0x20);
  EXPECT_EQ(v6.addr[1], 0x01);
  EXPECT_EQ(v6.addr[2], 0x0d);
  EXPECT_EQ(v6.addr[3], 0xb8);
  EXPECT_EQ((*routes)[2].egress, "cdn-cache1");
  EXPECT_EQ((*routes)[3].line, 6u);
  EXPECT_EQ((*routes)[3].egress, "host.route_1");
}

TEST(RouteFileTest, EmptyTextIsNoRoutes) {
  auto routes = ParseRouteText("", "empty");
  ASSERT_TRUE(routes.ok());
  EXPECT_TRUE(routes->empty());
}

struct BadCase {
  const char* text;
  const char* want;  // exact "FILE:LINE: FIELD:" start plus a reason fragment
};

class RouteFileErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(RouteFileErrorTest, RefusesWholeTextWithLocation) {
  auto routes = ParseRouteText(GetParam().text, "f.routes");
  ASSERT_FALSE(routes.ok());
  EXPECT_EQ(routes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(routes.status().message()), HasSubstr(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, RouteFileErrorTest,
    ::testing::Values(
        BadCase{"10.0.0.0/8 a\n10.0.0.1/8 b\n",
                "f.routes:2: prefix: '10.0.0.1/8' has host bits set"},
        BadCase{"10.0.0.0/33 a\n", "f.routes:1: prefix: length '33' is out of range 0..32"},
        BadCase{"2001:db8::/129 a\n", "f.routes:1: prefix: length '129' is out of range 0..128"},
        BadCase{"10.0.0.0 a\n", "f.routes:1: prefix: '10.0.0.0' has no /LENGTH"},
        BadCase{"10.0.300.0/24 a\n", "f.routes:1: prefix: '10.0.300.0' is not an IPv4 address"},
        BadCase{"2001:zz::/32 a\n", "f.routes:1: prefix: '2001:zz::' is not an IPv6 address"},
        BadCase{"10.0.0.0/x a\n", "f.routes:1: prefix: length 'x' is out of range"},
        // Ten digits: describing it once overflowed an int (UBSan, found by fuzzing).
        BadCase{"10.0.0.0/9999999999 a\n",
                "f.routes:1: prefix: length '9999999999' is out of range 0..32"},
        BadCase{"\n\n10.0.0.0/8\n", "f.routes:3: egress: missing"},
        BadCase{"10.0.0.0/8 a b\n", "f.routes:1: line: extra field"},
        BadCase{"10.0.0.0/8 a\x01\n", "f.routes:1: line: binary byte 0x01"},
        BadCase{"10.0.0.0/8 \xc3\xa9\n", "f.routes:1: line: binary byte 0xc3"},
        BadCase{"10.0.0.0/8 a/b\n", "f.routes:1: egress: 'a/b' is not a name"}));

TEST(RouteFileTest, RefusesNulByte) {
  std::string text = "10.0.0.0/8 a\n10.1.0.0/16 b";
  text[15] = '\0';
  auto routes = ParseRouteText(text, "nul");
  ASSERT_FALSE(routes.ok());
  EXPECT_THAT(std::string(routes.status().message()), HasSubstr("nul:2: line: binary byte 0x00"));
}

TEST(RouteFileTest, RefusesOversizedLine) {
  std::string text = "10.0.0.0/8 a\n# " + std::string(kMaxRouteLineBytes, 'x') + "\n";
  auto routes = ParseRouteText(text, "big");
  ASSERT_FALSE(routes.ok());
  EXPECT_THAT(std::string(routes.status().message()),
              HasSubstr("big:2: line: longer than 512 bytes"));
}

TEST(RouteFileTest, LineOfExactlyTheLimitIsAccepted) {
  std::string line = "10.0.0.0/8 a #";
  line.append(kMaxRouteLineBytes - line.size(), 'x');
  auto routes = ParseRouteText(line, "edge");
  ASSERT_TRUE(routes.ok()) << routes.status();
  EXPECT_EQ(routes->size(), 1u);
}

TEST(RouteFileTest, ReadRouteFileNamesMissingFile) {
  auto routes = ReadRouteFile("/nonexistent/dir/x.routes");
  ASSERT_FALSE(routes.ok());
  EXPECT_THAT(std::string(routes.status().message()),
              HasSubstr("/nonexistent/dir/x.routes: cannot open"));
}

TEST(RouteFileTest, ReadRouteFileUsesPathInErrors) {
  std::string path = ::testing::TempDir() + "/route_file_test.routes";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("192.0.2.0/24 peer\n192.0.2.0/24\n", f);
  std::fclose(f);
  auto routes = ReadRouteFile(path);
  ASSERT_FALSE(routes.ok());
  EXPECT_THAT(std::string(routes.status().message()), HasSubstr(path + ":2: egress: missing"));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace edgefwd::control
