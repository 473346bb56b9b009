#include "lpm/qsbr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace edgefwd::lpm {
namespace {

TEST(Qsbr, FreesAtOnceWithoutReaders) {
  QsbrDomain q(4);
  int freed = 0;
  q.Retire([&] { ++freed; });
  EXPECT_EQ(q.pending(), 1u);
  EXPECT_EQ(q.Reclaim(), 1u);
  EXPECT_EQ(freed, 1);
  EXPECT_EQ(q.pending(), 0u);
}

TEST(Qsbr, OnlineReaderHoldsBackUntilQuiescent) {
  QsbrDomain q(4);
  auto r = q.RegisterReader();
  int freed = 0;
  q.Retire([&] { ++freed; });
  EXPECT_EQ(q.Reclaim(), 0u);
  EXPECT_EQ(freed, 0);
  q.Quiescent(r);
  EXPECT_EQ(q.Reclaim(), 1u);
  EXPECT_EQ(freed, 1);
}

TEST(Qsbr, QuiescentBeforeRetireDoesNotCount) {
  QsbrDomain q(4);
  auto r = q.RegisterReader();
  q.Quiescent(r);
  int freed = 0;
  q.Retire([&] { ++freed; });
  EXPECT_EQ(q.Reclaim(), 0u);
  q.Quiescent(r);
  EXPECT_EQ(q.Reclaim(), 1u);
}

// NextToken tags memory without advancing the epoch: a quiescent state
// counts only once an Advance has passed the token, whenever that comes.
TEST(Qsbr, NextTokenWaitsForAnAdvanceAndAQuiescentStateAfterIt) {
  QsbrDomain q(4);
  auto r = q.RegisterReader();
  const uint64_t token = q.NextToken();
  EXPECT_EQ(q.NextToken(), token);  // no advance of its own
  q.Quiescent(r);
  EXPECT_FALSE(q.Passed(token));  // that quiescent state may precede the unlink
  q.AdvancePast(token);
  EXPECT_FALSE(q.Passed(token));
  q.Quiescent(r);
  EXPECT_TRUE(q.Passed(token));
  q.AdvancePast(token);  // already past: no further advance
  EXPECT_EQ(q.NextToken(), token + 1);
}

TEST(Qsbr, OfflineReaderDoesNotHoldBack) {
  QsbrDomain q(4);
  auto r = q.RegisterReader();
  auto r2 = q.RegisterReader();
  q.Offline(r);
  int freed = 0;
  q.Retire([&] { ++freed; });
  q.Quiescent(r2);
  EXPECT_EQ(q.Reclaim(), 1u);
  q.Online(r);
  q.Retire([&] { ++freed; });
  EXPECT_EQ(q.Reclaim(), 0u);
  q.UnregisterReader(r);
  q.Quiescent(r2);
  EXPECT_EQ(q.Reclaim(), 1u);
  EXPECT_EQ(freed, 2);
}

TEST(Qsbr, FreesInRetireOrderAndOnlyWhatIsSafe) {
  QsbrDomain q(2);
  auto r = q.RegisterReader();
  std::vector<int> order;
  q.Retire([&] { order.push_back(1); });
  q.Quiescent(r);
  q.Retire([&] { order.push_back(2); });
  EXPECT_EQ(q.Reclaim(), 1u);
  q.Quiescent(r);
  EXPECT_EQ(q.Reclaim(), 1u);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(Qsbr, TokensAdvanceAndPass) {
  QsbrDomain q(2);
  auto r = q.RegisterReader();
  uint64_t t = q.Advance();
  EXPECT_FALSE(q.Passed(t));
  q.Quiescent(r);
  EXPECT_TRUE(q.Passed(t));
  EXPECT_GT(q.Advance(), t);
}

// edgefwd's rte_pdump barrier takes tokens from the EAL multi-process thread
// while the control thread takes its own: no two callers may get the same
// token (a lost increment would let a reader's earlier quiescent state pass
// for memory unlinked after it).
TEST(Qsbr, ConcurrentAdvanceNeverRepeatsAToken) {
  QsbrDomain q(1);
  constexpr int kPerThread = 200000;
  std::vector<uint64_t> a, b;
  a.reserve(kPerThread);
  b.reserve(kPerThread);
  std::atomic<bool> go{false};
  auto take = [&](std::vector<uint64_t>* out) {
    while (!go.load()) {
    }
    for (int i = 0; i < kPerThread; ++i) out->push_back(q.Advance());
  };
  std::thread ta(take, &a), tb(take, &b);
  go.store(true);
  ta.join();
  tb.join();
  std::vector<uint64_t> all(a);
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST(Qsbr, RegisterBeyondCapacityFails) {
  QsbrDomain q(1);
  EXPECT_EQ(q.RegisterReader(), 0u);
  EXPECT_EQ(q.RegisterReader(), ~QsbrDomain::ReaderId{0});
}

TEST(Qsbr, SynchronizeWaitsForAReaderThread) {
  QsbrDomain q(2);
  auto r = q.RegisterReader();
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) q.Quiescent(r);
    q.Offline(r);
  });
  int freed = 0;
  for (int i = 0; i < 100; ++i) {
    q.Retire([&] { ++freed; });
    q.Synchronize();
    EXPECT_EQ(freed, i + 1);
  }
  stop = true;
  reader.join();
}

TEST(Qsbr, DestructorFreesWhatIsLeft) {
  int freed = 0;
  {
    QsbrDomain q(2);
    q.RegisterReader();
    q.Retire([&] { ++freed; });
  }
  EXPECT_EQ(freed, 1);
}

}  // namespace
}  // namespace edgefwd::lpm
