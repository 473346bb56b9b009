// A real forwarding setup for control-plane tests: lpm tables, a QSBR domain
// and ForwardingState, plus a ControlPlane over them, and helpers that answer
// "where does a packet to ADDRESS go now" the way a worker does.
#pragma once

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "control/control_plane.h"
#include "control/protocol.h"
#include "gtest/gtest.h"
#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"
#include "lpm/qsbr.h"

namespace edgefwd::control::testing {

// Neighbours are told apart in answers by their port (1 port each).
inline NeighborSpec Neighbor(std::string name, dataplane::EgressClass c, uint16_t port) {
  NeighborSpec n;
  n.name = std::move(name);
  n.egress_class = c;
  n.port = port;
  n.mac = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(port)};
  n.next_hop_v4 = 0xC0000200u + port;  // 192.0.2.PORT
  return n;
}

inline ControlSpec StandardSpec() {
  using dataplane::EgressClass;
  ControlSpec spec;
  spec.neighbors = {
      Neighbor("cdn-1", EgressClass::kCdn, 1),
      Neighbor("peer-x", EgressClass::kPeering, 2),
      Neighbor("peer-y", EgressClass::kPeering, 3),
      Neighbor("transit-a", EgressClass::kTransit, 4),
      Neighbor("transit-b", EgressClass::kTransit, 5),
      Neighbor("transit-c", EgressClass::kTransit, 6),
      Neighbor("transit-d", EgressClass::kTransit, 7),
  };
  spec.groups = {
      {"transit-ecmp", {{"transit-a", 1}, {"transit-b", 3}}},
      {"transit-4", {{"transit-a", 1}, {"transit-b", 1}, {"transit-c", 1}, {"transit-d", 1}}}};
  spec.socket_path = ::testing::TempDir() + "/edgefwd-test-" + std::to_string(::getpid()) + ".sock";
  return spec;
}

inline const char* PortName(uint16_t port) {
  static const char* names[] = {"?",         "cdn-1",     "peer-x",    "peer-y",
                                "transit-a", "transit-b", "transit-c", "transit-d"};
  return port < 8 ? names[port] : "?";
}

struct TestFib {
  explicit TestFib(uint32_t max_paths = 1 << 16, uint32_t readers = 8)
      : qsbr(readers),
        v4(lpm::Ipv4Table::Create(lpm::TableConfig{}, &qsbr)),
        v6(lpm::Ipv6Table::Create(lpm::TableConfig{}, &qsbr)),
        state(&qsbr, max_paths) {}
  ~TestFib() { qsbr.Synchronize(); }
  Fib fib() { return Fib{&qsbr, v4.get(), v6.get(), &state}; }

  // The member neighbours a worker would pick from for this address
  // ("none" when no route or an empty path).
  std::vector<std::string> Members(lpm::Ipv4Address a) const { return MembersOf(v4->Lookup(a)); }
  std::vector<std::string> Members(const lpm::Ipv6Address& a) const {
    return MembersOf(v6->Lookup(a));
  }
  std::string One(const char* addr) const {
    std::vector<std::string> m;
    if (auto a4 = lpm::ParseIpv4Address(addr)) {
      m = Members(*a4);
    } else {
      m = Members(*lpm::ParseIpv6Address(addr));
    }
    std::set<std::string> distinct(m.begin(), m.end());
    std::string out;
    for (const auto& s : distinct) out += (out.empty() ? "" : ",") + s;
    return out.empty() ? "none" : out;
  }
  std::vector<std::string> MembersOf(lpm::NextHop nh) const {
    if (nh == lpm::kNoRoute) return {};
    const dataplane::PathMembers* p = state.path(nh);
    if (p == nullptr) return {"<null path>"};
    std::vector<std::string> out;
    for (size_t i = 0; i < p->count; ++i) {
      out.push_back(PortName(state.adjacency(p->members[i]).port));
    }
    return out;
  }

  lpm::QsbrDomain qsbr;
  std::unique_ptr<lpm::Ipv4Table> v4;
  std::unique_ptr<lpm::Ipv6Table> v6;
  dataplane::ForwardingState state;
};

inline FileRoute Route(const char* prefix, const char* egress) {
  auto parsed = ParseRouteText(std::string(prefix) + " " + egress, "test");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return (*parsed)[0];
}

// Runs a request in-process and splits the framed reply.
struct Reply {
  bool ok = false;
  std::string error;
  std::string body;
};
inline Reply Exec(ControlPlane& cp, const std::string& line) {
  ResponseReader r;
  r.Feed(cp.Execute(line));
  EXPECT_TRUE(r.done()) << line;
  return {r.ok(), r.error(), r.body()};
}

inline std::string WriteTempFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "w");
  EXPECT_NE(f, nullptr);
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}

}  // namespace edgefwd::control::testing
