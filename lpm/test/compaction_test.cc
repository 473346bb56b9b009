// Maintain() gives memory back after churn: the pools only grow while routes
// come and go, and a compaction rebuilds them to what the routes need,
// without changing a single answer.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"
#include "lpm/qsbr.h"

namespace edgefwd::lpm {
namespace {

std::vector<Ipv4Prefix> DistinctSlash24s(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Ipv4Prefix> out;
  std::vector<bool> used(1u << 24, false);
  while (out.size() < n) {
    uint32_t net = rng() & 0xFFFFFF;
    if (used[net]) continue;
    used[net] = true;
    out.push_back({net << 8, 24});
  }
  return out;
}

TEST(Compaction, MemoryReturnsAfterMassRemoval) {
  QsbrDomain qsbr(1);
  auto table = Ipv4Table::Create(TableConfig{}, &qsbr);
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->Insert({0, 0}, 1), LpmError::kOk);
  const std::vector<Ipv4Prefix> kept = DistinctSlash24s(2000, 1);
  for (const Ipv4Prefix& p : kept) ASSERT_EQ(table->Insert(p, 2), LpmError::kOk);
  table->Maintain();
  const size_t baseline = table->memory_bytes();

  // Churn: many routes come (one at a time, so the pools grow) and go.
  const std::vector<Ipv4Prefix> churn = DistinctSlash24s(60000, 2);
  size_t peak = 0;
  for (const Ipv4Prefix& p : churn) {
    if (table->Find(p)) continue;  // one of the kept ones
    ASSERT_EQ(table->Insert(p, 3), LpmError::kOk);
  }
  peak = table->memory_bytes();
  for (const Ipv4Prefix& p : churn) {
    if (table->Find(p) == std::optional<NextHop>(3)) {
      ASSERT_EQ(table->Remove(p), LpmError::kOk);
    }
  }
  ASSERT_GT(peak, baseline + (1u << 20)) << "the churn did not grow the pools";

  // No reader is registered, so every retired run is reclaimable at once.
  table->Maintain();
  EXPECT_LE(table->memory_bytes(), baseline + (512u << 10))
      << "baseline " << baseline << ", peak " << peak;

  // Same answers as before the churn.
  EXPECT_EQ(table->route_count(), kept.size() + 1);
  for (const Ipv4Prefix& p : kept) {
    EXPECT_EQ(table->Lookup(p.addr | 0x7F), 2u);
  }
  for (size_t i = 0; i < churn.size(); i += 97) {
    if (table->Find(churn[i])) continue;
    EXPECT_EQ(table->Lookup(churn[i].addr | 0x11), 1u);  // back to the default route
  }
}

// An IPv6 /64 under its own /48 hangs a chain of nodes below the /32. A
// removal keeps that chain, hollow (taking it out would copy the parent's
// child run), so the pools gain no free runs; Maintain must count the hollow
// nodes as waste and compact them away all the same.
TEST(Compaction, HollowNodesLeftByRemovalsAreCompacted) {
  QsbrDomain qsbr(1);
  auto table = Ipv6Table::Create(TableConfig{}, &qsbr);
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->Insert({{}, 0}, 1), LpmError::kOk);
  Ipv6Prefix covering{{0x20, 0x01, 0x0d, 0xb8}, 32};
  ASSERT_EQ(table->Insert(covering, 2), LpmError::kOk);
  table->Maintain();
  const size_t baseline = table->memory_bytes();

  std::vector<Ipv6Prefix> deep;
  std::mt19937 rng(7);
  for (int i = 0; i < 30000; ++i) {
    Ipv6Prefix p = covering;
    p.len = 64;
    for (int b = 4; b < 8; ++b) p.addr[b] = static_cast<uint8_t>(rng());
    if (table->Find(p)) continue;
    ASSERT_EQ(table->Insert(p, 3), LpmError::kOk);
    deep.push_back(p);
  }
  const size_t peak = table->memory_bytes();
  ASSERT_GT(peak, baseline + (1u << 20)) << "the inserts did not grow the pools";
  for (const Ipv6Prefix& p : deep) {
    ASSERT_EQ(table->Remove(p), LpmError::kOk);
    Ipv6Address host = p.addr;
    host[15] = 1;
    ASSERT_EQ(table->Lookup(host), 2u) << "the covering /32 answers once its /64 is gone";
  }

  table->Maintain();
  EXPECT_LE(table->memory_bytes(), baseline + (512u << 10))
      << "baseline " << baseline << ", peak " << peak;
  EXPECT_EQ(table->route_count(), 2u);
  for (size_t i = 0; i < deep.size(); i += 101) {
    Ipv6Address host = deep[i].addr;
    host[9] = 0x42;
    EXPECT_EQ(table->Lookup(host), 2u);
  }
}

TEST(Compaction, NothingToDoLeavesTheTableAlone) {
  QsbrDomain qsbr(1);
  auto table = Ipv4Table::Create(TableConfig{}, &qsbr);
  ASSERT_NE(table, nullptr);
  for (const Ipv4Prefix& p : DistinctSlash24s(500, 3))
    ASSERT_EQ(table->Insert(p, 4), LpmError::kOk);
  table->Maintain();
  const size_t before = table->memory_bytes();
  table->Maintain();
  EXPECT_EQ(table->memory_bytes(), before);
  EXPECT_EQ(table->route_count(), 500u);
}

}  // namespace
}  // namespace edgefwd::lpm
