#include "dataplane/state/forwarding_state.h"

#include <gtest/gtest.h>

#include "lpm/qsbr.h"

namespace edgefwd::dataplane {
namespace {

PathMembers Members(std::initializer_list<AdjacencyId> ids) {
  PathMembers m;
  for (AdjacencyId id : ids) m.members[m.count++] = id;
  return m;
}

TEST(ForwardingStateTest, PathsStartEmpty) {
  lpm::QsbrDomain qsbr(4);
  ForwardingState state(&qsbr, 8);
  EXPECT_EQ(state.max_paths(), 8u);
  for (PathId id = 0; id < 8; ++id) EXPECT_EQ(state.path(id), nullptr);
}

TEST(ForwardingStateTest, SetPathPublishesACopy) {
  lpm::QsbrDomain qsbr(4);
  ForwardingState state(&qsbr, 8);
  PathMembers m = Members({3, 5});
  state.SetPath(2, m);
  m.members[0] = 9;  // the published list must not alias the caller's
  const PathMembers* p = state.path(2);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->count, 2);
  EXPECT_EQ(p->members[0], 3);
  EXPECT_EQ(p->members[1], 5);
  EXPECT_EQ(qsbr.pending(), 0u);  // nothing replaced yet
}

TEST(ForwardingStateTest, ReplacedListWaitsForReaders) {
  lpm::QsbrDomain qsbr(4);
  ForwardingState state(&qsbr, 8);
  auto reader = qsbr.RegisterReader();
  qsbr.Online(reader);
  state.SetPath(1, Members({1}));
  const PathMembers* seen = state.path(1);  // a worker holds this pointer
  state.SetPath(1, Members({2}));
  EXPECT_EQ(qsbr.pending(), 1u);
  EXPECT_EQ(qsbr.Reclaim(), 0u);   // the reader has not been quiescent
  EXPECT_EQ(seen->members[0], 1);  // still valid to read
  EXPECT_EQ(state.path(1)->members[0], 2);
  qsbr.Quiescent(reader);
  EXPECT_EQ(qsbr.Reclaim(), 1u);
  qsbr.UnregisterReader(reader);
}

TEST(ForwardingStateTest, ClearPathRetiresAndReadsNull) {
  lpm::QsbrDomain qsbr(4);
  ForwardingState state(&qsbr, 8);
  state.SetPath(7, Members({4}));
  state.ClearPath(7);
  EXPECT_EQ(state.path(7), nullptr);
  EXPECT_EQ(qsbr.pending(), 1u);
  qsbr.Synchronize();
  EXPECT_EQ(qsbr.pending(), 0u);
  state.ClearPath(7);  // clearing an empty path retires nothing
  EXPECT_EQ(qsbr.pending(), 0u);
}

TEST(ForwardingStateTest, CountAboveCapacityIsClamped) {
  lpm::QsbrDomain qsbr(1);
  ForwardingState state(&qsbr, 1);
  PathMembers m;
  m.count = 200;
  state.SetPath(0, m);
  EXPECT_EQ(state.path(0)->count, kMaxPathMembers);
}

TEST(ForwardingStateTest, AdjacencyRoundTrip) {
  lpm::QsbrDomain qsbr(1);
  ForwardingState state(&qsbr, 1);
  Adjacency adj;
  adj.dst_mac = {0x02, 0, 0, 0, 0, 1};
  adj.src_mac = {0x02, 0, 0, 0, 0, 2};
  adj.port = 3;
  adj.vlan = 100;
  adj.neighbor = 17;
  adj.egress_class = EgressClass::kPeering;
  state.SetAdjacency(kMaxAdjacencies - 1, adj);
  const Adjacency& got = state.adjacency(kMaxAdjacencies - 1);
  EXPECT_EQ(got.dst_mac, adj.dst_mac);
  EXPECT_EQ(got.src_mac, adj.src_mac);
  EXPECT_EQ(got.port, 3);
  EXPECT_EQ(got.vlan, 100);
  EXPECT_EQ(got.neighbor, 17);
  EXPECT_EQ(got.egress_class, EgressClass::kPeering);
}

TEST(ForwardingStateDeathTest, OutOfRangeIdAborts) {
  lpm::QsbrDomain qsbr(1);
  ForwardingState state(&qsbr, 2);
  EXPECT_DEATH(state.SetPath(2, PathMembers{}), "path id 2 out of range");
  EXPECT_DEATH(state.SetAdjacency(kMaxAdjacencies, Adjacency{}), "adjacency id");
}

}  // namespace
}  // namespace edgefwd::dataplane
