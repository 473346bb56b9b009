#include "dataplane/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace edgefwd::dataplane {
namespace {

using ::testing::HasSubstr;

constexpr char kGood[] = R"(
control_socket = "/tmp/edgefwd-test.sock"
routes = ["routes/v4.routes", "/abs/v6.routes"]
class_preference = ["peering", "cdn", "transit"]

[[ports]]
name = "p0"
device = "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"
mtu = 1500
vlans = [100, 200]
ipv4 = ["192.0.2.1"]
ipv6 = ["2001:db8::1"]
mac = "02:00:00:00:00:01"

[[ports]]
name = "p1"
device = "0000:01:00.0"
rx_queues = 2
tx_queues = 4
mtu = 9000

[[neighbors]]
name = "transit-a"
class = "transit"
port = "p0"
vlan = 100
ipv4 = "192.0.2.2"
ipv6 = "2001:db8::2"
mac = "02:00:00:00:01:02"

[[neighbors]]
name = "cdn-1"
class = "cdn"
port = "p1"
ipv4 = "198.51.100.2"
mac = "02:00:00:00:02:02"

[[groups]]
name = "all"
members = [{ neighbor = "transit-a", weight = 2 }, { neighbor = "cdn-1" }]

[[workers]]
lcore = 1
rx = [{ port = "p0", queue = 0 }, { port = "p1", queue = 0 }]

[[workers]]
lcore = 2
rx = [{ port = "p1", queue = 1 }]
)";

TEST(ConfigTest, ParsesACompleteConfig) {
  auto cfg = ParseConfigText(kGood, "/etc/edgefwd/edgefwd.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->ports.size(), 2u);
  EXPECT_EQ(cfg->ports[0].name, "p0");
  EXPECT_EQ(cfg->ports[0].device, "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap");
  EXPECT_EQ(cfg->ports[0].vlans, (std::vector<uint16_t>{100, 200}));
  EXPECT_EQ(cfg->ports[0].ipv4, (std::vector<lpm::Ipv4Address>{0xc0000201}));
  ASSERT_TRUE(cfg->ports[0].mac.has_value());
  EXPECT_EQ(FormatMac(*cfg->ports[0].mac), "02:00:00:00:00:01");
  EXPECT_FALSE(cfg->ports[0].rx_queues.has_value());
  EXPECT_EQ(cfg->ports[1].rx_queues, 2);
  EXPECT_EQ(cfg->ports[1].tx_queues, 4);
  EXPECT_EQ(cfg->ports[1].mtu, 9000u);
  ASSERT_EQ(cfg->neighbors.size(), 2u);
  EXPECT_EQ(cfg->neighbors[0].egress_class, EgressClass::kTransit);
  EXPECT_EQ(cfg->neighbors[0].vlan, 100);
  EXPECT_EQ(cfg->neighbors[0].ipv4, 0xc0000202);
  EXPECT_TRUE(cfg->neighbors[0].ipv6.has_value());
  EXPECT_EQ(cfg->neighbors[1].egress_class, EgressClass::kCdn);
  EXPECT_FALSE(cfg->neighbors[1].ipv6.has_value());
  ASSERT_EQ(cfg->groups.size(), 1u);
  EXPECT_EQ(cfg->groups[0].members[0].weight, 2u);
  EXPECT_EQ(cfg->groups[0].members[1].weight, 1u);
  ASSERT_EQ(cfg->workers.size(), 2u);
  EXPECT_EQ(cfg->workers[1].lcore, 2u);
  EXPECT_EQ(cfg->route_files,
            (std::vector<std::string>{"/etc/edgefwd/routes/v4.routes", "/abs/v6.routes"}));
  EXPECT_EQ(cfg->control_socket, "/tmp/edgefwd-test.sock");
  EXPECT_EQ(cfg->class_preference[0], EgressClass::kPeering);
}

constexpr char kPort[] = "[[ports]]\nname = \"p0\"\ndevice = \"net_null0\"\n";
constexpr char kNeighbor[] =
    "[[neighbors]]\nname = \"n1\"\nclass = \"cdn\"\nport = \"p0\"\nipv4 = \"10.0.0.2\"\n"
    "mac = \"02:00:00:00:00:02\"\n";

struct BrokenCase {
  const char* name;
  std::string text;
  const char* message;  // expected substring: FILE:LINE: FIELD: reason
};

class BrokenConfigTest : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenConfigTest, IsRejectedWithTheExpectedMessage) {
  auto cfg = ParseConfigText(GetParam().text, "cfg/edgefwd.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cfg.status().message()), HasSubstr(GetParam().message));
}

const BrokenCase kBroken[] = {
    {"Syntax", "[[ports]\nname = 1", "cfg/edgefwd.toml:1: syntax:"},
    {"NoPorts", "routes = []\n", "cfg/edgefwd.toml:1: ports: at least one [[ports]] is required"},
    {"UnknownTopLevelKey", "rutes = [\"x\"]\n" + std::string(kPort),
     "cfg/edgefwd.toml:1: rutes: unknown key"},
    {"UnknownPortKey", std::string(kPort) + "speed = 10\n",
     "cfg/edgefwd.toml:4: ports[0].speed: unknown key"},
    {"PortWithoutDevice", "[[ports]]\nname = \"p0\"\n",
     "cfg/edgefwd.toml:1: ports[0].device: missing"},
    {"PortNameNotString", "[[ports]]\nname = 3\ndevice = \"x\"\n",
     "cfg/edgefwd.toml:2: ports[0].name: expected a string"},
    {"EmptyDevice", "[[ports]]\nname = \"p0\"\ndevice = \"\"\n",
     "cfg/edgefwd.toml:3: ports[0].device: must not be empty"},
    {"MtuTooSmall", std::string(kPort) + "mtu = 40\n",
     "cfg/edgefwd.toml:4: ports[0].mtu: 40 is out of range [68, 9600]"},
    {"MtuNotInteger", std::string(kPort) + "mtu = \"1500\"\n",
     "cfg/edgefwd.toml:4: ports[0].mtu: expected an integer"},
    {"ZeroRxQueues", std::string(kPort) + "rx_queues = 0\n",
     "cfg/edgefwd.toml:4: ports[0].rx_queues: 0 is out of range"},
    {"BadVlan", std::string(kPort) + "vlans = [4095]\n",
     "cfg/edgefwd.toml:4: ports[0].vlans: VLAN ids are integers in [1, 4094]"},
    {"DuplicateVlan", std::string(kPort) + "vlans = [7, 7]\n",
     "cfg/edgefwd.toml:4: ports[0].vlans: duplicate VLAN id"},
    {"BadPortAddress", std::string(kPort) + "ipv4 = [\"10.0.0.256\"]\n",
     "cfg/edgefwd.toml:4: ports[0].ipv4: '10.0.0.256' is not an IPv4 address"},
    {"BadPortMac", std::string(kPort) + "mac = \"02:00:00:00:00\"\n",
     "cfg/edgefwd.toml:4: ports[0].mac: '02:00:00:00:00' is not a MAC address"},
    {"DuplicatePortName", std::string(kPort) + "[[ports]]\nname = \"p0\"\ndevice = \"net_null1\"\n",
     "cfg/edgefwd.toml:4: ports[1].name: duplicate port name 'p0'"},
    {"DuplicateDevice", std::string(kPort) + "[[ports]]\nname = \"p1\"\ndevice = \"net_null0\"\n",
     "cfg/edgefwd.toml:4: ports[1].device: device 'net_null0' used by two ports"},
    {"BadClass",
     std::string(kPort) + "[[neighbors]]\nname = \"n\"\nclass = \"ix\"\nport = \"p0\"\n",
     "cfg/edgefwd.toml:6: neighbors[0].class: 'ix' is not one of cdn, peering, transit"},
    {"NeighborWithoutMac",
     std::string(kPort) + "[[neighbors]]\nname = \"n\"\nclass = \"cdn\"\nport = \"p0\"\n"
                          "ipv4 = \"10.0.0.2\"\n",
     "cfg/edgefwd.toml:4: neighbors[0].mac: missing"},
    {"MulticastNeighborMac",
     std::string(kPort) + "[[neighbors]]\nname = \"n\"\nclass = \"cdn\"\nport = \"p0\"\n"
                          "ipv4 = \"10.0.0.2\"\nmac = \"01:00:5e:00:00:01\"\n",
     "cfg/edgefwd.toml:9: neighbors[0].mac: '01:00:5e:00:00:01' is a multicast address"},
    {"NeighborWithoutAddress",
     std::string(kPort) + "[[neighbors]]\nname = \"n\"\nclass = \"cdn\"\nport = \"p0\"\n"
                          "mac = \"02:00:00:00:00:02\"\n",
     "cfg/edgefwd.toml:4: neighbors[0].ipv4: a neighbour needs ipv4 or ipv6 (or both)"},
    {"BadNeighborIpv6", std::string(kPort) + kNeighbor + "ipv6 = \"2001:db8::g\"\n",
     "cfg/edgefwd.toml:10: neighbors[0].ipv6: '2001:db8::g' is not an IPv6 address"},
    {"NeighborOnUnknownPort",
     std::string(kPort) + "[[neighbors]]\nname = \"n\"\nclass = \"cdn\"\nport = \"p9\"\n"
                          "ipv4 = \"10.0.0.2\"\nmac = \"02:00:00:00:00:02\"\n",
     "cfg/edgefwd.toml:4: neighbors[0].port: no port named 'p9'"},
    {"NeighborVlanNotOnPort", std::string(kPort) + kNeighbor + "vlan = 5\n",
     "cfg/edgefwd.toml:4: neighbors[0].vlan: VLAN 5 is not in port 'p0' vlans"},
    {"DuplicateNeighbor", std::string(kPort) + kNeighbor + kNeighbor,
     "cfg/edgefwd.toml:10: neighbors[1].name: duplicate neighbour name 'n1'"},
    {"GroupOfUnknownNeighbor",
     std::string(kPort) + kNeighbor +
         "[[groups]]\nname = \"g\"\nmembers = [{ neighbor = \"nx\" }]\n",
     "cfg/edgefwd.toml:10: groups[0].members.neighbor: no neighbour named 'nx'"},
    {"GroupNamedLikeNeighbor",
     std::string(kPort) + kNeighbor +
         "[[groups]]\nname = \"n1\"\nmembers = [{ neighbor = \"n1\" }]\n",
     "cfg/edgefwd.toml:10: groups[0].name: name 'n1' is already a neighbour or group"},
    {"EmptyGroup", std::string(kPort) + "[[groups]]\nname = \"g\"\nmembers = []\n",
     "cfg/edgefwd.toml:4: groups[0].members: must not be empty"},
    {"ZeroWeight",
     std::string(kPort) + kNeighbor +
         "[[groups]]\nname = \"g\"\nmembers = [{ neighbor = \"n1\", weight = 0 }]\n",
     "cfg/edgefwd.toml:12: groups[0].members.weight: 0 is out of range"},
    {"WorkerWithoutLcore",
     std::string(kPort) + "[[workers]]\nrx = [{ port = \"p0\", queue = 0 }]\n",
     "cfg/edgefwd.toml:4: workers[0].lcore: missing"},
    {"WorkerOnUnknownPort",
     std::string(kPort) + "[[workers]]\nlcore = 1\nrx = [{ port = \"p7\", queue = 0 }]\n",
     "cfg/edgefwd.toml:4: workers[0].rx.port: no port named 'p7'"},
    {"QueuePolledTwice",
     std::string(kPort) + "[[workers]]\nlcore = 1\nrx = [{ port = \"p0\", queue = 0 }]\n"
                          "[[workers]]\nlcore = 2\nrx = [{ port = \"p0\", queue = 0 }]\n",
     "cfg/edgefwd.toml:7: workers[1].rx.queue: queue 0 of port 'p0' polled by two workers"},
    {"QueueBeyondPort",
     std::string(kPort) +
         "rx_queues = 1\n[[workers]]\nlcore = 1\nrx = [{ port = \"p0\", queue = 1 }]\n",
     "cfg/edgefwd.toml:5: workers[0].rx.queue: port 'p0' has 1 rx queues"},
    {"QueueWithoutWorker",
     "[[ports]]\nname = \"p0\"\ndevice = \"x\"\nrx_queues = 2\n"
     "[[workers]]\nlcore = 1\nrx = [{ port = \"p0\", queue = 0 }]\n",
     "cfg/edgefwd.toml:1: workers: queue 1 of port 'p0' has no worker"},
    {"LcoreTwice",
     "[[ports]]\nname = \"p0\"\ndevice = \"x\"\nrx_queues = 2\n"
     "[[workers]]\nlcore = 1\nrx = [{ port = \"p0\", queue = 0 }]\n"
     "[[workers]]\nlcore = 1\nrx = [{ port = \"p0\", queue = 1 }]\n",
     "cfg/edgefwd.toml:8: workers[1].lcore: lcore 1 used twice"},
    {"RoutesNotStrings", "routes = [1]\n" + std::string(kPort),
     "cfg/edgefwd.toml:1: routes: expected non-empty strings"},
    {"BadClassPreference",
     "class_preference = [\"cdn\", \"cdn\", \"transit\"]\n" + std::string(kPort),
     "cfg/edgefwd.toml:1: class_preference: 'cdn' twice"},
    {"MissingInclude", "include = [\"nope.toml\"]\n" + std::string(kPort),
     "cfg/edgefwd.toml:1: include: cfg/nope.toml: cannot read"},
    // toml++ 3.3.0 asserted on these (found by config_fuzz): an error, not an abort.
    {"HeaderWithoutKey", std::string(kPort) + "[[= 1\n",
     "cfg/edgefwd.toml:4: syntax: Error while parsing key"},
    {"HeaderOfThreeBrackets", "[[[a]]]\n" + std::string(kPort),
     "cfg/edgefwd.toml:1: syntax: Error while parsing key"},
    // toml++ 3.3.0 reached __builtin_unreachable on this one (config_fuzz).
    {"NotAscii", std::string(kPort) + "\xcf\x9c\n",
     "cfg/edgefwd.toml:4: syntax: byte 0xcf at column 1 is not ASCII"},
    {"NotAsciiInAComment", std::string(kPort) + "mtu = 1500  # caf\xc3\xa9\n",
     "cfg/edgefwd.toml:4: syntax: byte 0xc3 at column 18 is not ASCII"},
};

INSTANTIATE_TEST_SUITE_P(Table, BrokenConfigTest, ::testing::ValuesIn(kBroken),
                         [](const auto& info) { return std::string(info.param.name); });

// Includes merge [[neighbors]] (scripts/fetch-table writes such a file) and
// report their own errors under their own file name.
class IncludeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("edgefwd-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(IncludeTest, MergesNeighbors) {
  Write("neighbors.toml", kNeighbor);
  std::string main = Write("edgefwd.toml", "include = [\"neighbors.toml\"]\n" + std::string(kPort));
  auto cfg = ReadConfigFile(main);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->neighbors.size(), 1u);
  EXPECT_EQ(cfg->neighbors[0].name, "n1");
  EXPECT_EQ(cfg->neighbors[0].file, (dir_ / "neighbors.toml").string());
}

TEST_F(IncludeTest, ErrorsNameTheIncludedFile) {
  std::string inc = Write("neighbors.toml", "[[neighbors]]\nname = \"n\"\nclass = \"x\"\n");
  std::string main = Write("edgefwd.toml", "include = [\"neighbors.toml\"]\n" + std::string(kPort));
  auto cfg = ReadConfigFile(main);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(std::string(cfg.status().message()),
              HasSubstr(inc + ":3: neighbors[0].class: 'x' is not one of"));
}

TEST_F(IncludeTest, IncludeMayHoldOnlyNeighbors) {
  std::string inc = Write("neighbors.toml", kPort);
  std::string main = Write("edgefwd.toml", "include = [\"neighbors.toml\"]\n" + std::string(kPort));
  auto cfg = ReadConfigFile(main);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(std::string(cfg.status().message()), HasSubstr(inc + ":1: ports: unknown key"));
}

// A directory opens and reads as empty, a FIFO or device may never end:
// neither is taken for an (empty) include.
TEST_F(IncludeTest, IncludeMustBeARegularFile) {
  std::filesystem::create_directories(dir_ / "neighbors.d");
  std::string main = Write("edgefwd.toml", "include = [\"neighbors.d\"]\n" + std::string(kPort));
  auto cfg = ReadConfigFile(main);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(
      std::string(cfg.status().message()),
      HasSubstr(main + ":1: include: " + (dir_ / "neighbors.d").string() + ": not a regular file"));
  main = Write("edgefwd.toml", "include = [\"/dev/zero\"]\n" + std::string(kPort));
  cfg = ReadConfigFile(main);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(std::string(cfg.status().message()), HasSubstr("/dev/zero: not a regular file"));
}

TEST_F(IncludeTest, ConfigMustBeARegularFile) {
  auto cfg = ReadConfigFile(dir_.string());
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(std::string(cfg.status().message()), HasSubstr(": not a regular file"));
}

TEST(MacTest, ParseAndFormat) {
  EXPECT_EQ(FormatMac(*ParseMac("0A:bc:00:11:22:33")), "0a:bc:00:11:22:33");
  EXPECT_FALSE(ParseMac("0a:bc:00:11:22").has_value());
  EXPECT_FALSE(ParseMac("0a:bc:00:11:22:3").has_value());
  EXPECT_FALSE(ParseMac("0a:bc:00:11:22:3g").has_value());
}

}  // namespace
}  // namespace edgefwd::dataplane
