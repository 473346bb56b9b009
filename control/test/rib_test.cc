// RIB behaviour through the public ControlPlane API, checked on real lpm
// tables + ForwardingState the way a worker reads them.
#include "control/rib.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "control/egress.h"
#include "control/test/fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgefwd::control {
namespace {

using ::testing::ElementsAre;
using testing::Exec;
using ::testing::HasSubstr;
using testing::Reply;
using testing::Route;
using testing::TestFib;

class RibTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cp = ControlPlane::Create(testing::StandardSpec(), fib_.fib());
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
  }
  void Load(std::vector<FileRoute> routes, const char* source) {
    ASSERT_TRUE(cp_->LoadRoutes(routes, source).ok());
  }
  TestFib fib_;
  std::unique_ptr<ControlPlane> cp_;
};

TEST_F(RibTest, ClassPreferenceBeatsSourcePreference) {
  Load({Route("10.0.0.0/8", "transit-a")}, "file-a");
  EXPECT_EQ(fib_.One("10.1.2.3"), "transit-a");
  Load({Route("10.0.0.0/8", "peer-x")}, "file-b");
  EXPECT_EQ(fib_.One("10.1.2.3"), "peer-x");
  Load({Route("10.0.0.0/8", "cdn-1")}, "file-c");
  EXPECT_EQ(fib_.One("10.1.2.3"), "cdn-1");
  // An operator route (better source preference) does not beat a better class.
  Reply added = Exec(*cp_, "v1 route add 10.0.0.0/8 transit-b");
  ASSERT_TRUE(added.ok) << added.error;
  EXPECT_EQ(fib_.One("10.1.2.3"), "cdn-1");
  Reply r = Exec(*cp_, "v1 rib show 10.0.0.0/8");
  ASSERT_TRUE(r.ok) << r.error;
  // cdn first, then peering, then the two transits by source preference.
  EXPECT_THAT(r.body, HasSubstr("*> cdn-1 (cdn) from file-c"));
  EXPECT_LT(r.body.find("peer-x"), r.body.find("transit-b"));
  EXPECT_LT(r.body.find("transit-b (transit) from cli pref 50"),
            r.body.find("transit-a (transit) from file-a pref 100"));
}

TEST_F(RibTest, SourcePreferenceThenStableTieBreak) {
  Load({Route("192.0.2.0/24", "transit-b")}, "zz-file");
  Load({Route("192.0.2.0/24", "transit-a")}, "aa-file");
  // Same class, same preference: source name decides (aa-file).
  EXPECT_EQ(fib_.One("192.0.2.1"), "transit-a");
  // The operator's source has the better preference.
  ASSERT_TRUE(Exec(*cp_, "v1 route add 192.0.2.0/24 transit-c").ok);
  EXPECT_EQ(fib_.One("192.0.2.1"), "transit-c");
  // Order of arrival does not matter: same answer when loaded the other way.
  TestFib other;
  auto cp2 = ControlPlane::Create(testing::StandardSpec(), other.fib());
  ASSERT_TRUE(cp2.ok());
  std::vector<FileRoute> a = {Route("192.0.2.0/24", "transit-a")};
  std::vector<FileRoute> b = {Route("192.0.2.0/24", "transit-b")};
  ASSERT_TRUE((*cp2)->LoadRoutes(a, "aa-file").ok());
  ASSERT_TRUE((*cp2)->LoadRoutes(b, "zz-file").ok());
  EXPECT_EQ(other.One("192.0.2.1"), "transit-a");
}

TEST_F(RibTest, CandidateAddAndRemove) {
  Load({Route("0.0.0.0/0", "transit-a")}, "base");
  Load({Route("198.51.100.0/24", "peer-x")}, "peer");
  Load({Route("198.51.100.0/24", "transit-b")}, "transit");
  EXPECT_EQ(fib_.One("198.51.100.7"), "peer-x");
  std::vector<FileRoute> peer = {Route("198.51.100.0/24", "peer-x")};
  ASSERT_TRUE(cp_->RemoveRoutes(peer, "peer").ok());
  EXPECT_EQ(fib_.One("198.51.100.7"), "transit-b");
  // Removing what is not there is an error and changes nothing.
  absl::Status again = cp_->RemoveRoutes(peer, "peer");
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.message()), HasSubstr("198.51.100.0/24: no route from source"));
  EXPECT_EQ(fib_.One("198.51.100.7"), "transit-b");
  std::vector<FileRoute> tr = {Route("198.51.100.0/24", "transit-b")};
  ASSERT_TRUE(cp_->RemoveRoutes(tr, "transit").ok());
  // No candidate left: the prefix is gone and the default answers.
  EXPECT_EQ(fib_.One("198.51.100.7"), "transit-a");
  EXPECT_FALSE(fib_.v4->Find(*lpm::ParseIpv4Prefix("198.51.100.0/24")).has_value());
  EXPECT_EQ(cp_->route_count(), 1u);
}

TEST_F(RibTest, BatchIsAllOrNothing) {
  std::vector<FileRoute> routes = {Route("10.0.0.0/8", "peer-x"), Route("11.0.0.0/8", "nobody")};
  routes[1].line = 2;
  absl::Status s = cp_->LoadRoutes(routes, "batch.routes");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "batch.routes:2: egress: unknown neighbor or group 'nobody'");
  EXPECT_EQ(cp_->route_count(), 0u);
  EXPECT_EQ(fib_.One("10.0.0.1"), "none");
}

// The per-prefix candidate list: one inline, more on the heap; copies are
// deep, moves leave the source empty, erase keeps the order.
TEST(CandidateListTest, InlineHeapCopyMoveErase) {
  CandidateList l;
  EXPECT_TRUE(l.empty());
  l.push_back({1, 10});
  EXPECT_FALSE(l.on_heap());
  for (EgressId e = 11; e < 15; ++e) l.push_back({2, e});
  ASSERT_EQ(l.size(), 5u);
  EXPECT_TRUE(l.on_heap());
  CandidateList copy = l;
  l[0].egress = 99;  // the copy has its own storage
  EXPECT_EQ(copy[0].egress, 10u);
  copy.erase(std::remove_if(copy.begin(), copy.end(),
                            [](const Candidate& c) { return c.egress % 2 == 1; }),
             copy.end());
  ASSERT_EQ(copy.size(), 3u);
  EXPECT_EQ(copy[0].egress, 10u);
  EXPECT_EQ(copy[1].egress, 12u);
  EXPECT_EQ(copy[2].egress, 14u);
  CandidateList moved = std::move(copy);
  EXPECT_TRUE(copy.empty());  // NOLINT: a moved-from list is empty by contract
  EXPECT_EQ(moved.size(), 3u);
  CandidateList one;
  one.push_back({3, 7});
  moved = one;  // heap -> inline copy
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].egress, 7u);
  one = std::move(l);
  EXPECT_EQ(one.size(), 5u);
  EXPECT_EQ(one[0].egress, 99u);
  std::sort(one.begin(), one.end(),
            [](const Candidate& a, const Candidate& b) { return a.egress < b.egress; });
  EXPECT_EQ(one[0].egress, 11u);
  EXPECT_EQ(one[4].egress, 99u);
}

// Start-up loading straight from the files: egress names resolved per line
// (runs of the same name, then a change), errors naming file and line, and a
// bad line in a later file leaving nothing loaded from the earlier ones.
TEST(RibLoadTest, RouteFilesLoadWholeOrNotAtAll) {
  const std::string tag = std::to_string(::getpid());
  const std::string good = testing::WriteTempFile("load_good_" + tag + ".routes",
                                                  "0.0.0.0/0 transit-a\n"
                                                  "10.0.0.0/8 peer-x\n"
                                                  "11.0.0.0/8 peer-x\n"
                                                  "12.0.0.0/8 cdn-1\n"
                                                  "2001:db8::/32 transit-ecmp\n");
  const std::string unknown = testing::WriteTempFile("load_unknown_" + tag + ".routes",
                                                     "20.0.0.0/8 peer-y\n\n"
                                                     "21.0.0.0/8 nobody\n");
  const std::string malformed = testing::WriteTempFile("load_bad_" + tag + ".routes",
                                                       "30.0.0.0/8 peer-y\n30.0.0.1/8 peer-y\n");
  for (const auto& [second, error] :
       {std::pair{unknown, unknown + ":3: egress: unknown neighbor or group 'nobody'"},
        std::pair{malformed, malformed + ":2: prefix: '30.0.0.1/8' has host bits set"}}) {
    TestFib fib;
    ControlSpec spec = testing::StandardSpec();
    spec.route_files = {good, second};
    auto cp = ControlPlane::Create(spec, fib.fib());
    ASSERT_TRUE(cp.ok()) << cp.status();
    absl::Status s = (*cp)->LoadRouteFiles();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message(), error);
    EXPECT_EQ((*cp)->route_count(), 0u);
    EXPECT_EQ(fib.One("10.0.0.1"), "none");
  }
  TestFib fib;
  ControlSpec spec = testing::StandardSpec();
  spec.route_files = {good};
  auto cp = ControlPlane::Create(spec, fib.fib());
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_TRUE((*cp)->LoadRouteFiles().ok());
  EXPECT_EQ((*cp)->route_count(), 5u);
  EXPECT_EQ(fib.One("10.0.0.1"), "peer-x");
  EXPECT_EQ(fib.One("11.0.0.1"), "peer-x");
  EXPECT_EQ(fib.One("12.0.0.1"), "cdn-1");
  EXPECT_EQ(fib.One("13.0.0.1"), "transit-a");
  EXPECT_EQ(fib.One("2001:db8::1"), "transit-a,transit-b");
}

TEST_F(RibTest, PrefixesWithTheSameChainShareOnePath) {
  std::vector<FileRoute> peer, transit;
  for (int i = 0; i < 1000; ++i) {
    std::string p = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    peer.push_back(Route(p.c_str(), "peer-x"));
    transit.push_back(Route(p.c_str(), "transit-a"));
  }
  Load(peer, "peer");
  Load(transit, "transit");
  EXPECT_EQ(cp_->route_count(), 1000u);
  EXPECT_EQ(cp_->path_count(), 1u);  // [peer-x, transit-a]
  Load({Route("20.0.0.0/8", "transit-a")}, "transit2");
  EXPECT_EQ(cp_->path_count(), 2u);  // + [transit-a]
}

TEST_F(RibTest, FailoverRewritesPathsNotPrefixes) {
  Load({Route("0.0.0.0/0", "transit-b")}, "default");
  std::vector<FileRoute> peer, transit;
  for (int i = 0; i < 2000; ++i) {
    std::string p = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    peer.push_back(Route(p.c_str(), "peer-x"));
    transit.push_back(Route(p.c_str(), "transit-a"));
  }
  Load(peer, "peer");
  Load(transit, "transit");
  const size_t v4_routes = fib_.v4->route_count();
  EXPECT_EQ(fib_.One("10.3.4.5"), "peer-x");

  ASSERT_TRUE(cp_->SetNeighborUp("peer-x", false).ok());
  // One path mentions peer-x; the FIB (prefix -> path) did not change.
  EXPECT_EQ(cp_->last_failover_paths(), 1u);
  EXPECT_EQ(fib_.v4->route_count(), v4_routes);
  for (int i = 0; i < 2000; i += 97) {
    std::string a = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".9";
    EXPECT_EQ(fib_.One(a.c_str()), "transit-a") << a;
  }
  ASSERT_TRUE(cp_->SetNeighborUp("peer-x", true).ok());
  EXPECT_EQ(fib_.One("10.3.4.5"), "peer-x");
  EXPECT_EQ(fib_.One("10.7.207.5"), "peer-x");
}

TEST_F(RibTest, NoAlternativeFallsBackToCoveringRoute) {
  Load({Route("0.0.0.0/0", "transit-b"), Route("203.0.113.0/24", "peer-y"),
        Route("2001:db8::/32", "peer-y"), Route("::/0", "transit-a")},
       "routes");
  EXPECT_EQ(fib_.One("203.0.113.9"), "peer-y");
  EXPECT_EQ(fib_.One("2001:db8::9"), "peer-y");
  ASSERT_TRUE(cp_->SetNeighborUp("peer-y", false).ok());
  EXPECT_EQ(fib_.One("203.0.113.9"), "transit-b");
  EXPECT_EQ(fib_.One("2001:db8::9"), "transit-a");
  Reply r = Exec(*cp_, "v1 route show 203.0.113.0/24");
  ASSERT_TRUE(r.ok);
  EXPECT_THAT(r.body, HasSubstr("withdrawn"));
  ASSERT_TRUE(cp_->SetNeighborUp("peer-y", true).ok());
  EXPECT_EQ(fib_.One("203.0.113.9"), "peer-y");
  EXPECT_EQ(fib_.One("2001:db8::9"), "peer-y");
  // A prefix added while its only neighbour is down waits out of the FIB.
  ASSERT_TRUE(cp_->SetNeighborUp("peer-x", false).ok());
  Load({Route("203.0.114.0/24", "peer-x")}, "late");
  EXPECT_EQ(fib_.One("203.0.114.1"), "transit-b");
  ASSERT_TRUE(cp_->SetNeighborUp("peer-x", true).ok());
  EXPECT_EQ(fib_.One("203.0.114.1"), "peer-x");
}

TEST_F(RibTest, GroupMembersAndWeights) {
  Load({Route("100.64.0.0/10", "transit-ecmp")}, "r");
  const auto m = fib_.Members(*lpm::ParseIpv4Address("100.64.0.1"));
  ASSERT_EQ(m.size(), 4u);  // weights 1:3 -> 1 + 3 slots
  EXPECT_EQ(std::count(m.begin(), m.end(), "transit-a"), 1);
  EXPECT_EQ(std::count(m.begin(), m.end(), "transit-b"), 3);
}

TEST_F(RibTest, EcmpFlowsOnSurvivingMembersKeepTheirMember) {
  Load({Route("100.64.0.0/10", "transit-4"), Route("0.0.0.0/0", "peer-x")}, "r");
  const lpm::Ipv4Address a = *lpm::ParseIpv4Address("100.64.0.1");
  const auto before = fib_.Members(a);
  ASSERT_EQ(before.size(), 4u);
  ASSERT_TRUE(cp_->SetNeighborUp("transit-c", false).ok());
  const auto during = fib_.Members(a);
  ASSERT_EQ(during.size(), before.size());
  for (size_t slot = 0; slot < before.size(); ++slot) {
    // Any flow hash maps to slot = hash % count: unchanged count, so a flow
    // whose member survived keeps it; the down member's flows move.
    if (before[slot] != "transit-c") {
      EXPECT_EQ(during[slot], before[slot]) << slot;
    }
    EXPECT_NE(during[slot], "transit-c");
  }
  ASSERT_TRUE(cp_->SetNeighborUp("transit-c", true).ok());
  EXPECT_EQ(fib_.Members(a), before);
  // Every member down: the group is unusable, the covering route answers.
  for (const char* n : {"transit-a", "transit-b", "transit-c", "transit-d"}) {
    ASSERT_TRUE(cp_->SetNeighborUp(n, false).ok());
  }
  EXPECT_EQ(fib_.One("100.64.0.1"), "peer-x");
}

TEST(ExpandWeightsTest, Proportional) {
  const uint32_t a[] = {1, 3};
  EXPECT_THAT(ExpandWeights(a), ElementsAre(1, 3));
  const uint32_t b[] = {1, 1000};
  EXPECT_THAT(ExpandWeights(b), ElementsAre(1, 15));
  const uint32_t c[] = {10, 10, 20};
  EXPECT_THAT(ExpandWeights(c), ElementsAre(4, 4, 8));
  const uint32_t d[] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
  auto sixteen = ExpandWeights(d);
  EXPECT_EQ(sixteen.size(), 16u);
  EXPECT_TRUE(std::all_of(sixteen.begin(), sixteen.end(), [](size_t s) { return s == 1; }));
}

TEST_F(RibTest, BadSpecIsRefused) {
  TestFib other;
  auto spec = testing::StandardSpec();
  spec.groups.push_back({"bad", {{"nobody", 1}}});
  auto cp = ControlPlane::Create(spec, other.fib());
  ASSERT_FALSE(cp.ok());
  EXPECT_THAT(std::string(cp.status().message()), HasSubstr("group bad: member 'nobody'"));
}

TEST_F(RibTest, ChurnReturnsToBaseline) {
  Load({Route("0.0.0.0/0", "transit-a")}, "base");
  fib_.qsbr.Synchronize();
  cp_->Poll(0);
  const size_t base_paths = cp_->path_count();
  size_t memory_after_first_round = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<FileRoute> routes;
    const char* egresses[] = {"peer-x", "peer-y", "transit-ecmp", "cdn-1", "transit-b"};
    for (int i = 0; i < 20000; ++i) {
      std::string p = std::to_string(11 + i % 100) + "." + std::to_string(i / 100 % 256) + "." +
                      std::to_string(round) + ".0/24";
      routes.push_back(Route(p.c_str(), egresses[i % 5]));
    }
    ASSERT_TRUE(cp_->LoadRoutes(routes, "churn").ok());
    ASSERT_TRUE(cp_->SetNeighborUp("peer-x", false).ok());
    ASSERT_TRUE(cp_->SetNeighborUp("peer-x", true).ok());
    ASSERT_TRUE(cp_->RemoveRoutes(routes, "churn").ok());
    fib_.qsbr.Synchronize();
    cp_->Poll(0);
    fib_.qsbr.Synchronize();  // ClearPath (run by Poll) retires the member lists
    EXPECT_EQ(cp_->route_count(), 1u);
    EXPECT_EQ(cp_->path_count(), base_paths);
    EXPECT_EQ(fib_.qsbr.pending(), 0u);
    const size_t memory = fib_.v4->memory_bytes() + fib_.v6->memory_bytes();
    if (round == 0) memory_after_first_round = memory;
    EXPECT_LE(memory, memory_after_first_round) << "round " << round;
  }
}

// Neighbour failover waits for the workers: after SetNeighborUp returns OK,
// every online worker has passed a quiescent state since the switch, so none
// can still forward with a member list it read before.
TEST_F(RibTest, NeighborDownReturnsOnlyAfterWorkersPassedTheSwitch) {
  Load({Route("0.0.0.0/0", "transit-b"), Route("203.0.113.0/24", "peer-x")}, "routes");
  const auto reader = fib_.qsbr.RegisterReader();
  fib_.qsbr.Online(reader);
  std::atomic<bool> quiesced{false}, stop{false};
  std::thread worker([&] {
    // Busy with a burst for a while after the switch started, then polling.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    quiesced.store(true);
    while (!stop.load()) {
      fib_.qsbr.Quiescent(reader);
      std::this_thread::yield();
    }
  });
  const absl::Status s = cp_->SetNeighborUp("peer-x", false);
  EXPECT_TRUE(quiesced.load()) << "returned before the worker passed a quiescent state";
  stop.store(true);
  worker.join();
  fib_.qsbr.UnregisterReader(reader);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(fib_.One("203.0.113.1"), "transit-b");
}

TEST_F(RibTest, NeighborDownWithAStalledWorkerGivesUpWithAnError) {
  Load({Route("0.0.0.0/0", "transit-b"), Route("203.0.113.0/24", "peer-x")}, "routes");
  const auto reader = fib_.qsbr.RegisterReader();
  fib_.qsbr.Online(reader);  // and never quiescent again
  const absl::Status s = cp_->SetNeighborUp("peer-x", false);
  fib_.qsbr.UnregisterReader(reader);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("may still forward the old way"));
  // The switch itself stands.
  EXPECT_EQ(fib_.One("203.0.113.1"), "transit-b");
  Reply r = Exec(*cp_, "v1 neighbor show peer-x");
  ASSERT_TRUE(r.ok);
  EXPECT_THAT(r.body, HasSubstr("down"));
}

// The Rib itself, to see inside: which prefixes a recompute visits, and
// what a worker holding a path id reads.
class RibInternalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = testing::StandardSpec();
    ASSERT_TRUE(egress_.ValidateSpec(spec_).ok());
    std::vector<dataplane::AdjacencyId> released;
    egress_.ApplySpec(spec_, &fib_.state, &released);
    rib_ = std::make_unique<Rib>(fib_.fib(), &egress_, &spec_);
    source_ = rib_->AddSource("test", 100);
  }
  void TearDown() override { fib_.qsbr.Synchronize(); }
  RouteChange Change(RouteChange::Op op, const char* prefix, const char* egress) {
    const FileRoute r = Route(prefix, egress);
    return {op, r.prefix, source_, *egress_.Find(egress)};
  }
  void Apply(std::vector<RouteChange> changes) { ASSERT_TRUE(rib_->Apply(changes).ok()); }
  void SetNeighbor(const char* name, bool up) {
    const EgressId id = *egress_.Find(name);
    egress_.SetUp(id, up);
    const EgressId ids[] = {id};
    ASSERT_TRUE(rib_->Recompute(ids).ok());
  }
  dataplane::PathId PathOf(const char* prefix) {
    const RibEntry* e = rib_->Find(std::get<lpm::Ipv4Prefix>(Route(prefix, "peer-x").prefix));
    EXPECT_NE(e, nullptr) << prefix;
    return e == nullptr ? kNoPath : e->path;
  }
  TestFib fib_;
  ControlSpec spec_;
  EgressModel egress_;
  std::unique_ptr<Rib> rib_;
  SourceId source_ = 0;
};

TEST_F(RibInternalsTest, WithdrawalVisitsOnlyTheWithdrawnPrefixes) {
  std::vector<RouteChange> changes = {
      Change(RouteChange::Op::kAdd, "0.0.0.0/0", "transit-a"),
      Change(RouteChange::Op::kAdd, "::/0", "transit-a"),
      Change(RouteChange::Op::kAdd, "203.0.113.0/24", "peer-y"),
      Change(RouteChange::Op::kAdd, "203.0.114.0/24", "peer-y"),
      Change(RouteChange::Op::kAdd, "203.0.115.0/24", "peer-y"),
      Change(RouteChange::Op::kAdd, "2001:db8::/32", "peer-y"),
  };
  // Many unrelated prefixes, some through peer-y with a fallback.
  for (int i = 0; i < 5000; ++i) {
    const std::string p = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    changes.push_back(Change(RouteChange::Op::kAdd, p.c_str(), "transit-b"));
    if (i % 2) changes.push_back(Change(RouteChange::Op::kAdd, p.c_str(), "peer-y"));
  }
  Apply(changes);

  SetNeighbor("peer-y", false);
  EXPECT_EQ(rib_->last_recompute_prefix_visits(), 4u);
  EXPECT_EQ(rib_->fib_withdrawn(), 4u);
  EXPECT_EQ(fib_.One("203.0.114.1"), "transit-a");
  EXPECT_EQ(fib_.One("2001:db8::1"), "transit-a");
  EXPECT_EQ(fib_.One("10.0.1.1"), "transit-b");
  SetNeighbor("peer-y", true);
  EXPECT_EQ(rib_->last_recompute_prefix_visits(), 4u);
  EXPECT_EQ(rib_->fib_withdrawn(), 0u);
  EXPECT_EQ(fib_.One("203.0.114.1"), "peer-y");
  EXPECT_EQ(fib_.One("2001:db8::1"), "peer-y");
  EXPECT_EQ(fib_.One("10.0.1.1"), "peer-y");

  // transit-b down: only its own 2500 prefixes (no fallback) are visited;
  // the 2500 through [peer-y, transit-b] keep peer-y.
  SetNeighbor("transit-b", false);
  EXPECT_EQ(rib_->last_recompute_prefix_visits(), 2500u);
  EXPECT_EQ(fib_.One("10.0.0.1"), "transit-a");
  EXPECT_EQ(fib_.One("10.0.1.1"), "peer-y");
  SetNeighbor("transit-b", true);
  EXPECT_EQ(fib_.One("10.0.0.1"), "transit-b");

  // The per-path prefix sets follow route changes: one prefix removed, one
  // moved to a path with a fallback, one added.
  Apply({Change(RouteChange::Op::kRemove, "203.0.113.0/24", "peer-y"),
         Change(RouteChange::Op::kAdd, "203.0.114.0/24", "transit-b"),
         Change(RouteChange::Op::kAdd, "198.51.100.0/24", "peer-y")});
  SetNeighbor("peer-y", false);
  EXPECT_EQ(rib_->last_recompute_prefix_visits(), 3u);  // .115, .100, 2001:db8::/32
  EXPECT_EQ(rib_->fib_withdrawn(), 3u);
  EXPECT_EQ(fib_.One("203.0.114.1"), "transit-b");
  EXPECT_EQ(fib_.One("198.51.100.1"), "transit-a");
  // Changes while withdrawn keep the sets right too.
  Apply({Change(RouteChange::Op::kRemove, "198.51.100.0/24", "peer-y")});
  EXPECT_EQ(rib_->fib_withdrawn(), 2u);
  SetNeighbor("peer-y", true);
  EXPECT_EQ(rib_->last_recompute_prefix_visits(), 2u);
  EXPECT_EQ(rib_->fib_withdrawn(), 0u);
  EXPECT_EQ(fib_.One("203.0.115.1"), "peer-y");
  EXPECT_EQ(fib_.One("198.51.100.1"), "transit-a");
}

TEST_F(RibInternalsTest, WithdrawnPathKeepsItsMembersUntilAGracePeriodPassed) {
  Apply({Change(RouteChange::Op::kAdd, "0.0.0.0/0", "transit-a"),
         Change(RouteChange::Op::kAdd, "203.0.113.0/24", "peer-y")});
  const dataplane::PathId id = PathOf("203.0.113.0/24");
  ASSERT_NE(id, kNoPath);
  EXPECT_EQ(fib_.MembersOf(id), std::vector<std::string>{"peer-y"});

  // A worker that looked 203.0.113.1 up before the withdrawal holds `id`.
  const auto reader = fib_.qsbr.RegisterReader();
  fib_.qsbr.Online(reader);
  SetNeighbor("peer-y", false);
  EXPECT_EQ(fib_.One("203.0.113.1"), "transit-a");  // new lookups: the covering route
  // ... and still reads the old members, not an empty list (a drop).
  rib_->FinishReleases();
  EXPECT_EQ(fib_.MembersOf(id), std::vector<std::string>{"peer-y"});
  EXPECT_EQ(rib_->paths_awaiting_empty(), 1u);
  fib_.qsbr.Quiescent(reader);
  rib_->FinishReleases();
  EXPECT_TRUE(fib_.MembersOf(id).empty());
  EXPECT_EQ(rib_->paths_awaiting_empty(), 0u);

  // Back up before the grace period ends: the members stay.
  SetNeighbor("peer-y", true);
  SetNeighbor("peer-y", false);
  SetNeighbor("peer-y", true);
  fib_.qsbr.Quiescent(reader);
  rib_->FinishReleases();
  EXPECT_EQ(fib_.MembersOf(id), std::vector<std::string>{"peer-y"});
  EXPECT_EQ(fib_.One("203.0.113.1"), "peer-y");
  EXPECT_EQ(rib_->paths_awaiting_empty(), 0u);
  fib_.qsbr.UnregisterReader(reader);
}

}  // namespace
}  // namespace edgefwd::control
