// Reload: a re-read config is applied as a difference; a bad one changes
// nothing.
#include <atomic>
#include <string>
#include <thread>

#include "control/test/fixture.h"
#include "control/test/socket_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgefwd::control {
namespace {

using testing::Exec;
using ::testing::HasSubstr;
using testing::Reply;

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = testing::StandardSpec();
    file_ = testing::WriteTempFile("reload_" + std::to_string(::getpid()) + ".routes",
                                   "0.0.0.0/0 transit-a\n"
                                   "10.0.0.0/8 peer-x\n"
                                   "10.0.0.0/8 transit-b\n"
                                   "20.0.0.0/8 peer-y\n"
                                   "30.0.0.0/8 cdn-1\n");
    spec_.route_files = {file_};
    auto cp = ControlPlane::Create(spec_, fib_.fib());
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
    ASSERT_TRUE(cp_->LoadRouteFiles().ok());
    cp_->SetReloadProvider([this]() -> absl::StatusOr<ControlSpec> { return next_; });
  }
  lpm::NextHop FibOf(const char* prefix) {
    auto nh = fib_.v4->Find(*lpm::ParseIpv4Prefix(prefix));
    return nh ? *nh : lpm::kNoRoute;
  }
  testing::TestFib fib_;
  ControlSpec spec_;
  ControlSpec next_;
  std::string file_;
  std::unique_ptr<ControlPlane> cp_;
};

TEST_F(ReloadTest, AppliesOnlyTheDifference) {
  EXPECT_EQ(fib_.One("10.1.1.1"), "peer-x");
  const lpm::NextHop ten = FibOf("10.0.0.0/8");
  const lpm::NextHop def = FibOf("0.0.0.0/0");
  testing::WriteTempFile("reload_" + std::to_string(::getpid()) + ".routes",
                         "0.0.0.0/0 transit-a\n"
                         "10.0.0.0/8 peer-x\n"
                         "10.0.0.0/8 transit-b\n"
                         "20.0.0.0/8 transit-ecmp\n"  // egress changed
                         "40.0.0.0/8 cdn-1\n");       // 30/8 removed, 40/8 added
  next_ = spec_;
  Reply r = Exec(*cp_, "v1 reload");
  ASSERT_TRUE(r.ok) << r.error;
  // Unchanged routes kept their FIB entry (same shared path).
  EXPECT_EQ(FibOf("10.0.0.0/8"), ten);
  EXPECT_EQ(FibOf("0.0.0.0/0"), def);
  EXPECT_EQ(fib_.One("20.1.1.1"), "transit-a,transit-b");
  EXPECT_EQ(fib_.One("30.1.1.1"), "transit-a");  // default now
  EXPECT_EQ(fib_.One("40.1.1.1"), "cdn-1");
  EXPECT_EQ(cp_->route_count(), 4u);
}

TEST_F(ReloadTest, NeighbourChangesMoveToAFreshAdjacency) {
  const auto before = *fib_.state.path(FibOf("20.0.0.0/8"));
  next_ = spec_;
  for (auto& n : next_.neighbors) {
    if (n.name == "peer-y") n.mac = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  }
  next_.neighbors.push_back(testing::Neighbor("peer-z", dataplane::EgressClass::kPeering, 3));
  ASSERT_TRUE(cp_->Reload().ok());
  const auto after = *fib_.state.path(FibOf("20.0.0.0/8"));
  ASSERT_EQ(after.count, 1);
  EXPECT_NE(after.members[0], before.members[0]);
  EXPECT_EQ(fib_.state.adjacency(after.members[0]).dst_mac[1], 0xaa);
  EXPECT_TRUE(Exec(*cp_, "v1 route add 50.0.0.0/8 peer-z").ok);
}

// The workers count packets per egress class from the adjacency: a
// neighbour whose class changes (same wire) must get an adjacency with the
// new class, or its traffic goes on being counted under the old one.
TEST_F(ReloadTest, NeighbourClassChangeReachesItsAdjacency) {
  auto class_of_20 = [&] {
    const auto* path = fib_.state.path(FibOf("20.0.0.0/8"));
    return fib_.state.adjacency(path->members[0]).egress_class;
  };
  ASSERT_EQ(class_of_20(), dataplane::EgressClass::kPeering);
  next_ = spec_;
  for (auto& n : next_.neighbors) {
    if (n.name == "peer-y") n.egress_class = dataplane::EgressClass::kCdn;
  }
  ASSERT_TRUE(cp_->Reload().ok());
  EXPECT_EQ(class_of_20(), dataplane::EgressClass::kCdn);
  EXPECT_EQ(fib_.One("20.1.1.1"), "peer-y");
}

TEST_F(ReloadTest, ClassChangeReranks) {
  EXPECT_EQ(fib_.One("10.1.1.1"), "peer-x");
  next_ = spec_;
  next_.class_preference = {dataplane::EgressClass::kTransit, dataplane::EgressClass::kPeering,
                            dataplane::EgressClass::kCdn};
  ASSERT_TRUE(cp_->Reload().ok());
  EXPECT_EQ(fib_.One("10.1.1.1"), "transit-b");
}

TEST_F(ReloadTest, BadConfigChangesNothing) {
  const lpm::NextHop ten = FibOf("10.0.0.0/8");
  const std::string bad = testing::WriteTempFile("reload_bad.routes", "60.0.0.0/8 ghost\n");
  next_ = spec_;
  next_.route_files = {file_, bad};
  absl::Status s = cp_->Reload();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), bad + ":1: egress: unknown neighbor or group 'ghost'");
  EXPECT_EQ(FibOf("10.0.0.0/8"), ten);
  EXPECT_EQ(cp_->route_count(), 4u);

  // A neighbour an operator route still uses cannot disappear.
  ASSERT_TRUE(Exec(*cp_, "v1 route add 70.0.0.0/8 peer-y").ok);
  next_ = spec_;
  std::erase_if(next_.neighbors, [](const NeighborSpec& n) { return n.name == "peer-y"; });
  testing::WriteTempFile("reload_" + std::to_string(::getpid()) + ".routes",
                         "0.0.0.0/0 transit-a\n10.0.0.0/8 peer-x\n");
  s = cp_->Reload();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("'peer-y' is not in the new config"));
  EXPECT_EQ(fib_.One("70.1.1.1"), "peer-y");
  EXPECT_EQ(fib_.One("20.1.1.1"), "peer-y");
}

TEST_F(ReloadTest, GroupGainsAMemberThatThenFails) {
  ASSERT_TRUE(Exec(*cp_, "v1 route add 80.0.0.0/8 transit-ecmp").ok);
  next_ = spec_;
  next_.groups[0].members.push_back({"transit-c", 4});
  ASSERT_TRUE(cp_->Reload().ok());
  EXPECT_EQ(fib_.One("80.1.1.1"), "transit-a,transit-b,transit-c");
  // The new member's failure must reach the paths through the group.
  ASSERT_TRUE(cp_->SetNeighborUp("transit-c", false).ok());
  EXPECT_EQ(fib_.One("80.1.1.1"), "transit-a,transit-b");
  // And a member dropped from the group no longer matters to it.
  next_.groups[0].members = {{"transit-a", 1}};
  ASSERT_TRUE(cp_->Reload().ok());
  ASSERT_TRUE(cp_->SetNeighborUp("transit-b", false).ok());
  EXPECT_EQ(fib_.One("80.1.1.1"), "transit-a");
}

TEST_F(ReloadTest, RemovedFileWithdrawsItsRoutes) {
  next_ = spec_;
  next_.route_files = {};
  ASSERT_TRUE(cp_->Reload().ok());
  EXPECT_EQ(cp_->route_count(), 0u);
  EXPECT_EQ(fib_.One("10.1.1.1"), "none");
}

// `reload` through the socket, with the control loop on its own thread (as in
// the daemon) and one worker registered with the QSBR domain. The reload
// drops peer-y (neighbour, adjacency and path): its reply may only go out
// once the worker has passed a quiescent state, and waiting for that must
// not block other clients.
class ReloadSocketTest : public ReloadTest {
 protected:
  void SetUp() override {
    ReloadTest::SetUp();
    worker_ = fib_.qsbr.RegisterReader();
    fib_.qsbr.Quiescent(worker_);  // online: mid-burst from here on
    next_ = spec_;
    std::erase_if(next_.neighbors, [](const NeighborSpec& n) { return n.name == "peer-y"; });
    testing::WriteTempFile("reload_" + std::to_string(::getpid()) + ".routes",
                           "0.0.0.0/0 transit-a\n10.0.0.0/8 peer-x\n");
    ASSERT_TRUE(cp_->StartSocket().ok());
    // No timeout: the loop sleeps until a client does something, so a
    // deferred reply is only released promptly if the socket itself comes
    // back for it (as it must: nothing else may happen for a long time).
    loop_ = std::thread([this] {
      while (!stop_.load()) cp_->Poll(-1);
    });
  }
  void TearDown() override {
    stop_ = true;
    ::close(testing::Connect(spec_.socket_path));  // wakes the loop
    if (loop_.joinable()) loop_.join();
    fib_.qsbr.UnregisterReader(worker_);
  }
  lpm::QsbrDomain::ReaderId worker_ = 0;
  std::thread loop_;
  std::atomic<bool> stop_{false};
};

TEST_F(ReloadSocketTest, ReplyWaitsForTheWorkersWithoutBlockingOthers) {
  EXPECT_EQ(fib_.One("20.1.1.1"), "peer-y");
  const int fd = testing::Connect(spec_.socket_path);
  ASSERT_GE(fd, 0);
  testing::SendAll(fd, "v1 reload\n");
  // Applied at once (nothing routes to peer-y any more) ...
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (fib_.One("20.1.1.1") != "transit-a" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(fib_.One("20.1.1.1"), "transit-a");
  // ... but not acknowledged while the worker may still hold peer-y's path.
  EXPECT_FALSE(testing::ReadReply(fd, 300).done())
      << "reload replied before the worker passed a quiescent state";
  // The control thread keeps serving other clients meanwhile.
  const int other = testing::Connect(spec_.socket_path);
  ASSERT_GE(other, 0);
  testing::SendAll(other, "v1 route show\n");
  ResponseReader shown = testing::ReadReply(other, 2000);
  EXPECT_TRUE(shown.done() && shown.ok()) << shown.error();
  ::close(other);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the loop is idle again
  // The worker's next quiescent state releases the reply (without any
  // client activity to wake the loop).
  fib_.qsbr.Quiescent(worker_);
  ResponseReader reply = testing::ReadReply(fd, 2000);
  ASSERT_TRUE(reply.done());
  EXPECT_TRUE(reply.ok()) << reply.error();
  EXPECT_THAT(reply.body(), HasSubstr("reloaded"));
  ::close(fd);
}

TEST_F(ReloadSocketTest, StalledWorkerGivesAnErrorAfterTheGraceTimeout) {
  const int fd = testing::Connect(spec_.socket_path);
  ASSERT_GE(fd, 0);
  testing::SendAll(fd, "v1 reload\n");
  ResponseReader reply = testing::ReadReply(fd, 5000);
  ASSERT_TRUE(reply.done());
  EXPECT_FALSE(reply.ok());
  EXPECT_THAT(reply.error(), HasSubstr("reload: applied, but a worker has not passed"));
  EXPECT_EQ(fib_.One("20.1.1.1"), "transit-a");  // the change stands
  ::close(fd);
}

}  // namespace
}  // namespace edgefwd::control
