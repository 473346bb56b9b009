// Concurrency: the control thread changes routes and flaps neighbours while
// reader threads look up the way workers do (lpm lookup -> path -> members,
// quiescent state between bursts). Every answer must be one the address could
// legally have at some moment; a path id from the FIB must never lead to a
// cleared path (grace periods). Run under ThreadSanitizer by scripts/test.
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "control/test/fixture.h"
#include "gtest/gtest.h"

namespace edgefwd::control {
namespace {

using testing::Route;

// Which neighbours (by port) an address may be sent to at any moment.
uint32_t LegalPortsV4(lpm::Ipv4Address a) {
  const uint32_t bit = 1;
  const uint32_t top16 = a >> 16;
  if (top16 == ((10u << 8) | 0))
    return bit << 2 | bit << 4 | bit << 5;  // peer-x, transit-a, default
  if (top16 == ((10u << 8) | 1))
    return bit << 1 | bit << 4 | bit << 5;  // cdn-1, transit-ecmp, default
  return bit << 5;                          // default transit-b
}
uint32_t LegalPortsV6(const lpm::Ipv6Address&) {
  return 1u << 3 | 1u << 6 | 1u << 7;  // peer-y, transit-c, default transit-d
}

TEST(ControlStressTest, ReadersSeeOnlyLegalAnswersWhileRoutesChange) {
  testing::TestFib fib(1 << 16, 8);
  auto created = ControlPlane::Create(testing::StandardSpec(), fib.fib());
  ASSERT_TRUE(created.ok()) << created.status();
  ControlPlane& cp = **created;
  std::vector<FileRoute> base = {Route("0.0.0.0/0", "transit-b"), Route("::/0", "transit-d")};
  std::vector<FileRoute> transit;
  for (int x = 0; x < 256; ++x) {
    transit.push_back(Route(("10.0." + std::to_string(x) + ".0/24").c_str(), "transit-a"));
    transit.push_back(Route(("10.1." + std::to_string(x) + ".0/24").c_str(), "transit-ecmp"));
  }
  ASSERT_TRUE(cp.LoadRoutes(base, "base").ok());
  ASSERT_TRUE(cp.LoadRoutes(transit, "transit").ok());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0}, illegal{0}, null_paths{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    const lpm::QsbrDomain::ReaderId id = fib.qsbr.RegisterReader();
    readers.emplace_back([&, r, id] {
      std::mt19937 rng(r);
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int burst = 0; burst < 32; ++burst, ++n) {
          uint32_t legal;
          lpm::NextHop nh;
          if (rng() % 4 == 0) {
            lpm::Ipv6Address a{0x20, 0x01, 0x0d, 0xb8, 0, static_cast<uint8_t>(rng() % 64)};
            a[15] = 1;
            legal = LegalPortsV6(a);
            nh = fib.v6->Lookup(a);
          } else {
            const lpm::Ipv4Address a = (10u << 24) | ((rng() % 3) << 16) | (rng() & 0xffff);
            legal = LegalPortsV4(a);
            nh = fib.v4->Lookup(a);
          }
          if (nh == lpm::kNoRoute) {
            illegal.fetch_add(1);  // the defaults are never removed
            continue;
          }
          const dataplane::PathMembers* p = fib.state.path(nh);
          if (p == nullptr) {
            null_paths.fetch_add(1);
            continue;
          }
          for (size_t m = 0; m < p->count; ++m) {
            const uint16_t port = fib.state.adjacency(p->members[m]).port;
            if (!(legal & (1u << port))) illegal.fetch_add(1);
          }
        }
        fib.qsbr.Quiescent(id);
      }
      fib.qsbr.Offline(id);
      lookups.fetch_add(n);
    });
  }

  // The control thread: adds/removes candidates, operator routes through the
  // protocol, neighbour flaps, and reclaims every turn.
  std::mt19937 rng(42);
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  uint64_t changes = 0;
  // Not the defaults' neighbours: a lookup must always find a route.
  const char* flappers[] = {"peer-x", "transit-a", "peer-y", "cdn-1", "transit-c"};
  while (std::chrono::steady_clock::now() < end) {
    const int x = static_cast<int>(rng() % 256);
    std::vector<FileRoute> peer = {
        Route(("10.0." + std::to_string(x) + ".0/24").c_str(), "peer-x")};
    if (!cp.LoadRoutes(peer, "peer").ok() || !cp.RemoveRoutes(peer, "peer").ok()) {
      ADD_FAILURE() << "peer change failed";
      break;
    }
    if (rng() % 2) (void)cp.LoadRoutes(peer, "peer");
    const std::string p1 = "10.1." + std::to_string(x) + ".0/24";
    (void)cp.Execute(rng() % 2 ? "v1 route add " + p1 + " cdn-1" : "v1 route del " + p1);
    const std::string p6 = "2001:db8:" + std::to_string(rng() % 64) + "::/48";
    std::vector<FileRoute> v6 = {Route(p6.c_str(), rng() % 2 ? "peer-y" : "transit-c")};
    (void)cp.LoadRoutes(v6, "v6");
    if (rng() % 3 == 0) (void)cp.RemoveRoutes(v6, "v6");
    if (changes % 16 == 0) {
      const char* n = flappers[rng() % 5];
      (void)cp.SetNeighborUp(n, rng() % 2);
    }
    changes += 4;
    cp.Poll(0);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(illegal.load(), 0u);
  EXPECT_EQ(null_paths.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_GT(changes, 100u);
}

}  // namespace
}  // namespace edgefwd::control
