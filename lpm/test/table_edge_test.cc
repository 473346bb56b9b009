// Edge cases from issue 4, for both families (typed tests).
#include <gtest/gtest.h>

#include <vector>

#include "lpm/test/families.h"

namespace edgefwd::lpm::test {
namespace {

template <class F>
class TableEdge : public ::testing::Test {
 protected:
  using Key = typename F::Key;
  using Prefix = typename F::Prefix;
  static constexpr unsigned W = F::W;

  void SetUp() override { Make(TableConfig{}); }
  void Make(const TableConfig& c) {
    table = F::Table::Create(c, &qsbr);
    ASSERT_NE(table, nullptr);
  }
  // Prefix from the top bits: P(0xC0A80100, 24) style for both families
  // (IPv6 keys put the 32-bit value in the top of the address).
  static Key K(uint64_t top32) {
    if constexpr (W == 32) {
      return static_cast<Key>(top32);
    } else {
      return static_cast<Key>(top32) << 96;
    }
  }
  static Prefix P(Key k, unsigned len) { return Prefix{F::AddrOf(k), static_cast<uint8_t>(len)}; }
  NextHop L(Key k) { return table->Lookup(F::AddrOf(k)); }
  std::vector<std::pair<Key, unsigned>> Dump() {
    std::vector<std::pair<Key, unsigned>> out;
    table->ForEach([&](Prefix p, NextHop nh) {
      out.emplace_back(F::KeyOf(p.addr) ^ nh, p.len);  // next hop folded in: detects changes
    });
    return out;
  }

  QsbrDomain qsbr{2};
  std::unique_ptr<typename F::Table> table;
};
using Families = ::testing::Types<V4, V6>;
TYPED_TEST_SUITE(TableEdge, Families);

TYPED_TEST(TableEdge, EmptyTableHasNoRoute) {
  EXPECT_EQ(this->L(0), kNoRoute);
  EXPECT_EQ(this->L(~typename TestFixture::Key{0}), kNoRoute);
  EXPECT_FALSE(this->table->Match(TypeParam::AddrOf(12345)).has_value());
  EXPECT_EQ(this->table->route_count(), 0u);
}

TYPED_TEST(TableEdge, DefaultRouteOnly) {
  using Key = typename TestFixture::Key;
  ASSERT_EQ(this->table->Insert(this->P(0, 0), 7), LpmError::kOk);
  for (Key k : {Key{0}, ~Key{0}, this->K(0x0A000001), this->K(0x80000000) - 1}) {
    EXPECT_EQ(this->L(k), 7u);
  }
  auto m = this->table->Match(TypeParam::AddrOf(this->K(0x01020304)));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->first.len, 0);
  EXPECT_EQ(m->second, 7u);
  ASSERT_EQ(this->table->Remove(this->P(0, 0)), LpmError::kOk);
  EXPECT_EQ(this->L(~Key{0}), kNoRoute);
}

TYPED_TEST(TableEdge, HostRouteInsideBigPrefix) {
  constexpr unsigned W = TestFixture::W;
  auto host = this->K(0x0A010203);
  ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A000000), 8), 1), LpmError::kOk);
  ASSERT_EQ(this->table->Insert(this->P(host, W), 2), LpmError::kOk);
  EXPECT_EQ(this->L(host), 2u);
  EXPECT_EQ(this->L(host - 1), 1u);
  EXPECT_EQ(this->L(host + 1), 1u);
  EXPECT_EQ(this->L(this->K(0x0B000000)), kNoRoute);
  EXPECT_EQ(this->L(this->K(0x0A000000) - 1), kNoRoute);
}

TYPED_TEST(TableEdge, RemovingMoreSpecificRestoresCovering) {
  ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A000000), 8), 1), LpmError::kOk);
  ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A010000), 16), 2), LpmError::kOk);
  ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A010200), 24), 3), LpmError::kOk);
  auto a = this->K(0x0A010203);
  EXPECT_EQ(this->L(a), 3u);
  ASSERT_EQ(this->table->Remove(this->P(this->K(0x0A010200), 24)), LpmError::kOk);
  EXPECT_EQ(this->L(a), 2u);
  ASSERT_EQ(this->table->Remove(this->P(this->K(0x0A010000), 16)), LpmError::kOk);
  EXPECT_EQ(this->L(a), 1u);
  ASSERT_EQ(this->table->Remove(this->P(this->K(0x0A000000), 8)), LpmError::kOk);
  EXPECT_EQ(this->L(a), kNoRoute);
}

// Churn keeps node layouts: a child emptied by a removal stays (hollow) and
// runs that became equal stay apart. Answers must not notice, through
// refills, merges, splits and a compaction.
TYPED_TEST(TableEdge, KeptLayoutsAnswerLikeFreshOnes) {
  auto& t = *this->table;
  auto P = [this](uint64_t top32, unsigned len) { return this->P(this->K(top32), len); };
  auto L = [this](uint64_t top32) { return this->L(this->K(top32)); };
  ASSERT_EQ(t.Insert(P(0, 0), 1), LpmError::kOk);
  ASSERT_EQ(t.Insert(P(0x0A000000, 8), 2), LpmError::kOk);
  // A deep route, removed: its chain of nodes stays, hollow.
  ASSERT_EQ(t.Insert(P(0x0A0B0C04, 30), 3), LpmError::kOk);
  EXPECT_EQ(L(0x0A0B0C05), 3u);
  ASSERT_EQ(t.Remove(P(0x0A0B0C04, 30)), LpmError::kOk);
  EXPECT_EQ(L(0x0A0B0C05), 2u);
  // Refilled by a different route beside the old one.
  ASSERT_EQ(t.Insert(P(0x0A0B0C08, 29), 4), LpmError::kOk);
  EXPECT_EQ(L(0x0A0B0C09), 4u);
  EXPECT_EQ(L(0x0A0B0C05), 2u);
  EXPECT_EQ(L(0x0A0B0C10), 2u);
  // Two neighbours whose runs merge (same next hop), then split again.
  ASSERT_EQ(t.Insert(P(0x0A0B0C40, 26), 5), LpmError::kOk);
  ASSERT_EQ(t.Insert(P(0x0A0B0C80, 26), 6), LpmError::kOk);
  ASSERT_EQ(t.Insert(P(0x0A0B0C80, 26), 5), LpmError::kOk);
  EXPECT_EQ(L(0x0A0B0C41), 5u);
  EXPECT_EQ(L(0x0A0B0C81), 5u);
  EXPECT_EQ(L(0x0A0B0CC1), 2u);
  ASSERT_EQ(t.Insert(P(0x0A0B0C80, 26), 7), LpmError::kOk);
  EXPECT_EQ(L(0x0A0B0C41), 5u);
  EXPECT_EQ(L(0x0A0B0C81), 7u);
  EXPECT_EQ(L(0x0A0B0CC1), 2u);
  ASSERT_EQ(t.Remove(P(0x0A0B0C40, 26)), LpmError::kOk);  // merges with the /8's run
  EXPECT_EQ(L(0x0A0B0C41), 2u);
  EXPECT_EQ(L(0x0A0B0C09), 4u);
  // Everything below the /8 gone: the /8 answers; without it, the default.
  ASSERT_EQ(t.Remove(P(0x0A0B0C08, 29)), LpmError::kOk);
  ASSERT_EQ(t.Remove(P(0x0A0B0C80, 26)), LpmError::kOk);
  for (uint64_t a : {0x0A0B0C05u, 0x0A0B0C09u, 0x0A0B0C41u, 0x0A0B0C81u}) EXPECT_EQ(L(a), 2u);
  t.Maintain();
  for (uint64_t a : {0x0A0B0C05u, 0x0A0B0C09u, 0x0A0B0C41u, 0x0A0B0C81u}) EXPECT_EQ(L(a), 2u);
  ASSERT_EQ(t.Remove(P(0x0A000000, 8)), LpmError::kOk);
  EXPECT_EQ(L(0x0A0B0C05), 1u);
  EXPECT_EQ(t.route_count(), 1u);
}

TYPED_TEST(TableEdge, DuplicateInsertReplaces) {
  auto p = this->P(this->K(0xC0A80000), 16);
  ASSERT_EQ(this->table->Insert(p, 1), LpmError::kOk);
  ASSERT_EQ(this->table->Insert(p, 2), LpmError::kOk);
  EXPECT_EQ(this->table->route_count(), 1u);
  EXPECT_EQ(this->table->Find(p), std::optional<NextHop>(2));
  EXPECT_EQ(this->L(this->K(0xC0A81234)), 2u);
}

TYPED_TEST(TableEdge, RemoveAbsentIsNotFoundAndChangesNothing) {
  ASSERT_EQ(this->table->Insert(this->P(this->K(0xC0A80000), 16), 1), LpmError::kOk);
  auto before = this->Dump();
  EXPECT_EQ(this->table->Remove(this->P(this->K(0xC0A80000), 17)), LpmError::kNotFound);
  EXPECT_EQ(this->table->Remove(this->P(this->K(0xC0A90000), 16)), LpmError::kNotFound);
  EXPECT_EQ(this->Dump(), before);
  EXPECT_EQ(this->L(this->K(0xC0A80001)), 1u);
}

TYPED_TEST(TableEdge, InvalidArgumentsAreRefused) {
  EXPECT_EQ(this->table->Insert(this->P(0, TestFixture::W + 1), 1), LpmError::kInvalidLength);
  EXPECT_EQ(this->table->Insert(this->P(0, 8), kMaxNextHop + 1), LpmError::kInvalidNextHop);
  EXPECT_EQ(this->table->Remove(this->P(0, TestFixture::W + 1)), LpmError::kInvalidLength);
  EXPECT_EQ(this->table->Insert(this->P(0, 8), kMaxNextHop), LpmError::kOk);
  EXPECT_EQ(this->L(1), kMaxNextHop);
  EXPECT_EQ(this->table->route_count(), 1u);
}

TYPED_TEST(TableEdge, RouteCapacityExhaustionLeavesTableUnchanged) {
  TableConfig c;
  c.max_routes = 3;
  this->Make(c);
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A000000 + (i << 8)), 24), 1), LpmError::kOk);
  }
  auto before = this->Dump();
  EXPECT_EQ(this->table->Insert(this->P(this->K(0x0B000000), 24), 1), LpmError::kCapacityExhausted);
  EXPECT_EQ(this->Dump(), before);
  EXPECT_EQ(this->L(this->K(0x0B000001)), kNoRoute);
  // Replacing an existing route needs no capacity.
  EXPECT_EQ(this->table->Insert(this->P(this->K(0x0A000000), 24), 2), LpmError::kOk);
  EXPECT_EQ(this->L(this->K(0x0A000001)), 2u);
}

TYPED_TEST(TableEdge, MemoryExhaustionLeavesTableUnchanged) {
  using Key = typename TestFixture::Key;
  TableConfig c;
  c.max_memory_bytes = this->table->memory_bytes() + (64u << 10);
  this->Make(c);
  // Spread host routes so every insert needs fresh nodes until memory runs out.
  LpmError err = LpmError::kOk;
  uint64_t i = 0;
  std::vector<Key> installed;
  for (; i < 200000 && err == LpmError::kOk; ++i) {
    Key k = this->K((i * 2654435761u) & 0xFFFFFFFFu);
    if (TestFixture::W == 128) k |= static_cast<Key>(i) << 40;
    auto before = this->Dump();
    err = this->table->Insert(this->P(k, TestFixture::W), static_cast<NextHop>(i % 5));
    if (err != LpmError::kOk) {
      ASSERT_EQ(err, LpmError::kCapacityExhausted);
      EXPECT_EQ(this->Dump(), before);
      EXPECT_EQ(this->L(k), kNoRoute);
    } else {
      installed.push_back(k);
    }
  }
  ASSERT_EQ(err, LpmError::kCapacityExhausted) << "memory limit never reached";
  // Bookkeeping vectors (free lists, store index) may step past the limit by
  // one growth step; the pools and route blocks themselves never do.
  EXPECT_LE(this->table->memory_bytes(), c.max_memory_bytes + (16u << 10));
  for (size_t j = 0; j < installed.size(); ++j) {
    ASSERT_EQ(this->L(installed[j]), static_cast<NextHop>(j % 5));
  }
}

TYPED_TEST(TableEdge, RangeBoundaries) {
  using Key = typename TestFixture::Key;
  constexpr unsigned W = TestFixture::W;
  // x.x.x.0/24 style: first and last address in, neighbours out.
  Key base = this->K(0xC0A80100);
  ASSERT_EQ(this->table->Insert(this->P(base, 24), 5), LpmError::kOk);
  Key last = base + (~Key{0} >> 24);
  EXPECT_EQ(this->L(base), 5u);
  EXPECT_EQ(this->L(last), 5u);
  EXPECT_EQ(this->L(base - 1), kNoRoute);
  EXPECT_EQ(this->L(last + 1), kNoRoute);
  // The very first and very last address as host routes.
  ASSERT_EQ(this->table->Insert(this->P(0, W), 1), LpmError::kOk);
  ASSERT_EQ(this->table->Insert(this->P(~Key{0}, W), 2), LpmError::kOk);
  EXPECT_EQ(this->L(0), 1u);
  EXPECT_EQ(this->L(1), kNoRoute);
  EXPECT_EQ(this->L(~Key{0}), 2u);
  EXPECT_EQ(this->L(~Key{0} - 1), kNoRoute);
  // Burst agrees with single lookups on the same boundaries.
  std::vector<typename TypeParam::Address> addrs;
  for (Key k : {Key{0}, Key{1}, base - 1, base, last, last + 1, ~Key{0} - 1, ~Key{0}}) {
    addrs.push_back(TypeParam::AddrOf(k));
  }
  std::vector<NextHop> out(addrs.size());
  this->table->LookupBurst(addrs.data(), out.data(), addrs.size());
  for (size_t i = 0; i < addrs.size(); ++i) {
    EXPECT_EQ(out[i], this->table->Lookup(addrs[i])) << i;
  }
}

TYPED_TEST(TableEdge, ApplyIsAllOrNothing) {
  using Change = typename TypeParam::Change;
  ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A000000), 8), 1), LpmError::kOk);
  auto before = this->Dump();
  std::vector<Change> bad = {
      {Change::Op::kUpsert, this->P(this->K(0x0B000000), 8), 2},
      {Change::Op::kRemove, this->P(this->K(0x0A000000), 8), 0},
      {Change::Op::kRemove, this->P(this->K(0x0C000000), 8), 0},  // absent
  };
  EXPECT_EQ(this->table->Apply(bad), LpmError::kNotFound);
  EXPECT_EQ(this->Dump(), before);
  bad[2] = {Change::Op::kUpsert, this->P(0, TestFixture::W + 1), 1};
  EXPECT_EQ(this->table->Apply(bad), LpmError::kInvalidLength);
  bad[2] = {Change::Op::kUpsert, this->P(0, 1), kMaxNextHop + 1};
  EXPECT_EQ(this->table->Apply(bad), LpmError::kInvalidNextHop);
  EXPECT_EQ(this->Dump(), before);
  // Sequential semantics inside a batch: add then remove, remove then add.
  std::vector<Change> good = {
      {Change::Op::kUpsert, this->P(this->K(0x0B000000), 8), 2},
      {Change::Op::kRemove, this->P(this->K(0x0B000000), 8), 0},
      {Change::Op::kRemove, this->P(this->K(0x0A000000), 8), 0},
      {Change::Op::kUpsert, this->P(this->K(0x0A000000), 8), 3},
  };
  ASSERT_EQ(this->table->Apply(good), LpmError::kOk);
  EXPECT_EQ(this->L(this->K(0x0B000001)), kNoRoute);
  EXPECT_EQ(this->L(this->K(0x0A000001)), 3u);
  EXPECT_EQ(this->table->route_count(), 1u);
}

TYPED_TEST(TableEdge, ApplyCapacityAllOrNothing) {
  using Change = typename TypeParam::Change;
  TableConfig c;
  c.max_routes = 2;
  this->Make(c);
  std::vector<Change> batch = {
      {Change::Op::kUpsert, this->P(this->K(0x0A000000), 8), 1},
      {Change::Op::kUpsert, this->P(this->K(0x0B000000), 8), 1},
      {Change::Op::kUpsert, this->P(this->K(0x0C000000), 8), 1},
  };
  EXPECT_EQ(this->table->Apply(batch), LpmError::kCapacityExhausted);
  EXPECT_EQ(this->table->route_count(), 0u);
  EXPECT_EQ(this->L(this->K(0x0A000001)), kNoRoute);
}

TYPED_TEST(TableEdge, ForEachIsInPrefixOrder) {
  using Key = typename TestFixture::Key;
  std::vector<std::pair<Key, unsigned>> want = {{0, 0},
                                                {this->K(0x0A000000), 8},
                                                {this->K(0x0A000000), 16},
                                                {this->K(0x0A010000), 16},
                                                {this->K(0x0A010000), 24},
                                                {this->K(0xFF000000), 8}};
  for (size_t i = want.size(); i-- > 0;) {
    ASSERT_EQ(this->table->Insert(this->P(want[i].first, want[i].second), 1), LpmError::kOk);
  }
  std::vector<std::pair<Key, unsigned>> got;
  this->table->ForEach([&](typename TypeParam::Prefix p, NextHop) {
    got.emplace_back(TypeParam::KeyOf(p.addr), p.len);
  });
  EXPECT_EQ(got, want);
}

TYPED_TEST(TableEdge, MatchAndFind) {
  auto p16 = this->P(this->K(0x0A010000), 16);
  ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A000000), 8), 1), LpmError::kOk);
  ASSERT_EQ(this->table->Insert(p16, 2), LpmError::kOk);
  auto m = this->table->Match(TypeParam::AddrOf(this->K(0x0A01FFFF)));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->first, p16);
  EXPECT_EQ(m->second, 2u);
  m = this->table->Match(TypeParam::AddrOf(this->K(0x0A020000)));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->first.len, 8);
  EXPECT_EQ(this->table->Find(p16), std::optional<NextHop>(2));
  EXPECT_EQ(this->table->Find(this->P(this->K(0x0A010000), 17)), std::nullopt);
}

TYPED_TEST(TableEdge, MemoryBytesIsSane) {
  size_t empty = this->table->memory_bytes();
  EXPECT_GT(empty, 0u);
  EXPECT_LT(empty, 32u << 20);
  for (uint64_t i = 0; i < 5000; ++i) {
    ASSERT_EQ(this->table->Insert(this->P(this->K(0x0A000000 + (i << 8)), 24),
                                  static_cast<NextHop>(i % 3)),
              LpmError::kOk);
  }
  size_t full = this->table->memory_bytes();
  EXPECT_GT(full, empty);
  EXPECT_LT(full - empty, 5000u * 256);  // well under 256 bytes a route
}

}  // namespace
}  // namespace edgefwd::lpm::test
