// Protocol v1 framing: request parsing and the response round trip.
#include "control/protocol.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgefwd::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ProtocolTest, ParsesVersionCommandAndArgs) {
  auto r = ParseRequestLine("v1 route add  10.0.0.0/8\tpeer-x\r");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->json);
  EXPECT_THAT(r->args, ElementsAre("route", "add", "10.0.0.0/8", "peer-x"));
  auto j = ParseRequestLine("v1+json stats");
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE(j->json);
  EXPECT_THAT(j->args, ElementsAre("stats"));
}

TEST(ProtocolTest, RefusesBadRequests) {
  struct Case {
    std::string line;
    const char* want;
  };
  const Case cases[] = {
      {"", "empty request"},
      {"   ", "empty request"},
      {"v1", "missing command"},
      {"v2 stats", "unsupported protocol version 'v2'"},
      {"stats", "unsupported protocol version 'stats'"},
      {std::string("v1 route\x01"), "binary byte 0x01"},
      {std::string("v1 \xff"), "binary byte 0xff"},
      {"v1 " + std::string(kMaxRequestLineBytes, 'a'), "longer than 4096 bytes"},
      {"v1 a b c d e f g h i j k l m n o p q", "more than 16 arguments"},
  };
  for (const Case& c : cases) {
    auto r = ParseRequestLine(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.want)) << c.line;
  }
  std::string nul = "v1 stats";
  nul[2] = '\0';
  EXPECT_FALSE(ParseRequestLine(nul).ok());
}

TEST(ProtocolTest, ResponseRoundTripWithDotStuffing) {
  const std::string body = "first\n.dot line\n..two\n\nlast";
  const std::string wire = FormatResponse(absl::OkStatus(), body);
  EXPECT_EQ(wire, "ok\nfirst\n..dot line\n...two\n\nlast\n.\n");
  ResponseReader r;
  // Byte at a time: framing must not depend on how reads split.
  for (char c : wire) r.Feed(std::string_view(&c, 1));
  ASSERT_TRUE(r.done());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.body(), body);
}

TEST(ProtocolTest, ErrorIsOneLine) {
  const std::string wire = FormatResponse(absl::InvalidArgumentError("bad\nthing"), "");
  EXPECT_EQ(wire, "error bad thing\n.\n");
  ResponseReader r;
  EXPECT_TRUE(r.Feed(wire));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "bad thing");
}

TEST(ProtocolTest, MalformedStatusIsReported) {
  ResponseReader r;
  r.Feed("hello\n.\n");
  EXPECT_TRUE(r.done());
  EXPECT_TRUE(r.malformed());
}

TEST(ProtocolTest, JsonStringEscapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace edgefwd::control
